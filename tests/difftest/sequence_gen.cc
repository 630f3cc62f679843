// The sequence generator: encodes random instances of the forms table's
// user-mode 64-bit rows from their decode columns (prefix, map, opcode,
// ModRM kind, operand-size rule, immediates), and keeps track of which flags
// an instruction leaves undefined so that no later instruction reads them and
// the final comparison leaves them out; and draws the starting state (general
// registers, the x87/SSE image, the data area) from boundary and
// floating-point values that are hard to get right.
#include <cstring>
#include <string>
#include <string_view>

#include "core/x86_cpu_state_io.h"
#include "tcg-llvm/decoder/x86_decoder.h"
#include "tcg-llvm/decoder/x86_form_info.h"
#include "tcg-llvm/interp/form_binding.h"
#include "tests/difftest/difftest.h"

namespace rwd::difftest {

using namespace tcg;
using namespace tcg::x86_col;

namespace {

constexpr uint64_t kCf = 1, kPf = 4, kAf = 0x10, kZf = 0x40, kSf = 0x80, kDf = 0x400, kOf = 0x800;
constexpr uint64_t kAll = kCf | kPf | kAf | kZf | kSf | kOf;
constexpr uint64_t kAc = 0x40000;  // alignment checking (Linux runs processes with CR0.AM set)

// Forms left out, with the reason: their result depends on the host or the
// process, not on the instruction (CPUID, the TSC and TSC_AUX, randomness,
// performance counters, Linux's UMIP emulation of the descriptor-table
// stores, the host's GDT), or the feature is one rewind's CPUID model leaves
// out while the host has it (SVM, PKU, MONITORX, CLZERO ...; FXSAVE's image
// holds the host's MXCSR_MASK, which on AMD has the MM bit: a pinned test in
// test_difftest_host compares the rest of it), or they change
// state the sequence must keep (segment registers, RSP through RBP, TF and AC
// through POPF), or the architecture bounds their result without fixing it
// (RCPPS, RSQRTPS and their scalar forms: test_difftest_snippets checks them
// against the host within the SDM's error bound), or the host has more of it
// (XCR0 and the XSAVE components: the snippets run XSAVE with EDX:EAX = 3).
bool denied(const std::string& n) {
  static const char* const kDenied[] = {
      "CPUID", "RDTSC", "RDTSCP", "RDPID_Ry", "RDRAND_Rv", "RDSEED_Rv", "RDPMC", "SGDT_Ms", "SIDT_Ms",
      "SLDT_Ew", "STR_Ew", "SMSW_Ew", "LAR_Gv_Ew", "LSL_Gv_Ew", "VERR_Ew", "VERW_Ew", "MOV_Sw_Ew",
      "POP_FS", "POP_GS", "LSS_Gv_Mp", "LFS_Gv_Mp", "LGS_Gv_Mp", "ENTER_Iw_Ib", "LEAVE", "POPF_Fv",
      "VMCALL", "VMLAUNCH", "VMRESUME", "VMXOFF", "MONITOR", "MWAIT", "ENCLS", "VMFUNC", "ENCLU", "VMRUN",
      "VMMCALL", "VMLOAD", "VMSAVE", "SKINIT", "INVLPGA", "RDPKRU", "WRPKRU", "MONITORX", "MWAITX", "CLZERO",
      "GETSEC", "RSM", "XRSTORS_M", "XSAVES_M", "VMPTRLD_Mq", "VMCLEAR_Mq", "VMXON_Mq", "VMPTRST_Mq",
      "INVEPT_Gy_Mdq", "INVVPID_Gy_Mdq", "VMREAD_Ey_Gy", "VMWRITE_Gy_Ey", "FXSAVE_M",
      "XABORT_Ib", "XBEGIN_Jz", "XEND", "XTEST", "STGI", "CLGI", "SERIALIZE", "RDPRU", "FEMMS",
      "THREEDNOW_Pq_Qq", "MONTMUL", "XSHA1", "XSHA256", "XSTORE", "XCRYPTECB", "XCRYPTCBC", "XCRYPTCTR",
      "XCRYPTCFB", "XCRYPTOFB", "XSAVEC_M", "ADCX_Gy_Ey", "ADOX_Gy_Ey", "RDFSBASE_Ry", "RDGSBASE_Ry",
      "WRFSBASE_Ry", "WRGSBASE_Ry", "EXTRQ_Udq_Ib_Ib", "INSERTQ_Vdq_Udq_Ib_Ib", "EXTRQ_Vdq_Udq", "INSERTQ_Vdq_Udq",
      "RCPPS_Vps_Wps", "RCPSS_Vss_Wss", "RSQRTPS_Vps_Wps", "RSQRTSS_Vss_Wss", "XGETBV", "XSAVE_M", "XSAVEOPT_M",
      "XRSTOR_M",
  };
  for (const char* d : kDenied)
    if (n == d) return true;
  return false;
}

// Left out of compatibility-mode sequences: loads of DS, ES or SS, whose
// selectors mean Linux's GDT on the host and the harness's in the
// interpreter.
bool denied_in_compat(const std::string& n) {
  return n == "POP_DS" || n == "POP_ES" || n == "POP_SS" || n == "LDS_Gv_Mp" || n == "LES_Gv_Mp";
}

std::string mnemonic(const std::string& name) { return name.substr(0, name.find('_')); }
bool starts(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

struct FlagUse {
  uint64_t read = 0;       // flags the instruction reads
  uint64_t undefined = 0;  // flags it leaves undefined
  uint64_t defines = 0;    // flags it always sets to a defined value
};

// `ie_unmasked`: the sequence starts with x87 invalid-operation exceptions
// unmasked; the SDM then lets FCOMI and its kin leave the flags alone on an
// invalid operand, so they are not counted as defining them.
FlagUse flag_use(const std::string& name, unsigned op_size, bool ie_unmasked) {
  std::string m = mnemonic(name);
  FlagUse u;
  // x87: FCMOVcc reads the flags of its condition; FCOMI, FCOMIP, FUCOMI and
  // FUCOMIP set ZF, PF and CF and clear OF, SF and AF (no other x87 form
  // touches RFLAGS).
  if (starts(m, "FCMOV")) {
    std::string cc = m.substr(5 + (m[5] == 'N'));
    u.read = cc == "B" ? kCf : cc == "E" ? kZf : cc == "BE" ? kCf | kZf : kPf;
    return u;
  }
  if (m == "FCOMI" || m == "FCOMIP" || m == "FUCOMI" || m == "FUCOMIP") {
    if (!ie_unmasked) u.defines = kAll;
    return u;
  }
  if (m == "ADD" || m == "SUB" || m == "CMP" || m == "NEG" || m == "XADD" || m == "CMPXCHG" || m == "CMPS" ||
      m == "SCAS")
    u.defines = kAll;
  else if (m == "ADC" || m == "SBB") u.read = kCf, u.defines = kAll;
  else if (m == "AND" || m == "OR" || m == "XOR" || m == "TEST") u.undefined = kAf, u.defines = kAll & ~kAf;
  else if (m == "INC" || m == "DEC") u.defines = kAll & ~kCf;
  else if (m == "MUL" || m == "IMUL") u.undefined = kSf | kZf | kAf | kPf, u.defines = kCf | kOf;
  else if (m == "DIV" || m == "IDIV") u.undefined = kAll;
  else if (m == "SHL" || m == "SHR" || m == "SAR") {
    // AF is undefined for any count, OF for counts above 1, and CF when a
    // byte or word is shifted by its width or more.
    u.undefined = kAf | (name.find("_1") != std::string::npos ? 0 : kOf) | (op_size <= 2 ? kCf : 0);
  } else if (m == "ROL" || m == "ROR") u.undefined = name.find("_1") != std::string::npos ? 0 : kOf;
  else if (m == "RCL" || m == "RCR") u.read = kCf, u.undefined = name.find("_1") != std::string::npos ? 0 : kOf;
  else if (m == "SHLD" || m == "SHRD") u.undefined = kAf | kOf;
  else if (m == "BT" || m == "BTS" || m == "BTR" || m == "BTC") u.undefined = kOf | kSf | kAf | kPf;
  else if (m == "BSF" || m == "BSR") u.undefined = kCf | kOf | kSf | kAf | kPf;
  else if (m == "TZCNT" || m == "LZCNT") u.undefined = kOf | kSf | kAf | kPf;
  else if (m == "POPCNT" || m == "PTEST" || m == "COMISS" || m == "COMISD" || m == "UCOMISS" || m == "UCOMISD" ||
           starts(m, "PCMPESTR") || starts(m, "PCMPISTR"))
    u.defines = kAll;
  else if (m == "SETCC" || m == "CMOVCC" || m == "PUSHF") u.read = kAll;
  else if (m == "LAHF") u.read = kSf | kZf | kAf | kPf | kCf;
  else if (m == "SAHF") u.defines = kSf | kZf | kAf | kPf | kCf;
  else if (m == "CMC" || m == "SALC") u.read = kCf;
  // The BCD adjusts (legacy modes): AAA/AAS read AF and leave OF, SF, ZF
  // and PF undefined; DAA/DAS read AF and CF and leave OF undefined;
  // AAM/AAD leave OF, AF and CF undefined.
  else if (m == "AAA" || m == "AAS") u.read = kAf, u.defines = kAf | kCf, u.undefined = kOf | kSf | kZf | kPf;
  else if (m == "DAA" || m == "DAS") u.read = kAf | kCf, u.defines = kAll & ~kOf, u.undefined = kOf;
  else if (m == "AAM" || m == "AAD") u.defines = kSf | kZf | kPf, u.undefined = kOf | kAf | kCf;
  else if (m == "ARPL") u.defines = kZf;
  else if (m == "CLC" || m == "STC") u.defines = kCf;
  return u;
}

// Whether an instruction may use the x87 registers: the x87 forms (D8-DF),
// FWAIT, MMX forms (operands P, N or Q), EMMS and the FXSAVE family, and
// hand-written code (kInvalid).
bool uses_x87(Form f) {
  if (f == Form::kInvalid) return true;
  const FormInfo& info = form_info(f);
  std::string name = info.name, m = mnemonic(name);
  if (info.map == M1 && info.opcode >= 0xd8 && info.opcode <= 0xdf) return true;
  if (m == "FWAIT" || m == "EMMS" || starts(m, "FXSAVE") || starts(m, "FXRSTOR")) return true;
  for (size_t at = name.find('_'); at != std::string::npos; at = name.find('_', at + 1))
    if (name[at + 1] == 'P' || name[at + 1] == 'N' || name[at + 1] == 'Q') return true;
  return false;
}

}  // namespace

// The x87 transcendental forms: rewind rounds them correctly, the host only
// to within an ulp (tcg-llvm/semantics/x87_transcendental.h).
bool approximate(Form f) {
  switch (f) {
    case Form::F2XM1: case Form::FYL2X: case Form::FYL2XP1: case Form::FPTAN: case Form::FPATAN:
    case Form::FSIN: case Form::FCOS: case Form::FSINCOS: return true;
    default: return false;
  }
}

bool Sequence::flags_comparable() const {
  uint64_t undefined = 0;
  for (const Insn& i : insns) {
    if (i.flags_read & undefined) return false;
    undefined = (undefined & ~i.flags_defined) | i.flags_undefined;
  }
  return true;
}

uint64_t Sequence::compared_flags(uint64_t rip) const {
  uint64_t undefined = 0, at = kCodeAddr;
  for (const Insn& i : insns) {
    if (at >= rip) break;  // the instruction that faulted did not retire
    undefined = (undefined & ~i.flags_defined) | i.flags_undefined;
    at += i.bytes.size();
  }
  return (kAll & ~undefined) | kDf;
}

std::vector<uint8_t> Sequence::code() const {
  std::vector<uint8_t> c;
  for (const Insn& i : insns) c.insert(c.end(), i.bytes.begin(), i.bytes.end());
  c.push_back(0xcc);
  return c;
}

Generator::Generator(uint64_t seed, DecodeMode mode) : mode_(mode), state_(seed) {
  const uint16_t not_here = mode == DecodeMode::k64 ? I64 : (O64 | RexW);
  for (size_t i = 0; i < size_t(Form::kCount); ++i) {
    Form f = Form(i);
    const FormInfo& info = form_info(f);
    std::string name = info.name;
    if (info.map == Gen || (info.flags & (not_here | Br)) || !form_has_semantics(f) || denied(name)) continue;
    if (mode == DecodeMode::k32 && denied_in_compat(name)) continue;
    if (info.imm == Jb || info.imm == Jz || info.imm == Ap || info.imm == IwIb || info.imm == IbIb) continue;
    forms_.push_back(f);
  }
}

bool Generator::exclude(const std::string& name) {
  for (size_t i = 0; i < forms_.size(); ++i)
    if (name == form_name(forms_[i])) {
      forms_.erase(forms_.begin() + long(i));
      return true;
    }
  for (size_t i = 0; i < size_t(Form::kCount); ++i)
    if (name == form_name(Form(i))) return true;  // in the table, not drawn anyway
  return false;
}

uint64_t Generator::rnd() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Register and memory values: the boundaries of every width, small numbers,
// pointers into the data area (for string instructions and XLAT) and noise.
uint64_t Generator::pick_value() {
  static const uint64_t kEdges[] = {0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
                                    0xffffffff, 0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull, ~1ull};
  switch (rnd() % 6) {
    case 0: return kEdges[rnd() % (sizeof kEdges / sizeof kEdges[0])];
    case 1: return rnd() % 64;
    case 2: return kDataAddr + 0x1000 + rnd() % (kDataSize - 0x2000);
    case 3: return uint64_t(int64_t(int32_t(rnd())));
    default: return rnd();
  }
}

// x87 register values: zeros, infinities, NaNs, denormals, the encodings
// only the 80-bit format has (pseudo-denormals, unnormals,
// pseudo-NaNs and pseudo-infinities), values near 1, at the ends of the
// float, double and extended ranges, small integers, values with a float's
// or a double's precision, and random normals.
void Generator::pick_x87(uint8_t* st) {
  constexpr uint64_t kJ = 1ull << 63, kQuiet = 1ull << 62, kPayload = kQuiet - 1;
  unsigned sign = rnd() % 2, exp;
  uint64_t mant, r = rnd();
  switch (rnd() % 16) {
    case 0: exp = 0, mant = 0; break;                                        // ±0
    case 1: exp = 0x7fff, mant = kJ; break;                                  // ±infinity
    case 2: exp = 0x7fff, mant = kJ | kQuiet | (rnd() % 2 ? r & kPayload : r % 4); break;  // QNaN
    case 3: exp = 0x7fff, mant = kJ | ((r & kPayload) >> (rnd() % 62) | 1); break;         // SNaN
    case 4: sign = 1, exp = 0x7fff, mant = kJ | kQuiet; break;               // the default indefinite
    case 5: exp = 0, mant = (r >> 1) >> (rnd() % 63) | 1; break;             // denormal
    case 6: exp = 0, mant = kJ | (r >> 1) >> (rnd() % 63); break;            // pseudo-denormal
    case 7: exp = 1 + unsigned(rnd() % 0x7ffe), mant = (r >> 1) >> (rnd() % 64); break;  // unnormal (pseudo-zero)
    case 8: exp = 0x7fff, mant = rnd() % 2 ? 0 : (r >> 1) >> (rnd() % 63); break;        // pseudo-NaN/-infinity
    case 9:                                                                  // near 1
      if (rnd() % 2) exp = 0x3fff, mant = kJ | (r % 4);
      else exp = 0x3ffe, mant = ~(r % 4);
      break;
    case 10: {  // the ends of the extended, double and float exponent ranges
      static const int kEdges[] = {1 - 0x3fff, 0x3fff, -1022, 1023, -1074, -126, 127, -149, 63, 31, 15, 64, 32, 16};
      int e = 0x3fff + kEdges[rnd() % (sizeof kEdges / sizeof kEdges[0])] + int(rnd() % 5) - 2;
      exp = unsigned(e < 1 ? 1 : e > 0x7ffe ? 0x7ffe : e);
      mant = kJ | (rnd() % 2 ? r : rnd() % 2 ? 0 : ~0ull);
      break;
    }
    case 11: {  // a small integer
      uint64_t n = rnd() % 101;
      if (n == 0) {
        exp = 0, mant = 0;
        break;
      }
      unsigned msb = 63 - unsigned(__builtin_clzll(n));
      exp = 0x3fff + msb, mant = n << (63 - msb);
      break;
    }
    case 12: exp = 0x3fff - 126 + unsigned(rnd() % 254), mant = kJ | (r & 0x7fffff0000000000ull); break;  // float's
    case 13: exp = 0x3fff - 1022 + unsigned(rnd() % 2046), mant = kJ | (r & 0x7ffffffffffff800ull); break;  // double's
    default:                                                                  // a random normal
      exp = rnd() % 2 ? 0x3fff - 64 + unsigned(rnd() % 128) : 1 + unsigned(rnd() % 0x7ffe);
      mant = kJ | r;
      break;
  }
  std::memcpy(st, &mant, 8);
  unsigned se = sign << 15 | exp;
  st[8] = uint8_t(se), st[9] = uint8_t(se >> 8);
}

// Float (32) and double (64) bit patterns: zeros, infinities, NaNs (the
// default one among them), denormals, the ends of the normal range, values
// near 1, small integers and random normals.
uint64_t Generator::pick_ieee(unsigned bits) {
  const unsigned mbits = bits == 32 ? 23 : 52, ebits = bits - 1 - mbits;
  const uint64_t mmask = (1ull << mbits) - 1, emax = (1ull << ebits) - 1, bias = emax >> 1;
  const uint64_t quiet = 1ull << (mbits - 1);
  uint64_t sign = rnd() % 2, exp, mant, r = rnd();
  switch (rnd() % 12) {
    case 0: exp = 0, mant = 0; break;
    case 1: exp = emax, mant = 0; break;
    case 2: exp = emax, mant = quiet | (rnd() % 2 ? r & (quiet - 1) : 0); break;   // QNaN (the default when sign 1, payload 0)
    case 3: exp = emax, mant = ((r & (quiet - 1)) >> (rnd() % (mbits - 1))) | 1; break;  // SNaN
    case 4: exp = 0, mant = ((r & mmask) >> (rnd() % mbits)) | 1; break;           // denormal
    case 5: exp = rnd() % 2 ? 1 : emax - 1, mant = rnd() % 2 ? 0 : rnd() % 2 ? mmask : r & mmask; break;
    case 6: exp = bias - rnd() % 2, mant = exp == bias ? r % 4 : mmask - r % 4; break;  // near 1
    case 7: {  // a small integer
      uint64_t n = rnd() % 101;
      if (n == 0) {
        exp = 0, mant = 0;
        break;
      }
      unsigned msb = 63 - unsigned(__builtin_clzll(n));
      exp = bias + msb, mant = (n << (mbits - msb)) & mmask;
      break;
    }
    case 8: return r & (bits == 32 ? 0xffffffffull : ~0ull);                  // any bits
    default: exp = bias - 40 + rnd() % 80, mant = r & mmask; break;            // a random normal
  }
  return sign << (bits - 1) | exp << mbits | mant;
}

// The x87/SSE starting state. The x87 stack is usually a contiguous run of
// 0-8 registers from TOP (sometimes random tags, sometimes MMX state: TOP 0,
// all valid, exponents all ones); FCW has a random rounding control, a
// precision control of 24, 53 or 64 bits (never the reserved 01) and
// usually every exception masked; FSW has random condition codes and
// usually no exception flag, rarely an unmasked one (pending: the first
// waiting x87 or MMX instruction raises #MF). ES and B are what they must be
// for the flags and masks, and FCW's reserved bits what FXRSTOR leaves
// (bit 6 set, 13-15 clear), so that the host's FXRSTOR keeps the image as
// it is. FOP, FIP and FDP are 0.
void Generator::pick_fx(FxState& fx) {
  fx = FxState{};
  static const unsigned kPc[] = {3, 3, 2, 0};
  unsigned masks = rnd() % 8 ? 0x3f : unsigned(rnd() & 0x3f);
  unsigned rc = rnd() % 2 ? 0 : unsigned(rnd() % 4);
  fx.fcw = uint16_t(masks | 0x40 | kPc[rnd() % 4] << 8 | rc << 10 | (rnd() % 16 == 0 ? 0x1000 : 0));
  unsigned flags = 0;
  switch (rnd() % 16) {
    case 0: case 1: flags = unsigned(rnd()) & masks; break;  // flags that raise nothing
    case 2: flags = unsigned(rnd() & 0x3f); break;
    case 3:
      if (rnd() % 4 == 0) {  // pending: one unmasked exception flagged
        unsigned bit = 1u << (rnd() % 6);
        fx.fcw = uint16_t(fx.fcw & ~bit);
        flags = bit;
      }
      break;
    default: break;
  }
  if ((flags & 1) && rnd() % 2) flags |= 0x40;  // a stack fault (SF with IE)
  unsigned top = unsigned(rnd() % 8);
  uint16_t fsw = uint16_t(flags | top << 11 | (rnd() & 0x4700));  // C0-C3
  if (flags & ~fx.fcw & 0x3f) fsw |= 0x8080;  // ES and B
  fx.fsw = fsw;
  bool mmx = rnd() % 8 == 0;
  if (mmx) {
    fx.fsw = uint16_t(fx.fsw & ~0x3800);
    fx.ftw = 0xff;
  } else if (rnd() % 8 == 0) {
    fx.ftw = uint8_t(rnd());
  } else {
    unsigned depth = unsigned(rnd() % 9);
    for (unsigned i = 0; i < depth; ++i) fx.ftw = uint8_t(fx.ftw | 1u << ((top + i) & 7));
  }
  for (auto& st : fx.st) {
    if (mmx) {
      uint64_t v = pick_value();
      std::memcpy(st, &v, 8);
      st[8] = st[9] = 0xff;
    } else {
      pick_x87(st);
    }
  }
  // MXCSR: random flags, rounding mode, DAZ and FTZ; now and then some
  // exceptions unmasked (flags already set never fault by themselves).
  fx.mxcsr = 0x1f80 | uint32_t(rnd() & 0x3f) | uint32_t(rnd() & 3) << 13;
  if (rnd() % 4 == 0) fx.mxcsr |= 0x40;
  if (rnd() % 4 == 0) fx.mxcsr |= 0x8000;
  if (rnd() % 5 == 0) fx.mxcsr &= ~(uint32_t(rnd() & 0x3f) << 7);
  fx.mxcsr_mask = 0xffff;
  for (auto& x : fx.xmm)
    for (size_t i = 0; i < 16; i += 8) {
      uint64_t v = rnd() % 4 == 0 ? pick_ieee(64) : rnd() % 4 == 0 ? pick_ieee(32) | pick_ieee(32) << 32 : pick_value();
      std::memcpy(&x[i], &v, 8);
    }
}

bool Generator::encode(Form f, Insn& out, uint64_t& undefined_flags, uint64_t& read_flags) {
  const FormInfo& info = form_info(f);
  std::string name = info.name;
  std::vector<uint8_t> b;

  // Operand size and the prefixes that select it (compatibility mode: 16
  // or 32 bits, no REX).
  const bool m64 = mode_ == DecodeMode::k64;
  unsigned op = 4;
  bool rex_w = info.flags & RexW;
  bool p66 = info.pfx == P66;
  switch (info.osz) {
    case B: op = 1; break;
    case V:
      if (info.pfx == P66) break;
      switch (rnd() % 3) {
        case 0: op = 2, p66 = true; break;
        case 1: if (m64) op = 8, rex_w = true; break;
        default: break;
      }
      break;
    case D64:
      if (m64) op = rnd() % 4 == 0 ? 2 : 8, p66 = op == 2;
      else op = rnd() % 4 == 0 ? 2 : 4, p66 = op == 2;
      break;
    case F64: op = m64 ? 8 : 4; break;
    case Y:
      if (m64) op = rnd() % 2 ? 8 : 4, rex_w = rex_w || op == 8;
      break;
    case W: op = 2; break;
    case Cr: op = m64 ? 8 : 4; break;
  }
  if (rex_w && info.osz == V) op = 8;
  // Results the architecture leaves undefined: 16-bit BSWAP; SHLD/SHRD of a
  // word by more than 16 (the CL forms); BSF/BSR of zero is left to compare.
  std::string m = mnemonic(name);
  if (m == "BSWAP" && op == 2) return false;
  if ((m == "SHLD" || m == "SHRD") && op == 2 && info.imm != Ib) return false;
  bool word_double_shift = (m == "SHLD" || m == "SHRD") && op == 2;

  // ModRM: general-register operands never name RSP or the base of every
  // memory operand (R15, EBX in compatibility mode), so the stack and the
  // operands stay valid; memory operands are [base + disp]. Vector register
  // fields (V/P/W/Q/U/N operands) take any.
  const uint8_t base = m64 ? 15 : 3, nregs = m64 ? 16 : 8;
  uint8_t reg = 0, rm = 0, mod = 3;
  auto pick_reg = [&] {
    uint8_t r;
    do r = uint8_t(rnd() % nregs);
    while (r == 4 || r == base);
    return r;
  };
  bool reg_vec = false, rm_vec = false;
  for (size_t at = name.find('_'); at != std::string::npos; at = name.find('_', at + 1)) {
    char k = name[at + 1];
    if (k == 'V' || k == 'P') reg_vec = true;
    if (k == 'W' || k == 'Q' || k == 'U' || k == 'N') rm_vec = true;
    if (name.compare(at + 1, 3, "STi") == 0) rm_vec = true;  // x87 ST(i): any of 0-7, REX.B ignored
  }
  auto pick_vec = [&] { return uint8_t(rnd() % nregs); };
  bool mem = false;
  uint8_t mem_base = base;
  if (modrm_has_byte(info.modrm)) {
    if (modrm_is_exact(info.modrm)) {
      mod = 3, reg = (info.modrm >> 3) & 7, rm = info.modrm & 7;
    } else {
      reg = modrm_is_digit(info.modrm) ? uint8_t(info.modrm - D0) : reg_vec ? pick_vec() : pick_reg();
      mem = info.modc == Mem || (info.modc == Any && !(info.flags & ModAny) && rnd() % 2);
      if (mem) mod = rnd() % 2 ? 1 : 2;
      else rm = rm_vec ? pick_vec() : pick_reg();
      // One memory operand in 16 takes another register as its base, whose
      // value may point anywhere: faults on the operand (#PF, #GP), and what
      // an instruction changes or leaves alone when it takes one.
      if (mem && !exact_form_ && rnd() % 16 == 0) {
        do mem_base = uint8_t(rnd() % nregs);
        while ((mem_base & 7) == 4);  // RSP (and R12) would need a SIB byte
      }
    }
  }
  uint8_t opcode = info.opcode;
  if (info.flags & PlusR) {
    uint8_t r = pick_reg();
    if ((info.flags & NoRexB) && r >= 8) return false;
    rm = r;  // carried in REX.B like ModRM.rm
    opcode = uint8_t(opcode + (r & 7));
  }
  if (info.flags & PlusCc) opcode = uint8_t(opcode + rnd() % 16);

  bool rex_r = reg >= 8 && !modrm_is_digit(info.modrm) && !modrm_is_exact(info.modrm);
  bool rex_b = m64 && (mem ? mem_base >= 8 : rm >= 8);
  bool want_rex = m64 && (rex_w || rex_r || rex_b || (op == 1 && rnd() % 2));
  if ((info.flags & NoRexB) && rex_b) return false;

  // LOCK on a form that allows it (with a memory operand), and now and then
  // where it is illegal (any other form or a register operand): #UD.
  // (Not on MOV to/from CRn: AMD reads LOCK MOV CR0 as CR8, its AltMovCr8
  // extension, which the host has and rewind's Intel model does not.)
  const bool lockable = (info.flags & Lock) && mem;
  const bool amd_alt_cr8 = std::string_view(info.name).starts_with("MOV_Cd") || std::string_view(info.name).starts_with("MOV_Rd_Cd");
  const bool illegal_lock = !lockable && !amd_alt_cr8 && rnd() % 64 == 0 && !exact_form_;
  if ((lockable && rnd() % 4 == 0) || illegal_lock) b.push_back(0xf0);
  bool rep = (info.flags & Rep) && rnd() % 2;
  if (rep) b.push_back(rnd() % 2 ? 0xf3 : 0xf2);
  if (p66) b.push_back(0x66);
  // Now and then the other address size (0x67): 32-bit addresses for a
  // memory operand or a string instruction in 64-bit mode; in 32-bit code
  // 16-bit ones (SI, DI, CX) for string instructions only (a 16-bit ModRM
  // operand has another encoding).
  const bool addr_override = !exact_form_ && info.imm != Ov && ((mem && m64) || (info.flags & Rep)) && rnd() % 16 == 0;
  if (addr_override) b.push_back(0x67);
  if (info.pfx == PF3) b.push_back(0xf3);
  if (info.pfx == PF2) b.push_back(0xf2);
  if (want_rex) b.push_back(uint8_t(0x40 | (rex_w ? 8 : 0) | (rex_r ? 4 : 0) | (rex_b ? 1 : 0)));
  if (info.map == M0F) b.push_back(0x0f);
  if (info.map == M0F38) b.push_back(0x0f), b.push_back(0x38);
  if (info.map == M0F3A) b.push_back(0x0f), b.push_back(0x3a);
  b.push_back(opcode);
  if (modrm_has_byte(info.modrm)) {
    b.push_back(uint8_t(mod << 6 | (reg & 7) << 3 | (mem ? mem_base & 7 : rm & 7)));
    int32_t disp = mod == 1 ? int32_t(int8_t(rnd())) : int32_t(rnd() % 0x7000) - 0x3800;
    if (rnd() % 2) disp &= ~15;  // half the memory operands aligned, for SSE's alignment rule
    if (mod == 1) b.push_back(uint8_t(disp));
    if (mod == 2)
      for (int i = 0; i < 4; ++i) b.push_back(uint8_t(uint32_t(disp) >> (8 * i)));
  }
  auto put = [&](uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; ++i) b.push_back(uint8_t(v >> (8 * i)));
  };
  uint64_t imm = pick_value();
  if (word_double_shift) imm %= 17;
  switch (info.imm) {
    case Ib: case Ibs: put(imm, 1); break;
    case Iw: put(imm, 2); break;
    case Id: put(imm, 4); break;
    case Iz: put(imm, op == 2 ? 2 : 4); break;
    case Iv: put(imm, op); break;
    case Ov: put(kDataAddr + 0x100 + rnd() % (kDataSize - 0x200), m64 ? 8 : 4); break;
    default: break;
  }

  // The decoder must read back the intended form (or the generator is wrong).
  DecodedInsn d{};
  if (!decode_x86(b.data(), b.size(), mode_, d) || d.length != b.size()) return false;
  if (d.form != f && !(illegal_lock && d.form == Form::kInvalid)) return false;

  FlagUse use = flag_use(name, op, x87_ie_unmasked_);
  if (rep) use.defines = 0;  // a REP CMPS/SCAS with a zero count sets no flag
  if (use.read & undefined_flags) return false;  // would read an undefined flag
  undefined_flags = (undefined_flags & ~use.defines) | use.undefined;
  read_flags |= use.read;
  out.form = f;
  out.bytes = std::move(b);
  out.flags_read = use.read;
  out.flags_undefined = use.undefined;
  out.flags_defined = use.defines;
  return true;
}

Sequence Generator::start() {
  Sequence s;
  for (int i = 0; i < 16; ++i) s.in.gpr[i] = pick_value();
  s.mode = mode_;
  if (mode_ == DecodeMode::k32)
    for (uint64_t& r : s.in.gpr) r &= 0xffffffffull;  // (the upper halves are not the state of 32-bit code)
  s.in.gpr[4] = kStackTop - 8 * (rnd() % 64);
  s.in.gpr[mode_ == DecodeMode::k64 ? 15 : 3] = kDataMid;
  s.in.rip = kCodeAddr;
  s.in.rflags = 0x202 | (rnd() & kAll) | (rnd() % 4 == 0 ? kDf : 0) | (rnd() % 8 == 0 ? kAc : 0);
  pick_fx(s.in.fx);
  x87_ie_unmasked_ = !(s.in.fx.fcw & 1);
  // The data area: 16-byte pieces of the value pool in a random order.
  if (sequences_since_pool_++ % kPoolReuse == 0) fill_pool();
  s.data.resize(kDataSize);
  constexpr unsigned kPieces = kDataSize / 16;
  static_assert((kPieces & (kPieces - 1)) == 0);
  for (unsigned i = 0; i < kPieces;) {
    uint64_t r = rnd();
    for (unsigned k = 0; k < 5 && i < kPieces; ++k, ++i, r >>= 12)
      std::memcpy(&s.data[16 * i], &pool_[16 * (r & (kPieces - 1))], 16);
  }
  return s;
}

// The value pool: noise, the values of pick_value, and floating-point values
// of every width (80-bit ones 16-byte aligned, as FXSAVE and FNSAVE lay them
// out) for the memory operands of x87 and SSE forms. Drawing them costs more
// than running a sequence, so a pool serves kPoolReuse sequences, each
// getting its pieces in another order.
void Generator::fill_pool() {
  pool_.resize(kDataSize);
  for (size_t i = 0; i < kDataSize; i += 8) {
    uint64_t v;
    switch (rnd() % 8) {
      case 0: case 1: v = pick_value(); break;
      case 2: v = pick_ieee(64); break;
      case 3: v = pick_ieee(32) | pick_ieee(32) << 32; break;
      case 4:
        if (i % 16 == 0) {
          pick_x87(&pool_[i]);
          v = rnd();
          std::memcpy(&pool_[i + 10], &v, 6);
          i += 8;
          continue;
        }
        [[fallthrough]];
      default: v = rnd(); break;
    }
    std::memcpy(&pool_[i], &v, 8);
  }
}

Sequence Generator::next(unsigned max_len) {
  Sequence s = start();
  unsigned len = 1 + unsigned(rnd() % max_len);
  uint64_t undefined = 0, read = 0;
  // Nothing after an approximate form may read the x87 state (see compare).
  bool approximated = false;
  for (unsigned tries = 0; s.insns.size() < len && tries < len * 20; ++tries) {
    Form f = forms_[rnd() % forms_.size()];
    if (approximated && uses_x87(f)) continue;
    Insn insn;
    if (encode(f, insn, undefined, read)) {
      approximated = approximated || approximate(f);
      s.insns.push_back(std::move(insn));
    }
  }
  return s;
}

Sequence Generator::next_with(Form f) {
  Sequence s = start();
  uint64_t undefined = 0, read = 0;
  Insn insn;
  exact_form_ = true;  // an instance of f itself: no illegal LOCK
  for (unsigned tries = 0; tries < 100; ++tries)
    if (encode(f, insn, undefined, read)) {
      s.insns.push_back(std::move(insn));
      break;
    }
  exact_form_ = false;
  return s;
}

std::string describe(const Sequence& s) {
  std::string out = s.mode == DecodeMode::k32 ? "  (32-bit code, compatibility mode)\n" : "";
  char buf[96];
  bool x87 = false;
  for (const Insn& i : s.insns) {
    std::string hex;
    for (uint8_t byte : i.bytes) {
      std::snprintf(buf, sizeof buf, "%02x ", byte);
      hex += buf;
    }
    out += "  " + std::string(form_name(i.form)) + ": " + hex + "\n";
    x87 = x87 || uses_x87(i.form);
  }
  std::snprintf(buf, sizeof buf, "  rflags in 0x%llx\n", static_cast<unsigned long long>(s.in.rflags));
  out += buf;
  for (int r = 0; r < 16; ++r) {
    std::snprintf(buf, sizeof buf, "  %s=0x%llx", core::gpr_name(r), static_cast<unsigned long long>(s.in.gpr[r]));
    out += buf;
    if (r % 4 == 3) out += "\n";
  }
  // The x87 registers only when an instruction may use them, all eight then.
  const FxState& fx = s.in.fx;
  std::snprintf(buf, sizeof buf, "  mxcsr in 0x%x, x87 in ", fx.mxcsr);
  out += buf;
  if (x87) {
    out += x87_text(fx, "\n    ", true) + "\n";
  } else {
    std::snprintf(buf, sizeof buf, "fcw 0x%04x fsw 0x%04x tags 0x%02x\n", fx.fcw, fx.fsw, fx.ftw);
    out += buf;
  }
  return out;
}

}  // namespace rwd::difftest
