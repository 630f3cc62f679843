// The x86-64 architectural state of one vCPU: one struct shared by every
// execution engine (interpreter, JIT, KVM register transfer) and by snapshots.
// Plain data only; engines may cache parts of it but must write them back
// before anything else (devices, snapshots, the debugger) looks. Included by
// the semantics (restricted dialect), so it includes nothing but <cstdint>;
// serialisation and printing live in x86_cpu_state_io.h.
#pragma once

// NOTE: the project namespace is `rwd` (rwd::core, rwd::hw, rwd::tcg, rwd::replay),
// not `rewind`: <cstdio> declares the C function ::rewind(FILE*), which a
// namespace of that name would collide with.

#include <cstdint>

namespace rwd::core {

enum Gpr : uint8_t {
  kRax, kRcx, kRdx, kRbx, kRsp, kRbp, kRsi, kRdi,
  kR8, kR9, kR10, kR11, kR12, kR13, kR14, kR15,
  kGprCount
};

enum class SegReg : uint8_t { kEs, kCs, kSs, kDs, kFs, kGs, kCount };

// RFLAGS bits.
namespace rflags {
inline constexpr uint64_t kCf = 1u << 0, kFixed1 = 1u << 1, kPf = 1u << 2, kAf = 1u << 4,
                          kZf = 1u << 6, kSf = 1u << 7, kTf = 1u << 8, kIf = 1u << 9,
                          kDf = 1u << 10, kOf = 1u << 11, kIopl = 3u << 12, kNt = 1u << 14,
                          kRf = 1u << 16, kVm = 1u << 17, kAc = 1u << 18, kVif = 1u << 19,
                          kVip = 1u << 20, kId = 1u << 21;
inline constexpr uint64_t kArith = kCf | kPf | kAf | kZf | kSf | kOf;
}  // namespace rflags

namespace cr0 {
inline constexpr uint64_t kPe = 1u << 0, kMp = 1u << 1, kEm = 1u << 2, kTs = 1u << 3,
                          kEt = 1u << 4, kNe = 1u << 5, kWp = 1u << 16, kAm = 1u << 18,
                          kNw = 1u << 29, kCd = 1u << 30, kPg = 1u << 31;
}
namespace cr4 {
inline constexpr uint64_t kVme = 1u << 0, kPvi = 1u << 1, kTsd = 1u << 2, kDe = 1u << 3,
                          kPse = 1u << 4, kPae = 1u << 5, kMce = 1u << 6, kPge = 1u << 7,
                          kPce = 1u << 8, kOsfxsr = 1u << 9, kOsxmmexcpt = 1u << 10,
                          kUmip = 1u << 11, kLa57 = 1u << 12, kFsgsbase = 1u << 16,
                          kPcide = 1u << 17, kOsxsave = 1u << 18, kSmep = 1u << 20,
                          kSmap = 1u << 21;
}
namespace efer {
inline constexpr uint64_t kSce = 1u << 0, kLme = 1u << 8, kLma = 1u << 10, kNxe = 1u << 11;
}

// Hidden part of a segment register, loaded from the descriptor.
// attrs uses the VMX access-rights layout: bits 0-3 type, 4 S, 5-6 DPL, 7 P,
// 12 AVL, 13 L, 14 D/B, 15 G; limit is the expanded byte limit.
struct SegmentCache {
  uint16_t selector;
  uint16_t attrs;
  uint32_t limit;
  uint64_t base;
};
namespace seg_attr {
inline constexpr uint16_t kTypeMask = 0xf, kS = 1u << 4, kDplShift = 5, kP = 1u << 7,
                          kAvl = 1u << 12, kL = 1u << 13, kDb = 1u << 14, kG = 1u << 15;
}

struct DescriptorTableReg {
  uint64_t base;
  uint16_t limit;
};

// The MSRs kernels use, by architectural number.
namespace msr {
inline constexpr uint32_t kTsc = 0x10, kApicBase = 0x1b, kMiscEnable = 0x1a0, kPat = 0x277,
                          kSysenterCs = 0x174, kSysenterEsp = 0x175, kSysenterEip = 0x176,
                          kEfer = 0xc0000080, kStar = 0xc0000081, kLstar = 0xc0000082,
                          kCstar = 0xc0000083, kSfmask = 0xc0000084, kFsBase = 0xc0000100,
                          kGsBase = 0xc0000101, kKernelGsBase = 0xc0000102, kTscAux = 0xc0000103,
                          kPlatformId = 0x17, kUcodeRev = 0x8b, kMtrrCap = 0xfe, kMtrrPhysBase0 = 0x200,
                          kMtrrFix64k00000 = 0x250, kMtrrFix16k80000 = 0x258, kMtrrFix16kA0000 = 0x259,
                          kMtrrFix4kC0000 = 0x268, kMtrrFix4kF8000 = 0x26f, kMtrrDefType = 0x2ff,
                          kTscDeadline = 0x6e0, kX2apicFirst = 0x800, kX2apicLast = 0x8ff;
}
// IA32_APIC_BASE bits.
namespace apic_base {
inline constexpr uint64_t kBsp = 1u << 8, kExtd = 1u << 10, kEnable = 1u << 11;
}

// The interrupt shadow after STI, and after MOV SS / POP SS, which also
// holds off debug exceptions (a single-step trap) for one instruction.
inline constexpr uint8_t kShadowSti = 1, kShadowMovSs = 2;

struct X87State {
  uint16_t fcw;          // control word
  uint16_t fsw;          // status word (TOP in bits 11-13)
  uint16_t ftw;          // full tag word, 2 bits per register
  uint16_t fop;
  uint16_t fcs;          // code and data selectors of the last non-control instruction
  uint16_t fds;
  uint64_t fip;
  uint64_t fdp;
  uint8_t st[8][10];     // physical registers R0..R7, 80-bit extended format
};

struct X86CpuState {
  uint64_t gpr[kGprCount];
  uint64_t rip;
  uint64_t rflags;
  SegmentCache seg[static_cast<int>(SegReg::kCount)];
  SegmentCache ldtr;
  SegmentCache tr;
  DescriptorTableReg gdtr;
  DescriptorTableReg idtr;
  uint64_t cr0, cr2, cr3, cr4, cr8;
  uint64_t efer;
  uint64_t dr[8];        // DR0-DR3, DR4/DR5 unused (aliases), DR6, DR7
  uint64_t xcr0;

  // MSRs not already represented above (FS/GS base live in seg[].base).
  uint64_t apic_base;
  uint64_t misc_enable;
  uint64_t pat;
  uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
  uint64_t star, lstar, cstar, sfmask, kernel_gs_base, tsc_aux;
  // Memory type range registers: IA32_MTRR_DEF_TYPE, the 11 fixed-range
  // ones (64K_00000, 16K_80000, 16K_A0000, 4K_C0000 ... 4K_F8000) and 8
  // variable pairs (PHYSBASEn, PHYSMASKn). Kept, never used: rewind has no caches.
  uint64_t mtrr_def_type;
  uint64_t mtrr_fixed[11];
  uint64_t mtrr_var[16];

  X87State x87;
  uint32_t mxcsr;
  alignas(16) uint8_t xmm[16][16];

  // Execution state that is not a register but is part of the machine's state.
  uint64_t icount;            // instructions retired by this vCPU (see docs/architecture.md)
  uint64_t tsc_offset;        // TSC = icount + tsc_offset (set by writing the TSC MSR; the machine
                              // adds the time skipped while halted: the TSC counts virtual ns)
  bool halted;                // HLT executed, waiting for an interrupt
  uint8_t interrupt_shadow;   // kShadowSti / kShadowMovSs: interrupts held off for one instruction
  bool nmi_blocked;           // between NMI delivery and IRET
  bool nmi_pending;           // an NMI edge latched, not yet delivered (blocked, or mid-instruction)
  bool wait_for_sipi;         // after INIT (and an AP after power-on): only a start-up IPI wakes it
  // The icount right after an iteration of a REP string instruction that
  // left more to do: an event delivered while icount still equals it comes
  // between two iterations and pushes RF = 1 (SDM Vol. 3 §17.3.1.1). Any
  // delivery resets it (to ~0).
  uint64_t mid_rep_icount = ~0ull;

  // The time-stamp counter, derived from the instruction count.
  uint64_t tsc() const { return icount + tsc_offset; }
  void set_tsc(uint64_t v) { tsc_offset = v - icount; }

  // Mode queries derived from the registers above.
  bool long_mode_active() const { return efer & efer::kLma; }
  bool protected_mode() const { return cr0 & cr0::kPe; }
  bool paging() const { return cr0 & cr0::kPg; }
  // The linear address of the next instruction, CS base + RIP (32 bits
  // outside 64-bit code): where a debugger's breakpoints and footprints
  // (core/vcpu.h) place code.
  uint64_t linear_pc() const {
    const SegmentCache& cs = seg[static_cast<int>(SegReg::kCs)];
    const uint64_t pc = cs.base + rip;
    return long_mode_active() && (cs.attrs & seg_attr::kL) ? pc : pc & 0xffffffffull;
  }
  // SS.DPL is the CPL in every mode (VMX convention; real mode loads DPL 0).
  unsigned cpl() const { return (seg[static_cast<int>(SegReg::kSs)].attrs >> seg_attr::kDplShift) & 3; }
};

// The state a CPU has after RESET/INIT (SDM Vol. 3 §9.1.1): real mode at F000:FFF0.
X86CpuState reset_cpu_state();


}  // namespace rwd::core
