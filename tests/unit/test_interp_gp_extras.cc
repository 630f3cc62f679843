// Interpreter tier: the general-purpose and system forms added for x86-64-v2
// that the host-CPU difftest cannot check (they depend on descriptor tables,
// MSRs or the entropy source): LAR/LSL/VERR/VERW, ARPL, BOUND, SYSENTER/
// SYSEXIT, RDRAND/RDSEED, RDPID, RDPMC, MOVBE, the absent features and the
// CPUID bits that announce them.
#define BOOST_TEST_MODULE test_interp_gp_extras
#include "tests/unit/test_interp_machine.h"

#include "tcg-llvm/semantics/cpuid.h"

using namespace rwd;
using namespace rwd::tcg;
using namespace rwd::tcg::test;
using core::VcpuExit;

namespace {

namespace fl = core::rflags;

class CountingEntropy : public core::EntropySource {
 public:
  uint64_t random_u64() override { return 0x0123456789abcdefull + calls++; }
  unsigned calls = 0;
};

}  // namespace

BOOST_AUTO_TEST_CASE(lar_lsl_verr_verw_read_the_gdt_without_faulting) {
  TestMachine m;
  core::X86CpuState s = pm_state(m, 0x7f);
  // 0x28: DPL-3 read-only data, limit 0xfff bytes; 0x30: execute-only code;
  // 0x38: a 32-bit TSS (system type 9); 0x40: an interrupt gate (type 14).
  m.wr64(kGdt + 0x28, 0x0040f0000000ffffull);
  m.wr64(kGdt + 0x30, 0x00cf98000000ffffull);
  m.wr64(kGdt + 0x38, 0x0000890000000067ull);
  m.wr64(kGdt + 0x40, 0x00008e0000000000ull);
  m.start(s);
  m.load_asm(kCode, R"(.code32
    mov $0x2b, %ecx
    lar %ecx, %eax        # DPL-3 data: visible, ZF=1
    setz %bl
    lsl %ecx, %edx        # byte-granular limit 0xffff
    verr %cx
    setz %bh
    verw %cx              # read-only: ZF=0
    setnz %bl
    mov $0x30, %ecx
    verr %cx              # execute-only code: not readable
    setnz %ch
    mov $0x38, %esi
    lsl %esi, %esi        # a TSS has a limit
    mov $0x40, %edi
    mov $0x77, %ebp
    lar %edi, %ebp        # LAR does not accept an interrupt gate: ZF=0, EBP kept
    setnz %cl
    mov $0x1000, %edi
    lar %edi, %edi        # beyond the GDT limit: ZF=0, no fault
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRax) == 0x0040f000u);
  BOOST_TEST(m.reg(core::kRdx) == 0xffffu);
  BOOST_TEST((m.reg(core::kRbx) & 0xffff) == 0x0101u);
  BOOST_TEST(((m.reg(core::kRcx) >> 8) & 0xff) == 1u);
  BOOST_TEST((m.reg(core::kRcx) & 0xff) == 1u);
  BOOST_TEST(m.reg(core::kRsi) == 0x67u);
  BOOST_TEST(m.reg(core::kRbp) == 0x77u);  // unchanged when ZF=0
  BOOST_TEST(m.reg(core::kRdi) == 0x1000u);
  BOOST_TEST(m.warnings.empty());
}

BOOST_AUTO_TEST_CASE(lar_at_cpl3_hides_more_privileged_descriptors) {
  TestMachine m;
  core::X86CpuState s = pm_state(m, 0x7f);
  m.wr64(kGdt + 0x28, 0x00cffa000000ffffull);  // ring-3 code
  m.wr64(kGdt + 0x30, 0x00cff2000000ffffull);  // ring-3 data
  s.seg[int(core::SegReg::kCs)] = {0x2b, 0xc0fb, 0xffffffff, 0};
  for (int i : {0, 2, 3, 4, 5}) s.seg[i] = {0x33, 0xc0f3, 0xffffffff, 0};
  m.start(s);
  m.load_asm(kCode, R"(.code32
    mov $0x10, %ecx       # DPL-0 data: invisible at CPL 3
    lar %ecx, %eax
    setz %bl
    mov $0x33, %ecx
    lar %ecx, %eax
    setz %bh
    hlt                   # #GP at CPL 3 (no IDT): the run stops there
  )");
  m.vcpu->run(1000);
  BOOST_TEST((m.reg(core::kRbx) & 0xffff) == 0x0100u);
  BOOST_TEST(m.reg(core::kRax) == 0x00c0f200u);
}

BOOST_AUTO_TEST_CASE(arpl_and_bound_in_32_bit_code) {
  TestMachine m;
  core::X86CpuState s = pm_state(m, 0x7f);
  m.start(s);
  m.load_asm(kCode, R"(.code32
    mov $0x10, %eax
    mov $0x13, %ecx
    arpl %cx, %ax         # RPL 0 < 3: raised, ZF=1
    setz %bl
    arpl %cx, %ax         # already 3: ZF=0
    setz %bh
    movl $-5, 0x2000
    movl $10, 0x2004
    mov $10, %edx
    bound %edx, 0x2000    # in range
    mov $11, %edx
  .org 0x80, 0x90
    bound %edx, 0x2000    # #BR
    hlt
  .org 0x100
    mov $0x42, %esi
    hlt
  )");
  set_gate32(m, 5, kCode + 0x100);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRax) == 0x13u);
  BOOST_TEST((m.reg(core::kRbx) & 0xffff) == 0x0001u);
  BOOST_TEST(m.reg(core::kRsi) == 0x42u);
  BOOST_TEST(m.rd32(0x80000 - 12) == kCode + 0x80);  // the #BR frame's EIP: the second BOUND
}

BOOST_AUTO_TEST_CASE(sysenter_and_sysexit_use_the_sysenter_msrs) {
  TestMachine m;
  core::X86CpuState s = pm_state(m, 0x7f);
  // 0x08 code / 0x10 data at ring 0, then 0x18 + 3 / 0x20 + 3 for SYSEXIT's
  // ring 3 (CS + 16, SS + 24: only the selectors and cached flat segments).
  s.sysenter_cs = 0x08;
  s.sysenter_esp = 0x90000;
  s.sysenter_eip = kCode + 0x100;
  m.start(s);
  m.load_asm(kCode, R"(.code32
    mov $0x1234, %eax
    mov $user, %edx
    mov $0x70000, %ecx
    sysexit
  user:
    mov %cs, %ebx
    mov %ss, %edi
    mov %esp, %ebp
    sysenter
  .org 0x100
    mov %cs, %esi
    mov %esp, %eax
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRbx) == 0x1bu);
  BOOST_TEST(m.reg(core::kRdi) == 0x23u);
  BOOST_TEST(m.reg(core::kRbp) == 0x70000u);
  BOOST_TEST(m.reg(core::kRsi) == 0x08u);
  BOOST_TEST(m.reg(core::kRax) == 0x90000u);
  BOOST_TEST(m.st().cpl() == 0u);
  BOOST_TEST((m.st().rflags & fl::kIf) == 0u);
}

BOOST_AUTO_TEST_CASE(rdrand_takes_its_values_from_the_entropy_source) {
  TestMachine m;
  CountingEntropy entropy;
  m.env.entropy = &entropy;
  m.start(pm_state(m, 0x7f));
  m.load_asm(kCode, R"(.code32
    rdrand %eax
    setc %bl
    rdseed %cx
    setc %bh
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRax) == 0x89abcdefu);
  BOOST_TEST((m.reg(core::kRcx) & 0xffff) == 0xcdf0u);
  BOOST_TEST((m.reg(core::kRbx) & 0xffff) == 0x0101u);
  BOOST_TEST(entropy.calls == 2u);
}

BOOST_AUTO_TEST_CASE(rdrand_without_an_entropy_source_reports_no_value) {
  TestMachine m;
  core::X86CpuState s = pm_state(m, 0x7f);
  s.rflags |= fl::kCf | fl::kZf;
  m.start(s);
  m.load_asm(kCode, R"(.code32
    mov $-1, %eax
    rdrand %eax
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRax) == 0u);
  BOOST_TEST((m.st().rflags & fl::kArith) == 0u);
}

BOOST_AUTO_TEST_CASE(rdpid_rdpmc_movbe_and_absent_features) {
  TestMachine m;
  core::X86CpuState s = pm_state(m, 0x7f);
  s.tsc_aux = 0x5a5a0007;
  m.start(s);
  m.load_asm(kCode, R"(.code32
    rdpid %eax
    movl $0x11223344, 0x2000
    movbe 0x2000, %ebx
    movbe %bx, 0x2008
    xor %ecx, %ecx
    rdpmc                 # no counters: #GP(0)
  .org 0x100
    mov $1, %esi
    monitor               # absent (CPUID.1:ECX.MONITOR = 0): #UD
  .org 0x200
    mov $2, %edi
    hlt
  )");
  set_gate32(m, 13, kCode + 0x100);
  set_gate32(m, 6, kCode + 0x200);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRax) == 0x5a5a0007u);
  BOOST_TEST(m.reg(core::kRbx) == 0x44332211u);
  BOOST_TEST((m.rd32(0x2008) & 0xffff) == 0x1122u);
  BOOST_TEST(m.reg(core::kRsi) == 1u);
  BOOST_TEST(m.reg(core::kRdi) == 2u);
  BOOST_TEST(m.warnings.empty());  // absent by design: no "no semantics" warning
}

BOOST_AUTO_TEST_CASE(int1_is_delivered_through_a_dpl0_gate_at_cpl3_and_int3_is_not) {
  TestMachine m;
  core::X86CpuState s = pm_state(m, 0x7f);
  add_ring3(m);  // ring-3 code and data, a 32-bit TSS for the stack switch
  s.tr = {0x38, 0x8b, 0x67, 0x7000};
  s.seg[int(core::SegReg::kCs)] = {0x2b, 0xc0fb, 0xffffffff, 0};
  for (int i : {0, 2, 3, 4, 5}) s.seg[i] = {0x33, 0xc0f3, 0xffffffff, 0};
  s.gpr[core::kRsp] = 0x70000;
  m.start(s);
  m.load_asm(kCode, R"(.code32
    .byte 0xf1            # INT1 (ICEBP): DPL-0 gate, taken anyway; a trap, as
                          # the SDM says (this machine's host, a VM, reports
                          # it at the instruction, so the difftest cannot pin it)
  after:
    int3                  # INT3: DPL-0 gate at CPL 3: #GP(3 * 8 + 2)
  .org 0x100
    mov (%esp), %esi      # the #DB frame's EIP: after INT1
    mov 4(%esp), %edi     # CS 0x2b
    iret
  .org 0x200
    mov (%esp), %ebp      # the #GP error code
    hlt
  )");
  set_gate32(m, 1, kCode + 0x100);
  set_gate32(m, 3, kCode + 0x180);
  set_gate32(m, 13, kCode + 0x200);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRsi) == kCode + 1);
  BOOST_TEST(m.reg(core::kRdi) == 0x2bu);
  BOOST_TEST(m.reg(core::kRbp) == 3u * 8 + 2);
}

BOOST_AUTO_TEST_CASE(cpuid_announces_the_added_instructions) {
  CpuidResult l1 = cpuid_model(1, 0), l7 = cpuid_model(7, 0), l7s1 = cpuid_model(7, 1);
  BOOST_TEST((l1.ecx >> 22 & 1) == 1u);  // MOVBE
  BOOST_TEST((l1.ecx >> 30 & 1) == 1u);  // RDRAND
  BOOST_TEST((l1.ecx >> 13 & 1) == 1u);  // CMPXCHG16B
  BOOST_TEST((l1.ecx >> 3 & 1) == 0u);   // no MONITOR/MWAIT
  BOOST_TEST((l1.ecx >> 5 & 1) == 0u);   // no VMX
  BOOST_TEST((l1.edx >> 11 & 1) == 1u);  // SYSENTER/SYSEXIT
  BOOST_TEST((l7.ebx >> 18 & 1) == 1u);  // RDSEED
  BOOST_TEST((l7.ecx >> 22 & 1) == 1u);  // RDPID
  BOOST_TEST(l7s1.ebx == 0u);
  // x87, the SIMD extensions up to SSE4.2, MMX, FXSAVE and XSAVE.
  for (unsigned bit : {0u, 9u, 19u, 20u}) BOOST_TEST((l1.ecx >> bit & 1) == 1u, "ECX bit " << bit);
  for (unsigned bit : {0u, 23u, 24u, 25u, 26u}) BOOST_TEST((l1.edx >> bit & 1) == 1u, "EDX bit " << bit);
  BOOST_TEST((l1.ecx >> 26 & 1) == 1u);  // XSAVE
}

// -cpu max,-NAME: every feature the table names is one CPUID reports (so
// taking it out means something), and a masked vCPU's CPUID instruction
// returns the model's answer less exactly those bits.
BOOST_AUTO_TEST_CASE(cpuid_mask_takes_out_exactly_the_named_features) {
  for (const core::CpuFeature& f : core::kCpuFeatures) {
    CpuidResult r = cpuid_model(f.leaf, f.subleaf, 0, core::apic_base::kEnable);
    uint32_t regs[4] = {r.eax, r.ebx, r.ecx, r.edx};
    BOOST_TEST((regs[int(f.reg)] >> f.bit & 1) == 1u, f.name << " is not reported by the model");
  }
  core::CpuidMask mask({"x2apic", "sse4-2", "nx", "xsaveopt"});
  TestMachine m;
  m.env.cpuid_mask = &mask;
  m.start(flat32_state(kCode));
  m.load_asm(kCode, R"(.code32
    mov $1, %eax
    cpuid
    mov %ecx, %esi
    mov %edx, %edi
    mov $0x80000001, %eax
    cpuid
    mov %edx, %ebp
    mov $0xd, %eax
    mov $1, %ecx
    cpuid
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  CpuidResult l1 = cpuid_model(1, 0, 0, m.st().apic_base), ext = cpuid_model(0x80000001, 0), xs = cpuid_model(0xd, 1);
  BOOST_TEST(m.reg(core::kRsi) == (l1.ecx & ~(1u << 21 | 1u << 20)));
  BOOST_TEST(m.reg(core::kRdi) == l1.edx);
  BOOST_TEST(m.reg(core::kRbp) == (ext.edx & ~(1u << 20)));
  BOOST_TEST(m.reg(core::kRax) == (xs.eax & ~1u));
}
