#include "tools/gdbstub/x86_target.h"

#include <cstring>
#include <vector>

namespace rwd::tools::gdb {

namespace {

using core::X86CpuState;

// One register as gdb sees it: its feature, name, size, type and group, and
// where its value comes from.
struct Reg {
  const char* feature;
  const char* name;
  unsigned bits;
  const char* type;
  const char* group;  // nullptr: gdb's default for the type
  std::string (*value)(const X86CpuState&);
};

std::string le(uint64_t v, unsigned bytes) {
  std::string out(bytes, '\0');
  for (unsigned i = 0; i < bytes; ++i) out[i] = char(v >> (8 * i));
  return out;
}

template <core::Gpr R> std::string gpr(const X86CpuState& s) { return le(s.gpr[R], 8); }
template <core::SegReg S> std::string selector(const X86CpuState& s) {
  return le(s.seg[static_cast<int>(S)].selector, 4);
}
template <core::SegReg S> std::string seg_base(const X86CpuState& s) { return le(s.seg[static_cast<int>(S)].base, 8); }
// ST(i): physical register (TOP + i) mod 8.
template <unsigned I> std::string st(const X86CpuState& s) {
  unsigned top = (s.x87.fsw >> 11) & 7;
  return std::string(reinterpret_cast<const char*>(s.x87.st[(top + I) & 7]), 10);
}
template <unsigned I> std::string xmm(const X86CpuState& s) {
  return std::string(reinterpret_cast<const char*>(s.xmm[I]), 16);
}

constexpr const char* kCore = "org.gnu.gdb.i386.core";
constexpr const char* kSse = "org.gnu.gdb.i386.sse";
constexpr const char* kSegments = "org.gnu.gdb.i386.segments";
constexpr const char* kSys = "org.rewind.x86.sys";

using core::Gpr;
using core::SegReg;

const std::vector<Reg>& registers() {
  static const std::vector<Reg> regs = {
      {kCore, "rax", 64, "int64", nullptr, gpr<core::kRax>},
      {kCore, "rbx", 64, "int64", nullptr, gpr<core::kRbx>},
      {kCore, "rcx", 64, "int64", nullptr, gpr<core::kRcx>},
      {kCore, "rdx", 64, "int64", nullptr, gpr<core::kRdx>},
      {kCore, "rsi", 64, "int64", nullptr, gpr<core::kRsi>},
      {kCore, "rdi", 64, "int64", nullptr, gpr<core::kRdi>},
      {kCore, "rbp", 64, "data_ptr", nullptr, gpr<core::kRbp>},
      {kCore, "rsp", 64, "data_ptr", nullptr, gpr<core::kRsp>},
      {kCore, "r8", 64, "int64", nullptr, gpr<core::kR8>},
      {kCore, "r9", 64, "int64", nullptr, gpr<core::kR9>},
      {kCore, "r10", 64, "int64", nullptr, gpr<core::kR10>},
      {kCore, "r11", 64, "int64", nullptr, gpr<core::kR11>},
      {kCore, "r12", 64, "int64", nullptr, gpr<core::kR12>},
      {kCore, "r13", 64, "int64", nullptr, gpr<core::kR13>},
      {kCore, "r14", 64, "int64", nullptr, gpr<core::kR14>},
      {kCore, "r15", 64, "int64", nullptr, gpr<core::kR15>},
      {kCore, "rip", 64, "code_ptr", nullptr, [](const X86CpuState& s) { return le(s.rip, 8); }},
      {kCore, "eflags", 32, "i386_eflags", nullptr, [](const X86CpuState& s) { return le(s.rflags, 4); }},
      {kCore, "cs", 32, "int32", nullptr, selector<SegReg::kCs>},
      {kCore, "ss", 32, "int32", nullptr, selector<SegReg::kSs>},
      {kCore, "ds", 32, "int32", nullptr, selector<SegReg::kDs>},
      {kCore, "es", 32, "int32", nullptr, selector<SegReg::kEs>},
      {kCore, "fs", 32, "int32", nullptr, selector<SegReg::kFs>},
      {kCore, "gs", 32, "int32", nullptr, selector<SegReg::kGs>},
      {kCore, "st0", 80, "i387_ext", nullptr, st<0>},
      {kCore, "st1", 80, "i387_ext", nullptr, st<1>},
      {kCore, "st2", 80, "i387_ext", nullptr, st<2>},
      {kCore, "st3", 80, "i387_ext", nullptr, st<3>},
      {kCore, "st4", 80, "i387_ext", nullptr, st<4>},
      {kCore, "st5", 80, "i387_ext", nullptr, st<5>},
      {kCore, "st6", 80, "i387_ext", nullptr, st<6>},
      {kCore, "st7", 80, "i387_ext", nullptr, st<7>},
      {kCore, "fctrl", 32, "int", "float", [](const X86CpuState& s) { return le(s.x87.fcw, 4); }},
      {kCore, "fstat", 32, "int", "float", [](const X86CpuState& s) { return le(s.x87.fsw, 4); }},
      {kCore, "ftag", 32, "int", "float", [](const X86CpuState& s) { return le(s.x87.ftw, 4); }},
      {kCore, "fiseg", 32, "int", "float", [](const X86CpuState& s) { return le(s.x87.fcs, 4); }},
      {kCore, "fioff", 32, "int", "float", [](const X86CpuState& s) { return le(s.x87.fip, 4); }},
      {kCore, "foseg", 32, "int", "float", [](const X86CpuState& s) { return le(s.x87.fds, 4); }},
      {kCore, "fooff", 32, "int", "float", [](const X86CpuState& s) { return le(s.x87.fdp, 4); }},
      {kCore, "fop", 32, "int", "float", [](const X86CpuState& s) { return le(s.x87.fop, 4); }},
      {kSse, "xmm0", 128, "vec128", nullptr, xmm<0>},
      {kSse, "xmm1", 128, "vec128", nullptr, xmm<1>},
      {kSse, "xmm2", 128, "vec128", nullptr, xmm<2>},
      {kSse, "xmm3", 128, "vec128", nullptr, xmm<3>},
      {kSse, "xmm4", 128, "vec128", nullptr, xmm<4>},
      {kSse, "xmm5", 128, "vec128", nullptr, xmm<5>},
      {kSse, "xmm6", 128, "vec128", nullptr, xmm<6>},
      {kSse, "xmm7", 128, "vec128", nullptr, xmm<7>},
      {kSse, "xmm8", 128, "vec128", nullptr, xmm<8>},
      {kSse, "xmm9", 128, "vec128", nullptr, xmm<9>},
      {kSse, "xmm10", 128, "vec128", nullptr, xmm<10>},
      {kSse, "xmm11", 128, "vec128", nullptr, xmm<11>},
      {kSse, "xmm12", 128, "vec128", nullptr, xmm<12>},
      {kSse, "xmm13", 128, "vec128", nullptr, xmm<13>},
      {kSse, "xmm14", 128, "vec128", nullptr, xmm<14>},
      {kSse, "xmm15", 128, "vec128", nullptr, xmm<15>},
      {kSse, "mxcsr", 32, "i386_mxcsr", "vector", [](const X86CpuState& s) { return le(s.mxcsr, 4); }},
      {kSegments, "fs_base", 64, "int", nullptr, seg_base<SegReg::kFs>},
      {kSegments, "gs_base", 64, "int", nullptr, seg_base<SegReg::kGs>},
      {kSys, "cr0", 64, "uint64", "system", [](const X86CpuState& s) { return le(s.cr0, 8); }},
      {kSys, "cr2", 64, "uint64", "system", [](const X86CpuState& s) { return le(s.cr2, 8); }},
      {kSys, "cr3", 64, "uint64", "system", [](const X86CpuState& s) { return le(s.cr3, 8); }},
      {kSys, "cr4", 64, "uint64", "system", [](const X86CpuState& s) { return le(s.cr4, 8); }},
      {kSys, "cr8", 64, "uint64", "system", [](const X86CpuState& s) { return le(s.cr8, 8); }},
      {kSys, "efer", 64, "uint64", "system", [](const X86CpuState& s) { return le(s.efer, 8); }},
  };
  return regs;
}

// Types the features use that gdb does not predefine.
std::string feature_types(const std::string& feature) {
  if (feature == kCore) {
    std::string t = "<flags id=\"i386_eflags\" size=\"4\">";
    const std::pair<const char*, int> bits[] = {{"CF", 0},  {"", 1},   {"PF", 2},  {"AF", 4},   {"ZF", 6},
                                                {"SF", 7},  {"TF", 8}, {"IF", 9},  {"DF", 10},  {"OF", 11},
                                                {"NT", 14}, {"RF", 16}, {"VM", 17}, {"AC", 18}, {"VIF", 19},
                                                {"VIP", 20}, {"ID", 21}};
    for (const auto& [name, bit] : bits)
      t += "<field name=\"" + std::string(name) + "\" start=\"" + std::to_string(bit) + "\" end=\"" +
           std::to_string(bit) + "\"/>";
    return t + "</flags>";
  }
  if (feature == kSse) {
    std::string t =
        "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
        "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
        "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
        "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
        "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
        "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
        "<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/><field name=\"v2_double\" type=\"v2d\"/>"
        "<field name=\"v16_int8\" type=\"v16i8\"/><field name=\"v8_int16\" type=\"v8i16\"/>"
        "<field name=\"v4_int32\" type=\"v4i32\"/><field name=\"v2_int64\" type=\"v2i64\"/>"
        "<field name=\"uint128\" type=\"uint128\"/></union>"
        "<flags id=\"i386_mxcsr\" size=\"4\">";
    const char* bits[] = {"IE", "DE", "ZE", "OE", "UE", "PE", "DAZ", "IM", "DM", "ZM", "OM", "UM", "PM", "FZ"};
    for (int i = 0; i < 14; ++i) {
      int bit = i < 13 ? i : 15;  // FZ is bit 15
      t += "<field name=\"" + std::string(bits[i]) + "\" start=\"" + std::to_string(bit) + "\" end=\"" +
           std::to_string(bit) + "\"/>";
    }
    return t + "</flags>";
  }
  return "";
}

std::string build_xml() {
  std::string xml =
      "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
      "<target version=\"1.0\"><architecture>i386:x86-64</architecture>";
  std::string open;
  for (const Reg& r : registers()) {
    if (open != r.feature) {
      if (!open.empty()) xml += "</feature>";
      open = r.feature;
      xml += "<feature name=\"" + open + "\">" + feature_types(open);
    }
    xml += "<reg name=\"" + std::string(r.name) + "\" bitsize=\"" + std::to_string(r.bits) + "\" type=\"" + r.type +
           "\"" + (r.group ? std::string(" group=\"") + r.group + "\"" : std::string()) + "/>";
  }
  return xml + "</feature></target>";
}

}  // namespace

const std::string& x86_64_target_xml() {
  static const std::string xml = build_xml();
  return xml;
}

unsigned x86_64_register_count() { return unsigned(registers().size()); }

std::optional<std::string> x86_64_register(const core::X86CpuState& s, unsigned n) {
  if (n >= registers().size()) return std::nullopt;
  return registers()[n].value(s);
}

std::string x86_64_registers(const core::X86CpuState& s) {
  std::string out;
  for (const Reg& r : registers()) out += r.value(s);
  return out;
}

}  // namespace rwd::tools::gdb
