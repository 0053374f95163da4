// Scalar IEEE binary32/binary64 arithmetic with SSE semantics: MXCSR rounding,
// DAZ/FTZ, x86 NaN propagation (first operand's NaN wins, SNaN quieted, the
// default NaN is the negative QNaN indefinite) and all six exception flags
// (SDM Vol. 1 4.8.3.5, 11.5; Vol. 2 ADDSS..UCOMISD). Values are raw bits.
// Packed instructions apply these per element.
#ifndef X86VM_CPU_SOFTFLOAT_SSE_FLOAT_H_
#define X86VM_CPU_SOFTFLOAT_SSE_FLOAT_H_

#include <cstdint>

#include "cpu/softfloat/float80.h"
#include "cpu/softfloat/fp_env.h"

namespace x86vm::softfloat {

// binary32 QNaN floating-point indefinite (SDM Vol. 1 Table 4-3).
inline constexpr uint32_t kF32Indefinite = 0xFFC00000u;
// binary64 QNaN floating-point indefinite.
inline constexpr uint64_t kF64Indefinite = 0xFFF8000000000000ull;
// 32-bit integer indefinite returned by invalid conversions.
inline constexpr int32_t kI32Indefinite = INT32_MIN;
// 64-bit integer indefinite.
inline constexpr int64_t kI64Indefinite = INT64_MIN;

// ADDSS: a + b.
uint32_t F32Add(uint32_t a, uint32_t b, FpEnv& env);
// SUBSS: a - b.
uint32_t F32Sub(uint32_t a, uint32_t b, FpEnv& env);
// MULSS: a * b.
uint32_t F32Mul(uint32_t a, uint32_t b, FpEnv& env);
// DIVSS: a / b.
uint32_t F32Div(uint32_t a, uint32_t b, FpEnv& env);
// SQRTSS: sqrt(a).
uint32_t F32Sqrt(uint32_t a, FpEnv& env);
// MINSS: a < b ? a : b; b when either is a NaN (IE for any NaN) or both are zeros.
uint32_t F32Min(uint32_t a, uint32_t b, FpEnv& env);
// MAXSS: a > b ? a : b, with the same NaN and zero rules as F32Min.
uint32_t F32Max(uint32_t a, uint32_t b, FpEnv& env);

// ADDSD: a + b.
uint64_t F64Add(uint64_t a, uint64_t b, FpEnv& env);
// SUBSD: a - b.
uint64_t F64Sub(uint64_t a, uint64_t b, FpEnv& env);
// MULSD: a * b.
uint64_t F64Mul(uint64_t a, uint64_t b, FpEnv& env);
// DIVSD: a / b.
uint64_t F64Div(uint64_t a, uint64_t b, FpEnv& env);
// SQRTSD: sqrt(a).
uint64_t F64Sqrt(uint64_t a, FpEnv& env);
// MINSD.
uint64_t F64Min(uint64_t a, uint64_t b, FpEnv& env);
// MAXSD.
uint64_t F64Max(uint64_t a, uint64_t b, FpEnv& env);

// COMISS (quiet = false: IE for any NaN) and UCOMISS (quiet = true: IE for SNaN).
CompareResult F32Compare(uint32_t a, uint32_t b, bool quiet, FpEnv& env);
// COMISD / UCOMISD.
CompareResult F64Compare(uint64_t a, uint64_t b, bool quiet, FpEnv& env);
// The EFLAGS bits COMIS*/UCOMIS* leave: ZF, PF, CF from the result, OF/SF/AF zero.
uint32_t ComisEflags(CompareResult result);
// CMPSS/VCMPSS with predicate imm8[4:0] (SDM Vol. 2 CMPPS Table 3-1): true
// when the predicate holds. Signaling predicates raise IE for QNaNs too.
bool F32ComparePredicate(uint32_t a, uint32_t b, uint8_t predicate, FpEnv& env);
// CMPSD/VCMPSD.
bool F64ComparePredicate(uint64_t a, uint64_t b, uint8_t predicate, FpEnv& env);

// CVTSS2SD: exact; SNaN -> QNaN with IE.
uint64_t F32ToF64(uint32_t a, FpEnv& env);
// CVTSD2SS: rounded with MXCSR.RC, FTZ applies.
uint32_t F64ToF32(uint64_t a, FpEnv& env);
// CVTSI2SS r32: rounded.
uint32_t I32ToF32(int32_t a, FpEnv& env);
// CVTSI2SS r64: rounded.
uint32_t I64ToF32(int64_t a, FpEnv& env);
// CVTSI2SD r32: exact.
uint64_t I32ToF64(int32_t a);
// CVTSI2SD r64: rounded.
uint64_t I64ToF64(int64_t a, FpEnv& env);
// CVTSS2SI r32 (truncate = false, MXCSR.RC) / CVTTSS2SI r32 (truncate = true);
// NaN or out of range give kI32Indefinite with IE.
int32_t F32ToI32(uint32_t a, bool truncate, FpEnv& env);
// CVTSS2SI / CVTTSS2SI r64.
int64_t F32ToI64(uint32_t a, bool truncate, FpEnv& env);
// CVTSD2SI / CVTTSD2SI r32.
int32_t F64ToI32(uint64_t a, bool truncate, FpEnv& env);
// CVTSD2SI / CVTTSD2SI r64.
int64_t F64ToI64(uint64_t a, bool truncate, FpEnv& env);

// ROUNDSS: imm8[1:0] rounding mode unless imm8[2] selects MXCSR.RC; imm8[3]
// suppresses the precision exception (SDM Vol. 2 ROUNDSS). Never raises DE.
uint32_t F32RoundToIntegral(uint32_t a, uint8_t imm8, FpEnv& env);
// ROUNDSD.
uint64_t F64RoundToIntegral(uint64_t a, uint8_t imm8, FpEnv& env);

// RCPSS: 1/a with relative error at most 1.5 * 2^-12; denormal inputs read as
// zeros, tiny results are flushed to zero, no flags (SDM Vol. 2 RCPSS).
uint32_t F32Reciprocal(uint32_t a);
// RSQRTSS: 1/sqrt(a) with relative error at most 1.5 * 2^-12; negative
// nonzero inputs give the indefinite, no flags (SDM Vol. 2 RSQRTSS).
uint32_t F32ReciprocalSqrt(uint32_t a);

}  // namespace x86vm::softfloat

#endif  // X86VM_CPU_SOFTFLOAT_SSE_FLOAT_H_
