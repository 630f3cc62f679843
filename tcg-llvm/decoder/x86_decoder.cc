#include "tcg-llvm/decoder/x86_decoder.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "tcg-llvm/decoder/x86_decode_tables.h"
#include "tcg-llvm/decoder/x86_form_info.h"

namespace rwd::tcg {

namespace x86_tables {
void table_error(const char* why) { std::abort(); }  // never reached: only named in constant evaluation
}  // namespace x86_tables

namespace {

using namespace x86_col;
using x86_tables::kTables;

// Prefix classes, one table lookup per byte on the hot prefix loop.
enum PrefixClass : uint8_t { kNotPrefix, kSeg, kOpSize, kAddrSize, kLock, kRepNe, kRep, kRex };

constexpr std::array<uint8_t, 256> make_prefix_classes() {
  std::array<uint8_t, 256> c{};
  for (int b : {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65}) c[b] = kSeg;
  c[0x66] = kOpSize;
  c[0x67] = kAddrSize;
  c[0xf0] = kLock;
  c[0xf2] = kRepNe;
  c[0xf3] = kRep;
  for (int b = 0x40; b <= 0x4f; ++b) c[b] = kRex;
  return c;
}
constexpr std::array<uint8_t, 256> kPrefixClass = make_prefix_classes();

constexpr SegOverride seg_of_prefix(uint8_t b) {
  switch (b) {
    case 0x26: return SegOverride::kEs;
    case 0x2e: return SegOverride::kCs;
    case 0x36: return SegOverride::kSs;
    case 0x3e: return SegOverride::kDs;
    case 0x64: return SegOverride::kFs;
    default: return SegOverride::kGs;
  }
}

// Everything the prefix scan found, before the opcode.
struct Prefixes {
  bool opsize = false;
  bool addrsize = false;
  bool lock = false;
  RepPrefix rep = RepPrefix::kNone;
  SegOverride seg = SegOverride::kNone;
  uint8_t rex = 0;
};

// The extension bits that REX, VEX, EVEX and XOP all provide (already un-inverted).
struct Ext {
  uint8_t r = 0;   // reg bit 3
  uint8_t x = 0;   // index bit 3
  uint8_t b = 0;   // rm/base bit 3
  uint8_t r2 = 0;  // EVEX R': reg bit 4
  uint8_t x2 = 0;  // EVEX X as register-rm bit 4 (mod == 11)
  bool w = false;
};

// A cursor over the readable bytes. `limit` is min(avail, 15); running past it
// is either truncation or an over-long instruction: both make decode fail.
struct Cursor {
  const uint8_t* p;
  size_t pos;
  size_t limit;
  bool has(size_t n) const { return pos + n <= limit; }
};

// Fixed-size loads (a variable-length memcpy would be a libc call per field).
// The host is little-endian x86-64, like the guest.
inline uint64_t read_le(const uint8_t* p, int n) {
  switch (n) {
    case 1: return p[0];
    case 2: { uint16_t v; std::memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; std::memcpy(&v, p, 4); return v; }
    default: { uint64_t v; std::memcpy(&v, p, 8); return v; }
  }
}

[[gnu::always_inline]] inline int64_t sign_extend(uint64_t v, int bytes) {
  const int shift = 64 - 8 * bytes;
  return static_cast<int64_t>(v << shift) >> shift;
}

[[gnu::always_inline]] inline uint8_t address_size(DecodeMode mode, bool prefix67) {
  switch (mode) {
    case DecodeMode::k16: return prefix67 ? 4 : 2;
    case DecodeMode::k32: return prefix67 ? 2 : 4;
    default: return prefix67 ? 4 : 8;
  }
}

[[gnu::always_inline]] inline uint8_t operand_size(uint8_t osz, DecodeMode mode, bool opsize, bool w) {
  const bool m64 = mode == DecodeMode::k64;
  const uint8_t v = m64 ? (w ? 8 : (opsize ? 2 : 4)) : (((mode == DecodeMode::k16) != opsize) ? 2 : 4);
  switch (osz) {
    case B: return 1;
    case D64: return m64 ? ((opsize && !w) ? 2 : 8) : v;
    case F64: return m64 ? 8 : v;
    case Y: return (m64 && w) ? 8 : 4;
    case W: return 2;
    case Cr: return m64 ? 8 : 4;
    default: return v;
  }
}

// Parses ModRM (already read into out.mod/reg/rm raw bits), SIB and the
// displacement. Fills base/index/scale/disp and extends reg/rm.
[[gnu::always_inline]] inline bool parse_modrm_operand(Cursor& c, const Ext& e, DecodedInsn& out) {
  const uint8_t mod = out.mod;
  const uint8_t rm3 = out.rm & 7;
  out.reg = static_cast<uint8_t>((out.reg & 7) | (e.r << 3) | (e.r2 << 4));
  if (mod == 3) {
    out.rm = static_cast<uint8_t>(rm3 | (e.b << 3) | (e.x2 << 4));
    return true;
  }
  out.rm = static_cast<uint8_t>(rm3 | (e.b << 3));
  int disp_bytes = mod == 1 ? 1 : 0;
  if (out.addr_size == 2) {
    // 16-bit forms: [BX+SI] [BX+DI] [BP+SI] [BP+DI] [SI] [DI] [BP]/disp16 [BX].
    static constexpr uint8_t kBase[8] = {3, 3, 5, 5, 6, 7, 5, 3};
    static constexpr uint8_t kIndex[8] = {6, 7, 6, 7, kNoReg, kNoReg, kNoReg, kNoReg};
    if (mod == 2) disp_bytes = 2;
    if (mod == 0 && rm3 == 6) {
      out.base = kNoReg;
      disp_bytes = 2;
    } else {
      out.base = kBase[rm3];
      out.index = kIndex[rm3];
    }
  } else {
    if (mod == 2) disp_bytes = 4;
    uint8_t base3 = rm3;
    if (rm3 == 4) {
      if (!c.has(1)) return false;
      const uint8_t sib = c.p[c.pos++];
      out.scale = sib >> 6;
      const uint8_t idx = static_cast<uint8_t>(((sib >> 3) & 7) | (e.x << 3));
      out.index = idx == 4 ? kNoReg : idx;  // index 100 without REX.X: none
      base3 = sib & 7;
      if (base3 == 5 && mod == 0) {
        out.base = kNoReg;
        disp_bytes = 4;
      } else {
        out.base = static_cast<uint8_t>(base3 | (e.b << 3));
      }
    } else if (rm3 == 5 && mod == 0) {
      out.base = kNoReg;  // disp32; finish_modrm turns it RIP-relative in 64-bit mode
      disp_bytes = 4;
    } else {
      out.base = static_cast<uint8_t>(base3 | (e.b << 3));
    }
  }
  if (disp_bytes) {
    if (!c.has(static_cast<size_t>(disp_bytes))) return false;
    out.disp = sign_extend(read_le(c.p + c.pos, disp_bytes), disp_bytes);
    c.pos += static_cast<size_t>(disp_bytes);
  }
  return true;
}

// Reads the immediate(s) of kind `imm`.
[[gnu::always_inline]] inline bool parse_immediate(Cursor& c, uint8_t imm, DecodedInsn& out) {
  auto take = [&](int n, uint64_t& v) {
    if (!c.has(static_cast<size_t>(n))) return false;
    v = read_le(c.p + c.pos, n);
    c.pos += static_cast<size_t>(n);
    return true;
  };
  uint64_t v = 0, v2 = 0;
  switch (imm) {
    case I0: return true;
    case Ib: if (!take(1, v)) return false; out.imm = v; return true;
    case Ibs: case Jb: if (!take(1, v)) return false; out.imm = static_cast<uint64_t>(sign_extend(v, 1)); return true;
    case Iw: if (!take(2, v)) return false; out.imm = v; return true;
    case Id: if (!take(4, v)) return false; out.imm = v; return true;
    case Iz: case Jz: {
      const int n = out.op_size == 2 ? 2 : 4;
      if (!take(n, v)) return false;
      out.imm = static_cast<uint64_t>(sign_extend(v, n));
      return true;
    }
    case Iv: {
      const int n = out.op_size;
      if (!take(n, v)) return false;
      out.imm = v;
      return true;
    }
    case Ap: {
      const int n = out.op_size == 2 ? 2 : 4;
      if (!take(n, v) || !take(2, v2)) return false;
      out.imm = v;
      out.imm2 = static_cast<uint16_t>(v2);
      return true;
    }
    case Ov: {
      const int n = out.addr_size;
      if (!take(n, v)) return false;
      out.disp = static_cast<int64_t>(v);
      return true;
    }
    case IwIb: case IbIb: {
      if (!take(imm == IwIb ? 2 : 1, v) || !take(1, v2)) return false;
      out.imm = v;
      out.imm2 = static_cast<uint16_t>(v2);
      return true;
    }
    default: return false;
  }
}

[[gnu::always_inline]] inline bool finish_modrm(Cursor& c, const Ext& e, DecodeMode mode, DecodedInsn& out) {
  if (!parse_modrm_operand(c, e, out)) return false;
  // mod=00 rm=101 without SIB: disp32 absolute, or RIP-relative in 64-bit mode.
  if (mode == DecodeMode::k64 && out.mod == 0 && (out.rm & 7) == 5) out.base = kRipBase;
  return true;
}

// The first matching row of a slot by specificity (see x86_forms.inc).
[[gnu::always_inline]] inline const x86_tables::Row* select_row(const x86_tables::Slot& slot, DecodeMode mode, const Prefixes& px,
                                  uint8_t modrm_byte) {
  // Most opcodes have one unconditional row (ADD_Ev_Gv, JCC_Jz, ...).
  if (slot.props & x86_tables::kSingleRow) return &kTables.rows[slot.first];
  const bool m64 = mode == DecodeMode::k64;
  const uint8_t mod = modrm_byte >> 6;
  const uint8_t digit = (modrm_byte >> 3) & 7;
  const x86_tables::Row* best = nullptr;
  int best_score = -1;
  for (size_t i = 0; i < slot.count; ++i) {
    const x86_tables::Row& r = kTables.rows[slot.first + i];
    if ((r.flags & I64) && m64) continue;
    if ((r.flags & O64) && !m64) continue;
    if ((r.flags & NoRexB) && (px.rex & 1)) continue;
    if ((r.flags & RexW) && !(px.rex & 8)) continue;
    int score = 0;
    if (modrm_is_exact(r.modrm)) {
      if ((r.modrm & 0xff) != modrm_byte) continue;
      score = 2;
    } else if (modrm_is_digit(r.modrm)) {
      if ((r.modrm & 7) != digit) continue;
      score = 1;
    }
    if (!(r.flags & ModAny)) {
      if (r.modc == Mem && mod == 3) continue;
      if (r.modc == Reg && mod != 3) continue;
    }
    switch (r.pfx) {
      // An F2/F3 occupies the mandatory-prefix slot even when no row uses
      // it; 66 then only sets the operand size (this is also what MC does).
      case P66: if (!px.opsize || px.rep != RepPrefix::kNone) continue; score += 4; break;
      case PF3: if (px.rep != RepPrefix::kRepE) continue; score += 8; break;
      case PF2: if (px.rep != RepPrefix::kRepNE) continue; score += 8; break;
      default: break;
    }
    if (score > best_score) {
      best = &r;
      best_score = score;
    }
  }
  return best;
}

// Immediate kinds of the VEX/EVEX/XOP maps (no rows: all generic forms).
uint8_t vex_imm(Encoding enc, OpcodeMap map, uint8_t op) {
  switch (map) {
    case OpcodeMap::k0F:
      return ((op >= 0x70 && op <= 0x73) || op == 0xc2 || (op >= 0xc4 && op <= 0xc6)) ? Ib : I0;
    case OpcodeMap::k0F3A: return Ib;
    case OpcodeMap::kXop8: return Ib;
    case OpcodeMap::kXopA: return Id;
    default: return I0;
  }
}

// C4/C5 (VEX), 62 (EVEX), 8F (XOP): the lead byte is at c.pos - 1.
bool decode_vex_family(Cursor& c, uint8_t lead, DecodeMode mode, const Prefixes& px, DecodedInsn& out) {
  const bool m64 = mode == DecodeMode::k64;
  Ext e;
  uint8_t map_sel = 0;
  uint8_t p1 = 0;
  out.form = Form::kInvalid;
  if (lead == 0xc5) {
    if (!c.has(1)) return false;
    p1 = c.p[c.pos++];
    e.r = !(p1 & 0x80);
    map_sel = 1;
    out.encoding = Encoding::kVex;
  } else {
    if (!c.has(2)) return false;
    const uint8_t p0 = c.p[c.pos++];
    p1 = c.p[c.pos++];
    e.r = !(p0 & 0x80);
    e.x = !(p0 & 0x40);
    e.b = !(p0 & 0x20);
    e.w = p1 & 0x80;
    if (lead == 0x62) {
      if (!c.has(1)) return false;
      const uint8_t p2 = c.p[c.pos++];
      out.encoding = Encoding::kEvex;
      e.r2 = !(p0 & 0x10);
      e.x2 = e.x;
      map_sel = p0 & 7;
      out.evex_z = p2 & 0x80;
      out.vector_len = (p2 >> 5) & 3;
      out.evex_b = p2 & 0x10;
      out.evex_aaa = p2 & 7;
      out.vvvv = static_cast<uint8_t>(((p2 & 0x08) ? 0 : 16));
      // P0 bit 3 must be 0 and P1 bit 2 must be 1 (AVX-512; APX reuses both).
      if ((p0 & 0x08) || !(p1 & 0x04)) {
        out.length = static_cast<uint8_t>(c.pos);
        return true;
      }
    } else {
      out.encoding = lead == 0x8f ? Encoding::kXop : Encoding::kVex;
      map_sel = p0 & 0x1f;
    }
  }
  out.vex_w = e.w;
  out.vvvv = static_cast<uint8_t>(out.vvvv | ((~p1 >> 3) & 15));
  if (out.encoding != Encoding::kEvex) out.vector_len = (p1 >> 2) & 1;
  out.pp = p1 & 3;
  if (!m64) {
    // Outside 64-bit mode only 8 registers exist: the extension bits are
    // ignored (they are what made the lead byte VEX instead of LES/LDS/BOUND).
    e = Ext{0, 0, 0, 0, 0, e.w};
    out.vvvv &= 7;
  }
  switch (out.encoding) {
    case Encoding::kVex:
      if (map_sel < 1 || map_sel > 3) return (out.length = static_cast<uint8_t>(c.pos), true);
      out.map = static_cast<OpcodeMap>(static_cast<int>(OpcodeMap::k0F) + map_sel - 1);
      out.form = Form::UNNAMED_VEX;
      break;
    case Encoding::kEvex: {
      static constexpr OpcodeMap kEvexMaps[8] = {OpcodeMap::kOneByte, OpcodeMap::k0F, OpcodeMap::k0F38,
                                                 OpcodeMap::k0F3A, OpcodeMap::kMap4, OpcodeMap::kMap5,
                                                 OpcodeMap::kMap6, OpcodeMap::kMap7};
      if (map_sel == 0 || map_sel == 4 || map_sel == 7) return (out.length = static_cast<uint8_t>(c.pos), true);
      out.map = kEvexMaps[map_sel];
      out.form = Form::UNNAMED_EVEX;
      break;
    }
    default:
      if (map_sel > 10) return (out.length = static_cast<uint8_t>(c.pos), true);
      out.map = static_cast<OpcodeMap>(static_cast<int>(OpcodeMap::kXop8) + map_sel - 8);
      out.form = Form::UNNAMED_XOP;
      break;
  }
  if (!c.has(1)) return false;
  out.opcode = c.p[c.pos++];
  out.op_size = operand_size(Y, mode, false, e.w);
  out.seg = px.seg;
  out.addr_size = address_size(mode, px.addrsize);
  // VZEROUPPER/VZEROALL (VEX 0F 77) is the only one without ModRM.
  const bool has_modrm = !(out.encoding == Encoding::kVex && out.map == OpcodeMap::k0F && out.opcode == 0x77);
  if (has_modrm) {
    if (!c.has(1)) return false;
    const uint8_t m = c.p[c.pos++];
    out.has_modrm = true;
    out.mod = m >> 6;
    out.reg = (m >> 3) & 7;
    out.rm = m & 7;
    if (!finish_modrm(c, e, mode, out)) return false;
  }
  if (!parse_immediate(c, vex_imm(out.encoding, out.map, out.opcode), out)) return false;
  // Prefixes that VEX/EVEX/XOP replace must not precede them (#UD).
  if (px.opsize || px.rep != RepPrefix::kNone || px.lock || px.rex) out.form = Form::kInvalid;
  out.length = static_cast<uint8_t>(c.pos);
  return true;
}

}  // namespace

const char* form_name(Form f) { return form_info(f).name; }

bool decode_x86(const uint8_t* bytes, size_t avail, DecodeMode mode, DecodedInsn& out) {
  out = DecodedInsn{};
  out.form = Form::kInvalid;
  out.seg = SegOverride::kNone;
  out.reg = out.rm = out.base = out.index = kNoReg;
  Cursor c{bytes, 0, avail < kMaxInsnLength ? avail : kMaxInsnLength};
  const bool m64 = mode == DecodeMode::k64;

  // Legacy prefixes in any order; REX counts only immediately before the opcode.
  Prefixes px;
  uint8_t op = 0;
  for (;;) {
    if (!c.has(1)) return false;
    op = c.p[c.pos];
    const uint8_t cls = kPrefixClass[op];
    if (cls == kNotPrefix || (cls == kRex && !m64)) break;
    ++c.pos;
    if (cls == kRex) {
      px.rex = op;
      continue;
    }
    px.rex = 0;  // a legacy prefix after REX makes that REX void
    switch (cls) {
      case kSeg:
        // In 64-bit mode ES/CS/SS/DS overrides are ignored altogether (Intel:
        // an earlier FS/GS override stays in effect).
        if (!m64 || op == 0x64 || op == 0x65) px.seg = seg_of_prefix(op);
        break;
      case kOpSize: px.opsize = true; break;
      case kAddrSize: px.addrsize = true; break;
      case kLock: px.lock = true; break;
      case kRepNe: px.rep = RepPrefix::kRepNE; break;
      default: px.rep = RepPrefix::kRepE; break;
    }
  }
  ++c.pos;
  out.rep = px.rep;
  out.lock = px.lock;
  out.opsize_prefix = px.opsize;
  out.rex = px.rex;
  out.seg = px.seg;
  out.addr_size = address_size(mode, px.addrsize);
  out.encoding = Encoding::kLegacy;

  uint8_t map = M1;
  if (op == 0x0f) {
    if (!c.has(1)) return false;
    op = c.p[c.pos++];
    if (op == 0x38 || op == 0x3a) {
      map = op == 0x38 ? M0F38 : M0F3A;
      if (!c.has(1)) return false;
      op = c.p[c.pos++];
    } else if (op == 0x0f) {
      map = Gen;  // 3DNow!: 0F 0F /r, then the real opcode as a trailing byte
    } else {
      map = M0F;
    }
  } else if (op == 0xc4 || op == 0xc5 || op == 0x62 || op == 0x8f) {
    if (!c.has(1)) return false;
    const uint8_t next = c.p[c.pos];
    const bool vex = op == 0x8f ? (next & 0x1f) >= 8 : (m64 || (next & 0xc0) == 0xc0);
    if (vex) return decode_vex_family(c, op, mode, px, out);
  }

  const Ext e{static_cast<uint8_t>((px.rex >> 2) & 1), static_cast<uint8_t>((px.rex >> 1) & 1),
              static_cast<uint8_t>(px.rex & 1), 0, 0, (px.rex & 8) != 0};
  out.vex_w = e.w;

  if (map == Gen) {  // 3DNow!
    out.map = OpcodeMap::k3DNow;
    out.op_size = operand_size(V, mode, px.opsize, e.w);
    if (!c.has(1)) return false;
    const uint8_t m = c.p[c.pos++];
    out.has_modrm = true;
    out.mod = m >> 6;
    out.reg = (m >> 3) & 7;
    out.rm = m & 7;
    if (!finish_modrm(c, e, mode, out) || !c.has(1)) return false;
    out.opcode = c.p[c.pos++];
    out.form = Form::THREEDNOW_Pq_Qq;
    out.length = static_cast<uint8_t>(c.pos);
    return true;
  }

  out.map = static_cast<OpcodeMap>(map);  // M1..M0F3A match OpcodeMap's first four
  out.opcode = op;
  const x86_tables::Slot& slot = kTables.slots[map * 256 + op];
  uint8_t modrm_byte = 0;
  if (slot.props & x86_tables::kHasModrm) {
    if (!c.has(1)) return false;
    modrm_byte = c.p[c.pos++];
    out.has_modrm = true;
    out.mod = modrm_byte >> 6;
    out.reg = (modrm_byte >> 3) & 7;
    out.rm = modrm_byte & 7;
  }
  const x86_tables::Row* row = select_row(slot, mode, px, modrm_byte);
  uint8_t imm = slot.unnamed_imm;
  uint8_t osz = V;
  uint16_t flags = 0;
  if (row) {
    out.form = row->form;
    imm = row->imm;
    osz = row->osz;
    flags = row->flags;
  } else if (!(slot.props & x86_tables::kStrict)) {
    out.form = Form::UNNAMED_LEGACY;
  } else {
    out.length = static_cast<uint8_t>(c.pos);
    return true;  // #UD
  }
  // A 66 that selected the row is not an operand-size override.
  const bool opsize = px.opsize && !(row && row->pfx == P66);
  out.op_size = operand_size(osz, mode, opsize, e.w);
  if (flags & PlusR) out.reg = static_cast<uint8_t>((op & 7) | (e.b << 3));
  if (out.has_modrm) {
    if (flags & ModAny) {
      out.mod = 3;  // MOV CR/DR: always registers, whatever mod says
    }
    if (!finish_modrm(c, e, mode, out)) return false;
  }
  if (!parse_immediate(c, imm, out)) return false;
  out.length = static_cast<uint8_t>(c.pos);
  // LOCK is allowed only on the read-modify-write forms with a memory destination.
  if (px.lock && (!(flags & Lock) || out.mod == 3 || !out.has_modrm)) out.form = Form::kInvalid;
  return true;
}

namespace {

const char* map_text(OpcodeMap map) {
  switch (map) {
    case OpcodeMap::kOneByte: return "";
    case OpcodeMap::k0F: return "0F";
    case OpcodeMap::k0F38: return "0F38";
    case OpcodeMap::k0F3A: return "0F3A";
    case OpcodeMap::kMap4: return "MAP4";
    case OpcodeMap::kMap5: return "MAP5";
    case OpcodeMap::kMap6: return "MAP6";
    case OpcodeMap::kMap7: return "MAP7";
    case OpcodeMap::k3DNow: return "0F 0F";
    case OpcodeMap::kXop8: return "MAP8";
    case OpcodeMap::kXop9: return "MAP9";
    case OpcodeMap::kXopA: return "MAPA";
  }
  return "?";
}

}  // namespace

std::string describe_encoding(const DecodedInsn& insn) {
  char buf[96];
  std::string s;
  const uint8_t modrm = static_cast<uint8_t>((insn.mod << 6) | ((insn.reg & 7) << 3) | (insn.rm & 7));
  if (insn.encoding == Encoding::kLegacy) {
    // The prefixes that can select a form, then the map escape, as the SDM writes it.
    if (insn.opsize_prefix) s += "66 ";
    if (insn.rep == RepPrefix::kRepE) s += "F3 ";
    if (insn.rep == RepPrefix::kRepNE) s += "F2 ";
    if (insn.rex & 8) s += "REX.W ";
    switch (insn.map) {
      case OpcodeMap::k0F: s += "0F "; break;
      case OpcodeMap::k0F38: s += "0F 38 "; break;
      case OpcodeMap::k0F3A: s += "0F 3A "; break;
      case OpcodeMap::k3DNow: s += "0F 0F "; break;
      default: break;
    }
    if (insn.map == OpcodeMap::k3DNow) {
      std::snprintf(buf, sizeof buf, "/r 0x%02X (ModRM 0x%02X)", insn.opcode, modrm);
    } else if (insn.has_modrm) {
      std::snprintf(buf, sizeof buf, "0x%02X /r (ModRM 0x%02X)", insn.opcode, modrm);
    } else {
      std::snprintf(buf, sizeof buf, "0x%02X", insn.opcode);
    }
    return s + buf;
  }
  static constexpr const char* kPp[4] = {"", ".66", ".F3", ".F2"};
  static constexpr const char* kLen[4] = {"128", "256", "512", "L3"};
  const char* enc = insn.encoding == Encoding::kVex ? "VEX" : insn.encoding == Encoding::kEvex ? "EVEX" : "XOP";
  std::snprintf(buf, sizeof buf, "%s.%s%s.%s.W%d 0x%02X", enc, kLen[insn.vector_len & 3], kPp[insn.pp & 3],
                map_text(insn.map), insn.vex_w ? 1 : 0, insn.opcode);
  s = buf;
  if (insn.has_modrm) {
    std::snprintf(buf, sizeof buf, " /r (ModRM 0x%02X)", modrm);
    s += buf;
  }
  return s;
}

}  // namespace rwd::tcg
