// A sequence under rewind's interpreter, in the address space a Linux user
// process sees: the code page (user, read-only) and the data area (user,
// read/write) at their addresses, nothing else in the lower half, and the
// whole upper half present for the supervisor only, because Linux reports a
// user access to any kernel address as a protection fault. The exception
// that ends the run (INT3 at the end, or a fault) goes through an IDT whose
// handlers are HLT stubs, so the vector is where the vCPU halted and the
// state at the fault is in the exception frame.
#include <cstring>
#include <memory>

#include "core/memory.h"
#include "core/run_control.h"
#include "core/vcpu.h"
#include "tcg-llvm/interp/tcg_vcpu.h"
#include "tcg-llvm/semantics/simd.h"       // x87_tag_of
#include "tcg-llvm/semantics/simd_move.h"  // kMxcsrMask
#include "tests/difftest/difftest.h"

namespace rwd::difftest {

namespace {

constexpr uint64_t kRam = 32ull << 20;
constexpr uint64_t kHigh = 0xffff800000000000ull;  // PML4[256]: where the supervisor structures are
// Guest-physical layout (all in the first 2 MiB, reached through kHigh).
constexpr uint64_t kPml4 = 0x1000, kPdptLow = 0x2000, kPdLow = 0x3000, kPtCode = 0x4000, kPtData = 0x5000;
constexpr uint64_t kPdptHigh = 0x6000, kPdHigh = 0x7000;
constexpr uint64_t kGdt = 0x8000, kTss = 0x8800, kIdt = 0x9000, kStubs = 0xa000, kStack0 = 0x9f000;

class NoInterrupts : public core::InterruptController {
 public:
  uint8_t acknowledge() override { return 0; }
};

bool has_error_code(uint8_t v) { return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21; }

// The FXSAVE image into the CPU state as FXRSTOR puts it there: the
// registers from stack order to physical order, and the full tag word from
// the abridged one and each non-empty register's contents (tcg::x87_tag_of,
// the FXRSTOR semantics' own classification).
void load_fx(const FxState& fx, core::X86CpuState& s) {
  core::X87State& x = s.x87;
  x.fcw = fx.fcw;
  x.fsw = fx.fsw;
  x.fop = uint16_t(fx.fop & 0x7ff);
  x.fip = fx.fip;
  x.fdp = fx.fdp;
  x.ftw = 0;
  for (unsigned r = 0; r < 8; ++r) {
    std::memcpy(x.st[r], fx.phys(r), 10);
    unsigned tag = fx.valid(r) ? tcg::x87_tag_of(x.st[r]) : 3;
    x.ftw = uint16_t(x.ftw | tag << (2 * r));
  }
  s.mxcsr = fx.mxcsr;
  std::memcpy(s.xmm, fx.xmm, sizeof s.xmm);
}

// The CPU state as FXSAVE64 writes it (the reserved bytes zero).
void save_fx(const core::X86CpuState& s, FxState& fx) {
  const core::X87State& x = s.x87;
  fx = FxState{};
  fx.fcw = x.fcw;
  fx.fsw = x.fsw;
  fx.fop = x.fop;
  fx.fip = x.fip;
  fx.fdp = x.fdp;
  for (unsigned r = 0; r < 8; ++r) {
    if (((x.ftw >> (2 * r)) & 3) != 3) fx.ftw = uint8_t(fx.ftw | 1u << r);
    std::memcpy(fx.phys(r), x.st[r], 10);
  }
  fx.mxcsr = s.mxcsr;
  fx.mxcsr_mask = tcg::kMxcsrMask;
  std::memcpy(fx.xmm, s.xmm, sizeof fx.xmm);
}

}  // namespace

Outcome run_interpreter(const Sequence& seq) {
  Outcome out;
  // One guest RAM for every run: a sequence can write only the data area and
  // delivery only the supervisor stack, and everything else is rebuilt here.
  static std::vector<uint8_t> ram(kRam);
  std::memset(&ram[0], 0, kStubs + 0x1000);
  std::memset(&ram[kStack0 - 0x1000], 0, 0x1000);
  std::memset(&ram[kCodeAddr], 0xcc, 4096);  // as the native child fills it
  auto wr64 = [&](uint64_t a, uint64_t v) { std::memcpy(&ram[a], &v, 8); };
  auto rd64 = [&](uint64_t a) {
    uint64_t v;
    std::memcpy(&v, &ram[a], 8);
    return v;
  };

  // Lower half: PML4[0] -> PDPT -> PD[8] (code) and PD[12] (data), 4 KiB pages.
  constexpr uint64_t kP = 1, kW = 2, kU = 4, kPs = 0x80;
  wr64(kPml4, kPdptLow | kP | kW | kU);
  wr64(kPdptLow, kPdLow | kP | kW | kU);
  wr64(kPdLow + 8 * (kCodeAddr >> 21), kPtCode | kP | kW | kU);
  wr64(kPdLow + 8 * (kDataAddr >> 21), kPtData | kP | kW | kU);
  wr64(kPtCode, kCodeAddr | kP | kU);
  for (uint64_t i = 0; i < kDataSize / 4096; ++i) wr64(kPtData + 8 * i, (kDataAddr + i * 4096) | kP | kW | kU);
  // Upper half: every PML4 entry, PDPT entry and PD entry aliases physical 0-2 MiB.
  for (int i = 256; i < 512; ++i) wr64(kPml4 + 8 * i, kPdptHigh | kP | kW);
  for (int i = 0; i < 512; ++i) wr64(kPdptHigh + 8 * i, kPdHigh | kP | kW);
  for (int i = 0; i < 512; ++i) wr64(kPdHigh + 8 * i, 0 | kP | kW | kPs);

  // GDT as Linux lays it out for user space: 0x2b user data, 0x33 user code, TSS at 0x40.
  wr64(kGdt + 0x08, 0x00af9a000000ffffull);
  wr64(kGdt + 0x10, 0x00cf92000000ffffull);
  wr64(kGdt + 0x20, 0x00cffa000000ffffull);  // 0x23: Linux's 32-bit user code
  wr64(kGdt + 0x28, 0x00cff2000000ffffull);
  wr64(kGdt + 0x30, 0x00affa000000ffffull);
  uint64_t tss = kHigh + kTss;
  wr64(kGdt + 0x40, 0x0000890000000067ull | (tss & 0xffffff) << 16 | ((tss >> 24) & 0xff) << 56);
  wr64(kGdt + 0x48, tss >> 32);
  wr64(kTss + 4, kHigh + kStack0);  // RSP0
  ram[kTss + 0x66] = 0x68;           // no I/O permission bitmap (past the limit), as Linux without ioperm()
  // IDT: vector v -> HLT at kStubs + 16 v (interrupt gate, DPL 3 so INT3 may use it).
  for (uint64_t v = 0; v < 32; ++v) {
    uint64_t h = kHigh + kStubs + 16 * v;
    wr64(kIdt + 16 * v, (h & 0xffff) | (0x08ull << 16) | (0xee00ull << 32) | ((h >> 16) & 0xffff) << 48);
    wr64(kIdt + 16 * v + 8, h >> 32);
    ram[kStubs + 16 * v] = 0xf4;
  }

  std::vector<uint8_t> code = seq.code();
  std::memcpy(&ram[kCodeAddr], code.data(), code.size());
  std::memcpy(&ram[kDataAddr], seq.data.data(), kDataSize);

  core::AddressSpace memory("memory", 1ull << 40), io("io", 0x10000);
  memory.add_ram("ram", 0, kRam, ram.data());
  NoInterrupts pic;
  core::RunControl rc;
  std::string warning;
  rc.set_warn_sink([&](const std::string& w) {
    if (warning.empty()) warning = w;
  });
  core::CpuEnvironment env;
  env.memory = &memory;
  env.io = &io;
  env.interrupt_controller = &pic;
  env.run_control = &rc;

  core::X86CpuState s = core::reset_cpu_state();
  namespace cr0 = core::cr0;
  s.cr0 = cr0::kPe | cr0::kMp | cr0::kEt | cr0::kNe | cr0::kWp | cr0::kAm | cr0::kPg;
  s.cr3 = kPml4;
  // As Linux runs a process: XSAVE enabled, with (of the host's components)
  // the x87 and SSE ones rewind has.
  s.cr4 = core::cr4::kPae | core::cr4::kOsfxsr | core::cr4::kOsxmmexcpt | core::cr4::kOsxsave;
  s.xcr0 = 0x3;
  s.efer = core::efer::kLme | core::efer::kLma | core::efer::kNxe | core::efer::kSce;
  s.gdtr = {kHigh + kGdt, 0x4f};
  s.idtr = {kHigh + kIdt, 32 * 16 - 1};
  s.tr = {0x40, 0x8b, 0x67, tss};
  s.ldtr = {0, 0x82, 0xffff, 0};
  for (auto& seg : s.seg) seg = {0, 0, 0, 0};  // null selectors, as Linux leaves DS/ES/FS/GS
  s.seg[int(core::SegReg::kCs)] = {0x33, 0xa0fb, 0xffffffff, 0};
  if (seq.mode == tcg::DecodeMode::k32) {
    // Compatibility mode as difftest_enter32 enters it: CS 0x23, DS and ES 0x2b.
    s.seg[int(core::SegReg::kCs)] = {0x23, 0xc0fb, 0xffffffff, 0};
    s.seg[int(core::SegReg::kDs)] = s.seg[int(core::SegReg::kEs)] = {0x2b, 0xc0f3, 0xffffffff, 0};
  }
  s.seg[int(core::SegReg::kSs)] = {0x2b, 0xc0f3, 0xffffffff, 0};
  for (int i = 0; i < 16; ++i) s.gpr[i] = seq.in.gpr[i];
  s.rip = seq.in.rip;
  s.rflags = seq.in.rflags;
  load_fx(seq.in.fx, s);
  auto vcpu = std::make_unique<tcg::TcgVcpu>(env, s);
  core::VcpuExit e;
  do e = vcpu->run(50'000'000);
  while (e == core::VcpuExit::kYielded);  // PAUSE ends a turn; this vCPU has no one to yield to
  const core::X86CpuState& f = vcpu->state();
  if (e != core::VcpuExit::kHalted || f.cpl() != 0) {
    out.problem = "the interpreter did not stop in an exception stub (" +
                  (rc.stop_requested() ? rc.detail() : std::string("budget or halt elsewhere")) + ")";
    return out;
  }
  uint64_t stub = f.rip - 1 - (kHigh + kStubs);
  if (stub % 16 || stub / 16 >= 32) {
    out.problem = "halted outside the exception stubs";
    return out;
  }
  out.vector = uint8_t(stub / 16);
  uint64_t frame = f.gpr[core::kRsp] - kHigh;
  if (has_error_code(out.vector)) {
    out.error = uint32_t(rd64(frame));
    frame += 8;
  }
  for (int i = 0; i < 16; ++i) out.regs.gpr[i] = f.gpr[i];
  out.regs.rip = rd64(frame);
  out.regs.rflags = rd64(frame + 16);
  out.regs.gpr[core::kRsp] = rd64(frame + 24);
  out.cr2 = f.cr2;
  save_fx(f, out.regs.fx);
  out.data.assign(ram.begin() + kDataAddr, ram.begin() + kDataAddr + kDataSize);
  out.warning = warning;
  out.ran = true;
  return out;
}

}  // namespace rwd::difftest
