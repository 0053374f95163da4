// Human-readable reports for the KVM exits the engine cannot continue from:
// what KVM said, where the guest was, and the instruction there disassembled
// with Capstone.
#ifndef X86VM_ACCEL_KVM_KVM_EXIT_REPORT_H_
#define X86VM_ACCEL_KVM_KVM_EXIT_REPORT_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "cpu/cpu_state.h"

namespace x86vm {

// The code size (16, 32 or 64 bits) the CPU decodes in with this state.
int CodeBits(const CpuState& state);
// The linear address of CS:RIP.
uint64_t CodeLinearAddress(const CpuState& state);

// Disassembles the first instruction of `bytes` ("pxor xmm1, xmm1"), or
// says why it could not. `length`, when given, receives its size in bytes
// (0 when it did not decode).
std::string DisassembleOne(std::span<const uint8_t> bytes, uint64_t address, int bits,
                           size_t* length = nullptr);

// The KVM_EXIT_* name for messages ("KVM_EXIT_INTERNAL_ERROR").
std::string_view ExitReasonName(uint32_t exit_reason);
// The KVM_INTERNAL_ERROR_* sub-error meaning ("emulation failure").
std::string_view InternalErrorName(uint32_t suberror);

// A multi-line report: `what` (the exit and its details), then the mode,
// CS:RIP, the instruction bytes and their disassembly (when `code` is not
// empty), the general-purpose and control registers.
std::string FormatFailureReport(std::string_view what, const CpuState& state,
                                std::span<const uint8_t> code);

}  // namespace x86vm

#endif  // X86VM_ACCEL_KVM_KVM_EXIT_REPORT_H_
