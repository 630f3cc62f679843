// replay/host/host_inputs.h: the live-host Inputs, with files standing in for
// the serial console (never the terminal, so the tests run anywhere).
#define BOOST_TEST_MODULE replay_host_inputs
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/machine_config.h"
#include "replay/host/host_inputs.h"

namespace fs = std::filesystem;
using rwd::core::SerialConfig;
using rwd::replay::ByteReceiver;
using rwd::replay::HostInputs;

namespace {

// A fresh directory per test, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "rewind-host-inputs-XXXXXX").string();
    BOOST_REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path file(const std::string& name, const std::vector<uint8_t>& bytes) const {
    fs::path p = path / name;
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p;
  }
};

std::vector<uint8_t> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A UART RX FIFO of `capacity` bytes; the test plays the guest draining it.
class SmallFifo : public ByteReceiver {
 public:
  explicit SmallFifo(size_t capacity) : capacity_(capacity) {}
  bool can_receive() const override { return fifo.size() < capacity_; }
  void receive(uint8_t byte) override {
    if (!can_receive()) ++overruns;  // delivered while full: the byte would be lost
    fifo.push_back(byte);
  }
  void guest_reads_all(std::vector<uint8_t>& into) {
    into.insert(into.end(), fifo.begin(), fifo.end());
    fifo.clear();
  }
  std::vector<uint8_t> fifo;
  size_t overruns = 0;

 private:
  size_t capacity_;
};

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>((i * 131 + 7) ^ (i >> 8));
  return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(file_input_reaches_a_slow_receiver_in_order_without_loss, *boost::unit_test::timeout(30)) {
  TempDir dir;
  // Larger than any plausible read buffer, so refills happen mid-stream.
  const std::vector<uint8_t> input = pattern(5000);
  SerialConfig serial;
  serial.kind = SerialConfig::Kind::kFile;
  serial.path = (dir.path / "out.txt").string();
  serial.input_path = dir.file("in.bin", input).string();

  HostInputs host(serial);
  SmallFifo fifo(3);
  host.attach_console(0, &fifo);
  BOOST_TEST(host.input_may_arrive());

  std::vector<uint8_t> got;
  uint64_t icount = 0;
  int polls = 0;
  while (host.input_may_arrive() && polls < 100000) {
    host.poll(icount += 1000, 0);
    ++polls;
    BOOST_REQUIRE_LE(fifo.fifo.size(), 3u);
    fifo.guest_reads_all(got);
  }
  BOOST_TEST(fifo.overruns == 0u);
  BOOST_TEST(!host.input_may_arrive());  // EOF and nothing held back
  BOOST_REQUIRE_EQUAL(got.size(), input.size());
  BOOST_TEST(got == input);
  // It took many polls: the receiver was never handed more than it could take.
  BOOST_TEST(polls >= static_cast<int>(input.size() / 3));
}

BOOST_AUTO_TEST_CASE(input_is_held_while_the_receiver_is_full, *boost::unit_test::timeout(30)) {
  TempDir dir;
  const std::vector<uint8_t> input = pattern(10);
  SerialConfig serial;
  serial.kind = SerialConfig::Kind::kFile;
  serial.path = (dir.path / "out.txt").string();
  serial.input_path = dir.file("in.bin", input).string();
  HostInputs host(serial);
  SmallFifo fifo(4);
  host.attach_console(0, &fifo);

  // The guest does not read: many polls later it still has exactly 4 bytes,
  // and the rest is still on its way.
  for (int i = 0; i < 20; ++i) BOOST_TEST(host.poll(i, 0));
  BOOST_TEST(fifo.fifo == std::vector<uint8_t>(input.begin(), input.begin() + 4));
  BOOST_TEST(fifo.overruns == 0u);
  BOOST_TEST(host.input_may_arrive());

  std::vector<uint8_t> got;
  for (int i = 0; i < 100 && host.input_may_arrive(); ++i) {
    fifo.guest_reads_all(got);
    host.poll(100 + i, 0);
  }
  fifo.guest_reads_all(got);
  BOOST_TEST(got == input);
  BOOST_TEST(!host.input_may_arrive());
}

BOOST_AUTO_TEST_CASE(empty_input_file_is_eof_after_a_poll, *boost::unit_test::timeout(30)) {
  TempDir dir;
  SerialConfig serial;
  serial.kind = SerialConfig::Kind::kFile;
  serial.path = (dir.path / "out.txt").string();
  serial.input_path = dir.file("empty.bin", {}).string();
  HostInputs host(serial);
  SmallFifo fifo(16);
  host.attach_console(0, &fifo);
  bool alive = true;
  for (int i = 0; i < 10 && alive; ++i) alive = host.poll(i, 0);
  BOOST_TEST(!alive);
  BOOST_TEST(!host.input_may_arrive());
  BOOST_TEST(fifo.fifo.empty());
}

BOOST_AUTO_TEST_CASE(file_output_without_input_file_has_no_input) {
  TempDir dir;
  SerialConfig serial;
  serial.kind = SerialConfig::Kind::kFile;
  serial.path = (dir.path / "out.txt").string();
  HostInputs host(serial);
  SmallFifo fifo(16);
  host.attach_console(0, &fifo);
  BOOST_TEST(!host.poll(0, 0));
  BOOST_TEST(!host.input_may_arrive());
}

BOOST_AUTO_TEST_CASE(output_written_to_the_sink_lands_in_the_file) {
  TempDir dir;
  const fs::path out = dir.path / "serial.log";
  const std::string text("hello from the guest\r\nline two\0with a NUL", 41);
  {
    SerialConfig serial;
    serial.kind = SerialConfig::Kind::kFile;
    serial.path = out.string();
    HostInputs host(serial);
    SmallFifo fifo(16);
    rwd::replay::ByteSink& sink = host.attach_console(0, &fifo);
    sink.write(reinterpret_cast<const uint8_t*>(text.data()), 10);
    sink.write(reinterpret_cast<const uint8_t*>(text.data()) + 10, text.size() - 10);
  }
  std::vector<uint8_t> got = slurp(out);
  BOOST_TEST(std::string(got.begin(), got.end()) == text);
}

BOOST_AUTO_TEST_CASE(binary_output_is_written_byte_exact) {
  TempDir dir;
  const fs::path out = dir.path / "serial.bin";
  const std::vector<uint8_t> bytes = pattern(70000);  // larger than a pipe buffer
  {
    SerialConfig serial;
    serial.kind = SerialConfig::Kind::kFile;
    serial.path = out.string();
    HostInputs host(serial);
    host.attach_console(0, nullptr).write(bytes.data(), bytes.size());
  }
  BOOST_TEST(slurp(out) == bytes);
}

BOOST_AUTO_TEST_CASE(missing_input_file_throws_naming_the_path) {
  TempDir dir;
  SerialConfig serial;
  serial.kind = SerialConfig::Kind::kFile;
  serial.path = (dir.path / "out.txt").string();
  serial.input_path = (dir.path / "no-such-input.bin").string();
  try {
    HostInputs host(serial);
    BOOST_FAIL("a missing input file was accepted");
  } catch (const std::runtime_error& e) {
    std::string msg = e.what();
    BOOST_TEST(msg.find(serial.input_path) != std::string::npos, "message: " << msg);
    BOOST_TEST(msg.find('\n') == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(unwritable_output_path_throws_naming_the_path) {
  TempDir dir;
  SerialConfig serial;
  serial.kind = SerialConfig::Kind::kFile;
  // A path under a directory that does not exist (root can write anywhere else).
  serial.path = (dir.path / "no-such-dir" / "out.txt").string();
  try {
    HostInputs host(serial);
    BOOST_FAIL("an unwritable output path was accepted");
  } catch (const std::runtime_error& e) {
    std::string msg = e.what();
    BOOST_TEST(msg.find(serial.path) != std::string::npos, "message: " << msg);
    BOOST_TEST(msg.find('\n') == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(output_path_that_is_a_directory_throws_naming_the_path) {
  TempDir dir;
  SerialConfig serial;
  serial.kind = SerialConfig::Kind::kFile;
  serial.path = dir.path.string();
  BOOST_CHECK_EXCEPTION(HostInputs{serial}, std::runtime_error, [&](const std::runtime_error& e) {
    return std::string(e.what()).find(serial.path) != std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(serial_none_swallows_output) {
  // Capture what reaches stdout while the sink is written to: nothing must.
  TempDir dir;
  const fs::path captured = dir.path / "stdout.txt";
  std::fflush(stdout);
  std::cout.flush();
  int saved = dup(STDOUT_FILENO);
  BOOST_REQUIRE(saved >= 0);
  FILE* cap = std::fopen(captured.c_str(), "w");
  BOOST_REQUIRE(cap != nullptr);
  dup2(fileno(cap), STDOUT_FILENO);
  {
    SerialConfig serial;
    serial.kind = SerialConfig::Kind::kNone;
    HostInputs host(serial);
    SmallFifo fifo(4);
    rwd::replay::ByteSink& sink = host.attach_console(0, &fifo);
    const std::string text = "this must go nowhere";
    sink.write(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    BOOST_TEST(!host.poll(0, 0));  // no input either
    BOOST_TEST(!host.input_may_arrive());
  }
  dup2(saved, STDOUT_FILENO);
  close(saved);
  std::fclose(cap);
  BOOST_TEST(slurp(captured).empty());
}

BOOST_AUTO_TEST_CASE(start_wall_clock_is_stable_and_plausible) {
  SerialConfig serial;
  serial.kind = SerialConfig::Kind::kNone;
  HostInputs host(serial);
  int64_t first = host.start_wall_clock_ns();
  usleep(2000);
  int64_t second = host.start_wall_clock_ns();
  BOOST_TEST(first == second);  // the moment the run started, not "now"
  constexpr int64_t kJan2020 = 1577836800LL * 1000000000LL;
  BOOST_TEST(first > kJan2020);
  int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  BOOST_TEST(first <= now);
}

BOOST_AUTO_TEST_CASE(random_numbers_vary) {
  SerialConfig serial;
  serial.kind = SerialConfig::Kind::kNone;
  HostInputs host(serial);
  // Four equal 64-bit draws from a real entropy source will not happen.
  uint64_t a = host.random_u64();
  bool varied = false;
  for (int i = 0; i < 3; ++i) varied |= host.random_u64() != a;
  BOOST_TEST(varied);
}
