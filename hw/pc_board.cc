#include "hw/pc_board.h"

#include <algorithm>
#include <cstdio>

#include "core/vcpu.h"
#include "hw/acpi_tables.h"

namespace rwd::hw {

namespace {

struct FixedPorts {
  const char* name;
  uint16_t first;
  uint16_t last;
};

// Ports the board always claims; a -device may not land on them.
constexpr FixedPorts kFixedPorts[] = {
    {"the i8259 master", 0x20, 0x21}, {"the i8254 PIT", 0x40, 0x43},   {"the i8042", 0x60, 0x60},
    {"port B", 0x61, 0x61},           {"the i8042", 0x64, 0x64},       {"the RTC", 0x70, 0x71},
    {"the POST port", 0x80, 0x80},    {"port A", 0x92, 0x92},          {"the i8259 slave", 0xa0, 0xa1},
    {"COM1", 0x3f8, 0x3ff},           {"the ELCR", 0x4d0, 0x4d1},      {"the ACPI PM block", 0x600, 0x60b},
    {"the PCI configuration ports", 0xcf8, 0xcff}, {"fw_cfg", 0x510, 0x511}, {"fw_cfg DMA", 0x514, 0x51b},
};

std::string hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

std::vector<IsaDebugExit::Placement> parse_devices(const core::MachineConfig& config) {
  std::vector<IsaDebugExit::Placement> exits;
  for (const core::DeviceConfig& device : config.devices) {
    if (device.driver != IsaDebugExit::kDriver) {
      std::string known;
      for (const std::string& name : PcBoard::known_drivers()) known += (known.empty() ? "" : ", ") + name;
      throw ConfigError("-device " + device.driver + ": unknown device driver (this PC board knows: " + known + ")");
    }
    IsaDebugExit::Placement placement = IsaDebugExit::parse(device);
    uint64_t first = placement.iobase, last = placement.iobase + placement.iosize - 1;
    for (const FixedPorts& fixed : kFixedPorts) {
      if (first <= fixed.last && fixed.first <= last) {
        throw ConfigError(std::string(IsaDebugExit::kDriver) + ": ports " + hex(first) + "-" + hex(last) +
                          " overlap " + fixed.name + " (" + hex(fixed.first) + "-" + hex(fixed.last) + ")");
      }
    }
    exits.push_back(placement);
  }
  // Sorted by base, overlaps can only be between neighbours: thousands of
  // devices (a hostile trace header) check in O(n log n).
  std::vector<IsaDebugExit::Placement> sorted = exits;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.iobase < b.iobase; });
  for (size_t i = 1; i < sorted.size(); ++i) {
    const auto& prev = sorted[i - 1];
    if (sorted[i].iobase <= prev.iobase + prev.iosize - 1) {
      throw ConfigError(std::string(IsaDebugExit::kDriver) + ": ports " + hex(sorted[i].iobase) + "-" +
                        hex(sorted[i].iobase + sorted[i].iosize - 1) + " overlap another isa-debug-exit at " +
                        hex(prev.iobase));
    }
  }
  if (exits.empty()) exits.push_back({IsaDebugExit::kDefaultBase, IsaDebugExit::kDefaultSize});
  return exits;
}

}  // namespace

std::vector<std::string> PcBoard::known_drivers() { return {IsaDebugExit::kDriver}; }

core::AccessRules PcBoard::byte_access() {
  // ISA registers are bytes; a wider access is split, as an ISA bridge would.
  core::AccessRules rules;
  rules.valid_min = 1;
  rules.valid_max = 4;
  rules.impl_min = 1;
  rules.impl_max = 1;
  return rules;
}

PcBoard::PcBoard(core::Machine& machine, const core::MachineConfig& config, replay::Inputs& inputs)
    : machine_(machine), layout_(PcMemoryLayout::for_ram(machine.ram_size())) {
  std::vector<IsaDebugExit::Placement> exits = parse_devices(config);

  core::VirtualClock& clock = machine.clock();
  core::TimerQueue& timers = machine.timers();
  hpet_ = std::make_unique<Hpet>(clock, timers, [this](unsigned gsi, bool level) { drive_gsi(gsi, level); });
  static_assert(I8254Pit::kIrq == Hpet::kPitInput && Mc146818Rtc::kIrq == Hpet::kRtcInput);
  pit_ = std::make_unique<I8254Pit>(clock, timers, core::IrqLine(hpet_.get(), Hpet::kPitInput));
  rtc_ = std::make_unique<Mc146818Rtc>(clock, timers, core::IrqLine(hpet_.get(), Hpet::kRtcInput), inputs);
  com1_ = std::make_unique<Uart16550>("com1", clock, timers, isa_irq(Uart16550::kCom1Irq), nullptr);
  i8042_ = std::make_unique<I8042Controller>(machine.run_control(), isa_irq(I8042Controller::kKeyboardIrq),
                                             isa_irq(I8042Controller::kMouseIrq));
  acpi_pm_ = std::make_unique<AcpiPm>(clock, timers, machine.run_control(), isa_irq(AcpiPm::kSciIrq));
  reset_control_ = std::make_unique<ResetControl>(machine.run_control());
  fw_cfg_ = std::make_unique<FwCfg>(machine.memory());
  fill_fw_cfg(machine.cpu_count());
  has_firmware_ = machine.rom_size() != 0;
  pci_ports_ = std::make_unique<PciConfigPorts>(reset_control_.get());
  // Both map regions of their own once applied (the window below 1 MiB,
  // the PM block); the I440fx unmaps its own when destroyed.
  const uint64_t isa_rom_size = std::min<uint64_t>(machine.rom_size(), 0x20000);
  i440fx_ = std::make_unique<I440fx>(machine.memory(), machine.ram(), &machine.dirty_log(),
                                     has_firmware_ ? machine.rom() + machine.rom_size() - isa_rom_size : nullptr,
                                     isa_rom_size);
  piix4_pm_ = std::make_unique<Piix4Pm>([this](std::optional<uint16_t> base) { place_acpi_pm(base); });
  // The vCPUs are attached after the board is built: until then their APICs
  // see the power-on state.
  for (unsigned i = 0; i < machine.cpu_count(); ++i) {
    auto cpu_state = [&machine, i]() -> const core::X86CpuState& {
      static const core::X86CpuState kPowerOn = core::reset_cpu_state();
      return machine.has_vcpu(i) ? machine.vcpu(i).state() : kPowerOn;
    };
    auto tsc = [&machine, i] { return machine.has_vcpu(i) ? machine.tsc(i) : 0; };
    local_apics_.push_back(std::make_unique<LocalApic>(i, clock, timers, machine.run_control(), apic_bus_, cpu_state,
                                                       tsc, &pic_, machine.cpu_pins(i)));
    apic_bus_.attach(local_apics_.back().get());
  }
  apic_bus_.set_startup_handler([&machine, this](unsigned cpu, bool init, uint8_t vector) {
    if (init) {
      machine.init_vcpu(cpu);
      local_apics_[cpu]->init_ipi();
    } else {
      machine.startup_vcpu(cpu, vector);
    }
  });
  machine.set_vcpu_switch_listener([this](unsigned cpu) { apic_bus_.set_current(cpu); });
  for (const IsaDebugExit::Placement& exit : exits) {
    debug_exits_.push_back(std::make_unique<IsaDebugExit>(machine.run_control()));
    debug_exit_bases_.push_back(exit.iobase);
  }

  // The destructor does not run when the constructor throws: leave no region
  // or state name pointing at the devices about to be destroyed.
  struct ReleaseOnThrow {
    PcBoard* board;
    ~ReleaseOnThrow() {
      if (board) board->release();
    }
  } release_on_throw{this};

  // First, as it can fail (a name taken): then nothing is mapped yet.
  register_states();
  {
    core::AddressSpace::Batch memory_batch(machine.memory()), io_batch(machine.io());
    map_ram();
    if (has_firmware_) {
      // The firmware ROM ends at 4 GiB; its last 128 KiB (at most) is what
      // the i440FX shows below 1 MiB.
      machine.memory().add_rom("bios", PcMemoryLayout::k4GiB - machine.rom_size(), machine.rom_size(), machine.rom());
      memory_regions_.push_back("bios");
    }
    i440fx_->apply();
    io_regions_.push_back("acpi-pm");
    piix4_pm_->apply();
    power_on_pm();
    pci_ports_->plug(0, 0, i440fx_.get());
    pci_ports_->plug(1, 0, &piix3_);
    pci_ports_->plug(1, 3, piix4_pm_.get());
    core::AccessRules pci_ports;  // 0xcf8 takes dwords; 0xcf9 bytes; data 1, 2 or 4 bytes
    pci_ports.valid_max = 4;
    pci_ports.impl_max = 4;
    map_io("pci-config", PciConfigPorts::kBase, PciConfigPorts::kSize, pci_ports_.get(), pci_ports);

    map_io("pic-master", I8259Pair::kMasterBase, 2, &pic_.master_ops());
    map_io("pic-slave", I8259Pair::kSlaveBase, 2, &pic_.slave_ops());
    map_io("pic-elcr", I8259Pair::kElcrBase, 2, &pic_.elcr_ops());
    map_io("pit", I8254Pit::kBase, 4, pit_.get());
    map_io("port-b", I8254Pit::kPortB, 1, &pit_->port_b_ops());
    map_io("i8042-data", I8042Controller::kDataPort, 1, i8042_.get());
    map_io("i8042-command", I8042Controller::kCommandPort, 1, &i8042_->command_ops());
    map_io("port-a", I8042Controller::kPortA, 1, &i8042_->port_a_ops());
    map_io("rtc", Mc146818Rtc::kBase, 2, rtc_.get());
    map_io("post", 0x80, 1, &post_port_);
    map_io("fpu-error", FpuErrorLatch::kPort, 1, &fpu_error_);
    map_io("com1", Uart16550::kCom1Base, 8, com1_.get());
    core::AccessRules fw_cfg_ports;  // a 16-bit selector and a byte-wide data port
    fw_cfg_ports.valid_max = 2;
    fw_cfg_ports.impl_max = 2;
    map_io("fw-cfg", FwCfg::kPorts, 2, &fw_cfg_->port_ops(), fw_cfg_ports);
    core::AccessRules fw_cfg_dma;  // two big-endian 32-bit halves
    fw_cfg_dma.valid_min = 4;
    fw_cfg_dma.valid_max = 4;
    fw_cfg_dma.unaligned_ok = false;
    fw_cfg_dma.impl_min = 4;
    fw_cfg_dma.impl_max = 4;
    map_io("fw-cfg-dma", FwCfg::kDmaPort, 8, &fw_cfg_->dma_ops(), fw_cfg_dma);
    map_mmio("ioapic", IoApic::kBase, IoApic::kSize, &ioapic_);
    map_mmio("hpet", Hpet::kBase, Hpet::kSize, hpet_.get());
    map_mmio("lapic", LocalApic::kDefaultBase, 0x1000, &local_apic_window_);
    for (size_t i = 0; i < exits.size(); ++i) {
      map_io("isa-debug-exit@" + hex(exits[i].iobase), exits[i].iobase, exits[i].iosize, debug_exits_[i].get(),
             IsaDebugExit::access_rules());
    }
  }  // the batches end: the map is in effect

  rtc_->set_memory_size(layout_.below_4g, layout_.above_4g);
  fill_cmos(machine.cpu_count());
  if (layout_.has_firmware_area() && !has_firmware_) {  // firmware places them itself (fw_cfg)
    std::vector<uint8_t> tables = build_acpi_tables(layout_.firmware_area_base(), unsigned(local_apics_.size()),
                                                   layout_.below_4g);
    machine.memory().write_bytes(layout_.firmware_area_base(), tables.data(), tables.size());
  }
  com1_->set_tx_sink(&inputs.attach_console(0, com1_.get()));
  release_on_throw.board = nullptr;

  pic_.connect_output(core::IrqLine(local_apics_[0].get(), LocalApic::kLint0));
  for (unsigned i = 0; i < local_apics_.size(); ++i) {
    machine.set_interrupt_controller(local_apics_[i].get(), i);
    machine.set_local_apic(local_apics_[i].get(), i);
  }
  machine.set_fpu_error_line(core::IrqLine(&fpu_error_, 0));
}

PcBoard::~PcBoard() {
  for (unsigned i = 0; i < machine_.cpu_count(); ++i) {
    machine_.set_interrupt_controller(nullptr, i);
    machine_.set_local_apic(nullptr, i);
  }
  machine_.set_vcpu_switch_listener(nullptr);
  machine_.set_fpu_error_line(core::IrqLine());
  pic_.connect_output(core::IrqLine());
  release();
}

void PcBoard::register_states() {
  machine_.register_state(I8259Pair::kStateName, &pic_);
  machine_.register_state(I8254Pit::kStateName, pit_.get());
  machine_.register_state(Mc146818Rtc::kStateName, rtc_.get());
  machine_.register_state(com1_->name(), com1_.get());
  machine_.register_state(I8042Controller::kStateName, i8042_.get());
  machine_.register_state(FpuErrorLatch::kStateName, &fpu_error_);
  machine_.register_state(AcpiPm::kStateName, acpi_pm_.get());
  machine_.register_state(ResetControl::kStateName, reset_control_.get());
  machine_.register_state(IoApic::kStateName, &ioapic_);
  machine_.register_state(Hpet::kStateName, hpet_.get());
  machine_.register_state(FwCfg::kStateName, fw_cfg_.get());
  machine_.register_state(PciConfigPorts::kStateName, pci_ports_.get());
  machine_.register_state(I440fx::kStateName, i440fx_.get());
  machine_.register_state(Piix3Isa::kStateName, &piix3_);
  machine_.register_state(Piix4Pm::kStateName, piix4_pm_.get());
  for (const auto& apic : local_apics_) machine_.register_state(apic->state_name(), apic.get());
  for (size_t i = 0; i < debug_exits_.size(); ++i) {
    machine_.register_state("debug-exit@" + hex(debug_exit_bases_[i]), debug_exits_[i].get());
  }
}

void PcBoard::release() {
  // Unregistering what was never registered is a no-op, so a constructor that
  // failed half-way can come through here too.
  machine_.unregister_state(&pic_);
  machine_.unregister_state(pit_.get());
  machine_.unregister_state(rtc_.get());
  machine_.unregister_state(com1_.get());
  machine_.unregister_state(i8042_.get());
  machine_.unregister_state(&fpu_error_);
  machine_.unregister_state(acpi_pm_.get());
  machine_.unregister_state(reset_control_.get());
  machine_.unregister_state(&ioapic_);
  machine_.unregister_state(hpet_.get());
  machine_.unregister_state(fw_cfg_.get());
  machine_.unregister_state(pci_ports_.get());
  machine_.unregister_state(i440fx_.get());
  machine_.unregister_state(&piix3_);
  machine_.unregister_state(piix4_pm_.get());
  for (const auto& apic : local_apics_) machine_.unregister_state(apic.get());
  for (const auto& exit : debug_exits_) machine_.unregister_state(exit.get());
  for (const std::string& name : io_regions_) machine_.io().remove(name);
  for (const std::string& name : memory_regions_) machine_.memory().remove(name);
  if (i440fx_) i440fx_->unmap();
  io_regions_.clear();
  memory_regions_.clear();
}

void PcBoard::map_ram() {
  for (const PcMemoryLayout::RamRange& range : layout_.ram_ranges()) {
    std::string name = range.guest_base == 0                                  ? "ram-below-640k"
                       : range.guest_base == PcMemoryLayout::kHighMemoryBase ? "ram-below-4g"
                                                                              : "ram-above-4g";
    machine_.memory().add_ram(name, range.guest_base, range.size, machine_.ram() + range.ram_offset, 0,
                              &machine_.dirty_log());
    memory_regions_.push_back(name);
  }
}

void PcBoard::map_io(const std::string& name, uint64_t base, uint64_t size, core::RegionOps* ops,
                     core::AccessRules rules) {
  machine_.io().add_io(name, base, size, ops, rules);
  io_regions_.push_back(name);
}

void PcBoard::map_mmio(const std::string& name, uint64_t base, uint64_t size, core::RegionOps* ops) {
  // APIC registers are 32 bits wide; narrower and wider accesses are made of
  // (or cut to) 32-bit ones.
  core::AccessRules rules;
  rules.impl_min = 4;
  rules.impl_max = 4;
  machine_.memory().add_io(name, base, size, ops, rules);
  memory_regions_.push_back(name);
}

void PcBoard::fill_fw_cfg(unsigned cpus) {
  auto le = [](uint64_t v, unsigned n) {
    std::vector<uint8_t> bytes(n);
    for (unsigned i = 0; i < n; ++i) bytes[i] = uint8_t(v >> (8 * i));
    return bytes;
  };
  fw_cfg_->add_item(FwCfg::kRamSize, le(layout_.ram_size, 8));
  fw_cfg_->add_item(FwCfg::kNbCpus, le(cpus, 2));
  fw_cfg_->add_item(FwCfg::kMaxCpus, le(cpus, 2));
  // QEMU's etc/e820: the RAM (u64 address, u64 length, u32 type 1), below
  // the PCI hole and above 4 GiB; firmware carves its own reservations.
  std::vector<uint8_t> e820;
  auto entry = [&](uint64_t base, uint64_t length) {
    for (auto part : {le(base, 8), le(length, 8), le(PcMemoryLayout::kUsable, 4)})
      e820.insert(e820.end(), part.begin(), part.end());
  };
  entry(0, layout_.below_4g);
  if (layout_.above_4g) entry(PcMemoryLayout::k4GiB, layout_.above_4g);
  fw_cfg_->add_file("etc/e820", std::move(e820));
  fw_cfg_->add_file("etc/sercon-port", le(Uart16550::kCom1Base, 2));  // SeaBIOS's console: COM1
  // QEMU's defaults: no boot menu, and no retry after a failed boot
  // (-boot menu=off, reboot-timeout=-1).
  fw_cfg_->add_item(FwCfg::kBootMenu, le(0, 2));
  fw_cfg_->add_file("etc/boot-fail-wait", le(0xffffffffu, 4));
  AcpiLoaderFiles acpi = build_acpi_loader_files(cpus, layout_.below_4g);
  fw_cfg_->add_file(kAcpiTablesFile, std::move(acpi.tables));
  fw_cfg_->add_file(kAcpiRsdpFile, std::move(acpi.rsdp));
  fw_cfg_->add_file(kTableLoaderFile, std::move(acpi.loader));
}

void PcBoard::fill_cmos(unsigned cpus) {
  // As QEMU's pc fills them for firmware: the CPU count less one, and the
  // boot order disk, floppy, CD-ROM (-boot cad) with the floppy signature check on.
  rtc_->set_cmos(0x5f, uint8_t(cpus - 1));
  rtc_->set_cmos(0x3d, 0x12);
  rtc_->set_cmos(0x38, 0x30);
}

void PcBoard::power_on_pm() {
  // Without firmware to program the PM function, the board does as SeaBIOS would.
  if (!has_firmware_) piix4_pm_->program_as_firmware(AcpiPm::kBase, AcpiPm::kSciIrq);
}

void PcBoard::place_acpi_pm(std::optional<uint16_t> base) {
  core::AddressSpace::Batch batch(machine_.io());
  machine_.io().remove("acpi-pm");
  if (base) machine_.io().add_io("acpi-pm", *base, AcpiPm::kSize, acpi_pm_.get(), byte_access());
}

void PcBoard::drive_gsi(unsigned gsi, bool level) {
  if (gsi < 16 && gsi != 2) isa_irqs_.set_irq(gsi, level);
  else ioapic_.set_irq(gsi, level);
}

void PcBoard::reset() {
  pic_.reset();
  pit_->reset();
  rtc_->reset();
  com1_->reset();
  i8042_->reset();
  fpu_error_.write(0, 0, 1);  // power-on: latch clear
  acpi_pm_->reset();
  reset_control_->reset();
  ioapic_.reset();
  hpet_->reset();
  fw_cfg_->reset();
  pci_ports_->reset();
  i440fx_->reset();
  piix3_.reset();
  piix4_pm_->reset();
  power_on_pm();
  for (const auto& apic : local_apics_) apic->reset();
}

}  // namespace rwd::hw
