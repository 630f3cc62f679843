// InterpCpu: the machine type the semantics are instantiated with in the
// interpreter tier (the glue contract is listed in semantics/operands.h).
// It owns the architectural state, the segment caches derived from it, the
// softmmu TLB and (through PendingEvent) the event of the current instruction.
// Hot paths (segment check + TLB hit) are inline; misses go to interp_cpu.cc.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/vcpu.h"
#include "tcg-llvm/interp/block_cache.h"
#include "tcg-llvm/interp/softmmu_tlb.h"
#include "tcg-llvm/semantics/operands.h"
#include "tcg-llvm/semantics/segmentation.h"

namespace rwd::tcg {

class InterpCpu;

// The vCPUs of one machine. Each keeps its own block cache (its jump cache
// follows its own address space), but a page holding code for one is a code
// page for all: a write to it from any vCPU takes the slow path and drops the
// blocks of every vCPU that decoded them (Linux patches kernel text while
// other CPUs run). Only one vCPU runs at a time (core::Machine's turns).
class CodePeers {
 public:
  void join(InterpCpu* cpu) { cpus_.push_back(cpu); }
  void leave(InterpCpu* cpu) { std::erase(cpus_, cpu); }
  bool is_code_page(uint64_t ppage) const;
  // `from` made `ppage` a code page: the others' TLBs stop granting fast writes to it.
  void protect(uint64_t ppage, const InterpCpu* from);
  // `from` wrote [paddr, paddr+len): the others drop blocks decoded from it.
  void invalidate(uint64_t paddr, uint64_t len, const InterpCpu* from);

 private:
  std::vector<InterpCpu*> cpus_;
};

class InterpCpu : public CpuStateBase, public PendingEvent {
 public:
  InterpCpu(const core::CpuEnvironment& env, BlockCache& blocks, std::shared_ptr<CodePeers> peers = nullptr)
      : env_(env), blocks_(blocks), peers_(std::move(peers)) {
    if (peers_) peers_->join(this);
  }
  ~InterpCpu() {
    if (peers_) peers_->leave(this);
  }
  InterpCpu(const InterpCpu&) = delete;
  InterpCpu& operator=(const InterpCpu&) = delete;
  BlockCache& blocks() { return blocks_; }
  const BlockCache& blocks() const { return blocks_; }
  // A page holding code for this vCPU or another.
  bool is_code_page(uint64_t ppage) const {
    return blocks_.is_code_page(ppage) || (peers_ && peers_->is_code_page(ppage));
  }
  void code_page_added(uint64_t ppage) {
    tlb_.protect_code_page(ppage);
    if (peers_) peers_->protect(ppage, this);
  }

  // ---- glue contract -------------------------------------------------------
  DecodeMode mode() const { return mode_; }
  unsigned stack_size() const { return stack_size_; }
  bool user() const { return fetch_ == kUser; }

  template <unsigned N, bool Aligned = true> bool read(int seg, uint64_t off, U<N>& v) {
    uint64_t lin;
    if (!to_linear(seg, off, N, false, lin)) return false;
    return read_linear<N>(lin, v, data_access<Aligned>());
  }
  template <unsigned N> bool read_rmw(int seg, uint64_t off, U<N>& v) {
    uint64_t lin;
    if (!to_linear(seg, off, N, true, lin)) return false;
    TlbEntry& e = tlb_.entry(data_, lin);
    if (e.write_tag == (lin & kPageMask) && (lin & ~kPageMask) <= kPageSize - N) [[likely]] {
      std::memcpy(&v, e.host + (lin & ~kPageMask), N);
      return true;
    }
    Privilege who = data_;
    if (!check_alignment(lin, N, who) || !probe_write(lin, N, who)) return false;
    return read_linear<N>(lin, v, who);
  }
  template <unsigned N, bool Aligned = true> bool write(int seg, uint64_t off, U<N> v) {
    uint64_t lin;
    if (!to_linear(seg, off, N, true, lin)) return false;
    return write_linear<N>(lin, v, data_access<Aligned>());
  }
  template <unsigned N> bool read_sys(uint64_t lin, U<N>& v) { return read_linear<N>(truncate(lin), v, sys_); }
  template <unsigned N> bool write_sys(uint64_t lin, U<N> v) { return write_linear<N>(truncate(lin), v, sys_); }
  bool check_write(int seg, uint64_t off, unsigned n);
  bool check_read(int seg, uint64_t off, unsigned n);
  bool check_segment(int seg, uint64_t off, unsigned n, bool write) {
    uint64_t lin;
    return to_linear(seg, off, n, write, lin);
  }
  bool check_alignment(int seg, uint64_t off, unsigned n, bool undo = true) {
    if (data_ != kUserAligned) [[likely]] return true;
    return check_alignment_slow(seg, off, n, undo);
  }
  // The last #AC keeps what the instruction did before it (check_alignment
  // with undo = false); the tier undoes the instruction otherwise.
  bool ac_keeps_effects = false;
  // Alignment checking is on (CPL 3, CR0.AM, EFLAGS.AC): the tier runs one
  // instruction at a time and undoes one that raises #AC (see TcgVcpu).
  bool alignment_checking() const { return data_ == kUserAligned; }
  uint64_t linear_address(int seg, uint64_t off) const { return truncate(seg_base_[seg] + off); }

  uint32_t io_in(uint16_t port, unsigned n);
  void io_out(uint16_t port, unsigned n, uint32_t v);

  void segments_changed();
  void paging_changed(TlbFlush flush);
  void invlpg(uint64_t linear);
  void invalidate_pcid(InvpcidType type, uint16_t pcid, uint64_t linear);
  bool entropy_u64(uint64_t& v) {
    if (!env_.entropy) return false;
    v = env_.entropy->random_u64();
    return true;
  }
  void fpu_error() { env_.fpu_error.raise(); }
  // Without a local APIC (test rigs): no x2APIC MSRs, CR8 a plain register.
  bool apic_msr(bool write, uint32_t index, uint64_t& v) {
    if (!env_.local_apic) return false;
    return write ? env_.local_apic->write_msr(index, v) : env_.local_apic->read_msr(index, v);
  }
  void apic_base_changed(uint64_t old) {
    if (env_.local_apic) env_.local_apic->apic_base_changed(old);
  }
  uint32_t apic_id() const { return env_.apic_id; }
  void mask_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t& eax, uint32_t& ebx, uint32_t& ecx, uint32_t& edx) const {
    if (env_.cpuid_mask) env_.cpuid_mask->apply(leaf, subleaf, eax, ebx, ecx, edx);
  }
  // PAUSE: the run loop returns kYielded after this instruction.
  void spin_wait_hint() {
    yield_requested = true;
    exit_block = true;
  }
  uint64_t read_cr8() { return env_.local_apic ? env_.local_apic->cr8() : s.cr8; }
  void write_cr8(uint64_t v) {
    if (env_.local_apic) env_.local_apic->set_cr8(v);
    else s.cr8 = v;
  }
  void debug_registers_changed();
  void flags_reloaded() {
    update_privileges();
    if (s.rflags & (core::rflags::kTf | core::rflags::kRf)) exit_block = true;  // the tier single-steps
  }
  // The hardware breakpoints (DR7): enabled instruction breakpoints (bits
  // 0-3), every instruction breakpoint enabled or not (a hit reports their
  // matches too, as QEMU does), and enabled data and I/O breakpoints (RW 10
  // with CR4.DE); with a data breakpoint armed every access takes the slow
  // path, which notes hits in data_hits (DR6 B0-B3) for the tier, as port
  // accesses do for I/O breakpoints.
  uint8_t exec_breakpoints() const { return exec_bp_; }
  uint8_t exec_breakpoints_any() const { return exec_bp_any_; }
  bool watching() const { return (data_bp_ | io_bp_) != 0; }
  // A debugger's watchpoints (core::DebugTraps::watches) armed or not: every
  // data access then takes the slow path, which checks them.
  void set_debugger_watching(bool on) {
    if (on == debugger_watch_) return;
    debugger_watch_ = on;
    flush_translations();  // fast tags installed before would bypass them
  }
  uint8_t data_hits = 0;
  void unimplemented(const DecodedInsn& d);
  void unimplemented_feature(const char* what);

  // ---- for the vCPU ---------------------------------------------------------
  // Linear PC -> physical address and host pointer for instruction fetch
  // (host is nullptr when the code is not in RAM). Raises #PF on failure.
  bool translate_fetch(uint64_t lin, uint64_t& phys, uint8_t*& host);
  uint64_t code_linear_pc() const { return truncate(seg_base_[kSegCs] + s.rip); }
  Privilege fetch_privilege() const { return fetch_; }
  // The bits of RIP the current mode has (EIP: 32 outside 64-bit mode).
  uint64_t rip_mask() const { return mode_ == DecodeMode::k64 ? ~0ull : 0xffffffffull; }
  void flush_translations();
  const core::CpuEnvironment& env() const { return env_; }
  SoftmmuTlb& tlb() { return tlb_; }

  // Set when the current instruction reached a device or invalidated code:
  // the block loop ends the block after the instruction retires.
  bool exit_block = false;
  // PAUSE retired: the vCPU's turn ends (VcpuExit::kYielded).
  bool yield_requested = false;
  // Since the dirty log was last cleared; the writes are noted where a
  // write mapping is made (the log's clearing drops them all).
  core::ExecutionFootprint footprint;

 private:
  uint64_t truncate(uint64_t lin) const { return mode_ == DecodeMode::k64 || s.long_mode_active() ? lin : lin & 0xffffffffull; }

  // Inlined into every access: the segment check is the hot path.
  __attribute__((always_inline)) bool to_linear(int seg, uint64_t off, unsigned n, bool write, uint64_t& lin) {
    if (mode_ == DecodeMode::k64) {
      lin = seg_base_[seg] + off;
      if (!canonical_range(lin, n)) return fail(*this, seg == kSegSs ? vec::kSs : vec::kGp, 0);
      return true;
    }
    if (off + n - 1 > seg_limit_[seg] || seg_slow_[seg] || (write && seg_readonly_[seg]))
      return to_linear_slow(seg, off, n, write, lin);
    lin = (seg_base_[seg] + off) & 0xffffffffull;
    return true;
  }
  bool to_linear_slow(int seg, uint64_t off, unsigned n, bool write, uint64_t& lin);

  // The privilege of an explicit data access: pieces of a wider access that
  // the architecture does not align-check (Aligned = false) never check.
  template <bool Aligned> Privilege data_access() const {
    if constexpr (Aligned) return data_;
    return data_ == kUserAligned ? kUser : data_;
  }
  // Which tables CPL, EFLAGS.AC, CR0.AM and CR4.SMAP select (Privilege).
  void update_privileges();

  template <unsigned N> bool read_linear(uint64_t lin, U<N>& v, Privilege who) {
    TlbEntry& e = tlb_.entry(who, lin);
    if (e.read_tag == (lin & kPageMask) && (lin & ~kPageMask) <= kPageSize - N) [[likely]] {
      std::memcpy(&v, e.host + (lin & ~kPageMask), N);
      return true;
    }
    uint64_t x = 0;
    if (!read_slow(lin, N, who, x)) return false;
    v = U<N>(x);
    return true;
  }
  template <unsigned N> bool write_linear(uint64_t lin, U<N> v, Privilege who) {
    TlbEntry& e = tlb_.entry(who, lin);
    if (e.write_tag == (lin & kPageMask) && (lin & ~kPageMask) <= kPageSize - N) [[likely]] {
      std::memcpy(e.host + (lin & ~kPageMask), &v, N);
      return true;
    }
    return write_slow(lin, N, who, v);
  }
  bool read_slow(uint64_t lin, unsigned n, Privilege who, uint64_t& v);
  // Faults as a write of n bytes at lin would (both pages), writing nothing.
  bool probe_write(uint64_t lin, unsigned n, Privilege who);
  bool write_slow(uint64_t lin, unsigned n, Privilege who, uint64_t v);
  // #AC(0) for a misaligned access under alignment checking (kUserAligned),
  // which then translates as kUser.
  bool check_alignment(uint64_t lin, unsigned n, Privilege& who);
  bool check_alignment_slow(int seg, uint64_t off, unsigned n, bool undo);
  // Translation with refill; host is the byte's host address or nullptr.
  bool translate(uint64_t lin, Access access, Privilege who, uint64_t& phys, uint8_t*& host);
  void write_pte(uint64_t phys, uint64_t v, unsigned n);
  // A store of n bytes to RAM at phys (host): drops the code it overwrites,
  // marks the dirty log. Shared by stores and the walker's A/D updates.
  bool store_ram(uint64_t phys, uint8_t* host, uint64_t v, unsigned n);

  core::CpuEnvironment env_;
  BlockCache& blocks_;
  std::shared_ptr<CodePeers> peers_;
  SoftmmuTlb tlb_;
  DecodeMode mode_ = DecodeMode::k16;
  unsigned stack_size_ = 2;
  Privilege data_ = kSupervisor;   // explicit data accesses
  Privilege sys_ = kSupervisor;    // implicit supervisor accesses (descriptor tables, TSS, IDT)
  Privilege fetch_ = kSupervisor;  // instruction fetch
  uint8_t exec_bp_ = 0, exec_bp_any_ = 0, data_bp_ = 0, io_bp_ = 0;
  bool debugger_watch_ = false;
  // Data accesses take the slow path: a data breakpoint or a debugger's watchpoint is armed.
  bool slow_data() const { return data_bp_ || debugger_watch_; }
  void note_debugger_access(uint64_t lin, unsigned n, bool write);
  void note_io_access(uint16_t port, unsigned n);
  void note_data_access(uint64_t lin, unsigned n, bool write);
  uint64_t seg_base_[6] = {};
  uint64_t seg_limit_[6] = {};
  bool seg_slow_[6] = {};      // unusable or expand-down: checked in to_linear_slow
  bool seg_readonly_[6] = {};  // code or read-only data (protected mode)
};

}  // namespace rwd::tcg
