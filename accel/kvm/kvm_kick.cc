#include "accel/kvm/kvm_kick.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace x86vm {
namespace {

// The kvm_run of the KVM_RUN this thread may be inside. Set before the
// thread can be signalled (so the TLS block exists before the handler runs).
thread_local kvm_run* t_kick_target = nullptr;
thread_local std::atomic<uint32_t> t_kick_signals{0};
static_assert(std::atomic<uint32_t>::is_always_lock_free, "used in a signal handler");

void OnKickSignal(int) {
  t_kick_signals.fetch_add(1, std::memory_order_relaxed);
  kvm_run* run = t_kick_target;
  if (run != nullptr) RequestImmediateExit(run);
}

void InstallHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = OnKickSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // No SA_RESTART: KVM_RUN must come back with EINTR.
    sigaction(KickSignal(), &sa, nullptr);
  });
}

}  // namespace

int KickSignal() { return SIGRTMIN + 2; }

uint32_t KickSignalsReceived() { return t_kick_signals.load(std::memory_order_relaxed); }

void RequestImmediateExit(kvm_run* run) {
  std::atomic_ref<uint8_t>(run->immediate_exit).store(1, std::memory_order_relaxed);
}

void ClearImmediateExit(kvm_run* run) {
  std::atomic_ref<uint8_t>(run->immediate_exit).store(0, std::memory_order_relaxed);
}

ScopedKickTarget::ScopedKickTarget(kvm_run* run) {
  InstallHandler();
  t_kick_target = run;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, KickSignal());
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

ScopedKickTarget::~ScopedKickTarget() { t_kick_target = nullptr; }

ThreadTimer::~ThreadTimer() {
  if (created_) timer_delete(timer_);
}

Result<> ThreadTimer::Arm(uint64_t delay_ns) {
  pid_t tid = gettid();
  if (created_ && tid != tid_) {
    timer_delete(timer_);
    created_ = false;
  }
  if (!created_) {
    sigevent ev{};
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = KickSignal();
    ev._sigev_un._tid = tid;  // sigev_notify_thread_id (glibc names it only in newer headers).
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer_) < 0) {
      return Fail("KVM: timer_create for the run deadline failed: {}", std::strerror(errno));
    }
    created_ = true;
    tid_ = tid;
  }
  // A zero it_value disarms: fire after at least one nanosecond.
  if (delay_ns == 0) delay_ns = 1;
  itimerspec spec{};
  spec.it_value.tv_sec = static_cast<time_t>(delay_ns / 1'000'000'000);
  spec.it_value.tv_nsec = static_cast<long>(delay_ns % 1'000'000'000);
  if (timer_settime(timer_, 0, &spec, nullptr) < 0) {
    return Fail("KVM: timer_settime failed: {}", std::strerror(errno));
  }
  armed_ = true;
  return {};
}

void ThreadTimer::Disarm() {
  if (!created_ || !armed_) return;
  itimerspec spec{};
  timer_settime(timer_, 0, &spec, nullptr);
  armed_ = false;
}

}  // namespace x86vm
