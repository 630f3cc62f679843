// core/memory.h: the address-space contract devices and vCPUs rely on —
// little-endian RAM, bus float on holes, priority-ordered overlaps, accesses
// split across regions, and AccessRules (refusal, splitting, widening).
#define BOOST_TEST_MODULE core_memory
#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "core/memory.h"

using rwd::core::AccessRules;
using rwd::core::AddressSpace;
using rwd::core::RegionOps;

namespace {

// A device backed by a little-endian register file that logs every call, so a
// test can see exactly which (offset, size) pairs the address space produced.
class LoggingDevice : public RegionOps {
 public:
  struct Call {
    bool is_write;
    uint64_t offset;
    unsigned size;
    uint64_t value;
    bool operator==(const Call&) const = default;
  };

  explicit LoggingDevice(size_t bytes = 64) : regs(bytes) {
    for (size_t i = 0; i < bytes; ++i) regs[i] = static_cast<uint8_t>(0xA0 + i);
  }

  uint64_t read(uint64_t offset, unsigned size) override {
    uint64_t v = 0;
    for (unsigned i = 0; i < size; ++i) v |= uint64_t(byte_at(offset + i)) << (8 * i);
    calls.push_back({false, offset, size, v});
    return v;
  }
  void write(uint64_t offset, uint64_t value, unsigned size) override {
    calls.push_back({true, offset, size, value});
    for (unsigned i = 0; i < size; ++i) byte_at(offset + i) = static_cast<uint8_t>(value >> (8 * i));
  }

  uint8_t& byte_at(uint64_t offset) {
    BOOST_REQUIRE_LT(offset, regs.size());
    return regs[offset];
  }
  // Little-endian value of regs[offset, offset+size).
  uint64_t le(uint64_t offset, unsigned size) const {
    uint64_t v = 0;
    for (unsigned i = 0; i < size; ++i) v |= uint64_t(regs[offset + i]) << (8 * i);
    return v;
  }

  std::vector<uint8_t> regs;
  std::vector<Call> calls;
};

std::ostream& operator<<(std::ostream& os, const LoggingDevice::Call& c) {
  return os << (c.is_write ? "write(" : "read(") << c.offset << ", " << c.size << ") = 0x" << std::hex
            << c.value << std::dec;
}

constexpr uint64_t kOnes1 = 0xFF, kOnes2 = 0xFFFF, kOnes4 = 0xFFFFFFFF, kOnes8 = ~0ull;

}  // namespace

BOOST_AUTO_TEST_CASE(ram_reads_and_writes_are_little_endian_for_every_size) {
  std::vector<uint8_t> ram(0x1000, 0);
  AddressSpace as("memory", ~0ull);
  as.add_ram("ram", 0x10000, ram.size(), ram.data());

  as.write(0x10000, 0x1122334455667788ull, 8);
  const uint8_t expected8[] = {0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
  BOOST_TEST(std::memcmp(ram.data(), expected8, 8) == 0);

  BOOST_TEST(as.read(0x10000, 8) == 0x1122334455667788ull);
  BOOST_TEST(as.read(0x10000, 4) == 0x55667788u);
  BOOST_TEST(as.read(0x10004, 4) == 0x11223344u);
  BOOST_TEST(as.read(0x10002, 2) == 0x5566u);
  BOOST_TEST(as.read(0x10007, 1) == 0x11u);
  // Unaligned RAM accesses are fine.
  BOOST_TEST(as.read(0x10003, 4) == 0x22334455u);

  as.write(0x10100, 0xBEEF, 2);
  BOOST_TEST(ram[0x100] == 0xEF);
  BOOST_TEST(ram[0x101] == 0xBE);
  as.write(0x10201, 0xCAFEF00D, 4);
  BOOST_TEST(ram[0x201] == 0x0D);
  BOOST_TEST(ram[0x204] == 0xCA);
}

BOOST_AUTO_TEST_CASE(narrow_ram_writes_ignore_high_bits_of_the_value) {
  // The guest hands a full register to a 1-byte store: neighbours must not change.
  std::vector<uint8_t> ram(16, 0x5A);
  AddressSpace as("memory", ~0ull);
  as.add_ram("ram", 0, ram.size(), ram.data());
  as.write(4, 0xFFFFFFFFFFFFFF12ull, 1);
  as.write(8, 0xFFFFFFFFFFFF3412ull, 2);
  BOOST_TEST(ram[3] == 0x5A);
  BOOST_TEST(ram[4] == 0x12);
  BOOST_TEST(ram[5] == 0x5A);
  BOOST_TEST(ram[8] == 0x12);
  BOOST_TEST(ram[9] == 0x34);
  BOOST_TEST(ram[10] == 0x5A);
  BOOST_TEST(as.read(4, 1) == 0x12u);  // reads return only `size` bytes
  BOOST_TEST(as.read(8, 2) == 0x3412u);
}

BOOST_AUTO_TEST_CASE(unmapped_reads_float_to_all_ones_and_writes_are_dropped_and_counted) {
  std::vector<uint8_t> ram(0x1000, 0x11);
  AddressSpace as("memory", ~0ull);
  as.add_ram("ram", 0x1000, ram.size(), ram.data());

  BOOST_TEST(as.read(0x5000, 1) == kOnes1);
  BOOST_TEST(as.read(0x5000, 2) == kOnes2);
  BOOST_TEST(as.read(0x5000, 4) == kOnes4);
  BOOST_TEST(as.read(0x5000, 8) == kOnes8);
  BOOST_TEST(as.read(0, 4) == kOnes4);  // below the only region
  BOOST_TEST(as.stats().unassigned_reads == 5u);
  BOOST_TEST(as.stats().unassigned_writes == 0u);

  as.write(0x5000, 0x1234, 2);
  as.write(0x0FF8, 0x42, 1);
  BOOST_TEST(as.stats().unassigned_writes == 2u);
  BOOST_TEST(as.stats().refused_reads == 0u);
  BOOST_TEST(as.stats().refused_writes == 0u);
  // The dropped writes went nowhere near RAM.
  for (uint8_t b : ram) BOOST_REQUIRE_EQUAL(b, 0x11);
  BOOST_TEST(as.lookup(0x5000) == nullptr);
}

BOOST_AUTO_TEST_CASE(ram_accesses_are_not_counted_as_unassigned) {
  std::vector<uint8_t> ram(0x100);
  AddressSpace as("memory", ~0ull);
  as.add_ram("ram", 0, ram.size(), ram.data());
  as.write(0, 1, 8);
  as.read(0, 8);
  BOOST_TEST(as.stats().unassigned_reads == 0u);
  BOOST_TEST(as.stats().unassigned_writes == 0u);
}

BOOST_AUTO_TEST_CASE(higher_priority_region_wins_an_overlap_whatever_the_order_added) {
  for (bool mmio_first : {false, true}) {
    BOOST_TEST_CONTEXT("mmio added first: " << mmio_first) {
      std::vector<uint8_t> ram(0x3000);
      for (size_t i = 0; i < ram.size(); ++i) ram[i] = static_cast<uint8_t>(i >> 4);
      LoggingDevice dev;
      AddressSpace as("memory", ~0ull);
      if (mmio_first) as.add_io("dev", 0x1000, 0x40, &dev, {}, /*priority=*/1);
      as.add_ram("ram", 0, ram.size(), ram.data(), /*priority=*/0);
      if (!mmio_first) as.add_io("dev", 0x1000, 0x40, &dev, {}, /*priority=*/1);

      BOOST_TEST(as.read(0x1000, 1) == dev.regs[0]);
      BOOST_TEST(as.read(0x103F, 1) == dev.regs[0x3F]);
      BOOST_TEST(dev.calls.size() == 2u);
      BOOST_TEST(dev.calls[1].offset == 0x3Fu);  // device-relative offsets
      // Either side of the window is RAM, at the right offset into the block.
      BOOST_TEST(as.read(0x0FFF, 1) == ram[0x0FFF]);
      BOOST_TEST(as.read(0x1040, 1) == ram[0x1040]);
      BOOST_TEST(as.read(0x2FFF, 1) == ram[0x2FFF]);
      // A RAM write under the window does not reach RAM.
      as.write(0x1010, 0x77, 1);
      BOOST_TEST(ram[0x1010] == static_cast<uint8_t>(0x1010 >> 4));
      BOOST_TEST(dev.regs[0x10] == 0x77);
    }
  }
}

BOOST_AUTO_TEST_CASE(lower_priority_region_added_later_stays_hidden) {
  std::vector<uint8_t> ram(0x2000, 0x33);
  LoggingDevice dev;
  AddressSpace as("memory", ~0ull);
  as.add_ram("ram", 0, ram.size(), ram.data(), /*priority=*/5);
  as.add_io("dev", 0x1000, 0x40, &dev, {}, /*priority=*/-1);
  BOOST_TEST(as.read(0x1000, 1) == 0x33u);
  BOOST_TEST(dev.calls.empty());
}

BOOST_AUTO_TEST_CASE(equal_priority_overlap_goes_to_the_region_added_later) {
  {
    std::vector<uint8_t> ram(0x2000, 0x44);
    LoggingDevice dev;
    AddressSpace as("memory", ~0ull);
    as.add_ram("ram", 0, ram.size(), ram.data());
    as.add_io("dev", 0x1000, 0x40, &dev);
    BOOST_TEST(as.read(0x1001, 1) == dev.regs[1]);
  }
  {
    std::vector<uint8_t> ram(0x2000, 0x44);
    LoggingDevice dev;
    AddressSpace as("memory", ~0ull);
    as.add_io("dev", 0x1000, 0x40, &dev);
    as.add_ram("ram", 0, ram.size(), ram.data());
    BOOST_TEST(as.read(0x1001, 1) == 0x44u);
    BOOST_TEST(dev.calls.empty());
  }
}

BOOST_AUTO_TEST_CASE(partially_overlapping_ram_keeps_offsets_of_the_visible_parts) {
  // Two RAM blocks of equal priority, the second overlapping the first's tail:
  // [0, 0x1000) from A, [0x1000, 0x3000) from B.
  std::vector<uint8_t> a(0x2000, 0xAA), b(0x2000, 0xBB);
  b[0] = 0xB0;
  b[0x1FFF] = 0xBF;
  a[0x0FFF] = 0xAF;
  AddressSpace as("memory", ~0ull);
  as.add_ram("a", 0, a.size(), a.data());
  as.add_ram("b", 0x1000, b.size(), b.data());
  BOOST_TEST(as.read(0x0FFF, 1) == 0xAFu);
  BOOST_TEST(as.read(0x1000, 1) == 0xB0u);
  BOOST_TEST(as.read(0x2FFF, 1) == 0xBFu);
  BOOST_TEST(as.read(0x3000, 1) == kOnes1);
}

BOOST_AUTO_TEST_CASE(remove_unmaps_a_region_and_uncovers_what_was_below) {
  std::vector<uint8_t> ram(0x2000, 0x55);
  LoggingDevice dev;
  AddressSpace as("memory", ~0ull);
  as.add_ram("ram", 0, ram.size(), ram.data());
  as.add_io("dev", 0x1000, 0x40, &dev, {}, 1);
  BOOST_TEST(as.read(0x1000, 1) == dev.regs[0]);

  as.remove("dev");
  BOOST_TEST(as.read(0x1000, 1) == 0x55u);
  BOOST_TEST(as.lookup(0x1000) != nullptr);
  BOOST_TEST(as.lookup(0x1000)->region->name == "ram");

  as.remove("ram");
  BOOST_TEST(as.lookup(0x1000) == nullptr);
  BOOST_TEST(as.read(0x1000, 4) == kOnes4);
  BOOST_TEST(as.flat_view().empty());
  as.remove("no-such-region");  // harmless
}

BOOST_AUTO_TEST_CASE(access_straddling_ram_and_mmio_is_split_per_byte) {
  std::vector<uint8_t> ram(0x1000);
  ram[0xFFE] = 0x01;
  ram[0xFFF] = 0x02;
  LoggingDevice dev;
  AddressSpace as("memory", ~0ull);
  as.add_ram("ram", 0, ram.size(), ram.data());
  as.add_io("dev", 0x1000, 0x40, &dev);

  uint64_t expected = 0x01 | 0x02 << 8 | uint64_t(dev.regs[0]) << 16 | uint64_t(dev.regs[1]) << 24;
  BOOST_TEST(as.read(0xFFE, 4) == expected);
  // Only the device's own bytes reached it, at offsets 0 and 1.
  for (const auto& c : dev.calls) {
    BOOST_TEST(!c.is_write);
    BOOST_TEST(c.offset + c.size <= 2u);
  }

  dev.calls.clear();
  as.write(0xFFE, 0xAABBCCDD, 4);
  BOOST_TEST(ram[0xFFE] == 0xDD);
  BOOST_TEST(ram[0xFFF] == 0xCC);
  BOOST_TEST(dev.regs[0] == 0xBB);
  BOOST_TEST(dev.regs[1] == 0xAA);
  BOOST_TEST(dev.regs[2] == 0xA2);  // untouched
  for (const auto& c : dev.calls) BOOST_TEST(c.offset + c.size <= 2u);
}

BOOST_AUTO_TEST_CASE(access_straddling_ram_and_a_hole_floats_only_the_hole_bytes) {
  std::vector<uint8_t> ram(0x1000, 0);
  ram[0] = 0x10;
  ram[1] = 0x11;
  ram[0xFFE] = 0xE0;
  ram[0xFFF] = 0xE1;
  AddressSpace as("memory", ~0ull);
  as.add_ram("ram", 0x1000, ram.size(), ram.data());

  // Tail: RAM then hole.
  BOOST_TEST(as.read(0x1FFE, 4) == 0xFFFFE1E0ull);
  BOOST_TEST(as.read(0x1FFF, 8) == 0xFFFFFFFFFFFFFFE1ull);
  // Head: hole then RAM.
  BOOST_TEST(as.read(0x0FFE, 4) == 0x1110FFFFull);
  BOOST_TEST(as.stats().unassigned_reads > 0u);

  uint64_t writes_before = as.stats().unassigned_writes;
  as.write(0x1FFE, 0x44332211, 4);
  BOOST_TEST(ram[0xFFE] == 0x11);
  BOOST_TEST(ram[0xFFF] == 0x22);
  as.write(0x0FFF, 0x7766, 2);
  BOOST_TEST(ram[0] == 0x77);
  BOOST_TEST(ram[1] == 0x11);
  BOOST_TEST(as.stats().unassigned_writes > writes_before);
}

BOOST_AUTO_TEST_CASE(access_rules_refuse_sizes_outside_valid_range) {
  LoggingDevice dev;
  AccessRules rules;
  rules.valid_min = 2;
  rules.valid_max = 4;
  AddressSpace as("memory", ~0ull);
  as.add_io("dev", 0x1000, 0x40, &dev, rules);

  BOOST_TEST(as.read(0x1000, 1) == kOnes1);
  BOOST_TEST(as.read(0x1000, 8) == kOnes8);
  BOOST_TEST(as.stats().refused_reads == 2u);
  as.write(0x1000, 0x12, 1);
  as.write(0x1000, 0x1122334455667788ull, 8);
  BOOST_TEST(as.stats().refused_writes == 2u);
  BOOST_TEST(dev.calls.empty());
  BOOST_TEST(dev.regs[0] == 0xA0);  // nothing written
  // Refusals are not "unassigned": something is there.
  BOOST_TEST(as.stats().unassigned_reads == 0u);
  BOOST_TEST(as.stats().unassigned_writes == 0u);

  // Sizes inside the range go through.
  BOOST_TEST(as.read(0x1000, 2) == dev.le(0, 2));
  BOOST_TEST(as.read(0x1000, 4) == dev.le(0, 4));
  BOOST_TEST(dev.calls.size() == 2u);
}

BOOST_AUTO_TEST_CASE(access_rules_refuse_unaligned_accesses_when_not_allowed) {
  LoggingDevice dev;
  AccessRules rules;
  rules.unaligned_ok = false;
  AddressSpace as("memory", ~0ull);
  as.add_io("dev", 0x2000, 0x40, &dev, rules);

  BOOST_TEST(as.read(0x2001, 2) == kOnes2);
  BOOST_TEST(as.read(0x2002, 4) == kOnes4);
  BOOST_TEST(as.read(0x2004, 8) == kOnes8);
  as.write(0x2006, 0xDEAD, 4);
  BOOST_TEST(as.stats().refused_reads == 3u);
  BOOST_TEST(as.stats().refused_writes == 1u);
  BOOST_TEST(dev.calls.empty());

  // Byte accesses are always aligned; naturally aligned wider ones go through.
  BOOST_TEST(as.read(0x2003, 1) == dev.regs[3]);
  BOOST_TEST(as.read(0x2004, 4) == dev.le(4, 4));
  BOOST_TEST(as.read(0x2008, 8) == dev.le(8, 8));
  as.write(0x2010, 0xBEEF, 2);
  BOOST_TEST(dev.le(0x10, 2) == 0xBEEFu);
  BOOST_TEST(as.stats().refused_reads == 3u);
}

BOOST_AUTO_TEST_CASE(unaligned_rule_is_judged_on_the_offset_within_the_region) {
  // A region based at an odd address: offset 0 is aligned for the device.
  LoggingDevice dev;
  AccessRules rules;
  rules.unaligned_ok = false;
  AddressSpace as("io", 0x10000);
  as.add_io("dev", 0x1F1, 0x10, &dev, rules);
  BOOST_TEST(as.read(0x1F1, 2) == dev.le(0, 2));
  BOOST_TEST(as.stats().refused_reads == 0u);
}

BOOST_AUTO_TEST_CASE(wide_access_is_split_into_impl_max_pieces) {
  LoggingDevice dev;
  AccessRules rules;
  rules.impl_max = 4;
  AddressSpace as("memory", ~0ull);
  as.add_io("dev", 0x3000, 0x40, &dev, rules);

  BOOST_TEST(as.read(0x3008, 8) == dev.le(8, 8));
  BOOST_REQUIRE_EQUAL(dev.calls.size(), 2u);
  BOOST_TEST(dev.calls[0] == (LoggingDevice::Call{false, 8, 4, dev.le(8, 4)}));
  BOOST_TEST(dev.calls[1] == (LoggingDevice::Call{false, 12, 4, dev.le(12, 4)}));

  dev.calls.clear();
  as.write(0x3010, 0x1122334455667788ull, 8);
  BOOST_REQUIRE_EQUAL(dev.calls.size(), 2u);
  BOOST_TEST(dev.calls[0] == (LoggingDevice::Call{true, 0x10, 4, 0x55667788}));
  BOOST_TEST(dev.calls[1] == (LoggingDevice::Call{true, 0x14, 4, 0x11223344}));
  BOOST_TEST(dev.le(0x10, 8) == 0x1122334455667788ull);

  // impl_max 1: a 4-byte access becomes four byte accesses, in address order.
  LoggingDevice bytes;
  AccessRules byte_rules;
  byte_rules.impl_max = 1;
  as.add_io("bytes", 0x4000, 0x10, &bytes, byte_rules);
  as.write(0x4004, 0xDDCCBBAA, 4);
  BOOST_REQUIRE_EQUAL(bytes.calls.size(), 4u);
  for (unsigned i = 0; i < 4; ++i) {
    BOOST_TEST(bytes.calls[i].offset == 4u + i);
    BOOST_TEST(bytes.calls[i].size == 1u);
    BOOST_TEST(bytes.calls[i].value == 0xAAu + 0x11u * i);
  }
}

BOOST_AUTO_TEST_CASE(device_never_sees_sizes_outside_impl_range) {
  // A device with impl 2..2 driven with every size at every offset.
  class StrictDevice : public LoggingDevice {
   public:
    uint64_t read(uint64_t offset, unsigned size) override {
      BOOST_CHECK_EQUAL(size, 2u);
      return LoggingDevice::read(offset, size);
    }
    void write(uint64_t offset, uint64_t value, unsigned size) override {
      BOOST_CHECK_EQUAL(size, 2u);
      BOOST_CHECK_LE(value, 0xFFFFu);
      LoggingDevice::write(offset, value, size);
    }
  } dev;
  AccessRules rules;
  rules.impl_min = 2;
  rules.impl_max = 2;
  AddressSpace as("memory", ~0ull);
  as.add_io("dev", 0, 0x40, &dev, rules);
  for (unsigned size : {1u, 2u, 4u, 8u})
    for (uint64_t off = 0; off < 8; off += size) {
      as.read(0x10 + off, size);
      as.write(0x10 + off, ~0ull, size);
    }
}

BOOST_AUTO_TEST_CASE(narrow_read_is_widened_to_impl_min_and_the_right_bytes_returned) {
  LoggingDevice dev;
  AccessRules rules;
  rules.impl_min = 4;
  AddressSpace as("memory", ~0ull);
  as.add_io("dev", 0x5000, 0x40, &dev, rules);

  BOOST_TEST(as.read(0x5002, 1) == dev.regs[2]);
  BOOST_REQUIRE_EQUAL(dev.calls.size(), 1u);
  BOOST_TEST(dev.calls[0].offset == 0u);  // the aligned word containing the byte
  BOOST_TEST(dev.calls[0].size == 4u);

  dev.calls.clear();
  BOOST_TEST(as.read(0x5007, 1) == dev.regs[7]);
  BOOST_REQUIRE_EQUAL(dev.calls.size(), 1u);
  BOOST_TEST(dev.calls[0].offset == 4u);
  BOOST_TEST(dev.calls[0].size == 4u);

  dev.calls.clear();
  BOOST_TEST(as.read(0x5006, 2) == dev.le(6, 2));
  BOOST_REQUIRE_EQUAL(dev.calls.size(), 1u);
  BOOST_TEST(dev.calls[0].offset == 4u);
}

BOOST_AUTO_TEST_CASE(narrow_write_is_a_read_modify_write_of_impl_min) {
  LoggingDevice dev;
  AccessRules rules;
  rules.impl_min = 4;
  AddressSpace as("memory", ~0ull);
  as.add_io("dev", 0x5000, 0x40, &dev, rules);

  uint64_t before = dev.le(4, 4);
  // High bits of the value must not leak into the neighbouring bytes.
  as.write(0x5005, 0xFFFFFF5Bull, 1);
  BOOST_REQUIRE_EQUAL(dev.calls.size(), 2u);
  BOOST_TEST(dev.calls[0] == (LoggingDevice::Call{false, 4, 4, before}));
  uint64_t merged = (before & ~0xFF00ull) | 0x5B00;
  BOOST_TEST(dev.calls[1] == (LoggingDevice::Call{true, 4, 4, merged}));
  BOOST_TEST(dev.regs[4] == 0xA4);
  BOOST_TEST(dev.regs[5] == 0x5B);
  BOOST_TEST(dev.regs[6] == 0xA6);

  dev.calls.clear();
  as.write(0x500A, 0xFFFF1234ull, 2);
  BOOST_REQUIRE_EQUAL(dev.calls.size(), 2u);
  BOOST_TEST(dev.calls[1].offset == 8u);
  BOOST_TEST(dev.le(8, 4) == (0x1234ull << 16 | 0xA9A8));
}

BOOST_AUTO_TEST_CASE(narrow_access_crossing_an_impl_min_boundary_reaches_both_words) {
  // A 2-byte access at offset 3 of a 4-byte-only device covers bytes 3 and 4,
  // which live in two different device words: both must be read (and, for a
  // write, both updated), and the device still only sees 4-byte accesses.
  LoggingDevice dev;
  AccessRules rules;
  rules.impl_min = 4;
  rules.impl_max = 4;
  AddressSpace as("memory", ~0ull);
  as.add_io("dev", 0x6000, 0x40, &dev, rules);

  BOOST_TEST(as.read(0x6003, 2) == dev.le(3, 2));

  as.write(0x6003, 0x7766, 2);
  BOOST_TEST(dev.regs[2] == 0xA2);
  BOOST_TEST(dev.regs[3] == 0x66);
  BOOST_TEST(dev.regs[4] == 0x77);
  BOOST_TEST(dev.regs[5] == 0xA5);
  for (const auto& c : dev.calls) {
    BOOST_TEST(c.size == 4u);
    BOOST_TEST(c.value <= kOnes4);
  }
}

BOOST_AUTO_TEST_CASE(ram_pointer_only_for_ranges_inside_one_ram_region) {
  std::vector<uint8_t> ram(0x1000), ram2(0x1000);
  LoggingDevice dev;
  AddressSpace as("memory", ~0ull);
  as.add_ram("ram", 0x1000, ram.size(), ram.data());
  as.add_ram("ram2", 0x2000, ram2.size(), ram2.data());  // adjacent, separate block
  as.add_io("dev", 0x8000, 0x40, &dev);

  BOOST_TEST(as.ram_pointer(0x1000, 0x1000) == ram.data());
  BOOST_TEST(as.ram_pointer(0x1FFF, 1) == ram.data() + 0xFFF);
  BOOST_TEST(as.ram_pointer(0x1800, 0x800) == ram.data() + 0x800);
  BOOST_TEST(as.ram_pointer(0x2000, 1) == ram2.data());
  // Past the end, before the start, across two regions, or not RAM at all.
  BOOST_TEST(as.ram_pointer(0x1000, 0x1001) == nullptr);
  BOOST_TEST(as.ram_pointer(0x1FFF, 2) == nullptr);
  BOOST_TEST(as.ram_pointer(0x0FFF, 2) == nullptr);
  BOOST_TEST(as.ram_pointer(0x0FFF, 1) == nullptr);
  BOOST_TEST(as.ram_pointer(0x8000, 4) == nullptr);
  BOOST_TEST(as.ram_pointer(0x9000, 1) == nullptr);
  // A length that would wrap the address computation.
  BOOST_TEST(as.ram_pointer(0x1800, ~0ull) == nullptr);
  BOOST_TEST(as.ram_pointer(0x1800, 1ull << 63) == nullptr);
}

BOOST_AUTO_TEST_CASE(ram_pointer_respects_mmio_windows_over_ram) {
  std::vector<uint8_t> ram(0x3000);
  LoggingDevice dev;
  AddressSpace as("memory", ~0ull);
  as.add_ram("ram", 0, ram.size(), ram.data());
  as.add_io("dev", 0x1000, 0x1000, &dev, {}, 1);
  BOOST_TEST(as.ram_pointer(0x0800, 0x800) == ram.data() + 0x800);
  BOOST_TEST(as.ram_pointer(0x0800, 0x801) == nullptr);  // runs into the window
  BOOST_TEST(as.ram_pointer(0x1000, 1) == nullptr);
  BOOST_TEST(as.ram_pointer(0x2000, 0x1000) == ram.data() + 0x2000);
}

BOOST_AUTO_TEST_CASE(bulk_copies_cross_ram_holes_and_devices) {
  // [0x1000,0x1100) RAM a, [0x1100,0x1200) hole, [0x1200,0x1210) device,
  // [0x1210,0x1300) RAM b.
  std::vector<uint8_t> a(0x100, 0), b(0xF0, 0);
  LoggingDevice dev(0x10);
  AddressSpace as("memory", ~0ull);
  as.add_ram("a", 0x1000, a.size(), a.data());
  as.add_io("dev", 0x1200, 0x10, &dev);
  as.add_ram("b", 0x1210, b.size(), b.data());

  std::vector<uint8_t> src(0x200);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 7 + 3);
  const uint64_t start = 0x10F0;
  as.write_bytes(start, src.data(), src.size());

  for (uint64_t addr = start; addr < start + src.size(); ++addr) {
    uint8_t want = src[addr - start];
    BOOST_TEST_CONTEXT("addr 0x" << std::hex << addr) {
      if (addr < 0x1100) BOOST_TEST(a[addr - 0x1000] == want);
      else if (addr >= 0x1200 && addr < 0x1210) BOOST_TEST(dev.regs[addr - 0x1200] == want);
      else if (addr >= 0x1210 && addr < 0x1300) BOOST_TEST(b[addr - 0x1210] == want);
    }
  }
  BOOST_TEST(a[0xEF] == 0);  // nothing before the start
  BOOST_TEST(as.stats().unassigned_writes > 0u);

  std::vector<uint8_t> back(src.size(), 0);
  as.read_bytes(start, back.data(), back.size());
  for (uint64_t addr = start; addr < start + back.size(); ++addr) {
    bool hole = addr >= 0x1100 && addr < 0x1200;
    BOOST_TEST_CONTEXT("addr 0x" << std::hex << addr) {
      BOOST_TEST(back[addr - start] == (hole ? 0xFF : src[addr - start]));
    }
  }
}

BOOST_AUTO_TEST_CASE(bulk_copies_of_zero_bytes_do_nothing) {
  std::vector<uint8_t> ram(0x10, 0x66);
  AddressSpace as("memory", ~0ull);
  as.add_ram("ram", 0, ram.size(), ram.data());
  uint8_t dst = 0x99;
  as.read_bytes(0, &dst, 0);
  as.write_bytes(0, &dst, 0);
  BOOST_TEST(dst == 0x99);
  BOOST_TEST(ram[0] == 0x66);
}

BOOST_AUTO_TEST_CASE(port_space_dispatches_to_devices_and_floats_elsewhere) {
  LoggingDevice uart(8), dbg(4);
  AccessRules byte_rules;
  byte_rules.impl_max = 1;
  AddressSpace io("io", 0x10000);
  BOOST_TEST(io.size() == 0x10000u);
  BOOST_TEST(io.name() == "io");
  io.add_io("uart", 0x3F8, 8, &uart, byte_rules);
  io.add_io("isa-debug-exit", 0xF4, 4, &dbg);

  BOOST_TEST(io.read(0x3FD, 1) == uart.regs[5]);
  BOOST_TEST(uart.calls.back().offset == 5u);
  io.write(0xF4, 0x21, 1);
  BOOST_TEST(dbg.calls.back() == (LoggingDevice::Call{true, 0, 1, 0x21}));

  // A word at the UART's last port: one byte from the device, one floating.
  BOOST_TEST(io.read(0x3FF, 2) == (0xFF00u | uart.regs[7]));
  BOOST_TEST(io.read(0x80, 1) == kOnes1);
  BOOST_TEST(io.read(0xFFFF, 1) == kOnes1);
  BOOST_TEST(io.read(0xFFFC, 4) == kOnes4);

  // A device at the very last ports.
  LoggingDevice top(4);
  io.add_io("top", 0xFFFC, 4, &top);
  BOOST_TEST(io.read(0xFFFC, 4) == top.le(0, 4));
  BOOST_TEST(io.read(0xFFFF, 1) == top.regs[3]);
}

BOOST_AUTO_TEST_CASE(ram_region_at_the_top_of_the_64_bit_space) {
  const uint64_t base = 0xFFFFFFFFFFFFF000ull;
  std::vector<uint8_t> ram(0x1000, 0);
  AddressSpace as("memory", ~0ull);
  as.add_ram("top", base, ram.size(), ram.data());

  const auto* range = as.lookup(~0ull);
  BOOST_REQUIRE(range != nullptr);
  BOOST_TEST(range->start == base);
  BOOST_TEST(range->last == ~0ull);
  BOOST_TEST(as.lookup(base - 1) == nullptr);

  as.write(~0ull - 7, 0x0102030405060708ull, 8);
  BOOST_TEST(ram[0xFF8] == 0x08);
  BOOST_TEST(ram[0xFFF] == 0x01);
  BOOST_TEST(as.read(~0ull - 7, 8) == 0x0102030405060708ull);
  BOOST_TEST(as.read(~0ull, 1) == 0x01u);
  as.write(base, 0xA5, 1);
  BOOST_TEST(ram[0] == 0xA5);
  BOOST_TEST(as.read(base - 2, 4) == (0x0000FFFFull | 0xA5ull << 16));

  BOOST_TEST(as.ram_pointer(base, 0x1000) == ram.data());
  BOOST_TEST(as.ram_pointer(~0ull, 1) == ram.data() + 0xFFF);
  BOOST_TEST(as.ram_pointer(~0ull, 2) == nullptr);

  std::vector<uint8_t> pattern(0x1000);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i ^ 0x5C);
  as.write_bytes(base, pattern.data(), pattern.size());
  BOOST_TEST(ram == pattern);
  std::vector<uint8_t> back(0x1000);
  as.read_bytes(base, back.data(), back.size());
  BOOST_TEST(back == pattern);
  std::array<uint8_t, 8> tail{};
  as.read_bytes(~0ull - 7, tail.data(), tail.size());
  BOOST_TEST(tail[7] == pattern[0xFFF]);
}

BOOST_AUTO_TEST_CASE(mmio_region_at_the_top_of_the_64_bit_space) {
  const uint64_t base = 0xFFFFFFFFFFFFF000ull;
  LoggingDevice dev(0x1000);
  AddressSpace as("memory", ~0ull);
  as.add_io("top", base, 0x1000, &dev);
  BOOST_TEST(as.read(~0ull, 1) == dev.regs[0xFFF]);
  BOOST_TEST(dev.calls.back().offset == 0xFFFu);
  as.write(~0ull - 3, 0x11223344, 4);
  BOOST_TEST(dev.calls.back() == (LoggingDevice::Call{true, 0xFFC, 4, 0x11223344}));
  BOOST_TEST(as.stats().unassigned_reads == 0u);
}

// ROM: the bytes read like RAM (and are readable in place), every write is
// dropped and counted, and no writable pointer is ever handed out.
BOOST_AUTO_TEST_CASE(rom_reads_like_ram_and_drops_writes) {
  AddressSpace space("memory", ~0ull);
  std::array<uint8_t, 0x2000> rom{};
  for (size_t i = 0; i < rom.size(); ++i) rom[i] = uint8_t(i * 7);
  space.add_rom("rom", 0xfffe0000, rom.size(), rom.data());
  BOOST_TEST(space.read(0xfffe0001, 2) == (uint64_t(rom[2]) << 8 | rom[1]));
  space.write(0xfffe0001, 0xbeef, 2);
  space.write_bytes(0xfffe0100, "xyz", 3);
  BOOST_TEST(rom[1] == uint8_t(7));
  BOOST_TEST(rom[0x100] == uint8_t(0x100 * 7));
  BOOST_TEST(space.stats().rom_writes == 4u);  // one word write, three bytes
  BOOST_TEST(space.stats().unassigned_writes == 0u);
  BOOST_TEST(space.ram_pointer(0xfffe0000, 16) == nullptr);
  bool writable = true;
  BOOST_TEST(space.readable_pointer(0xfffe0010, 16, writable) == rom.data() + 0x10);
  BOOST_TEST(!writable);
  uint8_t copy[4];
  space.read_bytes(0xfffe0004, copy, 4);
  BOOST_TEST(std::memcmp(copy, rom.data() + 4, 4) == 0);
}

// An alias shows another region's bytes, or its device, at a second address
// and from an offset into it; RAM written through one is seen through both.
BOOST_AUTO_TEST_CASE(an_alias_shows_its_target_from_an_offset) {
  AddressSpace space("memory", ~0ull);
  std::vector<uint8_t> ram(0x10000);
  space.add_ram("ram", 0, ram.size(), ram.data());
  space.add_alias("ram-window", 0x80000, 0x1000, "ram", 0x3000);
  space.write(0x80010, 0x1234, 2);
  BOOST_TEST(space.read(0x3010, 2) == 0x1234u);
  BOOST_TEST(space.ram_pointer(0x80000, 0x1000) == ram.data() + 0x3000);

  LoggingDevice dev(64);
  space.add_io("dev", 0x100000, 64, &dev);
  space.add_alias("dev-upper-half", 0x200000, 32, "dev", 32);
  BOOST_TEST(space.read(0x200004, 1) == dev.le(36, 1));
  space.write(0x200008, 0x55, 1);
  BOOST_TEST(dev.calls.back() == (LoggingDevice::Call{true, 40, 1, 0x55}));

  BOOST_CHECK_THROW(space.add_alias("nothing", 0x300000, 16, "no-such-region", 0), std::invalid_argument);
  BOOST_CHECK_THROW(space.add_alias("too-long", 0x300000, 33, "dev", 32), std::invalid_argument);
  BOOST_TEST(space.lookup(0x300000) == nullptr);
}
