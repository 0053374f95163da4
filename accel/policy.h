// Which engine runs the guest: --accel interp|kvm|auto|hybrid.
//   interp  the interpreter; /dev/kvm is never opened.
//   kvm     KVM alone; an error if it cannot be used, and a report plus a
//           non-zero exit when KVM cannot continue.
//   auto    the hybrid engine (KVM, the interpreter for what KVM cannot do)
//           where KVM runs guest code on the hardware, else the interpreter.
//           Hosts whose KVM emulates ring-0 code in software (ENVIRONMENT.md)
//           are found by measuring a short ring-0 loop, so auto is never
//           slower than interp there.
//   hybrid  the hybrid engine without the measurement (for tests, with
//           HybridOptions::swap_interval_ns forcing handovers).
#ifndef X86VM_ACCEL_POLICY_H_
#define X86VM_ACCEL_POLICY_H_

#include <memory>
#include <string>
#include <string_view>

#include "accel/hybrid_vcpu.h"
#include "accel/vcpu.h"
#include "base/status.h"
#include "cpu/interpreter.h"
#include "cpu/platform.h"

namespace x86vm {

// The engine picked, and why (for --stats and the log).
struct EngineChoice {
  std::unique_ptr<Vcpu> vcpu;
  Interpreter* interpreter = nullptr;  // Set when the interpreter runs the guest.
  std::string reason;
};

// Below this many ring-0 instructions per second KVM is emulating, not
// virtualizing: hardware runs the calibration loop at hundreds of millions.
inline constexpr double kMinKvmRing0Ips = 50e6;

// Creates the engine for `accel` ("interp", "kvm", "auto" or "hybrid") over
// `env`; `hybrid` configures the hybrid engine when one is built.
Result<EngineChoice> CreateEngine(std::string_view accel, const CpuEnvironment& env,
                                  const HybridOptions& hybrid = {});

// Runs a short real-mode (ring 0) loop in a throwaway KVM VM and returns the
// instructions per second, or an error when KVM is unusable.
Result<double> MeasureKvmRing0Ips();

}  // namespace x86vm

#endif  // X86VM_ACCEL_POLICY_H_
