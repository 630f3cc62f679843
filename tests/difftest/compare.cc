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

bool differs(const Sequence& s, NativeRunner& native) {
  if (!s.flags_comparable()) return false;
  Outcome n = native.run(s);
  Outcome r = run_interpreter(s);
  return n.ran && r.ran && !host_specific(n) && !compare(s, n, r).empty();
}

}  // namespace

bool host_specific(const Outcome& native) { return native.ran && (native.vec.mxcsr & ~0xffffu); }

std::string compare(const Sequence& s, const Outcome& n, const Outcome& r) {
  if (!n.ran) return "native run failed: " + n.problem;
  if (!r.ran) return "interpreter run failed: " + r.problem;
  std::string why;
  if (n.vector != r.vector) why += " vector: native " + std::to_string(n.vector) + " rewind " + std::to_string(r.vector);
  else if (n.vector != 3 && n.error != r.error)
    why += " error code: native " + hex(n.error) + " rewind " + hex(r.error);
  if (n.vector == 14 && r.vector == 14 && n.cr2 != r.cr2) why += " cr2: native " + hex(n.cr2) + " rewind " + hex(r.cr2);
  if (n.regs.rip != r.regs.rip) why += " rip: native " + hex(n.regs.rip) + " rewind " + hex(r.regs.rip);
  for (int i = 0; i < 16; ++i)
    if (n.regs.gpr[i] != r.regs.gpr[i])
      why += std::string(" ") + core::gpr_name(i) + ": native " + hex(n.regs.gpr[i]) + " rewind " + hex(r.regs.gpr[i]);
  uint64_t mask = s.compared_flags(n.regs.rip);
  if ((n.regs.rflags ^ r.regs.rflags) & mask)
    why += " rflags: native " + hex(n.regs.rflags & mask) + " rewind " + hex(r.regs.rflags & mask) + " (compared " +
           hex(mask) + ")";
  for (int i = 0; i < 16; ++i)
    if (std::memcmp(n.regs.xmm[i], r.regs.xmm[i], 16) != 0) {
      why += " xmm" + std::to_string(i) + ": native " + bytes_hex(n.regs.xmm[i], 16) + " rewind " +
             bytes_hex(r.regs.xmm[i], 16);
    }
  for (int i = 0; i < 8; ++i) {
    if (std::memcmp(n.regs.mm[i], r.regs.mm[i], 8) != 0)
      why += " mm" + std::to_string(i) + ": native " + bytes_hex(n.regs.mm[i], 8) + " rewind " +
             bytes_hex(r.regs.mm[i], 8);
    if (n.vec.mm_exponent[i] != r.vec.mm_exponent[i])
      why += " st" + std::to_string(i) + " exponent: native " + hex(n.vec.mm_exponent[i]) + " rewind " +
             hex(r.vec.mm_exponent[i]);
  }
  if (n.vec.tags_valid != r.vec.tags_valid)
    why += " x87 tags: native " + hex(n.vec.tags_valid) + " rewind " + hex(r.vec.tags_valid);
  if (n.vec.top != r.vec.top) why += " x87 TOP: native " + hex(n.vec.top) + " rewind " + hex(r.vec.top);
  if (n.vec.mxcsr != r.vec.mxcsr) why += " mxcsr: native " + hex(n.vec.mxcsr) + " rewind " + hex(r.vec.mxcsr);
  for (size_t i = 0; i < n.data.size() && i < r.data.size(); ++i)
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
