#include "machine/guest_memory.h"

#include <gtest/gtest.h>

namespace x86vm {
namespace {

TEST(GuestMemory, StandardPcMapSmall) {
  auto mem = GuestMemory::Create(512ull << 20).value();
  EXPECT_EQ(mem->ram_below_4g_bytes(), 512ull << 20);
  EXPECT_EQ(mem->ram_above_4g_bytes(), 0u);
  ASSERT_NE(mem->HostPointer(0x1000, 8, true), nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(mem->HostPointer(0, 1, false)) % 4096, 0u);
  EXPECT_NE(mem->HostPointer(0xb8000, 2, true), nullptr);  // VGA text buffer.
  EXPECT_EQ(mem->HostPointer(0x20000000, 1, false), nullptr);  // Past the end.
  EXPECT_EQ(mem->HostPointer(0x9ffff, 2, false), nullptr);  // Straddles regions.
}

TEST(GuestMemory, LargeRamSplitsAroundThePciHole) {
  auto mem = GuestMemory::Create(4ull << 30).value();
  EXPECT_EQ(mem->ram_below_4g_bytes(), 3ull << 30);
  EXPECT_EQ(mem->ram_above_4g_bytes(), 1ull << 30);
  EXPECT_EQ(mem->HostPointer(0xc0000000, 1, false), nullptr);
  uint8_t* high = mem->HostPointer(GuestMemory::k4GiB, 1, true);
  ASSERT_NE(high, nullptr);
  *high = 0x5a;
  uint8_t b = 0;
  ASSERT_TRUE(mem->ReadPhysical(GuestMemory::k4GiB, std::span<uint8_t>(&b, 1)));
  EXPECT_EQ(b, 0x5a);
}

TEST(GuestMemory, RomIsReadOnlyForTheGuest) {
  auto mem = GuestMemory::Create(64ull << 20).value();
  std::vector<uint8_t> image(0x20000, 0xea);
  ASSERT_TRUE(mem->AddRom(0xfffe0000, image, "bios").has_value());
  EXPECT_FALSE(mem->AddRom(0xffff0000, image, "again").has_value());
  EXPECT_FALSE(mem->AddRom(0x1000, image, "over-ram").has_value());
  EXPECT_EQ(mem->HostPointer(0xfffffff0, 1, true), nullptr);
  ASSERT_NE(mem->HostPointer(0xfffffff0, 1, false), nullptr);
  EXPECT_EQ(*mem->HostPointer(0xfffffff0, 1, false), 0xea);
  uint8_t v = 1;
  EXPECT_FALSE(mem->WritePhysical(0xfffffff0, std::span<const uint8_t>(&v, 1)));
}

TEST(GuestMemory, BiosShadowCanBeWriteProtected) {
  auto mem = GuestMemory::Create(64ull << 20).value();
  EXPECT_NE(mem->HostPointer(0xf0000, 1, true), nullptr);
  mem->SetBiosShadowReadOnly(true);
  EXPECT_EQ(mem->HostPointer(0xf0000, 1, true), nullptr);
  EXPECT_NE(mem->HostRange(0xf0000, 1), nullptr);
}

TEST(GuestMemory, A20GateMasksBit20AndNotifies) {
  auto mem = GuestMemory::Create(64ull << 20).value();
  int calls = 0;
  mem->set_a20_observer([&](bool) { ++calls; });
  EXPECT_EQ(mem->a20_mask() & 0x100000, 0x100000u);
  mem->SetA20(false);
  EXPECT_EQ(0x10fff0 & mem->a20_mask(), 0xfff0u);
  mem->SetA20(false);
  EXPECT_EQ(calls, 1);
}

TEST(GuestMemory, DmaChecksRangesAndCrossesRegions) {
  auto mem = GuestMemory::Create(64ull << 20).value();
  std::vector<uint8_t> buf(0x2000, 0x11);
  EXPECT_TRUE(mem->WritePhysical(0x9f000, buf));  // Conventional into VGA window.
  EXPECT_FALSE(mem->WritePhysical((64ull << 20) - 0x1000, buf));
  EXPECT_FALSE(mem->ReadPhysical(~0ull - 4, std::span<uint8_t>(buf.data(), 16)));
  EXPECT_TRUE(mem->ReadPhysical(0x9f000, buf));
}

TEST(GuestMemory, RejectsBadSizes) {
  EXPECT_FALSE(GuestMemory::Create(1000).has_value());
  EXPECT_FALSE(GuestMemory::Create(4096).has_value());
}

}  // namespace
}  // namespace x86vm
