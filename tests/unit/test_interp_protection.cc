// Interpreter tier, protection: ring changes through the TSS (interrupts
// from ring 3, in legacy and long mode), far calls and returns through the
// GDT, call gates (parameter copy, 64-bit gates), the TSS I/O permission
// bitmap and UMIP.
#define BOOST_TEST_MODULE test_interp_protection
#include "tests/unit/test_interp_machine.h"

using namespace rwd;
using namespace rwd::tcg;
using namespace rwd::tcg::test;
using core::VcpuExit;

BOOST_AUTO_TEST_CASE(ring3_interrupt_switches_stack_through_the_tss) {
  TestMachine m;
  core::X86CpuState s = pm_state(m, 0x47);
  add_ring3(m, kTss);
  m.start(s);
  m.load_asm(kCode, R"(.code32
    mov $0x38, %ax
    ltr %ax
    push $0x33            # SS (RPL 3)
    push $0x70000         # ESP
    push $0x202           # EFLAGS (IF)
    push $0x2b            # CS (RPL 3)
    push $user
    iret                  # to ring 3
  user:
    mov $0x33, %ax        # ring-3 data into DS works
    mov %ax, %ds
    int $0x40             # through a DPL-3 gate, stack switch to ESP0
    mov %eax, %esi
    cli                   # IOPL 0 at CPL 3: #GP(0)
  .org 0x100
    mov (%esp), %ebx      # EIP pushed by INT (the next instruction)
    mov 4(%esp), %ecx     # CS = 0x2b
    mov 12(%esp), %edx    # old ESP
    mov $0x99, %eax
    iret                  # back to ring 3, restoring SS:ESP
  .org 0x200
    mov (%esp), %edi      # error code 0
    mov 4(%esp), %ebp     # EIP of the CLI
    hlt
  )");
  set_gate32(m, 0x40, kCode + 0x100, 3);
  set_gate32(m, 13, kCode + 0x200);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRcx) == 0x2bu);
  BOOST_TEST(m.reg(core::kRdx) == 0x70000u);
  BOOST_TEST(m.reg(core::kRsi) == 0x99u);
  BOOST_TEST(m.reg(core::kRdi) == 0u);
  BOOST_TEST(m.reg(core::kRbp) == m.reg(core::kRbx) + 2);  // CLI follows MOV ESI, EAX
  BOOST_TEST(m.st().cpl() == 0u);
  BOOST_TEST(m.reg(core::kRsp) == 0x90000u - 20 - 4);  // the #GP frame from ring 3, with an error code
  BOOST_TEST(m.rd32(kGdt + 0x3c) >> 8 == 0x8bu);       // TSS marked busy by LTR
}

BOOST_AUTO_TEST_CASE(far_call_and_return_through_the_gdt) {
  TestMachine m;
  m.start(pm_state(m, 0x47));
  m.wr64(kGdt + 0x40, 0x00009a100000ffffull);
  m.load_asm(kCode, R"(.code32
    lcall $0x08, $target
    mov %eax, %ebx
    ljmp $0x40, $(sixteen - 0x100000)   # 16-bit code segment based at 1 MiB
  target:
    mov $5, %eax
    lret
  sixteen:
  .code16
    mov $0x1234, %cx       # decoded with 16-bit defaults
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRbx) == 5u);
  BOOST_TEST((m.reg(core::kRcx) & 0xffff) == 0x1234u);
  BOOST_TEST(m.st().seg[int(core::SegReg::kCs)].selector == 0x40u);
  BOOST_TEST(m.rc.detail() == "");
}

// CR4.UMIP makes SGDT, SIDT, SLDT, SMSW and STR privileged: #GP(0) at CPL 3
// (each runs at ring 3, faults, and the #GP handler counts and skips it).
BOOST_AUTO_TEST_CASE(umip_makes_the_descriptor_stores_privileged_at_cpl3) {
  for (bool umip : {false, true}) {
    TestMachine m;
    core::X86CpuState s = pm_state(m, 0x47);
    if (umip) s.cr4 |= core::cr4::kUmip;
    add_ring3(m, kTss);
    m.start(s);
    m.load_asm(kCode, R"(.code32
      mov $0x38, %ax
      ltr %ax
      xor %esi, %esi
      push $0x33
      push $0x70000
      push $0x2
      push $0x2b
      push $user
      iret
    user:
      mov $0x33, %ax
      mov %ax, %ds
      sgdt 0x60000
      sidt 0x60000
      sldt %ax
      smsw %ax
      str %ax
      int $0x40
    .org 0x100
      hlt
    .org 0x200
      inc %esi              # #GP(0): count it, skip the 3- or 7-byte instruction
      mov 4(%esp), %ebx
      cmpb $0x0f, (%ebx)
      jne 1f
      cmpb $0x01, 1(%ebx)
      jne 2f
      cmpb $0xc0, 2(%ebx)   # SGDT/SIDT with a disp32: 7 bytes; SMSW %ax (66 0f 01 e0) starts with 66
      jae 2f
      addl $7, 4(%esp)
      jmp 3f
    2: addl $3, 4(%esp)
      jmp 3f
    1: addl $4, 4(%esp)     # 66 0f .. ..: SLDT/SMSW/STR with the operand-size prefix
    3: add $4, %esp         # the error code
      iret
    )");
    set_gate32(m, 0x40, kCode + 0x100, 3);
    set_gate32(m, 13, kCode + 0x200);
    BOOST_TEST(int(m.vcpu->run(5000)) == int(core::VcpuExit::kHalted));
    BOOST_TEST(m.reg(core::kRsi) == (umip ? 5u : 0u), "UMIP " << umip << ": " << m.reg(core::kRsi) << " #GP");
  }
}

// Port I/O at CPL > IOPL goes through the TSS's I/O permission bitmap: a
// clear bit for every port of the access allows it; a set bit, a bitmap
// past the TSS limit, or an access whose last port is not covered: #GP(0).
BOOST_AUTO_TEST_CASE(io_permission_bitmap_at_cpl3) {
  TestMachine m;
  core::X86CpuState s = pm_state(m, 0x47);
  add_ring3(m, kTss);
  // Bitmap at TSS+0x68: all ports denied except 0xe9; the TSS limit covers
  // the bitmap up to port 0xef (from port 0xf0 on, the second byte read
  // lies at 0x68 + 0x1f, past the limit 0x68 + 0x1e).
  m.wr64(kGdt + 0x38, 0x0000890000000000ull | (kTss & 0xffffff) << 16 | (0x68 + 0x1e));
  m.ram[kTss + 0x66] = 0x68;
  for (unsigned i = 0; i < 0x20; ++i) m.ram[kTss + 0x68 + i] = 0xff;
  m.ram[kTss + 0x68 + 0xe9 / 8] = uint8_t(~(1u << (0xe9 & 7)));
  m.start(s);
  m.load_asm(kCode, R"(.code32
    mov $0x38, %ax
    ltr %ax
    push $0x33
    push $0x70000
    push $0x2             # IOPL 0
    push $0x2b
    push $user
    iret
  user:
    mov $0x33, %ax
    mov %ax, %ds
    mov %ax, %es
    mov $'k', %al
    out %al, $0xe9        # allowed by the bitmap
    mov $1f, %ebp
    in $0xea, %al         # denied
  1:mov $2f, %ebp
    mov $0xe9, %dx
    outw %ax, %dx         # 0xe9 allowed, 0xea denied
  2:mov $3f, %ebp
    mov $0xf8, %dx
    outb %al, %dx         # past the TSS limit
  3:mov $4f, %ebp
    mov $0xe9, %dx
    mov $0x1000, %esi
    outsb                 # allowed
    int $0x41
  4:hlt
  .org 0x100
    add $4, %esp          # error code
    incl 0x2000
    mov %ebp, (%esp)
    iret
  .org 0x200
    hlt
  )");
  m.ram[0x1000] = '!';
  set_gate32(m, 13, kCode + 0x100);
  set_gate32(m, 0x41, kCode + 0x200, 3);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.ports.out == "k!");
  BOOST_TEST(m.rd32(0x2000) == 3u);
  BOOST_TEST(m.ports.reads == 0u);
}

// A far CALL from ring 3 through a 32-bit call gate with two parameters:
// the ring-0 stack from the TSS gets the old SS:ESP, the parameters in
// their order, then CS:EIP; RETF 8 returns to ring 3 past the parameters.
// A JMP through a gate does not change the ring; a gate whose DPL is below
// CPL refuses (#GP with the gate's selector).
BOOST_AUTO_TEST_CASE(call_gate_to_ring0_copies_parameters_and_returns) {
  TestMachine m;
  core::X86CpuState s = pm_state(m, 0x5f);
  add_ring3(m, kTss);
  const uint32_t target = kCode + 0x100, jmp_target = kCode + 0x180;
  // 0x40: 32-bit call gate, DPL 3, 2 parameters, to 0x08:target.
  m.wr64(kGdt + 0x40, (target & 0xffff) | (0x08ull << 16) | (0xec02ull << 32) | (uint64_t(target >> 16) << 48));
  // 0x48: the same gate with DPL 0.
  m.wr64(kGdt + 0x48, (target & 0xffff) | (0x08ull << 16) | (0x8c02ull << 32) | (uint64_t(target >> 16) << 48));
  // 0x50: a 32-bit gate, DPL 3, to the ring-3 code 0x2b:jmp_target.
  m.wr64(kGdt + 0x50, (jmp_target & 0xffff) | (0x2bull << 16) | (0xec00ull << 32) | (uint64_t(jmp_target >> 16) << 48));
  m.start(s);
  m.load_asm(kCode, R"(.code32
    mov $0x38, %ax
    ltr %ax
    push $0x33
    push $0x70000
    push $0x2
    push $0x2b
    push $user
    iret
  user:
    push $0x1111              # parameter 1 (deeper)
    push $0x2222              # parameter 2
    lcall $0x43, $0           # through the gate (RPL 3); the offset is ignored
    mov %esp, %edi            # 0x70000: RETF 8 released the parameters
    ljmp $0x53, $0            # through a gate at the same ring
  .org 0x100
    mov %esp, %ebx            # 0x90000 - 24
    mov 8(%esp), %ecx         # 0x2222
    mov 12(%esp), %edx        # 0x1111
    mov 16(%esp), %esi        # old ESP
    mov 20(%esp), %ebp        # old SS
    lret $8                   # to ring 3, releasing the parameters on both stacks
  .org 0x180
    mov %cs, %eax             # still ring 3
    lcall $0x4b, $0           # DPL 0 gate from ring 3: #GP(0x48)
  .org 0x200
    pop %eax                  # the error code
    hlt
  )");
  set_gate32(m, 13, kCode + 0x200);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRbx) == 0x90000u - 24);
  BOOST_TEST(m.reg(core::kRcx) == 0x2222u);
  BOOST_TEST(m.reg(core::kRdx) == 0x1111u);
  BOOST_TEST(m.reg(core::kRsi) == 0x70000u - 8);
  BOOST_TEST(m.reg(core::kRbp) == 0x33u);
  BOOST_TEST(m.reg(core::kRdi) == 0x70000u);
  BOOST_TEST(m.reg(core::kRax) == 0x48u);
}

// A 64-bit call gate from ring 3 to ring 0: RSP0 from the TSS, a null SS,
// the old SS:RSP and CS:RIP pushed as quadwords; LRETQ returns.
BOOST_AUTO_TEST_CASE(call_gate_in_long_mode) {
  TestMachine m;
  core::X86CpuState s = long_mode_ring3_state(m, 0x5f, kTss);
  const uint64_t target = kCode + 0x100;
  m.wr64(kGdt + 0x48, (target & 0xffff) | (0x18ull << 16) | (0xec00ull << 32) | ((target >> 16 & 0xffff) << 48));
  m.wr64(kGdt + 0x50, target >> 32);
  m.start(s);
  m.load_asm(kCode, R"(.code64
    mov $0x38, %ax
    ltr %ax
    pushq $0x33
    pushq $0x70000
    pushq $0x2
    pushq $0x2b
    lea user(%rip), %rax
    push %rax
    iretq
  user:
    lcall *gate(%rip)
    mov %rsp, %r12
    hlt
  gate:
    .long 0
    .word 0x4b
  .org 0x100
    mov %rsp, %r8             # 0x90000 - 32
    mov %ss, %r9              # null, RPL 0
    mov 8(%rsp), %r10         # the caller's CS
    mov 16(%rsp), %r11        # the caller's RSP
    lretq
  )");
  m.vcpu->run(1000);  // ends with #GP for HLT at CPL 3 (no IDT): a triple fault
  BOOST_TEST(m.reg(core::kR8) == 0x90000u - 32);
  BOOST_TEST(m.reg(core::kR9) == 0u);
  BOOST_TEST(m.reg(core::kR10) == 0x2bu);
  BOOST_TEST(m.reg(core::kR11) == 0x70000u);
  BOOST_TEST(m.reg(core::kR12) == 0x70000u);
  BOOST_TEST(m.st().cpl() == 3u);
}
