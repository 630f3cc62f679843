// A small machine for the interpreter tests: RAM, a port-I/O space with a test
// device, a fake interrupt controller, a RunControl collecting warnings, and
// an assembler helper that turns AT&T snippets into bytes with the host
// binutils (`as` + `ld --oformat binary`), linked at the address they run at.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>
#include <unistd.h>

#include "core/memory.h"
#include "core/run_control.h"
#include "core/vcpu.h"
#include "tcg-llvm/interp/tcg_vcpu.h"

namespace rwd::tcg::test {

// Assembles `source` (AT&T syntax; start it with .code16/.code32/.code64)
// linked to run at `base`.
inline std::vector<uint8_t> assemble(const std::string& source, uint64_t base) {
  char dir[] = "/tmp/rwd_interp_asm_XXXXXX";
  BOOST_REQUIRE(mkdtemp(dir) != nullptr);
  std::string d = dir;
  {
    std::ofstream f(d + "/a.s");
    f << source << "\n";
  }
  char cmd[512];
  std::snprintf(cmd, sizeof cmd,
                "as --64 -o %s/a.o %s/a.s && ld -m elf_x86_64 -Ttext=0x%llx -e 0 --oformat binary -o %s/a.bin %s/a.o",
                dir, dir, static_cast<unsigned long long>(base), dir, dir);
  int rc = std::system(cmd);
  BOOST_REQUIRE_MESSAGE(rc == 0, "assembler failed for:\n" << source);
  std::ifstream in(d + "/a.bin", std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string cleanup = "rm -rf " + d;
  (void)std::system(cleanup.c_str());
  return bytes;
}

// Port 0xe9: bytes written are collected; port 0xea: reads return `in_value`
// and count; port 0xeb: writing raises the INTR line through the fake PIC.
class TestPorts : public core::RegionOps {
 public:
  uint64_t read(uint64_t offset, unsigned size) override {
    ++reads;
    last_read_icount = icount ? *icount : 0;
    return offset == 1 ? in_value : 0;
  }
  void write(uint64_t offset, uint64_t value, unsigned size) override {
    if (offset == 0) out.push_back(char(value));
    if (offset == 2 && on_irq_port) on_irq_port(value);
    last_write_icount = icount ? *icount : 0;
  }
  std::string out;
  uint64_t in_value = 0x5a;
  unsigned reads = 0;
  const uint64_t* icount = nullptr;
  uint64_t last_read_icount = 0, last_write_icount = 0;
  std::function<void(uint64_t)> on_irq_port;
};

class FakePic : public core::InterruptController {
 public:
  uint8_t acknowledge() override {
    ++acks;
    if (sink) sink->set_irq(core::kCpuPinIntr, false);
    return vector;
  }
  uint8_t vector = 0x20;
  unsigned acks = 0;
  core::IrqSink* sink = nullptr;
};

struct TestMachine {
  static constexpr uint64_t kRamSize = 32ull << 20;

  TestMachine() : ram(kRamSize), memory("memory", 1ull << 36), io("io", 0x10000) {
    memory.add_ram("ram", 0, kRamSize, ram.data());
    io.add_io("test-ports", 0xe9, 3, &ports);
    rc.set_warn_sink([this](const std::string& w) { warnings.push_back(w); });
    env.memory = &memory;
    env.io = &io;
    env.interrupt_controller = &pic;
    env.run_control = &rc;
  }

  void start(const core::X86CpuState& s) {
    vcpu = std::make_unique<TcgVcpu>(env, s);
    ports.icount = &vcpu->state().icount;
    pic.sink = vcpu.get();
  }
  void load(uint64_t addr, const std::vector<uint8_t>& bytes) {
    std::memcpy(ram.data() + addr, bytes.data(), bytes.size());
    if (vcpu) vcpu->memory_written(addr, bytes.size());
  }
  void load_asm(uint64_t addr, const std::string& src) { load(addr, assemble(src, addr)); }
  uint32_t rd32(uint64_t a) const { uint32_t v; std::memcpy(&v, ram.data() + a, 4); return v; }
  uint64_t rd64(uint64_t a) const { uint64_t v; std::memcpy(&v, ram.data() + a, 8); return v; }
  void wr32(uint64_t a, uint32_t v) { std::memcpy(ram.data() + a, &v, 4); }
  void wr64(uint64_t a, uint64_t v) { std::memcpy(ram.data() + a, &v, 8); }
  core::X86CpuState& st() { return vcpu->state(); }
  uint64_t reg(core::Gpr r) { return vcpu->state().gpr[r]; }

  std::vector<uint8_t> ram;
  core::AddressSpace memory;
  core::AddressSpace io;
  TestPorts ports;
  FakePic pic;
  core::RunControl rc;
  core::CpuEnvironment env;
  std::vector<std::string> warnings;
  std::unique_ptr<TcgVcpu> vcpu;
};

// 32-bit flat protected mode without paging, selectors 0x08 (code) / 0x10
// (data) as the test GDTs define them, stack at 0x80000, IF clear.
inline core::X86CpuState flat32_state(uint64_t rip) {
  core::X86CpuState s = core::reset_cpu_state();
  s.cr0 = core::cr0::kPe | core::cr0::kEt;
  s.rip = rip;
  s.rflags = core::rflags::kFixed1;
  for (auto& seg : s.seg) seg = {0x10, 0xc093, 0xffffffff, 0};
  s.seg[int(core::SegReg::kCs)] = {0x08, 0xc09b, 0xffffffff, 0};
  s.gpr[core::kRsp] = 0x80000;
  return s;
}

// Where the protected-mode tests put their code and tables.
inline constexpr uint64_t kCode = 0x100000;
inline constexpr uint64_t kTss = 0x7000;  // where the ring-change tests put their TSS
inline constexpr uint64_t kIdt = 0x5000;
inline constexpr uint64_t kGdt = 0x6000;

// A 32-bit interrupt gate for `vector` in the IDT at kIdt: handler `addr`,
// selector 0x08, the given DPL.
inline void set_gate32(TestMachine& m, uint8_t vector, uint32_t addr, unsigned dpl = 0) {
  m.wr32(kIdt + vector * 8, (addr & 0xffff) | (0x08u << 16));
  m.wr32(kIdt + vector * 8 + 4, (addr & 0xffff0000u) | 0x8e00u | (dpl << 13));
}

// A GDT at `addr`: null, 0x08 code32, 0x10 data32, 0x18 code64, 0x20 code16.
inline void write_gdt(TestMachine& m, uint64_t addr) {
  m.wr64(addr + 0x00, 0);
  m.wr64(addr + 0x08, 0x00cf9a000000ffffull);
  m.wr64(addr + 0x10, 0x00cf92000000ffffull);
  m.wr64(addr + 0x18, 0x00af9a000000ffffull);
  m.wr64(addr + 0x20, 0x00009a000000ffffull);
}

// Ring 3 in write_gdt's GDT (a limit of at least 0x3f): 0x28 ring-3 code,
// 0x30 ring-3 data, 0x38 a 32-bit TSS at `tss` whose ring-0 stack is
// 0x10:esp0.
inline void add_ring3(TestMachine& m, uint64_t tss = 0x7000, uint32_t esp0 = 0x90000) {
  m.wr64(kGdt + 0x28, 0x00cffa000000ffffull);
  m.wr64(kGdt + 0x30, 0x00cff2000000ffffull);
  m.wr64(kGdt + 0x38, 0x0000890000000067ull | (tss & 0xffffff) << 16);
  m.wr32(tss + 4, esp0);
  m.wr32(tss + 8, 0x10);
}

// Long mode, 2 MiB identity pages over the 32 MiB of RAM (tables at
// 0x10000-0x12fff), flat 64-bit code selector 0x18 (write_gdt's).
inline core::X86CpuState long_mode_state(TestMachine& m, uint64_t rip) {
  m.wr64(0x10000, 0x11000 | 3);
  m.wr64(0x11000, 0x12000 | 3);
  for (uint64_t i = 0; i < 16; ++i) m.wr64(0x12000 + i * 8, (i << 21) | 0x83);
  core::X86CpuState s = flat32_state(rip);
  s.cr0 |= core::cr0::kPg;
  s.cr3 = 0x10000;
  s.cr4 = core::cr4::kPae;
  s.efer = core::efer::kLme | core::efer::kLma;
  s.seg[int(core::SegReg::kCs)] = {0x18, 0xa09b, 0xffffffff, 0};
  return s;
}

// Long mode at kCode with ring 3 available: 2 MiB identity pages over the
// 32 MiB of RAM, user-accessible; write_gdt's GDT (limit `gdt_limit`, at
// least 0x47) plus 0x28 ring-3 code64, 0x30 ring-3 data and 0x38 a 64-bit
// TSS at `tss` whose RSP0 is 0x90000; the IDT at 0x8000 (64-bit gates).
inline core::X86CpuState long_mode_ring3_state(TestMachine& m, uint16_t gdt_limit, uint64_t tss = kTss) {
  m.wr64(0x10000, 0x11000 | 7);
  m.wr64(0x11000, 0x12000 | 7);
  for (uint64_t i = 0; i < 16; ++i) m.wr64(0x12000 + i * 8, (i << 21) | 0x87);
  write_gdt(m, kGdt);
  m.wr64(kGdt + 0x28, 0x00affa000000ffffull);
  m.wr64(kGdt + 0x30, 0x00cff2000000ffffull);
  m.wr64(kGdt + 0x38, 0x0000890000000067ull | (tss & 0xffffff) << 16);
  m.wr64(kGdt + 0x40, 0);
  m.wr64(tss + 4, 0x90000);
  core::X86CpuState s = flat32_state(kCode);
  s.gdtr = {kGdt, gdt_limit};
  s.idtr = {0x8000, 0xfff};
  s.cr0 |= core::cr0::kPg;
  s.cr3 = 0x10000;
  s.cr4 = core::cr4::kPae;
  s.efer = core::efer::kLme | core::efer::kLma;
  s.seg[int(core::SegReg::kCs)] = {0x18, 0xa09b, 0xffffffff, 0};
  return s;
}

// Flat 32-bit protected mode at kCode with write_gdt's GDT at kGdt (the
// given limit, so tests that add descriptors can cover them) and the IDT at kIdt.
inline core::X86CpuState pm_state(TestMachine& m, uint16_t gdt_limit) {
  write_gdt(m, kGdt);
  core::X86CpuState s = flat32_state(kCode);
  s.gdtr = {kGdt, gdt_limit};
  s.idtr = {kIdt, 0x7ff};
  return s;
}

}  // namespace rwd::tcg::test
