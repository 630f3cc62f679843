// The gdbstub's target descriptions (x86-64 and i386), read by Debian's stock gdb: gdb
// must accept it (an incomplete or malformed one is "rejected") and lay the
// registers out -- numbers, sizes, offsets, types -- exactly as the stub
// packs them into 'g' replies.
#define BOOST_TEST_MODULE gdb_target
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "core/x86_cpu_state.h"
#include "tests/integration/subprocess.h"
#include "tools/gdbstub/x86_target.h"

using namespace rwd;
using namespace rwd::testing;

namespace {

struct GdbReg {
  std::string name;
  unsigned size = 0, offset = 0;  // in the 'g' packet
  std::string type;
};

// `maint print remote-registers` with our description loaded: each register
// the remote protocol carries, by its remote number.
std::map<unsigned, GdbReg> gdb_layout(tools::gdb::GdbArch arch, std::string& all_output) {
  struct stat st;
  BOOST_TEST_REQUIRE(stat("/usr/bin/gdb", &st) == 0,
                     "/usr/bin/gdb is missing: install Debian's gdb package (the README's setup does)");
  const std::string path = "gdb-target-test.xml";
  std::ofstream(path) << tools::gdb::target_xml(arch);
  ProcessResult r = run_process({"/usr/bin/gdb", "-batch", "-nx", "-ex", "set tdesc filename " + path, "-ex",
                                 "maint print remote-registers"},
                                {}, 60);
  std::remove(path.c_str());
  all_output = r.out + r.err;
  BOOST_TEST_REQUIRE(r.exit_status == 0, all_output);
  std::map<unsigned, GdbReg> regs;
  std::istringstream in(r.out);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    // Name Nr Rel Offset Size Type [RemoteNr g-offset]
    std::istringstream f(line);
    GdbReg g;
    std::string nr, rel, offset;
    unsigned remote, g_offset;
    if (f >> g.name >> nr >> rel >> offset >> g.size >> g.type >> remote >> g_offset) {
      g.offset = g_offset;
      regs[remote] = g;
    }
  }
  return regs;
}

// Both descriptions: gdb lays every register out where the stub packs it.
void check_layout(tools::gdb::GdbArch arch, const core::X86CpuState& s) {
  std::string output;
  std::map<unsigned, GdbReg> regs = gdb_layout(arch, output);
  BOOST_TEST(output.find("warning") == std::string::npos, output);
  BOOST_TEST(output.find("rejected") == std::string::npos, output);
  const unsigned count = tools::gdb::register_count(arch);
  BOOST_TEST_REQUIRE(regs.size() == count, output);
  const std::string packed = tools::gdb::all_registers(arch, s);
  unsigned offset = 0;
  for (unsigned n = 0; n < count; ++n) {
    const std::string value = *tools::gdb::register_bytes(arch, s, n);
    BOOST_TEST_CONTEXT("register " << n << " (gdb: " << regs[n].name << ")") {
      BOOST_TEST(regs[n].offset == offset);
      BOOST_TEST(regs[n].size == value.size());
      BOOST_TEST(packed.substr(offset, value.size()) == value);
    }
    offset += unsigned(value.size());
  }
  BOOST_TEST(packed.size() == offset);
  BOOST_TEST(!tools::gdb::register_bytes(arch, s, count).has_value());
}

core::X86CpuState sample_state() {
  core::X86CpuState s = core::reset_cpu_state();
  // A distinct value in every general register, RIP and the x87 stack.
  for (int i = 0; i < core::kGprCount; ++i) s.gpr[i] = 0x1111111111111111ull * uint64_t(i + 1);
  s.rip = 0xffffffff81000000ull;
  s.x87.fsw = 6u << 11;  // TOP = 6: st0 is physical register 6
  for (int i = 0; i < 8; ++i) s.x87.st[i][0] = uint8_t(0xa0 + i);
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(stock_gdb_takes_the_x86_64_description) {
  using tools::gdb::GdbArch;
  const core::X86CpuState s = sample_state();
  check_layout(GdbArch::kX86_64, s);
  std::string output;
  std::map<unsigned, GdbReg> regs = gdb_layout(GdbArch::kX86_64, output);
  // The names gdb's amd64 code looks for, where the stub puts them.
  BOOST_TEST(regs[0].name == "rax");
  BOOST_TEST(regs[7].name == "rsp");
  BOOST_TEST(regs[16].name == "rip");
  BOOST_TEST(regs[17].type == "i386_eflags");
  BOOST_TEST(regs[24].name == "st0");
  BOOST_TEST(regs[40].name == "xmm0");
  BOOST_TEST(regs[56].name == "mxcsr");
  BOOST_TEST(regs[57].name == "fs_base");
  BOOST_TEST(regs[59].name == "cr0");
  // The values: rbx is gpr[3]; st0 is physical register 6.
  BOOST_TEST(tools::gdb::register_bytes(GdbArch::kX86_64, s, 1)->substr(0, 1) == std::string(1, char(0x44)));
  BOOST_TEST(uint8_t((*tools::gdb::register_bytes(GdbArch::kX86_64, s, 24))[0]) == 0xa6u);
  BOOST_TEST(uint8_t((*tools::gdb::register_bytes(GdbArch::kX86_64, s, 25))[0]) == 0xa7u);
  BOOST_TEST(uint8_t((*tools::gdb::register_bytes(GdbArch::kX86_64, s, 26))[0]) == 0xa0u);
}

BOOST_AUTO_TEST_CASE(stock_gdb_takes_the_i386_description) {
  using tools::gdb::GdbArch;
  const core::X86CpuState s = sample_state();
  check_layout(GdbArch::kI386, s);
  std::string output;
  std::map<unsigned, GdbReg> regs = gdb_layout(GdbArch::kI386, output);
  BOOST_TEST(regs[0].name == "eax");
  BOOST_TEST(regs[3].name == "ebx");
  BOOST_TEST(regs[8].name == "eip");
  BOOST_TEST(regs[16].name == "st0");
  BOOST_TEST(regs[32].name == "xmm0");
  BOOST_TEST(regs[40].name == "mxcsr");
  BOOST_TEST(tools::gdb::register_bytes(GdbArch::kI386, s, 8)->size() == 4u);  // eip: 32 bits
  BOOST_TEST((tools::gdb::gdb_arch_for(s) == GdbArch::kI386));  // reset state: real mode
}
