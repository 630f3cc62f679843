// Interpreter tier: execution, exact instruction counting, port I/O,
// interrupts, exceptions, paging, the long-mode switch, self-modifying code,
// triple faults and the unimplemented-form warning.
#define BOOST_TEST_MODULE test_interp_basic
#include "tests/unit/test_interp_machine.h"

using namespace rwd;
using namespace rwd::tcg;
using namespace rwd::tcg::test;
using core::VcpuExit;

namespace {


}  // namespace

BOOST_AUTO_TEST_CASE(arithmetic_loop_and_icount) {
  TestMachine m;
  m.start(flat32_state(kCode));
  m.load_asm(kCode, R"(.code32
    mov $10, %ecx        # 1
    xor %eax, %eax       # 2
  1: add %ecx, %eax      # 3 per iteration
    dec %ecx
    jnz 1b
    hlt                  # retires once
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRax) == 55u);
  BOOST_TEST(m.st().icount == 2u + 30u + 1u);
  BOOST_TEST(m.st().halted);
  // Halted with nothing to deliver: stays halted, icount unchanged.
  BOOST_TEST(int(m.vcpu->run(2000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.st().icount == 33u);
}

BOOST_AUTO_TEST_CASE(run_stops_exactly_at_every_limit) {
  TestMachine m;
  m.start(flat32_state(kCode));
  m.load_asm(kCode, R"(.code32
    mov $7, %ecx
  1: add $3, %eax
    dec %ecx
    jnz 1b
    hlt
  )");
  uint64_t limit = 0;
  VcpuExit e;
  do {
    ++limit;
    e = m.vcpu->run(limit);
    if (e == VcpuExit::kLimitReached) BOOST_TEST(m.st().icount == limit);
  } while (e == VcpuExit::kLimitReached && limit < 100);
  BOOST_TEST(int(e) == int(VcpuExit::kHalted));
  BOOST_TEST(m.st().icount == 1u + 21u + 1u);
  BOOST_TEST(m.reg(core::kRax) == 21u);
}

BOOST_AUTO_TEST_CASE(rep_iterations_count_and_stop_mid_rep) {
  TestMachine m;
  m.start(flat32_state(kCode));
  m.load_asm(kCode, R"(.code32
    mov $100, %ecx
    mov $0x1000, %edi
    mov $0x41, %al
    rep stosb
    mov $0, %ecx
    rep stosb            # count 0: retires once
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(53)) == int(VcpuExit::kLimitReached));
  BOOST_TEST(m.st().icount == 53u);
  BOOST_TEST(m.reg(core::kRcx) == 50u);
  BOOST_TEST(m.reg(core::kRdi) == 0x1032u);
  BOOST_TEST(m.st().rip == kCode + 12);  // still on the REP STOSB
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.st().icount == 3u + 100u + 1u + 1u + 1u);
  BOOST_TEST(m.ram[0x1063] == 0x41);
  BOOST_TEST(m.ram[0x1064] == 0);
}

BOOST_AUTO_TEST_CASE(port_io_sees_current_icount) {
  TestMachine m;
  m.start(flat32_state(kCode));
  m.load_asm(kCode, R"(.code32
    mov $0x48, %al
    out %al, $0xe9
    mov $0xe9, %dx
    mov $0x69, %al
    out %al, %dx
    in $0xea, %al
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.ports.out == "Hi");
  BOOST_TEST((m.reg(core::kRax) & 0xff) == 0x5au);
  BOOST_TEST(m.ports.last_write_icount == 4u);  // four instructions retired before the second OUT
  BOOST_TEST(m.ports.last_read_icount == 5u);
}

BOOST_AUTO_TEST_CASE(stop_request_from_a_device_ends_the_run) {
  TestMachine m;
  m.start(flat32_state(kCode));
  m.ports.on_irq_port = [&](uint64_t) { m.rc.request_exit(3); };
  m.load_asm(kCode, R"(.code32
    out %al, $0xeb
    inc %eax
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kStopRequested));
  BOOST_TEST(m.st().icount == 1u);
  BOOST_TEST(m.reg(core::kRax) == 0u);
}

BOOST_AUTO_TEST_CASE(external_interrupt_wakes_hlt) {
  TestMachine m;
  core::X86CpuState s = pm_state(m, 0x27);
  m.start(s);
  m.load_asm(kCode, R"(.code32
    sti
  1: hlt
    jmp 1b
  .org 0x100
  handler:
    incl 0x2000
    out %al, $0xe9
    iret
  )");
  set_gate32(m, 0x20, kCode + 0x100);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.st().icount == 2u);
  m.pic.vector = 0x20;
  m.vcpu->set_irq(core::kCpuPinIntr, true);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.pic.acks == 1u);
  BOOST_TEST(m.rd32(0x2000) == 1u);
  // sti, hlt | incl, out, iret, jmp, hlt
  BOOST_TEST(m.st().icount == 2u + 5u);
  BOOST_TEST((m.st().rflags & core::rflags::kIf) != 0);
}

BOOST_AUTO_TEST_CASE(sti_shadow_delays_interrupt_by_one_instruction) {
  TestMachine m;
  core::X86CpuState s = pm_state(m, 0x27);
  m.start(s);
  m.load_asm(kCode, R"(.code32
    sti
    mov $1, %ebx      # runs in the STI shadow, before the interrupt
    mov $2, %ebx
    hlt
  .org 0x100
    mov %ebx, 0x2000
    iret
  )");
  set_gate32(m, 0x20, kCode + 0x100);
  m.vcpu->set_irq(core::kCpuPinIntr, true);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.rd32(0x2000) == 1u);
}

BOOST_AUTO_TEST_CASE(divide_error_does_not_retire_and_pushes_faulting_eip) {
  TestMachine m;
  m.start(pm_state(m, 0x27));
  m.load_asm(kCode, R"(.code32
    xor %ecx, %ecx
    div %ecx
    hlt
  .org 0x100
    hlt
  )");
  set_gate32(m, 0, kCode + 0x100);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.st().icount == 2u);  // xor, (div faults), handler's hlt
  uint32_t sp = uint32_t(m.reg(core::kRsp));
  BOOST_TEST(sp == 0x80000u - 12);
  BOOST_TEST(m.rd32(sp) == kCode + 2);  // EIP of the DIV
  BOOST_TEST(m.rd32(sp + 4) == 0x08u);
}

BOOST_AUTO_TEST_CASE(general_protection_error_code_from_segment_load) {
  TestMachine m;
  m.start(pm_state(m, 0x27));
  m.load_asm(kCode, R"(.code32
    mov $0x10, %ax
    mov %ax, %ds        # fine
    mov $0x3b, %ax
    mov %ax, %es        # index 7 is past the GDT limit: #GP(0x38)
    hlt
  .org 0x100
    hlt
  )");
  set_gate32(m, 13, kCode + 0x100);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  uint32_t sp = uint32_t(m.reg(core::kRsp));
  BOOST_TEST(m.rd32(sp) == 0x38u);         // error code
  BOOST_TEST(m.rd32(sp + 4) == kCode + 10);  // EIP of the MOV ES
  BOOST_TEST(m.st().icount == 4u);
}

BOOST_AUTO_TEST_CASE(page_fault_sets_cr2_and_error_code) {
  TestMachine m;
  m.start(pm_state(m, 0x27));
  // Page directory at 0x10000: PDE0 -> page table at 0x11000 identity-mapping
  // 0-4 MiB except page 0x300000 (not present) and 0x301000 (read-only).
  m.wr32(0x10000, 0x11000 | 0x3);
  for (uint32_t i = 0; i < 1024; ++i) m.wr32(0x11000 + i * 4, (i << 12) | 0x3);
  m.wr32(0x11000 + 0x300 * 4, 0);
  m.wr32(0x11000 + 0x301 * 4, 0x301000 | 0x1);
  m.load_asm(kCode, R"(.code32
    mov $0x10000, %eax
    mov %eax, %cr3
    mov %cr0, %eax
    or $0x80010000, %eax   # PG | WP
    mov %eax, %cr0
    movl $1, 0x200000      # mapped: fine, sets A and D
    mov 0x301000, %ebx     # read-only page: read is fine
    movl $1, 0x301004      # write: #PF(P|W) = 3
  .org 0x100
    incl 0x2000            # fault number n: CR2 at 0x2000+8n, error code at 0x2004+8n
    mov 0x2000, %ebx
    mov %cr2, %eax
    mov %eax, 0x2000(,%ebx,8)
    pop %eax
    mov %eax, 0x2004(,%ebx,8)
    cmp $1, %ebx
    jne 2f
    movl $0, 0x300123      # not present: #PF(W) = 2, nested in the handler
  2: hlt
  )");
  set_gate32(m, 14, kCode + 0x100);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted) );
  BOOST_TEST(m.rd32(0x2008) == 0x301004u);
  BOOST_TEST(m.rd32(0x200c) == 3u);
  BOOST_TEST(m.rd32(0x2010) == 0x300123u);
  BOOST_TEST(m.rd32(0x2014) == 2u);
  BOOST_TEST(m.st().cr2 == 0x300123u);
  uint32_t pte = m.rd32(0x11000 + 0x200 * 4);
  BOOST_TEST((pte & 0x60) == 0x60u);  // accessed and dirty
}

BOOST_AUTO_TEST_CASE(triple_fault_requests_shutdown) {
  TestMachine m;
  core::X86CpuState s = pm_state(m, 0x27);
  s.idtr = {kIdt, 0};  // no usable gate at all
  m.start(s);
  m.load_asm(kCode, R"(.code32
    nop
    ud2
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kStopRequested));
  BOOST_TEST(int(m.rc.reason()) == int(core::StopReason::kShutdown));
  BOOST_TEST_MESSAGE(m.rc.detail());
  // Each #GP names the IDT entry with IDT (bit 1) and EXT (bit 0) set: a
  // fault while delivering an exception carries EXT (SDM Vol. 3 §6.13).
  BOOST_TEST(m.rc.detail().find("triple fault: #UD -> #GP(0x33) -> #GP(0x6b) => #DF -> #GP(0x43)") == 0,
             m.rc.detail());
  BOOST_TEST(m.rc.detail().find("at 0008:100001") != std::string::npos);
  BOOST_TEST(m.st().icount == 1u);
}

BOOST_AUTO_TEST_CASE(unimplemented_form_warns_and_raises_ud) {
  TestMachine m;
  m.start(pm_state(m, 0x27));
  m.load_asm(kCode, R"(.code32
    pclmulqdq $0, %xmm0, %xmm1
  .org 0x100
    hlt
  )");
  set_gate32(m, 6, kCode + 0x100);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_REQUIRE(m.warnings.size() == 1u);
  BOOST_TEST_MESSAGE(m.warnings[0]);
  BOOST_TEST(m.warnings[0].find("no semantics for UNNAMED_LEGACY") == 0, m.warnings[0]);
  BOOST_TEST(m.warnings[0].find("0008:0000000000100000: raising #UD") != std::string::npos);
  BOOST_TEST(m.rd32(uint32_t(m.reg(core::kRsp))) == kCode);
}

BOOST_AUTO_TEST_CASE(self_modifying_code_is_redecoded) {
  TestMachine m;
  m.start(flat32_state(kCode));
  m.load_asm(kCode, R"(.code32
    mov $3, %ecx
  1: mov $0, %ebx           # imm is patched below
    add %ebx, %eax
    incl 1b+1               # patch the instruction we just ran
    movb $7, 2f+1           # patch an instruction later in this block
  2: mov $0, %dl
    dec %ecx
    jnz 1b
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRax) == 0u + 1u + 2u);
  BOOST_TEST((m.reg(core::kRdx) & 0xff) == 7u);
  // The loader path: memory_written() drops blocks too.
  m.load_asm(kCode, R"(.code32
    mov $42, %eax
    hlt
  )");
  m.st().rip = kCode;
  m.st().halted = false;
  BOOST_TEST(int(m.vcpu->run(2000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRax) == 42u);
}

BOOST_AUTO_TEST_CASE(real_mode_software_interrupt_through_ivt) {
  TestMachine m;
  core::X86CpuState s = core::reset_cpu_state();
  s.seg[int(core::SegReg::kCs)] = {0x1000, 0x9b, 0xffff, 0x10000};
  s.rip = 0;
  s.gpr[core::kRsp] = 0x7000;
  m.start(s);
  m.load_asm(0x10000, R"(.code16
    mov $5, %ax
    int $0x21
    add $1, %ax
    hlt
  .org 0x80
    shl $2, %ax
    iret
  )");
  m.wr32(0x21 * 4, 0x10000080);  // 1000:0080
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST((m.reg(core::kRax) & 0xffff) == 21u);
  BOOST_TEST(m.st().icount == 6u);
  BOOST_TEST(m.reg(core::kRsp) == 0x7000u);
}

BOOST_AUTO_TEST_CASE(switch_to_long_mode_and_back_through_idt64) {
  TestMachine m;
  m.start(pm_state(m, 0x27));
  // PML4 0x10000 -> PDPT 0x11000 -> PD 0x12000: 2 MiB identity pages for 0-32 MiB.
  m.wr64(0x10000, 0x11000 | 3);
  m.wr64(0x11000, 0x12000 | 3);
  for (uint64_t i = 0; i < 16; ++i) m.wr64(0x12000 + i * 8, (i << 21) | 0x83);
  // 64-bit IDT at 0x7000: #DE (vector 0) -> handler at kCode + 0x300, selector 0x18.
  uint64_t h = kCode + 0x300;
  m.wr64(0x7000, (h & 0xffff) | (0x18ull << 16) | (0x8e00ull << 32) | ((h >> 16 & 0xffff) << 48));
  m.wr64(0x7008, h >> 32);
  m.load_asm(kCode, R"(.code32
    mov %cr4, %eax
    or $0x20, %eax          # PAE
    mov %eax, %cr4
    mov $0x10000, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx
    rdmsr
    or $0x100, %eax         # LME
    wrmsr
    mov %cr0, %eax
    or $0x80000000, %eax    # PG -> LMA
    mov %eax, %cr0
    ljmp $0x18, $long64
  .code64
  long64:
    lidt idt64(%rip)
    mov $0x123456789a, %rax
    mov %rax, %r9
    xor %ecx, %ecx
    div %rcx                # #DE through a 64-bit gate
    hlt
  idt64:
    .word 0xfff
    .quad 0x7000
  .org 0x300
    mov (%rsp), %r10        # RIP of the DIV
    mov 8(%rsp), %r11       # CS
    addq $3, (%rsp)         # skip the 3-byte DIV
    iretq
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.st().long_mode_active());
  BOOST_TEST(m.reg(core::kR9) == 0x123456789aull);
  BOOST_TEST(m.reg(core::kR11) == 0x18u);
  BOOST_TEST(m.st().seg[int(core::SegReg::kCs)].selector == 0x18u);
  uint64_t div_rip = m.reg(core::kR10);
  BOOST_TEST(m.st().rip == div_rip + 3 + 1);  // after the HLT
}

// Real mode keeps segment limits: a word at offset 0xffff of a 64 KiB data
// segment is #GP (vector 13 through the IVT, no error code), one at offset
// 0xffff of a segment whose cached limit is 4 GiB (unreal mode) is not.
// (QEMU's TCG does not check data segment limits, so only rewind and
// silicon see the first fault.)
BOOST_AUTO_TEST_CASE(real_mode_keeps_segment_limits) {
  TestMachine m;
  core::X86CpuState s = core::reset_cpu_state();
  s.seg[int(core::SegReg::kCs)] = {0x1000, 0x9b, 0xffff, 0x10000};
  s.seg[int(core::SegReg::kEs)] = {0x2000, 0x93, 0xffffffff, 0x20000};  // unreal
  s.rip = 0;
  s.gpr[core::kRsp] = 0x7000;
  m.start(s);
  m.load_asm(0x10000, R"(.code16
    mov $0xffff, %bx
    movw $0x1234, %es:(%bx)     # 4 GiB limit: written at 0x2ffff
    movw $0x5678, (%bx)         # DS limit 0xffff: #GP
  after:
    hlt
  .org 0x80
    mov %sp, %bp
    mov (%bp), %si              # IP pushed: the faulting MOV
    add $4, (%bp)               # past it (4 bytes)
    iret
  )");
  m.wr32(13 * 4, 0x10000080);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.ram[0x2ffff] == 0x34);
  BOOST_TEST(m.ram[0x30000] == 0x12);
  BOOST_TEST((m.reg(core::kRsi) & 0xffff) == 8u);
  BOOST_TEST(m.ram[0xffff] == 0);
  BOOST_TEST(m.reg(core::kRsp) == 0x7000u);
}

// PAUSE retires like a NOP and ends the run (VcpuExit::kYielded): with
// vCPUs in turns, a spin-wait loop gives the others their chance.
BOOST_AUTO_TEST_CASE(pause_retires_and_yields_the_turn) {
  TestMachine m;
  m.start(flat32_state(kCode));
  m.load_asm(kCode, R"(.code32
    mov $1, %eax
    pause
    mov $2, %eax
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kYielded));
  BOOST_TEST(m.st().icount == 2u);
  BOOST_TEST(m.reg(core::kRax) == 1u);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRax) == 2u);
  BOOST_TEST(m.st().icount == 4u);
}

// Code runs from ROM like from RAM (SeaBIOS starts in its ROM), and a store
// into the ROM leaves it unchanged, whether or not the page was cached.
BOOST_AUTO_TEST_CASE(code_runs_from_rom_and_stores_to_it_are_dropped) {
  TestMachine m;
  constexpr uint64_t kRomBase = 0x4000000;  // above the test RAM
  std::vector<uint8_t> rom = assemble(R"(.code32
    movl 0x4000100, %eax      # a ROM word
    movl $0x11223344, 0x4000100
    movl 0x4000100, %ebx      # unchanged
    movb $0x90, 0x4000000     # over this very code: no effect either
    hlt
  )", kRomBase);
  rom.resize(0x1000);
  rom[0x100] = 0x78;
  rom[0x101] = 0x56;
  rom[0x102] = 0x34;
  rom[0x103] = 0x12;
  m.memory.add_rom("rom", kRomBase, rom.size(), rom.data());
  m.start(flat32_state(kRomBase));
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRax) == 0x12345678u);
  BOOST_TEST(m.reg(core::kRbx) == 0x12345678u);
  BOOST_TEST(rom[0] == 0xa1);  // movl moffs32, %eax
  BOOST_TEST(m.memory.stats().rom_writes == 2u);
  BOOST_TEST(m.st().icount == 5u);
}

// A debugger's traps (core::DebugTraps): the vCPU stops before an
// instruction at a breakpoint without running it, goes on past it when run
// again, stops there each time the guest comes back, never between the
// iterations of a REP, and with `step` after every instruction.
BOOST_AUTO_TEST_CASE(debugger_breakpoints_and_steps) {
  TestMachine m;
  core::DebugTraps traps;
  m.env.debug_traps = &traps;
  m.start(flat32_state(kCode));
  m.load_asm(kCode, R"(.code32
    mov $3, %edx             # +0, 5 bytes
  1: inc %eax                # +5: the breakpoint
    dec %edx
    jnz 1b
    mov $4, %ecx
    mov $0x200000, %edi
    rep stosb                # +19: a breakpoint on a REP
    hlt
  )");
  traps.breakpoints = {kCode + 5, kCode + 19};
  for (uint64_t visit = 0; visit < 3; ++visit) {
    BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kDebugTrap));
    BOOST_TEST(m.st().rip == kCode + 5);
    BOOST_TEST(m.reg(core::kRax) == visit);  // not run yet
    BOOST_TEST(m.st().icount == 1 + 3 * visit);
  }
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kDebugTrap));
  BOOST_TEST(m.st().rip == kCode + 19);
  BOOST_TEST(m.reg(core::kRcx) == 4u);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));  // the whole REP, then HLT
  BOOST_TEST(m.reg(core::kRcx) == 0u);
  BOOST_TEST(m.st().icount == 10u + 2 + 4 + 1);

  TestMachine s;
  core::DebugTraps step;
  step.step = true;
  s.env.debug_traps = &step;
  s.start(flat32_state(kCode));
  s.load_asm(kCode, R"(.code32
    mov $1, %eax
    mov $2, %ebx
    hlt
  )");
  BOOST_TEST(int(s.vcpu->run(1000)) == int(VcpuExit::kDebugTrap));
  BOOST_TEST(s.st().icount == 1u);
  BOOST_TEST(s.reg(core::kRbx) == 0u);
  BOOST_TEST(int(s.vcpu->run(1000)) == int(VcpuExit::kDebugTrap));
  BOOST_TEST(s.st().icount == 2u);
  BOOST_TEST(s.reg(core::kRbx) == 2u);
  step.step = false;
  BOOST_TEST(int(s.vcpu->run(1000)) == int(VcpuExit::kHalted));
}
