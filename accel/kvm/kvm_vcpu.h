// The KVM engine behind accel/vcpu.h: guest code runs in a Linux KVM vCPU,
// while every device (PIC, PIT, local APIC, IOAPIC, UART, ...) stays in our
// shared device model. Port I/O, MMIO, the APIC MSRs and interrupt injection
// go through the same CpuEnvironment the interpreter uses, so the two engines
// are interchangeable between two Run() calls.
//
// Time: KVM cannot count instructions. Run() stops when the virtual clock
// passes the deadline, using a per-thread POSIX timer that kicks KVM_RUN.
// In deterministic clock mode the host time spent inside KVM_RUN is credited
// as instructions (ns / ns_per_instruction), which keeps timers running but
// is not deterministic: the accel policy uses KVM in real-time mode only.
// instructions_retired() is that same estimate.
//
// Not built where KVM does not exist (non-x86-64 hosts): a stub whose Create
// always fails links instead (accel/kvm/BUILD).
#ifndef X86VM_ACCEL_KVM_KVM_VCPU_H_
#define X86VM_ACCEL_KVM_KVM_VCPU_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "accel/vcpu.h"
#include "base/status.h"
#include "cpu/cpuid.h"
#include "cpu/platform.h"

namespace x86vm {

// Exit counters, for --stats and the measurements in the tests.
struct KvmStats {
  uint64_t runs = 0;            // KVM_RUN calls.
  uint64_t io_exits = 0;        // KVM_EXIT_IO.
  uint64_t mmio_exits = 0;      // KVM_EXIT_MMIO.
  uint64_t msr_exits = 0;       // KVM_EXIT_X86_RDMSR/WRMSR.
  uint64_t hlt_exits = 0;       // KVM_EXIT_HLT.
  uint64_t window_exits = 0;    // KVM_EXIT_IRQ_WINDOW_OPEN.
  uint64_t signal_exits = 0;    // KVM_RUN interrupted by the kick signal.
  uint64_t other_exits = 0;     // Everything else.
  uint64_t interrupts_injected = 0;  // KVM_INTERRUPT.
  uint64_t nmis_injected = 0;        // KVM_NMI.
  uint64_t ns_in_kvm_run = 0;        // Host time spent inside KVM_RUN.
  // Every exit by KVM_EXIT_* reason (index), including the ones counted
  // above; reasons at or past the end are counted in the last element.
  std::array<uint64_t, 64> exits_by_reason{};
};

// Why the last Run() ended with StopReason::kError, so a caller that has
// another engine (accel/hybrid_vcpu.h) knows whether handing the state over
// can help.
enum class KvmFailure {
  kNone,       // The last Run() did not fail.
  kEmulation,  // KVM_EXIT_INTERNAL_ERROR: KVM could not emulate or deliver
               // (for example SSE at ring 0 on a KVM that emulates ring 0).
  kEntry,      // KVM_EXIT_FAIL_ENTRY: the CPU refused VM entry with this state.
  kMsr,        // An RDMSR/WRMSR nobody here emulates, with HandMsrsOver() on:
               // RIP is at the instruction, for another engine to execute.
  kOther,      // KVM_RUN itself failed, or an exit nobody handles.
};

// What this host's KVM can and cannot move, found when the vCPU is created.
struct KvmHostLimits {
  // KVM_GET_SUPPORTED_CPUID answered (else the model is used unfiltered).
  bool supported_cpuid = false;
  // KVM_SET_CPUID2 took our model. When false the guest sees KVM's own
  // CPUID, unlike under the interpreter: do not switch engines mid-run.
  bool guest_cpuid = false;
  // KVM_GET/SET_XSAVE work (else KVM_GET/SET_FPU: no upper YMM halves).
  bool xsave = false;
  // KVM_SET_FPU/KVM_GET_FPU lose MXCSR (it is shadowed like refused MSRs).
  // The one KVM seen doing this (the software KVM of our test machines)
  // also never loads KVM_SET_FPU's x87/SSE values into the guest, while
  // KVM_GET_FPU does report what the guest itself wrote: treat the FPU state
  // as one-way there (KVM -> CpuState only). It reports MXCSR as 0 even
  // after the guest's own LDMXCSR, so MXCSR is unknowable under that KVM:
  // LostChanges() refuses any state with CR4.OSFXSR set.
  bool fpu_drops_mxcsr = false;
  // The guest TSC rate in kHz, and whether KVM scales it to our 1 GHz.
  uint32_t tsc_khz = 0;
  bool tsc_scaled = false;
  // MsrState MSRs KVM refused to move (see accel/kvm/kvm_msrs.h).
  std::vector<uint32_t> refused_msrs;
};

class KvmVcpu final : public Vcpu {
 public:
  // Opens /dev/kvm and builds a VM over `env.memory`, one vCPU with our
  // CPUID model (`features`, as the interpreter's), in the power-on state.
  // Fails with a message saying what is missing when /dev/kvm is absent or
  // unusable (API version, capabilities), so the caller can fall back to
  // the interpreter. `env` must outlive the engine; `env.memory`'s host
  // mappings become KVM memory slots.
  static Result<std::unique_ptr<KvmVcpu>> Create(const CpuEnvironment& env,
                                                 CpuFeatures features = {});
  ~KvmVcpu() override;
  KvmVcpu(const KvmVcpu&) = delete;
  KvmVcpu& operator=(const KvmVcpu&) = delete;

  // "kvm".
  const char* engine_name() const override { return "kvm"; }
  // KVM_RUN until the deadline, a halt with nothing pending, a reset
  // request, a triple fault, a kick, or an exit KVM cannot continue from
  // (kError, with a report that disassembles the instruction at RIP).
  RunResult Run(uint64_t deadline_ns) override;
  // The complete state: registers, segments, FPU/SSE, XCR0, debug registers,
  // MSRs (TSC as tsc_offset against the virtual clock), events, halted.
  Result<> GetState(CpuState& state) override;
  // Loads a complete state; fails with the ioctl and values KVM rejected.
  Result<> SetState(const CpuState& state) override;
  // Thread-safe: sets a flag, sets immediate_exit and signals the thread in
  // Run(), if any.
  void Kick() override;
  // An estimate: host ns spent in guest mode / ns_per_instruction.
  uint64_t instructions_retired() const override;

  // Exit counters since creation.
  const KvmStats& stats() const;
  // stats() as one line for --stats: KVM_RUN calls, time inside, exits by
  // KVM_EXIT_* name, injected interrupts and NMIs.
  std::string StatsSummary() const;
  // What stopped the last Run() that returned kError (kNone otherwise). The
  // vCPU's state (GetState) is then the state at the failing instruction.
  KvmFailure last_failure() const;
  // What the host's KVM can and cannot move.
  const KvmHostLimits& host_limits() const;
  // Whether the last GetState's events.exception_pending is an exception
  // KVM recognised (true) or an external interrupt KVM had taken from the
  // interrupt controller and not yet delivered (false); CpuState has one
  // field for both.
  bool last_pending_event_is_exception() const;
  // What SetState(`state`) could not give this host's guest, judged by the
  // changes from `reference` (a state GetState returned): the x87/SSE state
  // where KVM_SET_FPU does not reach the guest, any state with SSE enabled
  // where KVM_GET_FPU cannot report MXCSR, MSRs KVM refuses and cannot trap
  // (SYSCALL/SYSENTER MSRs, TSC, TSC_AUX). Empty when it would be exact.
  std::string LostChanges(const CpuState& reference, const CpuState& state) const;
  // For an engine behind this one (accel/hybrid_vcpu.h): an RDMSR/WRMSR that
  // neither KVM nor our platform completes, and any access to an MSR that KVM
  // acts on but refuses to move (SYSCALL/SYSENTER MSRs, TSC, TSC_AUX; trapped
  // with the MSR filter so KVM's unreadable copy never changes), ends Run()
  // with kError and KvmFailure::kMsr instead of a #GP. The instruction is
  // not executed: its #GP stays recognised but undelivered in GetState's
  // events, for the caller to drop and re-execute elsewhere. Fails when the
  // MSR filter cannot be set.
  Result<> HandMsrsOver();

  // Everything KVM-specific (defined in kvm_vcpu.cc, or the stub).
  struct Impl;

 private:
  explicit KvmVcpu(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace x86vm

#endif  // X86VM_ACCEL_KVM_KVM_VCPU_H_
