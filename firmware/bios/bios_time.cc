// INT 1Ah and IRQ 0: the BDA tick count (18.2 Hz from the PIT) and the
// MC146818 RTC's time and date (Ralf Brown's Interrupt List INT 1Ah;
// MC146818A datasheet for the registers and the update cycle).
#include "firmware/bios/bios_bda.h"
#include "firmware/bios/bios_services.h"

namespace x86vm {
namespace {

constexpr uint16_t kCmosIndex = 0x70;
constexpr uint16_t kCmosData = 0x71;
constexpr uint16_t kPic1Command = 0x20;
constexpr uint8_t kEoi = 0x20;
// RTC registers.
constexpr uint8_t kSeconds = 0x00;
constexpr uint8_t kMinutes = 0x02;
constexpr uint8_t kHours = 0x04;
constexpr uint8_t kDay = 0x07;
constexpr uint8_t kMonth = 0x08;
constexpr uint8_t kYear = 0x09;
constexpr uint8_t kRegA = 0x0a;
constexpr uint8_t kRegB = 0x0b;
constexpr uint8_t kCentury = 0x32;
constexpr uint8_t kRegAUip = 0x80;
constexpr uint8_t kRegBSet = 0x80;
constexpr uint8_t kRegBBinary = 0x04;
constexpr uint8_t kRegBDst = 0x01;

uint8_t ToBcd(uint8_t v) { return static_cast<uint8_t>((v / 10) << 4 | (v % 10)); }
uint8_t FromBcd(uint8_t v) { return static_cast<uint8_t>((v >> 4) * 10 + (v & 0x0f)); }

}  // namespace

uint8_t BiosServices::ReadCmos(uint8_t index) {
  env_.pio->WriteValue(kCmosIndex, 1, index);
  return static_cast<uint8_t>(env_.pio->ReadValue(kCmosData, 1));
}

void BiosServices::WriteCmos(uint8_t index, uint8_t value) {
  env_.pio->WriteValue(kCmosIndex, 1, index);
  env_.pio->WriteValue(kCmosData, 1, value);
}

bool BiosServices::RtcUpdating() { return ReadCmos(kRegA) & kRegAUip; }

void BiosServices::Irq0Timer(BiosRegs& r) {
  (void)r;
  uint32_t ticks = Read32(bda::kTicks) + 1;
  if (ticks >= bda::kTicksPerDay) {
    ticks = 0;
    Write8(bda::kMidnight, 1);
  }
  Write32(bda::kTicks, ticks);
  env_.pio->WriteValue(kPic1Command, 1, kEoi);
}

void BiosServices::Int1aTime(BiosRegs& r) {
  uint8_t reg_b = ReadCmos(kRegB);
  bool binary = reg_b & kRegBBinary;
  // Registers hold BCD for INT 1Ah whatever mode the RTC is in.
  auto get = [&](uint8_t index) {
    uint8_t v = ReadCmos(index);
    return binary ? ToBcd(v) : v;
  };
  auto put = [&](uint8_t index, uint8_t bcd) { WriteCmos(index, binary ? FromBcd(bcd) : bcd); };
  switch (r.ah()) {
    case 0x00: {  // Ticks since midnight in CX:DX, AL = midnight passed.
      uint32_t ticks = Read32(bda::kTicks);
      r.set_cx(static_cast<uint16_t>(ticks >> 16));
      r.set_dx(static_cast<uint16_t>(ticks));
      r.set_al(Read8(bda::kMidnight));
      Write8(bda::kMidnight, 0);
      r.set_cf(false);
      return;
    }
    case 0x01:
      Write32(bda::kTicks, (uint32_t{r.cx()} << 16) | r.dx());
      Write8(bda::kMidnight, 0);
      r.set_cf(false);
      return;
    case 0x02:  // RTC time: CH hours, CL minutes, DH seconds (BCD), DL DST.
    case 0x04:  // RTC date: CH century, CL year, DH month, DL day (BCD).
      if (RtcUpdating()) {
        // The update cycle takes under 2 ms; let the guest run and ask again.
        r.action = bios_abi::kActionRetry;
        return;
      }
      if (r.ah() == 0x02) {
        r.set_ch(get(kHours));
        r.set_cl(get(kMinutes));
        r.set_dh(get(kSeconds));
        r.set_dl(reg_b & kRegBDst);
      } else {
        r.set_ch(ReadCmos(kCentury));
        r.set_cl(get(kYear));
        r.set_dh(get(kMonth));
        r.set_dl(get(kDay));
      }
      r.set_ah(0);
      r.set_cf(false);
      return;
    case 0x03:
    case 0x05:
      // Stop updates while setting (register B SET), then restart them.
      WriteCmos(kRegB, reg_b | kRegBSet);
      if (r.ah() == 0x03) {
        put(kHours, r.ch());
        put(kMinutes, r.cl());
        put(kSeconds, r.dh());
        reg_b = static_cast<uint8_t>((reg_b & ~kRegBDst) | (r.dl() & kRegBDst));
      } else {
        WriteCmos(kCentury, r.ch());
        put(kYear, r.cl());
        put(kMonth, r.dh());
        put(kDay, r.dl());
      }
      WriteCmos(kRegB, reg_b & ~kRegBSet);
      r.set_ah(0);
      r.set_cf(false);
      return;
    case 0xb1:  // PCI BIOS: absent (guests probe configuration mechanism #1).
      return Unsupported(r, 0x81);
    default:
      return Unsupported(r, 0x86);
  }
}

}  // namespace x86vm
