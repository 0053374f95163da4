// x87 transcendental instructions (SDM Vol. 2 F2XM1, FYL2X, FYL2XP1, FPTAN,
// FSIN, FCOS, FSINCOS, FPATAN). Results are computed with a 128-bit
// intermediate and rounded once with the rounding control, so they are
// within 1 ulp of the 64-bit significand (nearly always correctly rounded).
// Real x87 hardware reduces FSIN/FCOS/FPTAN arguments with a 66-bit pi and
// is less accurate far from zero; these functions reduce exactly.
#ifndef X86VM_CPU_SOFTFLOAT_FLOAT80_MATH_H_
#define X86VM_CPU_SOFTFLOAT_FLOAT80_MATH_H_

#include "cpu/softfloat/float80.h"
#include "cpu/softfloat/fp_env.h"

namespace x86vm::softfloat {

// F2XM1: 2^x - 1, defined for -1 <= x <= 1 (larger |x| are computed anyway).
Float80 F80TwoToXMinus1(Float80 x, FpEnv& env);
// FYL2X: y * log2(x), x = ST(0), y = ST(1). ZE for x = 0 and finite nonzero y.
Float80 F80YLog2X(Float80 x, Float80 y, FpEnv& env);
// FYL2XP1: y * log2(x + 1), meant for |x| < 1 - sqrt(2)/2.
Float80 F80YLog2XPlus1(Float80 x, Float80 y, FpEnv& env);
// FPATAN: arctan(y / x) in the quadrant of (x, y), x = ST(0), y = ST(1).
Float80 F80Atan2(Float80 y, Float80 x, FpEnv& env);

// Result of FSIN/FCOS/FPTAN: when out_of_range (C2) the operand was
// |x| >= 2^63 and is left unchanged, with no exception.
struct Float80Trig {
  Float80 value;
  bool out_of_range = false;
};
// FSIN.
Float80Trig F80Sin(Float80 x, FpEnv& env);
// FCOS.
Float80Trig F80Cos(Float80 x, FpEnv& env);
// FPTAN: tan(x); the caller then pushes 1.0 unless out_of_range or an
// unmasked exception stops the instruction.
Float80Trig F80Tan(Float80 x, FpEnv& env);

// Result of FSINCOS.
struct Float80SinCos {
  Float80 sin;  // replaces ST(0)
  Float80 cos;  // then pushed
  bool out_of_range = false;
};
// FSINCOS.
Float80SinCos F80SinCos(Float80 x, FpEnv& env);

}  // namespace x86vm::softfloat

#endif  // X86VM_CPU_SOFTFLOAT_FLOAT80_MATH_H_
