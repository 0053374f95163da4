// The virtual clock: the only time devices ever see. Timers are callbacks on
// virtual nanoseconds. In real-time mode guest time follows the host's
// monotonic clock; in deterministic mode it advances only with executed guest
// instructions (and idle skips), so two runs with the same inputs are equal.
#ifndef X86VM_DEVICES_CLOCK_H_
#define X86VM_DEVICES_CLOCK_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "base/serializer.h"

namespace x86vm {

class Timer;

// Reads host time in nanoseconds; injected so tests can drive real-time mode.
using HostTimeSource = std::function<uint64_t()>;

// The host's CLOCK_MONOTONIC in nanoseconds.
uint64_t HostMonotonicNs();

class VirtualClock {
 public:
  enum class Mode { kRealTime, kDeterministic };
  static constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

  explicit VirtualClock(Mode mode, HostTimeSource host_time = HostMonotonicNs);
  VirtualClock(const VirtualClock&) = delete;
  VirtualClock& operator=(const VirtualClock&) = delete;

  Mode mode() const { return mode_; }

  // Current virtual time in nanoseconds since power-on.
  uint64_t now_ns() const;

  // Deterministic mode: credits `count` executed guest instructions, each
  // worth ns_per_instruction(). Ignored in real-time mode.
  void AddInstructions(uint64_t count);
  // Deterministic mode: jumps forward to `ns` (an idle CPU skipping to the
  // next timer). Never moves backwards. Ignored in real-time mode.
  void AdvanceTo(uint64_t ns);

  // Real-time mode: stops guest time while the VM is paused (debugger,
  // monitor) so timers do not all fire on resume.
  void Pause();
  void Resume();

  // Virtual time of the earliest armed timer, or kNever.
  uint64_t next_deadline_ns() const { return next_deadline_ns_; }
  // Fires every timer whose deadline has passed, earliest first. Callbacks may
  // re-arm their own or other timers.
  void RunDueTimers();

  // How long one instruction takes in deterministic mode; default 1 ns
  // (a 1 GHz guest).
  uint64_t ns_per_instruction() const { return ns_per_instruction_; }
  void set_ns_per_instruction(uint64_t ns) { ns_per_instruction_ = ns ? ns : 1; }

  // Saves or loads the current virtual time (timers save themselves with
  // their device).
  void Serialize(Serializer& s);

 private:
  friend class Timer;
  void Add(Timer* timer);
  void Remove(Timer* timer);
  void RecomputeNextDeadline();

  Mode mode_;
  HostTimeSource host_time_;
  // Real-time mode: virtual = host - host_base_ns_ + virtual_base_ns_.
  uint64_t host_base_ns_ = 0;
  uint64_t virtual_base_ns_ = 0;
  bool paused_ = false;
  // Deterministic mode: the current virtual time.
  uint64_t deterministic_ns_ = 0;
  uint64_t ns_per_instruction_ = 1;
  uint64_t next_deadline_ns_ = kNever;
  std::vector<Timer*> timers_;
};

// A one-shot callback on virtual time, owned by a device. Periodic sources
// re-arm from their callback.
class Timer {
 public:
  Timer(VirtualClock& clock, std::function<void()> callback);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Arms the timer for virtual time `deadline_ns` (replacing any earlier arm).
  void ArmAt(uint64_t deadline_ns);
  // Arms the timer `delay_ns` after now.
  void ArmAfter(uint64_t delay_ns);
  void Cancel();
  bool armed() const { return deadline_ns_ != VirtualClock::kNever; }
  uint64_t deadline_ns() const { return deadline_ns_; }
  VirtualClock& clock() const { return clock_; }

  // Saves or loads whether it is armed and its deadline.
  void Serialize(Serializer& s);

 private:
  friend class VirtualClock;
  VirtualClock& clock_;
  std::function<void()> callback_;
  uint64_t deadline_ns_ = VirtualClock::kNever;
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_CLOCK_H_
