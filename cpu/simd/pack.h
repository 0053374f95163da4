// Narrowing packs with saturation, interleaving unpacks, and the SSE4.1
// sign/zero-extending moves. Operand convention as in arith.h.
#ifndef X86VM_CPU_SIMD_PACK_H_
#define X86VM_CPU_SIMD_PACK_H_

#include <cstdint>

#include "cpu/simd/xmm.h"

namespace x86vm::simd {

// PACKSSWB: signed words of a then b, to signed bytes with saturation.
Xmm Packsswb(const Xmm& a, const Xmm& b);
uint64_t Packsswb(uint64_t a, uint64_t b);
// PACKSSDW: signed dwords of a then b, to signed words with saturation.
Xmm Packssdw(const Xmm& a, const Xmm& b);
uint64_t Packssdw(uint64_t a, uint64_t b);
// PACKUSWB: signed words of a then b, to unsigned bytes with saturation.
Xmm Packuswb(const Xmm& a, const Xmm& b);
uint64_t Packuswb(uint64_t a, uint64_t b);
// PACKUSDW (SSE4.1): signed dwords of a then b, to unsigned words.
Xmm Packusdw(const Xmm& a, const Xmm& b);

// PUNPCKLBW/WD/DQ, PUNPCKLQDQ: interleave the low halves, a's lane first.
// UNPCKLPS is PUNPCKLDQ and UNPCKLPD is PUNPCKLQDQ bit for bit.
Xmm Punpcklbw(const Xmm& a, const Xmm& b);
uint64_t Punpcklbw(uint64_t a, uint64_t b);
Xmm Punpcklwd(const Xmm& a, const Xmm& b);
uint64_t Punpcklwd(uint64_t a, uint64_t b);
Xmm Punpckldq(const Xmm& a, const Xmm& b);
uint64_t Punpckldq(uint64_t a, uint64_t b);
Xmm Punpcklqdq(const Xmm& a, const Xmm& b);
// PUNPCKHBW/WD/DQ, PUNPCKHQDQ: interleave the high halves, a's lane first.
// UNPCKHPS is PUNPCKHDQ and UNPCKHPD is PUNPCKHQDQ bit for bit.
Xmm Punpckhbw(const Xmm& a, const Xmm& b);
uint64_t Punpckhbw(uint64_t a, uint64_t b);
Xmm Punpckhwd(const Xmm& a, const Xmm& b);
uint64_t Punpckhwd(uint64_t a, uint64_t b);
Xmm Punpckhdq(const Xmm& a, const Xmm& b);
uint64_t Punpckhdq(uint64_t a, uint64_t b);
Xmm Punpckhqdq(const Xmm& a, const Xmm& b);

// PMOVSX/PMOVZX (SSE4.1): the low lanes of `source` (the low quadword of an
// XMM register, or the 8/4/2 bytes read from memory, zero-extended) widened
// with sign or zero extension to fill 128 bits.
Xmm Pmovsxbw(uint64_t source);
Xmm Pmovsxbd(uint64_t source);
Xmm Pmovsxbq(uint64_t source);
Xmm Pmovsxwd(uint64_t source);
Xmm Pmovsxwq(uint64_t source);
Xmm Pmovsxdq(uint64_t source);
Xmm Pmovzxbw(uint64_t source);
Xmm Pmovzxbd(uint64_t source);
Xmm Pmovzxbq(uint64_t source);
Xmm Pmovzxwd(uint64_t source);
Xmm Pmovzxwq(uint64_t source);
Xmm Pmovzxdq(uint64_t source);

}  // namespace x86vm::simd

#endif  // X86VM_CPU_SIMD_PACK_H_
