// InterpCpu: the machine type the semantics are instantiated with in the
// interpreter tier (the glue contract is listed in semantics/operands.h).
// It owns the architectural state, the segment caches derived from it, the
// softmmu TLB and (through PendingEvent) the event of the current instruction.
// Hot paths (segment check + TLB hit) are inline; misses go to interp_cpu.cc.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "core/vcpu.h"
#include "tcg-llvm/interp/block_cache.h"
#include "tcg-llvm/interp/softmmu_tlb.h"
#include "tcg-llvm/semantics/operands.h"
#include "tcg-llvm/semantics/segmentation.h"

namespace rwd::tcg {

class InterpCpu : public CpuStateBase, public PendingEvent {
 public:
  InterpCpu(const core::CpuEnvironment& env, BlockCache& blocks) : env_(env), blocks_(blocks) {}

  // ---- glue contract -------------------------------------------------------
  DecodeMode mode() const { return mode_; }
  unsigned stack_size() const { return stack_size_; }
  bool user() const { return user_; }

  template <unsigned N> bool read(int seg, uint64_t off, U<N>& v) {
    uint64_t lin;
    if (!to_linear(seg, off, N, false, lin)) return false;
    return read_linear<N>(lin, v, user_);
  }
  template <unsigned N> bool read_rmw(int seg, uint64_t off, U<N>& v) {
    uint64_t lin;
    if (!to_linear(seg, off, N, true, lin)) return false;
    TlbEntry& e = tlb_.entry(user_, lin);
    if (e.write_tag == (lin & kPageMask) && (lin & ~kPageMask) <= kPageSize - N) [[likely]] {
      std::memcpy(&v, e.host + (lin & ~kPageMask), N);
      return true;
    }
    if (!probe_write(lin, N)) return false;
    return read_linear<N>(lin, v, user_);
  }
  template <unsigned N> bool write(int seg, uint64_t off, U<N> v) {
    uint64_t lin;
    if (!to_linear(seg, off, N, true, lin)) return false;
    return write_linear<N>(lin, v, user_);
  }
  template <unsigned N> bool read_sys(uint64_t lin, U<N>& v) { return read_linear<N>(truncate(lin), v, false); }
  template <unsigned N> bool write_sys(uint64_t lin, U<N> v) { return write_linear<N>(truncate(lin), v, false); }
  bool check_write(int seg, uint64_t off, unsigned n);
  uint64_t linear_address(int seg, uint64_t off) const { return truncate(seg_base_[seg] + off); }

  uint32_t io_in(uint16_t port, unsigned n);
  void io_out(uint16_t port, unsigned n, uint32_t v);

  void segments_changed();
  void paging_changed(bool flush_global);
  void invlpg(uint64_t linear);
  bool entropy_u64(uint64_t& v) {
    if (!env_.entropy) return false;
    v = env_.entropy->random_u64();
    return true;
  }
  void fpu_error() { env_.fpu_error.raise(); }
  void debug_registers_changed();
  void debug_flags_set() { exit_block = true; }
  // The enabled hardware breakpoints (DR7): instruction breakpoints (bits
  // 0-3) and data breakpoints; with a data breakpoint armed every access takes
  // the slow path, which notes hits in data_hits (DR6 B0-B3) for the tier.
  uint8_t exec_breakpoints() const { return exec_bp_; }
  bool watching() const { return data_bp_ != 0; }
  uint8_t data_hits = 0;
  void unimplemented(const DecodedInsn& d);
  void unimplemented_feature(const char* what);

  // ---- for the vCPU ---------------------------------------------------------
  // Linear PC -> physical address and host pointer for instruction fetch
  // (host is nullptr when the code is not in RAM). Raises #PF on failure.
  bool translate_fetch(uint64_t lin, uint64_t& phys, uint8_t*& host);
  uint64_t code_linear_pc() const { return truncate(seg_base_[kSegCs] + s.rip); }
  // The bits of RIP the current mode has (EIP: 32 outside 64-bit mode).
  uint64_t rip_mask() const { return mode_ == DecodeMode::k64 ? ~0ull : 0xffffffffull; }
  void flush_translations();
  const core::CpuEnvironment& env() const { return env_; }
  SoftmmuTlb& tlb() { return tlb_; }

  // Set when the current instruction reached a device or invalidated code:
  // the block loop ends the block after the instruction retires.
  bool exit_block = false;

 private:
  uint64_t truncate(uint64_t lin) const { return mode_ == DecodeMode::k64 || s.long_mode_active() ? lin : lin & 0xffffffffull; }

  // Inlined into every access: the segment check is the hot path.
  __attribute__((always_inline)) bool to_linear(int seg, uint64_t off, unsigned n, bool write, uint64_t& lin) {
    if (mode_ == DecodeMode::k64) {
      lin = seg_base_[seg] + off;
      if (!canonical(lin)) return fail(*this, seg == kSegSs ? vec::kSs : vec::kGp, 0);
      return true;
    }
    if (off + n - 1 > seg_limit_[seg] || seg_slow_[seg] || (write && seg_readonly_[seg]))
      return to_linear_slow(seg, off, n, write, lin);
    lin = (seg_base_[seg] + off) & 0xffffffffull;
    return true;
  }
  bool to_linear_slow(int seg, uint64_t off, unsigned n, bool write, uint64_t& lin);

  template <unsigned N> bool read_linear(uint64_t lin, U<N>& v, bool user) {
    TlbEntry& e = tlb_.entry(user, lin);
    if (e.read_tag == (lin & kPageMask) && (lin & ~kPageMask) <= kPageSize - N) [[likely]] {
      std::memcpy(&v, e.host + (lin & ~kPageMask), N);
      return true;
    }
    uint64_t x = 0;
    if (!read_slow(lin, N, user, x)) return false;
    v = U<N>(x);
    return true;
  }
  template <unsigned N> bool write_linear(uint64_t lin, U<N> v, bool user) {
    TlbEntry& e = tlb_.entry(user, lin);
    if (e.write_tag == (lin & kPageMask) && (lin & ~kPageMask) <= kPageSize - N) [[likely]] {
      std::memcpy(e.host + (lin & ~kPageMask), &v, N);
      return true;
    }
    return write_slow(lin, N, user, v);
  }
  bool read_slow(uint64_t lin, unsigned n, bool user, uint64_t& v);
  // Faults as a write of n bytes at lin would (both pages), writing nothing.
  bool probe_write(uint64_t lin, unsigned n);
  bool write_slow(uint64_t lin, unsigned n, bool user, uint64_t v);
  // Translation with refill; host is the byte's host address or nullptr.
  bool translate(uint64_t lin, Access access, bool user, uint64_t& phys, uint8_t*& host);
  void write_pte(uint64_t phys, uint64_t v, unsigned n);

  core::CpuEnvironment env_;
  BlockCache& blocks_;
  SoftmmuTlb tlb_;
  DecodeMode mode_ = DecodeMode::k16;
  unsigned stack_size_ = 2;
  bool user_ = false;
  uint8_t exec_bp_ = 0, data_bp_ = 0;
  void note_data_access(uint64_t lin, unsigned n, bool write);
  uint64_t seg_base_[6] = {};
  uint64_t seg_limit_[6] = {};
  bool seg_slow_[6] = {};      // unusable or expand-down: checked in to_linear_slow
  bool seg_readonly_[6] = {};  // code or read-only data (protected mode)
};

}  // namespace rwd::tcg
