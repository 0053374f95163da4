#include "machine/pc.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

namespace x86vm {
namespace {

std::unique_ptr<PcMachine> MakeMachine(std::optional<uint16_t> exit_port = std::nullopt) {
  PcConfig config;
  config.memory_bytes = 64ull << 20;
  config.clock_mode = VirtualClock::Mode::kDeterministic;
  config.exit_port = exit_port;
  auto m = PcMachine::Create(config);
  EXPECT_TRUE(m.has_value()) << m.error().message;
  return std::move(*m);
}

TEST(PcMachine, DevicesAnswerAtTheirPorts) {
  auto m = MakeMachine();
  Bus& pio = m->pio();
  // fw_cfg signature.
  pio.WriteValue(0x510, 2, 0);
  std::string sig;
  for (int i = 0; i < 4; ++i) sig += static_cast<char>(pio.ReadValue(0x511, 1));
  EXPECT_EQ(sig, "QEMU");
  // PCI host bridge 00.0 is an Intel 440FX.
  pio.WriteValue(0xcf8, 4, 0x80000000);
  EXPECT_EQ(pio.ReadValue(0xcfc, 4), 0x12378086u);
  // PIIX3 at 01.0.
  pio.WriteValue(0xcf8, 4, 0x80000800);
  EXPECT_EQ(pio.ReadValue(0xcfc, 4), 0x70008086u);
  // COM1 scratch register.
  pio.WriteValue(0x3ff, 1, 0x5a);
  EXPECT_EQ(pio.ReadValue(0x3ff, 1), 0x5au);
  // CMOS base memory (0x15/0x16): 640 KiB.
  pio.WriteValue(0x70, 1, 0x15);
  uint64_t lo = pio.ReadValue(0x71, 1);
  pio.WriteValue(0x70, 1, 0x16);
  EXPECT_EQ(lo | pio.ReadValue(0x71, 1) << 8, 640u);
  // debugcon read-back and an unmapped port.
  EXPECT_EQ(pio.ReadValue(0xe9, 1), 0xe9u);
  EXPECT_EQ(pio.ReadValue(0x2000, 1), 0xffu);
  // IOAPIC version register through MMIO.
  m->mmio().WriteValue(0xfec00000, 4, 1);
  EXPECT_EQ(m->mmio().ReadValue(0xfec00010, 4) & 0xff, 0x20u);
  // Local APIC version.
  EXPECT_EQ(m->mmio().ReadValue(0xfee00030, 4) & 0xff, 0x14u);
}

TEST(PcMachine, IsaIrqReachesPicAndIoapic) {
  auto m = MakeMachine();
  Bus& pio = m->pio();
  // Program the master PIC: ICW1-4, vector base 0x20, unmask IRQ4 (COM1).
  pio.WriteValue(0x20, 1, 0x11);
  pio.WriteValue(0x21, 1, 0x20);
  pio.WriteValue(0x21, 1, 0x04);
  pio.WriteValue(0x21, 1, 0x01);
  pio.WriteValue(0x21, 1, 0xef);
  pio.WriteValue(0xa0, 1, 0x11);
  pio.WriteValue(0xa1, 1, 0x28);
  pio.WriteValue(0xa1, 1, 0x02);
  pio.WriteValue(0xa1, 1, 0x01);
  pio.WriteValue(0xa1, 1, 0xff);
  // COM1: OUT2 and the THR-empty interrupt raise IRQ4.
  pio.WriteValue(0x3fc, 1, 0x08);
  pio.WriteValue(0x3f9, 1, 0x02);
  EXPECT_TRUE(m->pic().HasInterrupt());
  // The CPU asks the local APIC, which passes the 8259 through (virtual wire).
  ASSERT_TRUE(m->lapic().HasInterrupt());
  EXPECT_EQ(m->lapic().AcknowledgeInterrupt(), 0x24);
  // IOAPIC pin 4 sees the same line: unmask it as an edge with vector 0x44.
  m->mmio().WriteValue(0xfec00000, 4, 0x10 + 2 * 4);
  m->mmio().WriteValue(0xfec00010, 4, 0x44);
}

TEST(PcMachine, A20AndResetRequests) {
  auto m = MakeMachine();
  EXPECT_TRUE(m->memory().a20_enabled());
  m->pio().WriteValue(0x92, 1, 0x02);
  m->pio().WriteValue(0x92, 1, 0x00);  // Port 0x92 alone turns A20 off.
  EXPECT_FALSE(m->memory().a20_enabled());
  m->pio().WriteValue(0x92, 1, 0x02);
  EXPECT_TRUE(m->memory().a20_enabled());
  m->pio().WriteValue(0x64, 1, 0xdd);  // So does the i8042 (last write wins).
  EXPECT_FALSE(m->memory().a20_enabled());
  m->pio().WriteValue(0x64, 1, 0xdf);
  EXPECT_TRUE(m->memory().a20_enabled());
  EXPECT_FALSE(m->requests().reset);
  m->pio().WriteValue(0x64, 1, 0xfe);
  EXPECT_TRUE(m->requests().reset);
  m->Reset();
  EXPECT_FALSE(m->requests().reset);
  m->pio().WriteValue(0xcf9, 1, 0x06);
  EXPECT_TRUE(m->requests().reset);
}

TEST(PcMachine, ExitPortAndPowerOff) {
  auto m = MakeMachine(0xf4);
  m->pio().WriteValue(0xf4, 1, 0x10);
  EXPECT_EQ(m->requests().exit_status, 0x21);
  auto m2 = MakeMachine();
  // ACPI PM1a_CNT at 0x604: SLP_TYP = S5 (0), SLP_EN.
  m2->pio().WriteValue(0x604, 2, 0x2000);
  EXPECT_EQ(m2->requests().exit_status, 0);
}

TEST(PcMachine, ExitPortConflictIsAClearError) {
  PcConfig config;
  config.memory_bytes = 64ull << 20;
  config.exit_port = 0x3f8;
  auto m = PcMachine::Create(config);
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message.find("--exit-port 0x3f8"), std::string::npos) << m.error().message;
  EXPECT_NE(m.error().message.find("com1"), std::string::npos);
}

TEST(PcMachine, PamProtectsEachSegmentOnItsOwn) {
  auto m = MakeMachine();
  // i440FX PAM1 (config 0x5a): low nibble 0xC0000-0xC3FFF, high 0xC4000-0xC7FFF.
  // Read-enable only (1) write-protects a segment; 3 is read/write.
  m->pio().WriteValue(0xcf8, 4, 0x80000058);
  m->pio().WriteValue(0xcfe, 1, 0x31);
  EXPECT_EQ(m->memory().HostPointer(0xc0000, 1, true), nullptr);
  EXPECT_NE(m->memory().HostPointer(0xc4000, 1, true), nullptr);
  EXPECT_NE(m->memory().HostPointer(0xd9800, 1, true), nullptr);
  EXPECT_NE(m->memory().HostPointer(0xf0000, 1, true), nullptr);
}

TEST(PcMachine, FwCfgHasRamSizeAndE820) {
  auto m = MakeMachine();
  EXPECT_TRUE(m->fw_cfg().FindFile("etc/e820") != nullptr);
}

TEST(PcMachine, DiskOnThePrimaryIdeChannel) {
  char path[] = "/tmp/x86vm_pc_test_diskXXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::vector<uint8_t> sector(512, 0);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  ASSERT_EQ(write(fd, sector.data(), 512), 512);
  ASSERT_EQ(ftruncate(fd, 1 << 20), 0);
  close(fd);
  PcConfig config;
  config.memory_bytes = 16ull << 20;
  config.disks.push_back({path, true});
  auto m = PcMachine::Create(config);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  Bus& pio = (*m)->pio();
  // READ SECTORS, LBA 0, one sector, master.
  pio.WriteValue(0x1f6, 1, 0xe0);
  pio.WriteValue(0x1f2, 1, 1);
  pio.WriteValue(0x1f3, 1, 0);
  pio.WriteValue(0x1f4, 1, 0);
  pio.WriteValue(0x1f5, 1, 0);
  pio.WriteValue(0x1f7, 1, 0x20);
  EXPECT_EQ(pio.ReadValue(0x1f7, 1) & 0x08, 0x08u);  // DRQ.
  uint16_t last = 0;
  for (int i = 0; i < 256; ++i) last = static_cast<uint16_t>(pio.ReadValue(0x1f0, 2));
  EXPECT_EQ(last, 0xaa55);
  unlink(path);

  config.disks.assign(5, {"/dev/null", true});
  auto too_many = PcMachine::Create(config);
  ASSERT_FALSE(too_many.has_value());
  EXPECT_NE(too_many.error().message.find("--disk"), std::string::npos);
}

}  // namespace
}  // namespace x86vm
