#include "devices/ide.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace x86vm {
namespace {

using namespace ata;

constexpr uint16_t kBmBase = 0xc000;
constexpr uint8_t kReady = kStatusDrdy | kStatusDsc;  // 0x50

// 1 MiB of guest RAM; every access outside it fails, as unbacked space.
class FakeMemory : public DmaMemory {
 public:
  static constexpr uint64_t kSize = 1 << 20;
  FakeMemory() : ram(kSize, 0xcc) {}
  bool ReadPhysical(uint64_t gpa, std::span<uint8_t> data) override {
    if (gpa > kSize || data.size() > kSize - gpa) return false;
    std::memcpy(data.data(), ram.data() + gpa, data.size());
    return true;
  }
  bool WritePhysical(uint64_t gpa, std::span<const uint8_t> data) override {
    if (gpa > kSize || data.size() > kSize - gpa) return false;
    std::memcpy(ram.data() + gpa, data.data(), data.size());
    return true;
  }
  void Put32(uint64_t gpa, uint32_t v) {
    for (int i = 0; i < 4; ++i) ram[gpa + i] = static_cast<uint8_t>(v >> (8 * i));
  }
  // One PRD: region address, byte count (0 = 64 KiB), end-of-table flag.
  void PutPrd(uint64_t table, int index, uint32_t address, uint32_t bytes, bool eot) {
    Put32(table + 8 * index, address);
    Put32(table + 8 * index + 4, (bytes & 0xffff) | (eot ? 0x80000000u : 0));
  }
  std::vector<uint8_t> ram;
};

// The byte at `offset` of sector `lba` in a pattern image.
uint8_t PatternByte(uint64_t lba, size_t offset) {
  return static_cast<uint8_t>((lba * 31 + offset * 7 + (lba >> 8)) & 0xff);
}

std::vector<uint8_t> PatternSectors(uint64_t lba, size_t count) {
  std::vector<uint8_t> out(count * 512);
  for (size_t s = 0; s < count; ++s) {
    for (size_t i = 0; i < 512; ++i) out[s * 512 + i] = PatternByte(lba + s, i);
  }
  return out;
}

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/ide_test_" + name;
  ::unlink(path.c_str());
  return path;
}

// Creates an image of `sectors` sectors. The first `pattern_sectors` hold
// the pattern; the rest is a sparse hole (zeros), so huge disks are cheap.
std::string MakeImage(const std::string& name, uint64_t sectors, uint64_t pattern_sectors) {
  const std::string path = TempPath(name);
  const int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0644);
  EXPECT_GE(fd, 0);
  const auto data = PatternSectors(0, pattern_sectors);
  EXPECT_EQ(::pwrite(fd, data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
  EXPECT_EQ(::ftruncate(fd, static_cast<off_t>(sectors * 512)), 0);
  ::close(fd);
  return path;
}

std::vector<uint8_t> FileBytes(const std::string& path, uint64_t offset, size_t n) {
  std::vector<uint8_t> out(n);
  const int fd = ::open(path.c_str(), O_RDONLY);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::pread(fd, out.data(), n, static_cast<off_t>(offset)), static_cast<ssize_t>(n));
  ::close(fd);
  return out;
}

std::unique_ptr<DiskImage> OpenDisk(const std::string& path, bool read_only = false) {
  auto disk = DiskImage::Open(path, read_only);
  EXPECT_TRUE(disk.has_value()) << disk.error().message;
  return disk.has_value() ? std::move(*disk) : nullptr;
}

// The controller on a PCI bus at 01.1 with BAR4 at kBmBase, its legacy
// windows on the PIO bus, and a fake RAM for DMA.
struct Board {
  Board() {
    for (int c = 0; c < 2; ++c) {
      EXPECT_TRUE(pio.Register(Piix3Ide::kCommandBlockBase[c], Piix3Ide::kCommandBlockBytes,
                               ide.command_block(c), "ide-cmd")
                      .has_value());
      EXPECT_TRUE(pio.Register(Piix3Ide::kControlPort[c], Piix3Ide::kControlBlockBytes,
                               ide.control_block(c), "ide-ctl")
                      .has_value());
    }
    EXPECT_TRUE(pci.AddFunction(1, 1, &ide).has_value());
    EnableBusMaster();
  }
  void EnableBusMaster() {
    pci.ConfigWrite(1, 1, 0x20, 4, kBmBase);
    pci.ConfigWrite(1, 1, 0x04, 2, pci_config::kCommandIo | pci_config::kCommandBusMaster);
  }

  uint16_t Base(int c) const { return Piix3Ide::kCommandBlockBase[c]; }
  uint8_t Reg(int c, int reg) {
    return static_cast<uint8_t>(pio.ReadValue(Base(c) + reg, 1));
  }
  void SetReg(int c, int reg, uint8_t v) { pio.WriteValue(Base(c) + reg, 1, v); }
  uint8_t Status(int c = 0) { return Reg(c, 7); }
  uint8_t Error(int c = 0) { return Reg(c, 1); }
  uint8_t AltStatus(int c = 0) {
    return static_cast<uint8_t>(pio.ReadValue(Piix3Ide::kControlPort[c], 1));
  }
  void Control(uint8_t v, int c = 0) { pio.WriteValue(Piix3Ide::kControlPort[c], 1, v); }
  void Command(uint8_t cmd, int c = 0) { SetReg(c, 7, cmd); }
  void Select(int unit, int c = 0) { SetReg(c, 6, static_cast<uint8_t>(0xe0 | unit << 4)); }

  void Lba28(uint32_t lba, uint8_t count, int unit = 0, int c = 0) {
    SetReg(c, 2, count);
    SetReg(c, 3, static_cast<uint8_t>(lba));
    SetReg(c, 4, static_cast<uint8_t>(lba >> 8));
    SetReg(c, 5, static_cast<uint8_t>(lba >> 16));
    SetReg(c, 6, static_cast<uint8_t>(0xe0 | unit << 4 | ((lba >> 24) & 0xf)));
  }
  // ATA-6 6.20: the high halves first, then the low halves.
  void Lba48(uint64_t lba, uint16_t count, int unit = 0, int c = 0) {
    SetReg(c, 2, static_cast<uint8_t>(count >> 8));
    SetReg(c, 3, static_cast<uint8_t>(lba >> 24));
    SetReg(c, 4, static_cast<uint8_t>(lba >> 32));
    SetReg(c, 5, static_cast<uint8_t>(lba >> 40));
    SetReg(c, 2, static_cast<uint8_t>(count));
    SetReg(c, 3, static_cast<uint8_t>(lba));
    SetReg(c, 4, static_cast<uint8_t>(lba >> 8));
    SetReg(c, 5, static_cast<uint8_t>(lba >> 16));
    SetReg(c, 6, static_cast<uint8_t>(0x40 | unit << 4));
  }

  std::vector<uint8_t> ReadData(size_t bytes, int c = 0, size_t access = 2) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i < bytes; i += access) {
      const uint64_t v = pio.ReadValue(Base(c), access);
      for (size_t b = 0; b < access; ++b) out.push_back(static_cast<uint8_t>(v >> (8 * b)));
    }
    return out;
  }
  void WriteData(const std::vector<uint8_t>& bytes, int c = 0, size_t access = 2) {
    for (size_t i = 0; i < bytes.size(); i += access) {
      uint64_t v = 0;
      for (size_t b = 0; b < access; ++b) v |= static_cast<uint64_t>(bytes[i + b]) << (8 * b);
      pio.WriteValue(Base(c), access, v);
    }
  }
  std::array<uint16_t, 256> Identify(int unit = 0, int c = 0) {
    Select(unit, c);
    Command(0xec, c);
    EXPECT_EQ(Status(c), kReady | kStatusDrq);
    const auto bytes = ReadData(512, c);
    std::array<uint16_t, 256> w{};
    for (size_t i = 0; i < 256; ++i) {
      w[i] = static_cast<uint16_t>(bytes[2 * i] | bytes[2 * i + 1] << 8);
    }
    return w;
  }

  uint8_t BmCommand(int c = 0) { return static_cast<uint8_t>(pio.ReadValue(kBmBase + 8 * c, 1)); }
  uint8_t BmStatus(int c = 0) {
    return static_cast<uint8_t>(pio.ReadValue(kBmBase + 8 * c + 2, 1));
  }
  void SetBmCommand(uint8_t v, int c = 0) { pio.WriteValue(kBmBase + 8 * c, 1, v); }
  void SetBmStatus(uint8_t v, int c = 0) { pio.WriteValue(kBmBase + 8 * c + 2, 1, v); }
  void SetPrdTable(uint32_t addr, int c = 0) { pio.WriteValue(kBmBase + 8 * c + 4, 4, addr); }

  std::vector<uint8_t> Save() {
    Serializer s = Serializer::ForSave();
    ide.Serialize(s);
    return s.data();
  }
  bool Load(const std::vector<uint8_t>& data) {
    Serializer s = Serializer::ForLoad(data);
    ide.Serialize(s);
    return s.ok() && s.at_end();
  }

  Bus pio{"pio"};
  Bus mmio{"mmio"};
  PciBus pci{&pio, &mmio};
  FakeMemory mem;
  RecordingIrqLine irq14;
  RecordingIrqLine irq15;
  Piix3Ide ide{&mem, &irq14, &irq15};
};

// A board with a pattern disk (pattern in the first 4096 sectors) as
// primary master.
struct DiskBoard : Board {
  explicit DiskBoard(const std::string& name, uint64_t sectors = 64, bool read_only = false)
      : path(MakeImage(name, sectors, std::min<uint64_t>(sectors, 4096))) {
    EXPECT_TRUE(ide.AttachDisk(0, 0, OpenDisk(path, read_only)).has_value());
  }
  std::string path;
};

std::string AtaString(const std::array<uint16_t, 256>& w, int first, int words) {
  std::string s;
  for (int i = first; i < first + words; ++i) {
    s.push_back(static_cast<char>(w[i] >> 8));
    s.push_back(static_cast<char>(w[i] & 0xff));
  }
  return s;
}

// ---------------------------------------------------------------------------

TEST(Piix3Ide, PciHeader) {
  Board b;
  EXPECT_EQ(b.pci.ConfigRead(1, 1, 0x00, 4), 0x70108086u);
  EXPECT_EQ(b.pci.ConfigRead(1, 1, 0x08, 4), 0x01018000u);  // IDE, legacy + bus master.
  EXPECT_EQ(b.pci.ConfigRead(1, 1, 0x06, 2), 0x0280u);
  EXPECT_EQ(b.pci.ConfigRead(1, 1, 0x3d, 1), 0x00u);  // No INTx pin.
  for (uint8_t bar = 0x10; bar < 0x20; bar += 4) EXPECT_EQ(b.pci.ConfigRead(1, 1, bar, 4), 0u);
  // BAR4 sizes as 16 bytes of I/O.
  b.pci.ConfigWrite(1, 1, 0x20, 4, 0xffffffff);
  EXPECT_EQ(b.pci.ConfigRead(1, 1, 0x20, 4), 0xfffffff1u);
  b.EnableBusMaster();
  EXPECT_TRUE(b.ide.bar_mapped(Piix3Ide::kBusMasterBar));
  EXPECT_TRUE(b.pio.IsMapped(kBmBase + 15));
  // IDETIM is writable (firmware sets the decode enable bits).
  b.pci.ConfigWrite(1, 1, 0x40, 2, 0x8000);
  EXPECT_EQ(b.pci.ConfigRead(1, 1, 0x40, 2), 0x8000u);
}

// What a --kernel boot gets instead of firmware's PCI setup.
TEST(Piix3Ide, EnableChannelDecodeSetsIdetimUntilReset) {
  Board b;
  EXPECT_EQ(b.pci.ConfigRead(1, 1, 0x40, 4), 0u);
  b.ide.EnableChannelDecode();
  EXPECT_EQ(b.pci.ConfigRead(1, 1, 0x40, 2), 0x8000u);
  EXPECT_EQ(b.pci.ConfigRead(1, 1, 0x42, 2), 0x8000u);
  b.ide.Reset();
  EXPECT_EQ(b.pci.ConfigRead(1, 1, 0x40, 4), 0u);
}

TEST(Piix3Ide, AttachRejectsBadPositions) {
  DiskBoard b("attach");
  EXPECT_FALSE(b.ide.AttachDisk(0, 0, OpenDisk(MakeImage("attach2", 8, 8))).has_value());
  EXPECT_FALSE(b.ide.AttachDisk(2, 0, OpenDisk(MakeImage("attach3", 8, 8))).has_value());
  EXPECT_FALSE(b.ide.AttachDisk(0, -1, OpenDisk(MakeImage("attach4", 8, 8))).has_value());
  EXPECT_FALSE(b.ide.AttachDisk(1, 1, nullptr).has_value());
  EXPECT_NE(b.ide.disk(0, 0), nullptr);
  EXPECT_EQ(b.ide.disk(0, 1), nullptr);
  EXPECT_EQ(b.ide.disk(5, 0), nullptr);
}

TEST(Piix3Ide, PowerOnSignature) {
  DiskBoard b("poweron");
  EXPECT_EQ(b.Status(), kReady);
  EXPECT_EQ(b.Error(), 0x01);
  EXPECT_EQ(b.Reg(0, 2), 0x01);
  EXPECT_EQ(b.Reg(0, 3), 0x01);
  EXPECT_EQ(b.Reg(0, 4), 0x00);
  EXPECT_EQ(b.Reg(0, 5), 0x00);
  EXPECT_EQ(b.Reg(0, 6), 0xa0);
}

TEST(Piix3Ide, IdentifyLayout) {
  DiskBoard b("identify", 100000);
  const auto w = b.Identify();
  EXPECT_EQ(w[0], 0x0040);                         // ATA, fixed.
  EXPECT_EQ(w[1], 100000 / (16 * 63));             // Cylinders.
  EXPECT_EQ(w[3], 16);                             // Heads.
  EXPECT_EQ(w[6], 63);                             // Sectors per track.
  EXPECT_EQ(AtaString(w, 10, 10), "XV00001             ");
  EXPECT_EQ(AtaString(w, 23, 4), "1.0     ");
  EXPECT_EQ(AtaString(w, 27, 20), "X86VM HARDDISK                          ");
  EXPECT_EQ(w[47], 0x8010);                        // Multiple up to 16.
  EXPECT_EQ(w[49] & 0x0300, 0x0300);               // LBA and DMA.
  EXPECT_EQ(w[53] & 0x7, 0x7);
  EXPECT_EQ(w[59], 0x0110);                        // Multiple mode on, 16.
  EXPECT_EQ(w[60] | w[61] << 16, 100000);          // LBA28 capacity.
  EXPECT_EQ(w[63] & 0x7, 0x7);                     // MWDMA 0-2.
  EXPECT_EQ(w[64] & 0x3, 0x3);                     // PIO 3-4.
  EXPECT_EQ(w[80] & 0x70, 0x70);                   // ATA-4..6 at least.
  EXPECT_EQ(w[83] & 0xc000, 0x4000);               // Valid word.
  EXPECT_TRUE(w[83] & (1 << 10));                  // LBA48 supported.
  EXPECT_TRUE(w[83] & (1 << 12));                  // FLUSH CACHE.
  EXPECT_TRUE(w[83] & (1 << 13));                  // FLUSH CACHE EXT.
  EXPECT_TRUE(w[86] & (1 << 10));                  // LBA48 enabled.
  EXPECT_TRUE(w[82] & (1 << 5));                   // Write cache supported...
  EXPECT_TRUE(w[85] & (1 << 5));                   // ...and on.
  EXPECT_EQ(w[88] & 0xff, 0x3f);                   // UDMA 0-5.
  EXPECT_EQ(w[100], 100000 & 0xffff);              // LBA48 capacity.
  EXPECT_EQ(w[101], 100000 >> 16);
  EXPECT_EQ(w[102], 0);
  EXPECT_EQ(w[103], 0);
  // Word 255: signature and checksum over all 512 bytes.
  EXPECT_EQ(w[255] & 0xff, 0xa5);
  uint8_t sum = 0;
  for (uint16_t v : w) sum = static_cast<uint8_t>(sum + (v & 0xff) + (v >> 8));
  EXPECT_EQ(sum, 0);
  // The data phase is over: no DRQ, and the data port reads 0.
  EXPECT_EQ(b.Status(), kReady);
  EXPECT_EQ(b.pio.ReadValue(0x1f0, 2), 0u);
}

TEST(Piix3Ide, IdentifyInterruptsOnceAtDrq) {
  DiskBoard b("identify_irq");
  b.irq14.ClearEdges();
  b.Command(0xec);
  EXPECT_TRUE(b.irq14.level());
  EXPECT_EQ(b.irq14.rising_edges(), 1);
  EXPECT_EQ(b.AltStatus(), kReady | kStatusDrq);
  EXPECT_TRUE(b.irq14.level());  // The alternate status does not acknowledge.
  EXPECT_EQ(b.Status(), kReady | kStatusDrq);
  EXPECT_FALSE(b.irq14.level());  // Status does.
  b.ReadData(512, 0, 4);         // 32-bit PIO works too.
  EXPECT_EQ(b.AltStatus(), kReady);
  EXPECT_EQ(b.irq14.rising_edges(), 1);  // No interrupt after the last data-in block.
  EXPECT_EQ(b.BmStatus() & kBmStatusInterrupt, kBmStatusInterrupt);
}

TEST(Piix3Ide, HugeDiskCapacities) {
  const uint64_t sectors = (1ull << 28) + 16;
  DiskBoard b("huge", sectors);
  const auto w = b.Identify();
  EXPECT_EQ(w[60] | w[61] << 16, 0x0fffffff);  // LBA28 capacity saturates.
  EXPECT_EQ(static_cast<uint64_t>(w[100]) | static_cast<uint64_t>(w[101]) << 16 |
                static_cast<uint64_t>(w[102]) << 32,
            sectors);
  EXPECT_EQ(w[1], 16383);  // CHS cylinders saturate.
}

TEST(Piix3Ide, PioReadLba28InterruptsPerSector) {
  DiskBoard b("pio_read");
  b.Lba28(5, 3);
  b.irq14.ClearEdges();
  b.Command(0x20);
  std::vector<uint8_t> got;
  for (int s = 0; s < 3; ++s) {
    EXPECT_TRUE(b.irq14.level()) << s;
    EXPECT_EQ(b.Status(), kReady | kStatusDrq);
    EXPECT_FALSE(b.irq14.level());
    const auto data = b.ReadData(512);
    got.insert(got.end(), data.begin(), data.end());
  }
  EXPECT_EQ(got, PatternSectors(5, 3));
  EXPECT_EQ(b.irq14.rising_edges(), 3);
  EXPECT_EQ(b.Status(), kReady);
  // The task file points past the transfer with nothing left.
  EXPECT_EQ(b.Reg(0, 2), 0);
  EXPECT_EQ(b.Reg(0, 3), 8);
}

TEST(Piix3Ide, PioWriteLba28) {
  DiskBoard b("pio_write");
  std::vector<uint8_t> data(2 * 512);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i ^ 0xa5);
  b.Lba28(10, 2);
  b.irq14.ClearEdges();
  b.Command(0x30);
  // ATA-6 9.8: the first block is requested without an interrupt.
  EXPECT_EQ(b.irq14.rising_edges(), 0);
  EXPECT_EQ(b.AltStatus(), kReady | kStatusDrq);
  b.WriteData({data.begin(), data.begin() + 512});
  EXPECT_EQ(b.irq14.rising_edges(), 1);
  EXPECT_EQ(b.Status(), kReady | kStatusDrq);
  b.WriteData({data.begin() + 512, data.end()}, 0, 4);
  EXPECT_EQ(b.irq14.rising_edges(), 2);
  EXPECT_EQ(b.Status(), kReady);
  EXPECT_EQ(FileBytes(b.path, 10 * 512, 1024), data);
  EXPECT_EQ(FileBytes(b.path, 9 * 512, 512), PatternSectors(9, 1));
  EXPECT_EQ(FileBytes(b.path, 12 * 512, 512), PatternSectors(12, 1));
  // FLUSH CACHE completes with an interrupt.
  b.Command(0xe7);
  EXPECT_EQ(b.Status(), kReady);
  EXPECT_EQ(b.irq14.rising_edges(), 3);
}

TEST(Piix3Ide, CountZeroMeans256) {
  DiskBoard b("count0", 300);
  b.Lba28(0, 0);
  b.Command(0x20);
  for (int s = 0; s < 256; ++s) {
    ASSERT_EQ(b.Status(), kReady | kStatusDrq) << s;
    b.ReadData(512);
  }
  EXPECT_EQ(b.Status(), kReady);
  EXPECT_EQ(b.Reg(0, 4), 1);  // LBA 256 = 0x000100.
}

TEST(Piix3Ide, ChsAddressing) {
  DiskBoard b("chs", 20000);
  // Cylinder 1, head 2, sector 3 in 16/63 geometry = (1*16+2)*63 + 2.
  const uint64_t lba = (1 * 16 + 2) * 63 + 2;
  b.SetReg(0, 2, 1);
  b.SetReg(0, 3, 3);
  b.SetReg(0, 4, 1);
  b.SetReg(0, 5, 0);
  b.SetReg(0, 6, 0xa2);  // CHS mode, head 2.
  b.Command(0x20);
  EXPECT_EQ(b.Status(), kReady | kStatusDrq);
  EXPECT_EQ(b.ReadData(512), PatternSectors(lba, 1));
  // Sector 0 does not exist in CHS.
  b.SetReg(0, 3, 0);
  b.Command(0x20);
  EXPECT_EQ(b.Status(), kStatusDrdy | kStatusErr);
  EXPECT_EQ(b.Error(), kErrorIdnf);
  // INITIALIZE DEVICE PARAMETERS: 4 heads, 17 sectors; identify follows.
  b.SetReg(0, 2, 17);
  b.SetReg(0, 6, 0xa3);
  b.Command(0x91);
  EXPECT_EQ(b.Status(), kReady);
  const auto w = b.Identify();
  EXPECT_EQ(w[55], 4);
  EXPECT_EQ(w[56], 17);
  EXPECT_EQ(w[54], 20000 / (4 * 17));
  EXPECT_EQ(w[3], 16);  // The default geometry is unchanged.
  // Sector 1 of cylinder 1, head 3 in the new geometry.
  b.SetReg(0, 2, 1);
  b.SetReg(0, 3, 1);
  b.SetReg(0, 4, 1);
  b.SetReg(0, 5, 0);
  b.SetReg(0, 6, 0xa3);
  b.Command(0x20);
  EXPECT_EQ(b.ReadData(512), PatternSectors((1 * 4 + 3) * 17, 1));
  // A zero sector count is refused.
  b.SetReg(0, 2, 0);
  b.Command(0x91);
  EXPECT_EQ(b.Error(), kErrorAbrt);
}

TEST(Piix3Ide, Lba48ReadWriteAbove128GiB) {
  const uint64_t sectors = (1ull << 28) + 64;
  DiskBoard b("lba48", sectors);
  const uint64_t lba = (1ull << 28) + 10;
  std::vector<uint8_t> data = PatternSectors(77, 2);
  b.Lba48(lba, 2);
  b.Command(0x34);  // WRITE SECTORS EXT.
  EXPECT_EQ(b.Status(), kReady | kStatusDrq);
  b.WriteData(data);
  EXPECT_EQ(b.Status(), kReady);
  EXPECT_EQ(FileBytes(b.path, lba * 512, 1024), data);

  b.Lba48(lba, 2);
  b.Command(0x24);  // READ SECTORS EXT.
  EXPECT_EQ(b.ReadData(1024), data);
  EXPECT_EQ(b.Status(), kReady);
  // HOB readback: the high LBA bytes of the next address.
  b.Control(kControlHob);
  EXPECT_EQ(b.Reg(0, 3), static_cast<uint8_t>((lba + 2) >> 24));
  b.Control(0);
  EXPECT_EQ(b.Reg(0, 3), static_cast<uint8_t>(lba + 2));

  // A transfer running past the last sector is refused.
  b.Lba48(sectors - 1, 2);
  b.Command(0x24);
  EXPECT_EQ(b.Status(), kStatusDrdy | kStatusErr);
  EXPECT_EQ(b.Error(), kErrorIdnf);
}

TEST(Piix3Ide, MultipleMode) {
  DiskBoard b("multiple");
  b.SetReg(0, 2, 4);
  b.Command(0xc6);  // SET MULTIPLE MODE 4.
  EXPECT_EQ(b.Status(), kReady);
  EXPECT_EQ(b.Identify()[59], 0x0104);
  b.Lba28(1, 10);
  b.irq14.ClearEdges();
  b.Command(0xc4);  // READ MULTIPLE: blocks of 4, 4, 2.
  std::vector<uint8_t> got;
  for (int block = 0; block < 3; ++block) {
    EXPECT_EQ(b.irq14.rising_edges(), block + 1);
    EXPECT_EQ(b.Status(), kReady | kStatusDrq);
    const auto data = b.ReadData(block < 2 ? 4 * 512 : 2 * 512);
    got.insert(got.end(), data.begin(), data.end());
  }
  EXPECT_EQ(got, PatternSectors(1, 10));
  EXPECT_EQ(b.Status(), kReady);
  EXPECT_EQ(b.irq14.rising_edges(), 3);

  // WRITE MULTIPLE EXT of 6 sectors: one interrupt per block of 4/2.
  const auto data = PatternSectors(100, 6);
  b.Lba48(30, 6);
  b.irq14.ClearEdges();
  b.Command(0x39);
  EXPECT_EQ(b.irq14.rising_edges(), 0);
  b.WriteData({data.begin(), data.begin() + 4 * 512});
  EXPECT_EQ(b.irq14.rising_edges(), 1);
  EXPECT_EQ(b.Status(), kReady | kStatusDrq);
  b.WriteData({data.begin() + 4 * 512, data.end()});
  EXPECT_EQ(b.irq14.rising_edges(), 2);
  EXPECT_EQ(b.Status(), kReady);
  EXPECT_EQ(FileBytes(b.path, 30 * 512, 6 * 512), data);

  // Unsupported block sizes abort and keep the old one.
  b.SetReg(0, 2, 3);
  b.Command(0xc6);
  EXPECT_EQ(b.Status(), kStatusDrdy | kStatusErr);
  EXPECT_EQ(b.Error(), kErrorAbrt);
  b.SetReg(0, 2, 32);
  b.Command(0xc6);
  EXPECT_EQ(b.Error(), kErrorAbrt);
  EXPECT_EQ(b.Identify()[59], 0x0104);
  // Multiple mode off: READ MULTIPLE aborts.
  b.SetReg(0, 2, 0);
  b.Command(0xc6);
  EXPECT_EQ(b.Status(), kReady);
  EXPECT_EQ(b.Identify()[59], 0);
  b.Lba28(0, 1);
  b.Command(0xc4);
  EXPECT_EQ(b.Status(), kStatusDrdy | kStatusErr);
  EXPECT_EQ(b.Error(), kErrorAbrt);
}

TEST(Piix3Ide, DmaReadScattersThroughPrds) {
  DiskBoard b("dma_read");
  // Three sectors into two regions: 1024 bytes at 0x20000, 512 at 0x30000.
  b.mem.PutPrd(0x1000, 0, 0x20000, 1024, false);
  b.mem.PutPrd(0x1000, 1, 0x30000, 512, true);
  b.SetPrdTable(0x1000);
  b.SetBmCommand(kBmCommandWriteToMemory);
  b.Lba28(7, 3);
  b.irq14.ClearEdges();
  b.Command(0xc8);
  // Nothing moves until the engine starts.
  EXPECT_EQ(b.AltStatus(), kReady | kStatusDrq);
  EXPECT_EQ(b.irq14.rising_edges(), 0);
  EXPECT_EQ(b.mem.ram[0x20000], 0xcc);
  b.SetBmCommand(kBmCommandWriteToMemory | kBmCommandStart);
  EXPECT_EQ(b.irq14.rising_edges(), 1);
  // Table used up exactly: Interrupt set, Active clear.
  EXPECT_EQ(b.BmStatus(), kBmStatusInterrupt);
  EXPECT_EQ(b.Status(), kReady);
  const auto expected = PatternSectors(7, 3);
  EXPECT_TRUE(std::equal(expected.begin(), expected.begin() + 1024, b.mem.ram.begin() + 0x20000));
  EXPECT_TRUE(std::equal(expected.begin() + 1024, expected.end(), b.mem.ram.begin() + 0x30000));
  EXPECT_EQ(b.mem.ram[0x20000 + 1024], 0xcc);  // Nothing past the region.
  // The driver stops the engine and clears Interrupt (write 1 to clear).
  b.SetBmCommand(0);
  b.SetBmStatus(kBmStatusInterrupt);
  EXPECT_EQ(b.BmStatus(), 0);
}

TEST(Piix3Ide, DmaWriteGathersAndEngineFirstOrder) {
  DiskBoard b("dma_write");
  const auto data = PatternSectors(500, 2);
  std::copy(data.begin(), data.begin() + 512, b.mem.ram.begin() + 0x40000);
  std::copy(data.begin() + 512, data.end(), b.mem.ram.begin() + 0x50000);
  b.mem.PutPrd(0x2000, 0, 0x40000, 512, false);
  b.mem.PutPrd(0x2000, 1, 0x50000, 512, true);
  b.SetPrdTable(0x2000);
  // Engine started before the command (some drivers do it this way).
  b.SetBmCommand(kBmCommandStart);
  EXPECT_EQ(b.BmStatus(), kBmStatusActive);
  b.Lba48(20, 2);
  b.irq14.ClearEdges();
  b.Command(0x35);  // WRITE DMA EXT.
  EXPECT_EQ(b.irq14.rising_edges(), 1);
  EXPECT_EQ(b.Status(), kReady);
  EXPECT_EQ(b.BmStatus(), kBmStatusInterrupt);
  EXPECT_EQ(FileBytes(b.path, 20 * 512, 1024), data);
}

TEST(Piix3Ide, DmaPrdLargerThanTransferLeavesActive) {
  DiskBoard b("dma_big_prd");
  b.mem.PutPrd(0x1000, 0, 0x20000, 0, true);  // 64 KiB region for one sector.
  b.SetPrdTable(0x1000);
  b.Lba28(0, 1);
  b.Command(0xc8);
  b.SetBmCommand(kBmCommandWriteToMemory | kBmCommandStart);
  // PIIX3 BM: Interrupt and Active both set = done, table not exhausted.
  EXPECT_EQ(b.BmStatus(), kBmStatusInterrupt | kBmStatusActive);
  EXPECT_EQ(b.Status(), kReady);
  b.SetBmCommand(0);
  EXPECT_EQ(b.BmStatus(), kBmStatusInterrupt);
}

TEST(Piix3Ide, DmaPrdShorterThanTransferStopsWithoutInterrupt) {
  DiskBoard b("dma_short_prd");
  b.mem.PutPrd(0x1000, 0, 0x20000, 512, true);
  b.SetPrdTable(0x1000);
  b.Lba28(0, 2);
  b.irq14.ClearEdges();
  b.Command(0xc8);
  b.SetBmCommand(kBmCommandWriteToMemory | kBmCommandStart);
  EXPECT_EQ(b.BmStatus(), 0);  // Neither Active nor Interrupt: error case.
  EXPECT_EQ(b.irq14.rising_edges(), 0);
  EXPECT_EQ(b.AltStatus(), kReady);
  // The drive takes new commands.
  b.Command(0xe7);
  EXPECT_EQ(b.Status(), kReady);
}

TEST(Piix3Ide, DmaOutsideRamIsAnErrorNotACrash) {
  DiskBoard b("dma_fault");
  // A region beyond RAM.
  b.mem.PutPrd(0x1000, 0, 0xfff00000, 1024, true);
  b.SetPrdTable(0x1000);
  b.Lba28(0, 2);
  b.irq14.ClearEdges();
  b.Command(0xc8);
  b.SetBmCommand(kBmCommandWriteToMemory | kBmCommandStart);
  EXPECT_EQ(b.BmStatus(), kBmStatusError | kBmStatusInterrupt);
  EXPECT_EQ(b.irq14.rising_edges(), 1);
  EXPECT_EQ(b.Status(), kStatusDrdy | kStatusErr);
  EXPECT_EQ(b.Error(), kErrorAbrt);
  b.SetBmCommand(0);
  b.SetBmStatus(kBmStatusError | kBmStatusInterrupt);
  EXPECT_EQ(b.BmStatus(), 0);

  // A region straddling the end of RAM, for a write.
  b.mem.PutPrd(0x1000, 0, FakeMemory::kSize - 512, 1024, true);
  b.Lba28(0, 2);
  b.Command(0xca);
  b.SetBmCommand(kBmCommandStart);
  EXPECT_EQ(b.BmStatus() & kBmStatusError, kBmStatusError);
  EXPECT_EQ(b.Error(), kErrorAbrt);
  EXPECT_EQ(FileBytes(b.path, 0, 1024), PatternSectors(0, 2));  // Disk untouched.
  b.SetBmCommand(0);

  // The PRD table itself outside RAM.
  b.SetPrdTable(0xfffffff0);
  b.Lba28(0, 1);
  b.Command(0xc8);
  b.SetBmCommand(kBmCommandWriteToMemory | kBmCommandStart);
  EXPECT_EQ(b.BmStatus() & kBmStatusError, kBmStatusError);
  EXPECT_EQ(b.Status(), kStatusDrdy | kStatusErr);
  b.SetBmCommand(0);

  // Bus mastering disabled in PCI Command: the engine cannot reach memory.
  b.pci.ConfigWrite(1, 1, 0x04, 2, pci_config::kCommandIo);
  b.SetBmStatus(0x06);
  b.mem.PutPrd(0x1000, 0, 0x20000, 512, true);
  b.SetPrdTable(0x1000);
  b.Lba28(0, 1);
  b.Command(0xc8);
  b.SetBmCommand(kBmCommandWriteToMemory | kBmCommandStart);
  EXPECT_EQ(b.BmStatus() & kBmStatusError, kBmStatusError);
  EXPECT_EQ(b.mem.ram[0x20000], 0xcc);
}

TEST(Piix3Ide, BusMasterRegisters) {
  Board b;
  b.SetPrdTable(0x12345677);
  EXPECT_EQ(b.pio.ReadValue(kBmBase + 4, 4), 0x12345674u);  // Dword aligned.
  b.pio.WriteValue(kBmBase + 6, 2, 0xabcd);
  EXPECT_EQ(b.pio.ReadValue(kBmBase + 4, 4), 0xabcd5674u);
  b.SetBmCommand(0xff);
  EXPECT_EQ(b.BmCommand(), 0x09);  // Start and direction only.
  EXPECT_EQ(b.BmStatus(), kBmStatusActive);
  b.SetBmStatus(0xff);  // Active is read-only; drive-capable bits stick.
  EXPECT_EQ(b.BmStatus(), 0x61);
  b.SetBmCommand(0);
  EXPECT_EQ(b.BmStatus(), 0x60);
  EXPECT_EQ(b.pio.ReadValue(kBmBase + 1, 1), 0xffu);  // Reserved.
  // The secondary channel has its own registers.
  b.SetPrdTable(0x8000, 1);
  EXPECT_EQ(b.pio.ReadValue(kBmBase + 12, 4), 0x8000u);
  EXPECT_EQ(b.pio.ReadValue(kBmBase + 4, 4), 0xabcd5674u);
}

TEST(Piix3Ide, SoftwareResetLeavesSignature) {
  DiskBoard b("srst");
  b.SetReg(0, 1, 0x77);
  b.Lba28(0x21, 9);
  b.Command(0x20);  // Leave a transfer in progress.
  EXPECT_EQ(b.Status(), kReady | kStatusDrq);
  b.irq14.ClearEdges();
  b.Control(kControlSrst | kControlNien);
  EXPECT_EQ(b.AltStatus() & kStatusBsy, kStatusBsy);
  b.Command(0xec);  // Ignored while busy.
  b.Control(kControlNien);
  EXPECT_EQ(b.Status(), kReady);
  EXPECT_EQ(b.Error(), 0x01);
  EXPECT_EQ(b.Reg(0, 2), 0x01);
  EXPECT_EQ(b.Reg(0, 3), 0x01);
  EXPECT_EQ(b.Reg(0, 4), 0x00);
  EXPECT_EQ(b.Reg(0, 5), 0x00);
  EXPECT_EQ(b.Reg(0, 6) & 0x1f, 0x00);
  EXPECT_EQ(b.irq14.rising_edges(), 0);
  // The aborted transfer is gone: the data port is idle.
  EXPECT_EQ(b.pio.ReadValue(0x1f0, 2), 0u);
  // SRST selects device 0 again.
  b.Select(1);
  b.Control(kControlSrst);
  b.Control(0);
  EXPECT_EQ(b.Status(), kReady);
  // And SRST reverts the multiple count to 16.
  b.SetReg(0, 2, 2);
  b.Command(0xc6);
  b.Control(kControlSrst);
  b.Control(0);
  EXPECT_EQ(b.Identify()[59], 0x0110);
}

TEST(Piix3Ide, NienMasksInterrupts) {
  DiskBoard b("nien");
  b.Control(kControlNien);
  b.irq14.ClearEdges();
  b.Command(0xec);
  EXPECT_EQ(b.irq14.rising_edges(), 0);
  EXPECT_EQ(b.BmStatus() & kBmStatusInterrupt, 0);
  EXPECT_EQ(b.AltStatus(), kReady | kStatusDrq);  // Polling still works.
  b.ReadData(512);
  b.Control(0);
  EXPECT_FALSE(b.irq14.level());

  // A pending interrupt is held off by nIEN and comes back when cleared.
  b.Command(0xe7);
  EXPECT_TRUE(b.irq14.level());
  b.Control(kControlNien);
  EXPECT_FALSE(b.irq14.level());
  b.Control(0);
  EXPECT_TRUE(b.irq14.level());
  b.Status();
  EXPECT_FALSE(b.irq14.level());
}

TEST(Piix3Ide, AbsentDrivesReadZero) {
  Board b;  // No disks at all.
  for (int c = 0; c < 2; ++c) {
    for (int reg = 1; reg < 8; ++reg) EXPECT_EQ(b.Reg(c, reg), 0) << c << " " << reg;
    EXPECT_EQ(b.AltStatus(c), 0);
    // The libata/SeaBIOS presence probe: written values do not read back.
    b.SetReg(c, 2, 0x55);
    b.SetReg(c, 3, 0xaa);
    EXPECT_NE(b.Reg(c, 2), 0x55);
    b.Command(0xec, c);
    EXPECT_EQ(b.Status(c), 0);
  }
  EXPECT_EQ(b.irq14.rising_edges(), 0);
  EXPECT_EQ(b.irq15.rising_edges(), 0);
}

TEST(Piix3Ide, AbsentSlaveBehindAMaster) {
  DiskBoard b("absent_slave");
  b.Select(1);
  EXPECT_EQ(b.Status(), 0);
  EXPECT_EQ(b.AltStatus(), 0);
  EXPECT_EQ(b.Error(), 0);
  b.irq14.ClearEdges();
  b.Command(0xec);  // Ignored: nobody answers.
  EXPECT_EQ(b.irq14.rising_edges(), 0);
  EXPECT_EQ(b.Status(), 0);
  EXPECT_EQ(b.pio.ReadValue(0x1f0, 2), 0u);
  // IDENTIFY PACKET DEVICE is aborted by the ATA master (ATAPI probe).
  b.Select(0);
  b.Command(0xa1);
  EXPECT_EQ(b.Status(), kStatusDrdy | kStatusErr);
  EXPECT_EQ(b.Error(), kErrorAbrt);
}

TEST(Piix3Ide, SlaveAndSecondaryChannel) {
  Board b;
  const std::string path = MakeImage("secondary", 64, 64);
  ASSERT_TRUE(b.ide.AttachDisk(1, 1, OpenDisk(path)).has_value());
  b.Select(1, 1);
  EXPECT_EQ(b.Status(1), kReady);
  b.Lba28(9, 1, /*unit=*/1, /*c=*/1);
  b.Command(0x20, 1);
  EXPECT_EQ(b.irq15.rising_edges(), 1);
  EXPECT_EQ(b.irq14.rising_edges(), 0);
  EXPECT_EQ(b.ReadData(512, 1), PatternSectors(9, 1));
  EXPECT_EQ(b.Identify(1, 1)[10], ('X' << 8) | 'V');
  EXPECT_EQ(AtaString(b.Identify(1, 1), 10, 4), "XV00004 ");
  // DMA on the secondary channel uses the second register set.
  b.mem.PutPrd(0x3000, 0, 0x60000, 512, true);
  b.SetPrdTable(0x3000, 1);
  b.Lba28(3, 1, 1, 1);
  b.Command(0xc8, 1);
  b.SetBmCommand(kBmCommandWriteToMemory | kBmCommandStart, 1);
  EXPECT_EQ(b.BmStatus(1), kBmStatusInterrupt);
  EXPECT_EQ(b.BmStatus(0), 0);
  const auto expected = PatternSectors(3, 1);
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), b.mem.ram.begin() + 0x60000));
}

TEST(Piix3Ide, ReadOnlyDiskAbortsWrites) {
  DiskBoard b("readonly", 64, /*read_only=*/true);
  b.Lba28(0, 1);
  b.Command(0x30);
  EXPECT_EQ(b.Status(), kStatusDrdy | kStatusErr);  // No DRQ: no data phase.
  EXPECT_EQ(b.Error(), kErrorAbrt);
  b.WriteData(std::vector<uint8_t>(512, 0xee));
  b.Lba28(0, 1);
  b.Command(0xca);
  EXPECT_EQ(b.Error(), kErrorAbrt);
  EXPECT_EQ(FileBytes(b.path, 0, 512), PatternSectors(0, 1));
  // Reads still work.
  b.Lba28(0, 1);
  b.Command(0x20);
  EXPECT_EQ(b.ReadData(512), PatternSectors(0, 1));
}

TEST(Piix3Ide, OutOfRangeIsIdnf) {
  DiskBoard b("idnf", 64);
  b.Lba28(63, 2);  // Last sector plus one.
  b.Command(0x20);
  EXPECT_EQ(b.Status(), kStatusDrdy | kStatusErr);
  EXPECT_EQ(b.Error(), kErrorIdnf);
  b.Lba28(64, 1);
  b.Command(0xca);
  EXPECT_EQ(b.Error(), kErrorIdnf);
  b.Lba48(1ull << 40, 1);
  b.Command(0x25);
  EXPECT_EQ(b.Error(), kErrorIdnf);
  b.Lba28(100, 1);
  b.Command(0x40);  // READ VERIFY checks the range too.
  EXPECT_EQ(b.Error(), kErrorIdnf);
  b.Lba28(63, 1);
  b.Command(0x40);
  EXPECT_EQ(b.Status(), kReady);
  b.Lba28(63, 1);
  b.Command(0x20);
  EXPECT_EQ(b.ReadData(512), PatternSectors(63, 1));
}

TEST(Piix3Ide, MiscCommands) {
  DiskBoard b("misc", 64);
  // Unknown commands (SMART, READ LOG EXT, NOP) abort.
  for (uint8_t cmd : {0xb0, 0x2f, 0x00, 0xff}) {
    b.Command(cmd);
    EXPECT_EQ(b.Status(), kStatusDrdy | kStatusErr) << int{cmd};
    EXPECT_EQ(b.Error(), kErrorAbrt) << int{cmd};
  }
  // CHECK POWER MODE: active.
  b.SetReg(0, 2, 0);
  b.Command(0xe5);
  EXPECT_EQ(b.Status(), kReady);
  EXPECT_EQ(b.Reg(0, 2), 0xff);
  // Power, seek and recalibrate are no-ops that succeed.
  for (uint8_t cmd : {0xe0, 0xe1, 0xe2, 0xe3, 0x10, 0x70, 0xea}) {
    b.Command(cmd);
    EXPECT_EQ(b.Status(), kReady) << int{cmd};
  }
  // EXECUTE DEVICE DIAGNOSTIC posts the signature and code 01h.
  b.Lba28(0x55, 7);
  b.irq14.ClearEdges();
  b.Command(0x90);
  EXPECT_EQ(b.irq14.rising_edges(), 1);
  EXPECT_EQ(b.Status(), kReady);
  EXPECT_EQ(b.Error(), 0x01);
  EXPECT_EQ(b.Reg(0, 2), 1);
  EXPECT_EQ(b.Reg(0, 3), 1);
  EXPECT_EQ(b.Reg(0, 4), 0);
  // READ NATIVE MAX ADDRESS (LBA28).
  b.SetReg(0, 6, 0xe0);
  b.Command(0xf8);
  EXPECT_EQ(b.Reg(0, 3), 63);
  EXPECT_EQ(b.Reg(0, 4), 0);
}

TEST(Piix3Ide, SetFeatures) {
  DiskBoard b("features");
  // Transfer mode MWDMA2 (what ata_piix picks for a PIIX3).
  b.SetReg(0, 1, 0x03);
  b.SetReg(0, 2, 0x22);
  b.Command(0xef);
  EXPECT_EQ(b.Status(), kReady);
  auto w = b.Identify();
  EXPECT_EQ(w[63], 0x0407);
  EXPECT_EQ(w[88], 0x003f);
  // UDMA 2.
  b.SetReg(0, 1, 0x03);
  b.SetReg(0, 2, 0x42);
  b.Command(0xef);
  w = b.Identify();
  EXPECT_EQ(w[63], 0x0007);
  EXPECT_EQ(w[88], 0x043f);
  // UDMA 6 is not supported.
  b.SetReg(0, 1, 0x03);
  b.SetReg(0, 2, 0x46);
  b.Command(0xef);
  EXPECT_EQ(b.Error(), kErrorAbrt);
  // Write cache off, then on.
  b.SetReg(0, 1, 0x82);
  b.Command(0xef);
  EXPECT_EQ(b.Status(), kReady);
  EXPECT_FALSE(b.Identify()[85] & (1 << 5));
  // Writes still land (written through).
  b.Lba28(2, 1);
  b.Command(0x30);
  b.WriteData(PatternSectors(40, 1));
  EXPECT_EQ(FileBytes(b.path, 2 * 512, 512), PatternSectors(40, 1));
  b.SetReg(0, 1, 0x02);
  b.Command(0xef);
  EXPECT_TRUE(b.Identify()[85] & (1 << 5));
  // Look-ahead is accepted; an unknown subcommand is not.
  b.SetReg(0, 1, 0xaa);
  b.Command(0xef);
  EXPECT_EQ(b.Status(), kReady);
  b.SetReg(0, 1, 0x10);
  b.Command(0xef);
  EXPECT_EQ(b.Error(), kErrorAbrt);
}

TEST(Piix3Ide, CommandsDuringDrqAreIgnored) {
  DiskBoard b("busy");
  b.Lba28(0, 2);
  b.Command(0x20);
  b.Command(0xec);  // Ignored: DRQ is set.
  EXPECT_EQ(b.ReadData(1024), PatternSectors(0, 2));
  EXPECT_EQ(b.Status(), kReady);
}

TEST(Piix3Ide, ResetReturnsToPowerOn) {
  DiskBoard b("reset");
  b.SetReg(0, 1, 0x82);
  b.Command(0xef);
  b.SetPrdTable(0x1000);
  b.Lba28(0, 2);
  b.Command(0x20);
  b.ide.Reset();
  EXPECT_FALSE(b.irq14.level());
  EXPECT_EQ(b.Status(), kReady);
  EXPECT_EQ(b.Error(), 0x01);
  EXPECT_EQ(b.pci.ConfigRead(1, 1, 0x04, 2), 0u);  // PCI decode off.
  EXPECT_EQ(b.pci.ConfigRead(1, 1, 0x20, 4), 1u);
  b.EnableBusMaster();
  EXPECT_EQ(b.pio.ReadValue(kBmBase + 4, 4), 0u);
  EXPECT_TRUE(b.Identify()[85] & (1 << 5));  // Write cache back on.
}

TEST(Piix3Ide, SaveLoadRoundTripMidTransfer) {
  DiskBoard a("roundtrip");
  // Mutate: multiple mode, a secondary BM setup, nIEN on the secondary, and
  // a READ MULTIPLE stopped halfway through its first block.
  a.SetReg(0, 2, 4);
  a.Command(0xc6);
  a.SetPrdTable(0x4444, 1);
  a.SetBmStatus(0x60, 1);
  a.Control(kControlNien, 1);
  a.Lba28(3, 6);
  a.Command(0xc4);
  const auto first = a.ReadData(1000);
  ASSERT_TRUE(a.irq14.level());  // Pending, not yet acknowledged.
  const auto saved = a.Save();

  DiskBoard b("roundtrip_b");
  // The same disk contents behind the fresh instance.
  ASSERT_EQ(FileBytes(a.path, 0, 64 * 512), FileBytes(b.path, 0, 64 * 512));
  ASSERT_TRUE(b.Load(saved));
  EXPECT_EQ(b.Save(), saved);
  EXPECT_TRUE(b.irq14.level());  // Derived IRQ level re-driven on load.
  EXPECT_EQ(b.pio.ReadValue(kBmBase + 12, 4), 0x4444u);
  EXPECT_EQ(b.BmStatus(1), 0x60);

  // Both continue identically.
  std::vector<uint8_t> rest_a = a.ReadData(6 * 512 - 1000);
  std::vector<uint8_t> rest_b = b.ReadData(6 * 512 - 1000);
  EXPECT_EQ(rest_a, rest_b);
  std::vector<uint8_t> all = first;
  all.insert(all.end(), rest_b.begin(), rest_b.end());
  EXPECT_EQ(all, PatternSectors(3, 6));
  EXPECT_EQ(a.Status(), b.Status());
  EXPECT_EQ(a.Save(), b.Save());
}

TEST(Piix3Ide, LoadRejectsTruncatedSnapshot) {
  DiskBoard a("truncated");
  auto saved = a.Save();
  saved.resize(saved.size() / 2);
  DiskBoard b("truncated_b");
  EXPECT_FALSE(b.Load(saved));
}

}  // namespace
}  // namespace x86vm
