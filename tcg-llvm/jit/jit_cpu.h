// JitCpu: the machine type the semantics are instantiated with when they are
// compiled to bitcode for the JIT tier. It fulfils the glue contract of
// semantics/operands.h with the CPU state as plain data and everything else
// through the declared glue functions (glue.h): segmentation, the TSC and
// mode queries are computed inline from the state, so LLVM sees them; only
// paging, devices and diagnostics leave the bitcode.
#pragma once

#include "tcg-llvm/jit/glue.h"
#include "tcg-llvm/semantics/operands.h"
#include "tcg-llvm/semantics/segmentation.h"

namespace rwd::tcg {

struct JitCpu : CpuStateBase, PendingEvent {
  JitContext* ctx;

  DecodeMode mode() const { return decode_mode_of(s); }
  unsigned stack_size() const { return stack_size_of(s, mode()); }
  bool user() const { return s.protected_mode() && s.cpl() == 3; }

  template <unsigned N, bool Aligned = true> bool read(int seg, uint64_t off, U<N>& v) {
    uint64_t lin, x = 0;
    if (!to_linear(seg, off, N, false, lin)) return false;
    if (!accept(rwd_glue_load(ctx, lin, N, kind(Aligned), &x), lin)) return false;
    v = U<N>(x);
    return true;
  }
  template <unsigned N> bool read_rmw(int seg, uint64_t off, U<N>& v) {
    uint64_t lin, x = 0;
    if (!to_linear(seg, off, N, true, lin)) return false;
    if (!accept(rwd_glue_probe_store(ctx, lin, N, kind(true)), lin)) return false;
    if (!accept(rwd_glue_load(ctx, lin, N, kind(true), &x), lin)) return false;
    v = U<N>(x);
    return true;
  }
  template <unsigned N, bool Aligned = true> bool write(int seg, uint64_t off, U<N> v) {
    uint64_t lin;
    if (!to_linear(seg, off, N, true, lin)) return false;
    return accept(rwd_glue_store(ctx, lin, N, kind(Aligned), v), lin);
  }
  template <unsigned N> bool read_sys(uint64_t lin, U<N>& v) {
    uint64_t x = 0;
    lin = truncate(lin);
    if (!accept(rwd_glue_load(ctx, lin, N, kind(false) | 2, &x), lin)) return false;
    v = U<N>(x);
    return true;
  }
  template <unsigned N> bool write_sys(uint64_t lin, U<N> v) {
    lin = truncate(lin);
    return accept(rwd_glue_store(ctx, lin, N, kind(false) | 2, v), lin);
  }
  bool check_segment(int seg, uint64_t off, unsigned n, bool write) {
    uint64_t lin;
    return to_linear(seg, off, n, write, lin);
  }
  bool check_read(int seg, uint64_t off, unsigned n) {
    uint64_t lin;
    if (!to_linear(seg, off, n, false, lin)) return false;
    return accept(rwd_glue_probe_load(ctx, lin, n, kind(false)), lin);
  }
  bool check_write(int seg, uint64_t off, unsigned n) {
    uint64_t lin;
    if (!to_linear(seg, off, n, true, lin)) return false;
    return accept(rwd_glue_probe_store(ctx, lin, n, kind(false)), lin);
  }
  uint64_t linear_address(int seg, uint64_t off) const { return truncate(segment_base(seg) + off); }
  bool check_alignment(int seg, uint64_t off, unsigned n, bool undo = true) {
    (void)undo;  // the JIT tier leaves code run under alignment checking to the interpreter
    if (!user() || !(s.rflags & core::rflags::kAc) || !(s.cr0 & core::cr0::kAm)) return true;
    if (linear_address(seg, off) & (n - 1)) return fail(*this, vec::kAc, 0);
    return true;
  }

  uint32_t io_in(uint16_t port, unsigned n) { return rwd_glue_io_in(ctx, port, n); }
  void io_out(uint16_t port, unsigned n, uint32_t v) { rwd_glue_io_out(ctx, port, n, v); }

  void segments_changed() { rwd_glue_code_context_changed(ctx); }
  void paging_changed(TlbFlush flush) {
    rwd_glue_paging_changed(ctx, s.cr0, s.cr3, s.cr4, s.efer, uint32_t(flush));
  }
  void invlpg(uint64_t linear) { rwd_glue_invlpg(ctx, linear); }
  void invalidate_pcid(InvpcidType type, uint16_t pcid, uint64_t linear) {
    rwd_glue_invalidate_pcid(ctx, uint32_t(type), pcid, linear);
  }
  bool entropy_u64(uint64_t& v) { return rwd_glue_entropy(ctx, &v) != 0; }
  void fpu_error() { rwd_glue_fpu_error(ctx); }
  bool apic_msr(bool write, uint32_t index, uint64_t& v) { return rwd_glue_apic_msr(ctx, write, index, &v) != 0; }
  void apic_base_changed(uint64_t old) { rwd_glue_apic_base_changed(ctx, old); }
  uint64_t read_cr8() { return rwd_glue_read_cr8(ctx); }
  uint32_t apic_id() { return rwd_glue_apic_id(ctx); }
  void spin_wait_hint() { rwd_glue_spin_wait_hint(ctx); }
  void mask_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t& eax, uint32_t& ebx, uint32_t& ecx, uint32_t& edx) {
    rwd_glue_mask_cpuid(ctx, leaf, subleaf, &eax, &ebx, &ecx, &edx);
  }
  void write_cr8(uint64_t v) { rwd_glue_write_cr8(ctx, v); }
  void debug_registers_changed() { rwd_glue_debug_registers_changed(ctx); }
  void flags_reloaded() { rwd_glue_flags_reloaded(ctx, s.rflags); }
  void unimplemented(const DecodedInsn& d) {
    rwd_glue_unimplemented(ctx, uint32_t(d.form), s.seg[kSegCs].selector, s.rip - d.length);
  }
  void unimplemented_feature(const char* what) {
    rwd_glue_unimplemented_feature(ctx, what, s.seg[kSegCs].selector, s.rip);
  }

 private:
  // The glue's access kind (glue.h) of an explicit data access.
  uint32_t kind(bool aligned) const {
    return (user() ? 1u : 0u) | ((s.rflags & core::rflags::kAc) ? 4u : 0u) | (aligned ? 0u : 8u);
  }
  uint64_t truncate(uint64_t lin) const {
    return mode() == DecodeMode::k64 || s.long_mode_active() ? lin : lin & 0xffffffffull;
  }
  uint64_t segment_base(int seg) const {
    if (mode() == DecodeMode::k64) return seg >= kSegFs ? s.seg[seg].base : 0;
    return s.seg[seg].base & 0xffffffffull;
  }
  bool to_linear(int seg, uint64_t off, unsigned n, bool write, uint64_t& lin) {
    if (mode() == DecodeMode::k64) {
      lin = segment_base(seg) + off;
      if (!canonical_range(lin, n)) return fail(*this, seg == kSegSs ? vec::kSs : vec::kGp, 0);
      return true;
    }
    uint8_t v = segment_access_fault(s, seg, off, n, write);
    if (v != 0xff) return fail(*this, v, 0);
    lin = (segment_base(seg) + off) & 0xffffffffull;
    return true;
  }
  // Takes a glue fault word: records the exception (and CR2 for #PF).
  bool accept(uint64_t fault, uint64_t lin) {
    if (!fault) return true;
    uint8_t vector = uint8_t(fault >> 8);
    if (vector == vec::kPf) s.cr2 = (fault & 2) ? truncate((lin | 0xfff) + 1) : lin;
    set_exception(vector, (fault >> 16) & 1, uint32_t(fault >> 32));
    return false;
  }
};

}  // namespace rwd::tcg
