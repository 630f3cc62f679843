// Comparing a native outcome with the interpreter's, and shrinking a
// mismatching sequence to a minimal reproducer.
#include <cstdio>
#include <cstring>

#include "core/x86_cpu_state_io.h"
#include "tests/difftest/difftest.h"

namespace rwd::difftest {

namespace {

std::string bytes_hex(const uint8_t* b, unsigned n) {  // most significant byte first
  std::string s = "0x";
  char buf[4];
  for (unsigned i = n; i-- > 0;) {
    std::snprintf(buf, sizeof buf, "%02x", b[i]);
    s += buf;
  }
  return s;
}

std::string hex(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

// An 80-bit register as sign, exponent and mantissa (the J bit its top bit).
std::string st_text(const uint8_t* st) {
  uint64_t mant;
  std::memcpy(&mant, st, 8);
  unsigned se = st[8] | unsigned(st[9]) << 8;
  char b[40];
  std::snprintf(b, sizeof b, "%c%04x.%016llx", se & 0x8000 ? '-' : '+', se & 0x7fff,
                static_cast<unsigned long long>(mant));
  return b;
}

// Units in the last place between two 80-bit registers of the same sign
// (consecutive encodings of finite values differ by one; the integer bit of
// a normal is implied by the exponent), or a large number.
uint64_t ulps_apart(const uint8_t* a, const uint8_t* b) {
  auto index = [](const uint8_t* st, bool& sign) {
    uint64_t mant;
    std::memcpy(&mant, st, 8);
    unsigned se = st[8] | unsigned(st[9]) << 8, e = se & 0x7fff;
    sign = se >> 15;
    if (e == 0) return static_cast<unsigned __int128>(mant);
    return static_cast<unsigned __int128>(e) << 63 | (mant & ~(1ull << 63));
  };
  bool sa, sb;
  unsigned __int128 ia = index(a, sa), ib = index(b, sb);
  if (sa != sb) return ~0ull;
  unsigned __int128 d = ia > ib ? ia - ib : ib - ia;
  return d > 1000 ? ~0ull : uint64_t(d);
}

bool differs(const Sequence& s, NativeRunner& native) {
  if (!s.flags_comparable()) return false;
  Outcome n = native.run(s);
  Outcome r = run_interpreter(s);
  return n.ran && r.ran && !host_specific(n) && !compare(s, n, r).empty();
}

}  // namespace

bool host_specific(const Outcome& native) { return native.ran && (native.regs.fx.mxcsr & ~0xffffu); }

std::string x87_text(const FxState& fx, const char* separator, bool empty_too) {
  char b[96];
  std::snprintf(b, sizeof b, "fcw 0x%04x fsw 0x%04x (top %u) tags 0x%02x", fx.fcw, fx.fsw, fx.top(), fx.ftw);
  std::string s = b;
  for (unsigned i = 0; i < 8; ++i) {
    unsigned r = (fx.top() + i) & 7;
    if (fx.valid(r) || empty_too)
      s += separator + ("st" + std::to_string(i) + "=R" + std::to_string(r) + (fx.valid(r) ? " " : " empty ")) +
           st_text(fx.phys(r));
  }
  return s;
}

std::string compare(const Sequence& s, const Outcome& n, const Outcome& r) {
  if (!n.ran) return "native run failed: " + n.problem;
  if (!r.ran) return "interpreter run failed: " + r.problem;
  std::string why;
  if (n.vector != r.vector) why += " vector: native " + std::to_string(n.vector) + " rewind " + std::to_string(r.vector);
  else if (n.vector != 3 && n.error != r.error)
    why += " error code: native " + hex(n.error) + " rewind " + hex(r.error);
  if (n.vector == 14 && r.vector == 14 && n.cr2 != r.cr2) why += " cr2: native " + hex(n.cr2) + " rewind " + hex(r.cr2);
  if (n.regs.rip != r.regs.rip) why += " rip: native " + hex(n.regs.rip) + " rewind " + hex(r.regs.rip);
  // 32-bit code has eight 32-bit registers: R8-R15 and the upper halves are
  // not its state (the architecture leaves them undefined across the switch).
  const bool compat = s.mode == tcg::DecodeMode::k32;
  for (int i = 0; i < (compat ? 8 : 16); ++i) {
    const uint64_t mask = compat ? 0xffffffffull : ~0ull;
    if ((n.regs.gpr[i] ^ r.regs.gpr[i]) & mask)
      why += std::string(" ") + core::gpr_name(i) + ": native " + hex(n.regs.gpr[i] & mask) + " rewind " +
             hex(r.regs.gpr[i] & mask);
  }
  uint64_t mask = s.compared_flags(n.regs.rip);
  if ((n.regs.rflags ^ r.regs.rflags) & mask)
    why += " rflags: native " + hex(n.regs.rflags & mask) + " rewind " + hex(r.regs.rflags & mask) + " (compared " +
           hex(mask) + ")";
  // The x87 state: FCW, FSW (every bit), the abridged tags, and each
  // register (80 bits, physical order) that is not empty on both sides, for
  // an empty register's contents are not part of the state. FOP, FIP and FDP
  // are left out: rewind does not promise them yet.
  const FxState &nx = n.regs.fx, &rx = r.regs.fx;
  bool x87_differs = false;
  // A sequence with an approximate form (see difftest.h): nothing after it
  // reads the x87 state, so its results are the final ST(0) and ST(1),
  // which may be one ulp apart, and C1 (rounded up) may differ.
  bool approx = false;
  for (const Insn& i : s.insns) approx = approx || approximate(i.form);
  const uint16_t fsw_mask = approx ? uint16_t(~0x200u) : uint16_t(0xffff);
  auto x87_diff = [&](const std::string& what, uint64_t a, uint64_t b) {
    if (a == b) return;
    why += " " + what + ": native " + hex(a) + " rewind " + hex(b);
    x87_differs = true;
  };
  x87_diff("fcw", nx.fcw, rx.fcw);
  x87_diff("fsw", nx.fsw & fsw_mask, rx.fsw & fsw_mask);
  x87_diff("x87 tags", nx.ftw, rx.ftw);
  for (unsigned i = 0; i < 8; ++i)
    if (nx.valid(i) && rx.valid(i) && std::memcmp(nx.phys(i), rx.phys(i), 10) != 0) {
      const bool top_two = i == nx.top() || i == ((nx.top() + 1) & 7);
      if (approx && top_two && ulps_apart(nx.phys(i), rx.phys(i)) <= 1) continue;
      why += " R" + std::to_string(i) + ": native " + st_text(nx.phys(i)) + " rewind " + st_text(rx.phys(i));
      x87_differs = true;
    }
  if (x87_differs) why += " [x87 native: " + x87_text(nx) + "; rewind: " + x87_text(rx) + "]";
  if (nx.mxcsr != rx.mxcsr) why += " mxcsr: native " + hex(nx.mxcsr) + " rewind " + hex(rx.mxcsr);
  for (int i = 0; i < 16; ++i)
    if (std::memcmp(nx.xmm[i], rx.xmm[i], 16) != 0)
      why += " xmm" + std::to_string(i) + ": native " + bytes_hex(nx.xmm[i], 16) + " rewind " + bytes_hex(rx.xmm[i], 16);
  const bool data_equal = n.data.size() == r.data.size() && std::memcmp(n.data.data(), r.data.data(), n.data.size()) == 0;
  for (size_t i = 0; !data_equal && i < n.data.size() && i < r.data.size(); ++i)
    if (n.data[i] != r.data[i]) {
      why += " memory at " + hex(kDataAddr + i) + ": native " + hex(n.data[i]) + " rewind " + hex(r.data[i]);
      break;
    }
  if (!why.empty() && !r.warning.empty()) why += " (rewind warned: " + r.warning + ")";
  return why.empty() ? why : why.substr(1);
}

Sequence shrink(const Sequence& s, NativeRunner& native) {
  Sequence best = s;
  // The shortest prefix that still differs.
  for (size_t len = 1; len < s.insns.size(); ++len) {
    Sequence p = s;
    p.insns.resize(len);
    if (differs(p, native)) {
      best = p;
      break;
    }
  }
  // Then drop single instructions, earliest first, while it keeps differing.
  for (size_t i = 0; i + 1 < best.insns.size();) {
    Sequence t = best;
    t.insns.erase(t.insns.begin() + long(i));
    if (differs(t, native)) best = t;
    else ++i;
  }
  return best;
}

}  // namespace rwd::difftest
