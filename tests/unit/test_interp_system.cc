// Interpreter tier, system side: MMIO and page-crossing accesses, interrupts
// raised by a device in the middle of an I/O instruction, NMI, SYSCALL/SYSRET,
// MSRs, debug conditions, and the list of general-purpose forms that still
// lack semantics (printed, for the coverage report). Ring changes, gates,
// the I/O bitmap and UMIP are in test_interp_protection.
#define BOOST_TEST_MODULE test_interp_system
#include "tests/unit/test_interp_machine.h"

#include "tcg-llvm/decoder/x86_decoder.h"
#include "tcg-llvm/decoder/x86_form_info.h"
#include "tcg-llvm/interp/form_binding.h"
#include "tcg-llvm/interp/softmmu_tlb.h"

using namespace rwd;
using namespace rwd::tcg;
using namespace rwd::tcg::test;
using core::VcpuExit;

namespace {

// A device register file that records accesses (an MMIO region).
class Recorder : public core::RegionOps {
 public:
  uint64_t read(uint64_t offset, unsigned size) override {
    log.push_back({false, offset, 0, size});
    return 0x1122334455667788ull >> (8 * (8 - size)) ;
  }
  void write(uint64_t offset, uint64_t value, unsigned size) override { log.push_back({true, offset, value, size}); }
  struct Access {
    bool write;
    uint64_t offset, value;
    unsigned size;
  };
  std::vector<Access> log;
};

}  // namespace

BOOST_AUTO_TEST_CASE(mmio_goes_to_the_device_and_ends_the_block) {
  TestMachine m;
  Recorder dev;
  m.memory.add_io("dev", 0xfe000000, 0x1000, &dev);
  m.start(flat32_state(kCode));
  m.load_asm(kCode, R"(.code32
    movl $0xabcd, 0xfe000010
    mov 0xfe000020, %ax
    inc %ebx
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_REQUIRE(dev.log.size() == 2u);
  BOOST_TEST(dev.log[0].write);
  BOOST_TEST(dev.log[0].offset == 0x10u);
  BOOST_TEST(dev.log[0].value == 0xabcdu);
  BOOST_TEST(dev.log[0].size == 4u);
  BOOST_TEST(!dev.log[1].write);
  BOOST_TEST(dev.log[1].size == 2u);
  BOOST_TEST((m.reg(core::kRax) & 0xffff) == 0x1122u);
  BOOST_TEST(m.st().icount == 4u);
}

BOOST_AUTO_TEST_CASE(page_crossing_access_faults_on_the_second_page) {
  TestMachine m;
  core::X86CpuState s = pm_state(m, 0x47);
  m.start(s);
  // Identity-map 0-4 MiB with 4 KiB pages, except 0x201000 (not present).
  m.wr32(0x10000, 0x11000 | 3);
  for (uint32_t i = 0; i < 1024; ++i) m.wr32(0x11000 + i * 4, (i << 12) | 3);
  m.wr32(0x11000 + 0x201 * 4, 0);
  m.wr32(0x200ffe, 0xffffffff);
  m.load_asm(kCode, R"(.code32
    mov $0x10000, %eax
    mov %eax, %cr3
    mov %cr0, %eax
    or $0x80000000, %eax
    mov %eax, %cr0
    movl $0x44332211, 0x1ffe       # crosses 0x2000 inside mapped memory
    mov 0x1ffe, %ebx
    movl $0x55667788, 0x200ffe     # second half not present: nothing written
  .org 0x100
    mov %cr2, %esi
    pop %edi
    hlt
  )");
  set_gate32(m, 14, kCode + 0x100);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRbx) == 0x44332211u);
  BOOST_TEST(m.ram[0x1fff] == 0x22);
  BOOST_TEST(m.ram[0x2000] == 0x33);
  BOOST_TEST(m.reg(core::kRsi) == 0x201000u);
  BOOST_TEST(m.reg(core::kRdi) == 2u);  // write to a not-present page
  BOOST_TEST(m.rd32(0x200ffe) == 0xffffffffu);
}

BOOST_AUTO_TEST_CASE(irq_raised_during_out_is_taken_after_it) {
  TestMachine m;
  m.start(pm_state(m, 0x47));
  m.ports.on_irq_port = [&](uint64_t) { m.vcpu->set_irq(core::kCpuPinIntr, true); };
  m.load_asm(kCode, R"(.code32
    sti
    nop
    out %al, $0xeb       # the device raises INTR inside this instruction
    mov $1, %ebx         # runs after the handler
    hlt
  .org 0x100
    mov %ebx, %ecx       # EBX still 0: the interrupt came first
    mov $7, %edx
    iret
  )");
  set_gate32(m, 0x20, kCode + 0x100);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.pic.acks == 1u);
  BOOST_TEST(m.reg(core::kRcx) == 0u);
  BOOST_TEST(m.reg(core::kRdx) == 7u);
  BOOST_TEST(m.reg(core::kRbx) == 1u);
  BOOST_TEST(m.st().icount == 3u + 3u + 2u);
}

BOOST_AUTO_TEST_CASE(nmi_is_taken_with_if_clear_and_blocked_until_iret) {
  TestMachine m;
  m.start(pm_state(m, 0x47));
  m.load_asm(kCode, R"(.code32
    cli
  1: hlt
    jmp 1b
  .org 0x100
    incl 0x2000
    iret
  )");
  set_gate32(m, 2, kCode + 0x100);
  BOOST_TEST(int(m.vcpu->run(100)) == int(VcpuExit::kHalted));
  m.vcpu->set_irq(core::kCpuPinNmi, true);
  m.vcpu->set_irq(core::kCpuPinNmi, false);
  BOOST_TEST(int(m.vcpu->run(100)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.rd32(0x2000) == 1u);
  BOOST_TEST(!m.st().nmi_blocked);
}

BOOST_AUTO_TEST_CASE(syscall_and_sysret_in_long_mode) {
  TestMachine m;
  core::X86CpuState s = pm_state(m, 0x47);
  m.wr64(0x10000, 0x11000 | 7);
  m.wr64(0x11000, 0x12000 | 7);
  for (uint64_t i = 0; i < 16; ++i) m.wr64(0x12000 + i * 8, (i << 21) | 0x87);
  s.cr0 |= core::cr0::kPg;
  s.cr3 = 0x10000;
  s.cr4 = core::cr4::kPae;
  s.efer = core::efer::kLme | core::efer::kLma | core::efer::kSce;
  s.seg[int(core::SegReg::kCs)] = {0x18, 0xa09b, 0xffffffff, 0};
  // STAR: SYSCALL CS = 0x18, SYSRET base 0x20 (CS 0x33 for 64-bit, SS 0x2b).
  s.star = (0x18ull << 32) | (0x20ull << 48);
  s.lstar = kCode + 0x100;
  s.sfmask = core::rflags::kIf;
  m.start(s);
  m.load_asm(kCode, R"(.code64
    lea user(%rip), %rcx
    mov $0x202, %r11
    sysretq
  user:
    mov $42, %eax
    syscall
    hlt
  .org 0x100
    mov %rcx, %rbx         # return RIP
    mov %r11, %rdx         # user RFLAGS
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.st().cpl() == 0u);
  BOOST_TEST(m.st().seg[int(core::SegReg::kCs)].selector == 0x18u);
  BOOST_TEST((m.reg(core::kRdx) & core::rflags::kIf) != 0u);
  BOOST_TEST((m.st().rflags & core::rflags::kIf) == 0u);
  BOOST_TEST(m.reg(core::kRax) == 42u);
}

BOOST_AUTO_TEST_CASE(long_mode_ring3_interrupt_uses_rsp0_and_iretq_returns) {
  TestMachine m;
  core::X86CpuState s = long_mode_ring3_state(m, 0x47, kTss);
  // 64-bit IDT at 0x8000: vector 0x80 -> kCode + 0x100, DPL 3.
  uint64_t h = kCode + 0x100;
  m.wr64(0x8000 + 0x80 * 16, (h & 0xffff) | (0x18ull << 16) | (0xee00ull << 32) | ((h >> 16 & 0xffff) << 48));
  m.wr64(0x8000 + 0x80 * 16 + 8, h >> 32);
  m.start(s);
  m.load_asm(kCode, R"(.code64
    mov $0x38, %ax
    ltr %ax
    pushq $0x33             # SS
    pushq $0x70000          # RSP
    pushq $0x2              # RFLAGS
    pushq $0x2b             # CS
    lea user(%rip), %rax
    push %rax
    iretq                   # to ring 3
  user:
    mov $5, %ebx
    int $0x80
    add $1, %ebx
    mov %rsp, %r12
    hlt                     # #GP at CPL 3: no gate, ends in a triple fault
  .org 0x100
    mov %rsp, %r8           # RSP0 - 40
    mov 8(%rsp), %r9        # CS 0x2b
    mov 24(%rsp), %r10      # user RSP
    shl $1, %ebx
    iretq
  )");
  m.vcpu->run(1000);
  BOOST_TEST(m.reg(core::kR8) == 0x90000u - 40);
  BOOST_TEST(m.reg(core::kR9) == 0x2bu);
  BOOST_TEST(m.reg(core::kR10) == 0x70000u);
  BOOST_TEST(m.reg(core::kRbx) == 11u);
  BOOST_TEST(m.reg(core::kR12) == 0x70000u);
  BOOST_TEST(m.rc.detail().find("triple fault: #GP(0x0)") == 0);
}

BOOST_AUTO_TEST_CASE(report_general_purpose_forms_without_semantics) {
  // Not an assertion: the list feeds the coverage report. x87/SSE/VEX forms
  // are out of this slice and not listed.
  std::string missing;
  unsigned bound = 0, total = 0;
  for (size_t i = 0; i < size_t(Form::kCount); ++i) {
    Form f = Form(i);
    const FormInfo& info = form_info(f);
    std::string name = info.name;
    if (info.map == x86_col::Gen) continue;
    if (info.map == x86_col::M1 && info.opcode >= 0xd8 && info.opcode <= 0xdf) continue;  // x87
    bool sse = info.pfx != x86_col::NP || name.find("_V") != std::string::npos ||
               name.find("_W") != std::string::npos || name.find("_P") != std::string::npos ||
               name.find("_Q") != std::string::npos || name.find("_N") != std::string::npos ||
               name.find("_U") != std::string::npos;
    if (sse && name.find("_Gv") == std::string::npos && name.find("_Ev") == std::string::npos) continue;
    ++total;
    if (form_has_semantics(f)) ++bound;
    else missing += " " + name;
  }
  std::printf("interp coverage: %u of %u general-purpose/system forms have semantics; without:%s\n", bound, total,
              missing.c_str());
  BOOST_TEST(bound > 250u);
}

BOOST_AUTO_TEST_CASE(no_semantics_warning_names_the_instruction_in_long_mode) {
  TestMachine m;
  core::X86CpuState s = long_mode_state(m, kCode);
  m.start(s);
  m.load_asm(kCode, R"(.code64
    mov $1, %eax
    vzeroupper
    hlt
  )");
  m.vcpu->run(1000);
  BOOST_REQUIRE(!m.warnings.empty());
  BOOST_TEST(m.warnings[0].find("no semantics for UNNAMED_VEX") == 0, m.warnings[0]);
  BOOST_TEST(m.warnings[0].find(" at 0018:0000000000100005") != std::string::npos, m.warnings[0]);
}

// A walk without a writer (a debugger's) reads the tables and leaves the
// accessed and dirty bits alone; a CPU access sets them.
BOOST_AUTO_TEST_CASE(page_walk_without_a_writer_has_no_side_effects) {
  TestMachine m;
  core::X86CpuState s = long_mode_state(m, kCode);
  const uint64_t pde = 0x12000 + 1 * 8;  // the 2 MiB page at 0x200000
  m.wr64(pde, (1ull << 21) | 0x83);      // present, writable, large, A and D clear
  WalkResult w = page_walk(m.memory, s, 0x234567, Access::kWrite, kSupervisor, nullptr);
  BOOST_TEST(w.ok);
  BOOST_TEST(w.phys == 0x234567u);
  BOOST_TEST(m.rd64(pde) == ((1ull << 21) | 0x83));
  BOOST_TEST((m.rd64(0x10000) & 0x20) == 0u);
  uint64_t written = 0;
  const PteWriter writer{&m, [](void* ctx, uint64_t phys, uint64_t v, unsigned size) {
                           static_cast<TestMachine*>(ctx)->wr64(phys, v);
                           (void)size;
                         }};
  w = page_walk(m.memory, s, 0x234567, Access::kWrite, kSupervisor, &writer);
  written = m.rd64(pde);
  BOOST_TEST(w.ok);
  BOOST_TEST(written == ((1ull << 21) | 0x83 | 0x60));  // accessed and dirty
  BOOST_TEST((m.rd64(0x10000) & 0x20) == 0x20u);
}

// An interrupt taken between two iterations of a REP string instruction
// pushes RF = 1 (SDM Vol. 3 §17.3.1.1); the IRET then resumes the REP,
// which completes; a fault pushes RF = 1 too, INT n pushes 0.
BOOST_AUTO_TEST_CASE(rf_pushed_between_rep_iterations_and_for_faults) {
  TestMachine m;
  m.start(pm_state(m, 0x47));
  m.load_asm(kCode, R"(.code32
    mov $0x3000, %edi
    mov $100, %ecx
    mov $0x5a, %al
    sti
    rep stosb
    int $0x41
    ud2
  .org 0x100
    mov 8(%esp), %ebx         # EFLAGS pushed for the interrupt
    mov %ecx, %esi            # iterations left
    iret
  .org 0x180
    mov 8(%esp), %edx         # EFLAGS pushed for INT n
    iret
  .org 0x200
    mov 8(%esp), %ebp         # EFLAGS pushed for #UD
    hlt
  )");
  set_gate32(m, 0x20, kCode + 0x100);
  set_gate32(m, 0x41, kCode + 0x180);
  set_gate32(m, 6, kCode + 0x200);
  BOOST_TEST(int(m.vcpu->run(4 + 30)) == int(VcpuExit::kLimitReached));  // 30 iterations done
  m.vcpu->set_irq(core::kCpuPinIntr, true);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST((m.reg(core::kRbx) & core::rflags::kRf) != 0u);
  BOOST_TEST(m.reg(core::kRsi) == 70u);
  BOOST_TEST(m.reg(core::kRcx) == 0u);
  BOOST_TEST(m.ram[0x3000 + 99] == 0x5a);
  BOOST_TEST((m.reg(core::kRdx) & core::rflags::kRf) == 0u);
  BOOST_TEST((m.reg(core::kRbp) & core::rflags::kRf) != 0u);
  BOOST_TEST((m.st().rflags & core::rflags::kRf) == 0u);
}

// A second NMI raised while the first one's handler runs waits for its IRET
// (one is held pending), then is taken.
BOOST_AUTO_TEST_CASE(nmi_raised_in_the_nmi_handler_waits_for_iret) {
  TestMachine m;
  m.start(pm_state(m, 0x47));
  m.ports.on_irq_port = [&](uint64_t) {
    m.vcpu->set_irq(core::kCpuPinNmi, true);
    m.vcpu->set_irq(core::kCpuPinNmi, false);
  };
  m.load_asm(kCode, R"(.code32
    out %al, $0xeb            # the first NMI
    mov 0x2000, %ebx          # 2: both handlers ran before this
    hlt
  .org 0x100
    incl 0x2000
    cmpl $1, 0x2000
    jne 1f
    out %al, $0xeb            # a second NMI, inside the handler: held
    mov 0x2000, %ecx          # still 1
  1:iret
  )");
  set_gate32(m, 2, kCode + 0x100);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRcx) == 1u);
  BOOST_TEST(m.reg(core::kRbx) == 2u);
  BOOST_TEST(!m.st().nmi_blocked);
}

// An I/O breakpoint (CR4.DE, RW 10) traps after an IN from a port in its
// range; without CR4.DE the same DR7 setting watches nothing.
BOOST_AUTO_TEST_CASE(io_breakpoint_traps_after_the_access) {
  TestMachine m;
  m.start(pm_state(m, 0x47));
  m.load_asm(kCode, R"(.code32
    mov $0xe8, %eax
    mov %eax, %dr1
    mov $(0x4 | (0x2 << 20) | (0x1 << 22)), %eax   # L1, RW1 = 10, LEN1 = 01: ports 0xe8-0xe9
    mov %eax, %dr7
    in $0xea, %al             # without DE: nothing
    mov %cr4, %eax
    or $0x8, %eax
    mov %eax, %cr4
    in $0xea, %al             # outside the range
    in $0xe9, %al             # traps
  after:
    hlt
  .org 0x100
    mov (%esp), %ebx          # EIP after the IN
    mov %dr6, %ecx
    iret
  )");
  set_gate32(m, 1, kCode + 0x100);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST((m.reg(core::kRcx) & 0xf) == 0x2u);
  BOOST_TEST(m.reg(core::kRbx) == m.st().rip - 1);  // the HLT's address
}

// The MSRs of the MTRR family, PAT and APIC_BASE keep what is written and
// refuse (#GP) invalid memory types, reserved bits and read-only MSRs;
// MISC_ENABLE starts with fast strings enabled.
BOOST_AUTO_TEST_CASE(mtrr_pat_and_apic_base_msrs) {
  TestMachine m;
  m.start(pm_state(m, 0x47));
  m.load_asm(kCode, R"(.code32
    .macro wr msr, lo, hi
      mov $\msr, %ecx
      mov $\lo, %eax
      mov $\hi, %edx
      mov $1f, %esi
      wrmsr
    1:
    .endm
    wr 0x2ff, 0xc06, 0                # MTRRdefType: E, FE, WB
    wr 0x200, 0x80000006, 0x12        # PHYSBASE0
    wr 0x201, 0xc0000800, 0xff        # PHYSMASK0
    wr 0x268, 0x06060606, 0x05050404  # fixed 4K_C0000
    wr 0x277, 0x00070406, 0x00070406  # PAT
    wr 0x1b, 0xfee00900, 0            # APIC_BASE: enabled, BSP
    wr 0x8b, 0, 0                     # IA32_BIOS_SIGN_ID: written, then read
    wr 0x2ff, 0x2, 0                  # type 2: #GP
    wr 0x200, 0x100, 0                # reserved bit 8: #GP
    wr 0x250, 0x03, 0                 # type 3 in a fixed range: #GP
    wr 0x277, 0x3, 0                  # PAT type 3: #GP
    wr 0xfe, 0, 0                     # MTRRcap is read-only: #GP
    wr 0x1b, 0xfee00400, 0            # x2APIC enable (not reported): #GP
    mov $0x2ff, %ecx
    rdmsr
    mov %eax, 0x2000
    mov $0x201, %ecx
    rdmsr
    mov %eax, 0x2004
    mov %edx, 0x2008
    mov $0x26f, %ecx                  # fixed 4K_F8000: reads back 0
    rdmsr
    mov %eax, 0x200c
    mov $0xfe, %ecx
    rdmsr
    mov %eax, 0x2010
    mov $0x8b, %ecx
    rdmsr
    mov %edx, 0x2014
    mov $0x1b, %ecx
    rdmsr
    mov %eax, 0x2018
    mov $0x1a0, %ecx                  # MISC_ENABLE: fast strings on from reset
    rdmsr
    mov %eax, 0x201c
    hlt
  .org 0x400
    add $4, %esp
    incl 0x2020
    mov %esi, (%esp)
    iret
  )");
  set_gate32(m, 13, kCode + 0x400);
  BOOST_TEST(int(m.vcpu->run(10000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.rd32(0x2020) == 6u);
  BOOST_TEST(m.rd32(0x2000) == 0xc06u);
  BOOST_TEST(m.rd32(0x2004) == 0xc0000800u);
  BOOST_TEST(m.rd32(0x2008) == 0xffu);
  BOOST_TEST(m.rd32(0x200c) == 0u);
  BOOST_TEST(m.rd32(0x2010) == 0x508u);
  BOOST_TEST(m.rd32(0x2014) == 1u);
  BOOST_TEST(m.rd32(0x2018) == 0xfee00900u);
  BOOST_TEST(m.rd32(0x201c) == 1u);
  BOOST_TEST(m.st().mtrr_fixed[3] == 0x0505040406060606ull);
  BOOST_TEST(m.st().mtrr_var[0] == 0x1280000006ull);
}

// CLFLUSH checks its operand as a byte load: a not-present page is a #PF
// with a read's error code; MMIO sees nothing.
BOOST_AUTO_TEST_CASE(clflush_faults_like_a_load) {
  TestMachine m;
  Recorder dev;
  m.memory.add_io("dev", 0xfe000000, 0x1000, &dev);
  core::X86CpuState s = pm_state(m, 0x47);
  m.wr32(0x10000, 0x11000 | 3);
  for (uint32_t i = 0; i < 1024; ++i) m.wr32(0x11000 + i * 4, (i << 12) | 3);
  m.wr32(0x11000 + 0x300 * 4, 0);  // 0x300000 not present
  m.wr32(0x10000 + (0xfe000000 >> 22) * 4, 0xfe000000 | 0x83);
  s.cr0 |= core::cr0::kPg;
  s.cr3 = 0x10000;
  s.cr4 = core::cr4::kPse;
  m.start(s);
  m.load_asm(kCode, R"(.code32
    clflush 0x2000
    clflush 0xfe000010
    clflush 0x300010
    hlt
  .org 0x100
    pop %ebx                  # error code
    mov %cr2, %ecx
    hlt
  )");
  set_gate32(m, 14, kCode + 0x100);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRbx) == 0u);
  BOOST_TEST(m.reg(core::kRcx) == 0x300010u);
  BOOST_TEST(dev.log.empty());
}

// SYSCALL in compatibility mode is #UD on the Intel CPU rewind models (AMD
// would go to IA32_CSTAR).
BOOST_AUTO_TEST_CASE(syscall_in_compatibility_mode_is_ud) {
  TestMachine m;
  core::X86CpuState s = long_mode_state(m, kCode);
  write_gdt(m, kGdt);
  s.gdtr = {kGdt, 0x27};
  s.idtr = {0x8000, 0xfff};
  s.efer |= core::efer::kSce;
  s.star = 0x18ull << 32;
  s.lstar = kCode + 0x200;
  s.cstar = kCode + 0x200;
  const uint64_t h = kCode + 0x100;
  m.wr64(0x8000 + 6 * 16, (h & 0xffff) | (0x18ull << 16) | (0x8e00ull << 32) | ((h >> 16 & 0xffff) << 48));
  m.wr64(0x8000 + 6 * 16 + 8, 0);
  m.start(s);
  m.load_asm(kCode, R"(.code64
    ljmp *target(%rip)
  target:
    .long compat
    .word 0x08
  compat:
  .code32
    syscall
  .org 0x100
  .code64
    mov 8(%rsp), %rbx         # CS of the fault: 0x08
    hlt
  .org 0x200
    mov $0xbad, %rbx
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRbx) == 0x08u);
}

// An instruction breakpoint on a REP string instruction fires once, at the
// instruction's boundary, not before every iteration; RF, set by the
// handler's IRET, lasts until the REP completes.
BOOST_AUTO_TEST_CASE(instruction_breakpoint_on_a_rep_fires_once) {
  TestMachine m;
  m.start(pm_state(m, 0x47));
  m.load_asm(kCode, R"(.code32
    mov $rep, %eax
    mov %eax, %dr0
    mov $1, %eax
    mov %eax, %dr7            # L0, execute
    mov $0x3000, %edi
    mov $5, %ecx
    mov $0x77, %al
  rep:
    rep stosb
    hlt
  .org 0x100
    incl 0x2000
    orl $0x10000, 8(%esp)     # RF in the saved EFLAGS
    iret
  )");
  set_gate32(m, 1, kCode + 0x100);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.rd32(0x2000) == 1u);
  BOOST_TEST(m.ram[0x3004] == 0x77);
  BOOST_TEST(m.reg(core::kRcx) == 0u);
  BOOST_TEST((m.st().rflags & core::rflags::kRf) == 0u);
}
