// Moves of one lane between an XMM/MMX register and a general register or
// memory: PEXTRx, PINSRx, EXTRACTPS, INSERTPS. Lane numbers come from imm and
// are reduced modulo the lane count, as the SDM's Operation sections do.
#ifndef X86VM_CPU_SIMD_INSERT_EXTRACT_H_
#define X86VM_CPU_SIMD_INSERT_EXTRACT_H_

#include <cstdint>

#include "cpu/simd/xmm.h"

namespace x86vm::simd {

// PEXTRB (SSE4.1): byte imm[3:0] of b (zero-extended by the caller).
uint8_t Pextrb(const Xmm& b, uint8_t imm);
// PEXTRW: word imm[2:0] of b (imm[1:0] for the MMX form).
uint16_t Pextrw(const Xmm& b, uint8_t imm);
uint16_t Pextrw(uint64_t b, uint8_t imm);
// PEXTRD (SSE4.1): dword imm[1:0] of b.
uint32_t Pextrd(const Xmm& b, uint8_t imm);
// PEXTRQ (SSE4.1, REX.W): quadword imm[0] of b.
uint64_t Pextrq(const Xmm& b, uint8_t imm);
// EXTRACTPS (SSE4.1): dword imm[1:0] of b, as raw bits.
uint32_t Extractps(const Xmm& b, uint8_t imm);

// PINSRB (SSE4.1): a with byte imm[3:0] replaced by value.
Xmm Pinsrb(const Xmm& a, uint8_t value, uint8_t imm);
// PINSRW: a with word imm[2:0] (imm[1:0] for MMX) replaced by value.
Xmm Pinsrw(const Xmm& a, uint16_t value, uint8_t imm);
uint64_t Pinsrw(uint64_t a, uint16_t value, uint8_t imm);
// PINSRD (SSE4.1): a with dword imm[1:0] replaced by value.
Xmm Pinsrd(const Xmm& a, uint32_t value, uint8_t imm);
// PINSRQ (SSE4.1, REX.W): a with quadword imm[0] replaced by value.
Xmm Pinsrq(const Xmm& a, uint64_t value, uint8_t imm);
// INSERTPS (SSE4.1): a with dword imm[5:4] replaced by value, then the dwords
// selected by imm[3:0] cleared. The register form passes source dword
// imm[7:6] as value; the memory form passes the dword read from memory.
Xmm Insertps(const Xmm& a, uint32_t value, uint8_t imm);

}  // namespace x86vm::simd

#endif  // X86VM_CPU_SIMD_INSERT_EXTRACT_H_
