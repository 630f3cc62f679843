#include "hw/acpi_pm.h"

namespace rwd::hw {

namespace {
constexpr uint64_t kNsPerSecond = 1'000'000'000;
constexpr unsigned kOverflowBit = 23;
constexpr uint16_t kSlpTypShift = 10, kSlpTypMask = 7u << kSlpTypShift;
constexpr uint16_t kStatusBits = AcpiPm::kTmr | AcpiPm::kGbl | AcpiPm::kPwrBtn | AcpiPm::kSlpBtn | AcpiPm::kRtc |
                                 AcpiPm::kWak;
}  // namespace

AcpiPm::AcpiPm(core::VirtualClock& clock, core::TimerQueue& timers, core::RunControl& run_control,
               core::IrqLine sci)
    : clock_(clock), run_control_(run_control), sci_(sci), overflow_(timers, "acpi-pm-timer", [this] { update_sci(); }) {}

uint64_t AcpiPm::ticks() const {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(clock_.now_ns()) * kTimerHz / kNsPerSecond);
}

uint32_t AcpiPm::timer_ticks() const { return static_cast<uint32_t>(ticks() & 0xffffff); }

uint16_t AcpiPm::status() const {
  return static_cast<uint16_t>(status_ | ((ticks() >> kOverflowBit) != tmr_epoch_ ? kTmr : 0));
}

uint64_t AcpiPm::read(uint64_t offset, unsigned) {
  auto byte = [&](uint32_t v) { return (v >> (8 * (offset & 1))) & 0xff; };
  switch (offset) {
    case 0: case 1: return byte(status());
    case 2: case 3: return byte(enable_);
    case 4: case 5: return byte((control_ & (kBmRld | kSlpTypMask)) | kSciEn);
    case 8: case 9: case 10: case 11: return (timer_ticks() >> (8 * (offset - 8))) & 0xff;
    default: return 0;  // 0x606-0x607: beyond PM1_CNT_LEN
  }
}

void AcpiPm::write(uint64_t offset, uint64_t value, unsigned) {
  const uint16_t v = static_cast<uint16_t>(value & 0xff) << (8 * (offset & 1));
  switch (offset) {
    case 0: case 1:
      if (v & kTmr) tmr_epoch_ = ticks() >> kOverflowBit;
      status_ &= static_cast<uint16_t>(~v);
      break;
    case 2: case 3: {
      uint16_t mask = static_cast<uint16_t>(0xff << (8 * (offset & 1)));
      enable_ = static_cast<uint16_t>((enable_ & ~mask) | (v & kStatusBits & ~kWak));
      break;
    }
    case 4: control_ = static_cast<uint16_t>((control_ & ~kBmRld) | (v & kBmRld)); break;  // GBL_RLS: no BIOS
    case 5: write_control_high(static_cast<uint8_t>(value)); break;
    default: break;  // the timer is read-only
  }
  update_sci();
}

void AcpiPm::write_control_high(uint8_t value) {
  uint16_t v = static_cast<uint16_t>(value << 8);
  control_ = static_cast<uint16_t>((control_ & ~kSlpTypMask) | (v & kSlpTypMask));
  if ((v & kSlpEn) && ((v & kSlpTypMask) >> kSlpTypShift) == kSlpTypS5) run_control_.request_exit(0);
}

void AcpiPm::update_sci() {
  uint16_t sts = status();
  bool level = (sts & enable_) != 0;
  if (level != sci_level_) {
    sci_level_ = level;
    sci_.set(level);
  }
  // The next TMR_STS, while it would raise the SCI.
  if ((enable_ & kTmr) && !(sts & kTmr)) {
    uint64_t next = ((ticks() >> kOverflowBit) + 1) << kOverflowBit;
    uint64_t ns = static_cast<uint64_t>((static_cast<unsigned __int128>(next) * kNsPerSecond + kTimerHz - 1) / kTimerHz);
    overflow_.arm(ns);
  } else {
    overflow_.cancel();
  }
}

void AcpiPm::reset() {
  status_ = enable_ = control_ = 0;
  tmr_epoch_ = ticks() >> kOverflowBit;
  update_sci();
}

void AcpiPm::save_state(core::StateWriter& out) const {
  out.u32(kStateVersion);
  out.u16(status_);
  out.u16(enable_);
  out.u16(control_);
  out.u64(tmr_epoch_);
  out.boolean(sci_level_);
  overflow_.save(out);
}

void AcpiPm::load_state(core::StateReader& in) {
  in.version(kStateVersion);
  status_ = in.u16();
  enable_ = in.u16();
  control_ = in.u16();
  tmr_epoch_ = in.u64();
  sci_level_ = in.boolean();
  overflow_.load(in);
}

}  // namespace rwd::hw
