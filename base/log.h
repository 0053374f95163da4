// Logging: spdlog with one named logger per component, levels chosen by
// --log, and a limiter for messages a guest can trigger (STYLE.md habit 7).
#ifndef X86VM_BASE_LOG_H_
#define X86VM_BASE_LOG_H_

#include <cstdint>
#include <memory>
#include <string_view>

#include <spdlog/spdlog.h>

#include "base/status.h"

namespace x86vm {

// The logger of one component ("pit", "bus", "uart"), created on first use.
// All loggers write to stderr: stdout belongs to the guest's serial console.
std::shared_ptr<spdlog::logger> Logger(std::string_view component);

// Applies a --log spec: "LEVEL" for all components, or a comma list such as
// "warn,pit=debug,bus=trace". Levels: trace debug info warn error off.
Result<> ConfigureLogging(std::string_view spec);

// Lets the first `burst` events through, then one in every `every` events,
// so a guest hammering an unmapped port cannot flood the log. Counts events,
// never reads a clock, so device behaviour stays deterministic.
class RateLimiter {
 public:
  explicit RateLimiter(uint64_t burst = 16, uint64_t every = 4096)
      : burst_(burst), every_(every) {}
  // True when this event should be logged.
  bool Allow() {
    ++events_;
    return events_ <= burst_ || (events_ - burst_) % every_ == 0;
  }
  uint64_t events() const { return events_; }

 private:
  uint64_t burst_;
  uint64_t every_;
  uint64_t events_ = 0;
};

}  // namespace x86vm

#endif  // X86VM_BASE_LOG_H_
