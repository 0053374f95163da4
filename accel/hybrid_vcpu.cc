#include "accel/hybrid_vcpu.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "base/log.h"
#include "devices/clock.h"

namespace x86vm {
namespace {

// The first line of a multi-line KVM failure report, for --stats and logs.
std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

// True for the exceptions whose saved RIP is the faulting instruction and
// which that instruction raises again when re-executed (SDM Vol. 3 6.5,
// Table 6-1: faults; #DB, #BP and #OF are traps or mixed, #DF and #MC
// aborts).
bool IsRestartableFault(uint8_t vector) {
  switch (vector) {
    case 0: case 5: case 6: case 7: case 10: case 11: case 12: case 13: case 14: case 16:
    case 17: case 19:
      return true;
    default:
      return false;
  }
}

}  // namespace

HybridVcpu::HybridVcpu(std::unique_ptr<KvmVcpu> kvm, std::unique_ptr<Interpreter> interp,
                       const CpuEnvironment& env, HybridOptions options)
    : kvm_(std::move(kvm)),
      interp_(std::move(interp)),
      clock_(env.clock),
      options_(options),
      fallback_ns_(options.min_fallback_ns) {
  kvm_since_ns_ = clock_->now_ns();
  next_swap_ns_ = kvm_since_ns_ + options_.swap_interval_ns;
  if (auto r = kvm_->HandMsrsOver(); !r) {
    // KVM then answers those accesses with #GP, as strict KVM does.
    Logger("accel")->warn("MSR accesses KVM cannot complete stay with KVM: {}",
                          r.error().message);
  }
}

HybridVcpu::~HybridVcpu() = default;

RunResult HybridVcpu::RunActive(uint64_t deadline_ns) {
  uint64_t start = HostMonotonicNs();
  RunResult result = on_kvm_ ? kvm_->Run(deadline_ns) : interp_->Run(deadline_ns);
  (on_kvm_ ? stats_.kvm_ns : stats_.interp_ns) += HostMonotonicNs() - start;
  return result;
}

RunResult HybridVcpu::Run(uint64_t deadline_ns) {
  for (;;) {
    uint64_t now = clock_->now_ns();
    if (now >= deadline_ns) return {StopReason::kDeadline, {}};
    if (!on_kvm_ && !pinned_ && now >= interp_until_ns_) {
      TryMoveToKvm();
    } else if (on_kvm_ && options_.swap_interval_ns != 0 && now >= next_swap_ns_) {
      ++stats_.forced_swaps;
      if (auto r = MoveToInterpreter(options_.swap_interval_ns); !r) {
        return {StopReason::kError, r.error().message};
      }
    }
    // Each engine runs until the caller's deadline or the end of its turn.
    uint64_t slice_end = deadline_ns;
    if (!on_kvm_ && !pinned_) slice_end = std::min(slice_end, interp_until_ns_);
    if (on_kvm_ && options_.swap_interval_ns != 0) slice_end = std::min(slice_end, next_swap_ns_);
    RunResult result = RunActive(slice_end);

    if (result.reason == StopReason::kError && on_kvm_) {
      KvmFailure failure = kvm_->last_failure();
      if (failure == KvmFailure::kMsr) {
        // Not KVM failing on a stretch of code: one instruction for the
        // interpreter, with the usual window (a write KVM cannot take back
        // pins the guest when the window ends).
        ++stats_.msr_accesses;
        Logger("accel")->debug("{}", result.message);
        if (auto r = MoveToInterpreter(options_.min_fallback_ns); !r) {
          return {StopReason::kError,
                  fmt::format("{}\n(handing the guest to the interpreter failed: {})",
                              result.message, r.error().message)};
        }
        continue;
      }
      if (failure != KvmFailure::kEmulation && failure != KvmFailure::kEntry) return result;
      ++(failure == KvmFailure::kEmulation ? stats_.emulation_failures : stats_.entry_failures);
      stats_.last_failure = FirstLine(result.message);
      // KVM failing again soon after getting the guest back means the guest
      // is in a stretch of code KVM cannot run: leave it to the interpreter
      // for longer each time.
      uint64_t at = clock_->now_ns();
      fallback_ns_ = at - kvm_since_ns_ < fallback_ns_
                         ? std::min(fallback_ns_ * 2, options_.max_fallback_ns)
                         : options_.min_fallback_ns;
      static RateLimiter limiter;
      if (limiter.Allow()) {
        Logger("accel")->info("KVM cannot continue ({}); the interpreter takes over for {} us",
                              stats_.last_failure, fallback_ns_ / 1000);
      }
      if (auto r = MoveToInterpreter(fallback_ns_); !r) {
        return {StopReason::kError,
                fmt::format("{}\n(handing the guest to the interpreter failed: {})",
                            result.message, r.error().message)};
      }
      continue;
    }
    if (result.reason == StopReason::kShutdown && on_kvm_) {
      // A KVM that emulates ring 0 may fail to deliver an event it should
      // deliver (the software KVM of our test machines cannot take a guest
      // from ring 3 to ring 0 through its IDT) and report a triple fault.
      // The interpreter re-runs from the state KVM reports: a real triple
      // fault happens again there, a KVM limit does not.
      ++stats_.shutdowns_rechecked;
      if (auto r = MoveToInterpreter(fallback_ns_, /*after_shutdown=*/true); !r) return result;
      Logger("accel")->debug(
          "KVM reported a triple fault at {:#x}:{:#x}; the interpreter re-runs it",
          handed_from_kvm_.seg[kCs].selector, handed_from_kvm_.rip);
      continue;
    }
    // The end of an engine's turn, not the caller's deadline: go on.
    if (result.reason == StopReason::kDeadline && clock_->now_ns() < deadline_ns) continue;
    return result;
  }
}

Result<> HybridVcpu::MoveToInterpreter(uint64_t window_ns, bool after_shutdown) {
  CpuState state;
  if (auto r = kvm_->GetState(state); !r) return r;
  // A fault KVM recognised but has not delivered: the interpreter
  // re-executes the instruction instead, which raises it again if it is
  // real. KVMs that emulate ring 0 in software recognise faults the CPU does
  // not (the one on our test machines makes INT n from ring 3 a #UD). After
  // a triple fault the whole delivery is re-run from RIP.
  PendingEvents& ev = state.events;
  if (ev.exception_pending && kvm_->last_pending_event_is_exception() &&
      (after_shutdown || IsRestartableFault(ev.exception_vector))) {
    ev.exception_pending = false;
    ev.exception_has_error_code = false;
    ev.exception_error_code = 0;
    ev.exception_vector = 0;
  }
  if (kvm_->host_limits().fpu_drops_mxcsr && (state.cr4 & cr4::kOsfxsr)) {
    // KVM's MXCSR is unreadable here and the guest enabled SSE while on KVM
    // (LostChanges never gives KVM such a state): ring-3 SSE code KVM ran
    // may have changed MXCSR, and the interpreter gets the last known one.
    static RateLimiter limiter;
    if (limiter.Allow()) {
      Logger("accel")->info("the guest enabled SSE under a KVM that hides MXCSR: the "
                            "interpreter continues with MXCSR {:#x}, the last value known",
                            state.mxcsr);
    }
  }
  if (auto r = interp_->SetState(state); !r) return r;
  handed_from_kvm_ = state;
  on_kvm_ = false;
  ++stats_.handovers;
  interp_until_ns_ = clock_->now_ns() + window_ns;
  return {};
}

bool HybridVcpu::TryMoveToKvm() {
  CpuState state;
  if (auto r = interp_->GetState(state); !r) return false;
  std::string lost = kvm_->LostChanges(handed_from_kvm_, state);
  if (!lost.empty()) {
    pinned_ = true;
    stats_.pinned_reason = "KVM here cannot load " + lost;
    Logger("accel")->info("the interpreter keeps the guest: {}", stats_.pinned_reason);
    return false;
  }
  uint64_t now = clock_->now_ns();
  if (auto r = kvm_->SetState(state); !r) {
    ++stats_.refused_states;
    fallback_ns_ = std::min(fallback_ns_ * 2, options_.max_fallback_ns);
    interp_until_ns_ = now + fallback_ns_;
    static RateLimiter limiter;
    if (limiter.Allow()) {
      Logger("accel")->info("KVM refuses the state ({}); the interpreter keeps it for {} us",
                            r.error().message, fallback_ns_ / 1000);
    }
    return false;
  }
  on_kvm_ = true;
  ++stats_.handovers;
  kvm_since_ns_ = now;
  next_swap_ns_ = now + options_.swap_interval_ns;
  return true;
}

Result<> HybridVcpu::GetState(CpuState& state) {
  return on_kvm_ ? kvm_->GetState(state) : interp_->GetState(state);
}

Result<> HybridVcpu::SetState(const CpuState& state) {
  uint64_t now = clock_->now_ns();
  if (!pinned_) {
    // KVM takes the state unless it would lose part of it.
    CpuState reference;
    std::string lost;
    if (auto r = kvm_->GetState(reference); !r) {
      lost = r.error().message;
    } else {
      lost = kvm_->LostChanges(reference, state);
    }
    if (lost.empty()) {
      if (auto r = kvm_->SetState(state); r) {
        on_kvm_ = true;
        kvm_since_ns_ = now;
        next_swap_ns_ = now + options_.swap_interval_ns;
        return {};
      } else {
        ++stats_.refused_states;
        interp_until_ns_ = now + fallback_ns_;
        Logger("accel")->info("KVM refuses the state ({}); the interpreter runs it",
                              r.error().message);
      }
    } else {
      pinned_ = true;
      stats_.pinned_reason = "KVM here cannot load " + lost;
      Logger("accel")->info("the interpreter keeps the guest: {}", stats_.pinned_reason);
    }
    handed_from_kvm_ = reference;
  }
  if (auto r = interp_->SetState(state); !r) return r;
  on_kvm_ = false;
  return {};
}

void HybridVcpu::Kick() {
  kvm_->Kick();
  interp_->Kick();
}

uint64_t HybridVcpu::instructions_retired() const {
  return interp_->instructions_retired() + kvm_->instructions_retired();
}

}  // namespace x86vm
