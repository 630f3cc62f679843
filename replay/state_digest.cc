#include "replay/state_digest.h"

#include <algorithm>
#include <cstring>

#include "core/x86_cpu_state_io.h"

namespace rwd::replay {

namespace {

constexpr uint64_t kMul = 0x9e3779b97f4a7c15ull;

uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

// The field groups of the registers digest, in the order they are compared.
const char* const kFieldNames[] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8",  "r9",  "r10",
    "r11", "r12", "r13", "r14", "r15", "rip", "rflags", "segment registers",
    "descriptor tables (gdtr/idtr/ldtr/tr)", "control registers (cr0/cr2/cr3/cr4/cr8/efer)",
    "debug registers", "MSRs", "x87/SSE state", "halt/interrupt-shadow/NMI/SIPI state", "TSC offset"};
constexpr size_t kFieldCount = sizeof kFieldNames / sizeof kFieldNames[0];

}  // namespace

uint64_t hash64(const void* data, size_t size, uint64_t seed) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t h = mix(seed ^ (size * kMul));
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ mix(w)) * kMul + 0x632be59bd9b4e019ull;
  }
  uint64_t tail = 0;
  if (i < size) std::memcpy(&tail, p + i, size - i);
  return mix(h ^ mix(tail ^ size));
}

namespace {

void register_fields(const core::X86CpuState& s, uint16_t (&fields)[kFieldCount]) {
  size_t n = 0;
  auto add = [&](const void* p, size_t size) {
    fields[n] = uint16_t(hash64(p, size, n));  // seeded by the field's index
    ++n;
  };
  for (uint64_t r : s.gpr) add(&r, sizeof r);
  add(&s.rip, sizeof s.rip);
  add(&s.rflags, sizeof s.rflags);
  // Groups are hashed from their serialised form: no struct padding involved.
  auto add_serialised = [&](auto&& write) {
    core::StateWriter w;
    write(w);
    add(w.data().data(), w.data().size());
  };
  add_serialised([&](core::StateWriter& w) {
    for (const auto& seg : s.seg) { w.u16(seg.selector); w.u16(seg.attrs); w.u32(seg.limit); w.u64(seg.base); }
  });
  add_serialised([&](core::StateWriter& w) {
    w.u64(s.gdtr.base); w.u16(s.gdtr.limit); w.u64(s.idtr.base); w.u16(s.idtr.limit);
    for (const auto* seg : {&s.ldtr, &s.tr}) { w.u16(seg->selector); w.u16(seg->attrs); w.u32(seg->limit); w.u64(seg->base); }
  });
  add_serialised([&](core::StateWriter& w) {
    for (uint64_t v : {s.cr0, s.cr2, s.cr3, s.cr4, s.cr8, s.efer, s.xcr0}) w.u64(v);
  });
  add(s.dr, sizeof s.dr);
  add_serialised([&](core::StateWriter& w) {
    for (uint64_t v : {s.apic_base, s.misc_enable, s.pat, s.sysenter_cs, s.sysenter_esp, s.sysenter_eip, s.star,
                       s.lstar, s.cstar, s.sfmask, s.kernel_gs_base, s.tsc_aux})
      w.u64(v);
  });
  add_serialised([&](core::StateWriter& w) {
    w.u16(s.x87.fcw); w.u16(s.x87.fsw); w.u16(s.x87.ftw); w.u16(s.x87.fop); w.u16(s.x87.fcs); w.u16(s.x87.fds); w.u64(s.x87.fip); w.u64(s.x87.fdp);
    w.bytes(s.x87.st, sizeof s.x87.st); w.u32(s.mxcsr); w.bytes(s.xmm, sizeof s.xmm);
  });
  add_serialised([&](core::StateWriter& w) { w.boolean(s.halted); w.u8(s.interrupt_shadow); w.boolean(s.nmi_blocked); w.boolean(s.nmi_pending); w.boolean(s.wait_for_sipi); });
  add(&s.tsc_offset, sizeof s.tsc_offset);
}

traces::Digest digest_of(const uint16_t (&fields)[kFieldCount], const core::Machine& machine, DigestScope scope) {
  traces::Digest d;
  d.registers.resize(sizeof fields);
  std::memcpy(d.registers.data(), fields, sizeof fields);

  uint64_t devices = mix(0x64657669);
  for (const auto& [name, bytes] : machine.save_states())
    devices = mix(devices ^ hash64(name.data(), name.size(), 1)) ^ hash64(bytes.data(), bytes.size(), 2);
  d.devices.resize(8);
  std::memcpy(d.devices.data(), &devices, 8);
  if (scope == DigestScope::kWithoutPages) return d;

  uint64_t pages = mix(0x70616765);
  const uint8_t* ram = machine.ram();
  machine.dirty_log().for_each_dirty([&](uint64_t page) {
    pages = mix(pages ^ page) ^ hash64(ram + page * core::DirtyLog::kPageSize, core::DirtyLog::kPageSize, page);
  });
  d.pages.resize(8);
  std::memcpy(d.pages.data(), &pages, 8);
  return d;
}

}  // namespace

traces::Digest compute_digest(const core::X86CpuState& s, const core::Machine& machine) {
  uint16_t fields[kFieldCount];
  register_fields(s, fields);
  return digest_of(fields, machine, DigestScope::kFull);
}

traces::Digest compute_digest(const core::Machine& machine, DigestScope scope) {
  uint16_t fields[kFieldCount];
  register_fields(machine.cpu_state(0), fields);
  // More vCPUs fold into each field group: a mismatch still names the group.
  for (unsigned i = 1; i < machine.cpu_count(); ++i) {
    uint16_t more[kFieldCount];
    register_fields(machine.cpu_state(i), more);
    for (size_t f = 0; f < kFieldCount; ++f) {
      uint16_t pair[2] = {fields[f], more[f]};
      fields[f] = uint16_t(hash64(pair, sizeof pair, f));
    }
  }
  return digest_of(fields, machine, scope);
}

traces::Digest compute_digest_like(const traces::Digest& expected, const core::Machine& machine) {
  traces::Digest got =
      compute_digest(machine, expected.pages.empty() ? DigestScope::kWithoutPages : DigestScope::kFull);
  if (expected.devices.empty()) got.devices.clear();  // a trace from before device digests
  return got;
}

std::string first_difference(const traces::Digest& expected, const traces::Digest& got) {
  if (expected.registers != got.registers) {
    size_t fields = std::min(expected.registers.size(), got.registers.size()) / 2;
    for (size_t i = 0; i < fields && i < kFieldCount; ++i)
      if (std::memcmp(&expected.registers[2 * i], &got.registers[2 * i], 2) != 0)
        return std::string("register ") + kFieldNames[i];
    return "registers";
  }
  if (expected.devices != got.devices) return "device state";
  if (expected.pages != got.pages) return "pages written since the last checkpoint";
  return "";
}

}  // namespace rwd::replay
