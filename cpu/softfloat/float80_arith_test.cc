// FADD/FSUB/FMUL/FDIV/FSQRT, FCOM/FUCOM and FXAM against the host x87, in
// every rounding mode and precision control, plus hand-picked edge cases.
#include <gtest/gtest.h>

#include <functional>

#include "cpu/softfloat/float80.h"
#include "cpu/softfloat/host_oracle.h"
#include "cpu/softfloat/test_util.h"

namespace x86vm::softfloat {
namespace {

using testing::Hex;
using testing::HostX87;
using testing::Operands;

using SoftBinary = std::function<Float80(Float80, Float80, FpEnv&)>;
using HostBinary = HostX87 (*)(Float80, Float80, uint16_t);

// Runs `count` random cases per rounding mode and precision; returns failures.
int CompareBinary(const char* name, const SoftBinary& soft, HostBinary host, int count,
                  uint64_t seed) {
  Operands ops(seed);
  int failures = 0;
  for (int pc : {0, 2, 3}) {
    for (int rc = 0; rc < 4; ++rc) {
      const uint16_t cw = testing::MaskedControlWord(rc, pc);
      for (int i = 0; i < count; ++i) {
        const Float80 a = ops.F80();
        const Float80 b = ops.F80(ops.OneIn(2) ? a.biased_exponent() : -1);
        const HostX87 want = host(a, b, cw);
        FpEnv env = X87Env(cw);
        const Float80 got = soft(a, b, env);
        const bool c1 = testing::StatusC1(want.status);
        if (got != want.st0 || env.flags != testing::StatusFlags(want.status) ||
            env.rounded_up != c1) {
          if (++failures <= 10) {
            ADD_FAILURE() << name << " rc=" << rc << " pc=" << pc << " a=" << Hex(a)
                          << " b=" << Hex(b) << " want " << Hex(want.st0) << " flags "
                          << int(testing::StatusFlags(want.status)) << " c1 " << c1 << ", got "
                          << Hex(got) << " flags " << int(env.flags) << " c1 " << env.rounded_up;
          }
        }
      }
    }
  }
  return failures;
}

TEST(Float80ArithTest, AddMatchesHost) {
  EXPECT_EQ(CompareBinary(
                "fadd", [](Float80 a, Float80 b, FpEnv& e) { return F80Add(a, b, e); },
                testing::HostFadd, 12000, 1),
            0);
}

TEST(Float80ArithTest, SubMatchesHost) {
  EXPECT_EQ(CompareBinary(
                "fsub", [](Float80 a, Float80 b, FpEnv& e) { return F80Sub(a, b, e); },
                testing::HostFsub, 12000, 2),
            0);
}

TEST(Float80ArithTest, MulMatchesHost) {
  EXPECT_EQ(CompareBinary(
                "fmul", [](Float80 a, Float80 b, FpEnv& e) { return F80Mul(a, b, e); },
                testing::HostFmul, 12000, 3),
            0);
}

TEST(Float80ArithTest, DivMatchesHost) {
  EXPECT_EQ(CompareBinary(
                "fdiv", [](Float80 a, Float80 b, FpEnv& e) { return F80Div(a, b, e); },
                testing::HostFdiv, 12000, 4),
            0);
}

TEST(Float80ArithTest, SqrtMatchesHost) {
  EXPECT_EQ(CompareBinary(
                "fsqrt", [](Float80 a, Float80, FpEnv& env) { return F80Sqrt(a, env); },
                testing::HostFsqrt, 12000, 5),
            0);
}

TEST(Float80ArithTest, UnsupportedEncodingsAreInvalid) {
  const Float80 unnormal = Float80::Make(false, 0x3FFF, 0x4000000000000000ull);
  const Float80 pseudo_inf = Float80::Make(false, 0x7FFF, 0);
  const Float80 pseudo_nan = Float80::Make(true, 0x7FFF, 0x4000000000000001ull);
  for (Float80 bad : {unnormal, pseudo_inf, pseudo_nan}) {
    FpEnv env;
    EXPECT_EQ(F80Add(bad, kFloat80One, env), kFloat80Indefinite);
    EXPECT_EQ(env.flags, kFlagInvalid);
    const HostX87 host = testing::HostFadd(bad, kFloat80One, 0x37F);
    EXPECT_EQ(host.st0, kFloat80Indefinite);
    EXPECT_EQ(F80Classify(bad), X87Class::kUnsupported);
  }
}

TEST(Float80ArithTest, PseudoDenormalIsReadAsDenormal) {
  // Exponent 0 with the integer bit set: value 2^-16382 (SDM Vol. 1 8.2.2).
  const Float80 pseudo = Float80::Make(false, 0, 0x8000000000000000ull);
  FpEnv env;
  const Float80 sum = F80Add(pseudo, kFloat80Zero, env);
  EXPECT_EQ(sum, Float80::Make(false, 1, 0x8000000000000000ull));
  EXPECT_EQ(env.flags, kFlagDenormal);
  EXPECT_EQ(testing::HostFadd(pseudo, kFloat80Zero, 0x37F).st0, sum);
  EXPECT_EQ(F80Classify(pseudo), X87Class::kDenormal);
}

TEST(Float80ArithTest, ExactZeroSumSignFollowsRounding) {
  const Float80 x = Float80::Make(false, 0x4000, 0xC000000000000000ull);
  FpEnv env;
  EXPECT_EQ(F80Sub(x, x, env), kFloat80Zero);
  env.rounding = RoundingMode::kDown;
  EXPECT_EQ(F80Sub(x, x, env), Float80::Make(true, 0, 0));
  EXPECT_EQ(env.flags, 0);
}

TEST(Float80ArithTest, OverflowRespectsRoundingAndPrecision) {
  const Float80 big = Float80::Make(false, 0x7FFE, 0xFFFFFFFFFFFFFFFFull);
  FpEnv env;
  EXPECT_EQ(F80Add(big, big, env), kFloat80Infinity);
  EXPECT_EQ(env.flags, kFlagOverflow | kFlagPrecision);
  EXPECT_TRUE(env.rounded_up);
  env = FpEnv{};
  env.rounding = RoundingMode::kTowardZero;
  env.precision = PrecisionControl::kSingle;
  EXPECT_EQ(F80Add(big, big, env), Float80::Make(false, 0x7FFE, 0xFFFFFF0000000000ull));
  EXPECT_FALSE(env.rounded_up);
}

TEST(Float80ArithTest, UnmaskedOverflowWrapsExponent) {
  // SDM Vol. 1 8.5.4.2: the exponent is biased down by 6000H.
  const Float80 big = Float80::Make(false, 0x7FFE, 0x8000000000000000ull);
  FpEnv env;
  env.masks = kAllExceptions & ~kFlagOverflow;
  EXPECT_EQ(F80Add(big, big, env), Float80::Make(false, 0x7FFF - 0x6000, 0x8000000000000000ull));
  EXPECT_EQ(env.flags, kFlagOverflow);
}

TEST(Float80ArithTest, UnmaskedUnderflowWrapsExponent) {
  const Float80 tiny = Float80::Make(false, 1, 0x8000000000000000ull);
  const Float80 half = Float80::Make(false, 0x3FFE, 0x8000000000000000ull);
  FpEnv env;
  env.masks = kAllExceptions & ~kFlagUnderflow;
  EXPECT_EQ(F80Mul(tiny, half, env), Float80::Make(false, 0x6000, 0x8000000000000000ull));
  EXPECT_EQ(env.flags, kFlagUnderflow);  // exact, yet flagged when unmasked
}

TEST(Float80ArithTest, NaNPropagationMatchesHost) {
  Operands ops(7);
  for (int i = 0; i < 2000; ++i) {
    const uint64_t pa = (1ull << 63) | (ops.Bits() >> 2) | (ops.OneIn(2) ? 1ull << 62 : 0) | 1;
    uint64_t pb = (1ull << 63) | (ops.Bits() >> 2) | (ops.OneIn(2) ? 1ull << 62 : 0) | 1;
    if (ops.OneIn(4)) pb = pa ^ (ops.OneIn(2) ? 1ull << 62 : 0);
    const Float80 a = Float80::Make(ops.OneIn(2), 0x7FFF, pa);
    const Float80 b = ops.OneIn(5) ? kFloat80One : Float80::Make(ops.OneIn(2), 0x7FFF, pb);
    const HostX87 want = testing::HostFmul(a, b, 0x37F);
    FpEnv env;
    const Float80 got = F80Mul(a, b, env);
    ASSERT_EQ(got, want.st0) << Hex(a) << " * " << Hex(b);
    ASSERT_EQ(env.flags, testing::StatusFlags(want.status)) << Hex(a) << " * " << Hex(b);
  }
}

CompareResult HostCompareResult(uint16_t sw) {
  const bool c0 = sw & 0x100, c2 = sw & 0x400, c3 = sw & 0x4000;
  if (c3 && c2 && c0) return CompareResult::kUnordered;
  if (c3) return CompareResult::kEqual;
  if (c0) return CompareResult::kLess;
  return CompareResult::kGreater;
}

TEST(Float80ArithTest, CompareMatchesHost) {
  Operands ops(8);
  for (int i = 0; i < 20000; ++i) {
    const Float80 a = ops.F80();
    Float80 b = ops.OneIn(8) ? a : ops.F80(ops.OneIn(2) ? a.biased_exponent() : -1);
    if (ops.OneIn(10)) b.sign_exponent ^= 0x8000;
    for (bool quiet : {false, true}) {
      const HostX87 want = quiet ? testing::HostFucom(a, b, 0x37F) : testing::HostFcom(a, b, 0x37F);
      FpEnv env;
      const CompareResult got = F80Compare(a, b, quiet, env);
      ASSERT_EQ(got, HostCompareResult(want.status))
          << Hex(a) << " vs " << Hex(b) << " quiet " << quiet;
      ASSERT_EQ(env.flags, testing::StatusFlags(want.status)) << Hex(a) << " vs " << Hex(b);
    }
  }
}

TEST(Float80ArithTest, ClassifyMatchesHost) {
  Operands ops(9);
  for (int i = 0; i < 5000; ++i) {
    Float80 a = ops.F80();
    if (ops.OneIn(5)) a.significand &= ~(1ull << 63);  // unnormals, pseudo-NaN/infinity, denormals
    if (ops.OneIn(10)) a = Float80::Make(ops.OneIn(2), 0, a.significand | 1ull << 63);
    const uint16_t sw = testing::HostFxam(a, kFloat80Zero, 0x37F).status;
    const int host_class = ((sw >> 14) & 1) << 2 | ((sw >> 10) & 1) << 1 | ((sw >> 8) & 1);
    ASSERT_EQ(static_cast<int>(F80Classify(a)), host_class) << Hex(a);
    ASSERT_EQ(a.sign(), testing::StatusC1(sw));
  }
}

}  // namespace
}  // namespace x86vm::softfloat
