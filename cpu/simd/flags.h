// Status-flag results of the SIMD and bit-count instructions that write
// EFLAGS (PTEST, PCMPxSTRx, POPCNT, LZCNT, TZCNT), as plain values the caller
// merges into its own EFLAGS.
#ifndef X86VM_CPU_SIMD_FLAGS_H_
#define X86VM_CPU_SIMD_FLAGS_H_

#include <cstdint>

namespace x86vm::simd {

// EFLAGS status-flag bit positions (SDM Vol. 1 3.4.3.1).
inline constexpr uint32_t kFlagCf = 1u << 0;
// Parity flag.
inline constexpr uint32_t kFlagPf = 1u << 2;
// Auxiliary-carry flag.
inline constexpr uint32_t kFlagAf = 1u << 4;
// Zero flag.
inline constexpr uint32_t kFlagZf = 1u << 6;
// Sign flag.
inline constexpr uint32_t kFlagSf = 1u << 7;
// Overflow flag.
inline constexpr uint32_t kFlagOf = 1u << 11;
// All six status flags.
inline constexpr uint32_t kStatusFlags =
    kFlagCf | kFlagPf | kFlagAf | kFlagZf | kFlagSf | kFlagOf;

// The flags one instruction writes: `written` is the mask of EFLAGS bits the
// instruction defines, `values` their new state (always a subset of written).
// Flags the SDM leaves undefined are not in `written`, so they keep their
// value.
struct FlagUpdate {
  uint32_t written = 0;
  uint32_t values = 0;

  // Returns eflags with this update merged in.
  constexpr uint32_t ApplyTo(uint32_t eflags) const {
    return (eflags & ~written) | values;
  }
  // Field-wise equality.
  constexpr bool operator==(const FlagUpdate&) const = default;
};

}  // namespace x86vm::simd

#endif  // X86VM_CPU_SIMD_FLAGS_H_
