// The decode facts of every row of x86_forms.inc as a constexpr table, and the
// vocabulary its columns are written in. Consumers that only need the form
// names include decoded_insn.h; the decoder, the disassembler and the coverage
// tests read FormInfo.
#pragma once

#include <cstdint>

#include "tcg-llvm/decoder/decoded_insn.h"

namespace rwd::tcg {

// The column vocabulary of x86_forms.inc. Kept in its own namespace because the
// tokens are short (R, B, V, ...) so the rows stay readable; nothing outside the
// table and its consumers should use them.
namespace x86_col {

// MAP: which legacy opcode map the row lives in. Gen rows are the generic forms
// (VEX/EVEX/XOP/3DNow! long tail, unnamed legacy opcodes) that the decoder
// returns explicitly; they are never matched by opcode.
enum Map : uint8_t { M1, M0F, M0F38, M0F3A, Gen };
inline constexpr int kIndexedMaps = 4;  // M1..M0F3A have opcode-indexed rows

// MODRM: N = no ModRM byte; R = /r (any reg field); D0..D7 = /digit; Ex(b) =
// exactly that ModRM byte (always mod == 11, e.g. 0F 01 F8 SWAPGS, D9 E8 FLD1).
enum ModrmKind : uint16_t { N = 0x000, R = 0x100, D0 = 0x200, D1, D2, D3, D4, D5, D6, D7 };
constexpr uint16_t Ex(uint8_t modrm) { return static_cast<uint16_t>(0x300 | modrm); }
constexpr bool modrm_has_byte(uint16_t m) { return m != N; }
constexpr bool modrm_is_digit(uint16_t m) { return (m & 0xf00) == 0x200; }
constexpr bool modrm_is_exact(uint16_t m) { return (m & 0xf00) == 0x300; }

// PFX: mandatory prefix. NP = none: 66 sets the operand size and F2/F3 are
// REP/REPNE (or ignored); P66/PF3/PF2 = the row applies only with that prefix
// (for F2/F3 the last one of the two wins, and they take priority over 66).
enum Pfx : uint8_t { NP, P66, PF3, PF2 };

// MODC: constraint on ModRM.mod.
enum ModC : uint8_t { Any, Mem, Reg };

// OSZ: how op_size is computed (bytes).
//  B    byte form: 1
//  V    16/32 by mode and 66; REX.W (or VEX.W) makes 64
//  D64  64-bit mode default 64, 66 makes 16, no 32 (PUSH/POP, LEAVE, ...)
//  F64  64-bit mode always 64, 66 ignored (near branches, Intel behaviour); else V
//  Y    32, or 64 with REX.W; 66 ignored (MOVD/MOVQ, CVTSI2SS, MOVNTI, CRC32 ...)
//  W    always 16 (LLDT, LTR, MOV Sreg,Ew, ARPL, ...)
//  Cr   64 in 64-bit mode, else 32; prefixes ignored (MOV CR/DR, VMREAD/VMWRITE)
enum Osz : uint8_t { B, V, D64, F64, Y, W, Cr };

// IMM: immediate bytes after ModRM/SIB/displacement.
//  I0 none; Ib imm8 zero-extended; Ibs imm8 sign-extended; Iw imm16; Id imm32;
//  Iz imm16/32 by op_size, sign-extended to 64; Iv imm16/32/64 by op_size (B8+r);
//  Jb rel8, Jz rel16/32 (rel32 always in 64-bit mode), both sign-extended into imm;
//  Ap far pointer: offset 16/32 by op_size in imm, selector in imm2;
//  Ov moffs: address-size offset, stored in disp (A0-A3);
//  IwIb ENTER: imm = Iw, imm2 = Ib; IbIb EXTRQ/INSERTQ: imm, imm2.
enum Imm : uint8_t { I0, Ib, Ibs, Iw, Id, Iz, Iv, Jb, Jz, Ap, Ov, IwIb, IbIb };

// FLAGS (bit set, 0 for none).
enum Flag : uint16_t {
  I64 = 1 << 0,     // invalid (#UD) in 64-bit mode
  O64 = 1 << 1,     // valid only in 64-bit mode
  Lock = 1 << 2,    // LOCK allowed (with a memory destination); otherwise LOCK = #UD
  Rep = 1 << 3,     // string instruction: F3/F2 are REP/REPE/REPNE
  PlusR = 1 << 4,   // register in opcode bits 2:0 (+REX.B): the row covers opc..opc+7
  PlusCc = 1 << 5,  // condition in opcode bits 3:0: the row covers opc..opc+15
  NoRexB = 1 << 6,  // only without REX.B (90 NOP/PAUSE vs XCHG r8,rAX)
  RexW = 1 << 7,    // only with REX.W (CMPXCHG16B)
  ModAny = 1 << 8,  // ModRM.mod ignored, operand is always a register (MOV CR/DR)
  Br = 1 << 9,      // may transfer control to a non-sequential RIP (not counting faults)
  End = 1 << 10,    // ends its block although not a branch: may change the mode, IF, the
                    // page tables or a device (the main loop must look after it)
};

}  // namespace x86_col

// One row of x86_forms.inc (or of an alias row) with its columns as numbers.
struct FormInfo {
  const char* name;
  uint8_t map;     // x86_col::Map
  uint8_t opcode;
  uint16_t modrm;  // x86_col::ModrmKind or Ex(byte)
  uint8_t pfx;     // x86_col::Pfx
  uint8_t modc;    // x86_col::ModC
  uint8_t osz;     // x86_col::Osz
  uint8_t imm;     // x86_col::Imm
  uint16_t flags;  // x86_col::Flag bits
};

namespace x86_col {
inline constexpr FormInfo kFormInfo[] = {
#define X86_FORM(name, map, opc, modrm, pfx, modc, osz, imm, flags, ...) \
  FormInfo{#name, map, opc, modrm, pfx, modc, osz, imm, flags},
#define X86_ALIAS(form, map, opc, modrm, pfx, modc, osz, imm, flags)
#include "tcg-llvm/decoder/x86_forms.inc"
#undef X86_ALIAS
#undef X86_FORM
};

// Alias rows: extra encodings of an existing form (82 = 80 outside 64-bit
// mode, F6 /1 = F6 /0, hint NOPs, ...). `name` is the form's name.
struct AliasRow {
  Form form;
  FormInfo info;
};
inline constexpr AliasRow kAliasRows[] = {
#define X86_FORM(name, map, opc, modrm, pfx, modc, osz, imm, flags, ...)
#define X86_ALIAS(form, map, opc, modrm, pfx, modc, osz, imm, flags) \
  AliasRow{Form::form, FormInfo{#form, map, opc, modrm, pfx, modc, osz, imm, flags}},
#include "tcg-llvm/decoder/x86_forms.inc"
#undef X86_ALIAS
#undef X86_FORM
};
}  // namespace x86_col

static_assert(sizeof(x86_col::kFormInfo) / sizeof(FormInfo) == static_cast<uint64_t>(Form::kCount));

constexpr const FormInfo& form_info(Form f) { return x86_col::kFormInfo[static_cast<unsigned>(f)]; }
// form_name(Form) is declared in x86_decoder.h (defined in x86_decoder.cc) so that
// callers need not pull in the whole table.

}  // namespace rwd::tcg
