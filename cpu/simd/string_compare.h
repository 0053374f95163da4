// SSE4.2 packed string compares: PCMPESTRI, PCMPESTRM, PCMPISTRI, PCMPISTRM
// (SDM Vol. 2 4.1, "Imm8 Control Byte Operation for PCMPESTRI / PCMPESTRM /
// PCMPISTRI / PCMPISTRM"). `a` is the first operand (xmm1), `b` the second
// (xmm2/m128); imm is the full control byte.
#ifndef X86VM_CPU_SIMD_STRING_COMPARE_H_
#define X86VM_CPU_SIMD_STRING_COMPARE_H_

#include <cstdint>

#include "cpu/simd/flags.h"
#include "cpu/simd/xmm.h"

namespace x86vm::simd {

// The result of PCMPxSTRI: the index for ECX (16 or 8 when nothing matched)
// and CF, ZF, SF, OF set as SDM 4.1.6 says, AF and PF cleared.
struct StringIndexResult {
  uint32_t index = 0;
  FlagUpdate flags;
};

// The result of PCMPxSTRM: the value for XMM0 and the same flags as above.
struct StringMaskResult {
  Xmm mask;
  FlagUpdate flags;
};

// PCMPESTRI: explicit lengths. length_a is EAX and length_b EDX, each
// sign-extended to 64 bits when the operand size is 32 (RAX/RDX with REX.W);
// their absolute values are used, saturated to 16 (bytes) or 8 (words).
StringIndexResult Pcmpestri(const Xmm& a, int64_t length_a, const Xmm& b,
                            int64_t length_b, uint8_t imm);
// PCMPESTRM: explicit lengths as for Pcmpestri; returns the mask for XMM0.
StringMaskResult Pcmpestrm(const Xmm& a, int64_t length_a, const Xmm& b,
                           int64_t length_b, uint8_t imm);
// PCMPISTRI: implicit lengths (each string ends at its first zero element).
StringIndexResult Pcmpistri(const Xmm& a, const Xmm& b, uint8_t imm);
// PCMPISTRM: implicit lengths; returns the mask for XMM0.
StringMaskResult Pcmpistrm(const Xmm& a, const Xmm& b, uint8_t imm);

}  // namespace x86vm::simd

#endif  // X86VM_CPU_SIMD_STRING_COMPARE_H_
