// A bounded slice of the differential test against the host CPU
// (tests/difftest/difftest.h; `build/tests/host_difftest` runs long campaigns).
// REWIND_DIFFTEST_SEED changes the slice's seed.
#define BOOST_TEST_MODULE test_difftest_host
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <cstring>
#include <set>

#include "core/x86_cpu_state.h"
#include "tcg-llvm/decoder/x86_decoder.h"
#include "tcg-llvm/decoder/x86_form_info.h"
#include "tcg-llvm/interp/form_binding.h"
#include "tests/difftest/difftest.h"

using namespace rwd;
using namespace rwd::difftest;

namespace {

Sequence one(std::vector<uint8_t> bytes, tcg::Form form) {
  Generator gen(7);
  Sequence s = gen.next(1);
  s.insns = {Insn{form, std::move(bytes)}};
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_harness_sees_what_the_cpu_does) {
  NativeRunner native;
  // add %rbx, %rax: both end at the INT3 with the same sum.
  Sequence add = one({0x48, 0x01, 0xd8}, tcg::Form::ADD_Ev_Gv);
  Outcome n = native.run(add), r = run_interpreter(add);
  BOOST_REQUIRE(n.ran);
  BOOST_REQUIRE_MESSAGE(r.ran, r.problem);
  BOOST_TEST(n.vector == 3);
  BOOST_TEST(n.regs.rip == kCodeAddr + 4);
  BOOST_TEST(n.regs.gpr[0] == add.in.gpr[0] + add.in.gpr[3]);
  BOOST_TEST(compare(add, n, r) == "");
  // mov (%r15) with R15 moved out of the data area: both take #PF, same error code.
  Sequence pf = one({0x49, 0x8b, 0x07}, tcg::Form::MOV_Gv_Ev);
  pf.in.gpr[15] = kDataAddr + kDataSize;
  n = native.run(pf), r = run_interpreter(pf);
  BOOST_TEST(n.vector == 14);
  BOOST_TEST(n.error == 4u);  // user read, not present
  BOOST_TEST(compare(pf, n, r) == "");
  // CPUID is where rewind's model and the host differ by design: the
  // comparison must say so (this is why the generator leaves it out).
  Sequence cpuid = one({0x0f, 0xa2}, tcg::Form::CPUID);
  cpuid.in.gpr[0] = 0;
  n = native.run(cpuid), r = run_interpreter(cpuid);
  BOOST_TEST(compare(cpuid, n, r).find("rbx: native") != std::string::npos, compare(cpuid, n, r));
}

namespace {

void random_slice(tcg::DecodeMode mode, unsigned kSequences) {
  uint64_t seed = 20261201;
  if (const char* e = std::getenv("REWIND_DIFFTEST_SEED")) seed = std::strtoull(e, nullptr, 0);
  Generator gen(seed, mode);
  NativeRunner native;
  std::set<tcg::Form> covered;
  unsigned mismatches = 0;
  for (unsigned i = 0; i < kSequences; ++i) {
    Sequence s = gen.next(8);
    Outcome n = native.run(s), r = run_interpreter(s);
    BOOST_REQUIRE_MESSAGE(n.ran && r.ran, n.problem << r.problem);
    if (host_specific(n)) continue;
    for (const Insn& insn : s.insns) covered.insert(insn.form);
    std::string why = compare(s, n, r);
    if (why.empty()) continue;
    if (++mismatches <= 5) {
      Sequence small = shrink(s, native);
      Outcome n2 = native.run(small), r2 = run_interpreter(small);
      BOOST_ERROR("sequence " << i << " (seed " << seed << "): " << compare(small, n2, r2) << "\n" << describe(small));
    }
  }
  BOOST_TEST(mismatches == 0u);
  BOOST_TEST_MESSAGE("difftest slice: " << kSequences << " sequences, " << covered.size() << " of "
                                         << gen.forms().size() << " forms covered, " << mismatches << " mismatches");
  BOOST_TEST(covered.size() * 10 >= gen.forms().size() * 9);
}

}  // namespace

BOOST_AUTO_TEST_CASE(random_sequences_match_the_host) { random_slice(tcg::DecodeMode::k64, 20000); }

// 32-bit code in compatibility mode, where the legacy-only forms live (BCD
// adjust, PUSHA/POPA, BOUND, ARPL, SALC, ...).
BOOST_AUTO_TEST_CASE(random_32bit_sequences_match_the_host) { random_slice(tcg::DecodeMode::k32, 10000); }

// Behaviours the difftest found where rewind and the host parted ways, each
// pinned by the instruction that showed it (run on both, compared).
BOOST_AUTO_TEST_CASE(pinned_findings_match_the_host) {
  struct Pin {
    const char* what;
    std::vector<uint8_t> bytes;
    tcg::Form form;
    uint64_t rsi, rdi, rcx, rflags;
  };
  const uint64_t away = 0x8000, other = 0x9000;  // canonical, unmapped
  const uint64_t bad = 0x7fffffffffffffffull;   // non-canonical
  const Pin pins[] = {
      {"MOV CR12 at CPL 3 is #UD, not #GP", {0x44, 0x0f, 0x22, 0xe1}, tcg::Form::MOV_Cd_Rd, 0, 0, 0, 0x202},
      {"MOV DR8 at CPL 3 is #UD, not #GP", {0x45, 0x0f, 0x21, 0xc3}, tcg::Form::MOV_Rd_Dd, 0, 0, 0, 0x202},
      {"66 MFENCE is #UD", {0x66, 0x0f, 0xae, 0xf0}, tcg::Form::MFENCE, 0, 0, 0, 0x202},
      {"F3 LFENCE is #UD", {0xf3, 0x0f, 0xae, 0xe8}, tcg::Form::LFENCE, 0, 0, 0, 0x202},
      {"a RMW destination faults as a write (BTS)", {0x41, 0x0f, 0xab, 0xb7, 0x00, 0x90, 0x00, 0x00},
       tcg::Form::BTS_Ev_Gv, 0, 0, 0, 0x202},
      {"a RMW destination faults as a write (ADD)", {0x41, 0x01, 0xb7, 0x00, 0x90, 0x00, 0x00}, tcg::Form::ADD_Ev_Gv,
       0, 0, 0, 0x202},
      {"CMPXCHG r32 that fails leaves the destination alone", {0x45, 0x0f, 0xb1, 0xd8}, tcg::Form::CMPXCHG_Ev_Gv, 0,
       0, 0, 0x202},
      {"XADD r, r leaves the sum", {0x4d, 0x0f, 0xc1, 0xd2}, tcg::Form::XADD_Ev_Gv, 0, 0, 0, 0x202},
      {"REP INSB with RCX = 0 still needs I/O privilege", {0xf3, 0x6c}, tcg::Form::INS_b, 0, 0, 0, 0x202},
      {"CMPSB reads ES:RDI first", {0xa6}, tcg::Form::CMPS_b, away, other, 5, 0x202},
      {"REPE CMPSB reads DS:RSI first", {0xf3, 0xa6}, tcg::Form::CMPS_b, away, other, 5, 0x202},
      {"REPE CMPSB with RSI unmapped and RDI non-canonical", {0xf3, 0xa6}, tcg::Form::CMPS_b, away, bad, 5, 0x602},
      {"CMPSD with RDI non-canonical", {0xa7}, tcg::Form::CMPS_v, 0xffffffffb0749095ull, bad, 0, 0x202},
      {"CRC32 with a 16-bit source (66 F2)", {0x66, 0xf2, 0x0f, 0x38, 0xf1, 0xc1}, tcg::Form::CRC32_Gy_Ev, 0, 0,
       0xabcd1234, 0x202},
      {"CRC32 of AH", {0xf2, 0x0f, 0x38, 0xf0, 0xc4}, tcg::Form::CRC32_Gy_Eb, 0, 0, 0, 0x202},
      {"CRC32 of a quadword into RAX", {0xf2, 0x48, 0x0f, 0x38, 0xf1, 0xc1}, tcg::Form::CRC32_Gy_Ev, 0, 0,
       0x0123456789abcdefull, 0x202},
  };
  NativeRunner native;
  for (const Pin& p : pins) {
    Sequence s = one(p.bytes, p.form);
    s.in.gpr[core::kRsi] = p.rsi;
    s.in.gpr[core::kRdi] = p.rdi;
    s.in.gpr[core::kRcx] = p.rcx;
    s.in.gpr[core::kRax] = 0x1111111122222222ull;
    s.in.gpr[core::kR8] = 0x5d9232252c9f58e5ull;
    s.in.rflags = p.rflags;
    Outcome n = native.run(s), r = run_interpreter(s);
    BOOST_TEST(compare(s, n, r) == "", p.what << ": " << compare(s, n, r));
  }
}

// FXSAVE's image against the host's, except MXCSR_MASK (bytes 28-31): AMD
// hosts report their misaligned-SSE mode bit there, which rewind's Intel-like
// model does not have. Then FXRSTOR of that image, compared whole.
BOOST_AUTO_TEST_CASE(fxsave_and_fxrstor_match_the_host) {
  NativeRunner native;
  for (bool wide : {false, true}) {
    std::vector<uint8_t> save = {uint8_t(wide ? 0x49 : 0x41), 0x0f, 0xae, 0x07};     // fxsave (%r15)
    std::vector<uint8_t> restore = {uint8_t(wide ? 0x49 : 0x41), 0x0f, 0xae, 0x0f};  // fxrstor (%r15)
    Sequence s = one(save, tcg::Form::FXSAVE_M);
    Outcome n = native.run(s), r = run_interpreter(s);
    BOOST_REQUIRE(n.ran && r.ran);
    BOOST_TEST(n.vector == 3);
    const size_t at = kDataMid - kDataAddr;
    for (size_t i = 28; i < 32; ++i) n.data[at + i] = r.data[at + i] = 0;
    BOOST_TEST(compare(s, n, r) == "", compare(s, n, r));
    // FXRSTOR of an image made by the host: x87 registers, tags, MXCSR, XMM.
    Sequence t = one(restore, tcg::Form::FXRSTOR_M);
    t.data = native.run(s).data;
    for (size_t i = 28; i < 32; ++i) t.data[at + i] = 0;
    Outcome n2 = native.run(t), r2 = run_interpreter(t);
    BOOST_TEST(compare(t, n2, r2) == "", compare(t, n2, r2));
  }
}

// Two more findings of the long campaigns: a masked store that crosses into
// an unmapped page faults at that page's first byte (CR2), and FWAIT raises
// #MF for an unmasked exception FXRSTOR left pending.
BOOST_AUTO_TEST_CASE(pinned_findings_with_vector_state) {
  NativeRunner native;
  {
    // maskmovdqu %xmm5, %xmm13 at RDI two bytes before the end of the data area.
    Sequence s = one({0x66, 0x41, 0x0f, 0xf7, 0xed}, tcg::Form::MASKMOVDQU_Vdq_Udq);
    s.in.gpr[core::kRdi] = kDataAddr + kDataSize - 2;
    std::memset(s.in.fx.xmm[13], 0xff, 16);
    Outcome n = native.run(s), r = run_interpreter(s);
    BOOST_TEST(n.vector == 14);
    BOOST_TEST(n.cr2 == kDataAddr + kDataSize);
    BOOST_TEST(compare(s, n, r) == "", compare(s, n, r));
  }
  {
    // fxrstor (%r15); fwait — the image unmasks IE (FCW 0x37e) with IE flagged.
    Sequence s = one({0x41, 0x0f, 0xae, 0x0f}, tcg::Form::FXRSTOR_M);
    s.insns.push_back(Insn{tcg::Form::FWAIT, {0x9b}});
    const size_t at = kDataMid - kDataAddr;
    std::memset(&s.data[at], 0, 512);
    s.data[at + 0] = 0x7e, s.data[at + 1] = 0x03;  // FCW
    s.data[at + 2] = 0x01;                         // FSW: IE
    s.data[at + 24] = 0x80, s.data[at + 25] = 0x1f;  // MXCSR
    Outcome n = native.run(s), r = run_interpreter(s);
    BOOST_TEST(n.vector == 16);
    BOOST_TEST(compare(s, n, r) == "", compare(s, n, r));
  }
}

// The x87/SSE state plumbing, on the generator's random starting states:
// an empty sequence (INT3 alone) gives back on the host exactly the image it
// was loaded from (the generator draws only images FXRSTOR keeps as they
// are) and the same as the interpreter; FWAIT and an MMX instruction agree
// too, #MF (vector 16) exactly when an unmasked x87 exception is pending.
// Then compare() itself: it sees a difference in a non-empty register and
// ignores one in an empty register.
BOOST_AUTO_TEST_CASE(x87_and_sse_state_reach_both_sides) {
  Generator gen(4242);
  NativeRunner native;
  unsigned pending = 0, tops = 0, classes = 0, cases = 0;
  for (unsigned i = 0; i < 2000; ++i) {
    Sequence s = gen.next(1);
    s.insns.clear();
    const FxState& in = s.in.fx;
    Outcome n = native.run(s), r = run_interpreter(s);
    BOOST_REQUIRE_MESSAGE(n.ran && r.ran, n.problem << r.problem);
    BOOST_TEST(n.vector == 3);
    const FxState& out = n.regs.fx;
    bool same = in.fcw == out.fcw && in.fsw == out.fsw && in.ftw == out.ftw && in.mxcsr == out.mxcsr &&
                std::memcmp(in.xmm, out.xmm, sizeof in.xmm) == 0;
    for (unsigned k = 0; k < 8; ++k) same = same && std::memcmp(in.st[k], out.st[k], 10) == 0;
    BOOST_TEST(same, "state " << i << ": the host loaded " << x87_text(in, " ", true) << " and gave back "
                              << x87_text(out, " ", true));
    BOOST_TEST(compare(s, n, r) == "", "state " << i << ": " << compare(s, n, r));
    bool is_pending = in.fsw & ~in.fcw & 0x3f;
    pending += is_pending;
    tops |= 1u << in.top();
    for (unsigned k = 0; k < 8; ++k) {
      const uint8_t* st = in.phys(k);
      unsigned exp = (st[8] | st[9] << 8) & 0x7fff;
      uint64_t mant;
      std::memcpy(&mant, st, 8);
      // Classes: zero, denormal, pseudo-denormal, unnormal, normal, infinity, NaN, pseudo-NaN/-infinity.
      unsigned c = exp == 0 ? (mant == 0 ? 0 : mant >> 63 ? 2 : 1)
                   : exp == 0x7fff ? (!(mant >> 63) ? 7 : mant << 1 ? 6 : 5)
                                   : (mant >> 63 ? 4 : 3);
      if (in.valid(k)) classes |= 1u << c;
    }
    // FWAIT, then paddb %mm1, %mm0 and EMMS (MMX state, or #MF).
    for (const Insn& insn : {Insn{tcg::Form::FWAIT, {0x9b}}, Insn{tcg::Form::PADDB_Pq_Qq, {0x0f, 0xfc, 0xc1}}}) {
      s.insns = {insn};
      n = native.run(s), r = run_interpreter(s);
      BOOST_TEST(n.vector == (is_pending ? 16 : 3));
      BOOST_TEST(compare(s, n, r) == "", "state " << i << ", " << tcg::form_name(insn.form) << ": " << compare(s, n, r));
      ++cases;
    }
    if (i == 0) {
      // compare() on the empty sequence's outcomes, one register changed.
      s.insns.clear();
      n = native.run(s), r = run_interpreter(s);
      for (unsigned k = 0; k < 8; ++k) {
        Outcome changed = r;
        changed.regs.fx.phys(k)[9] ^= 0x80;  // the sign
        std::string why = compare(s, n, changed);
        if (in.valid(k)) BOOST_TEST(why.find("R" + std::to_string(k) + ": native") != std::string::npos, why);
        else BOOST_TEST(why == "");
      }
    }
  }
  BOOST_TEST_MESSAGE("x87 states: " << pending << " of 2000 with an exception pending, " << cases << " runs");
  BOOST_TEST(pending >= 10u);
  BOOST_TEST(tops == 0xffu);
  BOOST_TEST(classes == 0xffu);
}

// How the host reports the two floating-point exceptions: x87 #MF as
// SIGFPE with trap number 16, SSE #XM as SIGFPE with 19 (a DIVSS by zero
// with ZM clear). DIVSS is compared with the interpreter once it has semantics.
BOOST_AUTO_TEST_CASE(fp_exceptions_come_back_with_their_vectors) {
  NativeRunner native;
  Sequence s = one({0xf3, 0x0f, 0x5e, 0xc1}, tcg::Form::DIVSS_Vss_Wss);  // divss %xmm1, %xmm0
  s.in.fx.mxcsr = 0x1f80 & ~0x200u;                                      // ZM clear
  const float one_f = 1.0f, zero_f = 0.0f;
  std::memcpy(s.in.fx.xmm[0], &one_f, 4);
  std::memcpy(s.in.fx.xmm[1], &zero_f, 4);
  Outcome n = native.run(s);
  BOOST_REQUIRE(n.ran);
  BOOST_TEST(n.vector == 19);
  BOOST_TEST(n.regs.rip == kCodeAddr);
  BOOST_TEST((n.regs.fx.mxcsr & 4u) != 0u);  // ZE flagged
  if (tcg::form_has_semantics(tcg::Form::DIVSS_Vss_Wss)) {
    Outcome r = run_interpreter(s);
    BOOST_TEST(compare(s, n, r) == "", compare(s, n, r));
  }
  // fwait with ZE flagged and unmasked.
  Sequence t = one({0x9b}, tcg::Form::FWAIT);
  t.in.fx.fcw = 0x37b;
  t.in.fx.fsw = uint16_t((t.in.fx.fsw & 0x7f00) | 0x8084);
  n = native.run(t);
  Outcome r = run_interpreter(t);
  BOOST_TEST(n.vector == 16);
  BOOST_TEST(compare(t, n, r) == "", compare(t, n, r));
}

// The generator encodes every x87 form of the table (D8-DF; drawn once it
// has semantics): register forms with mod 3 and every ST(i) reachable,
// memory forms as [R15 + disp] inside the data area; FCMOVcc reads its
// condition's flags and FCOMI/FUCOMI(P) define all six. Each instance runs
// on the host to INT3, or to #MF when the state has an exception pending.
BOOST_AUTO_TEST_CASE(the_generator_encodes_x87_forms) {
  Generator gen(99);
  NativeRunner native;
  const uint64_t kCf = 1, kPf = 4, kZf = 0x40, kAll = 0x8d5;
  unsigned forms = 0;
  for (size_t i = 0; i < size_t(tcg::Form::kCount); ++i) {
    tcg::Form f = tcg::Form(i);
    const tcg::FormInfo& info = tcg::form_info(f);
    if (info.map != tcg::x86_col::M1 || info.opcode < 0xd8 || info.opcode > 0xdf) continue;
    ++forms;
    std::string name = info.name;
    unsigned sti = 0;
    for (int round = 0; round < 100; ++round) {
      Sequence s = gen.next_with(f);
      BOOST_REQUIRE_MESSAGE(s.insns.size() == 1, name << " was not encoded");
      const Insn& insn = s.insns[0];
      tcg::DecodedInsn d{};
      BOOST_REQUIRE(tcg::decode_x86(insn.bytes.data(), insn.bytes.size(), tcg::DecodeMode::k64, d));
      BOOST_TEST((d.form == f), name);
      if (info.modc == tcg::x86_col::Mem) {
        BOOST_TEST(d.mod != 3, name);
        BOOST_TEST(d.base == 15, name);
        BOOST_TEST(d.index == tcg::kNoReg, name);
      } else {
        BOOST_TEST(d.mod == 3, name);
        sti |= 1u << (d.rm & 7);
      }
      std::string m = name.substr(0, name.find('_'));
      uint64_t want_read = 0;
      if (m == "FCMOVB" || m == "FCMOVNB") want_read = kCf;
      if (m == "FCMOVE" || m == "FCMOVNE") want_read = kZf;
      if (m == "FCMOVBE" || m == "FCMOVNBE") want_read = kCf | kZf;
      if (m == "FCMOVU" || m == "FCMOVNU") want_read = kPf;
      BOOST_TEST(insn.flags_read == want_read, name);
      bool fcomi = m == "FCOMI" || m == "FCOMIP" || m == "FUCOMI" || m == "FUCOMIP";
      BOOST_TEST(insn.flags_defined == (fcomi && (s.in.fx.fcw & 1) ? kAll : 0), name);
      BOOST_TEST(insn.flags_undefined == 0u, name);
      s.in.rflags &= ~uint64_t(0x40000);  // no alignment checking (#AC) here: this test is about the encoding
      Outcome n = native.run(s);
      BOOST_REQUIRE(n.ran);
      // The non-waiting forms run whatever is pending; an exception the
      // instruction raises itself waits for the next x87 instruction.
      bool waits = m != "FNINIT" && m != "FNCLEX" && m != "FNSTCW" && m != "FNSTSW" && m != "FNSTENV" && m != "FNSAVE";
      bool pending = s.in.fx.fsw & ~s.in.fx.fcw & 0x3f;
      BOOST_TEST(n.vector == (pending && waits ? 16 : 3), name << ": vector " << int(n.vector));
    }
    if (info.modc != tcg::x86_col::Mem && !tcg::x86_col::modrm_is_exact(info.modrm)) BOOST_TEST(sti == 0xffu, name << ": ST(i) reached " << sti);
  }
  BOOST_TEST(forms > 100u);
}
