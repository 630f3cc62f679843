#include "hw/mc146818_rtc.h"

#include <algorithm>
#include <limits>
#include <string>

namespace rwd::hw {

namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;
constexpr int64_t kSecondsPerDay = 86'400;
constexpr int64_t kTimeBaseHz = 32'768;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }

__int128 floor_div128(__int128 a, __int128 b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Ticks of the 32.768 kHz time base at RTC time `rtc_ns`.
int64_t time_base_ticks(int64_t rtc_ns) {
  return static_cast<int64_t>(floor_div128(static_cast<__int128>(rtc_ns) * kTimeBaseHz, kNsPerSecond));
}

// Proleptic Gregorian calendar <-> days since 1970-01-01 (the classic
// era-based formulation: 400-year eras of 146097 days, years from March).
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int64_t& y, int& m, int& d) {
  z += 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2);
}

bool is_time_register(uint8_t index) {
  switch (index) {
    case Mc146818Rtc::kSeconds: case Mc146818Rtc::kMinutes: case Mc146818Rtc::kHours:
    case Mc146818Rtc::kDayOfWeek: case Mc146818Rtc::kDayOfMonth: case Mc146818Rtc::kMonth:
    case Mc146818Rtc::kYear: case Mc146818Rtc::kCentury:
      return true;
    default:
      return false;
  }
}

}  // namespace

Mc146818Rtc::Mc146818Rtc(core::VirtualClock& clock, core::TimerQueue& timers, core::IrqLine irq8,
                         replay::Inputs& inputs)
    : clock_(clock), irq_(irq8), inputs_(inputs) {
  timer_ = std::make_unique<core::Timer>(timers, "rtc", [this] {
    refresh_flags();
    update_irq();
    // Arm past the event that fired even if the clock reads earlier (the
    // queue may be run ahead of time): never re-arm the same deadline.
    arm_timer(timer_->deadline_ns());
  });
  reset();
}

void Mc146818Rtc::reset() {
  // CMOS RAM and the time survive a reset (battery-backed); the control
  // registers take their power-on values: 32.768 kHz time base, 1024 Hz
  // periodic rate, 24-hour BCD, interrupts off, RAM valid.
  cmos_[kRegA] = 0x26;
  cmos_[kRegB] = kB24Hour;
  cmos_[kRegC] = 0;
  cmos_[kRegD] = 0x80;
  index_ = 0;
  nmi_disabled_ = false;
  timer_->cancel();
  update_irq();
}

void Mc146818Rtc::set_memory_size(uint64_t below_4g, uint64_t above_4g) {
  constexpr uint64_t kKiB = 1024, kMiB = 1024 * 1024;
  cmos_[0x14] = 0x06;  // equipment: no floppies, FPU present, PS/2 mouse port
  cmos_[0x15] = 640 & 0xff;  // base memory in KiB
  cmos_[0x16] = 640 >> 8;
  uint64_t total = below_4g + above_4g;
  uint64_t extended = total > kMiB ? std::min<uint64_t>((total - kMiB) / kKiB, 0xffff) : 0;
  cmos_[0x17] = cmos_[0x30] = extended & 0xff;
  cmos_[0x18] = cmos_[0x31] = static_cast<uint8_t>(extended >> 8);
  uint64_t above_16m = below_4g > 16 * kMiB ? std::min<uint64_t>((below_4g - 16 * kMiB) / (64 * kKiB), 0xffff) : 0;
  cmos_[0x34] = above_16m & 0xff;
  cmos_[0x35] = static_cast<uint8_t>(above_16m >> 8);
  uint64_t high = above_4g / (64 * kKiB);
  cmos_[0x5b] = high & 0xff;
  cmos_[0x5c] = (high >> 8) & 0xff;
  cmos_[0x5d] = (high >> 16) & 0xff;
  cmos_[0x5f] = 0;  // CPUs - 1
  // The standard checksum over 0x10-0x2d, big-endian at 0x2e/0x2f.
  unsigned sum = 0;
  for (unsigned i = 0x10; i <= 0x2d; ++i) sum += cmos_[i];
  cmos_[0x2e] = static_cast<uint8_t>(sum >> 8);
  cmos_[0x2f] = sum & 0xff;
}

uint64_t Mc146818Rtc::read(uint64_t offset, unsigned size) {
  if ((offset & 1) == 0) return 0xff;  // the index register is write-only
  return read_data(index_);
}

void Mc146818Rtc::write(uint64_t offset, uint64_t value, unsigned size) {
  if ((offset & 1) == 0) {
    index_ = value & 0x7f;
    nmi_disabled_ = value & 0x80;
    return;
  }
  write_data(index_, static_cast<uint8_t>(value));
}

void Mc146818Rtc::ensure_time() {
  if (time_known_) return;
  epoch_at_zero_ns_ = inputs_.start_wall_clock_ns();
  time_known_ = true;
}

bool Mc146818Rtc::frozen() const { return (cmos_[kRegB] & kBSet) || divider_in_reset(); }

int64_t Mc146818Rtc::current_seconds(uint64_t now) const {
  return frozen() ? frozen_seconds_ : floor_div(rtc_ns(now), kNsPerSecond);
}

void Mc146818Rtc::set_current_seconds(int64_t seconds, int64_t fraction_ns) {
  if (frozen()) {
    frozen_seconds_ = seconds;
  } else {
    epoch_at_zero_ns_ = seconds * kNsPerSecond + fraction_ns - static_cast<int64_t>(clock_.now_ns());
  }
}

uint64_t Mc146818Rtc::periodic_period_32k() const {
  unsigned rate = cmos_[kRegA] & 0x0f;
  if (rate == 0) return 0;
  if (rate <= 2) return 1u << (rate + 6);  // rates 1 and 2 repeat rates 8 and 9
  return 1u << (rate - 1);
}

uint8_t Mc146818Rtc::encode(int value) const {
  if (cmos_[kRegB] & kBBinary) return static_cast<uint8_t>(value);
  return static_cast<uint8_t>((value / 10 % 10) << 4 | value % 10);
}

int Mc146818Rtc::decode(uint8_t value) const {
  if (cmos_[kRegB] & kBBinary) return value;
  return (value >> 4) * 10 + (value & 0x0f);
}

uint8_t Mc146818Rtc::format_field(uint8_t index, const DateTime& t) const {
  switch (index) {
    case kSeconds: return encode(t.second);
    case kMinutes: return encode(t.minute);
    case kHours:
      if (cmos_[kRegB] & kB24Hour) return encode(t.hour);
      return encode(t.hour % 12 == 0 ? 12 : t.hour % 12) | (t.hour >= 12 ? 0x80 : 0x00);
    case kDayOfWeek: return encode(t.weekday);
    case kDayOfMonth: return encode(t.day);
    case kMonth: return encode(t.month);
    case kYear: return encode(static_cast<int>(floor_mod(t.year, 100)));
    case kCentury: return encode(static_cast<int>(floor_div(t.year, 100) % 100));
    default: return cmos_[index];
  }
}

Mc146818Rtc::DateTime Mc146818Rtc::to_date_time(int64_t seconds) {
  DateTime t{};
  int64_t days = floor_div(seconds, kSecondsPerDay);
  int64_t rest = seconds - days * kSecondsPerDay;
  civil_from_days(days, t.year, t.month, t.day);
  t.hour = static_cast<int>(rest / 3600);
  t.minute = static_cast<int>(rest / 60 % 60);
  t.second = static_cast<int>(rest % 60);
  t.weekday = static_cast<int>(floor_mod(days + 4, 7)) + 1;  // 1970-01-01 was a Thursday
  return t;
}

int64_t Mc146818Rtc::to_seconds(const DateTime& t) {
  int month = std::clamp(t.month, 1, 12);
  int64_t days = days_from_civil(t.year, month, 1) + t.day - 1;
  return days * kSecondsPerDay + t.hour * 3600 + t.minute * 60 + t.second;
}

bool Mc146818Rtc::alarm_matches(const DateTime& t) const {
  static constexpr uint8_t kPairs[3][2] = {{kSecondsAlarm, kSeconds}, {kMinutesAlarm, kMinutes}, {kHoursAlarm, kHours}};
  for (const auto& pair : kPairs) {
    uint8_t alarm = cmos_[pair[0]];
    if ((alarm & 0xc0) == 0xc0) continue;  // "don't care"
    if (alarm != format_field(pair[1], t)) return false;
  }
  return true;
}

uint8_t Mc146818Rtc::read_data(uint8_t index) {
  if (is_time_register(index)) {
    ensure_time();
    return format_field(index, to_date_time(current_seconds(clock_.now_ns())));
  }
  switch (index) {
    case kRegA: {
      ensure_time();
      uint64_t now = clock_.now_ns();
      bool uip = !frozen() && floor_mod(rtc_ns(now), kNsPerSecond) >= kNsPerSecond - int64_t{kUipWindowNs};
      return (cmos_[kRegA] & 0x7f) | (uip ? kAUip : 0);
    }
    case kRegC: {
      refresh_flags();
      update_irq();
      uint8_t value = cmos_[kRegC];
      cmos_[kRegC] = 0;  // reading C acknowledges every flag and drops IRQ8
      update_irq();
      arm_timer();
      return value;
    }
    case kRegD:
      return 0x80;  // valid RAM and time
    default:
      return cmos_[index];
  }
}

void Mc146818Rtc::write_data(uint8_t index, uint8_t value) {
  if (is_time_register(index)) {
    if (index == kDayOfWeek) return;  // derived from the date
    refresh_flags();
    uint64_t now = clock_.now_ns();
    int64_t seconds = current_seconds(now);
    int64_t fraction = frozen() ? 0 : floor_mod(rtc_ns(now), kNsPerSecond);
    DateTime t = to_date_time(seconds);
    switch (index) {
      case kSeconds: t.second = decode(value); break;
      case kMinutes: t.minute = decode(value); break;
      case kHours:
        if (cmos_[kRegB] & kB24Hour) {
          t.hour = decode(value);
        } else {
          t.hour = decode(value & 0x7f) % 12 + ((value & 0x80) ? 12 : 0);
        }
        break;
      case kDayOfMonth: t.day = decode(value); break;
      case kMonth: t.month = decode(value); break;
      case kYear: t.year = floor_div(t.year, 100) * 100 + decode(value); break;
      default: t.year = int64_t{decode(value)} * 100 + floor_mod(t.year, 100); break;  // century
    }
    set_current_seconds(to_seconds(t), fraction);
    arm_timer();
    return;
  }
  switch (index) {
    case kRegA: write_reg_a(value); return;
    case kRegB: write_reg_b(value); return;
    case kRegC:
    case kRegD: return;  // read-only
    case kSecondsAlarm:
    case kMinutesAlarm:
    case kHoursAlarm:
      refresh_flags();
      cmos_[index] = value;
      return;
    default:
      cmos_[index] = value;
      return;
  }
}

void Mc146818Rtc::write_reg_a(uint8_t value) {
  refresh_flags();
  uint64_t now = clock_.now_ns();
  bool was_frozen = frozen();
  int64_t seconds = current_seconds(now);
  bool was_in_reset = divider_in_reset();
  cmos_[kRegA] = value & 0x7f;  // UIP is read-only
  if (!was_frozen && frozen()) frozen_seconds_ = seconds;
  // Leaving the divider reset: the first update comes half a second later.
  if (was_frozen && !frozen()) set_current_seconds(frozen_seconds_, was_in_reset ? kNsPerSecond / 2 : 0);
  flags_checked_ns_ = now;
  update_irq();
  arm_timer();
}

void Mc146818Rtc::write_reg_b(uint8_t value) {
  refresh_flags();
  uint64_t now = clock_.now_ns();
  bool was_frozen = frozen();
  int64_t seconds = current_seconds(now);
  if (value & kBSet) value &= ~kBUie;  // SET clears UIE
  cmos_[kRegB] = value;
  if (!was_frozen && frozen()) frozen_seconds_ = seconds;
  if (was_frozen && !frozen()) set_current_seconds(frozen_seconds_, 0);
  flags_checked_ns_ = now;
  update_irq();
  arm_timer();
}

void Mc146818Rtc::refresh_flags() {
  ensure_time();
  uint64_t now = clock_.now_ns();
  uint64_t last = flags_checked_ns_;
  if (now <= last) return;
  uint8_t flags = 0;
  if (uint64_t period = periodic_period_32k(); period && !divider_in_reset()) {
    int64_t p = static_cast<int64_t>(period);
    if (floor_div(time_base_ticks(rtc_ns(now)), p) > floor_div(time_base_ticks(rtc_ns(last)), p)) flags |= kCPf;
  }
  if (!frozen()) {
    int64_t s_last = floor_div(rtc_ns(last), kNsPerSecond);
    int64_t s_now = floor_div(rtc_ns(now), kNsPerSecond);
    if (s_now > s_last) {
      flags |= kCUf;
      // The alarm fires at an update whose new time matches; a whole day of
      // updates covers every pattern the alarm registers can express.
      for (int64_t s = std::max(s_last + 1, s_now - kSecondsPerDay + 1); s <= s_now; ++s) {
        if (alarm_matches(to_date_time(s))) {
          flags |= kCAf;
          break;
        }
      }
    }
  }
  cmos_[kRegC] |= flags;
  flags_checked_ns_ = now;
}

void Mc146818Rtc::update_irq() {
  uint8_t c = cmos_[kRegC];
  uint8_t b = cmos_[kRegB];
  bool irqf = ((c & kCPf) && (b & kBPie)) || ((c & kCAf) && (b & kBAie)) || ((c & kCUf) && (b & kBUie));
  if (irqf) {
    cmos_[kRegC] |= kCIrqf;
  } else {
    cmos_[kRegC] &= ~kCIrqf;
  }
  if (irqf != irq_level_) {
    irq_level_ = irqf;
    irq_.set(irqf);
  }
}

void Mc146818Rtc::arm_timer(uint64_t not_before_ns) {
  uint8_t b = cmos_[kRegB];
  uint64_t period = periodic_period_32k();
  bool periodic = (b & kBPie) && period && !divider_in_reset();
  bool updates = (b & (kBUie | kBAie)) && !frozen();
  if (!periodic && !updates) {
    timer_->cancel();
    return;
  }
  ensure_time();
  uint64_t now = std::max(clock_.now_ns(), not_before_ns);
  int64_t deadline = std::numeric_limits<int64_t>::max();
  if (periodic) {
    int64_t p = static_cast<int64_t>(period);
    __int128 next_tick = static_cast<__int128>(floor_div(time_base_ticks(rtc_ns(now)), p) + 1) * p;
    // The first ns at which the time base has reached next_tick.
    __int128 rtc_boundary = -floor_div128(-next_tick * kNsPerSecond, kTimeBaseHz);
    deadline = std::min(deadline, static_cast<int64_t>(rtc_boundary - epoch_at_zero_ns_));
  }
  if (updates) {
    int64_t next_second = floor_div(rtc_ns(now), kNsPerSecond) + 1;
    deadline = std::min(deadline, next_second * kNsPerSecond - epoch_at_zero_ns_);
  }
  timer_->arm(static_cast<uint64_t>(deadline));
}

void Mc146818Rtc::save_state(core::StateWriter& out) const {
  out.u32(kStateVersion);
  out.bytes(cmos_.data(), cmos_.size());
  out.u8(index_);
  out.boolean(nmi_disabled_);
  out.boolean(irq_level_);
  out.boolean(time_known_);
  out.u64(static_cast<uint64_t>(epoch_at_zero_ns_));
  out.u64(static_cast<uint64_t>(frozen_seconds_));
  out.u64(flags_checked_ns_);
  timer_->save(out);
}

void Mc146818Rtc::load_state(core::StateReader& in) {
  in.version(kStateVersion);
  std::array<uint8_t, 128> cmos;
  in.bytes(cmos.data(), cmos.size());
  uint8_t index = in.u8();
  bool nmi_disabled = in.boolean();
  bool irq_level = in.boolean();
  bool time_known = in.boolean();
  auto epoch_at_zero_ns = static_cast<int64_t>(in.u64());
  auto frozen_seconds = static_cast<int64_t>(in.u64());
  uint64_t flags_checked_ns = in.u64();
  // The index selects a CMOS byte on every data-port access.
  if (index >= cmos.size()) {
    throw core::SnapshotError(std::string(kStateName) + ": corrupt state: CMOS index " + std::to_string(index) +
                              " is beyond the 128 bytes");
  }
  timer_->load(in);
  cmos_ = cmos;
  index_ = index;
  nmi_disabled_ = nmi_disabled;
  time_known_ = time_known;
  epoch_at_zero_ns_ = epoch_at_zero_ns;
  frozen_seconds_ = frozen_seconds;
  flags_checked_ns_ = flags_checked_ns;
  // This side's view only: the PIC restores its own, and irq_.set() here
  // could be an edge the original run never had.
  irq_level_ = irq_level;
}

}  // namespace rwd::hw
