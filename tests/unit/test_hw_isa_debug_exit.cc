// isa-debug-exit: the exit status convention and its -device properties.
#define BOOST_TEST_MODULE hw_isa_debug_exit
#include <boost/test/unit_test.hpp>

#include "core/memory.h"
#include "core/run_control.h"
#include "hw/config_error.h"
#include "hw/isa_debug_exit.h"
#include "tests/unit/test_hw_fakes.h"

using namespace rwd;
using hw::IsaDebugExit;

namespace {

core::DeviceConfig device(std::map<std::string, std::string> properties) {
  return core::DeviceConfig{"isa-debug-exit", std::move(properties)};
}

std::string error_of(const core::DeviceConfig& config) {
  try {
    IsaDebugExit::parse(config);
  } catch (const hw::ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

BOOST_AUTO_TEST_CASE(exit_status_is_value_shifted_plus_one) {
  for (auto [value, size, status] : {std::tuple{0u, 1u, 1}, {1u, 1u, 3}, {0x10u, 1u, 0x21}, {0x31u, 4u, 0x63}}) {
    core::RunControl run_control;
    IsaDebugExit dev(run_control);
    core::AddressSpace io("io", 0x10000);
    io.add_io("exit", 0xf4, 4, &dev, IsaDebugExit::access_rules());
    io.write(0xf4, value, size);
    BOOST_TEST(run_control.reason() == core::StopReason::kGuestExit);
    BOOST_TEST(run_control.exit_status() == status);
  }
}

BOOST_AUTO_TEST_CASE(outl_reaches_the_device_whole) {
  core::RunControl run_control;
  IsaDebugExit dev(run_control);
  core::AddressSpace io("io", 0x10000);
  io.add_io("exit", 0xf4, 4, &dev, IsaDebugExit::access_rules());
  io.write(0xf4, 0x100, 4);
  BOOST_TEST(run_control.exit_status() == 0x201);
  BOOST_TEST(io.read(0xf4, 1) == 0u);
}

BOOST_AUTO_TEST_CASE(properties) {
  auto p = IsaDebugExit::parse(device({{"iobase", "0x501"}, {"iosize", "0x02"}}));
  BOOST_TEST(p.iobase == 0x501);
  BOOST_TEST(p.iosize == 2u);
  p = IsaDebugExit::parse(device({{"iobase", "244"}, {"iosize", "4"}}));
  BOOST_TEST(p.iobase == 0xf4);
  BOOST_TEST(p.iosize == 4u);
  p = IsaDebugExit::parse(device({}));  // QEMU's defaults
  BOOST_TEST(p.iobase == 0x501);
  BOOST_TEST(p.iosize == 2u);
}

BOOST_AUTO_TEST_CASE(bad_properties) {
  BOOST_TEST(error_of(device({{"iobase", "zz"}})) ==
             "isa-debug-exit: iobase='zz' is not a number (expected e.g. 0x501 or 1281)");
  BOOST_TEST(error_of(device({{"iobase", "0x"}})).find("not a number") != std::string::npos);
  BOOST_TEST(error_of(device({{"iobase", "12abc"}})).find("not a number") != std::string::npos);
  BOOST_TEST(error_of(device({{"iobase", "0x10000"}})) ==
             "isa-debug-exit: iobase=0x10000 is beyond the 64 KiB I/O port space");
  BOOST_TEST(error_of(device({{"iobase", "0xffff"}, {"iosize", "2"}})).find("does not fit") != std::string::npos);
  BOOST_TEST(error_of(device({{"iosize", "0"}})).find("iosize=0") != std::string::npos);
  BOOST_TEST(error_of(device({{"port", "1"}})) == "isa-debug-exit: unknown property 'port' (known: iobase, iosize)");
}
