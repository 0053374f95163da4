#include "devices/ide.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <vector>

namespace x86vm {
namespace {

using namespace ata;

// Command block register offsets (ATA-6 7.1, Table 16).
constexpr uint64_t kRegData = 0;
constexpr uint64_t kRegErrorFeature = 1;
constexpr uint64_t kRegSectorCount = 2;
constexpr uint64_t kRegLbaLow = 3;  // Sector number in CHS mode.
constexpr uint64_t kRegLbaMid = 4;  // Cylinder low.
constexpr uint64_t kRegLbaHigh = 5;  // Cylinder high.
constexpr uint64_t kRegDevice = 6;
constexpr uint64_t kRegStatusCommand = 7;

// Device register: bits 7 and 5 are obsolete and read as one (QEMU's
// ATA_DEV_ALWAYS_ON); bits 3:0 are the head or LBA bits 27:24.
constexpr uint8_t kDeviceAlwaysOn = 0xa0;
constexpr uint8_t kDeviceHead = 0x0f;

// The status of an idle, ready drive: DRDY and the obsolete DSC, which
// QEMU sets and old drivers wait for.
constexpr uint8_t kStatusReady = kStatusDrdy | kStatusDsc;

// ATA command opcodes (ATA-6 8.x and Annex B).
constexpr uint8_t kCmdReadSectors = 0x20;
constexpr uint8_t kCmdReadSectorsNoRetry = 0x21;  // Obsolete alias.
constexpr uint8_t kCmdReadSectorsExt = 0x24;
constexpr uint8_t kCmdReadDmaExt = 0x25;
constexpr uint8_t kCmdReadNativeMaxExt = 0x27;
constexpr uint8_t kCmdReadMultipleExt = 0x29;
constexpr uint8_t kCmdWriteSectors = 0x30;
constexpr uint8_t kCmdWriteSectorsNoRetry = 0x31;
constexpr uint8_t kCmdWriteSectorsExt = 0x34;
constexpr uint8_t kCmdWriteDmaExt = 0x35;
constexpr uint8_t kCmdWriteMultipleExt = 0x39;
constexpr uint8_t kCmdReadVerify = 0x40;
constexpr uint8_t kCmdReadVerifyNoRetry = 0x41;
constexpr uint8_t kCmdReadVerifyExt = 0x42;
constexpr uint8_t kCmdExecuteDiagnostic = 0x90;
constexpr uint8_t kCmdInitializeParameters = 0x91;
constexpr uint8_t kCmdPacket = 0xa0;
constexpr uint8_t kCmdIdentifyPacket = 0xa1;
constexpr uint8_t kCmdReadMultiple = 0xc4;
constexpr uint8_t kCmdWriteMultiple = 0xc5;
constexpr uint8_t kCmdSetMultiple = 0xc6;
constexpr uint8_t kCmdReadDma = 0xc8;
constexpr uint8_t kCmdReadDmaNoRetry = 0xc9;
constexpr uint8_t kCmdWriteDma = 0xca;
constexpr uint8_t kCmdWriteDmaNoRetry = 0xcb;
constexpr uint8_t kCmdCheckPowerMode = 0xe5;
constexpr uint8_t kCmdCheckPowerModeOld = 0x98;
constexpr uint8_t kCmdFlushCache = 0xe7;
constexpr uint8_t kCmdFlushCacheExt = 0xea;
constexpr uint8_t kCmdIdentify = 0xec;
constexpr uint8_t kCmdSetFeatures = 0xef;
constexpr uint8_t kCmdReadNativeMax = 0xf8;

// SET FEATURES subcommands (ATA-6 8.36, Table 43).
constexpr uint8_t kFeatureEnableWriteCache = 0x02;
constexpr uint8_t kFeatureSetTransferMode = 0x03;
constexpr uint8_t kFeatureDisableWriteCache = 0x82;

// What QEMU's IDENTIFY reports as selected before any SET FEATURES: UDMA5.
constexpr uint8_t kDefaultTransferMode = 0x45;

// PIIX3 BM: a descriptor is 8 bytes; QEMU stops walking a table after one
// 4 KiB page (512 descriptors) as a fail-safe against tables without EOT.
constexpr uint32_t kMaxPrdEntries = 512;
constexpr uint32_t kPrdEot = 0x80000000u;
// DMA moves at most this many sectors per host read/write (64 KiB).
constexpr uint32_t kDmaChunkSectors = 128;

constexpr uint64_t kSector = DiskImage::kSectorBytes;
constexpr uint32_t kLba28Max = 0x0fffffff;

uint32_t LoadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

// ATA-6 8.15.x: strings are space padded and each word holds two characters
// with the first in the high byte, i.e. byte-swapped in memory.
void PutAtaString(std::span<uint8_t, 512> out, int first_word, std::string_view text,
                  size_t length_chars) {
  for (size_t i = 0; i < length_chars; ++i) {
    const char c = i < text.size() ? text[i] : ' ';
    out[static_cast<size_t>(first_word) * 2 + (i ^ 1)] = static_cast<uint8_t>(c);
  }
}

}  // namespace

Piix3Ide::Piix3Ide(DmaMemory* memory, IrqLine* primary_irq, IrqLine* secondary_irq)
    : PciFunction("piix3-ide"),
      memory_(memory),
      bus_master_target_(
          [this](uint64_t offset, size_t size) { return ReadBusMaster(offset, size); },
          [this](uint64_t offset, size_t size, uint64_t value) {
            WriteBusMaster(offset, size, value);
          }),
      log_(Logger("ide")) {
  // PIIX3 datasheet, IDE function 1 header: 8086:7010, mass storage / IDE,
  // prog-if 80h (bus master capable, both channels in compatibility mode,
  // not switchable), PCISTS 0280h (medium DEVSEL timing, fast back-to-back).
  // No INTx pin: the legacy channels use ISA IRQ 14/15.
  SetIds(0x8086, 0x7010);
  SetClass(0x01, 0x01, 0x80);
  SetSubsystem(0x1af4, 0x1100);  // QEMU's default subsystem IDs.
  SetConfig16(pci_config::kStatus, 0x0280);
  DefineIoBar(kBusMasterBar, kBusMasterBytes, &bus_master_target_);

  for (int i = 0; i < kChannels; ++i) {
    Channel& ch = channels_[static_cast<size_t>(i)];
    ch.index = i;
    ch.irq = i == 0 ? primary_irq : secondary_irq;
    ch.command_target = FunctionBusTarget(
        [this, &ch](uint64_t offset, size_t size) { return ReadCommandBlock(ch, offset, size); },
        [this, &ch](uint64_t offset, size_t size, uint64_t value) {
          WriteCommandBlock(ch, offset, size, value);
        });
    ch.control_target = FunctionBusTarget(
        [this, &ch](uint64_t offset, size_t size) -> uint64_t {
          // The alternate status register; a wider access is not decoded.
          return offset == 0 && size == 1 ? ReadAltStatus(ch) : ~0ull;
        },
        [this, &ch](uint64_t offset, size_t size, uint64_t value) {
          if (offset == 0 && size == 1) WriteControl(ch, static_cast<uint8_t>(value));
        });
  }
  ResetController();
}

Piix3Ide::~Piix3Ide() = default;

Result<> Piix3Ide::AttachDisk(int channel, int unit, std::unique_ptr<DiskImage> disk) {
  if (channel < 0 || channel >= kChannels || unit < 0 || unit >= kDrivesPerChannel) {
    return Fail("ide: no position {}:{} (channel 0-1, unit 0-1)", channel, unit);
  }
  if (disk == nullptr) return Fail("ide: no disk given for {}:{}", channel, unit);
  Drive& d = channels_[static_cast<size_t>(channel)].drives[static_cast<size_t>(unit)];
  if (d.disk != nullptr) {
    return Fail("ide: position {}:{} already holds '{}'", channel, unit, d.disk->path());
  }
  d.disk = std::move(disk);
  // QEMU's guess_chs_for_size: 16 heads, 63 sectors, 2-16383 cylinders.
  const uint64_t cylinders = d.disk->sector_count() / (16 * 63);
  d.default_cylinders = static_cast<uint16_t>(std::clamp<uint64_t>(cylinders, 2, 16383));
  d.default_heads = 16;
  d.default_sectors = 63;
  ResetDrive(d, /*power_on=*/true);
  return {};
}

DiskImage* Piix3Ide::disk(int channel, int unit) const {
  if (channel < 0 || channel >= kChannels || unit < 0 || unit >= kDrivesPerChannel) {
    return nullptr;
  }
  return channels_[static_cast<size_t>(channel)].drives[static_cast<size_t>(unit)].disk.get();
}

// ---------------------------------------------------------------------------
// Resets

void Piix3Ide::Reset() {
  PciFunction::Reset();
  ResetController();
}

void Piix3Ide::EnableChannelDecode() {
  constexpr std::array<uint8_t, kChannels> kIdeTim = {0x40, 0x42};
  constexpr uint16_t kIdeTimDecodeEnable = 0x8000;
  for (uint8_t offset : kIdeTim) WriteConfig(offset, 2, kIdeTimDecodeEnable);
}

void Piix3Ide::ResetController() {
  for (Channel& ch : channels_) {
    ch.unit = 0;
    ch.control = 0;
    ch.irq_pending = false;
    ch.bm_command = 0;
    ch.bm_status = 0;
    ch.bm_prd_table = 0;
    ch.dma_pending = false;
    ch.dma_unit = 0;
    for (Drive& d : ch.drives) ResetDrive(d, /*power_on=*/true);
    UpdateIrqLine(ch, /*force=*/true);
  }
}

void Piix3Ide::SetSignature(Drive& d) {
  // ATA-6 9.12: after a reset or EXECUTE DEVICE DIAGNOSTIC an ATA device
  // leaves count 01h, LBA 00 00 01h. QEMU shows FFFFh for an absent device.
  d.select &= static_cast<uint8_t>(~kDeviceHead);
  d.nsector = 1;
  d.sector = 1;
  d.lcyl = d.disk != nullptr ? 0x00 : 0xff;
  d.hcyl = d.disk != nullptr ? 0x00 : 0xff;
}

void Piix3Ide::ResetDrive(Drive& d, bool power_on) {
  d.feature = d.hob_feature = 0;
  d.nsector = d.hob_nsector = 0;
  d.sector = d.hob_sector = 0;
  d.lcyl = d.hob_lcyl = 0;
  d.hcyl = d.hob_hcyl = 0;
  d.select = kDeviceAlwaysOn;
  SetSignature(d);
  d.error = 0x01;  // Diagnostic code 01h: device passed.
  d.status = kStatusReady;
  // QEMU's ide_reset: SRST also reverts INITIALIZE DEVICE PARAMETERS and
  // the multiple count; the write cache and transfer mode survive it.
  d.heads = d.default_heads;
  d.sectors_per_track = d.default_sectors;
  d.multiple_sectors = kMaxMultipleSectors;
  d.transfer = Transfer::kNone;
  d.lba48 = false;
  d.next_sector = 0;
  d.remaining_sectors = 0;
  d.block_sectors = 1;
  d.buffer_pos = 0;
  d.buffer_end = 0;
  d.buffer.fill(0);
  if (power_on) {
    d.write_cache = true;
    d.transfer_mode = kDefaultTransferMode;
  }
}

// ---------------------------------------------------------------------------
// Interrupts

void Piix3Ide::RaiseIrq(Channel& ch) {
  // QEMU ide_bus_set_irq: with nIEN set the device does not interrupt at
  // all. PIIX3 BM: IDEINTS records every interrupt the device asserts.
  if (ch.control & kControlNien) return;
  ch.irq_pending = true;
  ch.bm_status |= kBmStatusInterrupt;
  UpdateIrqLine(ch);
}

void Piix3Ide::UpdateIrqLine(Channel& ch, bool force) {
  // ATA-6 7.8: nIEN puts INTRQ in high impedance, so it also masks an
  // interrupt that is already pending.
  const bool level = ch.irq_pending && !(ch.control & kControlNien);
  if (ch.irq != nullptr && (force || level != ch.irq_driven)) ch.irq->SetLevel(level);
  ch.irq_driven = level;
}

// ---------------------------------------------------------------------------
// Register file

uint64_t Piix3Ide::ReadCommandBlock(Channel& ch, uint64_t offset, size_t size) {
  if (offset == kRegData) {
    // 16- and 32-bit PIO through the data register; QEMU does not decode
    // 8-bit data accesses (CFA only) and reads them as FFh.
    if (size == 1) return 0xff;
    uint64_t value = 0;
    for (size_t w = 0; w < size / 2; ++w) {
      value |= static_cast<uint64_t>(ReadDataWord(ch)) << (16 * w);
    }
    return value;
  }
  uint64_t value = 0;
  for (size_t i = 0; i < size; ++i) {
    value |= static_cast<uint64_t>(ReadRegister(ch, (offset + i) & 7)) << (8 * i);
  }
  return value;
}

void Piix3Ide::WriteCommandBlock(Channel& ch, uint64_t offset, size_t size, uint64_t value) {
  if (offset == kRegData) {
    if (size == 1) return;
    for (size_t w = 0; w < size / 2; ++w) {
      WriteDataWord(ch, static_cast<uint16_t>(value >> (16 * w)));
    }
    return;
  }
  for (size_t i = 0; i < size; ++i) {
    WriteRegister(ch, (offset + i) & 7, static_cast<uint8_t>(value >> (8 * i)));
  }
}

uint8_t Piix3Ide::ReadRegister(Channel& ch, uint64_t reg) {
  const Drive& d = selected(ch);
  // QEMU ide_ioport_read: a channel without drives reads 00h everywhere
  // (probes see no device at once); a selected absent slave reads 00h in
  // Status and Error (ATA-6 9.16.1: device 0 answers for an absent device 1).
  const bool no_drives = !present(ch, 0) && !present(ch, 1);
  const bool absent = no_drives || (ch.unit == 1 && !present(ch, 1));
  const bool hob = ch.control & kControlHob;
  switch (reg) {
    case kRegData:
      return 0xff;
    case kRegErrorFeature:
      return absent ? 0 : (hob ? d.hob_feature : d.error);
    case kRegSectorCount:
      return no_drives ? 0 : (hob ? d.hob_nsector : d.nsector);
    case kRegLbaLow:
      return no_drives ? 0 : (hob ? d.hob_sector : d.sector);
    case kRegLbaMid:
      return no_drives ? 0 : (hob ? d.hob_lcyl : d.lcyl);
    case kRegLbaHigh:
      return no_drives ? 0 : (hob ? d.hob_hcyl : d.hcyl);
    case kRegDevice:
      return no_drives ? 0 : d.select;
    default: {
      // ATA-6 7.15: reading Status clears a pending interrupt.
      const uint8_t status = absent ? 0 : d.status;
      ch.irq_pending = false;
      UpdateIrqLine(ch);
      return status;
    }
  }
}

uint8_t Piix3Ide::ReadAltStatus(Channel& ch) {
  const bool no_drives = !present(ch, 0) && !present(ch, 1);
  if (no_drives || (ch.unit == 1 && !present(ch, 1))) return 0;
  return selected(ch).status;
}

void Piix3Ide::WriteRegister(Channel& ch, uint64_t reg, uint8_t value) {
  if (reg == kRegData) return;  // 8-bit data writes are not decoded.
  // ATA-6 7.8: writing any command block register clears HOB.
  ch.control &= static_cast<uint8_t>(~kControlHob);
  // Both devices latch task file writes; each keeps the previous value for
  // the 48-bit "previous content" (HOB) half (ATA-6 6.20).
  for (Drive& d : ch.drives) {
    switch (reg) {
      case kRegErrorFeature:
        d.hob_feature = d.feature;
        d.feature = value;
        break;
      case kRegSectorCount:
        d.hob_nsector = d.nsector;
        d.nsector = value;
        break;
      case kRegLbaLow:
        d.hob_sector = d.sector;
        d.sector = value;
        break;
      case kRegLbaMid:
        d.hob_lcyl = d.lcyl;
        d.lcyl = value;
        break;
      case kRegLbaHigh:
        d.hob_hcyl = d.hcyl;
        d.hcyl = value;
        break;
      case kRegDevice:
        d.select = value | kDeviceAlwaysOn;
        break;
      default:
        break;
    }
  }
  if (reg == kRegDevice) {
    ch.unit = (value & kDeviceDev) ? 1 : 0;
  } else if (reg == kRegStatusCommand) {
    // Writing Command clears a pending interrupt (ATA-6 5.2.9).
    ch.irq_pending = false;
    UpdateIrqLine(ch);
    ExecuteCommand(ch, value);
  }
}

void Piix3Ide::WriteControl(Channel& ch, uint8_t value) {
  const bool was_reset = ch.control & kControlSrst;
  const bool reset = value & kControlSrst;
  ch.control = value;
  if (!was_reset && reset) {
    // ATA-6 9.2: while SRST is set both devices are busy and abandon any
    // command in progress, including a DMA waiting for the bus master.
    for (Drive& d : ch.drives) {
      d.status = kStatusBsy;
      d.transfer = Transfer::kNone;
      d.buffer_pos = d.buffer_end = 0;
    }
    ch.dma_pending = false;
    ch.irq_pending = false;
  } else if (was_reset && !reset) {
    // ATA-6 9.2: when SRST clears, each device resets and posts its
    // signature with DRDY; device 0 is selected. No interrupt follows.
    for (Drive& d : ch.drives) ResetDrive(d, /*power_on=*/false);
    ch.unit = 0;
  }
  UpdateIrqLine(ch);
}

uint16_t Piix3Ide::ReadDataWord(Channel& ch) {
  Drive& d = selected(ch);
  // QEMU ide_data_readw: outside a PIO data-in phase the register reads 0
  // and nothing moves.
  if (!(d.status & kStatusDrq) ||
      (d.transfer != Transfer::kIdentify && d.transfer != Transfer::kPioRead) ||
      d.buffer_pos + 2 > d.buffer_end) {
    return 0;
  }
  const uint16_t value =
      static_cast<uint16_t>(d.buffer[d.buffer_pos] | d.buffer[d.buffer_pos + 1] << 8);
  d.buffer_pos += 2;
  if (d.buffer_pos >= d.buffer_end) FinishPioBlock(ch, d);
  return value;
}

void Piix3Ide::WriteDataWord(Channel& ch, uint16_t value) {
  Drive& d = selected(ch);
  if (!(d.status & kStatusDrq) || d.transfer != Transfer::kPioWrite ||
      d.buffer_pos + 2 > d.buffer_end) {
    return;
  }
  d.buffer[d.buffer_pos] = static_cast<uint8_t>(value);
  d.buffer[d.buffer_pos + 1] = static_cast<uint8_t>(value >> 8);
  d.buffer_pos += 2;
  if (d.buffer_pos >= d.buffer_end) FinishPioBlock(ch, d);
}

// ---------------------------------------------------------------------------
// Addressing

bool Piix3Ide::CurrentSector(const Drive& d, uint64_t* lba) const {
  if (d.lba48) {
    // ATA-6 6.20: LBA 47:24 come from the previous register contents.
    *lba = static_cast<uint64_t>(d.hob_hcyl) << 40 | static_cast<uint64_t>(d.hob_lcyl) << 32 |
           static_cast<uint64_t>(d.hob_sector) << 24 | static_cast<uint64_t>(d.hcyl) << 16 |
           static_cast<uint64_t>(d.lcyl) << 8 | d.sector;
    return true;
  }
  if (d.select & kDeviceLba) {
    *lba = static_cast<uint64_t>(d.select & kDeviceHead) << 24 |
           static_cast<uint64_t>(d.hcyl) << 16 | static_cast<uint64_t>(d.lcyl) << 8 | d.sector;
    return true;
  }
  // CHS (ATA-6 6.2.1) in the current logical geometry; sectors count from 1.
  const uint64_t cylinder = static_cast<uint64_t>(d.hcyl) << 8 | d.lcyl;
  const uint64_t head = d.select & kDeviceHead;
  if (d.sector == 0 || d.sector > d.sectors_per_track || head >= d.heads) return false;
  *lba = (cylinder * d.heads + head) * d.sectors_per_track + (d.sector - 1u);
  return true;
}

void Piix3Ide::SetCurrentSector(Drive& d, uint64_t lba) {
  if (d.lba48) {
    d.sector = static_cast<uint8_t>(lba);
    d.lcyl = static_cast<uint8_t>(lba >> 8);
    d.hcyl = static_cast<uint8_t>(lba >> 16);
    d.hob_sector = static_cast<uint8_t>(lba >> 24);
    d.hob_lcyl = static_cast<uint8_t>(lba >> 32);
    d.hob_hcyl = static_cast<uint8_t>(lba >> 40);
  } else if (d.select & kDeviceLba) {
    d.select = static_cast<uint8_t>((d.select & 0xf0) | ((lba >> 24) & kDeviceHead));
    d.hcyl = static_cast<uint8_t>(lba >> 16);
    d.lcyl = static_cast<uint8_t>(lba >> 8);
    d.sector = static_cast<uint8_t>(lba);
  } else {
    const uint64_t per_cylinder = static_cast<uint64_t>(d.heads) * d.sectors_per_track;
    const uint64_t cylinder = lba / per_cylinder;
    const uint64_t rest = lba % per_cylinder;
    d.hcyl = static_cast<uint8_t>(cylinder >> 8);
    d.lcyl = static_cast<uint8_t>(cylinder);
    d.select = static_cast<uint8_t>((d.select & 0xf0) |
                                    ((rest / d.sectors_per_track) & kDeviceHead));
    d.sector = static_cast<uint8_t>(rest % d.sectors_per_track + 1);
  }
}

void Piix3Ide::UpdateProgress(Drive& d) {
  // Like QEMU, the task file follows the transfer: after each block it holds
  // the next address and the sectors still to go, so an error reports the
  // failing sector (ATA-6 8.x "Error outputs").
  SetCurrentSector(d, d.next_sector);
  d.nsector = static_cast<uint8_t>(d.remaining_sectors);
  if (d.lba48) d.hob_nsector = static_cast<uint8_t>(d.remaining_sectors >> 8);
}

// ---------------------------------------------------------------------------
// Commands

void Piix3Ide::CompleteOk(Channel& ch, Drive& d) {
  d.status = kStatusReady;
  d.transfer = Transfer::kNone;
  RaiseIrq(ch);
}

void Piix3Ide::Abort(Channel& ch, Drive& d, uint8_t error, uint8_t extra_status) {
  if (d.transfer == Transfer::kDmaRead || d.transfer == Transfer::kDmaWrite) {
    ch.dma_pending = false;
  }
  d.error = error;
  d.status = static_cast<uint8_t>(kStatusDrdy | kStatusErr | extra_status);
  d.transfer = Transfer::kNone;
  d.buffer_pos = d.buffer_end = 0;
  RaiseIrq(ch);
}

bool Piix3Ide::StartTransfer(Channel& ch, Drive& d, bool lba48, bool write) {
  if (write && d.disk->read_only()) {
    if (error_log_.Allow()) log_->info("write to read-only disk '{}' aborted", d.disk->path());
    Abort(ch, d, kErrorAbrt);
    return false;
  }
  d.lba48 = lba48;
  // ATA-6 8.x: a count of 0 means 256 sectors (65536 for the EXT forms).
  uint32_t count = lba48 ? (static_cast<uint32_t>(d.hob_nsector) << 8 | d.nsector) : d.nsector;
  if (count == 0) count = lba48 ? 65536 : 256;
  uint64_t lba = 0;
  const uint64_t total = d.disk->sector_count();
  if (!CurrentSector(d, &lba) || lba > total || count > total - lba) {
    // ATA-6: IDNF for an address outside the user-accessible range.
    Abort(ch, d, kErrorIdnf);
    return false;
  }
  d.next_sector = lba;
  d.remaining_sectors = count;
  return true;
}

void Piix3Ide::StartPioReadBlock(Channel& ch, Drive& d) {
  const uint32_t n = std::min(d.remaining_sectors, d.block_sectors);
  const size_t bytes = n * kSector;
  if (auto r = d.disk->ReadSectors(d.next_sector, std::span<uint8_t>(d.buffer.data(), bytes));
      !r) {
    if (error_log_.Allow()) log_->error("{}", r.error().message);
    Abort(ch, d, kErrorUnc);
    return;
  }
  d.buffer_pos = 0;
  d.buffer_end = static_cast<uint32_t>(bytes);
  d.next_sector += n;
  d.remaining_sectors -= n;
  UpdateProgress(d);
  // ATA-6 9.7 (PIO data-in): the interrupt comes with each block's DRQ.
  d.status = kStatusReady | kStatusDrq;
  RaiseIrq(ch);
}

void Piix3Ide::StartPioWriteBlock(Drive& d) {
  const uint32_t n = std::min(d.remaining_sectors, d.block_sectors);
  d.buffer_pos = 0;
  d.buffer_end = static_cast<uint32_t>(n * kSector);
  d.status = kStatusReady | kStatusDrq;
}

void Piix3Ide::FinishPioBlock(Channel& ch, Drive& d) {
  switch (d.transfer) {
    case Transfer::kIdentify:
      // ATA-6 9.7: no interrupt after the last block of a PIO data-in command.
      d.transfer = Transfer::kNone;
      d.status = kStatusReady;
      d.buffer_pos = d.buffer_end = 0;
      return;
    case Transfer::kPioRead:
      if (d.remaining_sectors == 0) {
        d.transfer = Transfer::kNone;
        d.status = kStatusReady;
        d.buffer_pos = d.buffer_end = 0;
      } else {
        StartPioReadBlock(ch, d);
      }
      return;
    case Transfer::kPioWrite: {
      const uint32_t n = d.buffer_end / static_cast<uint32_t>(kSector);
      auto r = d.disk->WriteSectors(d.next_sector,
                                    std::span<const uint8_t>(d.buffer.data(), d.buffer_end));
      if (r && !d.write_cache) r = d.disk->Flush();
      if (!r) {
        if (error_log_.Allow()) log_->error("{}", r.error().message);
        Abort(ch, d, kErrorAbrt, kStatusDf);
        return;
      }
      d.next_sector += n;
      d.remaining_sectors -= n;
      UpdateProgress(d);
      // ATA-6 9.8 (PIO data-out): an interrupt after every block, the last
      // one signalling completion.
      if (d.remaining_sectors == 0) {
        d.transfer = Transfer::kNone;
        d.status = kStatusReady;
        d.buffer_pos = d.buffer_end = 0;
      } else {
        StartPioWriteBlock(d);
      }
      RaiseIrq(ch);
      return;
    }
    default:
      return;
  }
}

void Piix3Ide::ExecuteCommand(Channel& ch, uint8_t command) {
  Drive& d = selected(ch);
  // QEMU ide_bus_exec_cmd: commands to an absent device are ignored, and
  // so are commands while BSY or DRQ is set (ATA-6 7.4.4).
  if (d.disk == nullptr) return;
  if (d.status & (kStatusBsy | kStatusDrq)) {
    if (command_log_.Allow()) {
      log_->debug("ide{}.{}: command {:#04x} ignored, status {:#04x}", ch.index, ch.unit, command,
                  d.status);
    }
    return;
  }
  d.error = 0;
  d.transfer = Transfer::kNone;
  d.buffer_pos = d.buffer_end = 0;

  auto pio_read = [&](bool lba48, bool multiple) {
    if (multiple && d.multiple_sectors == 0) return Abort(ch, d, kErrorAbrt);
    if (!StartTransfer(ch, d, lba48, /*write=*/false)) return;
    d.transfer = Transfer::kPioRead;
    d.block_sectors = multiple ? d.multiple_sectors : 1;
    StartPioReadBlock(ch, d);
  };
  auto pio_write = [&](bool lba48, bool multiple) {
    if (multiple && d.multiple_sectors == 0) return Abort(ch, d, kErrorAbrt);
    if (!StartTransfer(ch, d, lba48, /*write=*/true)) return;
    d.transfer = Transfer::kPioWrite;
    d.block_sectors = multiple ? d.multiple_sectors : 1;
    // ATA-6 9.8: the first block is requested with DRQ and no interrupt.
    StartPioWriteBlock(d);
  };
  auto dma = [&](bool lba48, bool write) {
    if (!StartTransfer(ch, d, lba48, write)) return;
    d.transfer = write ? Transfer::kDmaWrite : Transfer::kDmaRead;
    d.status = kStatusReady | kStatusDrq;
    ch.dma_pending = true;
    ch.dma_unit = ch.unit;
    // Drivers may start the bus master before or after the command.
    if (ch.bm_status & kBmStatusActive) RunDma(ch);
  };

  switch (command) {
    case kCmdReadSectors:
    case kCmdReadSectorsNoRetry:
      return pio_read(false, false);
    case kCmdReadSectorsExt:
      return pio_read(true, false);
    case kCmdReadMultiple:
      return pio_read(false, true);
    case kCmdReadMultipleExt:
      return pio_read(true, true);
    case kCmdWriteSectors:
    case kCmdWriteSectorsNoRetry:
      return pio_write(false, false);
    case kCmdWriteSectorsExt:
      return pio_write(true, false);
    case kCmdWriteMultiple:
      return pio_write(false, true);
    case kCmdWriteMultipleExt:
      return pio_write(true, true);
    case kCmdReadDma:
    case kCmdReadDmaNoRetry:
      return dma(false, false);
    case kCmdReadDmaExt:
      return dma(true, false);
    case kCmdWriteDma:
    case kCmdWriteDmaNoRetry:
      return dma(false, true);
    case kCmdWriteDmaExt:
      return dma(true, true);
    case kCmdReadVerify:
    case kCmdReadVerifyNoRetry:
    case kCmdReadVerifyExt:
      // Nothing to verify on a file; only the address range is checked.
      if (StartTransfer(ch, d, command == kCmdReadVerifyExt, /*write=*/false)) CompleteOk(ch, d);
      return;
    case kCmdSetMultiple: {
      // ATA-6 8.39: 0 disables multiple mode; otherwise a supported block
      // size (a power of two up to IDENTIFY word 47, as QEMU checks).
      const uint8_t n = d.nsector;
      if (n != 0 && (n > kMaxMultipleSectors || (n & (n - 1)) != 0)) {
        return Abort(ch, d, kErrorAbrt);
      }
      d.multiple_sectors = n;
      return CompleteOk(ch, d);
    }
    case kCmdIdentify:
      return CommandIdentify(ch, d);
    case kCmdIdentifyPacket:
    case kCmdPacket:
      // ATA-6 8.16: an ATA (non-packet) device aborts the packet commands.
      return Abort(ch, d, kErrorAbrt);
    case kCmdSetFeatures:
      return CommandSetFeatures(ch, d);
    case kCmdFlushCache:
    case kCmdFlushCacheExt:
      if (auto r = d.disk->Flush(); !r) {
        if (error_log_.Allow()) log_->error("{}", r.error().message);
        return Abort(ch, d, kErrorAbrt, kStatusDf);
      }
      return CompleteOk(ch, d);
    case kCmdExecuteDiagnostic:
      return CommandDiagnostic(ch);
    case kCmdInitializeParameters:
      // ATA-4 8.16: heads from the Device register, sectors per track from
      // the count. A zero count would make CHS translation divide by zero.
      if (d.nsector == 0) return Abort(ch, d, kErrorAbrt);
      d.heads = static_cast<uint8_t>((d.select & kDeviceHead) + 1);
      d.sectors_per_track = d.nsector;
      return CompleteOk(ch, d);
    case kCmdReadNativeMax:
      return CommandReadNativeMax(ch, d, false);
    case kCmdReadNativeMaxExt:
      return CommandReadNativeMax(ch, d, true);
    case kCmdCheckPowerMode:
    case kCmdCheckPowerModeOld:
      d.nsector = 0xff;  // ATA-6 8.6: FFh = active or idle.
      return CompleteOk(ch, d);
    case 0xe0:  // STANDBY IMMEDIATE
    case 0xe1:  // IDLE IMMEDIATE
    case 0xe2:  // STANDBY
    case 0xe3:  // IDLE
    case 0xe6:  // SLEEP
    case 0x94:  // The same five with their ATA-1 opcodes.
    case 0x95:
    case 0x96:
    case 0x97:
    case 0x99:
      // A file has no spindle: power management commands succeed at once.
      return CompleteOk(ch, d);
    default:
      // RECALIBRATE (1xh) and SEEK (7xh) are obsolete no-ops (QEMU accepts
      // them); everything else is aborted (ATA-6 6.4.1).
      if ((command & 0xf0) == 0x10 || (command & 0xf0) == 0x70) return CompleteOk(ch, d);
      if (command_log_.Allow()) {
        log_->debug("ide{}.{}: unsupported command {:#04x} aborted", ch.index, ch.unit, command);
      }
      return Abort(ch, d, kErrorAbrt);
  }
}

void Piix3Ide::CommandIdentify(Channel& ch, Drive& d) {
  BuildIdentify(ch, ch.unit, std::span<uint8_t, 512>(d.buffer.data(), 512));
  d.transfer = Transfer::kIdentify;
  d.buffer_pos = 0;
  d.buffer_end = 512;
  d.status = kStatusReady | kStatusDrq;
  RaiseIrq(ch);
}

void Piix3Ide::CommandSetFeatures(Channel& ch, Drive& d) {
  switch (d.feature) {
    case kFeatureEnableWriteCache:
      d.write_cache = true;
      return CompleteOk(ch, d);
    case kFeatureDisableWriteCache:
      // Turning the cache off writes back what it holds.
      if (auto r = d.disk->Flush(); !r) {
        if (error_log_.Allow()) log_->error("{}", r.error().message);
        return Abort(ch, d, kErrorAbrt, kStatusDf);
      }
      d.write_cache = false;
      return CompleteOk(ch, d);
    case kFeatureSetTransferMode: {
      // ATA-6 8.36.10, Table 44: count = mode class << 3 | mode number.
      const uint8_t mode = d.nsector & 7;
      bool ok = false;
      switch (d.nsector >> 3) {
        case 0x00:  // PIO default (with or without IORDY).
          ok = mode <= 1;
          break;
        case 0x01:  // PIO flow control mode 0-4.
          ok = mode <= 4;
          break;
        case 0x02:  // Single-word DMA 0-2.
        case 0x04:  // Multiword DMA 0-2.
          ok = mode <= 2;
          break;
        case 0x08:  // Ultra DMA 0-5.
          ok = mode <= 5;
          break;
        default:
          break;
      }
      if (!ok) return Abort(ch, d, kErrorAbrt);
      d.transfer_mode = d.nsector;
      return CompleteOk(ch, d);
    }
    // Features with nothing to do on a file, accepted as QEMU does: read
    // look-ahead, revert to defaults, APM, AAM and vendor no-ops.
    case 0x55:
    case 0xaa:
    case 0x66:
    case 0xcc:
    case 0x05:
    case 0x85:
    case 0x42:
    case 0xc2:
    case 0x67:
    case 0x69:
    case 0x96:
    case 0x9a:
      return CompleteOk(ch, d);
    default:
      if (command_log_.Allow()) {
        log_->debug("ide{}.{}: SET FEATURES {:#04x} aborted", ch.index, ch.unit, d.feature);
      }
      return Abort(ch, d, kErrorAbrt);
  }
}

void Piix3Ide::CommandReadNativeMax(Channel& ch, Drive& d, bool lba48) {
  // ATA-6 8.28/8.29: the highest native address, in the address registers.
  uint64_t max = d.disk->sector_count() - 1;
  d.lba48 = lba48;
  if (!lba48) max = std::min<uint64_t>(max, kLba28Max);
  SetCurrentSector(d, max);
  CompleteOk(ch, d);
}

void Piix3Ide::CommandDiagnostic(Channel& ch) {
  // ATA-6 8.11: both devices run diagnostics and post their signature;
  // Error = 01h (device 0 passed, device 1 passed or absent). This is the
  // one command device 0 answers for an absent device 1.
  for (Drive& d : ch.drives) {
    SetSignature(d);
    d.error = 0x01;
    d.status = kStatusReady;
    d.transfer = Transfer::kNone;
    d.buffer_pos = d.buffer_end = 0;
  }
  ch.dma_pending = false;
  RaiseIrq(ch);
}

void Piix3Ide::BuildIdentify(const Channel& ch, int unit, std::span<uint8_t, 512> out) const {
  const Drive& d = ch.drives[static_cast<size_t>(unit)];
  const uint64_t total = d.disk->sector_count();
  std::array<uint16_t, 256> w{};
  // ATA-6 8.15, Table 21. Values follow QEMU's ide_identify() where it
  // matters to guests (SeaBIOS reads 0, 1/3/6, 27-46, 60-61, 83, 100-103;
  // libata also 47, 49, 53, 59, 62-64, 80-88, 93).
  w[0] = 0x0040;  // Fixed (non-removable) ATA device.
  w[1] = d.default_cylinders;
  w[3] = d.default_heads;
  w[4] = static_cast<uint16_t>(512 * d.default_sectors);  // Retired.
  w[5] = 512;                                             // Retired.
  w[6] = d.default_sectors;
  w[20] = 3;    // Retired: buffer type.
  w[21] = 512;  // Retired: buffer size in sectors.
  w[22] = 4;    // Obsolete: ECC bytes.
  w[47] = 0x8000 | kMaxMultipleSectors;
  w[48] = 1;  // Dword I/O (ATA-1).
  w[49] = (1 << 11) | (1 << 9) | (1 << 8);  // IORDY, LBA, DMA.
  w[51] = 0x200;  // PIO timing mode 2 (obsolete).
  w[52] = 0x200;
  w[53] = 0x7;  // Words 54-58, 64-70 and 88 are valid.
  const uint32_t per_cylinder = static_cast<uint32_t>(d.heads) * d.sectors_per_track;
  const uint64_t current_cylinders = std::min<uint64_t>(total / per_cylinder, 0xffff);
  const uint64_t current_capacity = current_cylinders * per_cylinder;
  w[54] = static_cast<uint16_t>(current_cylinders);
  w[55] = d.heads;
  w[56] = d.sectors_per_track;
  w[57] = static_cast<uint16_t>(current_capacity);
  w[58] = static_cast<uint16_t>(current_capacity >> 16);
  if (d.multiple_sectors != 0) w[59] = 0x100 | d.multiple_sectors;
  const uint64_t lba28 = std::min<uint64_t>(total, kLba28Max);
  w[60] = static_cast<uint16_t>(lba28);
  w[61] = static_cast<uint16_t>(lba28 >> 16);
  // Modes supported in the low byte, the one selected in the high byte.
  const uint8_t mode_class = d.transfer_mode >> 3;
  const uint16_t selected = static_cast<uint16_t>(1u << (8 + (d.transfer_mode & 7)));
  w[62] = static_cast<uint16_t>(0x07 | (mode_class == 0x02 ? selected : 0));  // SW DMA 0-2.
  w[63] = static_cast<uint16_t>(0x07 | (mode_class == 0x04 ? selected : 0));  // MW DMA 0-2.
  w[64] = 0x03;  // PIO 3 and 4.
  w[65] = 120;   // Minimum cycle times (ns).
  w[66] = 120;
  w[67] = 120;
  w[68] = 120;
  w[80] = 0xf0;  // Major versions ATA/ATAPI-4 to -7 (QEMU's value; libata says ATA-7).
  w[81] = 0x16;  // Minor version, as QEMU.
  w[82] = (1 << 14) | (1 << 5);  // NOP, write cache supported.
  w[83] = (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10);  // FLUSH EXT, FLUSH, LBA48.
  w[84] = 1 << 14;
  w[85] = static_cast<uint16_t>((1 << 14) | (d.write_cache ? 1 << 5 : 0));
  w[86] = (1 << 13) | (1 << 12) | (1 << 10);
  w[87] = 1 << 14;
  w[88] = static_cast<uint16_t>(0x3f | (mode_class == 0x08 ? selected : 0));  // UDMA 0-5.
  w[93] = 0x6001;  // Hardware reset result; bit 13: 80-conductor cable (QEMU).
  for (int i = 0; i < 4; ++i) w[100 + i] = static_cast<uint16_t>(total >> (16 * i));
  for (size_t i = 0; i < w.size(); ++i) {
    out[2 * i] = static_cast<uint8_t>(w[i]);
    out[2 * i + 1] = static_cast<uint8_t>(w[i] >> 8);
  }
  PutAtaString(out, 10, fmt::format("XV{:05d}", ch.index * 2 + unit + 1), 20);  // Serial.
  PutAtaString(out, 23, "1.0", 8);                                              // Firmware.
  PutAtaString(out, 27, "X86VM HARDDISK", 40);                                  // Model.
  // ATA-6 8.15.61: word 255 = A5h signature and a checksum making the
  // 512 bytes sum to zero.
  out[510] = 0xa5;
  uint8_t sum = 0;
  for (size_t i = 0; i < 511; ++i) sum = static_cast<uint8_t>(sum + out[i]);
  out[511] = static_cast<uint8_t>(-sum);
}

// ---------------------------------------------------------------------------
// Bus master IDE (PIIX3 BM): per channel, command at +0, status at +2 and
// the PRD table pointer at +4..+7; channel 1 at +8.

uint64_t Piix3Ide::ReadBusMaster(uint64_t offset, size_t size) {
  uint64_t value = 0;
  for (size_t i = 0; i < size; ++i) {
    const uint64_t at = (offset + i) & 0xf;
    const Channel& ch = channels_[at >> 3];
    uint8_t byte = 0xff;  // Reserved bytes, as QEMU reads them.
    switch (at & 7) {
      case 0:
        byte = ch.bm_command;
        break;
      case 2:
        byte = ch.bm_status;
        break;
      case 4:
      case 5:
      case 6:
      case 7:
        byte = static_cast<uint8_t>(ch.bm_prd_table >> (8 * ((at & 7) - 4)));
        break;
      default:
        break;
    }
    value |= static_cast<uint64_t>(byte) << (8 * i);
  }
  return value;
}

void Piix3Ide::WriteBusMaster(uint64_t offset, size_t size, uint64_t value) {
  for (size_t i = 0; i < size; ++i) {
    const uint64_t at = (offset + i) & 0xf;
    Channel& ch = channels_[at >> 3];
    const uint8_t byte = static_cast<uint8_t>(value >> (8 * i));
    switch (at & 7) {
      case 0:
        WriteBmCommand(ch, byte);
        break;
      case 2:
        // Bits 6:5 (drive DMA capable) are read/write, 2:1 (interrupt,
        // error) write-1-to-clear, 0 (active) read-only; bit 7 (simplex)
        // reads 0: both channels can DMA at once.
        ch.bm_status = static_cast<uint8_t>((byte & 0x60) | (ch.bm_status & kBmStatusActive) |
                                            (ch.bm_status & ~byte & 0x06));
        break;
      case 4:
      case 5:
      case 6:
      case 7: {
        // BMIDTP: a dword-aligned table address, bits 1:0 read as zero.
        const int shift = static_cast<int>(8 * ((at & 7) - 4));
        ch.bm_prd_table = (ch.bm_prd_table & ~(0xffu << shift)) | (uint32_t{byte} << shift);
        ch.bm_prd_table &= ~3u;
        break;
      }
      default:
        break;
    }
  }
}

void Piix3Ide::WriteBmCommand(Channel& ch, uint8_t value) {
  const bool was_started = ch.bm_command & kBmCommandStart;
  ch.bm_command = value & (kBmCommandStart | kBmCommandWriteToMemory);
  if (!was_started && (value & kBmCommandStart)) {
    // PIIX3 BM: Active is set when Start goes to 1, and the engine begins
    // at the start of the PRD table.
    ch.bm_status |= kBmStatusActive;
    if (ch.dma_pending) RunDma(ch);
  } else if (was_started && !(value & kBmCommandStart)) {
    // Stopping the engine: a transfer not yet run stays pending (QEMU
    // keeps the command and resumes it on the next start).
    ch.bm_status &= static_cast<uint8_t>(~kBmStatusActive);
  }
}

Piix3Ide::DmaResult Piix3Ide::MoveDma(PrdCursor& cursor, std::span<uint8_t> bytes,
                                      bool to_memory) {
  size_t done = 0;
  while (done < bytes.size()) {
    if (cursor.remaining == 0) {
      if (cursor.last || cursor.fetched >= kMaxPrdEntries) return DmaResult::kTableShort;
      // PIIX3 BM, PRD format: dword 0 = region address (bit 0 ignored),
      // dword 1 = byte count in bits 15:1 (0 means 64 KiB) and EOT in bit 31.
      uint8_t prd[8];
      if (!memory_->ReadPhysical(cursor.table, prd)) return DmaResult::kFault;
      cursor.table += 8;
      ++cursor.fetched;
      cursor.address = LoadLe32(prd) & ~1u;
      const uint32_t control = LoadLe32(prd + 4);
      const uint32_t count = control & 0xfffe;
      cursor.remaining = count != 0 ? count : 0x10000;
      cursor.last = control & kPrdEot;
    }
    const size_t n = std::min<size_t>(cursor.remaining, bytes.size() - done);
    const auto part = bytes.subspan(done, n);
    const bool ok = to_memory ? memory_->WritePhysical(cursor.address, part)
                              : memory_->ReadPhysical(cursor.address, part);
    if (!ok) return DmaResult::kFault;
    cursor.address += n;
    cursor.remaining -= static_cast<uint32_t>(n);
    done += n;
  }
  return DmaResult::kOk;
}

void Piix3Ide::DmaFault(Channel& ch, Drive& d) {
  // PIIX3 BM: a master or target abort sets the IDE DMA Error bit and stops
  // the engine. The device ends the command with ERR/ABRT and interrupts,
  // so the driver sees a failed command rather than a hang.
  if (error_log_.Allow()) {
    log_->info("ide{}: bus master DMA fault (PRD table {:#x}, bus master {})", ch.index,
               ch.bm_prd_table, bus_master_enabled() ? "enabled" : "disabled");
  }
  ch.bm_status = static_cast<uint8_t>((ch.bm_status | kBmStatusError) & ~kBmStatusActive);
  Abort(ch, d, kErrorAbrt);
}

void Piix3Ide::RunDma(Channel& ch) {
  ch.dma_pending = false;
  Drive& d = ch.drives[ch.dma_unit & 1];
  if (d.disk == nullptr ||
      (d.transfer != Transfer::kDmaRead && d.transfer != Transfer::kDmaWrite)) {
    return;
  }
  if (memory_ == nullptr || !bus_master_enabled()) return DmaFault(ch, d);
  const bool to_memory = d.transfer == Transfer::kDmaRead;
  PrdCursor cursor;
  cursor.table = ch.bm_prd_table;
  std::vector<uint8_t> chunk;
  while (d.remaining_sectors > 0) {
    const uint32_t n = std::min(d.remaining_sectors, kDmaChunkSectors);
    chunk.resize(n * kSector);
    DmaResult moved = DmaResult::kOk;
    if (to_memory) {
      if (auto r = d.disk->ReadSectors(d.next_sector, chunk); !r) {
        if (error_log_.Allow()) log_->error("{}", r.error().message);
        ch.bm_status &= static_cast<uint8_t>(~kBmStatusActive);
        return Abort(ch, d, kErrorUnc);
      }
      moved = MoveDma(cursor, chunk, /*to_memory=*/true);
    } else {
      moved = MoveDma(cursor, chunk, /*to_memory=*/false);
      if (moved == DmaResult::kOk) {
        if (auto r = d.disk->WriteSectors(d.next_sector, chunk); !r) {
          if (error_log_.Allow()) log_->error("{}", r.error().message);
          ch.bm_status &= static_cast<uint8_t>(~kBmStatusActive);
          return Abort(ch, d, kErrorAbrt, kStatusDf);
        }
      }
    }
    if (moved == DmaResult::kFault) return DmaFault(ch, d);
    if (moved == DmaResult::kTableShort) {
      // PIIX3 BM: the PRD table is smaller than the transfer. Active clears
      // without Interrupt; like QEMU the device goes idle without an
      // interrupt and the driver's timeout and reset recover.
      if (error_log_.Allow()) {
        log_->info("ide{}: PRD table at {:#x} shorter than the transfer", ch.index,
                   ch.bm_prd_table);
      }
      ch.bm_status &= static_cast<uint8_t>(~kBmStatusActive);
      d.status = kStatusReady;
      d.transfer = Transfer::kNone;
      return;
    }
    d.next_sector += n;
    d.remaining_sectors -= n;
    UpdateProgress(d);
  }
  if (!to_memory && !d.write_cache) {
    if (auto r = d.disk->Flush(); !r) {
      if (error_log_.Allow()) log_->error("{}", r.error().message);
      ch.bm_status &= static_cast<uint8_t>(~kBmStatusActive);
      return Abort(ch, d, kErrorAbrt, kStatusDf);
    }
  }
  // PIIX3 BM status table: Active clears only when the PRD table is used up
  // exactly; a table larger than the transfer leaves Active and Interrupt set.
  if (cursor.last && cursor.remaining == 0) {
    ch.bm_status &= static_cast<uint8_t>(~kBmStatusActive);
  }
  CompleteOk(ch, d);
}

// ---------------------------------------------------------------------------
// Snapshots

void Piix3Ide::Serialize(Serializer& s) {
  s.Section(name(), 1);
  SerializePciState(s);
  for (Channel& ch : channels_) {
    s(ch.unit);
    s(ch.control);
    s(ch.irq_pending);
    s(ch.bm_command);
    s(ch.bm_status);
    s(ch.bm_prd_table);
    s(ch.dma_pending);
    s(ch.dma_unit);
    for (Drive& d : ch.drives) {
      s(d.feature);
      s(d.hob_feature);
      s(d.nsector);
      s(d.hob_nsector);
      s(d.sector);
      s(d.hob_sector);
      s(d.lcyl);
      s(d.hob_lcyl);
      s(d.hcyl);
      s(d.hob_hcyl);
      s(d.select);
      s(d.status);
      s(d.error);
      s(d.heads);
      s(d.sectors_per_track);
      s(d.multiple_sectors);
      s(d.write_cache);
      s(d.transfer_mode);
      s(d.transfer);
      s(d.lba48);
      s(d.next_sector);
      s(d.remaining_sectors);
      s(d.block_sectors);
      s(d.buffer_pos);
      s(d.buffer_end);
      s.Bytes(d.buffer);
    }
    if (s.loading()) {
      // A snapshot is input too: keep every index inside its array.
      ch.unit &= 1;
      ch.dma_unit &= 1;
      ch.bm_command &= kBmCommandStart | kBmCommandWriteToMemory;
      ch.bm_prd_table &= ~3u;
      for (Drive& d : ch.drives) {
        if (d.transfer > Transfer::kDmaWrite || d.disk == nullptr) d.transfer = Transfer::kNone;
        d.heads = std::clamp<uint8_t>(d.heads, 1, 16);
        if (d.sectors_per_track == 0) d.sectors_per_track = 1;
        if (d.multiple_sectors > kMaxMultipleSectors) d.multiple_sectors = kMaxMultipleSectors;
        d.block_sectors = std::clamp<uint32_t>(d.block_sectors, 1, kMaxMultipleSectors);
        d.buffer_end = std::min<uint32_t>(d.buffer_end, kBufferBytes) & ~1u;
        d.buffer_pos = std::min(d.buffer_pos, d.buffer_end) & ~1u;
      }
      UpdateIrqLine(ch, /*force=*/true);
    }
  }
}

}  // namespace x86vm
