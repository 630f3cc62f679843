// The sequence generator: encodes random instances of the forms table's
// user-mode 64-bit rows from their decode columns (prefix, map, opcode,
// ModRM kind, operand-size rule, immediates), and keeps track of which flags
// an instruction leaves undefined so that no later instruction reads them and
// the final comparison leaves them out.
#include <cstring>
#include <string>

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

// Forms left out, with the reason: their result depends on the host or the
// process, not on the instruction (CPUID, the TSC and TSC_AUX, randomness,
// performance counters, Linux's UMIP emulation of the descriptor-table
// stores, the host's GDT), or the feature is one rewind's CPUID model leaves
// out while the host has it (SVM, PKU, MONITORX, CLZERO ...; FXSAVE's image
// holds the host's MXCSR_MASK, which on AMD has the MM bit: a pinned test in
// test_difftest_host compares the rest of it), or they change
// state the sequence must keep (segment registers, RSP through RBP, TF and AC
// through POPF).
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
  };
  for (const char* d : kDenied)
    if (n == d) return true;
  return false;
}

std::string mnemonic(const std::string& name) { return name.substr(0, name.find('_')); }
bool starts(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

struct FlagUse {
  uint64_t read = 0;       // flags the instruction reads
  uint64_t undefined = 0;  // flags it leaves undefined
  uint64_t defines = 0;    // flags it always sets to a defined value
};

FlagUse flag_use(const std::string& name, unsigned op_size) {
  std::string m = mnemonic(name);
  FlagUse u;
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
  else if (m == "POPCNT" || m == "PTEST") u.defines = kAll;
  else if (m == "SETCC" || m == "CMOVCC" || m == "PUSHF") u.read = kAll;
  else if (m == "LAHF") u.read = kSf | kZf | kAf | kPf | kCf;
  else if (m == "SAHF") u.defines = kSf | kZf | kAf | kPf | kCf;
  else if (m == "CMC") u.read = kCf;
  else if (m == "CLC" || m == "STC") u.defines = kCf;
  return u;
}

}  // namespace

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

Generator::Generator(uint64_t seed) : state_(seed) {
  for (size_t i = 0; i < size_t(Form::kCount); ++i) {
    Form f = Form(i);
    const FormInfo& info = form_info(f);
    std::string name = info.name;
    if (info.map == Gen || (info.flags & (I64 | Br)) || !form_has_semantics(f) || denied(name)) continue;
    if (info.imm == Jb || info.imm == Jz || info.imm == Ap || info.imm == IwIb || info.imm == IbIb) continue;
    forms_.push_back(f);
  }
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

bool Generator::encode(Form f, Insn& out, uint64_t& undefined_flags, uint64_t& read_flags) {
  const FormInfo& info = form_info(f);
  std::string name = info.name;
  std::vector<uint8_t> b;

  // Operand size and the prefixes that select it.
  unsigned op = 4;
  bool rex_w = info.flags & RexW;
  bool p66 = info.pfx == P66;
  switch (info.osz) {
    case B: op = 1; break;
    case V:
      if (info.pfx == P66) break;
      switch (rnd() % 3) {
        case 0: op = 2, p66 = true; break;
        case 1: op = 8, rex_w = true; break;
        default: break;
      }
      break;
    case D64: op = rnd() % 4 == 0 ? 2 : 8, p66 = op == 2; break;
    case F64: op = 8; break;
    case Y: op = rnd() % 2 ? 8 : 4, rex_w = rex_w || op == 8; break;
    case W: op = 2; break;
    case Cr: op = 8; break;
  }
  if (rex_w && info.osz == V) op = 8;
  // Results the architecture leaves undefined: 16-bit BSWAP; SHLD/SHRD of a
  // word by more than 16 (the CL forms); BSF/BSR of zero is left to compare.
  std::string m = mnemonic(name);
  if (m == "BSWAP" && op == 2) return false;
  if ((m == "SHLD" || m == "SHRD") && op == 2 && info.imm != Ib) return false;
  bool word_double_shift = (m == "SHLD" || m == "SHRD") && op == 2;

  // ModRM: general-register operands never name RSP or R15 (the stack and
  // the base of every memory operand stay valid), memory operands are
  // [R15 + disp]. Vector register fields (V/P/W/Q/U/N operands) take any.
  uint8_t reg = 0, rm = 0, mod = 3;
  auto pick_reg = [&] {
    uint8_t r;
    do r = uint8_t(rnd() % 16);
    while (r == 4 || r == 15);
    return r;
  };
  bool reg_vec = false, rm_vec = false;
  for (size_t at = name.find('_'); at != std::string::npos; at = name.find('_', at + 1)) {
    char k = name[at + 1];
    if (k == 'V' || k == 'P') reg_vec = true;
    if (k == 'W' || k == 'Q' || k == 'U' || k == 'N') rm_vec = true;
  }
  auto pick_vec = [&] { return uint8_t(rnd() % 16); };
  bool mem = false;
  if (modrm_has_byte(info.modrm)) {
    if (modrm_is_exact(info.modrm)) {
      mod = 3, reg = (info.modrm >> 3) & 7, rm = info.modrm & 7;
    } else {
      reg = modrm_is_digit(info.modrm) ? uint8_t(info.modrm - D0) : reg_vec ? pick_vec() : pick_reg();
      mem = info.modc == Mem || (info.modc == Any && !(info.flags & ModAny) && rnd() % 2);
      if (mem) mod = rnd() % 2 ? 1 : 2;
      else rm = rm_vec ? pick_vec() : pick_reg();
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
  bool rex_b = mem ? true : rm >= 8;  // memory operands use R15
  bool want_rex = rex_w || rex_r || rex_b || (op == 1 && rnd() % 2);
  if ((info.flags & NoRexB) && rex_b) return false;

  if ((info.flags & Lock) && mem && rnd() % 4 == 0) b.push_back(0xf0);
  bool rep = (info.flags & Rep) && rnd() % 2;
  if (rep) b.push_back(rnd() % 2 ? 0xf3 : 0xf2);
  if (p66) b.push_back(0x66);
  if (info.pfx == PF3) b.push_back(0xf3);
  if (info.pfx == PF2) b.push_back(0xf2);
  if (want_rex) b.push_back(uint8_t(0x40 | (rex_w ? 8 : 0) | (rex_r ? 4 : 0) | (rex_b ? 1 : 0)));
  if (info.map == M0F) b.push_back(0x0f);
  if (info.map == M0F38) b.push_back(0x0f), b.push_back(0x38);
  if (info.map == M0F3A) b.push_back(0x0f), b.push_back(0x3a);
  b.push_back(opcode);
  if (modrm_has_byte(info.modrm)) {
    b.push_back(uint8_t(mod << 6 | (reg & 7) << 3 | (mem ? 7 : rm & 7)));
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
    case Ov: put(kDataAddr + 0x100 + rnd() % (kDataSize - 0x200), 8); break;
    default: break;
  }

  // The decoder must read back the intended form (or the generator is wrong).
  DecodedInsn d{};
  if (!decode_x86(b.data(), b.size(), DecodeMode::k64, d) || d.length != b.size()) return false;
  if (d.form != f) return false;

  FlagUse use = flag_use(name, op);
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

Sequence Generator::next(unsigned max_len) {
  Sequence s;
  for (int i = 0; i < 16; ++i) s.in.gpr[i] = pick_value();
  s.in.gpr[4] = kStackTop - 8 * (rnd() % 64);
  s.in.gpr[15] = kDataMid;
  s.in.rip = kCodeAddr;
  s.in.rflags = 0x202 | (rnd() & kAll) | (rnd() % 4 == 0 ? kDf : 0);
  for (auto& x : s.in.xmm)
    for (size_t i = 0; i < 16; i += 8) {
      uint64_t v = pick_value();
      std::memcpy(&x[i], &v, 8);
    }
  s.in.mxcsr = 0x1f80 | uint32_t(rnd() & 0x3f);
  for (auto& x : s.in.mm) {
    uint64_t v = pick_value();
    std::memcpy(x, &v, 8);
  }
  s.data.resize(kDataSize);
  for (size_t i = 0; i < kDataSize; i += 8) {
    uint64_t v = rnd() % 4 == 0 ? pick_value() : rnd();
    std::memcpy(&s.data[i], &v, 8);
  }
  unsigned len = 1 + unsigned(rnd() % max_len);
  uint64_t undefined = 0, read = 0;
  for (unsigned tries = 0; s.insns.size() < len && tries < len * 20; ++tries) {
    Insn insn;
    if (encode(forms_[rnd() % forms_.size()], insn, undefined, read)) s.insns.push_back(std::move(insn));
  }
  return s;
}

std::string describe(const Sequence& s) {
  std::string out;
  char buf[64];
  for (const Insn& i : s.insns) {
    std::string hex;
    for (uint8_t byte : i.bytes) {
      std::snprintf(buf, sizeof buf, "%02x ", byte);
      hex += buf;
    }
    out += "  " + std::string(form_name(i.form)) + ": " + hex + "\n";
  }
  std::snprintf(buf, sizeof buf, "  rflags in 0x%llx\n", static_cast<unsigned long long>(s.in.rflags));
  out += buf;
  for (int r = 0; r < 16; ++r) {
    std::snprintf(buf, sizeof buf, "  %s=0x%llx", core::gpr_name(r), static_cast<unsigned long long>(s.in.gpr[r]));
    out += buf;
    if (r % 4 == 3) out += "\n";
  }
  return out;
}

}  // namespace rwd::difftest
