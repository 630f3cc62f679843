// The PC board: guest RAM placed in the physical address space, and the ISA
// devices of a PC wired into the port-I/O space and to each other.
//
//   ports        device                      IRQ
//   0x20, 0xa0   i8259 pair (+ ELCR 0x4d0)   INT -> the vCPU's INTR pin
//   0x40-0x43    i8254 PIT                   0
//   0x60, 0x64   i8042                       1, 12
//   0x61         port B (PIT channel 2, speaker, refresh)
//   0x70-0x71    MC146818 RTC/CMOS           8
//   0x80         POST/delay port (ignored)
//   0x92         port A (fast A20, fast reset)
//   0x3f8-0x3ff  16550A UART, COM1           4    console 0 of replay::Inputs
//   0x600-0x60b  ACPI PM1a event/control, PM timer   9 (SCI)
//                (where the PIIX4 PM function's PMBA puts it, once enabled)
//   0xcf8-0xcff  PCI configuration (hw/pci); a byte at 0xcf9 is the reset
//                control register (the FADT's reset register)
//   0x510-0x511  QEMU's fw_cfg (selector, data); 0x514-0x51b its DMA address
//   0xf4-0xf7    isa-debug-exit (or where -device isa-debug-exit puts it)
//
//   PCI bus 0    00.0 i440FX host bridge (PAM, SMRAM)
//                01.0 PIIX3 ISA bridge, 01.3 PIIX4 power management
//
//   memory       device
//   0xa0000-0xfffff  the i440FX's window: SMRAM and PAM decide between RAM
//                (the RAM block's same bytes), read-only RAM, and the
//                firmware ROM's last 128 KiB below 1 MiB
//   4 GiB - size the firmware ROM (-bios), read-only; the reset vector
//   0xfec00000   I/O APIC, 24 pins: ISA IRQ n on pin n, IRQ 0 on pin 2
//   0xfed00000   HPET, 3 timers; the PIT's IRQ 0 and the RTC's IRQ 8 pass
//                through it (legacy replacement routing takes them over)
//   0xfee00000   local APIC of the vCPU that accesses it; the 8259's INT
//                goes to LINT0 (ExtINT), the APIC drives the vCPU's INTR/NMI
//
// RAM's top 128 KiB below 4 GiB hold the ACPI tables (hw/acpi_tables),
// written when the board is built and reserved in the memory map.
//
// Building a machine (tools/):
//   core::Machine machine(config.ram_size);
//   hw::PcBoard board(machine, config, inputs);      // throws hw::ConfigError
//   machine.attach_vcpu(...);                        // INTR already wired via machine.cpu_pins()
//   auto cpu = core::reset_cpu_state();
//   hw::load_pc_kernel(machine, config, open, cpu);  // throws hw::LoadError
//
// The board must be destroyed before the machine: it unmaps its regions, its
// timers live in the machine's queue, and it unregisters its devices' state.
//
// Checkpoint state names (Machine::save_states), in this order: "pic", "pit",
// "rtc", "com1", "i8042", "fpu-error", "acpi-pm", "reset-control", "ioapic",
// "hpet", "fw-cfg", "pci-host", "i440fx", "piix3-isa", "piix4-pm",
// "lapic@<cpu>" for each vCPU (e.g. "lapic@0"), then "debug-exit@<iobase>"
// for each isa-debug-exit (e.g. "debug-exit@0xf4").
// They key the state in traces: never rename one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/machine.h"
#include "core/machine_config.h"
#include "hw/acpi_pm.h"
#include "hw/config_error.h"
#include "hw/fpu_error_latch.h"
#include "hw/fw_cfg.h"
#include "hw/hpet.h"
#include "hw/i8042_controller.h"
#include "hw/i8254_pit.h"
#include "hw/i8259_pair.h"
#include "hw/ioapic.h"
#include "hw/isa_debug_exit.h"
#include "hw/local_apic.h"
#include "hw/mc146818_rtc.h"
#include "hw/pci.h"
#include "hw/piix.h"
#include "hw/i440fx.h"
#include "hw/pc_memory_layout.h"
#include "hw/reset_control.h"
#include "hw/uart16550.h"
#include "replay/inputs.h"

namespace rwd::hw {

class PcBoard {
 public:
  // Throws ConfigError for an unknown -device driver or a bad property,
  // before anything is mapped.
  PcBoard(core::Machine& machine, const core::MachineConfig& config, replay::Inputs& inputs);
  ~PcBoard();
  PcBoard(const PcBoard&) = delete;
  PcBoard& operator=(const PcBoard&) = delete;

  // The -device drivers this board knows.
  static std::vector<std::string> known_drivers();

  // Devices return to their power-on state (after RunControl's kReset);
  // RAM and CMOS contents are kept, as on a PC.
  void reset();

  const PcMemoryLayout& layout() const { return layout_; }
  I8259Pair& pic() { return pic_; }
  I8254Pit& pit() { return *pit_; }
  Mc146818Rtc& rtc() { return *rtc_; }
  Uart16550& com1() { return *com1_; }
  I8042Controller& i8042() { return *i8042_; }
  FpuErrorLatch& fpu_error() { return fpu_error_; }
  AcpiPm& acpi_pm() { return *acpi_pm_; }
  IoApic& ioapic() { return ioapic_; }
  Hpet& hpet() { return *hpet_; }
  FwCfg& fw_cfg() { return *fw_cfg_; }
  PciConfigPorts& pci() { return *pci_ports_; }
  I440fx& i440fx() { return *i440fx_; }
  LocalApic& local_apic(unsigned cpu) { return *local_apics_.at(cpu); }
  ApicBus& apic_bus() { return apic_bus_; }
  const std::vector<std::unique_ptr<IsaDebugExit>>& debug_exits() const { return debug_exits_; }

 private:
  class NullPort final : public core::RegionOps {
   public:
    uint64_t read(uint64_t offset, unsigned size) override { return 0xff; }
    void write(uint64_t offset, uint64_t value, unsigned size) override {}
  };
  // An ISA interrupt line reaches both the 8259 pair and the I/O APIC.
  class IsaIrqs final : public core::IrqSink {
   public:
    IsaIrqs(I8259Pair& pic, IoApic& ioapic) : pic_(pic), ioapic_(ioapic) {}
    void set_irq(unsigned irq, bool level) override {
      pic_.set_irq(irq, level);
      ioapic_.set_irq(irq == 0 ? 2 : irq, level);
    }

   private:
    I8259Pair& pic_;
    IoApic& ioapic_;
  };
  // The xAPIC window: the running vCPU's local APIC answers.
  class LocalApicWindow final : public core::RegionOps {
   public:
    explicit LocalApicWindow(ApicBus& bus) : bus_(bus) {}
    uint64_t read(uint64_t offset, unsigned) override { return bus_.current().mmio_read(uint32_t(offset)); }
    void write(uint64_t offset, uint64_t value, unsigned) override {
      bus_.current().mmio_write(uint32_t(offset), uint32_t(value));
    }

   private:
    ApicBus& bus_;
  };

  void register_states();
  // Unregisters the devices' state and unmaps every region mapped so far (the
  // destructor, and a constructor that throws half-way).
  void release();
  void map_ram();
  void map_io(const std::string& name, uint64_t base, uint64_t size, core::RegionOps* ops,
              core::AccessRules rules = byte_access());
  static core::AccessRules byte_access();
  void map_mmio(const std::string& name, uint64_t base, uint64_t size, core::RegionOps* ops);
  core::IrqLine isa_irq(unsigned irq) { return core::IrqLine(&isa_irqs_, irq); }
  // Global system interrupt n as the MADT numbers them: 0-15 the ISA IRQs
  // (GSI 2 is the I/O APIC's pin 2 alone: the 8259's IRQ 2 is the cascade).
  void drive_gsi(unsigned gsi, bool level);
  void fill_fw_cfg(unsigned cpus);
  void fill_cmos(unsigned cpus);
  // The PM function's registers as firmware leaves them (after power-on).
  void power_on_pm();
  // The PIIX4 PM function moved the ACPI PM block (or disabled it).
  void place_acpi_pm(std::optional<uint16_t> base);

  core::Machine& machine_;
  PcMemoryLayout layout_;
  I8259Pair pic_;
  std::unique_ptr<Hpet> hpet_;
  ApicBus apic_bus_;
  IoApic ioapic_{apic_bus_};
  IsaIrqs isa_irqs_{pic_, ioapic_};
  std::vector<std::unique_ptr<LocalApic>> local_apics_;
  LocalApicWindow local_apic_window_{apic_bus_};
  std::unique_ptr<I8254Pit> pit_;
  std::unique_ptr<Mc146818Rtc> rtc_;
  std::unique_ptr<Uart16550> com1_;
  std::unique_ptr<I8042Controller> i8042_;
  FpuErrorLatch fpu_error_{isa_irq(FpuErrorLatch::kIrq)};
  std::unique_ptr<AcpiPm> acpi_pm_;
  std::unique_ptr<ResetControl> reset_control_;
  std::unique_ptr<FwCfg> fw_cfg_;
  std::unique_ptr<PciConfigPorts> pci_ports_;
  std::unique_ptr<I440fx> i440fx_;
  Piix3Isa piix3_;
  std::unique_ptr<Piix4Pm> piix4_pm_;
  bool has_firmware_ = false;  // -bios: the firmware programs the PCI functions
  std::vector<std::unique_ptr<IsaDebugExit>> debug_exits_;
  std::vector<uint16_t> debug_exit_bases_;  // for their state names
  NullPort post_port_;
  std::vector<std::string> memory_regions_;
  std::vector<std::string> io_regions_;
};

}  // namespace rwd::hw
