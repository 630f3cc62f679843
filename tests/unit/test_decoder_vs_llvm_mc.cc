// The decoder against its oracle, LLVM MC: a million biased-random byte strings
// per mode. Wherever MC decodes the bytes, we must decode them too (not
// kInvalid) and agree on the length, except for the deliberate differences
// named below, each a predicate with the reason. Counts per category are
// printed so a change in either decoder shows up as a change in the numbers.
#define BOOST_TEST_MODULE decoder_vs_llvm_mc
#include <boost/test/unit_test.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tcg-llvm/decoder/x86_decoder.h"
#include "tcg-llvm/decoder/x86_form_info.h"
#include "tcg-llvm/mc/llvm_mc_disassembler.h"

namespace {

using rwd::tcg::DecodedInsn;
using rwd::tcg::DecodeMode;
using rwd::tcg::Encoding;
using rwd::tcg::Form;
using rwd::tcg::LlvmMcDisassembler;

constexpr uint64_t kSeed = 0x7265'7769'6e64'0001;  // "rewind" + 1
constexpr size_t kSamplesPerMode = 2'000'000;
constexpr size_t kBufLen = 16;  // one more than the 15-byte limit, so over-long strings are seen

using Bytes = std::array<uint8_t, kBufLen>;

const char* mode_name(DecodeMode m) {
  return m == DecodeMode::k16 ? "16" : m == DecodeMode::k32 ? "32" : "64";
}

std::string hex(const Bytes& b, size_t n) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x ", b[i]);
    s += buf;
  }
  return s;
}

// ---- The generator: random bytes, biased so that every part of the decoder
// is reached often (prefixes, REX, the escapes, VEX/EVEX/XOP, x87). ----
class Generator {
 public:
  Generator(uint64_t seed, DecodeMode mode) : rng_(seed), mode_(mode) {}

  Bytes next() {
    Bytes b;
    for (auto& x : b) x = byte();
    size_t pos = 0;
    static constexpr uint8_t kPrefixes[] = {0x66, 0x66, 0x66, 0xf2, 0xf2, 0xf3, 0xf3, 0x67, 0x67, 0xf0,
                                            0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65};
    const unsigned n_prefix = pick(10) < 5 ? 0 : pick(4);  // half without, else 0..3
    for (unsigned i = 0; i < n_prefix; ++i) b[pos++] = kPrefixes[pick(sizeof kPrefixes)];
    if (mode_ == DecodeMode::k64 && pick(10) < 3) b[pos++] = static_cast<uint8_t>(0x40 | pick(16));
    const unsigned lead = pick(100);
    if (lead < 28) {
      b[pos++] = byte();  // any one-byte opcode
    } else if (lead < 46) {
      b[pos++] = 0x0f;  // 0F map
      b[pos++] = byte();
    } else if (lead < 54) {
      b[pos++] = 0x0f;
      b[pos++] = 0x38;
    } else if (lead < 61) {
      b[pos++] = 0x0f;
      b[pos++] = 0x3a;
    } else if (lead < 63) {
      b[pos++] = 0x0f;
      b[pos++] = 0x0f;
    } else if (lead < 67) {
      b[pos++] = static_cast<uint8_t>(0xd8 + pick(8));  // x87
    } else if (lead < 80) {
      // VEX: C4 with a plausible map select, or C5; outside 64-bit mode mostly mod=11.
      const bool three = pick(2);
      b[pos++] = three ? 0xc4 : 0xc5;
      uint8_t p = byte();
      if (three && pick(4) != 0) p = static_cast<uint8_t>((p & 0xe0) | (1 + pick(3)));
      if (mode_ != DecodeMode::k64 && pick(8) != 0) p |= 0xc0;
      b[pos++] = p;
    } else if (lead < 93) {
      // EVEX: mostly well-formed P0/P1 (bit 3 clear, bit 2 set) and a real map.
      b[pos++] = 0x62;
      uint8_t p0 = byte();
      uint8_t p1 = byte();
      if (pick(4) != 0) {
        static constexpr uint8_t kMaps[] = {1, 2, 3, 5, 6};
        p0 = static_cast<uint8_t>((p0 & 0xf0) | kMaps[pick(5)]);
        p1 |= 0x04;
      }
      if (mode_ != DecodeMode::k64 && pick(8) != 0) p0 |= 0xc0;
      b[pos++] = p0;
      b[pos++] = p1;
    } else {
      b[pos++] = 0x8f;  // XOP (or POP Ev)
      uint8_t p = byte();
      if (pick(4) != 0) p = static_cast<uint8_t>((p & 0xe0) | (8 + pick(3)));
      b[pos++] = p;
    }
    return b;
  }

 private:
  uint8_t byte() { return static_cast<uint8_t>(rng_()); }
  unsigned pick(unsigned n) { return static_cast<unsigned>(rng_() % n); }

  std::mt19937_64 rng_;
  DecodeMode mode_;
};

// ---- Deliberate differences. Each predicate sees the bytes, the mode, MC's
// length and our decode (ok = decode returned true). ----
struct Case {
  const Bytes& b;
  DecodeMode mode;
  size_t mc_len;
  bool ok;
  const DecodedInsn& d;
};

// Skips legacy prefixes (and REX in 64-bit mode); returns the opcode position.
size_t opcode_pos(const Case& c) {
  size_t i = 0;
  for (; i < kBufLen; ++i) {
    const uint8_t x = c.b[i];
    const bool legacy = x == 0x26 || x == 0x2e || x == 0x36 || x == 0x3e || x == 0x64 || x == 0x65 ||
                        x == 0x66 || x == 0x67 || x == 0xf0 || x == 0xf2 || x == 0xf3;
    const bool rex = c.mode == DecodeMode::k64 && (x & 0xf0) == 0x40;
    if (!legacy && !rex) break;
  }
  return i;
}

bool has_lock(const Case& c) {
  for (size_t i = 0; i < opcode_pos(c); ++i)
    if (c.b[i] == 0xf0) return true;
  return false;
}

// LOCK on an instruction that is not a locked read-modify-write of memory
// raises #UD (SDM Vol. 2, LOCK); MC prints it as a prefix on anything.
bool lock_not_allowed(const Case& c) {
  return c.ok && c.d.form == Form::kInvalid && has_lock(c) && c.d.encoding == Encoding::kLegacy;
}

// Position of the first REX byte in the prefix run that is followed by another
// prefix byte (legacy or REX), or kBufLen.
size_t rex_followed_by_prefix(const Case& c) {
  if (c.mode != DecodeMode::k64) return kBufLen;
  const size_t op = opcode_pos(c);
  for (size_t i = 0; i + 1 < op; ++i)
    if ((c.b[i] & 0xf0) == 0x40) return i;
  return kBufLen;
}

// MC (LLVM 19) decodes a legacy or REX prefix that follows a REX byte as a
// standalone instruction ("cs", "data16", "rex64") ending right after it.
// On hardware such a REX is simply ignored and the prefix applies to the
// instruction that follows.
bool mc_rex_then_prefix_standalone(const Case& c) {
  const size_t i = rex_followed_by_prefix(c);
  return i < kBufLen && c.mc_len <= opcode_pos(c);
}

// MC decodes a LOCK in the very first byte as a standalone "lock"
// instruction; on hardware it prefixes the instruction that follows.
bool mc_leading_lock_standalone(const Case& c) { return c.b[0] == 0xf0 && c.mc_len == 1; }

// MC treats F2/F3 in front of F0, XCHG (86/87, 91-97) or — F3 only — MOV to
// memory (88/89/C6/C7) as a standalone XACQUIRE/XRELEASE "instruction" and
// stops there. On hardware these are HLE hints (or REP, ignored) that belong
// to the instruction that follows.
bool mc_hle_prefix_standalone(const Case& c) {
  const size_t op = opcode_pos(c);
  for (size_t i = 0; i < op && i + 1 < kBufLen; ++i) {
    const uint8_t x = c.b[i];
    if ((x != 0xf2 && x != 0xf3) || c.mc_len != i + 1) continue;
    const uint8_t n = c.b[i + 1];
    if (n == 0xf0 || (n & 0xfe) == 0x86 || ((n & 0xf8) == 0x90 && !(x == 0xf3 && n == 0x90))) return true;
    if (x == 0xf3 && (n == 0x88 || n == 0x89 || n == 0xc6 || n == 0xc7)) return true;
  }
  return false;
}

// MC does not enforce the 15-byte limit (it only logs it); hardware raises #GP.
bool mc_accepts_over_15_bytes(const Case& c) { return c.mc_len > 15 && !c.ok; }

// VEX, EVEX and XOP after a 66, F2, F3, LOCK or REX prefix raise #UD (SDM
// Vol. 2, 2.3.2 and 2.7); MC ignores those prefixes.
bool vex_after_forbidden_prefix(const Case& c) {
  return c.ok && c.d.form == Form::kInvalid && c.d.encoding != Encoding::kLegacy && c.d.length == c.mc_len;
}

// In 64-bit mode near branches (E8, E9, 0F 80-8F) always take a rel32: Intel
// ignores 66 there (SDM Vol. 2, JMP/CALL/Jcc: "operand size fixed at 64 bits").
// MC follows AMD, which honours 66 and reads a rel16 (even with REX.W).
bool near_branch_66_in_64bit(const Case& c) {
  if (c.mode != DecodeMode::k64 || !c.ok || !c.d.opsize_prefix) return false;
  const bool branch = (c.d.map == rwd::tcg::OpcodeMap::kOneByte && (c.d.opcode == 0xe8 || c.d.opcode == 0xe9)) ||
                      (c.d.map == rwd::tcg::OpcodeMap::k0F && (c.d.opcode & 0xf0) == 0x80);
  return branch && c.d.length == c.mc_len + 2;
}

// The EVEX payload bytes P0/P1 when the instruction is EVEX-encoded.
bool evex_payload(const Case& c, uint8_t& p0, uint8_t& p1) {
  const size_t op = opcode_pos(c);
  if (op + 2 >= kBufLen || c.b[op] != 0x62) return false;
  if (c.mode != DecodeMode::k64 && (c.b[op + 1] & 0xc0) != 0xc0) return false;  // BOUND
  p0 = c.b[op + 1];
  p1 = c.b[op + 2];
  return true;
}

// APX (REX2 prefix D5 in 64-bit mode, EVEX map 4): MC 19 decodes it, no CPU we
// emulate implements it, and our decoder treats D5 as AAD (#UD in 64-bit mode).
bool apx_encoding(const Case& c) {
  const size_t op = opcode_pos(c);
  if (c.mode == DecodeMode::k64 && op < kBufLen && c.b[op] == 0xd5) return true;
  uint8_t p0, p1;
  return evex_payload(c, p0, p1) && (p0 & 7) == 4;
}

// EVEX with P0 bit 3 set or P1 bit 2 clear: reserved in AVX-512 (#UD); MC
// ignores them outside 64-bit mode and reads them as APX's B4/X4 inside it.
bool evex_reserved_bits(const Case& c) {
  uint8_t p0, p1;
  return c.ok && c.d.form == Form::kInvalid && evex_payload(c, p0, p1) && ((p0 & 0x08) || !(p1 & 0x04));
}

// XBEGIN (C7 F8) in 16-bit code takes a rel16 unless 66 is present (operand
// size 16); MC reads a rel32.
bool mc_xbegin_rel32_in_16bit(const Case& c) {
  return c.mode == DecodeMode::k16 && c.ok && c.d.form == Form::XBEGIN_Jz && c.mc_len == c.d.length + 2u;
}

// MC never treats 66 as a mandatory prefix in 16-bit mode, so 66 0F 78
// (EXTRQ, two imm8) and F2 66 0F 78 (INSERTQ) become VMREAD without them.
bool mc_66_not_mandatory_in_16bit(const Case& c) {
  return c.mode == DecodeMode::k16 && c.ok && c.d.opsize_prefix &&
         (c.d.form == Form::EXTRQ_Udq_Ib_Ib || c.d.form == Form::INSERTQ_Vdq_Udq_Ib_Ib) &&
         c.mc_len + 2u == c.d.length;
}

// With both 66 and F2/F3 before 0F, MC takes the F2/F3 as a mandatory prefix
// and drops 66's operand-size effect (e.g. 66 F3 0F 85 rel32 instead of rel16
// in 32-bit code). On hardware an F2/F3 that selects nothing is ignored and 66
// still sets the operand size.
bool mc_rep_hides_66(const Case& c) {
  if (!c.ok || !c.d.opsize_prefix || c.d.rep == rwd::tcg::RepPrefix::kNone || c.mode == DecodeMode::k64) return false;
  if (c.d.map == rwd::tcg::OpcodeMap::kOneByte) return false;
  const auto imm = rwd::tcg::form_info(c.d.form).imm;
  return (imm == rwd::tcg::x86_col::Jz || imm == rwd::tcg::x86_col::Iz) &&
         (c.mc_len == c.d.length + 2u || c.mc_len + 2u == c.d.length);
}

// 0F 78 with 66 plus F2/F3 or REX.W: MC picks VMREAD or EXTRQ/INSERTQ (whose
// two imm8 change the length) by prefix adjacency and its REX.W context
// tables; AMD documents neither combination. We use one rule: F2/F3 beats 66,
// REX.W does not matter.
bool extrq_prefix_corner(const Case& c) {
  if (!c.ok || c.d.map != rwd::tcg::OpcodeMap::k0F || c.d.opcode != 0x78 || !c.d.opsize_prefix) return false;
  if (c.d.rep == rwd::tcg::RepPrefix::kNone && !(c.d.rex & 8)) return false;
  return c.mc_len == c.d.length + 2u || c.mc_len + 2u == c.d.length;
}

// XOP map A (BEXTR, LWPINS, LWPVAL) carries an imm32 (AMD APM Vol. 3); in
// 16-bit mode MC sizes it by the operand size and reads an imm16.
bool mc_xop_map_a_imm16_in_16bit(const Case& c) {
  return c.mode == DecodeMode::k16 && c.ok && c.d.encoding == Encoding::kXop &&
         c.d.map == rwd::tcg::OpcodeMap::kXopA && c.d.length == c.mc_len + 2u;
}

// Forms that a 66, F3 or F2 prefix turns into no instruction (#UD, as the
// host CPU shows in tests/difftest), while MC decodes them as the unprefixed
// form or as an instruction rewind does not offer (TPAUSE, UMONITOR, UMWAIT,
// INCSSP): 0F 77 (EMMS); 0F AE /5-/7 with a register (the fences); 66 with
// 0F AE /0-/5 and memory (FXSAVE ... XRSTOR); 66 0F 12/16 with a register
// (MOVLPD/MOVHPD take only memory).
bool prefix_makes_ud(const Case& c) {
  if (!c.ok || c.d.form != Form::kInvalid) return false;
  const size_t op = opcode_pos(c);
  if (op + 2 >= kBufLen || c.b[op] != 0x0f) return false;
  bool p66 = false, rep = false;
  for (size_t i = 0; i < op; ++i) {
    p66 = p66 || c.b[i] == 0x66;
    rep = rep || c.b[i] == 0xf2 || c.b[i] == 0xf3;
  }
  if (!p66 && !rep) return false;
  const uint8_t opc = c.b[op + 1], modrm = c.b[op + 2];
  const bool reg = (modrm >> 6) == 3;
  const unsigned digit = (modrm >> 3) & 7;
  if (opc == 0x77) return true;
  if (opc == 0xae && reg && digit >= 5) return true;
  if (opc == 0xae && !reg && digit <= 5 && p66 && !rep) return true;
  if ((opc == 0x12 || opc == 0x16) && reg && p66 && !rep) return true;
  return false;
}

struct Category {
  const char* name;
  bool (*applies)(const Case&);
};

constexpr Category kDeliberate[] = {
    {"mc_leading_lock_standalone", mc_leading_lock_standalone},
    {"mc_xop_map_a_imm16_in_16bit", mc_xop_map_a_imm16_in_16bit},
    {"mc_hle_prefix_standalone", mc_hle_prefix_standalone},
    {"mc_rex_then_prefix_standalone", mc_rex_then_prefix_standalone},
    {"mc_accepts_over_15_bytes", mc_accepts_over_15_bytes},
    {"lock_not_allowed", lock_not_allowed},
    {"vex_after_forbidden_prefix", vex_after_forbidden_prefix},
    {"near_branch_66_in_64bit", near_branch_66_in_64bit},
    {"apx_encoding", apx_encoding},
    {"evex_reserved_bits", evex_reserved_bits},
    {"mc_xbegin_rel32_in_16bit", mc_xbegin_rel32_in_16bit},
    {"mc_66_not_mandatory_in_16bit", mc_66_not_mandatory_in_16bit},
    {"mc_rep_hides_66", mc_rep_hides_66},
    {"extrq_prefix_corner", extrq_prefix_corner},
    {"prefix_makes_ud", prefix_makes_ud},
};

const char* kind_name(const DecodedInsn& d) {
  using rwd::tcg::OpcodeMap;
  switch (d.encoding) {
    case Encoding::kVex: return "vex";
    case Encoding::kEvex: return "evex";
    case Encoding::kXop: return "xop";
    default: break;
  }
  switch (d.map) {
    case OpcodeMap::kOneByte: return (d.opcode >= 0xd8 && d.opcode <= 0xdf) ? "x87" : "one-byte";
    case OpcodeMap::k0F: return "0F";
    case OpcodeMap::k0F38: return "0F38";
    case OpcodeMap::k0F3A: return "0F3A";
    default: return "3DNow!";
  }
}

struct Stats {
  size_t samples = 0;
  size_t mc_accepts = 0;
  size_t agree = 0;
  std::map<std::string, size_t> agree_by_kind;  // legacy map / VEX / EVEX / XOP
  size_t we_accept_mc_rejects = 0;
  std::map<std::string, size_t> deliberate;
  std::map<std::string, size_t> unexpected;
};

void run_mode(DecodeMode mode, const LlvmMcDisassembler& mc, Stats& st) {
  Generator gen(kSeed + static_cast<uint64_t>(mode), mode);
  std::map<std::string, size_t> printed_per_kind;
  for (size_t i = 0; i < kSamplesPerMode; ++i) {
    const Bytes b = gen.next();
    ++st.samples;
    DecodedInsn d;
    const bool ok = rwd::tcg::decode_x86(b.data(), b.size(), mode, d);
    const auto mc_len = mc.instruction_length(std::span<const uint8_t>(b.data(), b.size()), mode);
    if (!mc_len) {
      if (ok && d.form != Form::kInvalid) ++st.we_accept_mc_rejects;
      continue;
    }
    ++st.mc_accepts;
    if (ok && d.form != Form::kInvalid && d.length == *mc_len) {
      ++st.agree;
      ++st.agree_by_kind[kind_name(d)];
      continue;
    }
    const Case c{b, mode, *mc_len, ok, d};
    const Category* cat = nullptr;
    for (const auto& k : kDeliberate) {
      if (k.applies(c)) {
        cat = &k;
        break;
      }
    }
    if (cat) {
      ++st.deliberate[cat->name];
      continue;
    }
    const std::string kind = !ok ? "we_fail" : d.form == Form::kInvalid ? "we_invalid" : "length_differs";
    ++st.unexpected[kind];
    if (printed_per_kind[kind]++ < 12) {
      BOOST_TEST_MESSAGE("mode " << mode_name(mode) << " " << kind << ": " << hex(b, 15) << "| MC len "
                                 << *mc_len << " '" << mc.disassemble(std::span<const uint8_t>(b.data(), b.size()), mode)
                                 << "' | ours ok=" << ok << " len " << int(d.length) << " "
                                 << rwd::tcg::form_name(d.form) << " " << rwd::tcg::describe_encoding(d));
    }
  }
}

// Our decoder alone over the same kind of input: nanoseconds per decode.
double decode_ns(DecodeMode mode) {
  Generator gen(kSeed + static_cast<uint64_t>(mode), mode);
  std::vector<Bytes> samples(kSamplesPerMode / 4);
  for (auto& s : samples) s = gen.next();
  const auto t0 = std::chrono::steady_clock::now();
  size_t sum = 0;
  DecodedInsn d;
  for (const auto& s : samples) sum += rwd::tcg::decode_x86(s.data(), s.size(), mode, d) ? d.length : 0;
  const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  BOOST_TEST(sum > 0u);
  return ns / static_cast<double>(samples.size());
}

}  // namespace

BOOST_AUTO_TEST_CASE(random_bytes_agree_with_llvm_mc) {
  const LlvmMcDisassembler mc;
  std::printf("decoder vs LLVM MC: seed 0x%016llx, %zu samples per mode\n", static_cast<unsigned long long>(kSeed),
              kSamplesPerMode);
  for (DecodeMode mode : {DecodeMode::k16, DecodeMode::k32, DecodeMode::k64}) {
    const auto t0 = std::chrono::steady_clock::now();
    Stats st;
    run_mode(mode, mc, st);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("mode %s: %zu samples, MC decodes %zu, agree %zu, we decode but MC rejects %zu (%.1f s)\n",
                mode_name(mode), st.samples, st.mc_accepts, st.agree, st.we_accept_mc_rejects, secs);
    std::printf("  our decoder: %.1f ns per decode\n", decode_ns(mode));
    std::printf("  agree by map:");
    for (const auto& [name, n] : st.agree_by_kind) std::printf(" %s %zu", name.c_str(), n);
    std::printf("\n");
    for (const auto& [name, n] : st.deliberate) std::printf("  deliberate %-28s %zu\n", name.c_str(), n);
    size_t bad = 0;
    for (const auto& [name, n] : st.unexpected) {
      std::printf("  UNEXPECTED %-28s %zu\n", name.c_str(), n);
      bad += n;
    }
    std::fflush(stdout);
    BOOST_CHECK_EQUAL(bad, 0u);
  }
}
