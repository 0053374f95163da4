// Instructions that combine neighbouring lanes: horizontal add/subtract,
// multiply-add, sums of absolute differences, and the minimum search.
// Operand convention as in arith.h (a = destination, b = source).
#ifndef X86VM_CPU_SIMD_HORIZONTAL_H_
#define X86VM_CPU_SIMD_HORIZONTAL_H_

#include <cstdint>

#include "cpu/simd/xmm.h"

namespace x86vm::simd {

// PHADDW/D (SSSE3): sums of adjacent pairs, a's pairs in the low half of the
// result and b's in the high half (wrapping).
Xmm Phaddw(const Xmm& a, const Xmm& b);
uint64_t Phaddw(uint64_t a, uint64_t b);
Xmm Phaddd(const Xmm& a, const Xmm& b);
uint64_t Phaddd(uint64_t a, uint64_t b);
// PHADDSW (SSSE3): as PHADDW with signed saturation.
Xmm Phaddsw(const Xmm& a, const Xmm& b);
uint64_t Phaddsw(uint64_t a, uint64_t b);
// PHSUBW/D (SSSE3): even lane minus odd lane of each pair (wrapping).
Xmm Phsubw(const Xmm& a, const Xmm& b);
uint64_t Phsubw(uint64_t a, uint64_t b);
Xmm Phsubd(const Xmm& a, const Xmm& b);
uint64_t Phsubd(uint64_t a, uint64_t b);
// PHSUBSW (SSSE3): as PHSUBW with signed saturation.
Xmm Phsubsw(const Xmm& a, const Xmm& b);
uint64_t Phsubsw(uint64_t a, uint64_t b);

// PMADDWD: signed 16x16 products, adjacent pairs summed into dwords.
Xmm Pmaddwd(const Xmm& a, const Xmm& b);
uint64_t Pmaddwd(uint64_t a, uint64_t b);
// PMADDUBSW (SSSE3): unsigned bytes of a times signed bytes of b, adjacent
// pairs summed into words with signed saturation.
Xmm Pmaddubsw(const Xmm& a, const Xmm& b);
uint64_t Pmaddubsw(uint64_t a, uint64_t b);

// PSADBW: per quadword, the sum of |a - b| over its 8 unsigned bytes, in the
// low word of that quadword (the rest zero).
Xmm Psadbw(const Xmm& a, const Xmm& b);
uint64_t Psadbw(uint64_t a, uint64_t b);

// PHMINPOSUW (SSE4.1): the smallest unsigned word of b in bits 15:0 and its
// lowest index in bits 18:16; all other bits zero.
Xmm Phminposuw(const Xmm& b);

// MPSADBW (SSE4.1): eight sums of absolute differences between the 4-byte
// block of b chosen by imm[1:0] and the sliding 4-byte windows of a starting
// at byte 4*imm[2] (SDM Vol. 2 MPSADBW).
Xmm Mpsadbw(const Xmm& a, const Xmm& b, uint8_t imm);

}  // namespace x86vm::simd

#endif  // X86VM_CPU_SIMD_HORIZONTAL_H_
