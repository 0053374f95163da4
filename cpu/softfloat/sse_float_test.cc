// SSE scalar binary32/binary64 operations against the host SSE unit, in every
// rounding mode with and without DAZ/FTZ, plus edge cases.
#include "cpu/softfloat/sse_float.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <utility>

#include "cpu/softfloat/host_oracle.h"
#include "cpu/softfloat/test_util.h"

namespace x86vm::softfloat {
namespace {

using testing::HostSse;
using testing::Operands;

constexpr int kCases = 6000;

// Every MXCSR setting the tests sweep: 4 rounding modes x {none, DAZ, FTZ, both}.
std::vector<uint32_t> Mxcsrs() {
  std::vector<uint32_t> out;
  for (int rc = 0; rc < 4; ++rc) {
    for (int mode = 0; mode < 4; ++mode)
      out.push_back(testing::MaskedMxcsr(rc, mode & 1, mode & 2));
  }
  return out;
}

template <typename T>
T Operand(Operands& ops, T near_value = 0) {
  if constexpr (sizeof(T) == 4) {
    T x = ops.F32();
    if (near_value != 0 && ops.OneIn(2)) {
      x = (x & 0x807FFFFFu) | (near_value & 0x7F800000u);
      x += static_cast<T>(ops.Range(-30, 30)) << 23;
    }
    return x;
  } else {
    T x = ops.F64();
    if (near_value != 0 && ops.OneIn(2)) {
      x = (x & 0x800FFFFFFFFFFFFFull) | (near_value & 0x7FF0000000000000ull);
      x += static_cast<T>(ops.Range(-60, 60)) << 52;
    }
    return x;
  }
}

template <typename T>
int CompareBinary(const char* name, T (*soft)(T, T, FpEnv&), HostSse<T> (*host)(T, T, uint32_t),
                  uint64_t seed) {
  Operands ops(seed);
  int failures = 0;
  for (uint32_t mxcsr : Mxcsrs()) {
    for (int i = 0; i < kCases; ++i) {
      const T a = Operand<T>(ops);
      const T b = Operand<T>(ops, a);
      const HostSse<T> want = host(a, b, mxcsr);
      FpEnv env = SseEnv(mxcsr);
      const T got = soft(a, b, env);
      if (got != want.value || env.flags != (want.mxcsr & 0x3F)) {
        if (++failures <= 10) {
          ADD_FAILURE() << name << std::hex << " mxcsr=" << mxcsr << " a=" << a << " b=" << b
                        << " want " << want.value << " flags " << (want.mxcsr & 0x3F) << ", got "
                        << got << " flags " << int(env.flags);
        }
      }
    }
  }
  return failures;
}

TEST(SseFloatTest, F32ArithmeticMatchesHost) {
  EXPECT_EQ(CompareBinary<uint32_t>("addss", F32Add, testing::HostAddss, 1), 0);
  EXPECT_EQ(CompareBinary<uint32_t>("subss", F32Sub, testing::HostSubss, 2), 0);
  EXPECT_EQ(CompareBinary<uint32_t>("mulss", F32Mul, testing::HostMulss, 3), 0);
  EXPECT_EQ(CompareBinary<uint32_t>("divss", F32Div, testing::HostDivss, 4), 0);
  EXPECT_EQ(CompareBinary<uint32_t>(
                "sqrtss", [](uint32_t, uint32_t b, FpEnv& env) { return F32Sqrt(b, env); },
                testing::HostSqrtss, 5),
            0);
  EXPECT_EQ(CompareBinary<uint32_t>("minss", F32Min, testing::HostMinss, 6), 0);
  EXPECT_EQ(CompareBinary<uint32_t>("maxss", F32Max, testing::HostMaxss, 7), 0);
}

TEST(SseFloatTest, F64ArithmeticMatchesHost) {
  EXPECT_EQ(CompareBinary<uint64_t>("addsd", F64Add, testing::HostAddsd, 11), 0);
  EXPECT_EQ(CompareBinary<uint64_t>("subsd", F64Sub, testing::HostSubsd, 12), 0);
  EXPECT_EQ(CompareBinary<uint64_t>("mulsd", F64Mul, testing::HostMulsd, 13), 0);
  EXPECT_EQ(CompareBinary<uint64_t>("divsd", F64Div, testing::HostDivsd, 14), 0);
  EXPECT_EQ(CompareBinary<uint64_t>(
                "sqrtsd", [](uint64_t, uint64_t b, FpEnv& env) { return F64Sqrt(b, env); },
                testing::HostSqrtsd, 15),
            0);
  EXPECT_EQ(CompareBinary<uint64_t>("minsd", F64Min, testing::HostMinsd, 16), 0);
  EXPECT_EQ(CompareBinary<uint64_t>("maxsd", F64Max, testing::HostMaxsd, 17), 0);
}

TEST(SseFloatTest, NaNRulesAndIndefinite) {
  FpEnv env;
  // First operand's NaN wins even when the second is an SNaN; both quieted.
  EXPECT_EQ(F32Add(0x7FC00001u, 0x7F800002u, env), 0x7FC00001u);
  EXPECT_EQ(env.flags, kFlagInvalid);
  env = FpEnv{};
  EXPECT_EQ(F32Mul(0x3F800000u, 0xFF800003u, env), 0xFFC00003u);
  EXPECT_EQ(F64Sub(0x7FF0000000000000ull, 0x7FF0000000000000ull, env), kF64Indefinite);
  EXPECT_EQ(F32Sqrt(0xBF800000u, env), kF32Indefinite);
  // MIN/MAX return the second operand untouched, even an SNaN.
  env = FpEnv{};
  EXPECT_EQ(F32Min(0x7FC00000u, 0x7F800001u, env), 0x7F800001u);
  EXPECT_EQ(F32Max(0x80000000u, 0x00000000u, env), 0x00000000u);
  EXPECT_EQ(F32Max(0x00000000u, 0x80000000u, env), 0x80000000u);
}

TEST(SseFloatTest, FlushToZeroAndDenormalsAreZero) {
  FpEnv env;
  env.flush_to_zero = true;
  // 2^-126 * 0.5 is tiny: flushed to +0 with UE and PE.
  EXPECT_EQ(F32Mul(0x00800000u, 0x3F000000u, env), 0u);
  EXPECT_EQ(env.flags, kFlagUnderflow | kFlagPrecision);
  env = FpEnv{};
  env.denormals_are_zero = true;
  EXPECT_EQ(F32Add(0x00000001u, 0x80000000u, env), 0u);
  EXPECT_EQ(env.flags, 0);
  env = FpEnv{};
  EXPECT_EQ(F32Add(0x00000001u, 0x00000000u, env), 1u);
  EXPECT_EQ(env.flags, kFlagDenormal);
}

TEST(SseFloatTest, UnmaskedPreComputationExceptionSuppressesRoundingFlags) {
  FpEnv env;
  env.masks = kAllExceptions & ~kFlagDenormal;
  F32Mul(0x00000001u, 0x3F800001u, env);  // denormal operand and inexact
  EXPECT_EQ(env.flags, kFlagDenormal);
}

// With OE or UE unmasked SSE stores no result, and PE reports whether the
// result rounded to 24/53 bits with an unbounded exponent is inexact (Intel
// hardware; what cpu/sse_test.cc compares against the host at random).
TEST(SseFloatTest, UnmaskedOverflowAndUnderflowReportPrecisionOfTheUnboundedResult) {
  FpEnv env;
  env.masks = kAllExceptions & ~kFlagOverflow;
  F32Mul(0x7F000000u, 0x40400000u, env);  // 2^127 * 3: exact significand
  EXPECT_EQ(env.flags, kFlagOverflow);
  env.flags = 0;
  F32Mul(0x7F000001u, 0x40400001u, env);  // inexact significand
  EXPECT_EQ(env.flags, kFlagOverflow | kFlagPrecision);
  env = FpEnv{};
  env.masks = kAllExceptions & ~kFlagUnderflow;
  F32Mul(0x00800001u, 0x3F000000u, env);  // tiny, exact with an unbounded exponent
  EXPECT_EQ(env.flags, kFlagUnderflow);
  env.flags = 0;
  F64Mul(0x0010000000000001ull, 0x3FD5555555555555ull, env);
  EXPECT_EQ(env.flags, kFlagUnderflow | kFlagPrecision);
  env.flags = 0;
  F64ToF32(0x3690000000000000ull, env);  // 2^-150 exactly: tiny, exact
  EXPECT_EQ(env.flags, kFlagUnderflow);
}

template <int P>
void CheckPredicate(Operands& ops) {
  for (int i = 0; i < 300; ++i) {
    const uint32_t a = ops.F32();
    const uint32_t b = ops.OneIn(4) ? a : ops.F32();
    const uint32_t mxcsr = testing::MaskedMxcsr(0, ops.OneIn(2));
    const HostSse<bool> want = testing::HostCmpss<P>(a, b, mxcsr);
    FpEnv env = SseEnv(mxcsr);
    ASSERT_EQ(F32ComparePredicate(a, b, P, env), want.value)
        << "pred " << P << std::hex << " " << a << " " << b;
    ASSERT_EQ(env.flags, want.mxcsr & 0x3F) << "pred " << P << std::hex << " " << a << " " << b;
    const uint64_t c = ops.F64();
    const uint64_t d = ops.OneIn(4) ? c : ops.F64();
    const HostSse<bool> want64 = testing::HostCmpsd<P>(c, d, mxcsr);
    env = SseEnv(mxcsr);
    ASSERT_EQ(F64ComparePredicate(c, d, P, env), want64.value)
        << "pred " << P << std::hex << " " << c << " " << d;
    ASSERT_EQ(env.flags, want64.mxcsr & 0x3F) << "pred " << P;
  }
}

template <int... P>
void CheckAllPredicates(Operands& ops, std::integer_sequence<int, P...>) {
  (CheckPredicate<P>(ops), ...);
}

TEST(SseFloatTest, ComparePredicatesMatchHost) {
  Operands ops(21);
  CheckAllPredicates(ops, std::make_integer_sequence<int, 32>{});
}

TEST(SseFloatTest, ComisMatchesHost) {
  Operands ops(22);
  for (int i = 0; i < 5000; ++i) {
    const uint32_t mxcsr = testing::MaskedMxcsr(0, ops.OneIn(2));
    const uint32_t a = ops.F32();
    const uint32_t b = ops.OneIn(4) ? a ^ (ops.OneIn(2) ? 0x80000000u : 0) : ops.F32();
    for (bool quiet : {false, true}) {
      const auto want =
          quiet ? testing::HostComis<true>(a, b, mxcsr) : testing::HostComis<false>(a, b, mxcsr);
      FpEnv env = SseEnv(mxcsr);
      ASSERT_EQ(ComisEflags(F32Compare(a, b, quiet, env)), want.value) << std::hex << a << " " << b;
      ASSERT_EQ(env.flags, want.mxcsr & 0x3F) << std::hex << a << " " << b;
    }
    const uint64_t c = ops.F64();
    const uint64_t d = ops.F64();
    const auto want = testing::HostComis<false>(c, d, mxcsr);
    FpEnv env = SseEnv(mxcsr);
    ASSERT_EQ(ComisEflags(F64Compare(c, d, false, env)), want.value) << std::hex << c << " " << d;
    ASSERT_EQ(env.flags, want.mxcsr & 0x3F);
  }
}

template <typename In, typename Out>
void CompareConvert(const char* name, Out (*soft)(In, FpEnv&), HostSse<Out> (*host)(In, uint32_t),
                    In (*gen)(Operands&), uint64_t seed, int count = 1500) {
  Operands ops(seed);
  int failures = 0;
  for (uint32_t mxcsr : Mxcsrs()) {
    for (int i = 0; i < count; ++i) {
      const In a = gen(ops);
      const HostSse<Out> want = host(a, mxcsr);
      FpEnv env = SseEnv(mxcsr);
      const Out got = soft(a, env);
      if ((got != want.value || env.flags != (want.mxcsr & 0x3F)) && ++failures <= 10) {
        ADD_FAILURE() << name << std::hex << " mxcsr=" << mxcsr << " a=" << a << " want "
                      << want.value << " flags " << (want.mxcsr & 0x3F) << ", got " << got
                      << " flags " << int(env.flags);
      }
    }
  }
  EXPECT_EQ(failures, 0) << name;
}

uint32_t GenF32(Operands& ops) {
  if (ops.OneIn(3))
    return (ops.OneIn(2) ? 0x80000000u : 0) | static_cast<uint32_t>(127 + ops.Range(-2, 65)) << 23 |
           static_cast<uint32_t>(ops.Bits() & 0x7FFFFF);
  return ops.F32();
}
uint64_t GenF64(Operands& ops) {
  if (ops.OneIn(3)) {
    return (ops.OneIn(2) ? 0x8000000000000000ull : 0) |
           static_cast<uint64_t>(1023 + ops.Range(-2, 65)) << 52 |
           (ops.Bits() & 0xFFFFFFFFFFFFFull);
  }
  if (ops.OneIn(3)) {  // binary32 range edges
    return (ops.OneIn(2) ? 0x8000000000000000ull : 0) |
           static_cast<uint64_t>(1023 + (ops.OneIn(2) ? 127 : -126) + ops.Range(-25, 2)) << 52 |
           (ops.Bits() & 0xFFFFFFFFFFFFFull);
  }
  return ops.F64();
}
int32_t GenI32(Operands& ops) { return static_cast<int32_t>(ops.Bits() >> ops.Range(0, 63)); }
int64_t GenI64(Operands& ops) { return static_cast<int64_t>(ops.Bits() >> ops.Range(0, 63)); }

TEST(SseFloatTest, ConversionsMatchHost) {
  CompareConvert<uint32_t, uint64_t>("cvtss2sd", F32ToF64, testing::HostCvtss2sd, GenF32, 31);
  CompareConvert<uint64_t, uint32_t>("cvtsd2ss", F64ToF32, testing::HostCvtsd2ss, GenF64, 32);
  CompareConvert<int32_t, uint32_t>("cvtsi2ss32", I32ToF32, testing::HostCvtsi2ss32, GenI32, 33);
  CompareConvert<int64_t, uint32_t>("cvtsi2ss64", I64ToF32, testing::HostCvtsi2ss64, GenI64, 34);
  CompareConvert<int64_t, uint64_t>("cvtsi2sd64", I64ToF64, testing::HostCvtsi2sd64, GenI64, 35);
  CompareConvert<uint32_t, int32_t>(
      "cvtss2si32", [](uint32_t a, FpEnv& e) { return F32ToI32(a, false, e); },
      testing::HostCvtss2si32, GenF32, 36);
  CompareConvert<uint32_t, int32_t>(
      "cvttss2si32", [](uint32_t a, FpEnv& e) { return F32ToI32(a, true, e); },
      testing::HostCvttss2si32, GenF32, 37);
  CompareConvert<uint32_t, int64_t>(
      "cvtss2si64", [](uint32_t a, FpEnv& e) { return F32ToI64(a, false, e); },
      testing::HostCvtss2si64, GenF32, 38);
  CompareConvert<uint32_t, int64_t>(
      "cvttss2si64", [](uint32_t a, FpEnv& e) { return F32ToI64(a, true, e); },
      testing::HostCvttss2si64, GenF32, 39);
  CompareConvert<uint64_t, int32_t>(
      "cvtsd2si32", [](uint64_t a, FpEnv& e) { return F64ToI32(a, false, e); },
      testing::HostCvtsd2si32, GenF64, 40);
  CompareConvert<uint64_t, int32_t>(
      "cvttsd2si32", [](uint64_t a, FpEnv& e) { return F64ToI32(a, true, e); },
      testing::HostCvttsd2si32, GenF64, 41);
  CompareConvert<uint64_t, int64_t>(
      "cvtsd2si64", [](uint64_t a, FpEnv& e) { return F64ToI64(a, false, e); },
      testing::HostCvtsd2si64, GenF64, 42);
  CompareConvert<uint64_t, int64_t>(
      "cvttsd2si64", [](uint64_t a, FpEnv& e) { return F64ToI64(a, true, e); },
      testing::HostCvttsd2si64, GenF64, 43);
  EXPECT_EQ(I32ToF64(INT32_MIN), 0xC1E0000000000000ull);
}

template <int Imm>
void CheckRound(Operands& ops) {
  CompareConvert<uint32_t, uint32_t>(
      "roundss", [](uint32_t a, FpEnv& e) { return F32RoundToIntegral(a, Imm, e); },
      testing::HostRoundss<Imm>, GenF32, 50 + Imm, 200);
  CompareConvert<uint64_t, uint64_t>(
      "roundsd", [](uint64_t a, FpEnv& e) { return F64RoundToIntegral(a, Imm, e); },
      testing::HostRoundsd<Imm>, GenF64, 70 + Imm, 200);
}

template <int... Imm>
void CheckAllRounds(Operands& ops, std::integer_sequence<int, Imm...>) {
  (CheckRound<Imm>(ops), ...);
}

TEST(SseFloatTest, RoundToIntegralMatchesHost) {
  Operands ops(51);
  CheckAllRounds(ops, std::make_integer_sequence<int, 16>{});
}

TEST(SseFloatTest, ReciprocalApproximations) {
  Operands ops(61);
  for (int i = 0; i < 20000; ++i) {
    const uint32_t a = ops.F32();
    const uint32_t r = F32Reciprocal(a);
    const uint32_t s = F32ReciprocalSqrt(a);
    const uint32_t host_r = testing::HostRcpss(0, a, 0x1F80).value;
    const uint32_t host_s = testing::HostRsqrtss(0, a, 0x1F80).value;
    const float x = std::bit_cast<float>(a);
    const bool denormal_or_zero = (a & 0x7F800000u) == 0;
    if (std::isnan(x) || std::isinf(x) || denormal_or_zero) {
      ASSERT_EQ(r, host_r) << std::hex << a;  // exact special results
      ASSERT_EQ(s, host_s) << std::hex << a;
      continue;
    }
    const double exact_r = 1.0 / static_cast<double>(x);
    if (std::fabs(exact_r) >= 0x1p-125) {
      ASSERT_LE(std::fabs(std::bit_cast<float>(r) - exact_r) / std::fabs(exact_r), 1.5 * 0x1p-12)
          << std::hex << a;
    }
    if (x < 0) {
      ASSERT_EQ(s, kF32Indefinite);
      ASSERT_EQ(host_s, kF32Indefinite);
    } else {
      const double exact_s = 1.0 / std::sqrt(static_cast<double>(x));
      ASSERT_LE(std::fabs(std::bit_cast<float>(s) - exact_s) / exact_s, 1.5 * 0x1p-12)
          << std::hex << a;
    }
  }
  EXPECT_EQ(F32Reciprocal(0x7F7FFFFFu), 0u);  // tiny result flushed
  EXPECT_EQ(F32ReciprocalSqrt(0x80000000u), 0xFF800000u);
}

}  // namespace
}  // namespace x86vm::softfloat
