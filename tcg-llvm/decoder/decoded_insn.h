// The decoded form of one x86 instruction: what the decoder produces and what
// every execution tier (interpreter, JIT), the disassembler and the tests read.
// Plain data, no pointers, so predecoded blocks can be copied and cached.
#pragma once

// NOTE: the project namespace is `rwd` (rwd::core, rwd::hw, rwd::tcg, rwd::replay),
// not `rewind`: <cstdio> declares the C function ::rewind(FILE*), which a
// namespace of that name would collide with.

#include <cstdint>

namespace rwd::tcg {

// One enumerator per row of x86_forms.inc (SDM operand notation, e.g. ADD_Ev_Gv).
enum class Form : uint16_t {
#define X86_FORM(name, ...) name,
#include "tcg-llvm/decoder/x86_forms.inc"
#undef X86_FORM
  kCount
};

// Which code segment the instruction is fetched under: this alone fixes the
// default operand and address sizes. Real mode and 16-bit protected mode are k16.
enum class DecodeMode : uint8_t { k16, k32, k64 };

// Opcode maps. VEX/EVEX encodings name their map in the prefix (mmmmm / mmm).
enum class OpcodeMap : uint8_t { kOneByte, k0F, k0F38, k0F3A, kMap4, kMap5, kMap6, kMap7, k3DNow, kXop8, kXop9, kXopA };

enum class Encoding : uint8_t { kLegacy, kVex, kEvex, kXop };

// Segment numbering matches core::SegReg.
enum class SegOverride : uint8_t { kEs, kCs, kSs, kDs, kFs, kGs, kNone };

enum class RepPrefix : uint8_t { kNone, kRepE /* F3 */, kRepNE /* F2 */ };

// Register numbers 0..15 (REX/VEX extension included); these mark "none".
inline constexpr uint8_t kNoReg = 0xff;
inline constexpr uint8_t kRipBase = 0xfe;  // RIP-relative addressing (64-bit mode, mod=00 rm=101)

struct DecodedInsn {
  Form form;                 // decoded form; Form::kInvalid for bytes that #UD
  uint8_t length;            // total bytes, 1..15
  Encoding encoding;
  OpcodeMap map;
  uint8_t opcode;            // the opcode byte within its map
  uint8_t op_size;           // effective operand size in bytes: 2, 4 or 8 (1 for byte forms)
  uint8_t addr_size;         // effective address size in bytes: 2, 4 or 8
  SegOverride seg;           // explicit segment override, or kNone (default depends on base)
  RepPrefix rep;
  bool lock;
  bool opsize_prefix;        // 0x66 was present (also a mandatory-prefix selector)
  uint8_t rex;               // the REX byte (0 when absent); rex != 0 selects SPL/BPL/SIL/DIL
  bool has_modrm;
  uint8_t mod;               // ModRM.mod (3 = register operand)
  uint8_t reg;               // ModRM.reg with REX.R/EVEX.R' applied; for "+r" forms
                             // (50+r, B8+r, ...) the register from the opcode's low bits with REX.B
  uint8_t rm;                // ModRM.rm with REX.B applied (register operand when mod == 3)
  uint8_t base;              // memory operand base register, kNoReg or kRipBase
  uint8_t index;             // memory operand index register, or kNoReg
  uint8_t scale;             // log2 of the SIB scale: 0..3
  int64_t disp;              // displacement, sign-extended; for moffs forms (A0-A3) the absolute offset
  uint64_t imm;              // first immediate, sign- or zero-extended as the form specifies
  uint16_t imm2;             // second immediate: ENTER's level byte, far pointer selector
  // VEX / EVEX / XOP fields (zero for legacy encodings).
  uint8_t vvvv;              // extra source register, already inverted (0..31)
  uint8_t vector_len;        // VEX.L / EVEX.L'L: 0 = 128, 1 = 256, 2 = 512
  bool vex_w;                // VEX.W / EVEX.W / REX.W
  uint8_t evex_aaa;          // EVEX opmask register
  bool evex_z;               // EVEX zeroing
  bool evex_b;               // EVEX broadcast / rounding
  uint8_t pp;                // VEX.pp: 0 none, 1 = 66, 2 = F3, 3 = F2

  bool is_mem() const { return has_modrm && mod != 3; }
};

}  // namespace rwd::tcg
