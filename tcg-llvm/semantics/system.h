// System instructions: CLI/STI/HLT, port I/O, descriptor-table registers,
// LLDT/LTR, control and debug registers, MSRs, RDTSC, INVLPG, cache control,
// SYSCALL/SYSRET/SWAPGS, XLAT/SALC and #UD forms.
#pragma once

#include "tcg-llvm/semantics/cpuid.h"
#include "tcg-llvm/semantics/segment.h"
#include "tcg-llvm/semantics/segmentation.h"

namespace rwd::tcg {

template <class M> inline bool cpl0(M& m) { return !m.s.protected_mode() || m.s.cpl() == 0; }
// CR4.UMIP: SGDT, SIDT, SLDT, SMSW and STR are privileged (#GP(0) at CPL > 0).
template <class M> inline bool umip_allows(M& m) { return !(m.s.cr4 & core::cr4::kUmip) || cpl0(m); }
template <class M> inline unsigned iopl(M& m) { return (m.s.rflags >> 12) & 3; }
// I/O and CLI/STI are allowed when CPL <= IOPL (real mode: always).
template <class M> inline bool io_privileged(M& m) {
  return !m.s.protected_mode() || m.s.cpl() <= iopl(m);
}

// Port I/O of n bytes at `port`: allowed with I/O privilege, else when the
// TSS's I/O permission bitmap (32- and 64-bit TSS: its offset at 0x66) has
// a clear bit for every byte of the access, both bytes read lying inside
// the TSS limit (SDM Vol. 1 §19.5.2). #GP(0) otherwise; a fault reading the
// bitmap is reported as itself.
template <class M> inline bool io_allowed(M& m, uint16_t port, unsigned n) {
  if (io_privileged(m)) return true;
  const core::SegmentCache& tr = m.s.tr;
  const unsigned type = tr.attrs & 0xf;
  if ((type != 0x9 && type != 0xb) || tr.limit < 0x67) return fail(m, vec::kGp, 0);
  U<2> bitmap;
  if (!m.template read_sys<2>(tr.base + 0x66, bitmap)) return false;
  const uint64_t at = uint64_t(bitmap) + port / 8;
  if (at + 1 > tr.limit) return fail(m, vec::kGp, 0);
  U<2> bits;
  if (!m.template read_sys<2>(tr.base + at, bits)) return false;
  if ((bits >> (port & 7)) & ((1u << n) - 1)) return fail(m, vec::kGp, 0);
  return true;
}

struct Cli {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    if (!io_privileged(m)) return raise_err(m, vec::kGp, 0);
    m.s.rflags &= ~fl::kIf;
    return Status::kNext;
  }
};
// STI delays interrupts by one instruction when it sets IF.
struct Sti {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    if (!io_privileged(m)) return raise_err(m, vec::kGp, 0);
    if (!(m.s.rflags & fl::kIf)) m.s.interrupt_shadow = core::kShadowSti;
    m.s.rflags |= fl::kIf;
    return Status::kEndBlock;
  }
};
struct Hlt {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    if (!cpl0(m)) return raise_err(m, vec::kGp, 0);
    return Status::kHalt;
  }
};

// ---- port I/O ----

template <unsigned N, bool Dx> struct In {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    uint16_t port = Dx ? uint16_t(m.s.gpr[core::kRdx]) : uint16_t(d.imm & 0xff);
    unsigned n = N == 1 ? 1 : d.op_size == 2 ? 2 : 4;
    RWD_TRY(io_allowed(m, port, n));
    set_reg_n(m, core::kRax, n, m.io_in(port, n));
    return Status::kNext;
  }
};
template <unsigned N, bool Dx> struct Out {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    uint16_t port = Dx ? uint16_t(m.s.gpr[core::kRdx]) : uint16_t(d.imm & 0xff);
    unsigned n = N == 1 ? 1 : d.op_size == 2 ? 2 : 4;
    RWD_TRY(io_allowed(m, port, n));
    m.io_out(port, n, uint32_t(m.s.gpr[core::kRax] & size_mask(n)));
    return Status::kNext;
  }
};

// ---- descriptor-table registers --------------------------------------------

template <bool Idt> struct LoadDtr {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (!cpl0(m)) return raise_err(m, vec::kGp, 0);
    uint64_t off = effective_address(m, d);
    int seg = operand_segment(d);
    U<2> limit;
    uint64_t base;
    RWD_TRY(m.template read<2>(seg, off, limit));
    if (m.mode() == DecodeMode::k64) {
      RWD_TRY(m.template read<8>(seg, off + 2, base));
    } else {
      U<4> b;
      RWD_TRY(m.template read<4>(seg, (off + 2) & size_mask(d.addr_size), b));
      base = d.op_size == 2 ? b & 0xffffff : b;
    }
    core::DescriptorTableReg& r = Idt ? m.s.idtr : m.s.gdtr;
    r.base = base;
    r.limit = limit;
    return Status::kNext;
  }
};
template <bool Idt> struct StoreDtr {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (!umip_allows(m)) return raise_err(m, vec::kGp, 0);
    uint64_t off = effective_address(m, d);
    int seg = operand_segment(d);
    const core::DescriptorTableReg& r = Idt ? m.s.idtr : m.s.gdtr;
    RWD_TRY(m.template write<2>(seg, off, r.limit));
    if (m.mode() == DecodeMode::k64) RWD_TRY(m.template write<8>(seg, off + 2, r.base));
    else RWD_TRY(m.template write<4>(seg, (off + 2) & size_mask(d.addr_size), U<4>(r.base)));
    return Status::kNext;
  }
};

// LLDT / LTR: system descriptors (16 bytes in long mode).
template <bool Tr> struct LoadSystemSegment {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (!m.s.protected_mode() || (m.s.rflags & fl::kVm)) return raise(m, vec::kUd);
    if (!cpl0(m)) return raise_err(m, vec::kGp, 0);
    U<2> sel;
    if (d.is_mem()) {
      RWD_TRY(m.template read<2>(operand_segment(d), effective_address(m, d), sel));
    } else {
      sel = U<2>(m.s.gpr[d.rm]);
    }
    core::SegmentCache& c = Tr ? m.s.tr : m.s.ldtr;
    if ((sel & 0xfffc) == 0) {
      if (Tr) return raise_err(m, vec::kGp, 0);
      c.selector = sel;
      c.attrs = 0;
      c.base = 0;
      c.limit = 0;
      return Status::kNext;
    }
    if (sel & 4) return raise_err(m, vec::kGp, sel_error(sel));
    Descriptor desc;
    uint64_t addr;
    RWD_TRY(read_descriptor(m, sel, desc, &addr));
    unsigned t = desc.type();
    bool ok = !desc.s() && (Tr ? (t == 0x9 || (t == 0x1 && !m.s.long_mode_active())) : t == 0x2);
    if (!ok) return raise_err(m, vec::kGp, sel_error(sel));
    if (!desc.present()) return raise_err(m, vec::kNp, sel_error(sel));
    uint64_t base = desc.base();
    if (m.s.long_mode_active()) {
      U<4> hi;
      RWD_TRY(m.template read_sys<4>(addr + 8, hi));
      base |= uint64_t(hi) << 32;
    }
    if (Tr) RWD_TRY(m.template write_sys<4>(addr + 4, desc.hi | 0x200));  // busy
    c.selector = sel;
    c.base = base;
    c.limit = desc.limit();
    c.attrs = uint16_t(desc.attrs() | (Tr ? 2 : 0));
    return Status::kNext;
  }
};
template <bool Tr> struct StoreSystemSegment {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (!m.s.protected_mode()) return raise(m, vec::kUd);
    if (!umip_allows(m)) return raise_err(m, vec::kGp, 0);
    uint16_t sel = (Tr ? m.s.tr : m.s.ldtr).selector;
    if (d.is_mem()) RWD_TRY(m.template write<2>(operand_segment(d), effective_address(m, d), sel));
    else set_reg_n(m, d.rm, d.op_size, sel);
    return Status::kNext;
  }
};

// ---- control registers --------------------------------------------------------

// Writes CRn with the consistency checks of MOV CR / LMSW; switches modes.
template <class M> inline bool write_cr(M& m, unsigned n, uint64_t v) {
  auto& s = m.s;
  switch (n) {
    case 0: {
      if (m.mode() != DecodeMode::k64) v &= 0xffffffffull;
      if (v >> 32) return fail(m, vec::kGp, 0);
      v |= core::cr0::kEt;
      if ((v & core::cr0::kPg) && !(v & core::cr0::kPe)) return fail(m, vec::kGp, 0);
      if ((v & core::cr0::kNw) && !(v & core::cr0::kCd)) return fail(m, vec::kGp, 0);
      bool pg_on = (v & core::cr0::kPg) && !(s.cr0 & core::cr0::kPg);
      bool pg_off = !(v & core::cr0::kPg) && (s.cr0 & core::cr0::kPg);
      if (pg_on && (s.efer & core::efer::kLme)) {
        if (!(s.cr4 & core::cr4::kPae)) return fail(m, vec::kGp, 0);
        s.efer |= core::efer::kLma;
      }
      if (pg_off && (s.cr4 & core::cr4::kPcide)) return fail(m, vec::kGp, 0);
      if (pg_off && s.long_mode_active()) {
        if (m.mode() == DecodeMode::k64) return fail(m, vec::kGp, 0);
        s.efer &= ~core::efer::kLma;
      }
      // Only PE, PG and WP change what a translation allows (AM, the
      // alignment check, is read by paging_changed too).
      const bool retranslate = (s.cr0 ^ v) & (core::cr0::kPe | core::cr0::kPg | core::cr0::kWp);
      s.cr0 = v;
      m.paging_changed(retranslate ? TlbFlush::kAll : TlbFlush::kNone);
      m.segments_changed();
      return true;
    }
    case 2: s.cr2 = v; return true;
    case 3: {
      if (!s.long_mode_active()) {
        s.cr3 = v & 0xffffffffull;
        m.paging_changed(TlbFlush::kNonGlobal);
        return true;
      }
      // Bits 40-62 lie above MAXPHYADDR or are reserved; bit 63 (keep the
      // PCID's translations) exists with CR4.PCIDE and is not stored.
      const bool pcide = s.cr4 & core::cr4::kPcide;
      if (v & (pcide ? 0x7fffff0000000000ull : 0xffffff0000000000ull)) return fail(m, vec::kGp, 0);
      const bool keep = pcide && (v >> 63) && ((v ^ s.cr3) & 0xfff) == 0;
      s.cr3 = v & ~(1ull << 63);
      m.paging_changed(keep ? TlbFlush::kNone : TlbFlush::kNonGlobal);
      return true;
    }
    case 4: {
      namespace c4 = core::cr4;
      constexpr uint64_t kSupported = c4::kVme | c4::kPvi | c4::kTsd | c4::kDe | c4::kPse | c4::kPae | c4::kMce |
          c4::kPge | c4::kPce | c4::kOsfxsr | c4::kOsxmmexcpt | c4::kUmip | c4::kPcide | c4::kOsxsave | c4::kSmep |
          c4::kSmap;
      if (v & ~kSupported) return fail(m, vec::kGp, 0);
      if (s.long_mode_active() && !(v & c4::kPae)) return fail(m, vec::kGp, 0);
      // PCIDE may be set only in IA-32e mode with PCID 0 in CR3.
      if ((v & c4::kPcide) && !(s.cr4 & c4::kPcide) && (!s.long_mode_active() || (s.cr3 & 0xfff)))
        return fail(m, vec::kGp, 0);
      const bool retranslate = (s.cr4 ^ v) & (c4::kPse | c4::kPae | c4::kPge | c4::kPcide | c4::kSmep | c4::kSmap);
      const bool debug = (s.cr4 ^ v) & c4::kDe;  // RW 10 becomes (or stops being) an I/O breakpoint
      s.cr4 = v;
      m.paging_changed(retranslate ? TlbFlush::kAll : TlbFlush::kNone);
      if (debug) m.debug_registers_changed();
      return true;
    }
    case 8:
      if (v & ~0xfull) return fail(m, vec::kGp, 0);
      m.write_cr8(v);
      return true;
    default: return fail_noerr(m, vec::kUd);
  }
}

// Control registers that exist: the #UD for any other comes before the
// privilege check, as on silicon.
inline bool control_register_exists(unsigned n) { return n == 0 || n == 2 || n == 3 || n == 4 || n == 8; }

struct MovRdCd {  // MOV r, CRn
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (!control_register_exists(d.reg)) return raise(m, vec::kUd);
    if (!cpl0(m)) return raise_err(m, vec::kGp, 0);
    uint64_t v;
    switch (d.reg) {
      case 0: v = m.s.cr0; break;
      case 2: v = m.s.cr2; break;
      case 3: v = m.s.cr3; break;
      case 4: v = m.s.cr4; break;
      case 8: v = m.read_cr8(); break;
      default: return raise(m, vec::kUd);
    }
    set_reg_n(m, d.rm, d.op_size, v);
    return Status::kNext;
  }
};
struct MovCdRd {  // MOV CRn, r
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (!control_register_exists(d.reg)) return raise(m, vec::kUd);
    if (!cpl0(m)) return raise_err(m, vec::kGp, 0);
    RWD_TRY(write_cr(m, d.reg, get_reg_n(m, d.rm, d.op_size)));
    return Status::kEndBlock;
  }
};
struct Smsw {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (!umip_allows(m)) return raise_err(m, vec::kGp, 0);
    if (d.is_mem()) RWD_TRY(m.template write<2>(operand_segment(d), effective_address(m, d), U<2>(m.s.cr0)));
    else set_reg_n(m, d.rm, d.op_size, m.s.cr0);
    return Status::kNext;
  }
};
struct Lmsw {  // changes PE (set only), MP, EM, TS
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (!cpl0(m)) return raise_err(m, vec::kGp, 0);
    U<2> v;
    if (d.is_mem()) RWD_TRY(m.template read<2>(operand_segment(d), effective_address(m, d), v));
    else v = U<2>(m.s.gpr[d.rm]);
    uint64_t cr0 = (m.s.cr0 & ~0xeull) | (v & 0xf) | (m.s.cr0 & 1);
    RWD_TRY(write_cr(m, 0, cr0));
    return Status::kEndBlock;
  }
};
struct Clts {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    if (!cpl0(m)) return raise_err(m, vec::kGp, 0);
    m.s.cr0 &= ~core::cr0::kTs;
    return Status::kNext;
  }
};
// MOV r, DRn / MOV DRn, r. A write re-arms the hardware breakpoints
// (debug_registers_changed) and ends the block, so the tier sees them.
template <bool ToDr> struct MovDr {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    unsigned r = d.reg;
    if (r > 7) return raise(m, vec::kUd);  // DR8-DR15 (REX.R): #UD before the privilege check
    if (!cpl0(m)) return raise_err(m, vec::kGp, 0);
    if (r == 4 || r == 5) {
      if (m.s.cr4 & core::cr4::kDe) return raise(m, vec::kUd);
      r += 2;
    }
    if constexpr (ToDr) {
      m.s.dr[r] = get_reg_n(m, d.rm, d.op_size);
      m.debug_registers_changed();
      return Status::kEndBlock;
    } else {
      set_reg_n(m, d.rm, d.op_size, m.s.dr[r]);
      return Status::kNext;
    }
  }
};
struct Invlpg {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (!cpl0(m)) return raise_err(m, vec::kGp, 0);
    m.invlpg(m.linear_address(operand_segment(d), effective_address(m, d)));
    return Status::kEndBlock;
  }
};
// INVPCID r64/r32, m128: the type in the register, the descriptor (PCID in
// bits 0-11, linear address in bits 64-127) in memory.
struct Invpcid {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (m.s.rflags & fl::kVm) return raise(m, vec::kUd);
    if (!cpl0(m)) return raise_err(m, vec::kGp, 0);
    const uint64_t type = get_reg_n(m, d.reg, d.op_size);
    uint64_t off = effective_address(m, d), lo, linear;
    int seg = operand_segment(d);
    RWD_TRY(m.template read<8>(seg, off, lo));
    RWD_TRY(m.template read<8>(seg, (off + 8) & size_mask(d.addr_size), linear));
    if (type > 3 || (lo >> 12)) return raise_err(m, vec::kGp, 0);
    const uint16_t pcid = uint16_t(lo & 0xfff);
    const bool pcide = m.s.cr4 & core::cr4::kPcide;
    if (type == 0 && !canonical(linear)) return raise_err(m, vec::kGp, 0);
    if (type <= 1 && pcid != 0 && !pcide) return raise_err(m, vec::kGp, 0);
    m.invalidate_pcid(InvpcidType(type), pcid, linear);
    return Status::kEndBlock;
  }
};
// CLAC / STAC: EFLAGS.AC, which lets supervisor code reach user pages under
// SMAP; #UD at CPL > 0.
template <bool Set> struct SetAc {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    if ((m.s.rflags & fl::kVm) || !cpl0(m)) return raise(m, vec::kUd);
    if (Set) m.s.rflags |= fl::kAc;
    else m.s.rflags &= ~fl::kAc;
    m.flags_reloaded();
    return Status::kNext;
  }
};
// WBINVD / INVD: no caches are modelled.
struct CacheOp {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    if (!cpl0(m)) return raise_err(m, vec::kGp, 0);
    return Status::kNext;
  }
};

// ---- MSRs, TSC, CPUID ---------------------------------------------------------

// The MTRRs (CPUID.1:EDX.MTRR): 8 variable ranges, the fixed ranges and
// write-combining (IA32_MTRRCAP). rewind keeps their values and checks them
// as the SDM does (valid memory types, reserved bits), nothing more.
inline constexpr uint64_t kMtrrCap = 8 | (1u << 8) | (1u << 10);
inline bool valid_memory_type(unsigned t, bool pat) { return t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || (pat && t == 7); }
inline bool valid_type_bytes(uint64_t v, bool pat) {
  for (unsigned i = 0; i < 8; ++i)
    if (!valid_memory_type(unsigned(v >> (8 * i)) & 0xff, pat)) return false;
  return true;
}
// Index of a fixed-range MTRR in X86CpuState::mtrr_fixed, or -1.
inline int fixed_mtrr_index(uint32_t idx) {
  if (idx == core::msr::kMtrrFix64k00000) return 0;
  if (idx == core::msr::kMtrrFix16k80000) return 1;
  if (idx == core::msr::kMtrrFix16kA0000) return 2;
  if (idx >= core::msr::kMtrrFix4kC0000 && idx <= core::msr::kMtrrFix4kF8000) return 3 + int(idx - core::msr::kMtrrFix4kC0000);
  return -1;
}
// Address bits of a variable MTRR or IA32_APIC_BASE: 12 up to MAXPHYADDR (40).
inline constexpr uint64_t kPhysPageBits = 0x000000fffffff000ull;
// The microcode revision IA32_BIOS_SIGN_ID reports (bits 32-63), as QEMU's default.
inline constexpr uint64_t kUcodeRevision = 1ull << 32;

template <class M> inline bool read_msr(M& m, uint32_t idx, uint64_t& v) {
  auto& s = m.s;
  switch (idx) {
    case core::msr::kTsc: v = m.s.tsc(); return true;
    case core::msr::kApicBase: v = s.apic_base; return true;
    case core::msr::kTscDeadline: return m.apic_msr(false, idx, v) || fail(m, vec::kGp, 0);
    case core::msr::kMiscEnable: v = s.misc_enable; return true;
    case core::msr::kPat: v = s.pat; return true;
    case core::msr::kSysenterCs: v = s.sysenter_cs; return true;
    case core::msr::kSysenterEsp: v = s.sysenter_esp; return true;
    case core::msr::kSysenterEip: v = s.sysenter_eip; return true;
    case core::msr::kEfer: v = s.efer; return true;
    case core::msr::kStar: v = s.star; return true;
    case core::msr::kLstar: v = s.lstar; return true;
    case core::msr::kCstar: v = s.cstar; return true;
    case core::msr::kSfmask: v = s.sfmask; return true;
    case core::msr::kFsBase: v = s.seg[kSegFs].base; return true;
    case core::msr::kGsBase: v = s.seg[kSegGs].base; return true;
    case core::msr::kKernelGsBase: v = s.kernel_gs_base; return true;
    case core::msr::kTscAux: v = s.tsc_aux; return true;
    case core::msr::kPlatformId: v = 0; return true;
    case core::msr::kUcodeRev: v = kUcodeRevision; return true;
    case core::msr::kMtrrCap: v = kMtrrCap; return true;
    case core::msr::kMtrrDefType: v = s.mtrr_def_type; return true;
    default:
      if (idx >= core::msr::kX2apicFirst && idx <= core::msr::kX2apicLast)
        return m.apic_msr(false, idx, v) || fail(m, vec::kGp, 0);
      if (idx >= core::msr::kMtrrPhysBase0 && idx < core::msr::kMtrrPhysBase0 + 16) {
        v = s.mtrr_var[idx - core::msr::kMtrrPhysBase0];
        return true;
      }
      if (int f = fixed_mtrr_index(idx); f >= 0) {
        v = s.mtrr_fixed[f];
        return true;
      }
      return fail(m, vec::kGp, 0);
  }
}


template <class M> inline bool write_msr(M& m, uint32_t idx, uint64_t v) {
  auto& s = m.s;
  switch (idx) {
    case core::msr::kTsc: m.s.set_tsc(v); return true;
    case core::msr::kApicBase: {
      // SDM 11.12.5: EN=0 with EXTD=1 is invalid, and so are the moves from
      // x2APIC to xAPIC mode and from disabled to x2APIC. BSP is read-only.
      namespace ab = core::apic_base;
      if (v & ~(kPhysPageBits | ab::kBsp | ab::kExtd | ab::kEnable)) return fail(m, vec::kGp, 0);
      const uint64_t mode = v & (ab::kExtd | ab::kEnable), old_mode = s.apic_base & (ab::kExtd | ab::kEnable);
      if (mode == ab::kExtd) return fail(m, vec::kGp, 0);
      if (old_mode == (ab::kExtd | ab::kEnable) && mode == ab::kEnable) return fail(m, vec::kGp, 0);
      if (old_mode == 0 && mode == (ab::kExtd | ab::kEnable)) return fail(m, vec::kGp, 0);
      const uint64_t old = s.apic_base;
      s.apic_base = (v & ~ab::kBsp) | (old & ab::kBsp);
      m.apic_base_changed(old);
      return true;
    }
    case core::msr::kTscDeadline: return m.apic_msr(true, idx, v) || fail(m, vec::kGp, 0);
    case core::msr::kMiscEnable: s.misc_enable = v; return true;
    case core::msr::kPat:
      if (!valid_type_bytes(v, true)) return fail(m, vec::kGp, 0);
      s.pat = v;
      return true;
    case core::msr::kUcodeRev: return true;  // written before reading the revision; nothing to load
    case core::msr::kMtrrDefType:
      if ((v & ~uint64_t(0xcff)) || !valid_memory_type(unsigned(v & 0xff), false)) return fail(m, vec::kGp, 0);
      s.mtrr_def_type = v;
      return true;
    case core::msr::kSysenterCs: s.sysenter_cs = v & 0xffff; return true;
    case core::msr::kSysenterEsp: s.sysenter_esp = v; return true;
    case core::msr::kSysenterEip: s.sysenter_eip = v; return true;
    case core::msr::kEfer: {
      constexpr uint64_t kWritable = core::efer::kSce | core::efer::kLme | core::efer::kNxe;
      if (v & ~(kWritable | core::efer::kLma)) return fail(m, vec::kGp, 0);
      // LME cannot change while paging is on; LMA is read-only.
      if (s.paging() && ((v ^ s.efer) & core::efer::kLme)) return fail(m, vec::kGp, 0);
      const bool retranslate = (s.efer ^ v) & (core::efer::kLme | core::efer::kNxe);
      s.efer = (s.efer & core::efer::kLma) | (v & kWritable);
      m.paging_changed(retranslate ? TlbFlush::kAll : TlbFlush::kNone);
      return true;
    }
    case core::msr::kStar: s.star = v; return true;
    case core::msr::kLstar:
    case core::msr::kCstar:
    case core::msr::kFsBase:
    case core::msr::kGsBase:
    case core::msr::kKernelGsBase:
      if (!canonical(v)) return fail(m, vec::kGp, 0);
      if (idx == core::msr::kLstar) s.lstar = v;
      else if (idx == core::msr::kCstar) s.cstar = v;
      else if (idx == core::msr::kFsBase) s.seg[kSegFs].base = v;
      else if (idx == core::msr::kGsBase) s.seg[kSegGs].base = v;
      else s.kernel_gs_base = v;
      m.segments_changed();
      return true;
    case core::msr::kSfmask: s.sfmask = v & 0xffffffffull; return true;
    case core::msr::kTscAux: s.tsc_aux = v & 0xffffffffull; return true;
    default:
      if (idx >= core::msr::kX2apicFirst && idx <= core::msr::kX2apicLast)
        return m.apic_msr(true, idx, v) || fail(m, vec::kGp, 0);
      if (idx >= core::msr::kMtrrPhysBase0 && idx < core::msr::kMtrrPhysBase0 + 16) {
        const bool mask = (idx - core::msr::kMtrrPhysBase0) & 1;
        const bool ok = mask ? !(v & ~(kPhysPageBits | (1u << 11)))
                             : !(v & ~(kPhysPageBits | 0xff)) && valid_memory_type(unsigned(v & 0xff), false);
        if (!ok) return fail(m, vec::kGp, 0);
        s.mtrr_var[idx - core::msr::kMtrrPhysBase0] = v;
        return true;
      }
      if (int f = fixed_mtrr_index(idx); f >= 0) {
        if (!valid_type_bytes(v, false)) return fail(m, vec::kGp, 0);
        s.mtrr_fixed[f] = v;
        return true;
      }
      return fail(m, vec::kGp, 0);  // unknown, or read-only (IA32_MTRRCAP, IA32_PLATFORM_ID)
  }
}

struct Rdmsr {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    if (!cpl0(m)) return raise_err(m, vec::kGp, 0);
    uint64_t v;
    RWD_TRY(read_msr(m, uint32_t(m.s.gpr[core::kRcx]), v));
    m.s.gpr[core::kRax] = v & 0xffffffffull;
    m.s.gpr[core::kRdx] = v >> 32;
    return Status::kNext;
  }
};
struct Wrmsr {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    if (!cpl0(m)) return raise_err(m, vec::kGp, 0);
    uint64_t v = (m.s.gpr[core::kRdx] << 32) | (m.s.gpr[core::kRax] & 0xffffffffull);
    RWD_TRY(write_msr(m, uint32_t(m.s.gpr[core::kRcx]), v));
    return Status::kEndBlock;
  }
};
template <bool P> struct Rdtsc {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    if ((m.s.cr4 & core::cr4::kTsd) && !cpl0(m)) return raise_err(m, vec::kGp, 0);
    uint64_t t = m.s.tsc();
    m.s.gpr[core::kRax] = t & 0xffffffffull;
    m.s.gpr[core::kRdx] = t >> 32;
    if (P) m.s.gpr[core::kRcx] = m.s.tsc_aux & 0xffffffffull;
    return Status::kNext;
  }
};
struct Cpuid {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    const uint32_t leaf = uint32_t(m.s.gpr[core::kRax]), subleaf = uint32_t(m.s.gpr[core::kRcx]);
    CpuidResult r = cpuid_model(leaf, subleaf, m.s.cr4, m.s.apic_base, m.apic_id());
    m.mask_cpuid(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
    m.s.gpr[core::kRax] = r.eax;
    m.s.gpr[core::kRbx] = r.ebx;
    m.s.gpr[core::kRcx] = r.ecx;
    m.s.gpr[core::kRdx] = r.edx;
    return Status::kNext;
  }
};

// ---- fast system calls (64-bit flavour) -----------------------------------------

template <class M> inline void flat_segment(core::SegmentCache& c, uint16_t sel, uint16_t attrs) {
  c.selector = sel;
  c.base = 0;
  c.limit = 0xffffffff;
  c.attrs = attrs;
}

// SYSCALL exists in 64-bit mode only on the Intel CPU rewind models
// (compatibility mode: #UD; IA32_CSTAR is kept but never used).
struct Syscall {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    auto& s = m.s;
    if (!(s.efer & core::efer::kSce) || m.mode() != DecodeMode::k64) return raise(m, vec::kUd);
    uint16_t sel = uint16_t(s.star >> 32);
    s.gpr[core::kRcx] = s.rip;
    s.gpr[core::kR11] = (s.rflags & ~fl::kRf) | fl::kFixed1;
    flat_segment<M>(s.seg[kSegCs], sel & 0xfffc, sa::kS | 0xb | sa::kP | sa::kL | sa::kG);
    flat_segment<M>(s.seg[kSegSs], uint16_t((sel + 8) & 0xfffc), sa::kS | 0x3 | sa::kP | sa::kDb | sa::kG);
    s.rip = s.lstar;
    s.rflags &= ~(s.sfmask | fl::kRf);
    m.segments_changed();
    m.flags_reloaded();
    return Status::kEndBlock;
  }
};
struct Sysret {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    auto& s = m.s;
    if (!(s.efer & core::efer::kSce) || !s.long_mode_active()) return raise(m, vec::kUd);
    if (!cpl0(m)) return raise_err(m, vec::kGp, 0);
    uint16_t sel = uint16_t(s.star >> 48);
    constexpr uint16_t kDpl3 = 3u << sa::kDplShift;
    if (d.op_size == 8) {
      if (!canonical(s.gpr[core::kRcx])) return raise_err(m, vec::kGp, 0);
      flat_segment<M>(s.seg[kSegCs], uint16_t((sel + 16) | 3), sa::kS | 0xb | sa::kP | sa::kL | sa::kG | kDpl3);
      s.rip = s.gpr[core::kRcx];
    } else {
      flat_segment<M>(s.seg[kSegCs], uint16_t(sel | 3), sa::kS | 0xb | sa::kP | sa::kDb | sa::kG | kDpl3);
      s.rip = s.gpr[core::kRcx] & 0xffffffffull;
    }
    // SS keeps its cached attributes except the selector and DPL (SDM).
    s.seg[kSegSs].selector = uint16_t((sel + 8) | 3);
    s.seg[kSegSs].attrs = uint16_t((s.seg[kSegSs].attrs & ~(3u << sa::kDplShift)) | kDpl3);
    s.rflags = (s.gpr[core::kR11] & ~(fl::kRf | fl::kVm)) | fl::kFixed1;
    m.segments_changed();
    m.flags_reloaded();
    return Status::kEndBlock;
  }
};
struct Swapgs {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    if (!cpl0(m)) return raise_err(m, vec::kGp, 0);
    uint64_t t = m.s.seg[kSegGs].base;
    m.s.seg[kSegGs].base = m.s.kernel_gs_base;
    m.s.kernel_gs_base = t;
    m.segments_changed();
    return Status::kNext;
  }
};

// SYSENTER / SYSEXIT (Intel: also in 64-bit mode). Flat segments from
// IA32_SYSENTER_CS: CS, SS = CS + 8 at ring 0; SYSEXIT returns to CS + 16 /
// SS + 24 (CS + 32 / SS + 40 with REX.W) at ring 3, RSP = rCX, RIP = rDX.
struct Sysenter {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    auto& s = m.s;
    uint16_t cs = uint16_t(s.sysenter_cs & 0xfffc);
    if (!s.protected_mode() || cs == 0) return raise_err(m, vec::kGp, 0);
    bool ia32e = s.long_mode_active();
    s.rflags &= ~(fl::kVm | fl::kIf | fl::kRf);
    flat_segment<M>(s.seg[kSegCs], cs, sa::kS | 0xb | sa::kP | sa::kG | (ia32e ? sa::kL : sa::kDb));
    flat_segment<M>(s.seg[kSegSs], uint16_t(cs + 8), sa::kS | 0x3 | sa::kP | sa::kDb | sa::kG);
    s.gpr[core::kRsp] = ia32e ? s.sysenter_esp : s.sysenter_esp & 0xffffffffull;
    s.rip = ia32e ? s.sysenter_eip : s.sysenter_eip & 0xffffffffull;
    m.segments_changed();
    return Status::kEndBlock;
  }
};
struct Sysexit {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    auto& s = m.s;
    uint16_t cs = uint16_t(s.sysenter_cs & 0xfffc);
    if (!s.protected_mode() || cs == 0 || !cpl0(m)) return raise_err(m, vec::kGp, 0);
    constexpr uint16_t kDpl3 = 3u << sa::kDplShift;
    if (d.op_size == 8) {
      if (!canonical(s.gpr[core::kRcx]) || !canonical(s.gpr[core::kRdx])) return raise_err(m, vec::kGp, 0);
      flat_segment<M>(s.seg[kSegCs], uint16_t((cs + 32) | 3), sa::kS | 0xb | sa::kP | sa::kL | sa::kG | kDpl3);
      flat_segment<M>(s.seg[kSegSs], uint16_t((cs + 40) | 3), sa::kS | 0x3 | sa::kP | sa::kDb | sa::kG | kDpl3);
      s.gpr[core::kRsp] = s.gpr[core::kRcx];
      s.rip = s.gpr[core::kRdx];
    } else {
      flat_segment<M>(s.seg[kSegCs], uint16_t((cs + 16) | 3), sa::kS | 0xb | sa::kP | sa::kDb | sa::kG | kDpl3);
      flat_segment<M>(s.seg[kSegSs], uint16_t((cs + 24) | 3), sa::kS | 0x3 | sa::kP | sa::kDb | sa::kG | kDpl3);
      s.gpr[core::kRsp] = s.gpr[core::kRcx] & 0xffffffffull;
      s.rip = s.gpr[core::kRdx] & 0xffffffffull;
    }
    m.segments_changed();
    return Status::kEndBlock;
  }
};

// RDRAND / RDSEED r16/32/64: the value comes from the machine's entropy
// source (replay::Inputs, so it is recorded and replayed). Without a source
// the instruction reports "no value" (CF = 0, destination 0), as the
// architecture allows. OF, SF, ZF, AF and PF are cleared.
template <unsigned N> struct Rdrand {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    uint64_t v = 0;
    bool ok = m.entropy_u64(v);
    set_reg<N>(m, d, d.rm, ok ? U<N>(v) : U<N>(0));
    set_arith_flags(m.s, ok ? fl::kCf : 0);
    return Status::kNext;
  }
};
// RDPID r32/r64: IA32_TSC_AUX, at any privilege.
struct Rdpid {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    set_reg_n(m, d.rm, d.op_size, m.s.tsc_aux & size_mask(d.op_size));
    return Status::kNext;
  }
};
// RDPMC: rewind has no performance counters (CPUID leaf 0xA is absent), so
// every counter number is invalid: #GP(0), as it is without CR4.PCE at CPL > 0.
struct Rdpmc {
  template <class M> static Status run(M& m, const DecodedInsn&) { return raise_err(m, vec::kGp, 0); }
};

// ---- odds and ends ----------------------------------------------------------------

struct Xlat {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    int seg = d.seg == SegOverride::kNone ? kSegDs : static_cast<int>(d.seg);
    uint64_t off = (m.s.gpr[core::kRbx] + (m.s.gpr[core::kRax] & 0xff)) & size_mask(d.addr_size);
    U<1> v;
    RWD_TRY(m.template read<1>(seg, off, v));
    set_reg_n(m, core::kRax, 1, v);
    return Status::kNext;
  }
};
struct Salc {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    set_reg_n(m, core::kRax, 1, (m.s.rflags & fl::kCf) ? 0xff : 0);
    return Status::kNext;
  }
};
struct Ud {
  template <class M> static Status run(M& m, const DecodedInsn&) { return raise(m, vec::kUd); }
};
// An instruction of a feature the CPUID model does not report (VMX, SVM,
// SMX, MONITOR/MWAIT, XSAVES, PKU, ...): #UD, as on a CPU without it, and
// no "no semantics" warning, because nothing is missing.
using Absent = Ud;

}  // namespace rwd::tcg
