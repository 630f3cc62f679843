// Bit instructions: BT/BTS/BTR/BTC, BSF/BSR, TZCNT/LZCNT, POPCNT.
//
// Fixed values for undefined flags and results:
//  - BT*: OF, SF, AF, PF unchanged (ZF is architecturally unchanged);
//  - BSF/BSR: CF, OF, SF, AF, PF unchanged; a zero source leaves the
//    destination unchanged (what both vendors do);
//  - TZCNT/LZCNT: OF, SF, AF, PF unchanged. They execute as TZCNT/LZCNT even
//    though the CPUID model does not advertise BMI1.
#pragma once

#include "tcg-llvm/semantics/flags.h"
#include "tcg-llvm/semantics/operands.h"

namespace rwd::tcg {

enum class BitOp : uint8_t { kTest, kSet, kReset, kComplement };

// BT* r/m, reg (register bit offset, which may address outside the operand
// when it is in memory) or r/m, imm8 (offset taken modulo the width).
template <BitOp Op, unsigned N, bool Mem, bool Imm> struct BitTest {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<N, Mem> e(m, d);
    uint64_t bit;
    if constexpr (Imm) {
      bit = d.imm & (kBits<N> - 1);
    } else {
      U<N> off = get_reg<N>(m, d, d.reg);
      bit = off & (kBits<N> - 1);
      if constexpr (Mem) {
        constexpr unsigned kShift = N == 2 ? 4 : N == 4 ? 5 : 6;
        int64_t word = static_cast<int64_t>(sext<N>(off)) >> kShift;
        e.off = (e.off + static_cast<uint64_t>(word) * N) & size_mask(d.addr_size);
      }
    }
    U<N> v;
    if constexpr (Op != BitOp::kTest) RWD_TRY(e.read_rmw(m, d, v));
    else RWD_TRY(e.read(m, d, v));
    bool old = (uint64_t(v) >> bit) & 1;
    if constexpr (Op != BitOp::kTest) {
      U<N> mask = U<N>(1ull << bit);
      U<N> nv = Op == BitOp::kSet ? U<N>(v | mask) : Op == BitOp::kReset ? U<N>(v & ~mask) : U<N>(v ^ mask);
      RWD_TRY(e.write(m, d, nv));
    }
    set_flags(m.s, fl::kCf, old ? fl::kCf : 0);
    return Status::kNext;
  }
};

enum class ScanOp : uint8_t { kBsf, kBsr, kTzcnt, kLzcnt, kPopcnt };

template <ScanOp Op, unsigned N, bool Mem> struct BitScan {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<N, Mem> src(m, d);
    U<N> v;
    RWD_TRY(src.read(m, d, v));
    uint64_t x = v;
    if constexpr (Op == ScanOp::kBsf || Op == ScanOp::kBsr) {
      if (x == 0) {
        set_flags(m.s, fl::kZf, fl::kZf);
        return Status::kNext;
      }
      unsigned r = Op == ScanOp::kBsf ? __builtin_ctzll(x) : 63 - __builtin_clzll(x);
      set_reg<N>(m, d, d.reg, U<N>(r));
      set_flags(m.s, fl::kZf, 0);
    } else if constexpr (Op == ScanOp::kPopcnt) {
      set_reg<N>(m, d, d.reg, U<N>(__builtin_popcountll(x)));
      set_arith_flags(m.s, x == 0 ? fl::kZf : 0);
    } else {
      unsigned r;
      if (x == 0) r = kBits<N>;
      else if (Op == ScanOp::kTzcnt) r = __builtin_ctzll(x);
      else r = __builtin_clzll(x) - (64 - kBits<N>);
      set_reg<N>(m, d, d.reg, U<N>(r));
      set_flags(m.s, fl::kCf | fl::kZf, (x == 0 ? fl::kCf : 0) | (r == 0 ? fl::kZf : 0));
    }
    return Status::kNext;
  }
};

// CRC32 r32/r64, r/m8/16/32/64 (SSE4.2): CRC-32C (Castagnoli, reflected
// polynomial 0x82F63B78) of the source bytes, low byte first, continuing the
// CRC in the destination's low 32 bits; a 64-bit destination is zero-extended.
template <bool Byte, bool Mem> struct Crc32 {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    uint64_t src = 0;
    unsigned n = Byte ? 1 : (d.rex & 8) ? 8 : d.opsize_prefix ? 2 : 4;
    if (n == 1) {
      U<1> v;
      RWD_TRY((Rm<1, Mem>(m, d).read(m, d, v)));
      src = v;
    } else if (n == 2) {
      U<2> v;
      RWD_TRY((Rm<2, Mem>(m, d).read(m, d, v)));
      src = v;
    } else if (n == 4) {
      U<4> v;
      RWD_TRY((Rm<4, Mem>(m, d).read(m, d, v)));
      src = v;
    } else {
      RWD_TRY((Rm<8, Mem>(m, d).read(m, d, src)));
    }
    uint32_t crc = uint32_t(m.s.gpr[d.reg]);
    for (unsigned i = 0; i < n; ++i) {
      crc ^= uint32_t(src >> (8 * i)) & 0xff;
      for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
    }
    set_reg_n(m, d.reg, (d.rex & 8) ? 8 : 4, crc);
    return Status::kNext;
  }
};

}  // namespace rwd::tcg
