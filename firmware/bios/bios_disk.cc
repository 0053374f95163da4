// INT 13h on the --disk images (CHS functions and the EDD 3.0 extensions;
// Ralf Brown's Interrupt List INT 13h, Phoenix "BIOS Enhanced Disk Drive
// Specification" 3.0 and T13 D1572 "EDD-3"), and INT 18h/19h, the boot.
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "firmware/bios/bios_bda.h"
#include "firmware/bios/bios_services.h"

namespace x86vm {
namespace {

// INT 13h status codes (RBIL table 00234).
constexpr uint8_t kOk = 0x00;
constexpr uint8_t kBadCommand = 0x01;
constexpr uint8_t kWriteProtected = 0x03;
constexpr uint8_t kSectorNotFound = 0x04;
constexpr uint8_t kReadError = 0x10;
constexpr uint8_t kWriteFault = 0xcc;

constexpr uint64_t kSectorBytes = DiskImage::kSectorBytes;
// Largest transfer moved through host memory at once.
constexpr uint32_t kChunkSectors = 128;
// Sectors below which the CHS geometry of AH=48h is flagged valid
// (16383 cylinders, 16 heads, 63 sectors: EDD 3.0 "info flags" bit 1).
constexpr uint64_t kChsValidSectors = 16383ull * 16 * 63;

}  // namespace

BiosGeometry BiosDiskGeometry(uint64_t sectors) {
  constexpr uint32_t kSpt = 63;
  uint32_t heads = 16;
  uint64_t cylinders = 0;
  for (uint32_t h : {16u, 32u, 64u, 128u, 255u}) {
    heads = h;
    cylinders = sectors / (uint64_t{h} * kSpt);
    if (cylinders <= 1024) break;
  }
  cylinders = std::clamp<uint64_t>(cylinders, 1, 0xffffffff);
  return {static_cast<uint32_t>(cylinders), heads, kSpt};
}

const BiosDisk* BiosServices::HardDisk(uint8_t drive) const {
  if (drive < 0x80) return nullptr;
  size_t index = drive - 0x80u;
  if (index >= env_.disks.size() || env_.disks[index].image == nullptr) return nullptr;
  return &env_.disks[index];
}

void BiosServices::DiskDone(BiosRegs& r, uint8_t status) {
  r.set_ah(status);
  r.set_cf(status != kOk);
  if (r.dl() >= 0x80) Write8(bda::kDiskStatus, status);
}

uint8_t BiosServices::TransferSectors(const BiosDisk& d, uint64_t lba, uint32_t count,
                                      uint64_t buffer, bool write, uint32_t* done) {
  *done = 0;
  uint64_t total = d.image->sector_count();
  if (lba >= total || count > total - lba) return kSectorNotFound;
  if (write && d.image->read_only()) return kWriteProtected;
  std::vector<uint8_t> bytes;
  while (*done < count) {
    uint32_t n = std::min(count - *done, kChunkSectors);
    bytes.resize(n * kSectorBytes);
    uint64_t gpa = buffer + uint64_t{*done} * kSectorBytes;
    if (write) {
      if (!env_.memory->ReadPhysical(gpa, bytes)) return kBadCommand;
      if (!d.image->WriteSectors(lba + *done, bytes)) return kWriteFault;
    } else {
      if (!d.image->ReadSectors(lba + *done, bytes)) return kReadError;
      // Bounds check on the guest side: the whole buffer must be RAM.
      if (!env_.memory->WritePhysical(gpa, bytes)) return kBadCommand;
    }
    *done += n;
  }
  return kOk;
}

void BiosServices::DiskChs(BiosRegs& r, const BiosDisk& d, uint8_t function) {
  BiosGeometry g = BiosDiskGeometry(d.image->sector_count());
  uint32_t count = r.al();
  uint32_t cylinder = r.ch() | ((r.cl() & 0xc0u) << 2);
  uint32_t sector = r.cl() & 0x3fu;
  uint32_t head = r.dh();
  if (count == 0) {
    r.set_al(0);
    return DiskDone(r, kBadCommand);
  }
  if (sector == 0 || sector > g.sectors_per_track || head >= g.heads) {
    r.set_al(0);
    return DiskDone(r, kSectorNotFound);
  }
  uint64_t lba = (uint64_t{cylinder} * g.heads + head) * g.sectors_per_track + sector - 1;
  uint32_t done = 0;
  uint8_t status;
  if (function == 0x04) {  // Verify: the sectors exist.
    uint64_t total = d.image->sector_count();
    status = lba < total && count <= total - lba ? kOk : kSectorNotFound;
    done = status == kOk ? count : 0;
  } else {
    status = TransferSectors(d, lba, count, Linear(r.es, r.bx()), function == 0x03, &done);
  }
  r.set_al(static_cast<uint8_t>(done));
  DiskDone(r, status);
}

void BiosServices::DiskExtended(BiosRegs& r, const BiosDisk& d, uint8_t function) {
  // Disk address packet at DS:SI (EDD 3.0 table 1).
  uint64_t dap = Linear(r.ds, r.si());
  uint8_t size = Read8(dap);
  if (size < 0x10) return DiskDone(r, kBadCommand);
  uint32_t count = Read16(dap + 2);
  uint16_t offset = Read16(dap + 4);
  uint16_t segment = Read16(dap + 6);
  uint64_t lba = Read32(dap + 8) | (uint64_t{Read32(dap + 12)} << 32);
  uint64_t buffer = Linear(segment, offset);
  if (segment == 0xffff && offset == 0xffff && size >= 0x18) {
    buffer = Read32(dap + 0x10) | (uint64_t{Read32(dap + 0x14)} << 32);  // Flat 64-bit.
  }
  uint64_t total = d.image->sector_count();
  uint32_t done = 0;
  uint8_t status = kOk;
  switch (function) {
    case 0x42:
    case 0x43:
      status = TransferSectors(d, lba, count, buffer, function == 0x43, &done);
      break;
    case 0x44:  // Verify.
      status = lba < total && count <= total - lba ? kOk : kSectorNotFound;
      done = status == kOk ? count : 0;
      break;
    case 0x47:  // Seek.
      status = lba < total ? kOk : kSectorNotFound;
      break;
  }
  if (function != 0x47) Write16(dap + 2, static_cast<uint16_t>(done));
  DiskDone(r, status);
}

void BiosServices::DiskParameters(BiosRegs& r, const BiosDisk& d) {
  // AH=48h: result buffer at DS:SI whose first word is its size.
  uint64_t buf = Linear(r.ds, r.si());
  uint16_t size = Read16(buf);
  if (size < 0x1a) return DiskDone(r, kBadCommand);
  uint64_t sectors = d.image->sector_count();
  BiosGeometry g = BiosDiskGeometry(sectors);
  std::array<uint8_t, 0x4a> p{};
  auto put16 = [&p](size_t off, uint16_t v) {
    p[off] = static_cast<uint8_t>(v);
    p[off + 1] = static_cast<uint8_t>(v >> 8);
  };
  auto put32 = [&](size_t off, uint32_t v) {
    put16(off, static_cast<uint16_t>(v));
    put16(off + 2, static_cast<uint16_t>(v >> 16));
  };
  put16(0x02, sectors <= kChsValidSectors ? 0x02 : 0x00);  // CHS information valid.
  put32(0x04, g.cylinders);
  put32(0x08, g.heads);
  put32(0x0c, g.sectors_per_track);
  put32(0x10, static_cast<uint32_t>(sectors));
  put32(0x14, static_cast<uint32_t>(sectors >> 32));
  put16(0x18, static_cast<uint16_t>(kSectorBytes));
  uint16_t written = 0x1a;
  if (size >= 0x1e) {
    put32(0x1a, 0xffffffff);  // No DPTE: the disks are not behind BIOS-owned ports.
    written = 0x1e;
  }
  if (size >= 0x42) {
    // Device path: "PCI " host bus, "ATA" interface, bus/device/function/
    // channel, then master/slave. The T13 layout (0x4A bytes, 16-byte
    // device path, what Linux's edd driver asks for) when there is room,
    // the Phoenix 0x42-byte one otherwise.
    bool t13 = size >= 0x4a;
    uint16_t end = t13 ? 0x4a : 0x42;
    put16(0x1e, 0xbedd);
    p[0x20] = static_cast<uint8_t>(end - 0x1e);
    std::copy_n("PCI ", 4, p.begin() + 0x24);
    std::copy_n("ATA     ", 8, p.begin() + 0x28);
    p[0x30] = 0;  // Bus.
    p[0x31] = env_.ide_pci_device;
    p[0x32] = env_.ide_pci_function;
    p[0x33] = d.channel;
    p[0x38] = d.unit;
    uint8_t sum = 0;
    for (uint16_t i = 0x1e; i < end - 1; ++i) sum = static_cast<uint8_t>(sum + p[i]);
    p[end - 1] = static_cast<uint8_t>(-sum);
    written = end;
  }
  put16(0x00, written);
  if (!env_.memory->WritePhysical(buf, std::span<const uint8_t>(p.data(), written))) {
    return DiskDone(r, kBadCommand);
  }
  DiskDone(r, kOk);
}

void BiosServices::Int13Disk(BiosRegs& r) {
  uint8_t function = r.ah();
  const BiosDisk* d = HardDisk(r.dl());
  if (d == nullptr) {
    // No floppies, and only the attached hard disks.
    if (function == 0x15) {  // "No such drive" is an answer, not an error.
      r.set_ah(0);
      r.set_cf(false);
      return;
    }
    return DiskDone(r, kBadCommand);
  }
  switch (function) {
    case 0x00:  // Reset.
    case 0x0c:  // Seek.
    case 0x0d:  // Alternate reset.
    case 0x10:  // Test ready.
    case 0x11:  // Recalibrate.
    case 0x14:  // Controller diagnostic.
      return DiskDone(r, kOk);
    case 0x01: {  // Status of the last operation.
      uint8_t status = Read8(bda::kDiskStatus);
      r.set_ah(status);
      r.set_cf(status != kOk);
      return;
    }
    case 0x02:
    case 0x03:
    case 0x04:
      return DiskChs(r, *d, function);
    case 0x08: {  // Drive parameters (CHS, cylinders capped at 1024).
      BiosGeometry g = BiosDiskGeometry(d->image->sector_count());
      uint32_t max_cyl = std::min<uint32_t>(g.cylinders, 1024) - 1;
      r.set_ax(0);
      r.set_bl(0);
      r.set_ch(static_cast<uint8_t>(max_cyl));
      r.set_cl(static_cast<uint8_t>(g.sectors_per_track | ((max_cyl >> 2) & 0xc0)));
      r.set_dh(static_cast<uint8_t>(g.heads - 1));
      r.set_dl(static_cast<uint8_t>(env_.disks.size()));
      r.set_cf(false);
      Write8(bda::kDiskStatus, kOk);
      return;
    }
    case 0x15: {  // Disk type: a fixed disk, CX:DX sectors.
      uint64_t sectors = std::min<uint64_t>(d->image->sector_count(), 0xffffffff);
      r.set_ah(0x03);
      r.set_cx(static_cast<uint16_t>(sectors >> 16));
      r.set_dx(static_cast<uint16_t>(sectors));
      r.set_cf(false);
      Write8(bda::kDiskStatus, kOk);
      return;
    }
    case 0x41:  // EDD installation check.
      if (r.bx() != 0x55aa) return DiskDone(r, kBadCommand);
      r.set_bx(0xaa55);
      r.set_ah(0x30);    // EDD 3.0.
      r.set_cx(0x0005);  // Fixed disk access (42h-44h, 47h, 48h) and EDD (48h).
      r.set_cf(false);
      return;
    case 0x42:
    case 0x43:
    case 0x44:
    case 0x47:
      return DiskExtended(r, *d, function);
    case 0x48:
      return DiskParameters(r, *d);
    default:
      if (unsupported_log_.Allow()) log_->debug("INT 13h AX={:04x}: unsupported", r.ax());
      return DiskDone(r, kBadCommand);
  }
}

void BiosServices::Int18BootFailure(BiosRegs& r) { Fatal(r, "no bootable device"); }

void BiosServices::Int19Boot(BiosRegs& r) {
  const BiosDisk* d = HardDisk(0x80);
  if (d == nullptr) {
    return Fatal(r,
                 "no bootable disk (attach one with --disk FILE, or boot a kernel with "
                 "--kernel)");
  }
  std::array<uint8_t, kSectorBytes> mbr{};
  if (!d->image->ReadSectors(0, mbr)) {
    return Fatal(r, fmt::format("cannot read the first sector of '{}'", d->image->path()));
  }
  if (mbr[510] != 0x55 || mbr[511] != 0xaa) {
    return Fatal(r, fmt::format("'{}' is not bootable: its first sector has no 55AAh "
                                "boot signature",
                                d->image->path()));
  }
  if (!env_.memory->WritePhysical(bios_abi::kBootSectorAddress, mbr)) {
    return Fatal(r, "cannot place the boot sector at 0:7C00");
  }
  // Enter the boot sector like a BIOS: 0000:7C00, DL = boot drive,
  // interrupts on, the other registers zero.
  r.eax = r.ebx = r.ecx = r.esi = r.edi = r.ebp = 0;
  r.edx = 0x80;
  r.ds = r.es = r.fs = r.gs = 0;
  r.cs = 0;
  r.ip = static_cast<uint16_t>(bios_abi::kBootSectorAddress);
  r.flags = 0x0002 | kBiosFlagIf;
}

}  // namespace x86vm
