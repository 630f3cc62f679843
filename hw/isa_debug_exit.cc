#include "hw/isa_debug_exit.h"

#include <charconv>
#include <cstdio>
#include <string>

#include "hw/config_error.h"

namespace rwd::hw {

namespace {

// "0x501", "0X501" or "1281" (QEMU's integer properties accept both).
uint64_t parse_number(const std::string& key, const std::string& text) {
  std::string_view digits = text;
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    digits.remove_prefix(2);
    base = 16;
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    throw ConfigError(std::string(IsaDebugExit::kDriver) + ": " + key + "='" + text +
                      "' is not a number (expected e.g. 0x501 or 1281)");
  }
  return value;
}

std::string hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

}  // namespace

IsaDebugExit::Placement IsaDebugExit::parse(const core::DeviceConfig& config) {
  uint64_t iobase = kQemuDefaultBase;
  uint64_t iosize = kQemuDefaultSize;
  for (const auto& [key, value] : config.properties) {
    if (key == "iobase") {
      iobase = parse_number(key, value);
    } else if (key == "iosize") {
      iosize = parse_number(key, value);
    } else {
      throw ConfigError(std::string(kDriver) + ": unknown property '" + key + "' (known: iobase, iosize)");
    }
  }
  if (iobase > 0xffff) {
    throw ConfigError(std::string(kDriver) + ": iobase=" + config.properties.at("iobase") +
                      " is beyond the 64 KiB I/O port space");
  }
  // Compared without forming iobase + iosize, which a huge iosize overflows.
  if (iosize == 0 || iosize > 0x10000 - iobase) {
    throw ConfigError(std::string(kDriver) + ": iosize=" + hex(iosize) + " does not fit the I/O port space at iobase " +
                      hex(iobase) + " (ports end at 0xffff)");
  }
  return Placement{static_cast<uint16_t>(iobase), static_cast<uint32_t>(iosize)};
}

core::AccessRules IsaDebugExit::access_rules() {
  core::AccessRules rules;
  rules.valid_min = 1;
  rules.valid_max = 4;
  rules.impl_min = 1;
  rules.impl_max = 4;
  return rules;
}

void IsaDebugExit::write(uint64_t offset, uint64_t value, unsigned size) {
  run_control_.request_exit(static_cast<int>(static_cast<uint32_t>((value << 1) | 1)));
}

}  // namespace rwd::hw
