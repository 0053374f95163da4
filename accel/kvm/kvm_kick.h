// Getting a vCPU thread out of KVM_RUN: one signal, sent by Kick() from any
// thread and by a per-thread deadline timer. Its handler sets immediate_exit
// in the kvm_run the interrupted thread is using, so a signal that lands
// just before the thread enters KVM_RUN still makes KVM_RUN return at once
// (api.rst "immediate_exit"; QEMU's SIG_IPI works the same way).
#ifndef X86VM_ACCEL_KVM_KVM_KICK_H_
#define X86VM_ACCEL_KVM_KVM_KICK_H_

#include <linux/kvm.h>
#include <pthread.h>
#include <sys/types.h>
#include <time.h>

#include <cstdint>

#include "base/status.h"

namespace x86vm {

// The kick signal (a real-time signal, installed once per process with an
// empty-bodied handler apart from immediate_exit, and without SA_RESTART so
// KVM_RUN returns EINTR).
int KickSignal();

// How many kick signals the calling thread has received (its handler counts
// them), so a signal whose immediate_exit was absorbed is still noticed.
uint32_t KickSignalsReceived();

// Sets immediate_exit on `run` from any thread.
void RequestImmediateExit(kvm_run* run);
// Clears it (the vCPU thread, after KVM_RUN returned).
void ClearImmediateExit(kvm_run* run);

// While alive, the calling thread's kick-signal handler targets `run`, and
// the signal is unblocked in this thread.
class ScopedKickTarget {
 public:
  explicit ScopedKickTarget(kvm_run* run);
  ~ScopedKickTarget();
  ScopedKickTarget(const ScopedKickTarget&) = delete;
  ScopedKickTarget& operator=(const ScopedKickTarget&) = delete;
};

// A one-shot CLOCK_MONOTONIC timer that sends the kick signal to the thread
// that armed it last (SIGEV_THREAD_ID).
class ThreadTimer {
 public:
  ThreadTimer() = default;
  ~ThreadTimer();
  ThreadTimer(const ThreadTimer&) = delete;
  ThreadTimer& operator=(const ThreadTimer&) = delete;
  // Fires `delay_ns` from now at the calling thread.
  Result<> Arm(uint64_t delay_ns);
  // Cancels a pending expiry.
  void Disarm();

 private:
  timer_t timer_{};
  bool created_ = false;
  bool armed_ = false;
  pid_t tid_ = 0;
};

}  // namespace x86vm

#endif  // X86VM_ACCEL_KVM_KVM_KICK_H_
