// Interpreter tier, SIMD state rules the host-CPU difftest cannot reach (the
// host always runs with SSE enabled): CR4.OSFXSR, CR0.EM and CR0.TS, SSE's
// alignment rule, and the MMX registers' aliasing of the x87 registers.
// Lane arithmetic is checked against the host by tests/difftest.
#define BOOST_TEST_MODULE test_interp_simd
#include "tests/unit/test_interp_machine.h"

using namespace rwd;
using namespace rwd::tcg;
using namespace rwd::tcg::test;
using core::VcpuExit;

namespace {

// Runs `body` in 32-bit protected mode with the given CR0/CR4 bits and returns
// the vector it faulted with (handlers store it at 0x3000), or -1.
int fault_of(const char* body, uint64_t cr0_bits, uint64_t cr4_bits, TestMachine& m) {
  core::X86CpuState s = pm_state(m, 0x27);
  s.cr0 |= cr0_bits;
  s.cr4 |= cr4_bits;
  m.wr32(0x3000, 0xffffffff);
  for (uint32_t v = 0; v < 32; ++v) set_gate32(m, uint8_t(v), uint32_t(kCode + 0x800 + v * 16));
  m.start(s);
  std::string src = std::string(".code32\n") + body + "\n hlt\n";
  for (int v = 0; v < 32; ++v)
    src += ".org 0x" + [&] { char b[16]; std::snprintf(b, sizeof b, "%x", 0x800 + v * 16); return std::string(b); }() +
           "\n movl $" + std::to_string(v) + ", 0x3000\n hlt\n";
  m.load_asm(kCode, src);
  m.vcpu->run(10000);
  return int(int32_t(m.rd32(0x3000)));
}

}  // namespace

BOOST_AUTO_TEST_CASE(sse_needs_osfxsr_and_no_em_and_waits_on_ts) {
  using namespace core;
  { TestMachine m; BOOST_TEST(fault_of("paddb %xmm1, %xmm0", 0, 0, m) == 6); }
  { TestMachine m; BOOST_TEST(fault_of("paddb %xmm1, %xmm0", cr0::kEm, cr4::kOsfxsr, m) == 6); }
  { TestMachine m; BOOST_TEST(fault_of("paddb %xmm1, %xmm0", cr0::kTs, cr4::kOsfxsr, m) == 7); }
  { TestMachine m; BOOST_TEST(fault_of("paddb %xmm1, %xmm0", 0, cr4::kOsfxsr, m) == -1); }
  // MMX needs no OSFXSR, but EM and TS apply.
  { TestMachine m; BOOST_TEST(fault_of("paddb %mm1, %mm0", 0, 0, m) == -1); }
  { TestMachine m; BOOST_TEST(fault_of("paddb %mm1, %mm0", cr0::kEm, 0, m) == 6); }
  { TestMachine m; BOOST_TEST(fault_of("paddb %mm1, %mm0", cr0::kTs, 0, m) == 7); }
}

BOOST_AUTO_TEST_CASE(aligned_forms_fault_on_a_misaligned_operand) {
  using namespace core;
  { TestMachine m; BOOST_TEST(fault_of("movdqa 0x2008, %xmm0", 0, cr4::kOsfxsr, m) == 13); }
  { TestMachine m; BOOST_TEST(fault_of("paddd 0x2004, %xmm0", 0, cr4::kOsfxsr, m) == 13); }
  { TestMachine m; BOOST_TEST(fault_of("movdqu 0x2008, %xmm0", 0, cr4::kOsfxsr, m) == -1); }
  { TestMachine m; BOOST_TEST(fault_of("movdqa 0x2010, %xmm0", 0, cr4::kOsfxsr, m) == -1); }
  { TestMachine m; BOOST_TEST(fault_of("paddb 0x2001, %mm0", 0, 0, m) == -1); }  // MMX: no alignment rule
}

BOOST_AUTO_TEST_CASE(mmx_registers_are_the_x87_mantissas) {
  TestMachine m;
  fault_of(R"(
    movl $0x11223344, 0x2000
    movl $0x55667788, 0x2004
    movq 0x2000, %mm3
    movd %mm3, %eax
    emms
  )", 0, 0, m);
  const auto& x = m.st().x87;
  uint64_t mant;
  std::memcpy(&mant, x.st[3], 8);
  BOOST_TEST(mant == 0x5566778811223344ull);
  BOOST_TEST((x.st[3][8] == 0xff && x.st[3][9] == 0xff));  // exponent and sign all ones
  BOOST_TEST(m.reg(core::kRax) == 0x11223344u);
  BOOST_TEST(x.ftw == 0xffffu);                // EMMS: all empty again
  BOOST_TEST(((x.fsw >> 11) & 7) == 0u);       // TOP = 0
}

BOOST_AUTO_TEST_CASE(ldmxcsr_refuses_reserved_bits_and_fxsave_wants_alignment) {
  using namespace core;
  {
    TestMachine m;
    BOOST_TEST(fault_of("movl $0x10000, 0x2000\n ldmxcsr 0x2000", 0, cr4::kOsfxsr, m) == 13);
  }
  {
    TestMachine m;
    BOOST_TEST(fault_of("movl $0x9fc0, 0x2000\n ldmxcsr 0x2000\n stmxcsr 0x2010", 0, cr4::kOsfxsr, m) == -1);
    BOOST_TEST(m.rd32(0x2010) == 0x9fc0u);  // DAZ, FTZ and rounding bits are kept
  }
  { TestMachine m; BOOST_TEST(fault_of("fxsave 0x2008", 0, cr4::kOsfxsr, m) == 13); }
  { TestMachine m; BOOST_TEST(fault_of("fxsave 0x2000", cr0::kTs, cr4::kOsfxsr, m) == 7); }
  {
    // 32-bit code saves XMM0-7 only: the XMM8-15 area is left as it was.
    TestMachine m;
    m.wr32(0x2000 + 160 + 16 * 8, 0xdeadbeef);
    BOOST_TEST(fault_of("fxsave 0x2000", 0, cr4::kOsfxsr, m) == -1);
    BOOST_TEST(m.rd32(0x2000 + 160 + 16 * 8) == 0xdeadbeefu);
    BOOST_TEST(m.rd32(0x2000 + 24) == 0x1f80u);  // MXCSR
    BOOST_TEST(m.rd32(0x2000 + 28) == 0xffffu);  // MXCSR_MASK: DAZ supported
    BOOST_TEST((m.rd32(0x2000) & 0xffff) == 0x37fu);  // FCW after reset
  }
}
