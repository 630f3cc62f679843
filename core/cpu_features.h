// The CPUID features of rewind's CPU model `max` by the names QEMU and Linux
// give them, so that `-cpu max,-NAME` (or NAME=off) takes one out of what
// CPUID reports, as QEMU does. A guest decides what to use from CPUID; the
// instructions of a removed feature still execute (as under QEMU's TCG for
// most features), so removing one changes what software chooses, never how
// an instruction behaves.
//
// kCpuFeatures must list exactly bits that tcg-llvm/semantics/cpuid.h
// reports (test_interp_cpuid checks it).
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <iterator>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

namespace rwd::core {

enum class CpuidReg : uint8_t { kEax, kEbx, kEcx, kEdx };

struct CpuFeature {
  const char* name;  // canonical: lower case, words joined by '-'
  uint32_t leaf;
  uint32_t subleaf;
  CpuidReg reg;
  uint8_t bit;
};

inline constexpr CpuFeature kCpuFeatures[] = {
    {"fpu", 1, 0, CpuidReg::kEdx, 0},          {"pse", 1, 0, CpuidReg::kEdx, 3},
    {"tsc", 1, 0, CpuidReg::kEdx, 4},          {"msr", 1, 0, CpuidReg::kEdx, 5},
    {"pae", 1, 0, CpuidReg::kEdx, 6},          {"cx8", 1, 0, CpuidReg::kEdx, 8},
    {"apic", 1, 0, CpuidReg::kEdx, 9},         {"sep", 1, 0, CpuidReg::kEdx, 11},
    {"mtrr", 1, 0, CpuidReg::kEdx, 12},        {"pge", 1, 0, CpuidReg::kEdx, 13},
    {"cmov", 1, 0, CpuidReg::kEdx, 15},        {"pat", 1, 0, CpuidReg::kEdx, 16},
    {"pse36", 1, 0, CpuidReg::kEdx, 17},       {"clflush", 1, 0, CpuidReg::kEdx, 19},
    {"mmx", 1, 0, CpuidReg::kEdx, 23},         {"fxsr", 1, 0, CpuidReg::kEdx, 24},
    {"sse", 1, 0, CpuidReg::kEdx, 25},         {"sse2", 1, 0, CpuidReg::kEdx, 26},
    {"pni", 1, 0, CpuidReg::kEcx, 0},          {"ssse3", 1, 0, CpuidReg::kEcx, 9},
    {"cx16", 1, 0, CpuidReg::kEcx, 13},        {"pcid", 1, 0, CpuidReg::kEcx, 17},
    {"sse4-1", 1, 0, CpuidReg::kEcx, 19},      {"sse4-2", 1, 0, CpuidReg::kEcx, 20},
    {"x2apic", 1, 0, CpuidReg::kEcx, 21},      {"movbe", 1, 0, CpuidReg::kEcx, 22},
    {"popcnt", 1, 0, CpuidReg::kEcx, 23},      {"tsc-deadline", 1, 0, CpuidReg::kEcx, 24},
    {"xsave", 1, 0, CpuidReg::kEcx, 26},       {"rdrand", 1, 0, CpuidReg::kEcx, 30},
    {"smep", 7, 0, CpuidReg::kEbx, 7},         {"invpcid", 7, 0, CpuidReg::kEbx, 10},
    {"rdseed", 7, 0, CpuidReg::kEbx, 18},      {"smap", 7, 0, CpuidReg::kEbx, 20},
    {"clflushopt", 7, 0, CpuidReg::kEbx, 23},  {"clwb", 7, 0, CpuidReg::kEbx, 24},
    {"umip", 7, 0, CpuidReg::kEcx, 2},         {"rdpid", 7, 0, CpuidReg::kEcx, 22},
    {"xsaveopt", 0xd, 1, CpuidReg::kEax, 0},   {"lahf-lm", 0x80000001, 0, CpuidReg::kEcx, 0},
    {"abm", 0x80000001, 0, CpuidReg::kEcx, 5}, {"syscall", 0x80000001, 0, CpuidReg::kEdx, 11},
    {"nx", 0x80000001, 0, CpuidReg::kEdx, 20}, {"lm", 0x80000001, 0, CpuidReg::kEdx, 29},
};

// Other names QEMU accepts for the same features.
inline constexpr std::pair<const char*, const char*> kCpuFeatureAliases[] = {
    {"sse3", "pni"}, {"xd", "nx"}, {"i64", "lm"},
};

// Features of QEMU's other CPU models that `max` does not have: removing one
// is accepted (there is nothing to remove), asking for one is refused.
inline constexpr const char* kAbsentCpuFeatures[] = {
    "vme",      "de",       "mce",     "mca",      "pn",      "ds",       "acpi",     "ss",       "ht",
    "tm",       "ia64",     "pbe",     "pclmulqdq", "dtes64", "monitor",  "ds-cpl",   "vmx",      "smx",
    "est",      "tm2",      "cid",     "fma",      "xtpr",    "pdcm",     "dca",      "aes",      "avx",
    "f16c",     "hypervisor", "fsgsbase", "tsc-adjust", "sgx", "bmi1",    "hle",      "avx2",     "bmi2",
    "erms",     "rtm",      "mpx",     "avx512f",  "avx512dq", "avx512cd", "avx512bw", "avx512vl", "adx",
    "sha-ni",   "pku",      "ospke",   "la57",     "rdtscp",  "pdpe1gb",  "mmxext",   "3dnow",    "3dnowext",
    "svm",      "sse4a",    "xop",     "fma4",     "tbm",     "xsavec",   "xgetbv1",  "xsaves",   "invtsc",
    "arat",     "vaes",     "vpclmulqdq", "gfni",  "avx-vnni", "waitpkg", "movdiri", "movdir64b", "fsrm",
    "md-clear", "spec-ctrl", "ssbd",   "arch-capabilities", "xsaveerptr", "wbnoinvd", "amd-ssbd", "kvmclock",
    "kvm-pv-eoi", "kvm-pv-unhalt", "kvm-steal-time", "kvm-asyncpf", "kvm-nopiodelay", "kvmclock-stable-bit",
};

// QEMU's spellings fold to one: lower case, '_' and '.' read as '-'.
inline std::string canonical_cpu_feature(std::string_view name) {
  std::string s(name);
  for (char& c : s) c = c == '_' || c == '.' ? '-' : char(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& [alias, feature] : kCpuFeatureAliases)
    if (s == alias) return feature;
  return s;
}

inline const CpuFeature* find_cpu_feature(std::string_view canonical) {
  for (const CpuFeature& f : kCpuFeatures)
    if (canonical == f.name) return &f;
  return nullptr;
}

inline bool is_absent_cpu_feature(std::string_view canonical) {
  return std::any_of(std::begin(kAbsentCpuFeatures), std::end(kAbsentCpuFeatures),
                     [&](const char* f) { return canonical == f; });
}

// The CPUID bits -cpu took out, applied to every CPUID result of a vCPU.
class CpuidMask {
 public:
  CpuidMask() = default;
  // `removed`: canonical names of kCpuFeatures (unknown names are ignored:
  // callers check them first).
  explicit CpuidMask(const std::vector<std::string>& removed) {
    for (const std::string& name : removed)
      if (const CpuFeature* f = find_cpu_feature(name)) removed_.push_back(*f);
  }
  void apply(uint32_t leaf, uint32_t subleaf, uint32_t& eax, uint32_t& ebx, uint32_t& ecx, uint32_t& edx) const {
    // Of this model's leaves only 7 and 0xd read ECX (the subleaf).
    const bool indexed = leaf == 7 || leaf == 0xd;
    for (const CpuFeature& f : removed_) {
      if (f.leaf != leaf || (indexed && f.subleaf != subleaf)) continue;
      uint32_t* reg = f.reg == CpuidReg::kEax ? &eax : f.reg == CpuidReg::kEbx ? &ebx : f.reg == CpuidReg::kEcx ? &ecx : &edx;
      *reg &= ~(1u << f.bit);
    }
  }
  bool empty() const { return removed_.empty(); }

 private:
  std::vector<CpuFeature> removed_;
};

}  // namespace rwd::core
