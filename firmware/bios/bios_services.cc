// Trap dispatch, guest memory helpers and the host half of POST.
#include "firmware/bios/bios_services.h"

#include <fmt/format.h>

#include <array>

#include "firmware/bios/bios_bda.h"

namespace x86vm {
namespace {

namespace abi = bios_abi;

// COM1 and its registers (PC16550D datasheet, "Register descriptions").
constexpr uint16_t kCom1 = 0x3f8;
constexpr uint16_t kUartLcr = 3;
constexpr uint16_t kUartMcr = 4;
constexpr uint16_t kUartIer = 1;
// The i8042's ports and its "write command byte" command.
constexpr uint16_t kI8042Data = 0x60;
constexpr uint16_t kI8042Command = 0x64;
constexpr uint8_t kI8042WriteCommandByte = 0x60;
// Command byte after POST: keyboard interrupt, system flag, mouse port off,
// translation to scan code set 1 (what IRQ 1's handler expects).
constexpr uint8_t kI8042CommandByte = 0x65;
// CMOS: status register B (24-hour, BCD, no interrupts) and shutdown status.
constexpr uint8_t kCmosRegB = 0x0b;
constexpr uint8_t kCmosRegBValue = 0x02;
constexpr uint8_t kCmosShutdown = 0x0f;
// Equipment word (RBIL INT 11h): FPU, PS/2 mouse, 80x25 colour, 4 serial ports.
constexpr uint16_t kEquipmentWord = 0x0002 | 0x0004 | 0x0020 | (4 << 9);
constexpr std::array<uint16_t, 4> kComPortBases = {0x3f8, 0x2f8, 0x3e8, 0x2e8};

}  // namespace

BiosServices::BiosServices(BiosEnvironment env)
    : env_(std::move(env)), log_(Logger("bios")), unsupported_log_(32, 4096) {
  e820_ = BuildE820(*env_.memory);
}

uint8_t BiosServices::Read8(uint64_t gpa) {
  uint8_t v = 0;
  (void)env_.memory->ReadPhysical(gpa, {&v, 1});
  return v;
}

uint16_t BiosServices::Read16(uint64_t gpa) {
  uint8_t b[2] = {};
  (void)env_.memory->ReadPhysical(gpa, b);
  return static_cast<uint16_t>(b[0] | (b[1] << 8));
}

uint32_t BiosServices::Read32(uint64_t gpa) {
  return Read16(gpa) | (uint32_t{Read16(gpa + 2)} << 16);
}

void BiosServices::Write8(uint64_t gpa, uint8_t v) {
  (void)env_.memory->WritePhysical(gpa, std::span<const uint8_t>(&v, 1));
}

void BiosServices::Write16(uint64_t gpa, uint16_t v) {
  const uint8_t b[2] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8)};
  (void)env_.memory->WritePhysical(gpa, b);
}

void BiosServices::Write32(uint64_t gpa, uint32_t v) {
  Write16(gpa, static_cast<uint16_t>(v));
  Write16(gpa + 2, static_cast<uint16_t>(v >> 16));
}

uint64_t BiosServices::Linear(uint16_t segment, uint32_t offset) const {
  return ((uint64_t{segment} << 4) + offset) & env_.memory->a20_mask();
}

void BiosServices::HandleTrap(uint32_t frame_gpa) {
  std::array<uint8_t, abi::kFrameBytes> frame;
  if (!env_.memory->ReadPhysical(frame_gpa, frame)) {
    if (unsupported_log_.Allow()) log_->warn("trap frame at {:#x} is not in RAM", frame_gpa);
    return;
  }
  BiosRegs r = DecodeBiosFrame(frame);
  r.action = abi::kActionReturn;
  Dispatch(r);
  EncodeBiosFrame(r, frame);
  (void)env_.memory->WritePhysical(frame_gpa, frame);
}

void BiosServices::Dispatch(BiosRegs& r) {
  if (r.kind == abi::kKindPost) {
    Post();
    return;
  }
  switch (r.vector) {
    case 0x00:
      Fatal(r, fmt::format("divide error at {:04x}:{:04x}", r.cs, r.ip));
      return;
    case 0x06:
      Fatal(r, fmt::format("invalid opcode at {:04x}:{:04x}", r.cs, r.ip));
      return;
    case 0x08:
      Irq0Timer(r);
      return;
    case 0x09:
      Irq1Keyboard(r);
      return;
    case 0x10:
      Int10Video(r);
      return;
    case 0x11:
      Int11Equipment(r);
      return;
    case 0x12:
      Int12MemorySize(r);
      return;
    case 0x13:
      Int13Disk(r);
      return;
    case 0x15:
      Int15System(r);
      return;
    case 0x16:
      Int16Keyboard(r);
      return;
    case 0x18:
      Int18BootFailure(r);
      return;
    case 0x19:
      Int19Boot(r);
      return;
    case 0x1a:
      Int1aTime(r);
      return;
    default:
      if (unsupported_log_.Allow()) log_->warn("trap from unserviced vector {:#x}", r.vector);
      return;
  }
}

void BiosServices::Post() {
  if (board_post_) board_post_();

  // BDA: serial ports, EBDA, equipment, memory, keyboard buffer, disks.
  for (size_t i = 0; i < kComPortBases.size(); ++i) {
    Write16(bda::kComPorts + 2 * i, kComPortBases[i]);
  }
  Write16(bda::kEbdaSegment, abi::kEbdaSegment);
  Write16(bda::kEquipment, kEquipmentWord);
  Write16(bda::kMemorySizeKb, static_cast<uint16_t>(abi::kEbdaBase / 1024));
  Write16(bda::kKbdHead, bda::kKbdBufferDefault);
  Write16(bda::kKbdTail, bda::kKbdBufferDefault);
  Write16(bda::kKbdBufferStart, bda::kKbdBufferDefault);
  Write16(bda::kKbdBufferEnd, bda::kKbdBufferEndDefault);
  Write8(bda::kKbdFlags3, bda::kEnhanced);
  Write8(bda::kHardDiskCount, static_cast<uint8_t>(env_.disks.size()));
  // EBDA: its size in KiB in the first byte (RBIL MEMORY.LST "EBDA").
  Write8(abi::kEbdaBase, static_cast<uint8_t>((GuestMemory::kVgaStart - abi::kEbdaBase) / 1024));

  // COM1 at 115200 8N1, no interrupts (the console mirror). FCR stays as it
  // is: switching FIFO mode would drop input that arrived before POST.
  Bus& pio = *env_.pio;
  pio.WriteValue(kCom1 + kUartIer, 1, 0);
  pio.WriteValue(kCom1 + kUartLcr, 1, 0x80);  // DLAB.
  pio.WriteValue(kCom1 + 0, 1, 1);            // Divisor 1.
  pio.WriteValue(kCom1 + 1, 1, 0);
  pio.WriteValue(kCom1 + kUartLcr, 1, 0x03);  // 8N1.
  pio.WriteValue(kCom1 + kUartMcr, 1, 0x03);  // DTR, RTS.

  // Keyboard controller: translation to set 1, keyboard interrupt on.
  pio.WriteValue(kI8042Command, 1, kI8042WriteCommandByte);
  pio.WriteValue(kI8042Data, 1, kI8042CommandByte);

  // RTC in BCD, 24-hour mode (what INT 1Ah reports); a cold boot.
  WriteCmos(kCmosRegB, kCmosRegBValue);
  WriteCmos(kCmosShutdown, 0);

  SetVideoMode(0x03, /*clear=*/true);
  ConsoleWrite("x86vm BIOS\r\n");
}

void BiosServices::Int11Equipment(BiosRegs& r) { r.set_ax(Read16(bda::kEquipment)); }

void BiosServices::Int12MemorySize(BiosRegs& r) { r.set_ax(Read16(bda::kMemorySizeKb)); }

void BiosServices::Fatal(BiosRegs& r, std::string_view message) {
  ConsoleWrite(fmt::format("\r\nx86vm BIOS: {}; system halted.\r\n", message));
  log_->warn("{}; the guest is halted", message);
  r.action = abi::kActionHalt;
}

void BiosServices::Unsupported(BiosRegs& r, uint8_t ah_error) {
  if (unsupported_log_.Allow()) {
    log_->debug("INT {:02x}h AX={:04x}: unsupported function", r.vector, r.ax());
  }
  r.set_ah(ah_error);
  r.set_cf(true);
}

}  // namespace x86vm
