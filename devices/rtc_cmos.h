// MC146818A real-time clock with its CMOS RAM, as on every PC since the AT:
// index/data ports 0x70/0x71 (bit 7 of the index masks NMI), a second bank of
// 128 bytes at 0x72/0x73 (PIIX4/ICH "extended RAM"), registers A-D, BCD or
// binary and 12/24-hour formats, the SET bit, the update-in-progress flag, and
// the periodic, alarm and update-ended interrupts on IRQ8.
//
// Time: the board passes the start time in Unix seconds (host wall clock read
// by the board, or a fixed value in deterministic mode); from then on the
// clock advances with the VirtualClock only. A time the guest writes is kept
// as a new base, i.e. an offset from the start time. Daylight-saving (DSE) is
// stored but not applied, as in QEMU. The century lives at CMOS 0x32 and
// counts with the clock (QEMU does the same), so the date never wraps at 2099.
#ifndef X86VM_DEVICES_RTC_CMOS_H_
#define X86VM_DEVICES_RTC_CMOS_H_

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/device.h"
#include "devices/irq.h"

namespace x86vm {

class RtcCmos : public Device, public BusTarget {
 public:
  // Ports covered by the bus window: 0x70 index, 0x71 data, 0x72 extended
  // index, 0x73 extended data. Register the window at kPortBase.
  static constexpr uint64_t kPortBase = 0x70;
  static constexpr uint64_t kPortCount = 4;
  // Bytes of CMOS RAM in both banks (clock registers included).
  static constexpr size_t kCmosBytes = 256;

  // CMOS bytes firmware reads (offsets into the 256-byte RAM).
  // Equipment byte (IBM AT): bit 0 floppy present, bit 1 FPU, bit 2 PS/2 mouse.
  static constexpr uint8_t kCmosEquipment = 0x14;
  // Base memory in KiB, little-endian 16 bits (0x15/0x16).
  static constexpr uint8_t kCmosBaseMemory = 0x15;
  // Extended memory above 1 MiB in KiB, capped at 0xffff (0x17/0x18).
  static constexpr uint8_t kCmosExtendedMemory = 0x17;
  // High byte of the AT checksum over 0x10-0x2d; low byte at 0x2f.
  static constexpr uint8_t kCmosChecksum = 0x2e;
  // Copy of the extended memory size that POST reports (0x30/0x31).
  static constexpr uint8_t kCmosExtendedMemoryPost = 0x30;
  // Century, in the clock's BCD/binary format; counts with the clock.
  static constexpr uint8_t kCmosCentury = 0x32;
  // Memory between 16 MiB and 4 GiB in 64 KiB units (0x34/0x35), as
  // Bochs/QEMU and SeaBIOS use it.
  static constexpr uint8_t kCmosMemoryAbove16M = 0x34;
  // Memory above 4 GiB in 64 KiB units, 24 bits (0x5b-0x5d), as QEMU.
  static constexpr uint8_t kCmosMemoryAbove4G = 0x5b;
  // Number of CPUs minus one (0x5f), read by SeaBIOS.
  static constexpr uint8_t kCmosCpuCountMinusOne = 0x5f;
  // Equipment byte bits.
  static constexpr uint8_t kEquipmentFloppy = 0x01;
  static constexpr uint8_t kEquipmentFpu = 0x02;
  static constexpr uint8_t kEquipmentPs2Mouse = 0x04;

  // `irq` is IRQ8 (never null); `start_unix_seconds` is the guest time at
  // virtual time "now" (construction).
  RtcCmos(VirtualClock& clock, IrqLine* irq, int64_t start_unix_seconds);

  std::string_view name() const override { return "rtc"; }
  // The RESET pin: clears PIE/AIE/UIE/SQWE and the flags in register C. Time
  // and CMOS RAM are battery-backed and survive.
  void Reset() override;
  void Serialize(Serializer& s) override;

  // Port window at kPortBase (offsets 0-3).
  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

  // True while the last index written to port 0x70 had bit 7 set; the board
  // must not deliver NMIs then.
  bool nmi_masked() const { return nmi_masked_; }

  // Board setup of CMOS RAM (0x0e-0xff, except the century at 0x32, which
  // belongs to the clock). Writes into 0x10-0x2d refresh the checksum.
  // Returns false for an index the board may not set.
  bool SetCmosByte(uint8_t index, uint8_t value);
  // Any CMOS byte as the guest would read it now (clock registers included).
  uint8_t CmosByte(uint8_t index);
  // Fills the memory-size bytes BIOSes read (0x15-0x18, 0x30/0x31, 0x34/0x35,
  // 0x5b-0x5d) the way QEMU's pc_cmos_init does, and the checksum.
  void SetMemorySize(uint64_t below_4g_bytes, uint64_t above_4g_bytes);
  // Stores cpus - 1 at 0x5f (clamped to 1..256 CPUs).
  void SetCpuCount(unsigned cpus);
  // Recomputes the AT checksum at 0x2e/0x2f over 0x10-0x2d.
  void UpdateChecksum();

  // The guest's current time in Unix seconds (as the registers read, before
  // format conversion); for the monitor and tests.
  int64_t CurrentTimeSeconds();

 private:
  // Registers and bits (MC146818A datasheet, "Register A" .. "Register D").
  static constexpr uint8_t kRegA = 0x0a;
  static constexpr uint8_t kRegB = 0x0b;
  static constexpr uint8_t kRegC = 0x0c;
  static constexpr uint8_t kRegD = 0x0d;
  static constexpr uint8_t kAUip = 0x80;
  static constexpr uint8_t kBSet = 0x80;
  static constexpr uint8_t kBPie = 0x40;
  static constexpr uint8_t kBAie = 0x20;
  static constexpr uint8_t kBUie = 0x10;
  static constexpr uint8_t kBSqwe = 0x08;
  static constexpr uint8_t kBBinary = 0x04;
  static constexpr uint8_t kB24Hour = 0x02;
  static constexpr uint8_t kCIrqf = 0x80;
  static constexpr uint8_t kCPf = 0x40;
  static constexpr uint8_t kCAf = 0x20;
  static constexpr uint8_t kCUf = 0x10;
  static constexpr uint8_t kDVrt = 0x80;

  // Civil time split into the fields the clock registers hold.
  struct Fields {
    int64_t year;  // Full year, e.g. 2024.
    int month;     // 1-12.
    int day;       // 1-31.
    int hour;      // 0-23.
    int minute;
    int second;
    int weekday;  // 1-7, Sunday = 1.
  };

  uint8_t ReadRegister(uint8_t index);
  void WriteRegister(uint8_t index, uint8_t value);
  void WriteRegisterA(uint8_t value);
  void WriteRegisterB(uint8_t value);
  // Takes the time registers as the time at the current update count (the
  // moment counting resumes, or a time byte written while counting).
  void Rebase();

  // The 32.768 kHz divider runs (register A DV bits 000-010, as in QEMU).
  bool DividerRunning() const;
  // The time counts: divider running and SET clear.
  bool Counting() const;
  // 32.768 kHz input clocks since epoch_ns_ at virtual time `now_ns`.
  uint64_t ClocksAt(uint64_t now_ns) const;
  // First virtual ns at which ClocksAt() reaches `clocks`.
  uint64_t NsOfClock(uint64_t clocks) const;
  // log2 of the periodic interrupt period in input clocks; 0 when disabled.
  int PeriodicShift() const;

  // Brings lazily kept state up to now: update cycles (time registers, UF,
  // AF) and periodic ticks (PF).
  void Sync();
  // Drives IRQ8 and register C's IRQF from the flags and enables.
  void UpdateIrq();
  // Arms the timers needed to raise an enabled interrupt on time.
  void Reschedule();
  // Sync, then UpdateIrq and Reschedule; timer callbacks use it.
  void OnTimer();

  // Encodes `seconds` into the time registers in the current format.
  void StoreTime(int64_t seconds);
  // Decodes the time registers (leniently: bad digits are clamped).
  int64_t LoadTime() const;
  // The weekday_offset_ that makes the weekday register read back as written.
  uint8_t DecodeWeekdayOffset(int64_t seconds) const;
  // Encodes fields into {sec, min, hour} register bytes (for alarm compares).
  void EncodeHms(const Fields& f, uint8_t out[3]) const;
  uint8_t ToRegister(int value) const;
  int FromRegister(uint8_t value) const;
  Fields Split(int64_t seconds) const;
  // True when the sec/min/hour registers at `seconds` match the alarm.
  bool AlarmMatches(int64_t seconds) const;

  VirtualClock& clock_;
  IrqLine* irq_;
  std::array<uint8_t, kCmosBytes> cmos_{};
  uint8_t index_ = 0;           // Port 0x70 bits 6-0.
  uint8_t extended_index_ = 0;  // Port 0x72 bits 6-0 (selects 0x80-0xff).
  bool nmi_masked_ = false;
  // Virtual ns of input clock 0; updates happen every 32768 clocks after it.
  // Signed: after a divider reset it lies half a second in the past.
  int64_t epoch_ns_ = 0;
  // Guest time (Unix seconds) at clock 0; while Counting() the time is
  // base_seconds_ + updates_done_.
  int64_t base_seconds_ = 0;
  // Update cycles accounted for (the time registers reflect them).
  uint64_t updates_done_ = 0;
  // Periodic ticks accounted for (at the current rate).
  uint64_t periodic_ticks_ = 0;
  // Weekday register minus the computed weekday, mod 7 (the chip counts the
  // weekday independently, so a guest may set any value).
  uint8_t weekday_offset_ = 0;
  bool irq_level_ = false;
  Timer update_timer_;
  Timer periodic_timer_;
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_RTC_CMOS_H_
