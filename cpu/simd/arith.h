// Packed integer arithmetic of MMX, SSE2, SSSE3 and SSE4.1: add, subtract,
// multiply, average, minimum/maximum, sign and absolute value.
//
// Convention for the whole cpu/simd library: `a` is the destination operand's
// old value (the first operand in SDM notation), `b` the source; the return
// value is the new destination. An XMM form takes and returns Xmm; the MMX form
// of the same instruction is the overload on uint64_t.
#ifndef X86VM_CPU_SIMD_ARITH_H_
#define X86VM_CPU_SIMD_ARITH_H_

#include <cstdint>

#include "cpu/simd/xmm.h"

namespace x86vm::simd {

// PADDB/W/D/Q: wrapping add per lane (SDM Vol. 2 PADDB/PADDW/PADDD/PADDQ).
Xmm Paddb(const Xmm& a, const Xmm& b);
uint64_t Paddb(uint64_t a, uint64_t b);
Xmm Paddw(const Xmm& a, const Xmm& b);
uint64_t Paddw(uint64_t a, uint64_t b);
Xmm Paddd(const Xmm& a, const Xmm& b);
uint64_t Paddd(uint64_t a, uint64_t b);
Xmm Paddq(const Xmm& a, const Xmm& b);
uint64_t Paddq(uint64_t a, uint64_t b);

// PADDSB/W: add with signed saturation; PADDUSB/W: with unsigned saturation.
Xmm Paddsb(const Xmm& a, const Xmm& b);
uint64_t Paddsb(uint64_t a, uint64_t b);
Xmm Paddsw(const Xmm& a, const Xmm& b);
uint64_t Paddsw(uint64_t a, uint64_t b);
Xmm Paddusb(const Xmm& a, const Xmm& b);
uint64_t Paddusb(uint64_t a, uint64_t b);
Xmm Paddusw(const Xmm& a, const Xmm& b);
uint64_t Paddusw(uint64_t a, uint64_t b);

// PSUBB/W/D/Q: wrapping subtract a - b per lane.
Xmm Psubb(const Xmm& a, const Xmm& b);
uint64_t Psubb(uint64_t a, uint64_t b);
Xmm Psubw(const Xmm& a, const Xmm& b);
uint64_t Psubw(uint64_t a, uint64_t b);
Xmm Psubd(const Xmm& a, const Xmm& b);
uint64_t Psubd(uint64_t a, uint64_t b);
Xmm Psubq(const Xmm& a, const Xmm& b);
uint64_t Psubq(uint64_t a, uint64_t b);

// PSUBSB/W: subtract with signed saturation; PSUBUSB/W: unsigned saturation.
Xmm Psubsb(const Xmm& a, const Xmm& b);
uint64_t Psubsb(uint64_t a, uint64_t b);
Xmm Psubsw(const Xmm& a, const Xmm& b);
uint64_t Psubsw(uint64_t a, uint64_t b);
Xmm Psubusb(const Xmm& a, const Xmm& b);
uint64_t Psubusb(uint64_t a, uint64_t b);
Xmm Psubusw(const Xmm& a, const Xmm& b);
uint64_t Psubusw(uint64_t a, uint64_t b);

// PMULLW: low 16 bits of the signed 16x16 products.
Xmm Pmullw(const Xmm& a, const Xmm& b);
uint64_t Pmullw(uint64_t a, uint64_t b);
// PMULHW: high 16 bits of the signed 16x16 products.
Xmm Pmulhw(const Xmm& a, const Xmm& b);
uint64_t Pmulhw(uint64_t a, uint64_t b);
// PMULHUW: high 16 bits of the unsigned 16x16 products.
Xmm Pmulhuw(const Xmm& a, const Xmm& b);
uint64_t Pmulhuw(uint64_t a, uint64_t b);
// PMULHRSW (SSSE3): signed 16x16 product, scaled by 2^-15 with rounding.
Xmm Pmulhrsw(const Xmm& a, const Xmm& b);
uint64_t Pmulhrsw(uint64_t a, uint64_t b);
// PMULUDQ: unsigned 32x32->64 of the low dword of each quadword.
Xmm Pmuludq(const Xmm& a, const Xmm& b);
uint64_t Pmuludq(uint64_t a, uint64_t b);
// PMULDQ (SSE4.1): signed 32x32->64 of the low dword of each quadword.
Xmm Pmuldq(const Xmm& a, const Xmm& b);
// PMULLD (SSE4.1): low 32 bits of the 32x32 products.
Xmm Pmulld(const Xmm& a, const Xmm& b);

// PAVGB/W: unsigned average rounded up, (a + b + 1) >> 1.
Xmm Pavgb(const Xmm& a, const Xmm& b);
uint64_t Pavgb(uint64_t a, uint64_t b);
Xmm Pavgw(const Xmm& a, const Xmm& b);
uint64_t Pavgw(uint64_t a, uint64_t b);

// PMINUB/PMINSW/PMAXUB/PMAXSW (SSE, MMX and XMM forms).
Xmm Pminub(const Xmm& a, const Xmm& b);
uint64_t Pminub(uint64_t a, uint64_t b);
Xmm Pminsw(const Xmm& a, const Xmm& b);
uint64_t Pminsw(uint64_t a, uint64_t b);
Xmm Pmaxub(const Xmm& a, const Xmm& b);
uint64_t Pmaxub(uint64_t a, uint64_t b);
Xmm Pmaxsw(const Xmm& a, const Xmm& b);
uint64_t Pmaxsw(uint64_t a, uint64_t b);
// PMINSB/PMINUW/PMINSD/PMINUD and the PMAX forms (SSE4.1, XMM only).
Xmm Pminsb(const Xmm& a, const Xmm& b);
Xmm Pminuw(const Xmm& a, const Xmm& b);
Xmm Pminsd(const Xmm& a, const Xmm& b);
Xmm Pminud(const Xmm& a, const Xmm& b);
Xmm Pmaxsb(const Xmm& a, const Xmm& b);
Xmm Pmaxuw(const Xmm& a, const Xmm& b);
Xmm Pmaxsd(const Xmm& a, const Xmm& b);
Xmm Pmaxud(const Xmm& a, const Xmm& b);

// PSIGNB/W/D (SSSE3): a negated, zeroed or kept as b's lane is <0, 0 or >0.
Xmm Psignb(const Xmm& a, const Xmm& b);
uint64_t Psignb(uint64_t a, uint64_t b);
Xmm Psignw(const Xmm& a, const Xmm& b);
uint64_t Psignw(uint64_t a, uint64_t b);
Xmm Psignd(const Xmm& a, const Xmm& b);
uint64_t Psignd(uint64_t a, uint64_t b);

// PABSB/W/D (SSSE3): unsigned absolute value of the source b (0x80 -> 0x80).
Xmm Pabsb(const Xmm& b);
uint64_t Pabsb(uint64_t b);
Xmm Pabsw(const Xmm& b);
uint64_t Pabsw(uint64_t b);
Xmm Pabsd(const Xmm& b);
uint64_t Pabsd(uint64_t b);

}  // namespace x86vm::simd

#endif  // X86VM_CPU_SIMD_ARITH_H_
