// Packed compares, bitwise logic, PTEST and the sign-bit masks (MOVMSK).
// Operand convention as in arith.h (a = destination, b = source).
#ifndef X86VM_CPU_SIMD_COMPARE_LOGIC_H_
#define X86VM_CPU_SIMD_COMPARE_LOGIC_H_

#include <cstdint>

#include "cpu/simd/flags.h"
#include "cpu/simd/xmm.h"

namespace x86vm::simd {

// PCMPEQB/W/D/Q: all-ones lane where a == b, zero elsewhere (Q is SSE4.1).
Xmm Pcmpeqb(const Xmm& a, const Xmm& b);
uint64_t Pcmpeqb(uint64_t a, uint64_t b);
Xmm Pcmpeqw(const Xmm& a, const Xmm& b);
uint64_t Pcmpeqw(uint64_t a, uint64_t b);
Xmm Pcmpeqd(const Xmm& a, const Xmm& b);
uint64_t Pcmpeqd(uint64_t a, uint64_t b);
Xmm Pcmpeqq(const Xmm& a, const Xmm& b);
// PCMPGTB/W/D/Q: all-ones lane where signed a > b (Q is SSE4.2).
Xmm Pcmpgtb(const Xmm& a, const Xmm& b);
uint64_t Pcmpgtb(uint64_t a, uint64_t b);
Xmm Pcmpgtw(const Xmm& a, const Xmm& b);
uint64_t Pcmpgtw(uint64_t a, uint64_t b);
Xmm Pcmpgtd(const Xmm& a, const Xmm& b);
uint64_t Pcmpgtd(uint64_t a, uint64_t b);
Xmm Pcmpgtq(const Xmm& a, const Xmm& b);

// PAND, also ANDPS/ANDPD (the same bits): a & b.
Xmm Pand(const Xmm& a, const Xmm& b);
uint64_t Pand(uint64_t a, uint64_t b);
// PANDN, also ANDNPS/ANDNPD: ~a & b (the destination is inverted).
Xmm Pandn(const Xmm& a, const Xmm& b);
uint64_t Pandn(uint64_t a, uint64_t b);
// POR, also ORPS/ORPD: a | b.
Xmm Por(const Xmm& a, const Xmm& b);
uint64_t Por(uint64_t a, uint64_t b);
// PXOR, also XORPS/XORPD: a ^ b.
Xmm Pxor(const Xmm& a, const Xmm& b);
uint64_t Pxor(uint64_t a, uint64_t b);

// PTEST (SSE4.1): ZF = ((a & b) == 0), CF = ((~a & b) == 0); AF, OF, PF and
// SF are cleared (SDM Vol. 2 PTEST).
FlagUpdate Ptest(const Xmm& a, const Xmm& b);

// PMOVMSKB: the sign bit of each byte of b, byte i to bit i (16 or 8 bits).
uint32_t Pmovmskb(const Xmm& b);
uint32_t Pmovmskb(uint64_t b);
// MOVMSKPS: the sign bits of the four dwords of b.
uint32_t Movmskps(const Xmm& b);
// MOVMSKPD: the sign bits of the two quadwords of b.
uint32_t Movmskpd(const Xmm& b);

}  // namespace x86vm::simd

#endif  // X86VM_CPU_SIMD_COMPARE_LOGIC_H_
