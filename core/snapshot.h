// Device and machine state for checkpoints: every stateful object of a machine
// (devices, the clock, the timer queue) saves itself into a flat byte stream
// and loads itself back. The stream is explicit field by field (no memcpy of
// structs with padding or pointers), little-endian, and starts with a per-
// object version so a newer rewind can still read an older layout or refuse it
// clearly.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace rwd::core {

class SnapshotError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class StateWriter {
 public:
  void u8(uint8_t v) { put(&v, 1); }
  void u16(uint16_t v) { put(&v, 2); }
  void u32(uint32_t v) { put(&v, 4); }
  void u64(uint64_t v) { put(&v, 8); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void bytes(const void* p, size_t n) { put(p, n); }
  template <class T, size_t N> void array_u8(const T (&a)[N]) {
    static_assert(sizeof(T) == 1);
    put(a, N);
  }

  const std::vector<uint8_t>& data() const { return data_; }
  std::vector<uint8_t> take() { return std::move(data_); }

 private:
  void put(const void* p, size_t n) {
    auto* b = static_cast<const uint8_t*>(p);
    data_.insert(data_.end(), b, b + n);
  }
  std::vector<uint8_t> data_;
};

class StateReader {
 public:
  StateReader(const uint8_t* data, size_t size, std::string what)
      : data_(data), size_(size), what_(std::move(what)) {}

  uint8_t u8() { uint8_t v; get(&v, 1); return v; }
  uint16_t u16() { uint16_t v; get(&v, 2); return v; }
  uint32_t u32() { uint32_t v; get(&v, 4); return v; }
  uint64_t u64() { uint64_t v; get(&v, 8); return v; }
  bool boolean() { return u8() != 0; }
  void bytes(void* p, size_t n) { get(p, n); }
  // A version field: throws unless `min <= v <= max`.
  uint32_t version(uint32_t max_supported) {
    uint32_t v = u32();
    if (v == 0 || v > max_supported)
      throw SnapshotError(what_ + ": state version " + std::to_string(v) + " is not supported (newest known: " +
                          std::to_string(max_supported) + ")");
    return v;
  }
  // Call when done: leftover bytes mean writer and reader disagree.
  void expect_end() const {
    if (pos_ != size_) throw SnapshotError(what_ + ": " + std::to_string(size_ - pos_) + " unexpected bytes at the end of its state");
  }

 private:
  void get(void* p, size_t n) {
    if (n > size_ - pos_) throw SnapshotError(what_ + ": state is truncated");
    std::memcpy(p, data_ + pos_, n);
    pos_ += n;
  }
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string what_;
};

// Something with state in a checkpoint. Names are unique within a machine and
// stable across versions (they key the state in the trace).
class Snapshottable {
 public:
  virtual ~Snapshottable() = default;
  virtual void save_state(StateWriter& out) const = 0;
  // Restores exactly what save_state wrote, including armed timers and IRQ line
  // levels; throws SnapshotError on malformed input.
  virtual void load_state(StateReader& in) = 0;
};

}  // namespace rwd::core
