// x87 control instructions: FNINIT, FNCLEX, FLDCW/FNSTCW, FNSTSW, and the
// environment and state images of FNSTENV/FLDENV (14 or 28 bytes) and
// FNSAVE/FRSTOR (94 or 108 bytes), in their real-mode and protected-mode
// layouts (SDM vol. 1, 8.1.10). Control instructions do not update the
// last-instruction pointers; the "FN" forms do not wait (no #MF check).
#pragma once

#include "tcg-llvm/semantics/x87.h"

namespace rwd::tcg {

template <class M> inline void x87_init(M& m) {
  auto& x = m.s.x87;
  x.fcw = 0x037f;
  x.fsw = 0;
  x.ftw = 0xffff;
  x.fop = 0;
  x.fcs = 0;
  x.fds = 0;
  x.fip = 0;
  x.fdp = 0;
}

struct X87Init {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, false, false));
    x87_init(m);
    return Status::kNext;
  }
};

struct X87ClearExceptions {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, false, false));
    m.s.x87.fsw &= 0x7f00;  // keeps C0-C3 and TOP
    return Status::kNext;
  }
};

// The control word as FLDCW leaves it: reserved bits 13-15 and 7 read as 0,
// bit 6 as 1.
inline uint16_t x87_control_word(uint16_t v) { return uint16_t((v & 0x1f3f) | 0x40); }

template <bool Load> struct X87ControlWord {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, Load, false));
    const uint64_t off = effective_address(m, d);
    const int seg = operand_segment(d);
    if constexpr (Load) {
      U<2> v;
      RWD_TRY(m.template read<2>(seg, off, v));
      m.s.x87.fcw = x87_control_word(v);
      x87_update_summary(m);
    } else {
      RWD_TRY(m.template write<2>(seg, off, m.s.x87.fcw));
    }
    return Status::kNext;
  }
};

// FNSTSW m16 (Mem) or FNSTSW AX.
template <bool Mem> struct X87StoreStatus {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, false, false));
    if constexpr (Mem) {
      RWD_TRY(m.template write<2>(operand_segment(d), effective_address(m, d), m.s.x87.fsw));
    } else {
      m.s.gpr[core::kRax] = (m.s.gpr[core::kRax] & ~0xffffull) | m.s.x87.fsw;
    }
    return Status::kNext;
  }
};

// The tag word as stored in an image: empty stays empty, a register in use
// is tagged by its contents.
template <class M> inline uint16_t x87_stored_tags(M& m) {
  uint16_t tags = 0;
  for (unsigned r = 0; r < 8; ++r) {
    const unsigned t = ((m.s.x87.ftw >> (2 * r)) & 3) == 3 ? 3 : x87_tag_of(m.s.x87.st[r]);
    tags = uint16_t(tags | t << (2 * r));
  }
  return tags;
}

// The environment image: 14 bytes with a 16-bit operand size, else 28.
// Reserved halves of the 28-byte layout are stored as ones.
template <class M> inline bool x87_store_env(M& m, const DecodedInsn& d, int seg, uint64_t off) {
  const auto& x = m.s.x87;
  const unsigned as = d.addr_size;
  auto at = [&](uint64_t o) { return (off + o) & size_mask(as); };
  const bool real = !(m.s.cr0 & core::cr0::kPe) || (m.s.rflags & core::rflags::kVm);
  const uint16_t tags = x87_stored_tags(m);
  const uint32_t fip = uint32_t(x.fip), fdp = uint32_t(x.fdp);
  if (d.op_size == 2) {
    const uint16_t w[7] = {x.fcw, x.fsw, tags,
                           uint16_t(fip),
                           real ? uint16_t((fip >> 16 & 0xf) << 12 | (x.fop & 0x7ff)) : x.fcs,
                           uint16_t(fdp),
                           real ? uint16_t((fdp >> 16 & 0xf) << 12) : x.fds};
    for (unsigned i = 0; i < 7; ++i) if (!(m.template write<2>(seg, at(2 * i), w[i]))) return false;
  } else {
    const uint32_t hi = 0xffff0000u;
    const uint32_t w[7] = {hi | x.fcw, hi | x.fsw, hi | tags,
                           real ? hi | (fip & 0xffff) : fip,
                           real ? (fip >> 16) << 12 | (x.fop & 0x7ffu) : uint32_t(x.fop & 0x7ffu) << 16 | x.fcs,
                           real ? hi | (fdp & 0xffff) : fdp,
                           real ? (fdp >> 16) << 12 : hi | x.fds};
    for (unsigned i = 0; i < 7; ++i) if (!(m.template write<4>(seg, at(4 * i), w[i]))) return false;
  }
  return true;
}

// Reads an environment image (without committing it).
struct X87EnvImage {
  uint16_t fcw, fsw, ftw, fop, fcs, fds;
  uint64_t fip, fdp;
};
template <class M> inline bool x87_read_env(M& m, const DecodedInsn& d, int seg, uint64_t off, X87EnvImage& img) {
  const unsigned as = d.addr_size;
  auto at = [&](uint64_t o) { return (off + o) & size_mask(as); };
  const bool real = !(m.s.cr0 & core::cr0::kPe) || (m.s.rflags & core::rflags::kVm);
  if (d.op_size == 2) {
    U<2> w[7];
    for (unsigned i = 0; i < 7; ++i) if (!(m.template read<2>(seg, at(2 * i), w[i]))) return false;
    img = {w[0], w[1], w[2], uint16_t(real ? w[4] & 0x7ff : 0), uint16_t(real ? 0 : w[4]), uint16_t(real ? 0 : w[6]),
           real ? uint64_t(w[3]) | uint64_t(w[4] >> 12) << 16 : w[3],
           real ? uint64_t(w[5]) | uint64_t(w[6] >> 12) << 16 : w[5]};
  } else {
    U<4> w[7];
    for (unsigned i = 0; i < 7; ++i) if (!(m.template read<4>(seg, at(4 * i), w[i]))) return false;
    img = {uint16_t(w[0]), uint16_t(w[1]), uint16_t(w[2]),
           uint16_t(real ? w[4] & 0x7ff : (w[4] >> 16) & 0x7ff), uint16_t(real ? 0 : w[4]), uint16_t(real ? 0 : w[6]),
           real ? uint64_t(w[3] & 0xffff) | uint64_t(w[4] >> 12) << 16 : w[3],
           real ? uint64_t(w[5] & 0xffff) | uint64_t(w[6] >> 12) << 16 : w[5]};
  }
  return true;
}
template <class M> inline void x87_commit_env(M& m, const X87EnvImage& img) {
  auto& x = m.s.x87;
  x.fcw = x87_control_word(img.fcw);
  x.fsw = img.fsw;
  x.fop = img.fop;
  x.fcs = img.fcs;
  x.fds = img.fds;
  x.fip = img.fip;
  x.fdp = img.fdp;
  uint16_t tags = 0;
  for (unsigned r = 0; r < 8; ++r) {
    const unsigned t = ((img.ftw >> (2 * r)) & 3) == 3 ? 3 : x87_tag_of(x.st[r]);
    tags = uint16_t(tags | t << (2 * r));
  }
  x.ftw = tags;
  x87_update_summary(m);
}

// FNSTENV (then masks every exception) and FLDENV; FNSAVE (then
// reinitialises the unit) and FRSTOR, which add the eight registers in
// stack order after the environment.
template <bool Load, bool Registers> struct X87State {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, Load, false));
    const uint64_t off = effective_address(m, d);
    const int seg = operand_segment(d);
    const unsigned env_size = d.op_size == 2 ? 14 : 28;
    // The host checks the image's first field (2 or 4 bytes, by its layout:
    // segment, then alignment), then the pages of its first and last bytes.
    const unsigned field = d.op_size == 2 ? 2 : 4;
    RWD_TRY(m.check_segment(seg, off, field, !Load));
    RWD_TRY(m.check_alignment(seg, off, field));
    // The image's first byte, then its last (the host's order).
    RWD_TRY(probe_ends(m, seg, off, env_size + (Registers ? 80 : 0), d.addr_size, !Load, false));
    auto at = [&](uint64_t o) { return (off + o) & size_mask(d.addr_size); };
    if constexpr (Load) {
      X87EnvImage img;
      RWD_TRY(x87_read_env(m, d, seg, off, img));
      fp::F80 regs[8];
      if constexpr (Registers)
        for (unsigned i = 0; i < 8; ++i)
          RWD_TRY(read_f80<false>(m, seg, at(env_size + 10 * i), d.addr_size, regs[i]));
      if constexpr (Registers) {
        const unsigned top = (img.fsw >> 11) & 7;
        for (unsigned i = 0; i < 8; ++i) {
          uint8_t* st = m.s.x87.st[(top + i) & 7];
          __builtin_memcpy(st, &regs[i].mant, 8);
          st[8] = uint8_t(regs[i].se);
          st[9] = uint8_t(regs[i].se >> 8);
        }
      }
      x87_commit_env(m, img);
    } else {
      RWD_TRY(x87_store_env(m, d, seg, off));
      if constexpr (Registers) {
        for (unsigned i = 0; i < 8; ++i)
          RWD_TRY(write_f80<false>(m, seg, at(env_size + 10 * i), d.addr_size, x87_get(m, i)));
        x87_init(m);
      } else {
        m.s.x87.fcw |= 0x3f;
        x87_update_summary(m);
      }
    }
    return Status::kNext;
  }
};

}  // namespace rwd::tcg
