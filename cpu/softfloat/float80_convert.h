// x87 conversions between the extended format and memory formats: binary32,
// binary64, two's-complement integers and 18-digit packed BCD
// (SDM Vol. 2 FLD, FST, FILD, FIST, FISTTP, FBLD, FBSTP).
#ifndef X86VM_CPU_SOFTFLOAT_FLOAT80_CONVERT_H_
#define X86VM_CPU_SOFTFLOAT_FLOAT80_CONVERT_H_

#include <array>
#include <cstdint>

#include "cpu/softfloat/float80.h"
#include "cpu/softfloat/fp_env.h"

namespace x86vm::softfloat {

// FLD m32fp: exact; an SNaN becomes a QNaN with IE, a denormal raises DE.
Float80 F80FromF32(uint32_t a, FpEnv& env);
// FLD m64fp: exact; an SNaN becomes a QNaN with IE, a denormal raises DE.
Float80 F80FromF64(uint64_t a, FpEnv& env);
// A binary32/binary64 memory operand of FADD/FSUB/FMUL/FDIV/FCOM: the value
// widened exactly with SNaNs kept signaling (the instruction quiets them), and
// whether it was a denormal (pass it on in a DenormalSource).
struct X87MemoryOperand {
  Float80 value;
  bool denormal = false;
};
// Widens a binary32 memory operand; raises nothing.
X87MemoryOperand F80FromF32Operand(uint32_t a);
// Widens a binary64 memory operand; raises nothing.
X87MemoryOperand F80FromF64Operand(uint64_t a);

// FST m32fp: rounds with RC (precision control does not apply); NaNs are
// quieted and truncated; unsupported encodings give the indefinite QNaN.
uint32_t F80ToF32(Float80 a, FpEnv& env);
// FST m64fp.
uint64_t F80ToF64(Float80 a, FpEnv& env);

// FILD: any 16/32/64-bit integer, always exact.
Float80 F80FromInt(int64_t value);

// FIST m16int: rounds with RC; NaN, infinity, unsupported or out-of-range
// give the integer indefinite 8000H with IE (SDM Vol. 1 4.8.3.5).
int16_t F80ToI16(Float80 a, FpEnv& env);
// FIST m32int (indefinite 80000000H).
int32_t F80ToI32(Float80 a, FpEnv& env);
// FIST m64int (indefinite 8000000000000000H).
int64_t F80ToI64(Float80 a, FpEnv& env);
// FISTTP m16int: as F80ToI16 but truncating (SDM Vol. 2 FISTTP).
int16_t F80ToI16Truncate(Float80 a, FpEnv& env);
// FISTTP m32int.
int32_t F80ToI32Truncate(Float80 a, FpEnv& env);
// FISTTP m64int.
int64_t F80ToI64Truncate(Float80 a, FpEnv& env);

// 18-digit packed BCD as stored in memory: bytes 0-8 hold two digits each
// (low nibble first), byte 9 bit 7 is the sign (SDM Vol. 1 4.7).
using PackedBcd = std::array<uint8_t, 10>;
// The packed BCD indefinite stored by a masked invalid FBSTP.
inline constexpr PackedBcd kBcdIndefinite = {0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF};
// FBLD: exact. Digits above 9 are not checked (the result is undefined on
// hardware); each nibble is weighted by its decimal position.
Float80 F80FromBcd(const PackedBcd& bcd);
// FBSTP: rounds with RC; |result| > 10^18 - 1, NaN, infinity or unsupported
// raise IE and give kBcdIndefinite.
PackedBcd F80ToBcd(Float80 a, FpEnv& env);

}  // namespace x86vm::softfloat

#endif  // X86VM_CPU_SOFTFLOAT_FLOAT80_CONVERT_H_
