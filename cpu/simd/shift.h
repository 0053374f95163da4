// Packed shifts: per-lane bit shifts, whole-register byte shifts, PALIGNR.
// Operand convention as in arith.h (a = destination, b = source).
#ifndef X86VM_CPU_SIMD_SHIFT_H_
#define X86VM_CPU_SIMD_SHIFT_H_

#include <cstdint>

#include "cpu/simd/xmm.h"

namespace x86vm::simd {

// Per-lane shifts of a by `count` bits. The same functions serve the
// immediate form (count = imm8) and the register/memory form (count = the
// whole low quadword of the source, or the MMX source): SDM Vol. 2 PSLLW says
// a count above lane width - 1 zeroes the lane for logical shifts and fills
// it with the sign bit for arithmetic ones.
// PSLLW/D/Q: logical left.
Xmm Psllw(const Xmm& a, uint64_t count);
uint64_t Psllw(uint64_t a, uint64_t count);
Xmm Pslld(const Xmm& a, uint64_t count);
uint64_t Pslld(uint64_t a, uint64_t count);
Xmm Psllq(const Xmm& a, uint64_t count);
uint64_t Psllq(uint64_t a, uint64_t count);
// PSRLW/D/Q: logical right.
Xmm Psrlw(const Xmm& a, uint64_t count);
uint64_t Psrlw(uint64_t a, uint64_t count);
Xmm Psrld(const Xmm& a, uint64_t count);
uint64_t Psrld(uint64_t a, uint64_t count);
Xmm Psrlq(const Xmm& a, uint64_t count);
uint64_t Psrlq(uint64_t a, uint64_t count);
// PSRAW/D: arithmetic right.
Xmm Psraw(const Xmm& a, uint64_t count);
uint64_t Psraw(uint64_t a, uint64_t count);
Xmm Psrad(const Xmm& a, uint64_t count);
uint64_t Psrad(uint64_t a, uint64_t count);

// PSLLDQ: the whole register shifted left by imm bytes (imm > 15 clears it).
Xmm Pslldq(const Xmm& a, uint8_t imm);
// PSRLDQ: the whole register shifted right by imm bytes (imm > 15 clears it).
Xmm Psrldq(const Xmm& a, uint8_t imm);

// PALIGNR (SSSE3): the concatenation a:b (a high) shifted right by imm bytes,
// low half kept; shifts past the concatenation give zeros.
Xmm Palignr(const Xmm& a, const Xmm& b, uint8_t imm);
uint64_t Palignr(uint64_t a, uint64_t b, uint8_t imm);

}  // namespace x86vm::simd

#endif  // X86VM_CPU_SIMD_SHIFT_H_
