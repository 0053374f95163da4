// The floating-point environment every softfloat operation reads and updates:
// rounding, x87 precision control, exception masks, sticky exception flags,
// the x87 "rounded up" bit (C1) and the SSE FTZ/DAZ modes.
// SDM Vol. 1 4.8.4 (rounding), 8.1.5 (x87 control word), 10.2.3 (MXCSR).
#ifndef X86VM_CPU_SOFTFLOAT_FP_ENV_H_
#define X86VM_CPU_SOFTFLOAT_FP_ENV_H_

#include <cstdint>

namespace x86vm::softfloat {

// Rounding control, encoded as the x87 RC field and MXCSR.RC (SDM Vol. 1 Table 4-8).
enum class RoundingMode : uint8_t {
  kNearestEven = 0,
  kDown = 1,
  kUp = 2,
  kTowardZero = 3,
};

// x87 precision control, encoded as the control word PC field (SDM Vol. 1 Table 8-2).
// It affects only FADD, FSUB(R), FMUL, FDIV(R) and FSQRT (SDM Vol. 1 8.1.5.2).
enum class PrecisionControl : uint8_t {
  kSingle = 0,    // 24-bit significand
  kReserved = 1,  // treated as kExtended
  kDouble = 2,    // 53-bit significand
  kExtended = 3,  // 64-bit significand
};

// Exception flag bits; the same positions in the x87 status/control words and
// in MXCSR flags/masks (SDM Vol. 1 8.1.3, 10.2.3).
inline constexpr uint8_t kFlagInvalid = 0x01;       // IE
inline constexpr uint8_t kFlagDenormal = 0x02;      // DE
inline constexpr uint8_t kFlagDivideByZero = 0x04;  // ZE
inline constexpr uint8_t kFlagOverflow = 0x08;      // OE
inline constexpr uint8_t kFlagUnderflow = 0x10;     // UE
inline constexpr uint8_t kFlagPrecision = 0x20;     // PE
// All six exception bits.
inline constexpr uint8_t kAllExceptions = 0x3F;

// State for one or more operations. Operations OR exception bits into
// `flags` (sticky) and never clear them.
//
// Results are the masked responses (SDM Vol. 1 4.9.2). When an unmasked
// exception is raised the caller decides what is written: for IE, DE and ZE
// (and for any unmasked SSE exception) the destination is left unchanged.
struct FpEnv {
  // Rounding for every inexact result.
  RoundingMode rounding = RoundingMode::kNearestEven;
  // x87 only: significand width of FADD/FSUB/FMUL/FDIV/FSQRT results.
  PrecisionControl precision = PrecisionControl::kExtended;
  // Exception masks (1 = masked), kFlag* bit positions. They change results
  // only where the SDM says so: x87 overflow/underflow with the mask clear
  // deliver the exponent-wrapped result (SDM Vol. 1 8.5.4, 8.5.5), and an
  // unmasked underflow is flagged even when the result is exact.
  uint8_t masks = kAllExceptions;
  // Sticky exception flags, kFlag* bit positions.
  uint8_t flags = 0;
  // x87 C1 after an arithmetic instruction: set by every Float80 operation,
  // true when rounding increased the magnitude of the result (SDM Vol. 1 8.1.3.3).
  bool rounded_up = false;
  // SSE only (MXCSR.FTZ): tiny results become signed zeros when UE is masked.
  bool flush_to_zero = false;
  // SSE only (MXCSR.DAZ): denormal operands are read as signed zeros.
  bool denormals_are_zero = false;

  // ORs exception bits into the sticky flags.
  void Raise(uint8_t bits) { flags |= bits; }
  // True when `bit` is masked.
  bool Masked(uint8_t bit) const { return (masks & bit) != 0; }
};

// Builds an environment from an x87 control word (SDM Vol. 1 Figure 8-6).
inline FpEnv X87Env(uint16_t control_word) {
  FpEnv env;
  env.masks = control_word & kAllExceptions;
  env.precision = static_cast<PrecisionControl>((control_word >> 8) & 3);
  env.rounding = static_cast<RoundingMode>((control_word >> 10) & 3);
  return env;
}

// Builds an environment from MXCSR (SDM Vol. 1 Figure 10-3); the flags start
// from MXCSR's sticky flags.
inline FpEnv SseEnv(uint32_t mxcsr) {
  FpEnv env;
  env.flags = mxcsr & kAllExceptions;
  env.denormals_are_zero = (mxcsr >> 6) & 1;
  env.masks = (mxcsr >> 7) & kAllExceptions;
  env.rounding = static_cast<RoundingMode>((mxcsr >> 13) & 3);
  env.flush_to_zero = (mxcsr >> 15) & 1;
  return env;
}

}  // namespace x86vm::softfloat

#endif  // X86VM_CPU_SOFTFLOAT_FP_ENV_H_
