#include "devices/clock.h"

#include <time.h>

#include <algorithm>

namespace x86vm {

uint64_t HostMonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

VirtualClock::VirtualClock(Mode mode, HostTimeSource host_time)
    : mode_(mode), host_time_(std::move(host_time)) {
  host_base_ns_ = host_time_();
}

uint64_t VirtualClock::now_ns() const {
  if (mode_ == Mode::kDeterministic) return deterministic_ns_;
  if (paused_) return virtual_base_ns_;
  return host_time_() - host_base_ns_ + virtual_base_ns_;
}

void VirtualClock::AddInstructions(uint64_t count) {
  if (mode_ == Mode::kDeterministic) deterministic_ns_ += count * ns_per_instruction_;
}

void VirtualClock::AdvanceTo(uint64_t ns) {
  if (mode_ == Mode::kDeterministic) deterministic_ns_ = std::max(deterministic_ns_, ns);
}

void VirtualClock::Pause() {
  if (paused_ || mode_ != Mode::kRealTime) return;
  virtual_base_ns_ = now_ns();
  paused_ = true;
}

void VirtualClock::Resume() {
  if (!paused_) return;
  host_base_ns_ = host_time_();
  paused_ = false;
}

void VirtualClock::RunDueTimers() {
  // Each pass fires the earliest due timer; a callback may re-arm timers, so
  // the set is re-examined every time. The bound stops a timer re-armed at
  // "now" from spinning forever within one call.
  for (int fired = 0; fired < 10000; ++fired) {
    uint64_t now = now_ns();
    if (next_deadline_ns_ > now) return;
    Timer* earliest = nullptr;
    for (Timer* t : timers_) {
      if (t->deadline_ns_ <= now &&
          (earliest == nullptr || t->deadline_ns_ < earliest->deadline_ns_)) {
        earliest = t;
      }
    }
    if (earliest == nullptr) return;
    earliest->deadline_ns_ = kNever;
    RecomputeNextDeadline();
    earliest->callback_();
  }
}

void VirtualClock::Serialize(Serializer& s) {
  s.Section("clock", 1);
  uint64_t now = now_ns();
  s(now);
  if (s.loading()) {
    deterministic_ns_ = now;
    virtual_base_ns_ = now;
    host_base_ns_ = host_time_();
  }
}

void VirtualClock::Add(Timer* timer) { timers_.push_back(timer); }

void VirtualClock::Remove(Timer* timer) {
  timers_.erase(std::remove(timers_.begin(), timers_.end(), timer), timers_.end());
  RecomputeNextDeadline();
}

void VirtualClock::RecomputeNextDeadline() {
  next_deadline_ns_ = kNever;
  for (Timer* t : timers_) next_deadline_ns_ = std::min(next_deadline_ns_, t->deadline_ns_);
}

Timer::Timer(VirtualClock& clock, std::function<void()> callback)
    : clock_(clock), callback_(std::move(callback)) {
  clock_.Add(this);
}

Timer::~Timer() { clock_.Remove(this); }

void Timer::ArmAt(uint64_t deadline_ns) {
  deadline_ns_ = deadline_ns;
  clock_.RecomputeNextDeadline();
}

void Timer::ArmAfter(uint64_t delay_ns) {
  uint64_t now = clock_.now_ns();
  ArmAt(delay_ns > VirtualClock::kNever - 1 - now ? VirtualClock::kNever - 1
                                                   : now + delay_ns);
}

void Timer::Cancel() { ArmAt(VirtualClock::kNever); }

void Timer::Serialize(Serializer& s) {
  uint64_t deadline = deadline_ns_;
  s(deadline);
  if (s.loading()) ArmAt(deadline);
}

}  // namespace x86vm
