// FPREM/FPREM1, FRNDINT, FSCALE, FXTRACT and the constant loads against the host x87.
#include <gtest/gtest.h>

#include "cpu/softfloat/float80.h"
#include "cpu/softfloat/host_oracle.h"
#include "cpu/softfloat/test_util.h"

namespace x86vm::softfloat {
namespace {

using testing::Hex;
using testing::HostX87;
using testing::Operands;

uint8_t HostQuotientBits(uint16_t sw) {
  return static_cast<uint8_t>(((sw >> 8) & 1) << 2 | ((sw >> 14) & 1) << 1 | ((sw >> 9) & 1));
}

// Runs FPREM/FPREM1 (soft or host) until C2 clears.
Float80 RemainderToCompletion(Float80 a, Float80 b, bool ieee, bool host) {
  for (int step = 0; step < 2000; ++step) {
    bool incomplete;
    if (host) {
      const HostX87 r = ieee ? testing::HostFprem1(a, b, 0x37F) : testing::HostFprem(a, b, 0x37F);
      a = r.st0;
      incomplete = testing::StatusC2(r.status);
    } else {
      FpEnv env;
      const Float80Remainder r = ieee ? F80Rem1(a, b, env) : F80Rem(a, b, env);
      a = r.value;
      incomplete = r.incomplete;
    }
    if (!incomplete) break;
  }
  return a;
}

void CheckRemainder(bool ieee, uint64_t seed) {
  Operands ops(seed);
  for (int i = 0; i < 20000; ++i) {
    const Float80 a = ops.F80();
    Float80 b = ops.F80(ops.OneIn(4) ? -1 : a.biased_exponent());
    if (ops.OneIn(3))
      b = Float80::Make(ops.OneIn(2), static_cast<uint16_t>(a.biased_exponent() - ops.Range(0, 70)),
                        ops.Significand());
    const HostX87 want = ieee ? testing::HostFprem1(a, b, 0x37F) : testing::HostFprem(a, b, 0x37F);
    FpEnv env;
    const Float80Remainder got = ieee ? F80Rem1(a, b, env) : F80Rem(a, b, env);
    ASSERT_EQ(got.incomplete, testing::StatusC2(want.status)) << Hex(a) << " rem " << Hex(b);
    if (got.incomplete) {
      // The size of one partial step is implementation-dependent (SDM: N in
      // [32, 63]); the final remainder is not.
      ASSERT_EQ(RemainderToCompletion(a, b, ieee, false), RemainderToCompletion(a, b, ieee, true))
          << Hex(a) << " rem " << Hex(b) << " ieee " << ieee;
      continue;
    }
    ASSERT_EQ(got.value, want.st0) << Hex(a) << " rem " << Hex(b) << " ieee " << ieee;
    ASSERT_EQ(env.flags, testing::StatusFlags(want.status)) << Hex(a) << " rem " << Hex(b);
    if (!F80IsNaN(want.st0)) {
      ASSERT_EQ(got.quotient_bits, HostQuotientBits(want.status)) << Hex(a) << " rem " << Hex(b);
    }
  }
}

TEST(Float80MiscTest, PartialRemainderStepIsIntels) {
  // Measured on Intel: a partial step leaves an exponent difference of
  // 32 * floor(D / 32) - 32, and reports quotient bits 0.
  const Float80 b = kFloat80One;
  for (int d : {64, 95, 96, 127, 130, 200}) {
    const Float80 a =
        Float80::Make(false, static_cast<uint16_t>(0x3FFF + d), 0xFFFFFFFFFFFFFFFFull);
    FpEnv env;
    const Float80Remainder r = F80Rem(a, b, env);
    EXPECT_TRUE(r.incomplete);
    EXPECT_EQ(r.quotient_bits, 0);
    // a mod 2^k for k = 32 * floor(d / 32) - 32 is 2^k - 2^(d - 63).
    const int k = 32 * (d / 32) - 32;
    const int low = d - 63;
    const Float80 want = low >= k ? kFloat80Zero
                                  : Float80::Make(false, static_cast<uint16_t>(0x3FFF + k - 1),
                                                  ~0ull << (63 - (k - 1 - low)));
    EXPECT_EQ(Hex(r.value), Hex(want)) << "d " << d;
  }
}

TEST(Float80MiscTest, PremMatchesHost) { CheckRemainder(false, 21); }

TEST(Float80MiscTest, Prem1MatchesHost) { CheckRemainder(true, 22); }

TEST(Float80MiscTest, PartialRemainderLoopsToTheFullResult) {
  // 1e4000 rem 3: many partial steps, then the complete remainder.
  Float80 a = Float80::Make(false, 0x3FFF + 13000, 0xD3C21BCECCEDA100ull);
  const Float80 b = Float80::Make(false, 0x4000, 0xC000000000000000ull);
  int steps = 0;
  Float80Remainder r;
  do {
    FpEnv env;
    r = F80Rem(a, b, env);
    a = r.value;
    ++steps;
  } while (r.incomplete && steps < 1000);
  EXPECT_FALSE(r.incomplete);
  EXPECT_GT(steps, 100);
  FpEnv env;
  EXPECT_EQ(F80Compare(a, b, false, env), CompareResult::kLess);
}

TEST(Float80MiscTest, RoundToIntMatchesHost) {
  Operands ops(23);
  for (int rc = 0; rc < 4; ++rc) {
    const uint16_t cw = testing::MaskedControlWord(rc, rc & 1 ? 0 : 3);
    for (int i = 0; i < 5000; ++i) {
      Float80 a = ops.F80();
      if (ops.OneIn(2))
        a = Float80::Make(ops.OneIn(2), static_cast<uint16_t>(0x3FFF + ops.Range(-3, 66)),
                          ops.Significand());
      const HostX87 want = testing::HostFrndint(a, kFloat80Zero, cw);
      FpEnv env = X87Env(cw);
      ASSERT_EQ(F80RoundToInt(a, env), want.st0) << Hex(a) << " rc " << rc;
      ASSERT_EQ(env.flags, testing::StatusFlags(want.status)) << Hex(a);
      ASSERT_EQ(env.rounded_up, testing::StatusC1(want.status)) << Hex(a);
    }
  }
}

TEST(Float80MiscTest, ScaleMatchesHost) {
  Operands ops(24);
  for (int rc = 0; rc < 4; ++rc) {
    const uint16_t cw = testing::MaskedControlWord(rc, 3);
    for (int i = 0; i < 5000; ++i) {
      const Float80 a = ops.F80();
      Float80 b = ops.F80();
      if (ops.OneIn(2))
        b = Float80::Make(ops.OneIn(2), static_cast<uint16_t>(0x3FFF + ops.Range(-2, 16)),
                          ops.Significand());
      const HostX87 want = testing::HostFscale(a, b, cw);
      FpEnv env = X87Env(cw);
      ASSERT_EQ(F80Scale(a, b, env), want.st0) << Hex(a) << " scale " << Hex(b);
      ASSERT_EQ(env.flags, testing::StatusFlags(want.status)) << Hex(a) << " scale " << Hex(b);
      ASSERT_EQ(env.rounded_up, testing::StatusC1(want.status)) << Hex(a) << " scale " << Hex(b);
    }
  }
}

TEST(Float80MiscTest, ExtractMatchesHost) {
  Operands ops(25);
  for (int i = 0; i < 5000; ++i) {
    const Float80 a = ops.F80();
    const HostX87 want = testing::HostFxtract(a, kFloat80Zero, 0x37F);
    FpEnv env;
    const Float80Extracted got = F80Extract(a, env);
    ASSERT_EQ(got.significand, want.st0) << Hex(a);
    ASSERT_EQ(got.exponent, want.st1) << Hex(a);
    ASSERT_EQ(env.flags, testing::StatusFlags(want.status)) << Hex(a);
  }
}

TEST(Float80MiscTest, ConstantsMatchHostInEveryRoundingMode) {
  using HostFn = HostX87 (*)(Float80, Float80, uint16_t);
  const struct {
    X87Constant which;
    HostFn host;
  } cases[] = {
      {X87Constant::kPi, testing::HostFldpi},     {X87Constant::kLog2Ten, testing::HostFldl2t},
      {X87Constant::kLog2E, testing::HostFldl2e}, {X87Constant::kLog10Two, testing::HostFldlg2},
      {X87Constant::kLnTwo, testing::HostFldln2},
  };
  for (const auto& c : cases) {
    for (int rc = 0; rc < 4; ++rc) {
      const HostX87 want = c.host(kFloat80Zero, kFloat80Zero, testing::MaskedControlWord(rc, 0));
      EXPECT_EQ(F80Constant(c.which, static_cast<RoundingMode>(rc)), want.st0)
          << "constant " << static_cast<int>(c.which) << " rc " << rc;
      EXPECT_EQ(testing::StatusFlags(want.status), 0);
    }
  }
  EXPECT_EQ(F80Constant(X87Constant::kPi, RoundingMode::kNearestEven),
            Float80::Make(false, 0x4000, 0xC90FDAA22168C235ull));
  EXPECT_EQ(F80Constant(X87Constant::kPi, RoundingMode::kDown),
            Float80::Make(false, 0x4000, 0xC90FDAA22168C234ull));
}

}  // namespace
}  // namespace x86vm::softfloat
