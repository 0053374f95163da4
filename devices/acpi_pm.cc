#include "devices/acpi_pm.h"

namespace x86vm {
namespace {

constexpr uint64_t kNsPerSecond = 1000000000;
// TMR_STS is set whenever bit 23 of the counter changes (ACPI 6.5 4.8.3.3).
constexpr int kTimerStatusBit = 23;
constexpr uint32_t kTimerMask = (1u << 24) - 1;
// Writable bits: PM1_EN (TMR, GBL, PWRBTN, SLPBTN, RTC); PM1_CNT keeps
// SCI_EN, BM_RLD and SLP_TYP (GBL_RLS and SLP_EN are write-only actions).
constexpr uint16_t kPm1EnMask = AcpiPm::kTmrSts | AcpiPm::kGblSts |
                                AcpiPm::kPwrBtnSts | AcpiPm::kSlpBtnSts |
                                AcpiPm::kRtcSts;
constexpr uint16_t kPm1CntMask =
    AcpiPm::kSciEn | AcpiPm::kBmRld | AcpiPm::kSlpTypMask;
// Reset control register (PIIX4 datasheet / ICH9 13.7.5 "RST_CNT"): bit 1
// selects hard reset, bit 2 starts the reset, bit 3 full reset. Only the
// type bits are kept (as QEMU's rcr).
constexpr uint8_t kResetCpu = 0x04;
constexpr uint8_t kResetTypeMask = 0x0A;

}  // namespace

AcpiPm::AcpiPm(VirtualClock& clock, IrqLine* sci)
    : clock_(clock),
      sci_(sci),
      timer_(clock, [this] { OnTimer(); }),
      reset_control_(
          [this](uint64_t, size_t) -> uint64_t { return reset_control_value_; },
          [this](uint64_t, size_t, uint64_t v) {
            WriteResetControl(static_cast<uint8_t>(v));
          }),
      log_(Logger("acpi_pm")) {
  Reset();
}

uint64_t AcpiPm::TicksAt(uint64_t ns) {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(ns) * kPmTimerHz /
                               kNsPerSecond);
}

uint64_t AcpiPm::NsOfTick(uint64_t ticks) {
  // The first ns at which TicksAt() reaches `ticks` (rounded up).
  unsigned __int128 scaled =
      static_cast<unsigned __int128>(ticks) * kNsPerSecond;
  unsigned __int128 ns = (scaled + kPmTimerHz - 1) / kPmTimerHz;
  return ns > VirtualClock::kNever - 1 ? VirtualClock::kNever - 1
                                       : static_cast<uint64_t>(ns);
}

void AcpiPm::Reset() {
  pm1_sts_ = 0;
  pm1_en_ = 0;
  pm1_cnt_ = kSciEnabledAtReset ? kSciEn : 0;
  gpe0_sts_ = 0;
  gpe0_en_ = 0;
  reset_control_value_ = 0;
  // The counter free-runs from power-on; only changes from now on count.
  timer_periods_seen_ = TicksAt(clock_.now_ns()) >> kTimerStatusBit;
  ArmTimer();
  UpdateSci(/*force=*/true);
}

uint32_t AcpiPm::timer_value() const {
  return static_cast<uint32_t>(TicksAt(clock_.now_ns())) & kTimerMask;
}

void AcpiPm::UpdateTimerStatus() {
  uint64_t periods = TicksAt(clock_.now_ns()) >> kTimerStatusBit;
  if (periods != timer_periods_seen_) {
    pm1_sts_ |= kTmrSts;
    timer_periods_seen_ = periods;
  }
}

void AcpiPm::ArmTimer() {
  // Only an enabled, not yet pending timer event can change the SCI; any
  // other time TMR_STS is brought up to date lazily when read.
  if ((pm1_en_ & kTmrSts) && (pm1_cnt_ & kSciEn) && !(pm1_sts_ & kTmrSts)) {
    timer_.ArmAt(NsOfTick((timer_periods_seen_ + 1) << kTimerStatusBit));
  } else {
    timer_.Cancel();
  }
}

void AcpiPm::OnTimer() {
  UpdateTimerStatus();
  UpdateSci();
  ArmTimer();
}

void AcpiPm::UpdateSci(bool force) {
  // ACPI 6.5 4.8.2.5: with SCI_EN clear, events would go to SMI instead;
  // there is no SMM firmware, so they raise nothing.
  constexpr uint16_t kSciEvents =
      kTmrSts | kGblSts | kPwrBtnSts | kSlpBtnSts | kRtcSts;
  bool level =
      (pm1_cnt_ & kSciEn) != 0 &&
      ((pm1_sts_ & pm1_en_ & kSciEvents) != 0 || (gpe0_sts_ & gpe0_en_) != 0);
  if (sci_ != nullptr && (force || level != sci_level_)) sci_->SetLevel(level);
  sci_level_ = level;
}

void AcpiPm::PressPowerButton() {
  pm1_sts_ |= kPwrBtnSts;
  UpdateSci();
}

void AcpiPm::RaiseGpe(unsigned gpe) {
  if (gpe >= 32) return;
  gpe0_sts_ |= 1u << gpe;
  UpdateSci();
}

uint8_t AcpiPm::ReadByte(uint64_t offset, uint32_t timer) const {
  auto byte_of = [](uint64_t value, uint64_t index) {
    return static_cast<uint8_t>(value >> (8 * index));
  };
  if (offset < 2) return byte_of(pm1_sts_, offset);
  if (offset < 4) return byte_of(pm1_en_, offset - 2);
  if (offset < 6) return byte_of(pm1_cnt_, offset - 4);
  if (offset >= kPmTmrOffset && offset < kPmTmrOffset + kPmTmrLen) {
    return byte_of(timer, offset - kPmTmrOffset);
  }
  if (offset == kResetRegOffset) return reset_control_value_;
  if (offset >= kGpe0Offset && offset < kGpe0Offset + 4) {
    return byte_of(gpe0_sts_, offset - kGpe0Offset);
  }
  if (offset >= kGpe0Offset + 4 && offset < kGpe0Offset + kGpe0Len) {
    return byte_of(gpe0_en_, offset - kGpe0Offset - 4);
  }
  return 0xFF;
}

void AcpiPm::Read(uint64_t offset, std::span<uint8_t> data) {
  UpdateTimerStatus();
  // One timer sample per access, so a 32-bit read never tears.
  uint32_t timer = timer_value();
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = ReadByte(offset + i, timer);
  UpdateSci();
  ArmTimer();
}

void AcpiPm::WriteByte(uint64_t offset, uint8_t value) {
  auto replace_byte = [](auto reg, uint64_t index, uint8_t v) {
    using T = decltype(reg);
    T mask = static_cast<T>(T{0xFF} << (8 * index));
    return static_cast<T>((reg & ~mask) | (static_cast<T>(v) << (8 * index)));
  };
  if (offset < 2) {
    // Write 1 to clear (ACPI 6.5 4.8.3.1).
    pm1_sts_ &= static_cast<uint16_t>(~(value << (8 * offset)));
  } else if (offset < 4) {
    pm1_en_ = replace_byte(pm1_en_, offset - 2, value) & kPm1EnMask;
  } else if (offset < 6) {
    pm1_cnt_ = replace_byte(pm1_cnt_, offset - 4, value) & kPm1CntMask;
    // SLP_TYP and SLP_EN share the high byte, so one byte carries both.
    if (offset == 5 && (value & (kSlpEn >> 8)) != 0) {
      uint8_t slp_typ =
          static_cast<uint8_t>((pm1_cnt_ & kSlpTypMask) >> kSlpTypShift);
      if (slp_typ == kSlpTypS5) {
        if (sleep_log_.Allow()) log_->info("guest entered S5 (soft off)");
        if (power_off_) power_off_();
      } else if (sleep_log_.Allow()) {
        log_->warn("sleep type {} not supported (only S5 = {}), ignored",
                   slp_typ, kSlpTypS5);
      }
    }
  } else if (offset == kResetRegOffset) {
    WriteResetControl(value);
  } else if (offset >= kGpe0Offset && offset < kGpe0Offset + 4) {
    gpe0_sts_ &=
        ~(static_cast<uint32_t>(value) << (8 * (offset - kGpe0Offset)));
  } else if (offset >= kGpe0Offset + 4 && offset < kGpe0Offset + kGpe0Len) {
    gpe0_en_ = replace_byte(gpe0_en_, offset - kGpe0Offset - 4, value);
  }
}

void AcpiPm::Write(uint64_t offset, std::span<const uint8_t> data) {
  // Bring TMR_STS up to date first, so a clear covers every toggle so far.
  UpdateTimerStatus();
  for (size_t i = 0; i < data.size(); ++i) WriteByte(offset + i, data[i]);
  UpdateSci();
  ArmTimer();
}

void AcpiPm::WriteResetControl(uint8_t value) {
  reset_control_value_ = value & kResetTypeMask;
  if ((value & kResetCpu) != 0 && reset_requested_) reset_requested_();
}

void AcpiPm::Serialize(Serializer& s) {
  s.Section("acpi_pm", 1);
  s(pm1_sts_);
  s(pm1_en_);
  s(pm1_cnt_);
  s(gpe0_sts_);
  s(gpe0_en_);
  s(reset_control_value_);
  s(timer_periods_seen_);
  timer_.Serialize(s);
  if (s.loading()) {
    pm1_en_ &= kPm1EnMask;
    pm1_cnt_ &= kPm1CntMask;
    reset_control_value_ &= kResetTypeMask;
    UpdateSci(/*force=*/true);
  }
}

}  // namespace x86vm
