#include "cpu/simd/xmm.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "cpu/simd/flags.h"

namespace x86vm::simd {
namespace {

TEST(Xmm, LanesAreLittleEndian) {
  Xmm x;
  for (int i = 0; i < 16; ++i) x.set_u8(i, static_cast<uint8_t>(i));
  EXPECT_EQ(x.u16(1), 0x0302);
  EXPECT_EQ(x.u32(3), 0x0f0e0d0cu);
  EXPECT_EQ(x.u64(1), 0x0f0e0d0c0b0a0908u);
  x.set_i16(0, -2);
  EXPECT_EQ(x.u8(0), 0xfe);
  EXPECT_EQ(x.u8(1), 0xff);
  EXPECT_EQ(x.i32(0), static_cast<int32_t>(0x0302fffe));
  x.set_i64(1, -1);
  EXPECT_EQ(x.i8(15), -1);
  EXPECT_EQ(Xmm::FromU64(1, 2).u64(1), 2u);
  EXPECT_EQ(MmxLane<int16_t>(0x8000'0000'0000'0000ULL, 3), INT16_MIN);
  EXPECT_EQ(MmxLane<uint8_t>(0x1122334455667788ULL, 1), 0x77);
}

TEST(FlagUpdate, MergesOnlyWrittenBits) {
  const FlagUpdate f{.written = kFlagCf | kFlagZf, .values = kFlagZf};
  EXPECT_EQ(f.ApplyTo(kFlagCf | kFlagSf | 0x202), kFlagZf | kFlagSf | 0x202);
}

}  // namespace
}  // namespace x86vm::simd
