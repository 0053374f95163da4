// The one vCPU interface both engines (interpreter, KVM) sit behind
// (STYLE.md: Firecracker's vstate, QEMU's AccelOps). The run loop, the GDB
// stub and snapshots are written once against it.
#ifndef X86VM_ACCEL_VCPU_H_
#define X86VM_ACCEL_VCPU_H_

#include <cstdint>
#include <string>

#include "base/status.h"
#include "cpu/cpu_state.h"

namespace x86vm {

// Why Run() returned.
enum class StopReason {
  kDeadline,   // Reached the virtual-time deadline; timers are due.
  kHalt,       // HLT with nothing pending: the run loop may idle to the next timer.
  kShutdown,   // Triple fault (the run loop resets or, with --no-reboot, exits).
  kReset,      // The guest asked for a reset (i8042 0xFE, port 0x92/0xCF9).
  kDebug,      // Breakpoint or single-step for the debugger.
  kKicked,     // Another thread asked the vCPU to return (Kick()).
  kError,      // The engine cannot continue; details in RunResult::message.
};

struct RunResult {
  StopReason reason;
  std::string message;  // For kError: what went wrong, for the user.
};

class Vcpu {
 public:
  virtual ~Vcpu() = default;
  // Short engine name for --stats and messages ("interp", "kvm").
  virtual const char* engine_name() const = 0;
  // Runs guest code until `deadline_ns` of virtual time, or until something
  // in StopReason happens. Port I/O and MMIO complete inside, through the bus.
  virtual RunResult Run(uint64_t deadline_ns) = 0;
  // Moves the complete architectural state out of / into the engine.
  virtual Result<> GetState(CpuState& state) = 0;
  virtual Result<> SetState(const CpuState& state) = 0;
  // Asks a running Run() to return soon with kKicked. Thread-safe.
  virtual void Kick() = 0;
  // Guest instructions retired so far (for --stats and the deterministic clock).
  virtual uint64_t instructions_retired() const = 0;
};

}  // namespace x86vm

#endif  // X86VM_ACCEL_VCPU_H_
