// ACPI fixed-hardware power management registers (a PIIX4-PM/ICH9-LPC-like
// block): PM1a event and control, the PM timer, GPE0 and a reset register.
// References: ACPI 6.5 sections 4.8.3 (PM1 event/control), 4.8.3.3 (PM
// timer), 4.8.4.1 (GPE0), 5.2.9 (FADT RESET_REG), 7.4.2 (\_S5 and SLP_TYP).
//
// Layout, at a board-chosen I/O base (kDefaultBase, as QEMU's q35 PMBASE):
//   base+0x00  PM1a_EVT_BLK  4 bytes: PM1_STS (16 bits), PM1_EN (16 bits)
//   base+0x04  PM1a_CNT_BLK  2 bytes
//   base+0x08  PM_TMR_BLK    4 bytes: 24-bit counter at 3.579545 MHz
//   base+0x0C  RESET_REG     1 byte: the PIIX/ICH "reset control" semantics
//   base+0x20  GPE0_BLK      8 bytes: GPE0_STS (32 bits), GPE0_EN (32 bits)
// Everything else in the kBlockBytes window reads 0xFF and ignores writes.
// The ACPI table generator uses the constants below for the FADT and DSDT.
#ifndef X86VM_DEVICES_ACPI_PM_H_
#define X86VM_DEVICES_ACPI_PM_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "base/log.h"
#include "base/serializer.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/device.h"
#include "devices/irq.h"

namespace x86vm {

// The PM register block (device "acpi_pm"). The SCI is a level: high while
// an enabled event's status bit is set and SCI_EN is on.
class AcpiPm : public Device, public BusTarget {
 public:
  // Where the board puts the block, and its size (register one window).
  static constexpr uint16_t kDefaultBase = 0x600;
  static constexpr uint64_t kBlockBytes = 0x40;
  // FADT fields: offsets from the base and block lengths.
  static constexpr uint64_t kPm1EvtOffset = 0x00;
  static constexpr uint8_t kPm1EvtLen = 4;
  static constexpr uint64_t kPm1CntOffset = 0x04;
  static constexpr uint8_t kPm1CntLen = 2;
  static constexpr uint64_t kPmTmrOffset = 0x08;
  static constexpr uint8_t kPmTmrLen = 4;  // FADT flag TMR_VAL_EXT = 0.
  static constexpr uint64_t kGpe0Offset = 0x20;
  static constexpr uint8_t kGpe0Len = 8;
  // FADT RESET_REG (system I/O, 8 bits, base + kResetRegOffset) and
  // RESET_VALUE. Any write with bit 2 set resets, as the PIIX/ICH register.
  static constexpr uint64_t kResetRegOffset = 0x0C;
  static constexpr uint8_t kResetValue = 0x06;
  // FADT SCI_INT: ISA IRQ 9, level triggered, active high at the IOAPIC
  // (MADT interrupt source override 9 -> 9, flags level/high).
  static constexpr uint8_t kSciIrq = 9;
  // The \_S5 package value for SLP_TYPa; S5 is the only sleep state offered
  // (QEMU's DSDT uses 0 for S5 too). Other SLP_TYP values are ignored.
  static constexpr uint8_t kSlpTypS5 = 0;
  // SCI_EN is set from reset: the machine is always in ACPI mode, so the
  // FADT must give SMI_CMD = 0 (ACPI 6.5 5.2.9: no legacy-mode transition).
  static constexpr bool kSciEnabledAtReset = true;
  // PM timer frequency (ACPI 6.5 4.8.3.3).
  static constexpr uint64_t kPmTimerHz = 3579545;

  // PM1_STS / PM1_EN bits (ACPI 6.5 tables 4.16, 4.17).
  static constexpr uint16_t kTmrSts = 1 << 0;
  static constexpr uint16_t kBmSts = 1 << 4;
  static constexpr uint16_t kGblSts = 1 << 5;
  static constexpr uint16_t kPwrBtnSts = 1 << 8;
  static constexpr uint16_t kSlpBtnSts = 1 << 9;
  static constexpr uint16_t kRtcSts = 1 << 10;
  static constexpr uint16_t kWakSts = 1 << 15;
  // PM1_CNT bits (ACPI 6.5 table 4.18).
  static constexpr uint16_t kSciEn = 1 << 0;
  static constexpr uint16_t kBmRld = 1 << 1;
  static constexpr uint16_t kGblRls = 1 << 2;
  static constexpr uint16_t kSlpTypMask = 7 << 10;
  static constexpr int kSlpTypShift = 10;
  static constexpr uint16_t kSlpEn = 1 << 13;

  // `sci` is the IRQ 9 line (may be null); `clock` drives the PM timer.
  AcpiPm(VirtualClock& clock, IrqLine* sci);

  std::string_view name() const override { return "acpi_pm"; }
  void Reset() override;
  void Serialize(Serializer& s) override;
  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

  // A 1-byte target with the same reset register, for a board that routes
  // byte accesses at 0xCF9 here (the PCI host owns the 0xCF8 dword).
  BusTarget* reset_control_register() { return &reset_control_; }

  // Called when the guest enters S5 (SLP_EN with SLP_TYP = kSlpTypS5); the
  // board ends the emulator with exit status 0.
  void set_power_off(std::function<void()> fn) { power_off_ = std::move(fn); }
  // Called when the guest writes the reset register with bit 2 set.
  void set_reset_requested(std::function<void()> fn) {
    reset_requested_ = std::move(fn);
  }

  // The frontend's power button: sets PWRBTN_STS (SCI if PWRBTN_EN).
  void PressPowerButton();
  // Sets GPE0_STS bit `gpe` (0-31) for a device's general-purpose event.
  void RaiseGpe(unsigned gpe);

  // The 24-bit PM timer value now, as port base+8 reads.
  uint32_t timer_value() const;
  // Register values for tests and the monitor (PM1_STS as last updated).
  uint16_t pm1_status() const { return pm1_sts_; }
  uint16_t pm1_control() const { return pm1_cnt_; }
  bool sci_level() const { return sci_level_; }

 private:
  // PM timer ticks since power-on at `ns` and the first ns of tick `ticks`.
  static uint64_t TicksAt(uint64_t ns);
  static uint64_t NsOfTick(uint64_t ticks);
  // Sets TMR_STS if bit 23 of the counter toggled since the last look.
  void UpdateTimerStatus();
  // Arms the timer for the next bit-23 toggle when that would raise an SCI.
  void ArmTimer();
  void OnTimer();
  void UpdateSci(bool force = false);
  uint8_t ReadByte(uint64_t offset, uint32_t timer) const;
  void WriteByte(uint64_t offset, uint8_t value);
  void WriteResetControl(uint8_t value);

  VirtualClock& clock_;
  IrqLine* sci_;
  Timer timer_;
  FunctionBusTarget reset_control_;
  std::function<void()> power_off_;
  std::function<void()> reset_requested_;

  uint16_t pm1_sts_ = 0;
  uint16_t pm1_en_ = 0;
  uint16_t pm1_cnt_ = 0;
  uint32_t gpe0_sts_ = 0;
  uint32_t gpe0_en_ = 0;
  uint8_t reset_control_value_ = 0;
  // Counter bit-23 half periods (ticks >> 23) already reflected in TMR_STS.
  uint64_t timer_periods_seen_ = 0;
  bool sci_level_ = false;

  std::shared_ptr<spdlog::logger> log_;
  RateLimiter sleep_log_;
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_ACPI_PM_H_
