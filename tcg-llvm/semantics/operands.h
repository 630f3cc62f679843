// Operand access for the semantics: general registers (with the legacy
// AH/CH/DH/BH encoding), effective addresses, ModRM r/m operands specialised at
// compile time on register-vs-memory, and the stack.
//
// The machine type M provides (the glue contract, implemented by InterpCpu):
//   core::X86CpuState s;                      architectural state
//   DecodeMode mode() const;                  code size of CS (16/32/64)
//   unsigned stack_size() const;              2, 4 or 8: SS.B / long mode
//   template <unsigned N, bool Aligned = true> bool read(int seg, uint64_t off, U<N>& v);
//                                             Aligned = false: a piece of a wider access that
//                                             alignment checking (#AC) leaves alone
//   template <unsigned N> bool read_rmw(int seg, uint64_t off, U<N>& v);  // read with write intent:
//                                             faults as the write would (segment and page W checks)
//   template <unsigned N, bool Aligned = true> bool write(int seg, uint64_t off, U<N> v);
//   template <unsigned N> bool read_sys(uint64_t linear, U<N>& v);   // CPL-0 access
//   template <unsigned N> bool write_sys(uint64_t linear, U<N> v);
//   bool check_write(int seg, uint64_t off, unsigned n);   // probe only, no write
//   bool check_read(int seg, uint64_t off, unsigned n);    // probe only: no device sees it
//   bool check_segment(int seg, uint64_t off, unsigned n, bool write);   // the segment checks
//                                             (limit, type; canonical in 64-bit mode) of an n-byte
//                                             operand, before the pages of its pieces are touched
//   bool check_alignment(int seg, uint64_t off, unsigned n, bool undo = true);
//                                             #AC(0) when alignment checking is on (CPL 3, CR0.AM,
//                                             EFLAGS.AC) and seg:off is not n-aligned, for operands
//                                             whose alignment is not that of their pieces (each
//                                             access of N <= 8 bytes checks N). An #AC undoes the
//                                             instruction (the host checks explicit operands before
//                                             it runs); undo = false keeps what it did (an implicit
//                                             operand checked when reached: MASKMOVQ)
//   uint32_t io_in(uint16_t port, unsigned n); void io_out(uint16_t port, unsigned n, uint32_t v);
//   set_exception / set_soft_int             from PendingEvent (types.h)
//   void segments_changed();                  CS/SS/segment bases, CPL or mode changed
//   void paging_changed(TlbFlush flush);      CR0/CR3/CR4/EFER changed: drop what `flush` says
//   void invlpg(uint64_t linear);
//   void invalidate_pcid(InvpcidType type, uint16_t pcid, uint64_t linear);   INVPCID
//   bool entropy_u64(uint64_t& v);            RDRAND/RDSEED values; false when there is none
//   void fpu_error();                         assert FERR# (x87 error with CR0.NE clear)
//   bool apic_msr(bool write, uint32_t index, uint64_t& v);   x2APIC MSRs and IA32_TSC_DEADLINE
//                                             in the local APIC; false: #GP (the caller raises it)
//   void apic_base_changed(uint64_t old);     IA32_APIC_BASE was written (s.apic_base is new)
//   uint64_t read_cr8(); void write_cr8(uint64_t v);   CR8: the local APIC's TPR[7:4]
//   uint32_t apic_id();                       the initial APIC ID (CPUID)
//   void mask_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t& eax, uint32_t& ebx, uint32_t& ecx, uint32_t& edx);
//                                             take out the features -cpu removed (core/cpu_features.h)
//   void spin_wait_hint();                    PAUSE: the vCPU waits on another; its turn may end here
//   void debug_registers_changed();           DR0-DR7 written: re-arm the breakpoints
//   void flags_reloaded();                    RFLAGS's system bits (TF, RF, AC) may have changed
//   void unimplemented(const DecodedInsn&);   warn (once per form, then counted); the caller raises #UD
// Glue functions that can fault return false with the exception recorded.
#pragma once

#include "tcg-llvm/semantics/types.h"

namespace rwd::tcg {

template <class M> inline Status raise(M& m, uint8_t vector) {
  m.set_exception(vector, false, 0);
  return Status::kFault;
}
template <class M> inline Status raise_err(M& m, uint8_t vector, uint32_t error) {
  m.set_exception(vector, true, error);
  return Status::kFault;
}
// The bool-returning form, for helpers that feed RWD_TRY.
template <class M> inline bool fail(M& m, uint8_t vector, uint32_t error) {
  m.set_exception(vector, true, error);
  return false;
}
template <class M> inline bool fail_noerr(M& m, uint8_t vector) {
  m.set_exception(vector, false, 0);
  return false;
}

// ---- general registers ----------------------------------------------------

template <unsigned N, class M> inline U<N> get_reg(M& m, const DecodedInsn& d, uint8_t r) {
  if constexpr (N == 1) {
    // Without REX, byte registers 4-7 are AH, CH, DH, BH.
    if (d.rex == 0 && (r & 0xc) == 4) return U<1>(m.s.gpr[r - 4] >> 8);
  }
  return U<N>(m.s.gpr[r]);
}

template <unsigned N, class M> inline void set_reg(M& m, const DecodedInsn& d, uint8_t r, U<N> v) {
  uint64_t& g = m.s.gpr[r];
  if constexpr (N == 1) {
    if (d.rex == 0 && (r & 0xc) == 4) {
      uint64_t& h = m.s.gpr[r - 4];
      h = (h & ~0xff00ull) | (uint64_t(v) << 8);
    } else {
      g = (g & ~0xffull) | v;
    }
  } else if constexpr (N == 2) {
    g = (g & ~0xffffull) | v;
  } else {
    g = v;  // 32-bit writes zero-extend
  }
}

// Register access by runtime size (for the rarer instructions).
template <class M> inline uint64_t get_reg_n(M& m, uint8_t r, unsigned n) {
  return m.s.gpr[r] & size_mask(n);
}
template <class M> inline void set_reg_n(M& m, uint8_t r, unsigned n, uint64_t v) {
  uint64_t& g = m.s.gpr[r];
  if (n == 2) g = (g & ~0xffffull) | (v & 0xffff);
  else if (n == 4) g = v & 0xffffffffull;
  else if (n == 8) g = v;
  else g = (g & ~0xffull) | (v & 0xff);
}

// ---- memory operands --------------------------------------------------------

// Offset of the memory operand (RIP already points past the instruction).
template <class M> inline uint64_t effective_address(M& m, const DecodedInsn& d) {
  uint64_t a = static_cast<uint64_t>(d.disp);
  if (d.base == kRipBase) a += m.s.rip;
  else if (d.base != kNoReg) a += m.s.gpr[d.base];
  if (d.index != kNoReg) a += m.s.gpr[d.index] << d.scale;
  return a & size_mask(d.addr_size);
}

// Segment of the memory operand: the override, else SS for rSP/rBP bases.
inline int operand_segment(const DecodedInsn& d) {
  if (d.seg != SegOverride::kNone) return static_cast<int>(d.seg);
  return (d.base == core::kRsp || d.base == core::kRbp) ? kSegSs : kSegDs;
}

// A ModRM r/m operand, register or memory decided at compile time.
template <unsigned N, bool Mem> struct Rm {
  int seg = 0;
  uint64_t off = 0;
  template <class M> Rm(M& m, const DecodedInsn& d) {
    if constexpr (Mem) {
      off = effective_address(m, d);
      seg = operand_segment(d);
    }
  }
  template <class M> bool read(M& m, const DecodedInsn& d, U<N>& v) const {
    if constexpr (Mem) return m.template read<N>(seg, off, v);
    v = get_reg<N>(m, d, d.rm);
    return true;
  }
  // The read of a read-modify-write destination: a fault is reported as
  // the write's (#PF with W set, #GP for a read-only segment), as on silicon.
  template <class M> bool read_rmw(M& m, const DecodedInsn& d, U<N>& v) const {
    if constexpr (Mem) return m.template read_rmw<N>(seg, off, v);
    v = get_reg<N>(m, d, d.rm);
    return true;
  }
  template <class M> bool write(M& m, const DecodedInsn& d, U<N> v) const {
    if constexpr (Mem) return m.template write<N>(seg, off, v);
    set_reg<N>(m, d, d.rm, v);
    return true;
  }
};

// The two end bytes of an n-byte image (FXSAVE, FNSAVE, XSAVE and their
// loads), probed in the order the instruction checks them on the host, as
// reads or writes: a fault names that byte (CR2), not its page's start.
template <class M> inline bool probe_ends(M& m, int seg, uint64_t off, unsigned n, unsigned addr_size, bool write,
                                          bool last_first) {
  const uint64_t last = (off + n - 1) & size_mask(addr_size);
  auto probe = [&](uint64_t o) { return write ? m.check_write(seg, o, 1) : m.check_read(seg, o, 1); };
  return last_first ? probe(last) && probe(off) : probe(off) && probe(last);
}

// ---- stack ------------------------------------------------------------------

template <class M> inline uint64_t stack_mask(M& m) { return size_mask(m.stack_size()); }

// RSP update honouring the stack size (a 16-bit stack only changes SP).
template <class M> inline void set_sp(M& m, uint64_t v) {
  if (m.stack_size() == 2) set_reg_n(m, core::kRsp, 2, v);
  else if (m.stack_size() == 4) m.s.gpr[core::kRsp] = v & 0xffffffffull;
  else m.s.gpr[core::kRsp] = v;
}

template <unsigned N, class M> inline bool push(M& m, U<N> v) {
  uint64_t sp = (m.s.gpr[core::kRsp] - N) & stack_mask(m);
  if (!m.template write<N>(kSegSs, sp, v)) return false;
  set_sp(m, sp);
  return true;
}

// Pop without committing RSP: the caller commits once every step succeeded.
template <unsigned N, class M> inline bool pop_at(M& m, uint64_t& sp, U<N>& v) {
  if (!m.template read<N>(kSegSs, sp & stack_mask(m), v)) return false;
  sp = (sp + N) & stack_mask(m);
  return true;
}

template <class M> inline bool push_n(M& m, unsigned n, uint64_t v) {
  if (n == 2) return push<2>(m, U<2>(v));
  if (n == 4) return push<4>(m, U<4>(v));
  return push<8>(m, v);
}
template <class M> inline bool pop_n_at(M& m, unsigned n, uint64_t& sp, uint64_t& v) {
  if (n == 2) { U<2> x; if (!pop_at<2>(m, sp, x)) return false; v = x; return true; }
  if (n == 4) { U<4> x; if (!pop_at<4>(m, sp, x)) return false; v = x; return true; }
  return pop_at<8>(m, sp, v);
}

// ---- control transfer -------------------------------------------------------

// Near branch target for an operand size: IP wraps at 16 bits, EIP at 32.
inline uint64_t branch_target(uint64_t target, unsigned op_size) {
  return op_size == 8 ? target : target & size_mask(op_size);
}

}  // namespace rwd::tcg
