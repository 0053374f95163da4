// The host half of the builtin BIOS: every interrupt service the guest
// stubs trap to (bios_abi.h), written against guest RAM, the port I/O bus,
// the virtual clock and the disk images. It keeps no state of its own
// between traps: the BIOS's variables live in the BDA/EBDA like on a PC.
//
// Services (AH = function unless noted):
//   INT 10h  00 set mode (text modes 0-3), 01/02/03 cursor shape/position,
//            05 page, 06/07 scroll, 08/09/0A read/write char, 0E teletype,
//            0F get mode, 12h/BL=10h and 1Ah display info, 13h write string;
//            text goes to the VGA buffer at B8000h and, for 0E/13h, to COM1.
//   INT 11h  equipment word; INT 12h  conventional memory size.
//   INT 13h  00 01 02 03 04 08 0C 0D 10 11 14 15 and the EDD 3.0
//            extensions 41h-44h 47h 48h, on the --disk images (DL = 80h..).
//   INT 15h  24h A20, 4Fh, 86h wait, 87h block move, 88h, 90h/91h, C0h, C1h,
//            E801h, E820h.
//   INT 16h  00/10 read, 01/11 peek, 02/12 shift flags, 05 store; keys from
//            IRQ 1 (set 1 scan codes) and from COM1 input.
//   INT 1Ah  00/01 tick count, 02-05 RTC time and date.
//   INT 18h/19h  boot the first disk's MBR at 0:7C00 (DL = 80h).
//   IRQ 0 (tick count), IRQ 1 (keyboard), divide error and invalid opcode
//   (reported on the console; the CPU halts).
#ifndef X86VM_FIRMWARE_BIOS_BIOS_SERVICES_H_
#define X86VM_FIRMWARE_BIOS_BIOS_SERVICES_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "base/log.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/disk_image.h"
#include "firmware/bios/bios_regs.h"
#include "firmware/e820.h"
#include "machine/guest_memory.h"

namespace x86vm {

// A hard disk as the BIOS numbers it (80h + index) and where it is on the
// IDE controller (for the EDD 3.0 device path).
struct BiosDisk {
  DiskImage* image = nullptr;
  uint8_t channel = 0;  // 0 primary, 1 secondary.
  uint8_t unit = 0;     // 0 master, 1 slave.
};

// What the services work on; everything borrowed, outliving the services.
struct BiosEnvironment {
  GuestMemory* memory = nullptr;
  Bus* pio = nullptr;
  VirtualClock* clock = nullptr;
  std::vector<BiosDisk> disks;
  // PCI address of the IDE controller the disks sit on.
  uint8_t ide_pci_device = 1;
  uint8_t ide_pci_function = 1;
};

// CHS geometry of a disk as INT 13h presents it (LBA-assisted translation).
struct BiosGeometry {
  uint32_t cylinders;
  uint32_t heads;
  uint32_t sectors_per_track;
};

// The translation for a disk of `sectors`: 16 heads and 63 sectors while
// the cylinders fit 1024, then 32, 64, 128 and 255 heads (the
// "LBA-assisted" scheme of BIOSes since the 1990s); cylinders capped at
// 1024 only by INT 13h AH=08h, which cannot report more.
BiosGeometry BiosDiskGeometry(uint64_t sectors);

class BiosServices {
 public:
  explicit BiosServices(BiosEnvironment env);

  // Serves the trap whose frame starts at guest-physical `frame_gpa`
  // (the value the stub wrote to bios_abi::kTrapPort). A frame outside RAM
  // is logged and ignored.
  void HandleTrap(uint32_t frame_gpa);
  // Serves one call on decoded registers (HandleTrap's core; tests call it).
  void Dispatch(BiosRegs& r);

  // Board-specific POST work (PCI, ACPI tables) run at the start of the
  // host half of POST, before the BDA is filled.
  void set_board_post(std::function<void()> fn) { board_post_ = std::move(fn); }
  // The E820 map INT 15h reports (set by the board's POST after installing
  // ACPI tables; default: BuildE820 of the memory alone).
  void set_e820(std::vector<E820Entry> map) { e820_ = std::move(map); }
  const std::vector<E820Entry>& e820() const { return e820_; }

  // The host half of POST: BDA/EBDA, COM1, keyboard controller, CMOS,
  // video mode 3 and the banner.
  void Post();
  // Writes text to the console like INT 10h AH=0Eh (VGA and COM1).
  void ConsoleWrite(std::string_view text);

  // One service per vector.
  void Int10Video(BiosRegs& r);
  void Int11Equipment(BiosRegs& r);
  void Int12MemorySize(BiosRegs& r);
  void Int13Disk(BiosRegs& r);
  void Int15System(BiosRegs& r);
  void Int16Keyboard(BiosRegs& r);
  void Int18BootFailure(BiosRegs& r);
  void Int19Boot(BiosRegs& r);
  void Int1aTime(BiosRegs& r);
  void Irq0Timer(BiosRegs& r);
  void Irq1Keyboard(BiosRegs& r);

  // Guest memory helpers (physical addresses; failed reads give 0).
  uint8_t Read8(uint64_t gpa);
  uint16_t Read16(uint64_t gpa);
  uint32_t Read32(uint64_t gpa);
  void Write8(uint64_t gpa, uint8_t v);
  void Write16(uint64_t gpa, uint16_t v);
  void Write32(uint64_t gpa, uint32_t v);
  // A real-mode address (segment:offset) as physical, through the A20 gate.
  uint64_t Linear(uint16_t segment, uint32_t offset) const;

 private:
  // Video.
  struct Cursor {
    uint8_t row;
    uint8_t col;
  };
  uint8_t columns();
  uint8_t rows();
  Cursor GetCursor(uint8_t page);
  void SetCursor(uint8_t page, Cursor c);
  uint64_t CellAddress(uint8_t page, uint8_t row, uint8_t col);
  void SetVideoMode(uint8_t mode, bool clear);
  void Scroll(uint8_t page, int lines, uint8_t attr, uint8_t top, uint8_t left, uint8_t bottom,
              uint8_t right, bool up);
  void Teletype(uint8_t ch, uint8_t page, bool to_serial);
  void WriteCells(uint8_t page, uint8_t ch, std::optional<uint8_t> attr, uint16_t count);
  void SerialPut(uint8_t ch);

  // Disks.
  const BiosDisk* HardDisk(uint8_t drive) const;
  void DiskDone(BiosRegs& r, uint8_t status);
  uint8_t TransferSectors(const BiosDisk& d, uint64_t lba, uint32_t count, uint64_t buffer,
                          bool write, uint32_t* done);
  void DiskChs(BiosRegs& r, const BiosDisk& d, uint8_t function);
  void DiskExtended(BiosRegs& r, const BiosDisk& d, uint8_t function);
  void DiskParameters(BiosRegs& r, const BiosDisk& d);

  // System.
  void E820(BiosRegs& r);
  void BlockMove(BiosRegs& r);
  void Wait(BiosRegs& r);
  void A20(BiosRegs& r);
  uint64_t ExtendedMemoryEnd() const;

  // Keyboard.
  std::pair<uint16_t, uint16_t> KeyBufferBounds();
  bool KeyBufferFull();
  bool PushKey(uint16_t key);
  std::optional<uint16_t> PeekKey(bool remove);
  void PollSerialInput();
  void ProcessScanCode(uint8_t code);

  // Time.
  uint8_t ReadCmos(uint8_t index);
  void WriteCmos(uint8_t index, uint8_t value);
  bool RtcUpdating();

  // Messages from the BIOS itself, then a halt.
  void Fatal(BiosRegs& r, std::string_view message);
  void Unsupported(BiosRegs& r, uint8_t ah_error);

  BiosEnvironment env_;
  std::vector<E820Entry> e820_;
  std::function<void()> board_post_;
  std::shared_ptr<spdlog::logger> log_;
  RateLimiter unsupported_log_;
};

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_BIOS_BIOS_SERVICES_H_
