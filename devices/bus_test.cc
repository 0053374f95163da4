#include "devices/bus.h"

#include <gtest/gtest.h>

namespace x86vm {
namespace {

// Remembers the last write and answers reads with offset-derived bytes.
class EchoTarget : public BusTarget {
 public:
  void Read(uint64_t offset, std::span<uint8_t> data) override {
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(offset + i);
  }
  void Write(uint64_t offset, std::span<const uint8_t> data) override {
    last_offset = offset;
    last_value = LoadLe(data);
    last_size = data.size();
  }
  uint64_t last_offset = 0, last_value = 0, last_size = 0;
};

TEST(Bus, DispatchesWithOffsetAndAllSizes) {
  Bus bus("pio");
  EchoTarget t;
  ASSERT_TRUE(bus.Register(0x3f8, 8, &t, "com1").has_value());
  EXPECT_EQ(bus.ReadValue(0x3f9, 1), 0x01u);
  EXPECT_EQ(bus.ReadValue(0x3f8, 2), 0x0100u);
  EXPECT_EQ(bus.ReadValue(0x3f8, 4), 0x03020100u);
  EXPECT_EQ(bus.ReadValue(0x3f8, 8), 0x0706050403020100ull);
  bus.WriteValue(0x3fa, 2, 0xbeef);
  EXPECT_EQ(t.last_offset, 2u);
  EXPECT_EQ(t.last_value, 0xbeefu);
  EXPECT_EQ(t.last_size, 2u);
}

TEST(Bus, UnmappedReadsAllOnesAndWritesAreDropped) {
  Bus bus("pio");
  EXPECT_EQ(bus.ReadValue(0x1234, 1), 0xffu);
  EXPECT_EQ(bus.ReadValue(0x1234, 4), 0xffffffffu);
  EXPECT_EQ(bus.ReadValue(0x1234, 8), ~0ull);
  bus.WriteValue(0x1234, 4, 0);  // Must not crash.
}

TEST(Bus, OverlapIsRejected) {
  Bus bus("mmio");
  EchoTarget a, b;
  ASSERT_TRUE(bus.Register(0x1000, 0x100, &a, "a").has_value());
  EXPECT_FALSE(bus.Register(0x10ff, 1, &b, "b").has_value());
  EXPECT_FALSE(bus.Register(0xf00, 0x101, &b, "b").has_value());
  EXPECT_FALSE(bus.Register(0x800, 0x1000, &b, "b").has_value());
  EXPECT_FALSE(bus.Register(0x1000, 0, &b, "b").has_value());
  EXPECT_TRUE(bus.Register(0x1100, 0x10, &b, "b").has_value());
  EXPECT_TRUE(bus.Register(0xf00, 0x100, &b, "c").has_value());
  EXPECT_TRUE(bus.Unregister(0x1100));
  EXPECT_FALSE(bus.IsMapped(0x1100));
}

TEST(Bus, StraddlingAccessIsSplit) {
  Bus bus("pio");
  EchoTarget t;
  ASSERT_TRUE(bus.Register(0x10, 2, &t, "t").has_value());
  // Bytes 0x10,0x11 come from the target (offsets 0,1); 0x12,0x13 unmapped.
  EXPECT_EQ(bus.ReadValue(0x10, 4), 0xffff0100u);
  EXPECT_EQ(bus.ReadValue(0x0f, 2), 0x00ffu);
}

TEST(FunctionBusTarget, ValuesInAndOut) {
  uint64_t written = 0;
  FunctionBusTarget f([](uint64_t off, size_t size) { return off * 0x10 + size; },
                      [&](uint64_t off, size_t, uint64_t v) { written = off + v; });
  Bus bus("pio");
  ASSERT_TRUE(bus.Register(0x20, 2, &f, "f").has_value());
  EXPECT_EQ(bus.ReadValue(0x21, 1), 0x11u);
  bus.WriteValue(0x21, 1, 5);
  EXPECT_EQ(written, 6u);
}

}  // namespace
}  // namespace x86vm
