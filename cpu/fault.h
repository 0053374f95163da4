// Guest faults as values (STYLE.md "Guest faults are values"): every
// operation that can raise an architectural exception returns a Fault, and
// callers propagate it with X86_TRY. No C++ exceptions, no longjmp.
#ifndef X86VM_CPU_FAULT_H_
#define X86VM_CPU_FAULT_H_

#include <cstdint>

namespace x86vm {

// Exception vectors (SDM Vol. 3 Table 6-1).
enum Vector : uint8_t {
  kDe = 0,   // Divide error.
  kDb = 1,   // Debug.
  kNmi = 2,  // Non-maskable interrupt.
  kBp = 3,   // INT3.
  kOf = 4,   // INTO.
  kBr = 5,   // BOUND range exceeded.
  kUd = 6,   // Invalid opcode.
  kNm = 7,   // Device not available.
  kDf = 8,   // Double fault.
  kTs = 10,  // Invalid TSS.
  kNp = 11,  // Segment not present.
  kSsFault = 12,  // Stack-segment fault (#SS; kSs is the SS register).
  kGp = 13,  // General protection.
  kPf = 14,  // Page fault.
  kMf = 16,  // x87 floating-point error.
  kAc = 17,  // Alignment check.
  kMc = 18,  // Machine check.
  kXm = 19,  // SIMD floating-point exception.
};

// Page-fault error code bits (SDM Vol. 3 4.7).
namespace pf_error {
inline constexpr uint32_t kPresent = 1u << 0;
inline constexpr uint32_t kWrite = 1u << 1;
inline constexpr uint32_t kUser = 1u << 2;
inline constexpr uint32_t kReserved = 1u << 3;
inline constexpr uint32_t kFetch = 1u << 4;
inline constexpr uint32_t kPk = 1u << 5;
}  // namespace pf_error

// The outcome of an operation: either no fault, or an exception vector with
// an optional error code. Small enough to return in registers.
struct [[nodiscard]] Fault {
  static constexpr int16_t kNone = -1;
  int16_t vector = kNone;
  bool has_error_code = false;
  uint32_t error_code = 0;

  constexpr bool ok() const { return vector == kNone; }
  constexpr bool faulted() const { return vector != kNone; }
};

inline constexpr Fault kOk{};

// An exception without an error code (#UD, #DE, #DB, #NM, ...).
constexpr Fault Raise(Vector v) { return Fault{v, false, 0}; }
// An exception with an error code (#GP, #SS, #NP, #TS, #PF, #AC, #DF).
constexpr Fault Raise(Vector v, uint32_t error_code) { return Fault{v, true, error_code}; }

// Propagates a fault to the caller.
#define X86_TRY(...)                              \
  do {                                            \
    ::x86vm::Fault x86_try_fault_ = (__VA_ARGS__); \
    if (x86_try_fault_.faulted()) [[unlikely]] return x86_try_fault_; \
  } while (0)

}  // namespace x86vm

#endif  // X86VM_CPU_FAULT_H_
