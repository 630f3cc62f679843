// Small file and seed helpers shared by the integration tests. Header-only:
// failures are reported through the including test's Boost.Test module.
#pragma once

#include <stdlib.h>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

namespace rwd::testing {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_TEST_REQUIRE(in.good(), "cannot read " << path);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline void write_file(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), std::streamsize(data.size()));
  BOOST_TEST_REQUIRE(out.good(), "cannot write " << path);
}

// A fresh directory for one test's files, removed when the test ends.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    std::string pattern = (std::filesystem::temp_directory_path() / ("rewind_" + tag + "_XXXXXX")).string();
    BOOST_TEST_REQUIRE(mkdtemp(pattern.data()) != nullptr, "mkdtemp " << pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The seed named by environment variable `env_var`, or a fresh random one:
// tests print it so a failing run can be repeated.
inline uint64_t seed_from_env_or_random(const char* env_var) {
  if (const char* s = std::getenv(env_var); s && *s) return std::strtoull(s, nullptr, 0);
  std::random_device rd;
  return (uint64_t(rd()) << 32) ^ rd() ^ uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace rwd::testing
