#include "core/x86_cpu_state.h"

#include <cstdio>

namespace rwd::core {

X86CpuState reset_cpu_state() {
  X86CpuState s{};
  s.rip = 0xfff0;
  s.rflags = rflags::kFixed1;
  // Real-mode data segments: base = selector << 4, 64 KiB, read/write data, present.
  constexpr uint16_t kDataAttrs = 0x3 | seg_attr::kS | seg_attr::kP;
  constexpr uint16_t kCodeAttrs = 0xb | seg_attr::kS | seg_attr::kP;
  for (auto& seg : s.seg) seg = {0, kDataAttrs, 0xffff, 0};
  // CS:IP = F000:FFF0 with the hidden base at 0xFFFF0000 so the first fetch is
  // from the top of the 4 GiB space (the reset vector in the BIOS ROM).
  s.seg[static_cast<int>(SegReg::kCs)] = {0xf000, kCodeAttrs, 0xffff, 0xffff0000};
  s.ldtr = {0, 0x2 | seg_attr::kP, 0xffff, 0};
  s.tr = {0, 0xb | seg_attr::kP, 0xffff, 0};
  s.gdtr = {0, 0xffff};
  s.idtr = {0, 0xffff};
  s.cr0 = cr0::kEt | cr0::kCd | cr0::kNw;
  s.dr[6] = 0xffff0ff0;
  s.dr[7] = 0x400;
  s.xcr0 = 1;
  s.apic_base = 0xfee00000 | (1u << 11) | (1u << 8);  // enabled, bootstrap processor
  s.pat = 0x0007040600070406ull;
  s.x87.fcw = 0x37f;
  s.x87.ftw = 0xffff;  // all empty (full tag format)
  s.mxcsr = 0x1f80;
  s.gpr[kRdx] = 0x600;  // processor signature: family 6
  return s;
}

namespace {

std::string format_segment(const char* name, const SegmentCache& s) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%-4s=%04x base=%016llx limit=%08x attrs=%04x", name, s.selector,
                static_cast<unsigned long long>(s.base), s.limit, s.attrs);
  return buf;
}

}  // namespace

std::string format_cpu_state(const X86CpuState& s) {
  static const char* const kGprNames[] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
  static const char* const kSegNames[] = {"es", "cs", "ss", "ds", "fs", "gs"};
  std::string out;
  char buf[160];
  for (int i = 0; i < kGprCount; ++i) {
    std::snprintf(buf, sizeof buf, "%-3s=%016llx%s", kGprNames[i], static_cast<unsigned long long>(s.gpr[i]),
                  i % 4 == 3 ? "\n" : " ");
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "rip=%016llx rflags=%016llx cpl=%u icount=%llu%s\n",
                static_cast<unsigned long long>(s.rip), static_cast<unsigned long long>(s.rflags), s.cpl(),
                static_cast<unsigned long long>(s.icount), s.halted ? " halted" : "");
  out += buf;
  for (int i = 0; i < static_cast<int>(SegReg::kCount); ++i) out += format_segment(kSegNames[i], s.seg[i]) + "\n";
  out += format_segment("ldtr", s.ldtr) + "\n" + format_segment("tr", s.tr) + "\n";
  std::snprintf(buf, sizeof buf, "gdtr=%016llx/%04x idtr=%016llx/%04x\n", static_cast<unsigned long long>(s.gdtr.base),
                s.gdtr.limit, static_cast<unsigned long long>(s.idtr.base), s.idtr.limit);
  out += buf;
  std::snprintf(buf, sizeof buf, "cr0=%08llx cr2=%016llx cr3=%016llx cr4=%08llx efer=%llx\n",
                static_cast<unsigned long long>(s.cr0), static_cast<unsigned long long>(s.cr2),
                static_cast<unsigned long long>(s.cr3), static_cast<unsigned long long>(s.cr4),
                static_cast<unsigned long long>(s.efer));
  out += buf;
  return out;
}

}  // namespace rwd::core
