// Lane permutations and blends: PSHUFx, SHUFPS/PD, MOVxDUP, PBLENDx, BLENDx.
// Operand convention as in arith.h (a = destination, b = source).
#ifndef X86VM_CPU_SIMD_SHUFFLE_H_
#define X86VM_CPU_SIMD_SHUFFLE_H_

#include <cstdint>

#include "cpu/simd/xmm.h"

namespace x86vm::simd {

// PSHUFD: dword i of the result is dword imm[2i+1:2i] of b.
Xmm Pshufd(const Xmm& b, uint8_t imm);
// PSHUFHW: the high four words permuted by imm, the low quadword copied.
Xmm Pshufhw(const Xmm& b, uint8_t imm);
// PSHUFLW: the low four words permuted by imm, the high quadword copied.
Xmm Pshuflw(const Xmm& b, uint8_t imm);
// PSHUFW (SSE, MMX): word i of the result is word imm[2i+1:2i] of b.
uint64_t Pshufw(uint64_t b, uint8_t imm);
// PSHUFB (SSSE3): byte i is zero if b[i] bit 7 is set, else a[b[i] mod 16]
// (mod 8 for the MMX form).
Xmm Pshufb(const Xmm& a, const Xmm& b);
uint64_t Pshufb(uint64_t a, uint64_t b);

// SHUFPS: dwords 0-1 from a, 2-3 from b, each chosen by two bits of imm.
Xmm Shufps(const Xmm& a, const Xmm& b, uint8_t imm);
// SHUFPD: quadword 0 is a[imm bit 0], quadword 1 is b[imm bit 1].
Xmm Shufpd(const Xmm& a, const Xmm& b, uint8_t imm);
// MOVSLDUP (SSE3): dwords 0, 0, 2, 2 of b.
Xmm Movsldup(const Xmm& b);
// MOVSHDUP (SSE3): dwords 1, 1, 3, 3 of b.
Xmm Movshdup(const Xmm& b);
// MOVDDUP (SSE3): the low quadword of b twice (the memory form reads 8 bytes).
Xmm Movddup(const Xmm& b);

// PBLENDW (SSE4.1): word i from b where imm bit i is set, else from a.
Xmm Pblendw(const Xmm& a, const Xmm& b, uint8_t imm);
// BLENDPS (SSE4.1): dword i from b where imm bit i is set (bits 3:0).
Xmm Blendps(const Xmm& a, const Xmm& b, uint8_t imm);
// BLENDPD (SSE4.1): quadword i from b where imm bit i is set (bits 1:0).
Xmm Blendpd(const Xmm& a, const Xmm& b, uint8_t imm);
// PBLENDVB (SSE4.1): byte i from b where bit 7 of mask byte i (XMM0) is set.
Xmm Pblendvb(const Xmm& a, const Xmm& b, const Xmm& mask);
// BLENDVPS (SSE4.1): dword i from b where the sign of mask dword i is set.
Xmm Blendvps(const Xmm& a, const Xmm& b, const Xmm& mask);
// BLENDVPD (SSE4.1): quadword i from b where the sign of mask quadword i is
// set.
Xmm Blendvpd(const Xmm& a, const Xmm& b, const Xmm& mask);

}  // namespace x86vm::simd

#endif  // X86VM_CPU_SIMD_SHUFFLE_H_
