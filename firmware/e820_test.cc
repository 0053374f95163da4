#include "firmware/e820.h"

#include <gtest/gtest.h>

namespace x86vm {
namespace {

uint64_t UsableBytes(const std::vector<E820Entry>& map) {
  uint64_t total = 0;
  for (const E820Entry& e : map) total += e.type == E820Type::kRam ? e.size : 0;
  return total;
}

TEST(E820, SmallMachine) {
  auto mem = GuestMemory::Create(512ull << 20).value();
  auto map = BuildE820(*mem);
  ASSERT_GE(map.size(), 4u);
  EXPECT_EQ(map[0].addr, 0u);
  EXPECT_EQ(map[0].size, kEbdaStart);
  EXPECT_EQ(map[0].type, E820Type::kRam);
  EXPECT_EQ(map[1].type, E820Type::kReserved);  // EBDA.
  EXPECT_EQ(UsableBytes(map), kEbdaStart + (511ull << 20));
  for (size_t i = 1; i < map.size(); ++i) {
    EXPECT_GE(map[i].addr, map[i - 1].addr + map[i - 1].size) << "entries overlap";
  }
}

TEST(E820, LargeMachineAndCarving) {
  auto mem = GuestMemory::Create(5ull << 30).value();
  auto map = BuildE820(*mem, {{0x1000000, 0x10000, E820Type::kAcpi}});
  EXPECT_EQ(map.back().addr, GuestMemory::k4GiB);
  EXPECT_EQ(map.back().size, 2ull << 30);
  bool found_acpi = false;
  for (const E820Entry& e : map) {
    if (e.type == E820Type::kAcpi) {
      found_acpi = true;
      EXPECT_EQ(e.addr, 0x1000000u);
    }
  }
  EXPECT_TRUE(found_acpi);
  EXPECT_EQ(UsableBytes(map), kEbdaStart + (5ull << 30) - (1ull << 20) - 0x10000);
}

TEST(E820, EncodeLayout) {
  const std::vector<uint8_t> bytes = EncodeE820({{0x100000, 0x2000, E820Type::kReserved}});
  ASSERT_EQ(bytes.size(), 20u);
  EXPECT_EQ(bytes[2], 0x10);
  EXPECT_EQ(bytes[9], 0x20);
  EXPECT_EQ(bytes[16], 2);
}

}  // namespace
}  // namespace x86vm
