// The x86 instruction decoder: bytes in, DecodedInsn out. Table-driven from
// x86_forms.inc; no allocation and no strings on the decode path, because the
// interpreter decodes every block it predecodes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "tcg-llvm/decoder/decoded_insn.h"

namespace rwd::tcg {

// The architectural limit: longer instructions raise #GP(0).
inline constexpr size_t kMaxInsnLength = 15;

// Decodes one instruction from `bytes` (at most `avail` of them are readable).
//
// Returns true when `out` describes an instruction: a named form, a generic
// UNNAMED_* / THREEDNOW form (decoded length and fields, but no semantics row),
// or Form::kInvalid for bytes that raise #UD (out.length is then the number of
// bytes examined, at least 1, and the other fields are unspecified).
//
// Returns false when no instruction can be formed from the bytes: either more
// than `avail` bytes are needed (the caller may fetch more, e.g. across a page
// boundary, and retry), or the instruction would exceed 15 bytes (#GP) — the
// two are told apart by avail >= kMaxInsnLength.
//
// EVEX memory operands with a disp8 keep the raw (unscaled) value in `disp`:
// the disp8*N factor depends on the instruction's tuple type, which the
// generic EVEX form does not know; whoever implements a named EVEX form scales it.
bool decode_x86(const uint8_t* bytes, size_t avail, DecodeMode mode, DecodedInsn& out);

// A decoder bound to one code-segment mode, for callers that decode many
// instructions under the same mode.
class X86Decoder {
 public:
  explicit X86Decoder(DecodeMode mode) : mode_(mode) {}
  DecodeMode mode() const { return mode_; }
  bool decode(const uint8_t* bytes, size_t avail, DecodedInsn& out) const {
    return decode_x86(bytes, avail, mode_, out);
  }

 private:
  DecodeMode mode_;
};

// A human-readable description of the encoding, for messages about forms that
// have no semantics (e.g. "VEX.256.66.0F38.W0 0x18 /r (ModRM 0x05)") and for
// test failures. Allocates; not for the decode path.
std::string describe_encoding(const DecodedInsn& insn);

// Form name (same as form_info(f).name in x86_form_info.h).
const char* form_name(Form f);

}  // namespace rwd::tcg
