// The PIIX3 IDE function (PCI 8086:7010) with ATA hard disks, as QEMU's
// piix3-ide: two channels on the legacy ISA ports (legacy-mode prog-if 0x80,
// IRQ 14 and 15), bus master IDE (PRD scatter-gather DMA) at BAR4.
//
// References: ATA/ATAPI-6 (T13/1410D rev 3b), cited "ATA-6 <section>";
// Intel 82371FB/SB PIIX/PIIX3 datasheet, "Bus Master IDE" chapter
// (BMICx/BMISx/BMIDTPx, PRD format), cited "PIIX3 BM"; and QEMU's
// hw/ide/core.c + hw/ide/pci.c for the behaviour guests (SeaBIOS, Linux
// libata ata_piix) are known to work with.
#ifndef X86VM_DEVICES_IDE_H_
#define X86VM_DEVICES_IDE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/log.h"
#include "base/status.h"
#include "devices/bus.h"
#include "devices/disk_image.h"
#include "devices/dma.h"
#include "devices/irq.h"
#include "devices/pci.h"

namespace x86vm {

// ATA register bits the controller and its tests share (ATA-6 7.x).
namespace ata {
// Status register (ATA-6 7.15.6).
inline constexpr uint8_t kStatusErr = 0x01;
inline constexpr uint8_t kStatusDrq = 0x08;
inline constexpr uint8_t kStatusDsc = 0x10;  // Seek complete (obsolete, still expected).
inline constexpr uint8_t kStatusDf = 0x20;
inline constexpr uint8_t kStatusDrdy = 0x40;
inline constexpr uint8_t kStatusBsy = 0x80;
// Error register (ATA-6 7.9).
inline constexpr uint8_t kErrorAbrt = 0x04;
inline constexpr uint8_t kErrorIdnf = 0x10;
inline constexpr uint8_t kErrorUnc = 0x40;
// Device control register (ATA-6 7.8).
inline constexpr uint8_t kControlNien = 0x02;
inline constexpr uint8_t kControlSrst = 0x04;
inline constexpr uint8_t kControlHob = 0x80;
// Device register (ATA-6 7.10).
inline constexpr uint8_t kDeviceLba = 0x40;
inline constexpr uint8_t kDeviceDev = 0x10;
// Bus master command and status registers (PIIX3 BM: BMICx, BMISx).
inline constexpr uint8_t kBmCommandStart = 0x01;
inline constexpr uint8_t kBmCommandWriteToMemory = 0x08;
inline constexpr uint8_t kBmStatusActive = 0x01;
inline constexpr uint8_t kBmStatusError = 0x02;
inline constexpr uint8_t kBmStatusInterrupt = 0x04;
}  // namespace ata

// PCI function "piix3-ide" (00:01.1 on QEMU's pc board). The legacy command
// and control blocks are fixed ISA windows the board registers itself (they
// decode regardless of PCI Command.IO, as in QEMU); BAR4 moves with the
// guest's PCI programming. Commands complete synchronously inside the port
// write that issues them; the interrupt is raised where ATA-6 puts it.
class Piix3Ide : public PciFunction {
 public:
  static constexpr int kChannels = 2;
  static constexpr int kDrivesPerChannel = 2;
  // Legacy command block bases (8 ports each), control ports (1 port each:
  // 0x3F7/0x377 belong to the floppy controller) and ISA IRQs per channel.
  static constexpr std::array<uint16_t, kChannels> kCommandBlockBase = {0x1f0, 0x170};
  static constexpr uint64_t kCommandBlockBytes = 8;
  static constexpr std::array<uint16_t, kChannels> kControlPort = {0x3f6, 0x376};
  static constexpr uint64_t kControlBlockBytes = 1;
  static constexpr std::array<int, kChannels> kIsaIrq = {14, 15};
  // Bus master IDE registers: BAR4, 16 bytes of I/O (8 per channel).
  static constexpr int kBusMasterBar = 4;
  static constexpr uint32_t kBusMasterBytes = 16;
  // READ/WRITE MULTIPLE block limit (IDENTIFY word 47), QEMU's MAX_MULT_SECTORS.
  static constexpr uint32_t kMaxMultipleSectors = 16;

  // `memory` is what bus-master DMA reads and writes (null: every DMA
  // faults); `primary_irq`/`secondary_irq` are ISA IRQ 14 and 15 (null:
  // unwired). All must outlive the function.
  Piix3Ide(DmaMemory* memory, IrqLine* primary_irq, IrqLine* secondary_irq);
  // Closes the attached disk images.
  ~Piix3Ide() override;

  // Attaches an ATA hard disk as `unit` (0 master, 1 slave) of `channel`
  // (0 primary, 1 secondary). Fails on a bad or occupied position.
  Result<> AttachDisk(int channel, int unit, std::unique_ptr<DiskImage> disk);
  // The disk at that position, or nullptr.
  DiskImage* disk(int channel, int unit) const;

  // The command block window of `channel` (register at kCommandBlockBase,
  // kCommandBlockBytes) and its control window (kControlPort, 1 byte).
  BusTarget* command_block(int channel) { return &channels_[channel & 1].command_target; }
  BusTarget* control_block(int channel) { return &channels_[channel & 1].control_target; }

  // What firmware leaves for the OS (SeaBIOS's piix_ide_setup): both
  // channels' decode enabled in IDETIM (40h/42h bit 15, Intel 82371SB
  // datasheet 2.4.4; 0 at reset). Linux's ata_piix skips a channel without
  // it. For boots that run no firmware (--kernel).
  void EnableChannelDecode();

  // Power-on state: PCI config, both channels, every drive's settings.
  void Reset() override;
  // Config space, task files, PIO buffers and bus master registers.
  void Serialize(Serializer& s) override;

 private:
  // What a drive's current data transfer is (the data phase of a command).
  enum class Transfer : uint8_t {
    kNone,
    kIdentify,   // PIO in, 512 bytes.
    kPioRead,    // PIO in, block by block.
    kPioWrite,   // PIO out, block by block.
    kDmaRead,    // Disk to memory through the bus master.
    kDmaWrite,   // Memory to disk through the bus master.
  };
  static constexpr size_t kBufferBytes = kMaxMultipleSectors * DiskImage::kSectorBytes;

  struct Drive {
    std::unique_ptr<DiskImage> disk;
    // Default CHS geometry (IDENTIFY words 1/3/6), fixed at attach.
    uint16_t default_cylinders = 0;
    uint8_t default_heads = 16;
    uint8_t default_sectors = 63;
    // Task file (ATA-6 7.x); the hob_ copies hold the previous write for LBA48.
    uint8_t feature = 0, hob_feature = 0;
    uint8_t nsector = 0, hob_nsector = 0;
    uint8_t sector = 0, hob_sector = 0;
    uint8_t lcyl = 0, hob_lcyl = 0;
    uint8_t hcyl = 0, hob_hcyl = 0;
    uint8_t select = 0xa0;
    uint8_t status = 0;
    uint8_t error = 0;
    // Logical geometry from INITIALIZE DEVICE PARAMETERS (reverts on reset).
    uint8_t heads = 16;
    uint8_t sectors_per_track = 63;
    uint8_t multiple_sectors = kMaxMultipleSectors;  // 0: multiple mode off.
    bool write_cache = true;
    uint8_t transfer_mode = 0;  // SET FEATURES 03h value.
    // The data phase in progress.
    Transfer transfer = Transfer::kNone;
    bool lba48 = false;          // The command uses 48-bit addressing.
    uint64_t next_sector = 0;        // Next LBA to move to or from the disk.
    uint32_t remaining_sectors = 0;  // Sectors not yet moved to or from the disk.
    uint32_t block_sectors = 1;  // Sectors per DRQ block.
    uint32_t buffer_pos = 0;     // PIO: next byte of buffer.
    uint32_t buffer_end = 0;     // PIO: end of the current block.
    std::array<uint8_t, kBufferBytes> buffer{};
  };

  struct Channel {
    int index = 0;
    IrqLine* irq = nullptr;
    std::array<Drive, kDrivesPerChannel> drives;
    uint8_t unit = 0;          // Selected drive (Device register DEV bit).
    uint8_t control = 0;       // Device control register.
    bool irq_pending = false;  // INTRQ before the nIEN gate.
    bool irq_driven = false;   // Level last put on the wire (derived).
    // Bus master IDE (PIIX3 BM).
    uint8_t bm_command = 0;
    uint8_t bm_status = 0;
    uint32_t bm_prd_table = 0;
    bool dma_pending = false;  // A DMA command waits for the engine.
    uint8_t dma_unit = 0;      // The drive that issued it.
    FunctionBusTarget command_target{nullptr, nullptr};
    FunctionBusTarget control_target{nullptr, nullptr};
  };

  // Where a DMA transfer is in the PRD table.
  struct PrdCursor {
    uint64_t table = 0;       // Next descriptor's address.
    uint32_t fetched = 0;     // Descriptors read so far.
    uint64_t address = 0;     // Current region's next byte.
    uint32_t remaining = 0;   // Bytes left in the current region.
    bool last = false;        // The current region has EOT set.
  };
  enum class DmaResult : uint8_t { kOk, kTableShort, kFault };

  bool present(const Channel& ch, int unit) const {
    return ch.drives[static_cast<size_t>(unit)].disk != nullptr;
  }
  Drive& selected(Channel& ch) { return ch.drives[ch.unit]; }

  // Register file.
  uint64_t ReadCommandBlock(Channel& ch, uint64_t offset, size_t size);
  void WriteCommandBlock(Channel& ch, uint64_t offset, size_t size, uint64_t value);
  uint8_t ReadRegister(Channel& ch, uint64_t reg);
  void WriteRegister(Channel& ch, uint64_t reg, uint8_t value);
  uint8_t ReadAltStatus(Channel& ch);
  void WriteControl(Channel& ch, uint8_t value);
  uint16_t ReadDataWord(Channel& ch);
  void WriteDataWord(Channel& ch, uint16_t value);

  // Resets: the whole controller (power-on), and one drive (power-on or SRST).
  void ResetController();
  void ResetDrive(Drive& d, bool power_on);
  void SetSignature(Drive& d);

  // Interrupts.
  void RaiseIrq(Channel& ch);
  void UpdateIrqLine(Channel& ch, bool force = false);

  // Commands.
  void ExecuteCommand(Channel& ch, uint8_t command);
  void CompleteOk(Channel& ch, Drive& d);
  void Abort(Channel& ch, Drive& d, uint8_t error, uint8_t extra_status = 0);
  bool StartTransfer(Channel& ch, Drive& d, bool lba48, bool write);
  void StartPioReadBlock(Channel& ch, Drive& d);
  void StartPioWriteBlock(Drive& d);
  void FinishPioBlock(Channel& ch, Drive& d);
  void CommandIdentify(Channel& ch, Drive& d);
  void CommandSetFeatures(Channel& ch, Drive& d);
  void CommandReadNativeMax(Channel& ch, Drive& d, bool lba48);
  void CommandDiagnostic(Channel& ch);
  void BuildIdentify(const Channel& ch, int unit, std::span<uint8_t, 512> out) const;

  // Addressing (ATA-6 6.2: CHS, LBA28, LBA48).
  bool CurrentSector(const Drive& d, uint64_t* lba) const;
  void SetCurrentSector(Drive& d, uint64_t lba);
  void UpdateProgress(Drive& d);

  // Bus master.
  uint64_t ReadBusMaster(uint64_t offset, size_t size);
  void WriteBusMaster(uint64_t offset, size_t size, uint64_t value);
  void WriteBmCommand(Channel& ch, uint8_t value);
  void RunDma(Channel& ch);
  DmaResult MoveDma(PrdCursor& cursor, std::span<uint8_t> bytes, bool to_memory);
  void DmaFault(Channel& ch, Drive& d);

  DmaMemory* memory_;
  std::array<Channel, kChannels> channels_;
  FunctionBusTarget bus_master_target_;
  std::shared_ptr<spdlog::logger> log_;
  RateLimiter command_log_;
  RateLimiter error_log_;
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_IDE_H_
