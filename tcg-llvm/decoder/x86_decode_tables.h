// The decoder's lookup tables, computed at compile time from the rows of
// x86_forms.inc (one table, one truth): for every (legacy map, opcode byte) a
// slot listing the candidate rows, plus what to do when no row matches.
// Internal to the decoder; other components read x86_form_info.h.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "tcg-llvm/decoder/x86_form_info.h"

namespace rwd::tcg::x86_tables {

// One candidate row of a slot: the columns the decoder needs, PlusR/PlusCc
// already expanded to one slot per opcode.
struct Row {
  Form form;
  uint16_t modrm;  // x86_col::ModrmKind or Ex(byte)
  uint8_t pfx;
  uint8_t modc;
  uint8_t osz;
  uint8_t imm;
  uint16_t flags;
};

// Slot properties.
enum SlotProp : uint8_t {
  kHasModrm = 1 << 0,  // a ModRM byte follows the opcode
  kStrict = 1 << 1,    // no matching row means #UD (else UNNAMED_LEGACY)
  kSingleRow = 1 << 2, // exactly one row and it matches whatever the ModRM,
                       // prefixes and mode: no selection needed
};

struct Slot {
  uint16_t first;       // index of the first candidate in Tables::rows
  uint8_t count;        // number of candidates (0: only the fallback applies)
  uint8_t props;        // SlotProp bits
  uint8_t unnamed_imm;  // immediate kind for the UNNAMED_LEGACY fallback
};

inline constexpr size_t kMaxRows = 2048;

struct Tables {
  std::array<Slot, x86_col::kIndexedMaps * 256> slots{};
  std::array<Row, kMaxRows> rows{};
  size_t row_count = 0;
};

// Called only from constant evaluation: a call to this non-constexpr function
// makes the table build fail to compile, naming the problem.
void table_error(const char* why);

namespace detail {

struct Source {
  Form form;
  const FormInfo* info;
};

constexpr int expansion(const FormInfo& f) {
  if (f.flags & x86_col::PlusR) return 8;
  if (f.flags & x86_col::PlusCc) return 16;
  return 1;
}

template <typename Fn>
constexpr void for_each_source(Fn&& fn) {
  constexpr size_t kForms = sizeof(x86_col::kFormInfo) / sizeof(FormInfo);
  for (size_t i = 0; i < kForms; ++i) {
    if (x86_col::kFormInfo[i].map != x86_col::Gen) fn(Source{static_cast<Form>(i), &x86_col::kFormInfo[i]});
  }
  for (const auto& a : x86_col::kAliasRows) fn(Source{a.form, &a.info});
}

}  // namespace detail

constexpr Tables build_tables() {
  using namespace x86_col;
  Tables t{};
  std::array<uint16_t, kIndexedMaps * 256> count{};
  detail::for_each_source([&](detail::Source s) {
    for (int k = 0; k < detail::expansion(*s.info); ++k) {
      const int opc = s.info->opcode + k;
      if (opc > 0xff) table_error("PlusR/PlusCc row runs past opcode 0xFF");
      ++count[s.info->map * 256 + opc];
    }
  });
  size_t next = 0;
  for (size_t i = 0; i < t.slots.size(); ++i) {
    if (count[i] > 255) table_error("too many rows for one opcode");
    t.slots[i].first = static_cast<uint16_t>(next);
    next += count[i];
  }
  if (next > kMaxRows) table_error("raise kMaxRows");
  t.row_count = next;
  detail::for_each_source([&](detail::Source s) {
    const FormInfo& f = *s.info;
    for (int k = 0; k < detail::expansion(f); ++k) {
      Slot& slot = t.slots[f.map * 256 + f.opcode + k];
      const bool modrm = modrm_has_byte(f.modrm);
      if (slot.count == 0) {
        slot.props = modrm ? kHasModrm : 0;
        slot.unnamed_imm = f.imm;
      } else if (((slot.props & kHasModrm) != 0) != modrm) {
        table_error("rows of one opcode disagree on the presence of ModRM");
      }
      t.rows[slot.first + slot.count] = Row{s.form, f.modrm, f.pfx, f.modc, f.osz, f.imm, f.flags};
      ++slot.count;
    }
  });
  // What no matching row means, per map: the one-byte and 0F maps are listed
  // completely (an opcode without rows is undefined); in 0F38/0F3A every
  // opcode has ModRM (0F3A also an imm8), so the unnamed long tail of SSSE3+
  // still decodes with the right length.
  for (int op = 0; op < 256; ++op) {
    Slot& one = t.slots[M1 * 256 + op];
    one.props |= kStrict;
    Slot& two = t.slots[M0F * 256 + op];
    if (two.count == 0) two.props |= kStrict;
    Slot& s38 = t.slots[M0F38 * 256 + op];
    s38.props |= kHasModrm;
    if (s38.count == 0) s38.unnamed_imm = I0;
    Slot& s3a = t.slots[M0F3A * 256 + op];
    s3a.props |= kHasModrm;
    s3a.unnamed_imm = Ib;
  }
  for (Slot& slot : t.slots) {
    if (slot.count != 1) continue;
    const Row& r = t.rows[slot.first];
    const bool unconditional = (r.modrm == N || r.modrm == R) && r.pfx == NP && r.modc == Any &&
                               !(r.flags & (I64 | O64 | NoRexB | RexW));
    if (unconditional) slot.props |= kSingleRow;
  }
  return t;
}

inline constexpr Tables kTables = build_tables();

}  // namespace rwd::tcg::x86_tables
