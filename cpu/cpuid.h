// The CPUID model: a coherent GenuineIntel processor that advertises only
// what the interpreter implements (SDM Vol. 2 "CPUID").
#ifndef X86VM_CPU_CPUID_H_
#define X86VM_CPU_CPUID_H_

#include <array>
#include <cstdint>

#include "cpu/cpu_state.h"

namespace x86vm {

// Optional parts of the model, switched on as they are implemented or wired.
struct CpuFeatures {
  bool fpu_sse = true;       // MMX, FXSR, SSE-SSE4.2, PCLMULQDQ, XSAVE (exec_sse_*.cc).
  bool apic = true;          // A local APIC sits at IA32_APIC_BASE.
  bool x2apic = false;       // The platform implements the x2APIC MSRs.
  bool tsc_deadline = false; // The platform implements IA32_TSC_DEADLINE.
  uint8_t apic_id = 0;       // Initial APIC ID (CPUID.1:EBX[31:24]).
};

// EAX, EBX, ECX, EDX.
using CpuidResult = std::array<uint32_t, 4>;

// The CPUID result for `leaf`/`subleaf`. Reads CR4.OSXSAVE and the APIC base
// enable from `state` where the SDM says they are reflected.
CpuidResult Cpuid(const CpuFeatures& features, const CpuState& state, uint32_t leaf,
                  uint32_t subleaf);

}  // namespace x86vm

#endif  // X86VM_CPU_CPUID_H_
