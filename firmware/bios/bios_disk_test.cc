// INT 13h and INT 19h against disk images in a temporary folder.
#include <gtest/gtest.h>

#include <array>
#include <cstring>

#include "firmware/bios/bios_bda.h"
#include "firmware/bios/bios_services.h"
#include "firmware/bios/bios_test_util.h"

namespace x86vm {
namespace {

namespace abi = bios_abi;

TEST(BiosGeometryTest, LbaAssistedTranslation) {
  auto g = BiosDiskGeometry(2048);  // 1 MiB.
  EXPECT_EQ(g.heads, 16u);
  EXPECT_EQ(g.sectors_per_track, 63u);
  EXPECT_EQ(g.cylinders, 2u);
  g = BiosDiskGeometry(1024ull * 16 * 63);  // 504 MiB: the last 16-head size.
  EXPECT_EQ(g.heads, 16u);
  EXPECT_EQ(g.cylinders, 1024u);
  g = BiosDiskGeometry(2ull << 21);  // 2 GiB.
  EXPECT_EQ(g.heads, 128u);
  EXPECT_EQ(g.cylinders, 520u);
  g = BiosDiskGeometry(100ull << 21);  // 100 GiB: 255 heads, cylinders beyond 1024.
  EXPECT_EQ(g.heads, 255u);
  EXPECT_EQ(g.cylinders, 13054u);
  EXPECT_EQ(BiosDiskGeometry(1).cylinders, 1u);
}

class BiosDiskTest : public ::testing::Test {
 protected:
  BiosDiskTest()
      : disk_(board_.AddDisk(4096)),
        ro_disk_(board_.AddDisk(64, /*read_only=*/true)),
        bios_(board_.Environment({disk_, ro_disk_})) {}

  BiosRegs Int13(uint16_t ax, uint8_t drive = 0x80) {
    BiosRegs r = Call(0x13, ax);
    r.set_dl(drive);
    return r;
  }

  // A disk address packet at 0:0600 for `count` sectors at `lba` to seg:off.
  void Dap(uint16_t count, uint64_t lba, uint16_t seg, uint16_t off, uint8_t size = 0x10,
           uint64_t flat = 0) {
    bios_.Write8(0x600, size);
    bios_.Write8(0x601, 0);
    bios_.Write16(0x602, count);
    bios_.Write16(0x604, off);
    bios_.Write16(0x606, seg);
    bios_.Write32(0x608, static_cast<uint32_t>(lba));
    bios_.Write32(0x60c, static_cast<uint32_t>(lba >> 32));
    bios_.Write32(0x610, static_cast<uint32_t>(flat));
    bios_.Write32(0x614, static_cast<uint32_t>(flat >> 32));
  }

  // The sector number stamped into the sector read at `gpa`.
  uint32_t StampAt(uint64_t gpa) {
    EXPECT_EQ(bios_.Read8(gpa), 'S');
    return bios_.Read32(gpa + 1);
  }

  FakeBiosBoard board_;
  BiosDisk disk_;
  BiosDisk ro_disk_;
  BiosServices bios_;
};

TEST_F(BiosDiskTest, ChsReadAddressesTheTranslatedGeometry) {
  // Cylinder 1, head 2, sector 3: LBA (1 * 16 + 2) * 63 + 2 = 1136.
  BiosRegs r = Int13(0x0202);
  r.set_ch(1);
  r.set_cl(3);
  r.set_dh(2);
  r.es = 0x800;
  r.ebx = 0x10;
  bios_.Dispatch(r);
  ASSERT_FALSE(r.cf());
  EXPECT_EQ(r.ah(), 0);
  EXPECT_EQ(r.al(), 2);
  EXPECT_EQ(StampAt(0x8010), 1136u);
  EXPECT_EQ(StampAt(0x8210), 1137u);
  // Sector 0 and a head beyond the geometry are errors.
  r = Int13(0x0201);
  r.set_cl(0);
  bios_.Dispatch(r);
  EXPECT_TRUE(r.cf());
  EXPECT_EQ(r.ah(), 0x04);
  r = Int13(0x0201);
  r.set_cl(1);
  r.set_dh(16);
  bios_.Dispatch(r);
  EXPECT_TRUE(r.cf());
  // AH=01h reports the last status.
  r = Int13(0x0100);
  bios_.Dispatch(r);
  EXPECT_EQ(r.ah(), 0x04);
  EXPECT_EQ(bios_.Read8(bda::kDiskStatus), 0x04);
}

TEST_F(BiosDiskTest, ChsWriteThenExtendedRead) {
  for (uint32_t i = 0; i < 512; ++i) bios_.Write8(0x9000 + i, static_cast<uint8_t>(i ^ 0x5a));
  BiosRegs r = Int13(0x0301);
  r.set_cl(10);  // LBA 9.
  r.es = 0x900;
  r.ebx = 0;
  bios_.Dispatch(r);
  ASSERT_FALSE(r.cf());
  Dap(1, 9, 0xa00, 0);
  r = Int13(0x4200);
  r.ds = 0;
  r.esi = 0x600;
  bios_.Dispatch(r);
  ASSERT_FALSE(r.cf());
  for (uint32_t i = 0; i < 512; ++i) ASSERT_EQ(bios_.Read8(0xa000 + i), (i ^ 0x5a) & 0xff) << i;
}

TEST_F(BiosDiskTest, ExtendedReadToAFlatAddressAboveOneMiB) {
  Dap(3, 4000, 0xffff, 0xffff, 0x18, 0x300000);
  BiosRegs r = Int13(0x4200);
  r.esi = 0x600;
  bios_.Dispatch(r);
  ASSERT_FALSE(r.cf());
  EXPECT_EQ(StampAt(0x300000), 4000u);
  EXPECT_EQ(StampAt(0x300400), 4002u);
  EXPECT_EQ(bios_.Read16(0x602), 3);
}

TEST_F(BiosDiskTest, BoundsAreCheckedOnTheDiskAndInGuestMemory) {
  // Past the end of the disk: nothing moves, the count says 0.
  Dap(8, 4090, 0x1000, 0);
  BiosRegs r = Int13(0x4200);
  r.esi = 0x600;
  bios_.Dispatch(r);
  EXPECT_TRUE(r.cf());
  EXPECT_EQ(r.ah(), 0x04);
  EXPECT_EQ(bios_.Read16(0x602), 0);
  // A buffer running out of guest RAM (16 MiB): an error, not a crash.
  Dap(8, 0, 0xffff, 0xffff, 0x18, (16ull << 20) - 1024);
  r = Int13(0x4200);
  r.esi = 0x600;
  bios_.Dispatch(r);
  EXPECT_TRUE(r.cf());
  EXPECT_EQ(r.ah(), 0x01);
  // Writes to a read-only image.
  r = Int13(0x0301, 0x81);
  r.set_cl(1);
  bios_.Dispatch(r);
  EXPECT_TRUE(r.cf());
  EXPECT_EQ(r.ah(), 0x03);
  // A short packet.
  Dap(1, 0, 0, 0x7000, 0x08);
  r = Int13(0x4200);
  r.esi = 0x600;
  bios_.Dispatch(r);
  EXPECT_TRUE(r.cf());
}

TEST_F(BiosDiskTest, DriveParametersAndType) {
  BiosRegs r = Int13(0x0800);
  bios_.Dispatch(r);
  ASSERT_FALSE(r.cf());
  // 4096 sectors: 4 cylinders (max 3), 16 heads, 63 sectors; two drives.
  EXPECT_EQ(r.ch(), 3);
  EXPECT_EQ(r.cl(), 63);
  EXPECT_EQ(r.dh(), 15);
  EXPECT_EQ(r.dl(), 2);
  r = Int13(0x1500);
  bios_.Dispatch(r);
  EXPECT_FALSE(r.cf());
  EXPECT_EQ(r.ah(), 3);
  EXPECT_EQ((uint32_t{r.cx()} << 16) | r.dx(), 4096u);
  // No drive 82h, no floppy.
  r = Int13(0x0800, 0x82);
  bios_.Dispatch(r);
  EXPECT_TRUE(r.cf());
  r = Int13(0x1500, 0x00);
  bios_.Dispatch(r);
  EXPECT_FALSE(r.cf());
  EXPECT_EQ(r.ah(), 0);
  r = Int13(0x0201, 0x00);
  bios_.Dispatch(r);
  EXPECT_TRUE(r.cf());
}

TEST_F(BiosDiskTest, EddInstallationCheckAndParameters) {
  BiosRegs r = Int13(0x4100);
  r.set_bx(0x55aa);
  bios_.Dispatch(r);
  ASSERT_FALSE(r.cf());
  EXPECT_EQ(r.bx(), 0xaa55);
  EXPECT_EQ(r.ah(), 0x30);
  EXPECT_EQ(r.cx() & 0x5, 0x5);

  // T13 EDD-3 layout (Linux's struct edd_device_params, 0x4A bytes).
  bios_.Write16(0x700, 0x4a);
  r = Int13(0x4800, 0x81);
  r.esi = 0x700;
  bios_.Dispatch(r);
  ASSERT_FALSE(r.cf());
  EXPECT_EQ(bios_.Read16(0x700), 0x4a);
  EXPECT_EQ(bios_.Read32(0x710), 64u);  // Sectors.
  EXPECT_EQ(bios_.Read16(0x718), 512);
  EXPECT_EQ(bios_.Read32(0x71a), 0xffffffffu);  // No DPTE.
  EXPECT_EQ(bios_.Read16(0x71e), 0xbedd);
  EXPECT_EQ(bios_.Read32(0x724), 0x20494350u);  // "PCI ".
  EXPECT_EQ(bios_.Read8(0x731), 1);             // Device 1, function 1.
  EXPECT_EQ(bios_.Read8(0x732), 1);
  EXPECT_EQ(bios_.Read8(0x738), 1);  // Slave.
  uint8_t sum = 0;
  for (uint64_t a = 0x71e; a < 0x74a; ++a) sum = static_cast<uint8_t>(sum + bios_.Read8(a));
  EXPECT_EQ(sum, 0);

  // A 1.x caller's 0x1A-byte buffer gets exactly that.
  bios_.Write16(0x800, 0x1a);
  bios_.Write16(0x81a, 0x1234);
  r = Int13(0x4800);
  r.esi = 0x800;
  bios_.Dispatch(r);
  ASSERT_FALSE(r.cf());
  EXPECT_EQ(bios_.Read16(0x800), 0x1a);
  EXPECT_EQ(bios_.Read16(0x81a), 0x1234);
  EXPECT_EQ(bios_.Read32(0x808), 16u);  // Heads.
}

TEST(BiosBootTest, BootsTheMbrAtSevenC00WithDl80) {
  FakeBiosBoard board;
  BiosDisk disk = board.AddDisk(16);
  std::array<uint8_t, 2> signature = {0x55, 0xaa};
  ASSERT_TRUE(disk.image->WriteSectors(0, std::vector<uint8_t>(512, 0x90)).has_value());
  std::vector<uint8_t> mbr(512, 0x90);
  mbr[510] = signature[0];
  mbr[511] = signature[1];
  ASSERT_TRUE(disk.image->WriteSectors(0, mbr).has_value());
  BiosServices bios(board.Environment({disk}));
  BiosRegs r = Call(0x19, 0x1234);
  r.cs = 0xf000;
  r.ip = 0x100;
  bios.Dispatch(r);
  EXPECT_EQ(r.action, abi::kActionReturn);
  EXPECT_EQ(r.cs, 0);
  EXPECT_EQ(r.ip, 0x7c00);
  EXPECT_EQ(r.dl(), 0x80);
  EXPECT_TRUE(r.flags & kBiosFlagIf);
  EXPECT_EQ(bios.Read16(0x7dfe), 0xaa55);
  EXPECT_EQ(bios.Read8(0x7c00), 0x90);
}

TEST(BiosBootTest, NoDiskOrNoSignatureHaltsWithAMessage) {
  FakeBiosBoard board;
  BiosServices none(board.Environment());
  BiosRegs r = Call(0x19, 0);
  none.Dispatch(r);
  EXPECT_EQ(r.action, abi::kActionHalt);
  EXPECT_NE(board.serial_out.find("no bootable disk"), std::string::npos);

  FakeBiosBoard board2;
  BiosServices unsigned_disk(board2.Environment({board2.AddDisk(16)}));
  r = Call(0x19, 0);
  unsigned_disk.Dispatch(r);
  EXPECT_EQ(r.action, abi::kActionHalt);
  EXPECT_NE(board2.serial_out.find("no 55AAh boot signature"), std::string::npos);

  r = Call(0x18, 0);
  unsigned_disk.Dispatch(r);
  EXPECT_EQ(r.action, abi::kActionHalt);
}

}  // namespace
}  // namespace x86vm
