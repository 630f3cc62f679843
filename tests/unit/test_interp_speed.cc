// Interpreter throughput on a hot integer loop (ADD/DEC/JNZ and a slightly
// richer mix). Printed, not asserted: the machine is shared.
#define BOOST_TEST_MODULE test_interp_speed
#include "tests/unit/test_interp_machine.h"

#include <chrono>
#include <ctime>

using namespace rwd;
using namespace rwd::tcg;
using namespace rwd::tcg::test;

namespace {

void measure(const char* name, const std::string& src, uint64_t expect_min_insns) {
  TestMachine m;
  m.start(flat32_state(0x100000));
  m.load_asm(0x100000, src);
  auto t0 = std::chrono::steady_clock::now();
  std::clock_t c0 = std::clock();
  core::VcpuExit e = m.vcpu->run(~0ull);
  std::clock_t c1 = std::clock();
  auto t1 = std::chrono::steady_clock::now();
  // CPU time as well as wall time: this machine is shared, wall time is noisy.
  double cpu_secs = double(c1 - c0) / CLOCKS_PER_SEC;
  BOOST_TEST(int(e) == int(core::VcpuExit::kHalted));
  double secs = std::chrono::duration<double>(t1 - t0).count();
  uint64_t n = m.st().icount;
  BOOST_TEST(n >= expect_min_insns);
  std::printf("interp speed [%s]: %llu instructions, wall %.3f s = %.1f M instr/s, cpu %.3f s = %.1f M instr/s\n",
              name, static_cast<unsigned long long>(n), secs, n / secs / 1e6, cpu_secs, n / cpu_secs / 1e6);
}

}  // namespace

BOOST_AUTO_TEST_CASE(add_dec_jnz_loop) {
  measure("add/dec/jnz", R"(.code32
    mov $100000000, %ecx
    xor %eax, %eax
  1: add %ecx, %eax
    dec %ecx
    jnz 1b
    hlt
  )", 300000000);
}

BOOST_AUTO_TEST_CASE(checksum_loop_with_memory) {
  // A byte checksum over 64 KiB, 200 times: loads, shifts, xor, compare.
  measure("checksum", R"(.code32
    mov $200, %edi
  2: mov $0x10000, %esi
    xor %eax, %eax
  1: movzbl (%esi), %edx
    rol $5, %eax
    xor %edx, %eax
    add $1, %esi
    cmp $0x20000, %esi
    jne 1b
    dec %edi
    jnz 2b
    hlt
  )", 200ull * 65536 * 6);
}
