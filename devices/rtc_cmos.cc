#include "devices/rtc_cmos.h"

#include <algorithm>

namespace x86vm {
namespace {

constexpr uint64_t kNsPerSecond = 1'000'000'000;
// The PC's RTC crystal (MC146818A datasheet, "Time base": 32.768 kHz with
// DV = 010); one update cycle every 32768 input clocks.
constexpr uint64_t kInputHz = 32768;
// UIP goes high 244 us (8 input clocks) before each update (datasheet,
// "Update Cycle": tBUC).
constexpr uint64_t kUipClocks = 8;
// After the divider leaves reset, the first update comes 500 ms later
// (datasheet, "Divider Chain Control").
constexpr int64_t kFirstUpdateAfterResetNs = 500'000'000;
constexpr int64_t kSecondsPerDay = 86400;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t mp = (m + 9) % 12;
  const int64_t doy = (153 * mp + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// 0 = Sunday.
int WeekdayOfDays(int64_t days) { return static_cast<int>(((days + 4) % 7 + 7) % 7); }

}  // namespace

RtcCmos::RtcCmos(VirtualClock& clock, IrqLine* irq, int64_t start_unix_seconds)
    : clock_(clock),
      irq_(irq),
      update_timer_(clock, [this] { OnTimer(); }),
      periodic_timer_(clock, [this] { OnTimer(); }) {
  epoch_ns_ = static_cast<int64_t>(clock_.now_ns());
  base_seconds_ = start_unix_seconds;
  // What a PC BIOS programs (and QEMU's power-on values): 32.768 kHz time
  // base with a 1024 Hz periodic rate, 24-hour BCD, valid RAM and time.
  cmos_[kRegA] = 0x26;
  cmos_[kRegB] = kB24Hour;
  cmos_[kRegD] = kDVrt;
  StoreTime(base_seconds_);
}

void RtcCmos::Reset() {
  Sync();
  cmos_[kRegB] &= static_cast<uint8_t>(~(kBPie | kBAie | kBUie | kBSqwe));
  cmos_[kRegC] = 0;
  nmi_masked_ = false;
  UpdateIrq();
  Reschedule();
}

void RtcCmos::Serialize(Serializer& s) {
  s.Section("rtc", 1);
  s.Bytes(cmos_);
  s(index_);
  s(extended_index_);
  s(nmi_masked_);
  s(epoch_ns_);
  s(base_seconds_);
  s(updates_done_);
  s(periodic_ticks_);
  s(weekday_offset_);
  update_timer_.Serialize(s);
  periodic_timer_.Serialize(s);
  if (s.loading()) {
    // A corrupt stream must not yield out-of-range indices.
    index_ &= 0x7f;
    extended_index_ &= 0x7f;
    weekday_offset_ %= 7;
    cmos_[kRegD] = kDVrt;
    // The IRQ output is derived state: drive the wire to what the flags say.
    UpdateIrq();
    irq_->SetLevel(irq_level_);
  }
}

void RtcCmos::Read(uint64_t offset, std::span<uint8_t> data) {
  // An 8-bit ISA device: wider accesses become byte cycles at offset + i.
  for (size_t i = 0; i < data.size(); ++i) {
    uint64_t port = offset + i;
    uint8_t value = 0xff;  // 0x70 and 0x72 are write-only (QEMU reads 0xff).
    if (port == 1) {
      value = ReadRegister(index_);
    } else if (port == 3) {
      value = cmos_[0x80 | extended_index_];
    }
    data[i] = value;
  }
}

void RtcCmos::Write(uint64_t offset, std::span<const uint8_t> data) {
  for (size_t i = 0; i < data.size(); ++i) {
    uint8_t value = data[i];
    switch (offset + i) {
      case 0:
        index_ = value & 0x7f;
        nmi_masked_ = (value & 0x80) != 0;
        break;
      case 1:
        WriteRegister(index_, value);
        break;
      case 2:
        extended_index_ = value & 0x7f;
        break;
      case 3:
        cmos_[0x80 | extended_index_] = value;
        break;
      default:
        break;
    }
  }
}

bool RtcCmos::SetCmosByte(uint8_t index, uint8_t value) {
  if (index <= kRegD || index == kCmosCentury) return false;
  cmos_[index] = value;
  if (index >= 0x10 && index <= 0x2d) UpdateChecksum();
  return true;
}

uint8_t RtcCmos::CmosByte(uint8_t index) {
  if (index > kRegD && index != kCmosCentury) return cmos_[index];
  Sync();
  UpdateIrq();
  Reschedule();
  if (index == kRegA) {
    bool uip = Counting() && ClocksAt(clock_.now_ns()) % kInputHz >= kInputHz - kUipClocks;
    return static_cast<uint8_t>(cmos_[kRegA] | (uip ? kAUip : 0));
  }
  return cmos_[index];
}

void RtcCmos::SetMemorySize(uint64_t below_4g_bytes, uint64_t above_4g_bytes) {
  constexpr uint64_t kKiB = 1024, kMiB = 1024 * 1024;
  auto put16 = [this](uint8_t index, uint64_t value) {
    value = std::min<uint64_t>(value, 0xffff);
    cmos_[index] = static_cast<uint8_t>(value);
    cmos_[index + 1] = static_cast<uint8_t>(value >> 8);
  };
  put16(kCmosBaseMemory, std::min<uint64_t>(below_4g_bytes / kKiB, 640));
  uint64_t extended_kib = below_4g_bytes > kMiB ? (below_4g_bytes - kMiB) / kKiB : 0;
  put16(kCmosExtendedMemory, extended_kib);
  put16(kCmosExtendedMemoryPost, extended_kib);
  put16(kCmosMemoryAbove16M,
        below_4g_bytes > 16 * kMiB ? (below_4g_bytes - 16 * kMiB) / (64 * kKiB) : 0);
  uint64_t high = std::min<uint64_t>(above_4g_bytes / (64 * kKiB), 0xffffff);
  cmos_[kCmosMemoryAbove4G] = static_cast<uint8_t>(high);
  cmos_[kCmosMemoryAbove4G + 1] = static_cast<uint8_t>(high >> 8);
  cmos_[kCmosMemoryAbove4G + 2] = static_cast<uint8_t>(high >> 16);
  UpdateChecksum();
}

void RtcCmos::SetCpuCount(unsigned cpus) {
  cmos_[kCmosCpuCountMinusOne] = static_cast<uint8_t>(std::clamp(cpus, 1u, 256u) - 1);
}

void RtcCmos::UpdateChecksum() {
  // IBM AT: 16-bit sum of 0x10-0x2d, high byte at 0x2e.
  uint16_t sum = 0;
  for (int i = 0x10; i <= 0x2d; ++i) sum = static_cast<uint16_t>(sum + cmos_[i]);
  cmos_[kCmosChecksum] = static_cast<uint8_t>(sum >> 8);
  cmos_[kCmosChecksum + 1] = static_cast<uint8_t>(sum);
}

int64_t RtcCmos::CurrentTimeSeconds() {
  Sync();
  return Counting() ? base_seconds_ + static_cast<int64_t>(updates_done_) : LoadTime();
}

uint8_t RtcCmos::ReadRegister(uint8_t index) {
  if (index > kRegD && index != kCmosCentury) return cmos_[index];
  uint8_t value = CmosByte(index);
  if (index == kRegC) {
    // Reading C clears all flags and IRQF, which releases IRQ8 (datasheet,
    // "Register C").
    cmos_[kRegC] = 0;
    UpdateIrq();
    Reschedule();
  }
  return value;
}

void RtcCmos::WriteRegister(uint8_t index, uint8_t value) {
  if (index > kRegD && index != kCmosCentury) {
    cmos_[index] = value;
    return;
  }
  Sync();
  switch (index) {
    case kRegA:
      WriteRegisterA(value);
      break;
    case kRegB:
      WriteRegisterB(value);
      break;
    case kRegC:
    case kRegD:
      break;  // Read-only.
    case 1:
    case 3:
    case 5:
      cmos_[index] = value;  // Alarm bytes are plain RAM compared at updates.
      break;
    default:
      // A time byte. Written while counting, the next update increments from
      // it (the chip's counters are these very bytes), so rebase on it.
      cmos_[index] = value;
      if (Counting()) Rebase();
      break;
  }
  UpdateIrq();
  Reschedule();
}

void RtcCmos::WriteRegisterA(uint8_t value) {
  bool was_running = DividerRunning();
  bool was_counting = Counting();
  cmos_[kRegA] = value & 0x7f;  // UIP is read-only.
  uint64_t now = clock_.now_ns();
  if (!was_running && DividerRunning()) {
    epoch_ns_ = static_cast<int64_t>(now) - kFirstUpdateAfterResetNs;
    updates_done_ = 0;
  }
  if (!was_counting && Counting()) Rebase();
  // Ticks at the old rate were folded into PF by Sync(); count anew.
  int shift = PeriodicShift();
  periodic_ticks_ = shift ? ClocksAt(now) >> shift : 0;
}

void RtcCmos::WriteRegisterB(uint8_t value) {
  bool was_counting = Counting();
  uint8_t old = cmos_[kRegB];
  // Setting SET aborts updates and clears UIE (datasheet, "Register B").
  if (value & kBSet) value &= static_cast<uint8_t>(~kBUie);
  cmos_[kRegB] = value;
  if (!was_counting && Counting()) {
    Rebase();
  } else if (Counting() && ((old ^ value) & (kBBinary | kB24Hour))) {
    // Show the running time in the new format at once, as QEMU does.
    StoreTime(base_seconds_ + static_cast<int64_t>(updates_done_));
  }
}

void RtcCmos::Rebase() {
  // SET does not reset the divider: the update phase carries on.
  updates_done_ = ClocksAt(clock_.now_ns()) / kInputHz;
  int64_t seconds = LoadTime();
  weekday_offset_ = DecodeWeekdayOffset(seconds);
  base_seconds_ = seconds - static_cast<int64_t>(updates_done_);
}

bool RtcCmos::DividerRunning() const {
  // DV2-0 = 000, 001, 010 run; 11x hold the chain in reset; the test modes
  // do not count (QEMU's rtc_running uses the same test).
  return (cmos_[kRegA] & 0x70) <= 0x20;
}

bool RtcCmos::Counting() const { return DividerRunning() && !(cmos_[kRegB] & kBSet); }

uint64_t RtcCmos::ClocksAt(uint64_t now_ns) const {
  int64_t elapsed = static_cast<int64_t>(now_ns) - epoch_ns_;
  if (elapsed <= 0) return 0;
  return static_cast<uint64_t>(static_cast<unsigned __int128>(elapsed) * kInputHz / kNsPerSecond);
}

uint64_t RtcCmos::NsOfClock(uint64_t clocks) const {
  unsigned __int128 ns =
      (static_cast<unsigned __int128>(clocks) * kNsPerSecond + kInputHz - 1) / kInputHz;
  __int128 at = static_cast<__int128>(ns) + epoch_ns_;
  if (at < 0) return 0;
  if (at >= static_cast<__int128>(VirtualClock::kNever)) return VirtualClock::kNever - 1;
  return static_cast<uint64_t>(at);
}

int RtcCmos::PeriodicShift() const {
  // Datasheet Table 4 (32.768 kHz time base): RS 1 and 2 give 256 and 128 Hz
  // like RS 8 and 9; RS n >= 3 divides by 2^(n-1).
  int rs = cmos_[kRegA] & 0x0f;
  if (rs == 0) return 0;
  if (rs <= 2) return rs + 6;
  return rs - 1;
}

void RtcCmos::Sync() {
  if (!DividerRunning()) return;
  uint64_t clocks = ClocksAt(clock_.now_ns());
  if (Counting()) {
    uint64_t k = clocks / kInputHz;
    if (k > updates_done_) {
      int64_t first = base_seconds_ + static_cast<int64_t>(updates_done_) + 1;
      int64_t last = base_seconds_ + static_cast<int64_t>(k);
      // The alarm compares hh:mm:ss bytes, so a day of updates covers every
      // pattern; look no further back after a long gap.
      for (int64_t s = last; s >= std::max(first, last - kSecondsPerDay + 1); --s) {
        if (AlarmMatches(s)) {
          cmos_[kRegC] |= kCAf;
          break;
        }
      }
      cmos_[kRegC] |= kCUf;
      updates_done_ = k;
      StoreTime(last);
    }
  }
  int shift = PeriodicShift();
  if (shift != 0) {
    uint64_t ticks = clocks >> shift;
    if (ticks > periodic_ticks_) {
      cmos_[kRegC] |= kCPf;
      periodic_ticks_ = ticks;
    }
  }
}

void RtcCmos::UpdateIrq() {
  uint8_t flags = cmos_[kRegC] & (kCPf | kCAf | kCUf);
  uint8_t b = cmos_[kRegB];
  bool irqf = ((flags & kCPf) && (b & kBPie)) || ((flags & kCAf) && (b & kBAie)) ||
              ((flags & kCUf) && (b & kBUie));
  cmos_[kRegC] = static_cast<uint8_t>(flags | (irqf ? kCIrqf : 0));
  if (irqf != irq_level_) {
    irq_level_ = irqf;
    irq_->SetLevel(irqf);
  }
}

void RtcCmos::Reschedule() {
  // Flags are computed lazily on access; timers exist only to raise an
  // enabled interrupt on time, and stop once its flag is set (it stays set
  // until register C is read).
  uint8_t b = cmos_[kRegB], c = cmos_[kRegC];
  bool want_update = Counting() && (((b & kBUie) && !(c & kCUf)) || ((b & kBAie) && !(c & kCAf)));
  if (want_update) {
    uint64_t at = NsOfClock((updates_done_ + 1) * kInputHz);
    if (update_timer_.deadline_ns() != at) update_timer_.ArmAt(at);
  } else if (update_timer_.armed()) {
    update_timer_.Cancel();
  }
  int shift = PeriodicShift();
  if (DividerRunning() && shift != 0 && (b & kBPie) && !(c & kCPf)) {
    uint64_t at = NsOfClock((periodic_ticks_ + 1) << shift);
    if (periodic_timer_.deadline_ns() != at) periodic_timer_.ArmAt(at);
  } else if (periodic_timer_.armed()) {
    periodic_timer_.Cancel();
  }
}

void RtcCmos::OnTimer() {
  Sync();
  UpdateIrq();
  Reschedule();
}

uint8_t RtcCmos::ToRegister(int value) const {
  if (cmos_[kRegB] & kBBinary) return static_cast<uint8_t>(value);
  return static_cast<uint8_t>(((value / 10) << 4) | (value % 10));
}

int RtcCmos::FromRegister(uint8_t value) const {
  if (cmos_[kRegB] & kBBinary) return value;
  return (value >> 4) * 10 + (value & 0x0f);
}

RtcCmos::Fields RtcCmos::Split(int64_t seconds) const {
  // H. Hinnant's civil_from_days.
  int64_t days = FloorDiv(seconds, kSecondsPerDay);
  int64_t rem = seconds - days * kSecondsPerDay;
  int64_t z = days + 719468;
  int64_t era = FloorDiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  Fields f;
  f.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  f.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  f.year = yoe + era * 400 + (f.month <= 2);
  f.hour = static_cast<int>(rem / 3600);
  f.minute = static_cast<int>(rem / 60 % 60);
  f.second = static_cast<int>(rem % 60);
  f.weekday = (WeekdayOfDays(days) + weekday_offset_) % 7 + 1;
  return f;
}

void RtcCmos::EncodeHms(const Fields& f, uint8_t out[3]) const {
  out[0] = ToRegister(f.second);
  out[1] = ToRegister(f.minute);
  if (cmos_[kRegB] & kB24Hour) {
    out[2] = ToRegister(f.hour);
  } else {
    // 12-hour mode: 1-12 with bit 7 for PM (datasheet, Table 3).
    int h12 = f.hour % 12 == 0 ? 12 : f.hour % 12;
    out[2] = static_cast<uint8_t>(ToRegister(h12) | (f.hour >= 12 ? 0x80 : 0));
  }
}

void RtcCmos::StoreTime(int64_t seconds) {
  Fields f = Split(seconds);
  uint8_t hms[3];
  EncodeHms(f, hms);
  cmos_[0] = hms[0];
  cmos_[2] = hms[1];
  cmos_[4] = hms[2];
  cmos_[6] = ToRegister(f.weekday);
  cmos_[7] = ToRegister(f.day);
  cmos_[8] = ToRegister(f.month);
  int64_t century = FloorDiv(f.year, 100);
  cmos_[9] = ToRegister(static_cast<int>(f.year - century * 100));
  cmos_[kCmosCentury] = ToRegister(static_cast<int>(std::clamp<int64_t>(century, 0, 99)));
}

int64_t RtcCmos::LoadTime() const {
  // Guest-written bytes may be anything; clamp each field into range.
  int second = std::clamp(FromRegister(cmos_[0]), 0, 59);
  int minute = std::clamp(FromRegister(cmos_[2]), 0, 59);
  int hour;
  if (cmos_[kRegB] & kB24Hour) {
    hour = std::clamp(FromRegister(cmos_[4]), 0, 23);
  } else {
    int h12 = std::clamp(FromRegister(cmos_[4] & 0x7f), 1, 12);
    hour = h12 % 12 + ((cmos_[4] & 0x80) ? 12 : 0);
  }
  int day = std::clamp(FromRegister(cmos_[7]), 1, 31);
  int month = std::clamp(FromRegister(cmos_[8]), 1, 12);
  int year = std::clamp(FromRegister(cmos_[9]), 0, 99);
  int century = std::clamp(FromRegister(cmos_[kCmosCentury]), 0, 99);
  int64_t days = DaysFromCivil(century * 100 + year, month, day);
  return days * kSecondsPerDay + hour * 3600 + minute * 60 + second;
}

uint8_t RtcCmos::DecodeWeekdayOffset(int64_t seconds) const {
  int reg = FromRegister(cmos_[6]);
  if (reg < 1 || reg > 7) return 0;
  int computed = WeekdayOfDays(FloorDiv(seconds, kSecondsPerDay));
  return static_cast<uint8_t>(((reg - 1) - computed + 7) % 7);
}

bool RtcCmos::AlarmMatches(int64_t seconds) const {
  uint8_t now[3];
  EncodeHms(Split(seconds), now);
  for (int i = 0; i < 3; ++i) {
    uint8_t alarm = cmos_[1 + 2 * i];
    // 11xxxxxx is "don't care" (datasheet, "Alarm").
    if ((alarm & 0xc0) == 0xc0) continue;
    if (alarm != now[i]) return false;
  }
  return true;
}

}  // namespace x86vm
