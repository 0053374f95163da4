// Scalar bit instructions that sit with SSE4.2 and ABM/BMI1: POPCNT, LZCNT,
// TZCNT and CRC32 (CRC-32C).
#ifndef X86VM_CPU_SIMD_BIT_COUNT_H_
#define X86VM_CPU_SIMD_BIT_COUNT_H_

#include <cstdint>

#include "cpu/simd/flags.h"

namespace x86vm::simd {

// A count for the destination register, plus its flags. The 16-bit forms
// write only bits 15:0 of the register; merging is the caller's job.
struct CountResult {
  uint64_t value = 0;
  FlagUpdate flags;
};

// POPCNT: set bits of the low operand_bits (16, 32 or 64) of source.
// ZF = (source == 0); CF, OF, SF, AF, PF are cleared (SDM Vol. 2 POPCNT).
CountResult Popcnt(uint64_t source, int operand_bits);
// LZCNT: leading zero bits of the operand_bits-wide source (operand_bits when
// zero). CF = (source == 0), ZF = (result == 0); OF, SF, AF, PF are undefined
// and not written.
CountResult Lzcnt(uint64_t source, int operand_bits);
// TZCNT (BMI1): trailing zero bits (operand_bits when zero). CF = (source ==
// 0), ZF = (result == 0); OF, SF, AF, PF are undefined and not written.
CountResult Tzcnt(uint64_t source, int operand_bits);

// CRC32 (SSE4.2): one step of the CRC-32C (Castagnoli, reflected polynomial
// 0x82F63B78) over `data`, least significant byte first, starting from crc.
// No pre- or post-inversion: that is software's job (SDM Vol. 2 CRC32). The
// 64-bit destination forms zero-extend the 32-bit result.
uint32_t Crc32Byte(uint32_t crc, uint8_t data);
uint32_t Crc32Word(uint32_t crc, uint16_t data);
uint32_t Crc32Dword(uint32_t crc, uint32_t data);
uint32_t Crc32Qword(uint32_t crc, uint64_t data);

}  // namespace x86vm::simd

#endif  // X86VM_CPU_SIMD_BIT_COUNT_H_
