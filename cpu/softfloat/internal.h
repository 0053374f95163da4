// Shared machinery of the softfloat library: 128-bit helpers, unpacked
// operands, the one rounding routine every format uses, packing, NaN rules and
// the exact arithmetic kernels. Not part of the public API.
#ifndef X86VM_CPU_SOFTFLOAT_INTERNAL_H_
#define X86VM_CPU_SOFTFLOAT_INTERNAL_H_

#include <bit>
#include <cstdint>

#include "cpu/softfloat/float80.h"
#include "cpu/softfloat/fp_env.h"

namespace x86vm::softfloat::internal {

// Unsigned 128-bit integer (a GCC/Clang extension on every 64-bit target).
__extension__ typedef unsigned __int128 u128;

// Leading zeros of a nonzero 128-bit value.
inline int Clz128(u128 x) {
  const uint64_t hi = static_cast<uint64_t>(x >> 64);
  return hi != 0 ? std::countl_zero(hi) : 64 + std::countl_zero(static_cast<uint64_t>(x));
}

// x >> n with every bit shifted out ORed into bit 0 (the sticky bit).
inline u128 ShiftRightJam(u128 x, int n) {
  if (n <= 0) return x;
  if (n >= 128) return x != 0 ? 1 : 0;
  return (x >> n) | ((x << (128 - n)) != 0 ? 1 : 0);
}

// Floor of the square root of x, and x - root^2 in *remainder.
u128 Isqrt128(u128 x, u128* remainder);

// Operand classes after unpacking.
enum class Kind : uint8_t { kZero, kFinite, kInfinity, kNaN, kUnsupported };

// An operand of any format in one shape.
struct Unpacked {
  Kind kind = Kind::kZero;
  bool sign = false;
  bool denormal = false;  // a denormal or pseudo-denormal operand (raises DE)
  int32_t exp = 0;        // finite: unbiased exponent of sig bit 63
  uint64_t sig = 0;       // finite: normalized (bit 63 set); NaN: payload laid out as in
                          // Float80 (bit 63 set, bit 62 = quiet)

  // Class tests.
  bool IsNaN() const { return kind == Kind::kNaN; }
  bool IsSignalingNaN() const { return kind == Kind::kNaN && ((sig >> 62) & 1) == 0; }
  bool IsZero() const { return kind == Kind::kZero; }
  bool IsInfinity() const { return kind == Kind::kInfinity; }
  // Finite and nonzero.
  bool IsFinite() const { return kind == Kind::kFinite; }
};

// Unpacks an x87 register/memory value.
Unpacked UnpackF80(Float80 a);
// Unpacks a binary32; with `daz` denormals read as zeros (no DE).
Unpacked UnpackF32(uint32_t a, bool daz);
// Unpacks a binary64; with `daz` denormals read as zeros (no DE).
Unpacked UnpackF64(uint64_t a, bool daz);

// What one destination format allows a rounded result to be.
struct RoundSpec {
  int precision_bits;  // 24, 53 or 64
  int32_t emin;        // unbiased exponent of the smallest normal
  int32_t emax;        // unbiased exponent of the largest finite
  bool x87;            // x87 rules: FTZ ignored; with `wrap`, exponent wrap
  bool wrap = false;   // x87 register results: exponent wrap when OE/UE unmasked
};

// binary32 results.
inline constexpr RoundSpec kF32Spec{24, -126, 127, false};
// binary64 results.
inline constexpr RoundSpec kF64Spec{53, -1022, 1023, false};
// x87 register results at full precision (everything but the PC-controlled five).
inline constexpr RoundSpec kF80Spec{64, -16382, 16383, true, true};
// x87 stores to m32fp (range of binary32, no exponent wrap).
inline constexpr RoundSpec kF80ToF32Spec{24, -126, 127, true};
// x87 stores to m64fp.
inline constexpr RoundSpec kF80ToF64Spec{53, -1022, 1023, true};
// x87 register results under the precision control (SDM Vol. 1 8.1.5.2).
RoundSpec X87ArithmeticSpec(PrecisionControl pc);

// Exponent adjustment of x87 results when OE/UE are unmasked (SDM Vol. 1 8.5.4).
inline constexpr int32_t kX87WrapBias = 0x6000;

// A rounded finite or infinite result. sig is left-aligned (bit 63 = integer
// bit); a denormal or zero has bit 63 clear and exp == spec.emin.
struct Rounded {
  bool sign = false;
  bool infinity = false;
  int32_t exp = 0;
  uint64_t sig = 0;
};

// Rounds sign * sig * 2^(exp - 127) to the spec with env's rounding mode,
// raising PE/UE/OE and setting env.rounded_up. sig may be unnormalized; its
// bit 0 is expected to carry the sticky OR of any bits already dropped.
// Tininess is detected after rounding, as x86 does for x87 and SSE.
Rounded Round(bool sign, int32_t exp, u128 sig, const RoundSpec& spec, FpEnv& env);

// Packs a rounded result as an extended value.
Float80 PackF80(const Rounded& r);
// Packs a rounded result as a binary32.
uint32_t PackF32(const Rounded& r);
// Packs a rounded result as a binary64.
uint64_t PackF64(const Rounded& r);

// Signed zero of the extended format.
inline Float80 F80Zero(bool sign) { return Float80::Make(sign, 0, 0); }
// Signed infinity of the extended format.
inline Float80 F80Inf(bool sign) { return Float80::Make(sign, 0x7FFF, 0x8000000000000000ull); }
// Signed binary32 zero.
inline uint32_t F32Zero(bool sign) { return sign ? 0x80000000u : 0; }
// Signed binary32 infinity.
inline uint32_t F32Inf(bool sign) { return (sign ? 0x80000000u : 0) | 0x7F800000u; }
// Signed binary64 zero.
inline uint64_t F64Zero(bool sign) { return sign ? 0x8000000000000000ull : 0; }
// Signed binary64 infinity.
inline uint64_t F64Inf(bool sign) {
  return (sign ? 0x8000000000000000ull : 0) | 0x7FF0000000000000ull;
}

// The quiet extended NaN with an unpacked NaN's sign and payload.
Float80 QuietF80(const Unpacked& nan);
// The quiet binary32 NaN with the payload's top 22 bits (SDM Vol. 1 4.8.3.5).
uint32_t QuietF32(const Unpacked& nan);
// The quiet binary64 NaN with the payload's top 51 bits.
uint64_t QuietF64(const Unpacked& nan);

// x87 NaN result for two operands, at least one NaN (SDM Vol. 1 Table 4-7):
// raises IE for an SNaN; an SNaN/QNaN pair gives the QNaN; two NaNs of the same
// kind give the larger significand.
Float80 X87PropagateNaN(const Unpacked& a, const Unpacked& b, FpEnv& env);
// x87 NaN result for one NaN operand, raising IE for an SNaN.
Float80 X87PropagateNaN(const Unpacked& a, FpEnv& env);

// Orders two non-NaN operands (zeros of either sign are equal).
CompareResult CompareNumbers(const Unpacked& a, const Unpacked& b);

// An exact intermediate: sign * sig * 2^(exp - 127), sticky in bit 0.
struct Exact {
  bool sign = false;
  int32_t exp = 0;
  u128 sig = 0;
};

// Exact a + b (b negated when `subtract`) for finite or zero operands; an
// exact zero sum is +0 except -0 when rounding down (IEEE 754 6.3).
Exact AddExact(const Unpacked& a, const Unpacked& b, bool subtract, RoundingMode mode);
// a * b for finite nonzero operands.
Exact MulExact(const Unpacked& a, const Unpacked& b);
// a / b for finite nonzero operands, with enough bits and sticky for any rounding.
Exact DivExact(const Unpacked& a, const Unpacked& b);
// sqrt(a) for finite positive a, with guard and sticky bits.
Exact SqrtExact(const Unpacked& a);

// A finite value rounded to an integer.
struct IntegerRounding {
  u128 magnitude = 0;        // |rounded value|; meaningful when !huge
  bool huge = false;         // |value| >= 2^64 (already integral)
  bool inexact = false;      // the value was not integral
  bool incremented = false;  // the magnitude was rounded up
};
// Rounds sign * sig * 2^(exp - 63) (sig normalized) to an integer with `mode`.
IntegerRounding RoundToInteger(bool sign, int32_t exp, uint64_t sig, RoundingMode mode);

// Value of an unpacked finite operand as an Exact.
inline Exact ToExact(const Unpacked& a) {
  return Exact{a.sign, a.exp, static_cast<u128>(a.sig) << 64};
}

}  // namespace x86vm::softfloat::internal

#endif  // X86VM_CPU_SOFTFLOAT_INTERNAL_H_
