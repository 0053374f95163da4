#include "devices/fw_cfg.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace x86vm {
namespace {

// 64 KiB of guest RAM; [kRomStart, end) is ROM (readable, writes refused).
class FakeMemory : public DmaMemory {
 public:
  static constexpr uint64_t kSize = 0x10000;
  static constexpr uint64_t kRomStart = 0xf000;
  FakeMemory() : ram(kSize, 0xcc) {}
  bool ReadPhysical(uint64_t gpa, std::span<uint8_t> data) override {
    if (gpa > kSize || data.size() > kSize - gpa) return false;
    std::copy_n(ram.begin() + static_cast<ptrdiff_t>(gpa), data.size(), data.begin());
    return true;
  }
  bool WritePhysical(uint64_t gpa, std::span<const uint8_t> data) override {
    if (gpa > kRomStart || data.size() > kRomStart - gpa) return false;
    std::copy(data.begin(), data.end(), ram.begin() + static_cast<ptrdiff_t>(gpa));
    return true;
  }
  void PutBe32(uint64_t gpa, uint32_t v) {
    for (int i = 0; i < 4; ++i) ram[gpa + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
  }
  void PutBe64(uint64_t gpa, uint64_t v) {
    PutBe32(gpa, static_cast<uint32_t>(v >> 32));
    PutBe32(gpa + 4, static_cast<uint32_t>(v));
  }
  uint32_t GetBe32(uint64_t gpa) const {
    return static_cast<uint32_t>(ram[gpa]) << 24 | static_cast<uint32_t>(ram[gpa + 1]) << 16 |
           static_cast<uint32_t>(ram[gpa + 2]) << 8 | ram[gpa + 3];
  }
  std::string GetString(uint64_t gpa, size_t n) const {
    return std::string(ram.begin() + static_cast<ptrdiff_t>(gpa),
                       ram.begin() + static_cast<ptrdiff_t>(gpa + n));
  }
  std::vector<uint8_t> ram;
};

std::vector<uint8_t> Bytes(std::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); }

// The device on a PIO bus at the PC ports, with a board-like configuration.
struct Fixture {
  explicit Fixture(bool with_dma = true) : fw(with_dma ? &mem : nullptr) {
    EXPECT_TRUE(pio.Register(FwCfg::kIoPort, 2, fw.io_port(), "fw_cfg").has_value());
    EXPECT_TRUE(pio.Register(FwCfg::kDmaPort, 8, fw.dma_port(), "fw_cfg-dma").has_value());
    EXPECT_TRUE(fw.AddU64(FwCfg::kRamSize, 512ull << 20).has_value());
    EXPECT_TRUE(fw.AddU16(FwCfg::kNbCpus, 2).has_value());
    EXPECT_TRUE(fw.AddU16(FwCfg::kMaxCpus, 4).has_value());
    EXPECT_TRUE(fw.AddBytes(FwCfg::kCmdlineData, Bytes("console=ttyS0")).has_value());
    // Added out of order on purpose: keys follow name order.
    // Two e820 entries in the etc/e820 layout (u64 address, u64 size, u32 type).
    std::vector<uint8_t> e820;
    for (uint64_t v : {0x0ull, 0x9fc00ull, 0x1ull, 0x100000ull, 0x1ff00000ull, 0x1ull}) {
      int bytes = (e820.size() % 20 == 16) ? 4 : 8;
      for (int i = 0; i < bytes; ++i) e820.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
    EXPECT_TRUE(fw.AddFile("etc/e820", e820).has_value());
    EXPECT_TRUE(fw.AddFile("bootorder", Bytes("/pci@i0cf8/ide@1,1/drive@0/disk@0\n")).has_value());
    EXPECT_TRUE(fw.AddWritableFile("etc/vmgenid_addr", std::vector<uint8_t>(8, 0),
                                   [this](uint32_t offset, uint32_t len) {
                                     writes.push_back({offset, len});
                                   })
                    .has_value());
  }

  void Select(uint16_t key) { pio.WriteValue(FwCfg::kIoPort, 2, key); }
  uint8_t ReadByte() { return static_cast<uint8_t>(pio.ReadValue(FwCfg::kIoPort + 1, 1)); }
  std::string ReadString(size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(ReadByte()));
    return s;
  }
  uint32_t ReadBe32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | ReadByte();
    return v;
  }
  uint16_t ReadBe16() { return static_cast<uint16_t>(ReadByte() << 8 | ReadByte()); }
  uint64_t ReadLe(int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(ReadByte()) << (8 * i);
    return v;
  }
  // What a guest driver does: the big-endian descriptor address, high half
  // at 0x514 then low half at 0x518, each as a 32-bit OUT of BE bytes.
  void StartDma(uint64_t descriptor) {
    pio.WriteValue(FwCfg::kDmaPort, 4, __builtin_bswap32(static_cast<uint32_t>(descriptor >> 32)));
    pio.WriteValue(FwCfg::kDmaPort + 4, 4, __builtin_bswap32(static_cast<uint32_t>(descriptor)));
  }
  // Writes a descriptor at `at` and runs it; returns the control word after.
  uint32_t Dma(uint64_t at, uint32_t control, uint32_t length, uint64_t address) {
    mem.PutBe32(at, control);
    mem.PutBe32(at + 4, length);
    mem.PutBe64(at + 8, address);
    StartDma(at);
    return mem.GetBe32(at);
  }

  FakeMemory mem;
  Bus pio{"pio"};
  FwCfg fw;
  std::vector<std::pair<uint32_t, uint32_t>> writes;
};

constexpr uint32_t Ctl(uint16_t key, uint32_t bits) {
  return static_cast<uint32_t>(key) << 16 | FwCfg::kDmaSelect | bits;
}

TEST(FwCfg, SignatureThroughTheDataPort) {
  Fixture f;
  f.Select(FwCfg::kSignature);
  EXPECT_EQ(f.ReadString(4), "QEMU");
  EXPECT_EQ(f.ReadByte(), 0u);  // Past the end reads zero.
  f.Select(FwCfg::kSignature);  // Re-selecting rewinds.
  EXPECT_EQ(f.ReadByte(), 'Q');
  // QEMU's combined port: an 8-bit read at 0x510 also reads data.
  EXPECT_EQ(f.pio.ReadValue(FwCfg::kIoPort, 1), 'E');
  // After reset the signature is selected.
  f.Select(FwCfg::kNbCpus);
  f.fw.Reset();
  EXPECT_EQ(f.ReadString(4), "QEMU");
}

TEST(FwCfg, IdReportsDma) {
  Fixture f;
  f.Select(FwCfg::kId);
  EXPECT_EQ(f.ReadLe(4), 3u);  // Traditional + DMA.
  Fixture no_dma(/*with_dma=*/false);
  no_dma.Select(FwCfg::kId);
  EXPECT_EQ(no_dma.ReadLe(4), 1u);
}

TEST(FwCfg, DmaRegisterReadsSignature) {
  Fixture f;
  EXPECT_EQ(f.pio.ReadValue(FwCfg::kDmaPort, 8), 0x47464320554d4551ull);  // "QEMU CFG".
  EXPECT_EQ(f.pio.ReadValue(FwCfg::kDmaPort, 4), 0x554d4551u);            // "QEMU".
  EXPECT_EQ(f.pio.ReadValue(FwCfg::kDmaPort + 4, 4), 0x47464320u);        // " CFG".
  EXPECT_EQ(f.pio.ReadValue(FwCfg::kDmaPort + 5, 1), 'C');
}

TEST(FwCfg, LegacyKeys) {
  Fixture f;
  f.Select(FwCfg::kRamSize);
  EXPECT_EQ(f.ReadLe(8), 512ull << 20);
  f.Select(FwCfg::kNbCpus);
  EXPECT_EQ(f.ReadLe(2), 2u);
  f.Select(FwCfg::kMaxCpus);
  EXPECT_EQ(f.ReadLe(2), 4u);
  f.Select(FwCfg::kCmdlineData);
  EXPECT_EQ(f.ReadString(13), "console=ttyS0");
  // The write-channel bit selects the same item.
  f.Select(FwCfg::kNbCpus | FwCfg::kWriteChannel);
  EXPECT_EQ(f.ReadLe(2), 2u);
  // Unset keys read as zeros.
  f.Select(FwCfg::kKernelSize);
  EXPECT_EQ(f.ReadLe(4), 0u);
  f.Select(0x3fff);
  EXPECT_EQ(f.ReadLe(4), 0u);
  // Arch-local keys live in their own space.
  ASSERT_TRUE(f.fw.AddU32(FwCfg::kArchLocal | 0x0002, 0x11223344).has_value());
  f.Select(FwCfg::kArchLocal | 0x0002);
  EXPECT_EQ(f.ReadLe(4), 0x11223344u);
  // Replacing a key is allowed; reserved and file keys are refused.
  EXPECT_TRUE(f.fw.AddU16(FwCfg::kNbCpus, 3).has_value());
  EXPECT_FALSE(f.fw.AddU32(FwCfg::kSignature, 0).has_value());
  EXPECT_FALSE(f.fw.AddU32(FwCfg::kId, 0).has_value());
  EXPECT_FALSE(f.fw.AddU32(FwCfg::kFileDir, 0).has_value());
  EXPECT_FALSE(f.fw.AddU32(0x0020, 0).has_value());
  EXPECT_FALSE(f.fw.AddU32(FwCfg::kNbCpus | FwCfg::kWriteChannel, 0).has_value());
}

TEST(FwCfg, PortWritesOtherThanTheSelectorAreIgnored) {
  Fixture f;
  f.Select(FwCfg::kNbCpus);
  f.pio.WriteValue(FwCfg::kIoPort + 1, 1, 0x55);  // Data write: ignored.
  f.pio.WriteValue(FwCfg::kIoPort, 1, 0x00);      // 8-bit selector write: ignored.
  EXPECT_EQ(f.ReadLe(2), 2u);
  EXPECT_EQ(f.pio.ReadValue(FwCfg::kIoPort, 2), 0xffffu);  // Not decoded.
  f.pio.WriteValue(FwCfg::kDmaPort, 2, 0x1234);            // Not decoded.
  EXPECT_EQ(f.fw.selector(), FwCfg::kNbCpus);
}

TEST(FwCfg, FileDirectoryInNameOrder) {
  Fixture f;
  f.Select(FwCfg::kFileDir);
  ASSERT_EQ(f.ReadBe32(), 3u);
  struct Entry {
    uint32_t size;
    uint16_t select;
    std::string name;
  };
  std::vector<Entry> entries;
  for (int i = 0; i < 3; ++i) {
    Entry e;
    e.size = f.ReadBe32();
    e.select = f.ReadBe16();
    EXPECT_EQ(f.ReadBe16(), 0u);  // Reserved.
    std::string raw = f.ReadString(56);
    EXPECT_EQ(raw.back(), '\0');
    e.name = raw.c_str();
    entries.push_back(e);
  }
  EXPECT_EQ(f.ReadByte(), 0u);  // End of the directory.
  EXPECT_EQ(entries[0].name, "bootorder");
  EXPECT_EQ(entries[0].select, 0x20u);
  EXPECT_EQ(entries[0].size, 34u);
  EXPECT_EQ(entries[1].name, "etc/e820");
  EXPECT_EQ(entries[1].select, 0x21u);
  EXPECT_EQ(entries[1].size, 40u);
  EXPECT_EQ(entries[2].name, "etc/vmgenid_addr");
  EXPECT_EQ(entries[2].select, 0x22u);
  EXPECT_EQ(entries[2].size, 8u);
  EXPECT_EQ(f.fw.FileKey("etc/e820"), 0x21);
  EXPECT_FALSE(f.fw.FileKey("nope").has_value());

  // A file read through the data port by its directory key.
  f.Select(entries[1].select);
  EXPECT_EQ(f.ReadLe(8), 0u);        // First e820 entry: address 0,
  EXPECT_EQ(f.ReadLe(8), 0x9fc00u);  // length 639 KiB,
  EXPECT_EQ(f.ReadLe(4), 1u);        // type RAM.
  EXPECT_EQ(f.ReadLe(8), 0x100000u);
  f.Select(0x20);
  EXPECT_EQ(f.ReadString(5), "/pci@");
}

TEST(FwCfg, FileNamesAreChecked) {
  Fixture f;
  EXPECT_FALSE(f.fw.AddFile("bootorder", {}).has_value());  // Duplicate.
  EXPECT_FALSE(f.fw.AddFile("", {}).has_value());
  EXPECT_FALSE(f.fw.AddFile(std::string(56, 'x'), {}).has_value());
  EXPECT_TRUE(f.fw.AddFile(std::string(55, 'x'), {}).has_value());
  // Adding "a..." renumbers the files after it, as in QEMU.
  EXPECT_TRUE(f.fw.AddFile("aaa", {1, 2}).has_value());
  EXPECT_EQ(f.fw.FileKey("aaa"), 0x20);
  EXPECT_EQ(f.fw.FileKey("bootorder"), 0x21);
  ASSERT_NE(f.fw.FindFile("aaa"), nullptr);
  EXPECT_EQ(f.fw.FindFile("aaa")->size(), 2u);
  EXPECT_EQ(f.fw.FindFile("zzz"), nullptr);
}

TEST(FwCfg, DmaReadSelectsAndCopies) {
  Fixture f;
  const uint16_t key = *f.fw.FileKey("bootorder");
  EXPECT_EQ(f.Dma(0x100, Ctl(key, FwCfg::kDmaRead), 5, 0x2000), 0u);
  EXPECT_EQ(f.mem.GetString(0x2000, 5), "/pci@");
  EXPECT_EQ(f.mem.ram[0x2005], 0xcc);  // Nothing past the length.
  // The offset carries on, for DMA and for the data port alike.
  EXPECT_EQ(f.Dma(0x100, FwCfg::kDmaRead, 4, 0x2100), 0u);
  EXPECT_EQ(f.mem.GetString(0x2100, 4), "i0cf");
  EXPECT_EQ(f.ReadByte(), '8');
  // Reading past the end zero-fills the rest.
  EXPECT_EQ(f.Dma(0x100, Ctl(key, FwCfg::kDmaRead), 40, 0x3000), 0u);
  EXPECT_EQ(f.mem.GetString(0x3000, 34), "/pci@i0cf8/ide@1,1/drive@0/disk@0\n");
  EXPECT_EQ(f.mem.GetString(0x3000 + 34, 6), std::string(6, '\0'));
  EXPECT_EQ(f.mem.ram[0x3000 + 40], 0xcc);
  // An absent item reads as zeros.
  EXPECT_EQ(f.Dma(0x100, Ctl(0x1234, FwCfg::kDmaRead), 4, 0x3100), 0u);
  EXPECT_EQ(f.mem.GetString(0x3100, 4), std::string(4, '\0'));
  // The address register is cleared after each transfer.
  EXPECT_EQ(f.pio.ReadValue(FwCfg::kDmaPort, 4), 0x554d4551u);
}

TEST(FwCfg, DmaSkipAndSelectOnly) {
  Fixture f;
  const uint16_t key = *f.fw.FileKey("bootorder");
  // Select only: no read, no write, length ignored.
  EXPECT_EQ(f.Dma(0x100, Ctl(key, 0), 100, 0x2000), 0u);
  EXPECT_EQ(f.fw.selector(), key);
  EXPECT_EQ(f.fw.offset(), 0u);
  EXPECT_EQ(f.mem.ram[0x2000], 0xcc);
  EXPECT_EQ(f.Dma(0x100, FwCfg::kDmaSkip, 11, 0), 0u);
  EXPECT_EQ(f.fw.offset(), 11u);
  EXPECT_EQ(f.Dma(0x100, FwCfg::kDmaRead, 3, 0x2000), 0u);
  EXPECT_EQ(f.mem.GetString(0x2000, 3), "ide");
  // Skipping past the end is not an error and stops at the end.
  EXPECT_EQ(f.Dma(0x100, FwCfg::kDmaSkip, 1000, 0), 0u);
  EXPECT_EQ(f.fw.offset(), 34u);
  // A 64-bit write of the register also starts a transfer.
  f.mem.PutBe32(0x200, Ctl(FwCfg::kSignature, FwCfg::kDmaRead));
  f.mem.PutBe32(0x204, 4);
  f.mem.PutBe64(0x208, 0x2200);
  f.pio.WriteValue(FwCfg::kDmaPort, 8, __builtin_bswap64(0x200));
  EXPECT_EQ(f.mem.GetBe32(0x200), 0u);
  EXPECT_EQ(f.mem.GetString(0x2200, 4), "QEMU");
}

TEST(FwCfg, DmaBadAddressesSetTheErrorBit) {
  Fixture f;
  // Destination beyond RAM.
  EXPECT_EQ(f.Dma(0x100, Ctl(FwCfg::kSignature, FwCfg::kDmaRead), 4, 0x12345678), FwCfg::kDmaError);
  // Destination that runs into ROM.
  EXPECT_EQ(f.Dma(0x100, Ctl(FwCfg::kSignature, FwCfg::kDmaRead), 4, FakeMemory::kRomStart - 2),
            FwCfg::kDmaError);
  // Zero-fill into a bad address, and an address that wraps.
  EXPECT_EQ(f.Dma(0x100, Ctl(0x1234, FwCfg::kDmaRead), 0x10000, 0x8000), FwCfg::kDmaError);
  EXPECT_EQ(f.Dma(0x100, Ctl(FwCfg::kSignature, FwCfg::kDmaRead), 4, ~0ull - 1), FwCfg::kDmaError);
  // A descriptor outside RAM: nothing to report to, nothing breaks.
  f.StartDma(0xdead00000000ull);
  f.StartDma(FakeMemory::kSize - 8);  // Straddles the end of RAM.
  // The device still works afterwards.
  EXPECT_EQ(f.Dma(0x100, Ctl(FwCfg::kSignature, FwCfg::kDmaRead), 4, 0x2000), 0u);
  EXPECT_EQ(f.mem.GetString(0x2000, 4), "QEMU");
  // A descriptor in ROM can be read but not completed: the transfer runs.
  f.mem.PutBe32(FakeMemory::kRomStart, Ctl(FwCfg::kNbCpus, FwCfg::kDmaRead));
  f.mem.PutBe32(FakeMemory::kRomStart + 4, 2);
  f.mem.PutBe64(FakeMemory::kRomStart + 8, 0x2100);
  f.StartDma(FakeMemory::kRomStart);
  EXPECT_EQ(f.mem.ram[0x2100], 2u);
}

TEST(FwCfg, DmaWritesOnlyWritableFilesInBounds) {
  Fixture f;
  const uint16_t key = *f.fw.FileKey("etc/vmgenid_addr");
  for (int i = 0; i < 8; ++i) f.mem.ram[0x4000 + i] = static_cast<uint8_t>(0x10 + i);
  EXPECT_EQ(f.Dma(0x100, Ctl(key, FwCfg::kDmaSkip), 2, 0), 0u);
  EXPECT_EQ(f.Dma(0x100, FwCfg::kDmaWrite, 4, 0x4000), 0u);
  const std::vector<uint8_t> expect = {0, 0, 0x10, 0x11, 0x12, 0x13, 0, 0};
  EXPECT_EQ(*f.fw.FindFile("etc/vmgenid_addr"), expect);
  ASSERT_EQ(f.writes.size(), 1u);
  EXPECT_EQ(f.writes[0], std::make_pair(2u, 4u));
  // The guest can read back what it wrote.
  EXPECT_EQ(f.Dma(0x100, Ctl(key, FwCfg::kDmaRead), 8, 0x5000), 0u);
  EXPECT_EQ(std::vector<uint8_t>(f.mem.ram.begin() + 0x5000, f.mem.ram.begin() + 0x5008), expect);
  // Past the end of the file: refused, nothing changes.
  EXPECT_EQ(f.Dma(0x100, Ctl(key, FwCfg::kDmaSkip), 6, 0), 0u);
  EXPECT_EQ(f.Dma(0x100, FwCfg::kDmaWrite, 4, 0x4000), FwCfg::kDmaError);
  EXPECT_EQ(*f.fw.FindFile("etc/vmgenid_addr"), expect);
  // From a bad guest address: refused.
  EXPECT_EQ(f.Dma(0x100, Ctl(key, FwCfg::kDmaWrite), 4, 0x7fffffff), FwCfg::kDmaError);
  EXPECT_EQ(*f.fw.FindFile("etc/vmgenid_addr"), expect);
  // Read-only items and absent items refuse writes.
  EXPECT_EQ(f.Dma(0x100, Ctl(*f.fw.FileKey("bootorder"), FwCfg::kDmaWrite), 4, 0x4000),
            FwCfg::kDmaError);
  EXPECT_EQ(f.fw.FindFile("bootorder")->at(0), '/');
  EXPECT_EQ(f.Dma(0x100, Ctl(FwCfg::kSignature, FwCfg::kDmaWrite), 1, 0x4000), FwCfg::kDmaError);
  EXPECT_EQ(f.Dma(0x100, Ctl(0x1234, FwCfg::kDmaWrite), 1, 0x4000), FwCfg::kDmaError);
  EXPECT_EQ(f.writes.size(), 1u);
}

TEST(FwCfg, WithoutDmaMemoryTheRegisterDoesNothing) {
  Fixture f(/*with_dma=*/false);
  f.mem.PutBe32(0x100, Ctl(FwCfg::kSignature, FwCfg::kDmaRead));
  f.mem.PutBe32(0x104, 4);
  f.mem.PutBe64(0x108, 0x2000);
  f.StartDma(0x100);
  EXPECT_EQ(f.mem.ram[0x2000], 0xcc);
  EXPECT_EQ(f.mem.GetBe32(0x100), Ctl(FwCfg::kSignature, FwCfg::kDmaRead));
}

TEST(FwCfg, SaveLoadRoundTrip) {
  auto a = std::make_unique<Fixture>();
  const uint16_t key = *a->fw.FileKey("etc/vmgenid_addr");
  for (int i = 0; i < 8; ++i) a->mem.ram[0x4000 + i] = static_cast<uint8_t>(0xa0 + i);
  EXPECT_EQ(a->Dma(0x100, Ctl(key, FwCfg::kDmaWrite), 8, 0x4000), 0u);
  a->Select(*a->fw.FileKey("bootorder"));
  EXPECT_EQ(a->ReadString(5), "/pci@");
  // Half-written DMA address: the high dword is state too.
  a->pio.WriteValue(FwCfg::kDmaPort, 4, __builtin_bswap32(0));
  Serializer save = Serializer::ForSave();
  a->fw.Serialize(save);
  const std::vector<uint8_t> saved = save.data();

  // A fresh machine with the same configuration (the board rebuilds items).
  auto b = std::make_unique<Fixture>();
  Serializer load = Serializer::ForLoad(saved);
  b->fw.Serialize(load);
  ASSERT_TRUE(load.ok()) << load.error();
  EXPECT_TRUE(load.at_end());
  Serializer again = Serializer::ForSave();
  b->fw.Serialize(again);
  EXPECT_EQ(again.data(), saved);

  // Behaviour continues where it left off.
  EXPECT_EQ(b->ReadString(5), "i0cf8");
  const std::vector<uint8_t> written = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7};
  EXPECT_EQ(*b->fw.FindFile("etc/vmgenid_addr"), written);
  b->mem.PutBe32(0x100, Ctl(FwCfg::kSignature, FwCfg::kDmaRead));
  b->mem.PutBe32(0x104, 4);
  b->mem.PutBe64(0x108, 0x2000);
  b->pio.WriteValue(FwCfg::kDmaPort + 4, 4, __builtin_bswap32(0x100));  // Low half only.
  EXPECT_EQ(b->mem.GetString(0x2000, 4), "QEMU");
}

TEST(FwCfg, LoadToleratesADifferentFileSetAndRejectsTruncation) {
  auto a = std::make_unique<Fixture>();
  Serializer save = Serializer::ForSave();
  a->fw.Serialize(save);
  std::vector<uint8_t> saved = save.data();

  // This machine has no writable file: the saved one is ignored, no crash.
  FakeMemory mem;
  FwCfg other(&mem);
  Serializer load = Serializer::ForLoad(saved);
  other.Serialize(load);
  EXPECT_TRUE(load.ok());

  saved.resize(saved.size() - 3);
  Serializer truncated = Serializer::ForLoad(saved);
  FwCfg third(&mem);
  third.Serialize(truncated);
  EXPECT_FALSE(truncated.ok());
}

}  // namespace
}  // namespace x86vm
