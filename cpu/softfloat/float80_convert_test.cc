// FLD/FST m32fp/m64fp, FILD/FIST/FISTTP and FBLD/FBSTP against the host x87.
#include "cpu/softfloat/float80_convert.h"

#include <gtest/gtest.h>

#include "cpu/softfloat/float80.h"
#include "cpu/softfloat/host_oracle.h"
#include "cpu/softfloat/test_util.h"

namespace x86vm::softfloat {
namespace {

using testing::Hex;
using testing::Operands;

// Random Float80s around the integer limits and the binary32/64 ranges.
Float80 ConvertOperand(Operands& ops) {
  const bool sign = ops.OneIn(2);
  switch (ops.Range(0, 5)) {
    case 0:  // near integer limits
      return Float80::Make(sign, static_cast<uint16_t>(0x3FFF + ops.Range(-2, 66)),
                           ops.Significand());
    case 1:  // binary32 range edges
      return Float80::Make(
          sign, static_cast<uint16_t>(0x3FFF + (ops.OneIn(2) ? 127 : -126) + ops.Range(-26, 3)),
          ops.Significand());
    case 2:  // binary64 range edges
      return Float80::Make(
          sign, static_cast<uint16_t>(0x3FFF + (ops.OneIn(2) ? 1023 : -1022) + ops.Range(-55, 3)),
          ops.Significand());
    case 3:  // small values around 0.5 .. 4
      return Float80::Make(sign, static_cast<uint16_t>(0x3FFF + ops.Range(-3, 2)),
                           ops.Significand());
    default:
      return ops.F80();
  }
}

TEST(Float80ConvertTest, StoreF32MatchesHost) {
  Operands ops(11);
  for (int rc = 0; rc < 4; ++rc) {
    for (int pc : {0, 3}) {  // precision control must not matter
      const uint16_t cw = testing::MaskedControlWord(rc, pc);
      for (int i = 0; i < 4000; ++i) {
        const Float80 a = ConvertOperand(ops);
        const auto want = testing::HostStoreF32(a, cw);
        FpEnv env = X87Env(cw);
        const uint32_t got = F80ToF32(a, env);
        ASSERT_EQ(got, want.value) << Hex(a) << " rc " << rc;
        ASSERT_EQ(env.flags, testing::StatusFlags(want.status)) << Hex(a) << " rc " << rc;
        ASSERT_EQ(env.rounded_up, testing::StatusC1(want.status)) << Hex(a) << " rc " << rc;
      }
    }
  }
}

TEST(Float80ConvertTest, StoreF64MatchesHost) {
  Operands ops(12);
  for (int rc = 0; rc < 4; ++rc) {
    const uint16_t cw = testing::MaskedControlWord(rc, 3);
    for (int i = 0; i < 6000; ++i) {
      const Float80 a = ConvertOperand(ops);
      const auto want = testing::HostStoreF64(a, cw);
      FpEnv env = X87Env(cw);
      const uint64_t got = F80ToF64(a, env);
      ASSERT_EQ(got, want.value) << Hex(a) << " rc " << rc;
      ASSERT_EQ(env.flags, testing::StatusFlags(want.status)) << Hex(a) << " rc " << rc;
      ASSERT_EQ(env.rounded_up, testing::StatusC1(want.status)) << Hex(a) << " rc " << rc;
    }
  }
}

TEST(Float80ConvertTest, LoadF32AndF64MatchHost) {
  Operands ops(13);
  for (int i = 0; i < 20000; ++i) {
    const uint32_t f = ops.F32();
    const auto want32 = testing::HostLoadF32(f, 0x37F);
    FpEnv env;
    ASSERT_EQ(F80FromF32(f, env), want32.st0) << std::hex << f;
    ASSERT_EQ(env.flags, testing::StatusFlags(want32.status)) << std::hex << f;
    const uint64_t d = ops.F64();
    const auto want64 = testing::HostLoadF64(d, 0x37F);
    env = FpEnv{};
    ASSERT_EQ(F80FromF64(d, env), want64.st0) << std::hex << d;
    ASSERT_EQ(env.flags, testing::StatusFlags(want64.status)) << std::hex << d;
  }
}

TEST(Float80ConvertTest, OperandWideningKeepsSignalingNaN) {
  const X87MemoryOperand snan = F80FromF32Operand(0x7F800001u);
  EXPECT_EQ(snan.value, Float80::Make(false, 0x7FFF, 0x8000010000000000ull));
  EXPECT_FALSE(snan.denormal);
  const X87MemoryOperand tiny = F80FromF64Operand(1);
  EXPECT_EQ(tiny.value, Float80::Make(false, 16383 - 1074, 0x8000000000000000ull));
  EXPECT_TRUE(tiny.denormal);
}

TEST(Float80ConvertTest, MemoryOperandsMatchHost) {
  Operands ops(17);
  int failures = 0;
  for (int i = 0; i < 20000; ++i) {
    const Float80 a = ops.F80();
    const uint32_t m32 = ops.F32();
    const uint64_t m64 = ops.F64();
    const uint16_t cw = testing::MaskedControlWord(static_cast<int>(ops.Range(0, 3)), 3);
    const testing::HostX87 want_add = testing::HostFaddM32(a, m32, cw);
    FpEnv env = X87Env(cw);
    const X87MemoryOperand b32 = F80FromF32Operand(m32);
    const Float80 sum = F80Add(a, b32.value, env, {.b = b32.denormal});
    const testing::HostX87 want_mul = testing::HostFmulM64(a, m64, cw);
    FpEnv env2 = X87Env(cw);
    const X87MemoryOperand b64 = F80FromF64Operand(m64);
    const Float80 product = F80Mul(a, b64.value, env2, {.b = b64.denormal});
    if ((sum != want_add.st0 || env.flags != testing::StatusFlags(want_add.status) ||
         product != want_mul.st0 || env2.flags != testing::StatusFlags(want_mul.status)) &&
        ++failures < 10) {
      ADD_FAILURE() << Hex(a) << " + " << std::hex << m32 << " -> " << Hex(want_add.st0) << "/"
                    << int(testing::StatusFlags(want_add.status)) << " got " << Hex(sum) << "/"
                    << int(env.flags) << "; * " << m64 << " -> " << Hex(want_mul.st0) << "/"
                    << int(testing::StatusFlags(want_mul.status)) << " got " << Hex(product) << "/"
                    << int(env2.flags);
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(Float80ConvertTest, IntegerStoresMatchHost) {
  Operands ops(14);
  for (int rc = 0; rc < 4; ++rc) {
    const uint16_t cw = testing::MaskedControlWord(rc, 3);
    for (int i = 0; i < 5000; ++i) {
      const Float80 a = ConvertOperand(ops);
      {
        const auto want = testing::HostStoreI16(a, cw);
        FpEnv env = X87Env(cw);
        ASSERT_EQ(F80ToI16(a, env), want.value) << Hex(a);
        ASSERT_EQ(env.flags, testing::StatusFlags(want.status)) << Hex(a);
        ASSERT_EQ(env.rounded_up, testing::StatusC1(want.status)) << Hex(a);
      }
      {
        const auto want = testing::HostStoreI32(a, cw);
        FpEnv env = X87Env(cw);
        ASSERT_EQ(F80ToI32(a, env), want.value) << Hex(a);
        ASSERT_EQ(env.flags, testing::StatusFlags(want.status)) << Hex(a);
        ASSERT_EQ(env.rounded_up, testing::StatusC1(want.status)) << Hex(a);
      }
      {
        const auto want = testing::HostStoreI64(a, cw);
        FpEnv env = X87Env(cw);
        ASSERT_EQ(F80ToI64(a, env), want.value) << Hex(a);
        ASSERT_EQ(env.flags, testing::StatusFlags(want.status)) << Hex(a);
        ASSERT_EQ(env.rounded_up, testing::StatusC1(want.status)) << Hex(a);
      }
      {
        const auto want = testing::HostTruncateI64(a, cw);
        FpEnv env = X87Env(cw);
        ASSERT_EQ(F80ToI64Truncate(a, env), want.value) << Hex(a);
        ASSERT_EQ(env.flags, testing::StatusFlags(want.status)) << Hex(a);
      }
    }
  }
}

TEST(Float80ConvertTest, IntegerLimits) {
  FpEnv env;
  EXPECT_EQ(F80ToI16(F80FromInt(-32768), env), -32768);
  EXPECT_EQ(F80ToI16(F80FromInt(32767), env), 32767);
  EXPECT_EQ(env.flags, 0);
  EXPECT_EQ(F80ToI16(F80FromInt(32768), env), -32768);  // indefinite
  EXPECT_EQ(env.flags, kFlagInvalid);
  env = FpEnv{};
  EXPECT_EQ(F80ToI64(F80FromInt(INT64_MIN), env), INT64_MIN);
  EXPECT_EQ(F80ToI64(F80FromInt(INT64_MAX), env), INT64_MAX);
  EXPECT_EQ(env.flags, 0);
  // 2^63 - 0.5 rounds to 2^63 in nearest (out of range) but truncates to 2^63 - 1.
  const Float80 almost = Float80::Make(false, 0x3FFF + 62, 0xFFFFFFFFFFFFFFFFull);
  EXPECT_EQ(F80ToI64(almost, env), INT64_MIN);
  EXPECT_EQ(env.flags, kFlagInvalid);
  env = FpEnv{};
  EXPECT_EQ(F80ToI64Truncate(almost, env), INT64_MAX);
  EXPECT_EQ(env.flags, kFlagPrecision);
  env = FpEnv{};
  EXPECT_EQ(F80ToI32Truncate(Float80::Make(true, 0x3FFF + 31, 0x8000000100000000ull), env),
            INT32_MIN);
  EXPECT_EQ(env.flags, kFlagInvalid);
  for (int64_t v :
       {int64_t{0}, int64_t{1}, int64_t{-1}, INT64_MIN, INT64_MAX, int64_t{123456789012345}}) {
    EXPECT_EQ(F80FromInt(v), testing::HostLoadI64(v)) << v;
  }
}

TEST(Float80ConvertTest, BcdStoreMatchesHost) {
  Operands ops(15);
  for (int rc = 0; rc < 4; ++rc) {
    const uint16_t cw = testing::MaskedControlWord(rc, 3);
    for (int i = 0; i < 3000; ++i) {
      Float80 a = ConvertOperand(ops);
      if (ops.OneIn(3))
        a = Float80::Make(ops.OneIn(2), static_cast<uint16_t>(0x3FFF + ops.Range(55, 60)),
                          ops.Significand());
      const auto want = testing::HostStoreBcd(a, cw);
      FpEnv env = X87Env(cw);
      const PackedBcd got = F80ToBcd(a, env);
      ASSERT_EQ(got, want.value) << Hex(a) << " rc " << rc;
      ASSERT_EQ(env.flags, testing::StatusFlags(want.status)) << Hex(a) << " rc " << rc;
      ASSERT_EQ(env.rounded_up, testing::StatusC1(want.status)) << Hex(a) << " rc " << rc;
    }
  }
}

TEST(Float80ConvertTest, BcdLoadMatchesHost) {
  Operands ops(16);
  for (int i = 0; i < 3000; ++i) {
    PackedBcd bcd{};
    for (int j = 0; j < 9; ++j)
      bcd[j] = static_cast<uint8_t>(ops.Range(0, 9) << 4 | ops.Range(0, 9));
    if (ops.OneIn(4)) std::fill(bcd.begin() + ops.Range(0, 8), bcd.end() - 1, 0);
    bcd[9] = ops.OneIn(2) ? 0x80 : 0;
    ASSERT_EQ(F80FromBcd(bcd), testing::HostLoadBcd(bcd).st0);
    FpEnv env;
    ASSERT_EQ(F80ToBcd(F80FromBcd(bcd), env), bcd);
  }
  // Largest magnitude, 10^18 - 1, and the indefinite for one past it.
  PackedBcd max{};
  std::fill(max.begin(), max.end() - 1, 0x99);
  FpEnv env;
  EXPECT_EQ(F80ToBcd(F80FromBcd(max), env), max);
  EXPECT_EQ(F80ToBcd(F80FromInt(1000000000000000000), env), kBcdIndefinite);
  EXPECT_EQ(env.flags, kFlagInvalid);
}

}  // namespace
}  // namespace x86vm::softfloat
