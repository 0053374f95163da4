// The x87 double extended-precision format and the x87 instructions that
// compute with it: arithmetic, remainder, rounding, scaling, comparison and
// classification (SDM Vol. 1 4.2.2, 8.3; Vol. 2 FADD..FXTRACT).
// Conversions are in float80_convert.h, transcendentals in float80_math.h.
#ifndef X86VM_CPU_SOFTFLOAT_FLOAT80_H_
#define X86VM_CPU_SOFTFLOAT_FLOAT80_H_

#include <cstdint>

#include "cpu/softfloat/fp_env.h"

namespace x86vm::softfloat {

// An 80-bit extended value as FSTP m80fp stores it: the 64-bit significand
// with its explicit integer bit (bit 63), then sign (bit 15) and 15-bit
// biased exponent (SDM Vol. 1 Figure 4-3).
struct Float80 {
  uint64_t significand = 0;
  uint16_t sign_exponent = 0;

  // The sign bit.
  bool sign() const { return (sign_exponent >> 15) != 0; }
  // The biased exponent field.
  uint16_t biased_exponent() const { return sign_exponent & 0x7FFF; }
  // Builds a value from its fields.
  static constexpr Float80 Make(bool sign, uint16_t biased_exponent, uint64_t significand) {
    return Float80{significand,
                   static_cast<uint16_t>((sign ? 0x8000 : 0) | (biased_exponent & 0x7FFF))};
  }
  friend bool operator==(const Float80&, const Float80&) = default;
};

// Exponent bias of the extended format.
inline constexpr int kFloat80Bias = 16383;
// +0.0.
inline constexpr Float80 kFloat80Zero = Float80::Make(false, 0, 0);
// +1.0.
inline constexpr Float80 kFloat80One = Float80::Make(false, 0x3FFF, 0x8000000000000000ull);
// +infinity.
inline constexpr Float80 kFloat80Infinity = Float80::Make(false, 0x7FFF, 0x8000000000000000ull);
// The real indefinite QNaN returned by masked invalid operations (SDM Vol. 1 Table 4-3).
inline constexpr Float80 kFloat80Indefinite = Float80::Make(true, 0x7FFF, 0xC000000000000000ull);

// True for a NaN (quiet or signaling) with the integer bit set.
bool F80IsNaN(Float80 a);
// True for a signaling NaN.
bool F80IsSignalingNaN(Float80 a);
// True for encodings the x87 rejects with #IA: pseudo-NaN, pseudo-infinity,
// unnormal (SDM Vol. 1 8.2.2).
bool F80IsUnsupported(Float80 a);

// Marks operands that came from binary32/binary64 memory as denormals: widened
// to extended they are normal, yet the instruction raises DE for them, with
// its usual priorities (a NaN operand or #Z suppresses it). See
// F80FromF32Operand in float80_convert.h.
struct DenormalSource {
  bool a = false;  // first operand was a memory denormal
  bool b = false;  // second operand was a memory denormal
};

// FADD: a + b rounded to the precision control (SDM Vol. 2 FADD).
Float80 F80Add(Float80 a, Float80 b, FpEnv& env, DenormalSource source = {});
// FSUB: a - b (FSUBR is F80Sub(b, a)).
Float80 F80Sub(Float80 a, Float80 b, FpEnv& env, DenormalSource source = {});
// FMUL: a * b.
Float80 F80Mul(Float80 a, Float80 b, FpEnv& env, DenormalSource source = {});
// FDIV: a / b (FDIVR is F80Div(b, a)); raises ZE for finite / 0.
Float80 F80Div(Float80 a, Float80 b, FpEnv& env, DenormalSource source = {});
// FSQRT: square root; IE for negative nonzero operands.
Float80 F80Sqrt(Float80 a, FpEnv& env);

// Result of FPREM/FPREM1.
struct Float80Remainder {
  Float80 value;              // new ST(0)
  uint8_t quotient_bits = 0;  // Q2 Q1 Q0: C0 = bit 2, C3 = bit 1, C1 = bit 0
  bool incomplete = false;    // C2: the reduction must be repeated
};
// FPREM: partial remainder of a / b with the quotient truncated; when the
// exponents differ by 64 or more only a partial reduction is done
// (SDM Vol. 2 FPREM). Exact, never rounded.
Float80Remainder F80Rem(Float80 a, Float80 b, FpEnv& env);
// FPREM1: IEEE remainder, the quotient rounded to nearest even (SDM Vol. 2 FPREM1).
Float80Remainder F80Rem1(Float80 a, Float80 b, FpEnv& env);

// FRNDINT: rounds to an integral value with the rounding control.
Float80 F80RoundToInt(Float80 a, FpEnv& env);
// FSCALE: a * 2^trunc(b) (SDM Vol. 2 FSCALE).
Float80 F80Scale(Float80 a, Float80 b, FpEnv& env);

// Result of FXTRACT.
struct Float80Extracted {
  Float80 exponent;     // true exponent as a value (goes to ST(1))
  Float80 significand;  // significand with exponent 0, sign kept (new ST(0))
};
// FXTRACT: splits a into exponent and significand; ZE for zeros
// (SDM Vol. 2 FXTRACT).
Float80Extracted F80Extract(Float80 a, FpEnv& env);

// Outcome of a comparison.
enum class CompareResult : uint8_t { kLess, kEqual, kGreater, kUnordered };
// FCOM/FCOMI (signaling: IE on any NaN) when `quiet` is false, FUCOM/FUCOMI
// (IE only for SNaN) when true; unsupported encodings always raise IE
// (SDM Vol. 2 FCOM, FUCOM). FTST is F80Compare(a, kFloat80Zero, false); FICOM
// compares with F80FromInt(m).
CompareResult F80Compare(Float80 a, Float80 b, bool quiet, FpEnv& env, DenormalSource source = {});

// FXAM classes, numbered as C3 C2 C0 (SDM Vol. 2 FXAM); C1 is the sign.
enum class X87Class : uint8_t {
  kUnsupported = 0b000,
  kNaN = 0b001,
  kNormal = 0b010,
  kInfinity = 0b011,
  kZero = 0b100,
  kEmpty = 0b101,  // never returned: the caller knows the tag
  kDenormal = 0b110,
};
// FXAM for a non-empty register. Pseudo-denormals are reported as denormal.
X87Class F80Classify(Float80 a);

// Constants of FLDPI, FLDL2T, FLDL2E, FLDLG2, FLDLN2 (FLD1 and FLDZ are exact).
enum class X87Constant : uint8_t { kPi, kLog2Ten, kLog2E, kLog10Two, kLnTwo };
// The constant rounded to 64 bits with the rounding mode (SDM Vol. 2 FLD1/FLDL2T/...:
// "the internal 66-bit constant is rounded as specified by the RC field").
Float80 F80Constant(X87Constant which, RoundingMode rounding);

}  // namespace x86vm::softfloat

#endif  // X86VM_CPU_SOFTFLOAT_FLOAT80_H_
