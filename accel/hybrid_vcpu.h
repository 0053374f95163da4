// The hybrid engine: KVM runs the guest, and the interpreter takes over
// what KVM cannot do, over the same guest memory and devices (issue 5).
//
//   - KVM stops with an emulation failure (KVM_EXIT_INTERNAL_ERROR, e.g. SSE
//     at ring 0 on a KVM that emulates ring 0) or a failed VM entry: the state
//     moves to the interpreter (GetState/SetState), which executes the
//     failing instruction and runs on for a short window of guest time (at
//     least one interpreter slice, so pending interrupts are delivered), then
//     the state moves back. A KVM that fails again right after getting the
//     guest back gets it later: the window doubles, up to a bound.
//   - An RDMSR/WRMSR that KVM and our platform cannot complete, or that
//     touches an MSR KVM acts on but will not move (KvmVcpu::HandMsrsOver):
//     the interpreter executes it, exactly as it would alone (a value, or
//     its own #GP). A write KVM cannot load back pins the guest (below).
//   - KVM reports a triple fault: the interpreter re-runs from KVM's state,
//     so a triple fault is believed only when the interpreter sees it too
//     (KVMs that emulate ring 0 may fail event deliveries the CPU makes).
//   - KVM refuses a state (SetState fails): the interpreter keeps the guest
//     and the move is retried after the window.
//   - The interpreter changed state this host's KVM cannot load exactly
//     (KvmVcpu::LostChanges: the FPU where KVM_SET_FPU does not reach the
//     guest, refused MSRs): the interpreter keeps the guest for good
//     ("pinned"); exactness wins over speed.
//   - For tests, `swap_interval_ns` swaps the engines every that much guest
//     time (--accel-swap-ms).
// Both engines derive the TSC from the shared virtual clock plus
// CpuState::msr.tsc_offset, which moves with the state, so the TSC is
// continuous across handovers; instructions_retired() is the sum of the
// interpreter's exact count and KVM's estimate.
#ifndef X86VM_ACCEL_HYBRID_VCPU_H_
#define X86VM_ACCEL_HYBRID_VCPU_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "accel/kvm/kvm_vcpu.h"
#include "accel/vcpu.h"
#include "cpu/interpreter.h"
#include "cpu/platform.h"

namespace x86vm {

// How the hybrid engine schedules its two engines.
struct HybridOptions {
  // Swap engines every this many ns of guest time (0: only when needed).
  uint64_t swap_interval_ns = 0;
  // The interpreter's first window after a KVM failure, and its bound.
  uint64_t min_fallback_ns = 200'000;
  uint64_t max_fallback_ns = 200'000'000;
};

// Time and work per engine, and why the guest moved (--stats).
struct HybridStats {
  uint64_t interp_ns = 0;        // Host time inside the interpreter's Run().
  uint64_t kvm_ns = 0;           // Host time inside KVM's Run().
  uint64_t handovers = 0;        // State moves, both directions.
  uint64_t emulation_failures = 0;  // KVM_EXIT_INTERNAL_ERROR handed over.
  uint64_t entry_failures = 0;      // KVM_EXIT_FAIL_ENTRY handed over.
  uint64_t msr_accesses = 0;        // RDMSR/WRMSR only the interpreter executes.
  uint64_t refused_states = 0;      // KVM's SetState failed; interpreter kept it.
  uint64_t forced_swaps = 0;        // swap_interval_ns handovers.
  uint64_t shutdowns_rechecked = 0; // KVM triple faults re-run in the interpreter.
  std::string last_failure;      // First line of KVM's last failure report.
  std::string pinned_reason;     // Why the interpreter keeps the guest for good.
};

class HybridVcpu final : public Vcpu {
 public:
  // Takes both engines, built over the same `env` (memory, buses, clock,
  // platform); KVM runs first.
  HybridVcpu(std::unique_ptr<KvmVcpu> kvm, std::unique_ptr<Interpreter> interp,
             const CpuEnvironment& env, HybridOptions options = {});
  ~HybridVcpu() override;

  // "hybrid".
  const char* engine_name() const override { return "hybrid"; }
  // Runs the active engine, handing over as described above; returns kError
  // only for failures no handover can help.
  RunResult Run(uint64_t deadline_ns) override;
  // The state of whichever engine holds the guest.
  Result<> GetState(CpuState& state) override;
  // Loads KVM, or the interpreter when KVM refuses the state or could not
  // load it exactly.
  Result<> SetState(const CpuState& state) override;
  // Kicks both engines (the guest may move between them meanwhile).
  void Kick() override;
  // Interpreter instructions (exact) plus KVM's estimate.
  uint64_t instructions_retired() const override;

  // The engine holding the guest now ("kvm" or "interp").
  const char* active_engine_name() const { return on_kvm_ ? "kvm" : "interp"; }
  // The two engines (for --stats, the memory observers, tests).
  KvmVcpu& kvm() { return *kvm_; }
  Interpreter& interpreter() { return *interp_; }
  // Handover counters and per-engine time.
  const HybridStats& stats() const { return stats_; }

 private:
  // Moves the guest from KVM to the interpreter for `window_ns` of guest
  // time. A fault KVM holds undelivered is dropped for the interpreter to
  // raise again (any exception below 32 `after_shutdown`).
  Result<> MoveToInterpreter(uint64_t window_ns, bool after_shutdown = false);
  // Moves it back; false (and the interpreter keeps it) when KVM cannot take
  // the state, with the counters and window updated.
  bool TryMoveToKvm();
  // Runs one engine, accounting its host time.
  RunResult RunActive(uint64_t deadline_ns);

  std::unique_ptr<KvmVcpu> kvm_;
  std::unique_ptr<Interpreter> interp_;
  VirtualClock* clock_;
  HybridOptions options_;
  HybridStats stats_;
  bool on_kvm_ = true;
  // The interpreter holds the guest for good (stats_.pinned_reason says why).
  bool pinned_ = false;
  // The state KVM gave the interpreter, to see what the interpreter changed.
  CpuState handed_from_kvm_;
  // Guest time at which the interpreter's window ends, and the next forced
  // swap from KVM.
  uint64_t interp_until_ns_ = 0;
  uint64_t next_swap_ns_ = 0;
  // The current fallback window, and when KVM last got the guest back.
  uint64_t fallback_ns_;
  uint64_t kvm_since_ns_ = 0;
};

}  // namespace x86vm

#endif  // X86VM_ACCEL_HYBRID_VCPU_H_
