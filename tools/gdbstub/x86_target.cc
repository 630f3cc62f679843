#include "tools/gdbstub/x86_target.h"

#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace rwd::tools::gdb {

namespace {

using core::X86CpuState;

// One register as gdb sees it: its feature, name, size, type and group, and
// where its value comes from.
struct Reg {
  const char* feature;
  std::string name;
  unsigned bits;
  const char* type;
  const char* group;  // nullptr: gdb's default for the type
  std::function<std::string(const X86CpuState&)> value;
};

std::string le(uint64_t v, unsigned bytes) {
  std::string out(bytes, '\0');
  for (unsigned i = 0; i < bytes; ++i) out[i] = char(v >> (8 * i));
  return out;
}

constexpr const char* kCore = "org.gnu.gdb.i386.core";
constexpr const char* kSse = "org.gnu.gdb.i386.sse";
constexpr const char* kSegments = "org.gnu.gdb.i386.segments";
constexpr const char* kSys = "org.rewind.x86.sys";

// gdb's register order for the architecture (amd64: rax rbx rcx rdx rsi rdi
// rbp rsp r8-r15; i386: eax ecx edx ebx esp ebp esi edi), then what both share.
std::vector<Reg> build_registers(GdbArch arch) {
  const bool wide = arch == GdbArch::kX86_64;
  const unsigned bits = wide ? 64 : 32, bytes = bits / 8;
  std::vector<Reg> regs;
  auto gpr = [&](const char* name, core::Gpr r, const char* type) {
    regs.push_back({kCore, name, bits, type, nullptr, [r, bytes](const X86CpuState& s) { return le(s.gpr[r], bytes); }});
  };
  if (wide) {
    gpr("rax", core::kRax, "int64");
    gpr("rbx", core::kRbx, "int64");
    gpr("rcx", core::kRcx, "int64");
    gpr("rdx", core::kRdx, "int64");
    gpr("rsi", core::kRsi, "int64");
    gpr("rdi", core::kRdi, "int64");
    gpr("rbp", core::kRbp, "data_ptr");
    gpr("rsp", core::kRsp, "data_ptr");
    for (int i = 8; i < 16; ++i) gpr(("r" + std::to_string(i)).c_str(), core::Gpr(i), "int64");
  } else {
    gpr("eax", core::kRax, "int32");
    gpr("ecx", core::kRcx, "int32");
    gpr("edx", core::kRdx, "int32");
    gpr("ebx", core::kRbx, "int32");
    gpr("esp", core::kRsp, "data_ptr");
    gpr("ebp", core::kRbp, "data_ptr");
    gpr("esi", core::kRsi, "int32");
    gpr("edi", core::kRdi, "int32");
  }
  // gpr() copies the name into the Reg: the temporaries above are gone by now.
  // The PC gdb sees is the linear address (CS base + IP): what breakpoints
  // and memory use. It differs from the register only where CS has a base:
  // real mode, virtual-8086 mode and segmented protected-mode code.
  regs.push_back({kCore, wide ? "rip" : "eip", bits, "code_ptr", nullptr,
                  [bytes](const X86CpuState& s) { return le(s.linear_pc(), bytes); }});
  regs.push_back({kCore, "eflags", 32, "i386_eflags", nullptr, [](const X86CpuState& s) { return le(s.rflags, 4); }});
  const std::pair<const char*, core::SegReg> segs[] = {{"cs", core::SegReg::kCs}, {"ss", core::SegReg::kSs},
                                                      {"ds", core::SegReg::kDs}, {"es", core::SegReg::kEs},
                                                      {"fs", core::SegReg::kFs}, {"gs", core::SegReg::kGs}};
  for (const auto& [name, seg] : segs)
    regs.push_back({kCore, name, 32, "int32", nullptr,
                    [seg](const X86CpuState& s) { return le(s.seg[static_cast<int>(seg)].selector, 4); }});
  // ST(i): physical register (TOP + i) mod 8.
  for (unsigned i = 0; i < 8; ++i)
    regs.push_back({kCore, "st" + std::to_string(i), 80, "i387_ext", nullptr, [i](const X86CpuState& s) {
                      unsigned top = (s.x87.fsw >> 11) & 7;
                      return std::string(reinterpret_cast<const char*>(s.x87.st[(top + i) & 7]), 10);
                    }});
  using X87Field = uint64_t (*)(const X86CpuState&);
  const std::pair<const char*, X87Field> x87[] = {
      {"fctrl", [](const X86CpuState& s) -> uint64_t { return s.x87.fcw; }},
      {"fstat", [](const X86CpuState& s) -> uint64_t { return s.x87.fsw; }},
      {"ftag", [](const X86CpuState& s) -> uint64_t { return s.x87.ftw; }},
      {"fiseg", [](const X86CpuState& s) -> uint64_t { return s.x87.fcs; }},
      {"fioff", [](const X86CpuState& s) -> uint64_t { return s.x87.fip; }},
      {"foseg", [](const X86CpuState& s) -> uint64_t { return s.x87.fds; }},
      {"fooff", [](const X86CpuState& s) -> uint64_t { return s.x87.fdp; }},
      {"fop", [](const X86CpuState& s) -> uint64_t { return s.x87.fop; }}};
  for (const auto& [name, field] : x87)
    regs.push_back({kCore, name, 32, "int", "float", [field](const X86CpuState& s) { return le(field(s), 4); }});
  for (unsigned i = 0; i < (wide ? 16u : 8u); ++i)
    regs.push_back({kSse, "xmm" + std::to_string(i), 128, "vec128", nullptr, [i](const X86CpuState& s) {
                      return std::string(reinterpret_cast<const char*>(s.xmm[i]), 16);
                    }});
  regs.push_back({kSse, "mxcsr", 32, "i386_mxcsr", "vector", [](const X86CpuState& s) { return le(s.mxcsr, 4); }});
  // FS and GS base only for amd64: gdb 13 fails an assertion on an i386
  // description with the segments feature.
  for (const auto& [name, seg] : {std::pair{"fs_base", core::SegReg::kFs}, std::pair{"gs_base", core::SegReg::kGs}})
    if (wide) regs.push_back({kSegments, name, bits, "int", nullptr,
                    [seg, bytes](const X86CpuState& s) { return le(s.seg[static_cast<int>(seg)].base, bytes); }});
  using Sys = uint64_t (*)(const X86CpuState&);
  const std::pair<const char*, Sys> sys[] = {{"cr0", [](const X86CpuState& s) { return s.cr0; }},
                                             {"cr2", [](const X86CpuState& s) { return s.cr2; }},
                                             {"cr3", [](const X86CpuState& s) { return s.cr3; }},
                                             {"cr4", [](const X86CpuState& s) { return s.cr4; }},
                                             {"cr8", [](const X86CpuState& s) { return s.cr8; }},
                                             {"efer", [](const X86CpuState& s) { return s.efer; }}};
  for (const auto& [name, field] : sys)
    regs.push_back({kSys, name, 64, "uint64", "system", [field](const X86CpuState& s) { return le(field(s), 8); }});
  return regs;
}

const std::vector<Reg>& registers(GdbArch arch) {
  static const std::vector<Reg> wide = build_registers(GdbArch::kX86_64);
  static const std::vector<Reg> narrow = build_registers(GdbArch::kI386);
  return arch == GdbArch::kX86_64 ? wide : narrow;
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

std::string build_xml(GdbArch arch) {
  std::string xml = std::string("<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">") +
                    "<target version=\"1.0\"><architecture>" +
                    (arch == GdbArch::kX86_64 ? "i386:x86-64" : "i386") + "</architecture>";
  std::string open;
  for (const Reg& r : registers(arch)) {
    if (open != r.feature) {
      if (!open.empty()) xml += "</feature>";
      open = r.feature;
      xml += "<feature name=\"" + open + "\">" + feature_types(open);
    }
    xml += "<reg name=\"" + r.name + "\" bitsize=\"" + std::to_string(r.bits) + "\" type=\"" + r.type + "\"" +
           (r.group ? std::string(" group=\"") + r.group + "\"" : std::string()) + "/>";
  }
  return xml + "</feature></target>";
}

}  // namespace

GdbArch gdb_arch_for(const core::X86CpuState& s) {
  return s.long_mode_active() ? GdbArch::kX86_64 : GdbArch::kI386;
}

const std::string& target_xml(GdbArch arch) {
  static const std::string wide = build_xml(GdbArch::kX86_64), narrow = build_xml(GdbArch::kI386);
  return arch == GdbArch::kX86_64 ? wide : narrow;
}

unsigned register_count(GdbArch arch) { return unsigned(registers(arch).size()); }

std::optional<std::string> register_bytes(GdbArch arch, const core::X86CpuState& s, unsigned n) {
  if (n >= registers(arch).size()) return std::nullopt;
  return registers(arch)[n].value(s);
}

std::string all_registers(GdbArch arch, const core::X86CpuState& s) {
  std::string out;
  for (const Reg& r : registers(arch)) out += r.value(s);
  return out;
}

}  // namespace rwd::tools::gdb
