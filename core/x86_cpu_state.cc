#include "core/x86_cpu_state.h"

#include "core/x86_cpu_state_io.h"

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
  s.misc_enable = 1;  // fast-string operations enabled, as firmware leaves it (QEMU's reset value too)
  s.x87.fcw = 0x37f;
  s.x87.ftw = 0xffff;  // all empty (full tag format)
  s.mxcsr = 0x1f80;
  s.gpr[kRdx] = 0x600;  // processor signature: family 6
  return s;
}

namespace {

void save_segment(const SegmentCache& s, StateWriter& out) {
  out.u16(s.selector);
  out.u16(s.attrs);
  out.u32(s.limit);
  out.u64(s.base);
}

SegmentCache load_segment(StateReader& in) {
  SegmentCache s;
  s.selector = in.u16();
  s.attrs = in.u16();
  s.limit = in.u32();
  s.base = in.u64();
  return s;
}

}  // namespace

void save_cpu_state(const X86CpuState& s, StateWriter& out) {
  out.u32(kCpuStateVersion);
  for (uint64_t r : s.gpr) out.u64(r);
  out.u64(s.rip);
  out.u64(s.rflags);
  for (const SegmentCache& seg : s.seg) save_segment(seg, out);
  save_segment(s.ldtr, out);
  save_segment(s.tr, out);
  out.u64(s.gdtr.base);
  out.u16(s.gdtr.limit);
  out.u64(s.idtr.base);
  out.u16(s.idtr.limit);
  for (uint64_t v : {s.cr0, s.cr2, s.cr3, s.cr4, s.cr8, s.efer}) out.u64(v);
  for (uint64_t v : s.dr) out.u64(v);
  out.u64(s.xcr0);
  for (uint64_t v : {s.apic_base, s.misc_enable, s.pat, s.sysenter_cs, s.sysenter_esp, s.sysenter_eip, s.star,
                     s.lstar, s.cstar, s.sfmask, s.kernel_gs_base, s.tsc_aux})
    out.u64(v);
  out.u16(s.x87.fcw);
  out.u16(s.x87.fsw);
  out.u16(s.x87.ftw);
  out.u16(s.x87.fop);
  out.u16(s.x87.fcs);
  out.u16(s.x87.fds);
  out.u64(s.x87.fip);
  out.u64(s.x87.fdp);
  out.bytes(s.x87.st, sizeof s.x87.st);
  out.u32(s.mxcsr);
  out.bytes(s.xmm, sizeof s.xmm);
  out.u64(s.icount);
  out.u64(s.tsc_offset);
  out.boolean(s.halted);
  out.u8(s.interrupt_shadow);
  out.boolean(s.nmi_blocked);
  out.u64(s.mtrr_def_type);
  for (uint64_t v : s.mtrr_fixed) out.u64(v);
  for (uint64_t v : s.mtrr_var) out.u64(v);
  out.u64(s.mid_rep_icount);
  out.boolean(s.nmi_pending);
  out.boolean(s.wait_for_sipi);
}

X86CpuState load_cpu_state(StateReader& in) {
  const uint32_t version = in.version(kCpuStateVersion);
  X86CpuState s{};
  for (uint64_t& r : s.gpr) r = in.u64();
  s.rip = in.u64();
  s.rflags = in.u64();
  for (SegmentCache& seg : s.seg) seg = load_segment(in);
  s.ldtr = load_segment(in);
  s.tr = load_segment(in);
  s.gdtr.base = in.u64();
  s.gdtr.limit = in.u16();
  s.idtr.base = in.u64();
  s.idtr.limit = in.u16();
  for (uint64_t* v : {&s.cr0, &s.cr2, &s.cr3, &s.cr4, &s.cr8, &s.efer}) *v = in.u64();
  for (uint64_t& v : s.dr) v = in.u64();
  s.xcr0 = in.u64();
  for (uint64_t* v : {&s.apic_base, &s.misc_enable, &s.pat, &s.sysenter_cs, &s.sysenter_esp, &s.sysenter_eip,
                      &s.star, &s.lstar, &s.cstar, &s.sfmask, &s.kernel_gs_base, &s.tsc_aux})
    *v = in.u64();
  s.x87.fcw = in.u16();
  s.x87.fsw = in.u16();
  s.x87.ftw = in.u16();
  s.x87.fop = in.u16();
  if (version >= 2) {
    s.x87.fcs = in.u16();
    s.x87.fds = in.u16();
  }
  s.x87.fip = in.u64();
  s.x87.fdp = in.u64();
  in.bytes(s.x87.st, sizeof s.x87.st);
  s.mxcsr = in.u32();
  in.bytes(s.xmm, sizeof s.xmm);
  s.icount = in.u64();
  s.tsc_offset = in.u64();
  s.halted = in.boolean();
  s.interrupt_shadow = in.u8();
  s.nmi_blocked = in.boolean();
  if (version >= 3) {
    s.mtrr_def_type = in.u64();
    for (uint64_t& v : s.mtrr_fixed) v = in.u64();
    for (uint64_t& v : s.mtrr_var) v = in.u64();
    s.mid_rep_icount = in.u64();
  }
  if (version >= 4) {
    s.nmi_pending = in.boolean();
    s.wait_for_sipi = in.boolean();
  }
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

const char* gpr_name(unsigned gpr) {
  static const char* const kGprNames[] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
  return gpr < kGprCount ? kGprNames[gpr] : "?";
}

std::string format_cpu_state(const X86CpuState& s) {
  static const char* const kSegNames[] = {"es", "cs", "ss", "ds", "fs", "gs"};
  std::string out;
  char buf[160];
  for (int i = 0; i < kGprCount; ++i) {
    std::snprintf(buf, sizeof buf, "%-3s=%016llx%s", gpr_name(i), static_cast<unsigned long long>(s.gpr[i]),
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
