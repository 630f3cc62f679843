// XGETBV/XSETBV and the XSAVE family's checks at CPL 0 (the difftest and
// the snippets compare the images themselves with the host at CPL 3):
// #UD without CR4.OSXSAVE, #GP for a bad XCR0 value, index or alignment,
// CPUID's OSXSAVE bit following CR4.
#define BOOST_TEST_MODULE test_interp_xsave
#include "tests/unit/test_interp_machine.h"

using namespace rwd;
using namespace rwd::tcg;
using namespace rwd::tcg::test;

namespace {

// Runs `body` in flat 32-bit protected mode with the given CR4; #UD and #GP
// handlers put their vector in ESI and halt. Returns ESI (0: no fault).
uint64_t run(TestMachine& m, uint64_t cr4, const std::string& body) {
  core::X86CpuState s = pm_state(m, 0x27);
  s.cr4 = cr4 | core::cr4::kOsfxsr;
  m.start(s);
  m.load_asm(kCode, ".code32\n xor %esi, %esi\n" + body + "\n hlt\n .org 0x100\n mov $6, %esi\n hlt\n"
                    " .org 0x180\n mov $13, %esi\n hlt\n");
  set_gate32(m, 6, kCode + 0x100);
  set_gate32(m, 13, kCode + 0x180);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(core::VcpuExit::kHalted));
  return m.reg(core::kRsi);
}

}  // namespace

BOOST_AUTO_TEST_CASE(xgetbv_and_xsave_need_cr4_osxsave) {
  TestMachine a, b, c;
  BOOST_TEST(run(a, 0, "xor %ecx, %ecx\n xgetbv") == 6u);
  BOOST_TEST(run(b, 0, "mov $0x10000, %edi\n mov $3, %eax\n xor %edx, %edx\n xsave (%edi)") == 6u);
  BOOST_TEST(run(c, 0, "mov $1, %eax\n cpuid\n mov %ecx, %ebx") == 0u);
  BOOST_TEST((c.reg(core::kRbx) >> 27 & 1) == 0u);  // OSXSAVE follows CR4
  BOOST_TEST((c.reg(core::kRbx) >> 26 & 1) == 1u);  // XSAVE supported
}

BOOST_AUTO_TEST_CASE(xsetbv_accepts_only_the_components_rewind_has) {
  const uint64_t cr4 = core::cr4::kOsxsave;
  TestMachine ok, no_x87, avx, index, getbv_index, cpuid;
  BOOST_TEST(run(ok, cr4, "xor %ecx, %ecx\n mov $3, %eax\n xor %edx, %edx\n xsetbv\n xor %eax, %eax\n xgetbv") == 0u);
  BOOST_TEST(ok.reg(core::kRax) == 3u);
  BOOST_TEST(run(no_x87, cr4, "xor %ecx, %ecx\n mov $2, %eax\n xor %edx, %edx\n xsetbv") == 13u);
  BOOST_TEST(run(avx, cr4, "xor %ecx, %ecx\n mov $7, %eax\n xor %edx, %edx\n xsetbv") == 13u);
  BOOST_TEST(run(index, cr4, "mov $1, %ecx\n mov $1, %eax\n xor %edx, %edx\n xsetbv") == 13u);
  BOOST_TEST(run(getbv_index, cr4, "mov $1, %ecx\n xgetbv") == 13u);
  BOOST_TEST(run(cpuid, cr4, "mov $1, %eax\n cpuid\n mov %ecx, %ebp\n mov $0xd, %eax\n xor %ecx, %ecx\n cpuid") == 0u);
  BOOST_TEST((cpuid.reg(core::kRbp) >> 27 & 1) == 1u);
  BOOST_TEST(cpuid.reg(core::kRax) == 3u);   // x87 and SSE
  BOOST_TEST(cpuid.reg(core::kRcx) == 576u);  // legacy region and header
}

BOOST_AUTO_TEST_CASE(xsave_needs_64_byte_alignment_and_a_standard_header) {
  const uint64_t cr4 = core::cr4::kOsxsave;
  TestMachine misaligned, header, good;
  const std::string setup = "xor %ecx, %ecx\n mov $3, %eax\n xor %edx, %edx\n xsetbv\n";
  BOOST_TEST(run(misaligned, cr4, setup + "mov $0x10010, %edi\n xsave (%edi)") == 13u);
  // XCOMP_BV non-zero: not the standard format.
  BOOST_TEST(run(header, cr4, setup + "mov $0x10000, %edi\n xsave (%edi)\n movl $1, 520(%edi)\n xrstor (%edi)") == 13u);
  // A round trip through XSAVE and XRSTOR, XSTATE_BV bit 1 cleared: the XMM
  // registers come back zero, MXCSR from the image.
  BOOST_TEST(run(good, cr4, setup + "mov $0x10000, %edi\n mov $0x1234, %ebx\n movd %ebx, %xmm3\n xsave (%edi)\n"
                                     "andl $1, 512(%edi)\n movl $0x1f00, 24(%edi)\n xrstor (%edi)\n movd %xmm3, %ebx\n"
                                     "stmxcsr 0x10200\n mov 0x10200, %ebp") == 0u);
  BOOST_TEST(good.reg(core::kRbx) == 0u);
  BOOST_TEST(good.reg(core::kRbp) == 0x1f00u);
}
