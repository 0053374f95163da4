#include "machine/run_loop.h"

#include <time.h>

#include <algorithm>

#include <fmt/format.h>

#include "base/log.h"

namespace x86vm {
namespace {

// After host input ends, the loop types Ctrl-D (the tty's end-of-file
// character) into COM1 at this interval, so a shell on the serial console
// sees EOF and the default guest powers off without a terminal.
constexpr uint64_t kEofRepeatNs = 500'000'000;
constexpr uint8_t kCtrlD = 0x04;

void SleepNs(uint64_t ns) {
  timespec ts{static_cast<time_t>(ns / 1'000'000'000),
              static_cast<long>(ns % 1'000'000'000)};
  nanosleep(&ts, nullptr);
}

}  // namespace

RunOutcome RunMachine(PcMachine& machine, Vcpu& vcpu, const RunLoopOptions& options) {
  auto log = Logger("machine");
  VirtualClock& clock = machine.clock();
  Uart16550& com1 = machine.com(0);
  SerialSource* input = options.serial_input;
  uint64_t next_eof_ns = 0;

  for (;;) {
    uint64_t now = clock.now_ns();
    uint64_t deadline = std::min(clock.next_deadline_ns(), now + options.poll_interval_ns);
    RunResult result = vcpu.Run(deadline);
    clock.RunDueTimers();

    // Host input to COM1; after EOF, Ctrl-D for the guest's tty.
    bool input_delivered = false;
    if (input != nullptr) {
      while (com1.CanReceive()) {
        auto byte = input->Poll();
        if (!byte) break;
        com1.Receive(*byte);
        input_delivered = true;
      }
      if (input->quit_requested()) return {0, "quit (Ctrl-A x)"};
      if (input->eof() && com1.CanReceive() && clock.now_ns() >= next_eof_ns) {
        com1.Receive(kCtrlD);
        next_eof_ns = clock.now_ns() + kEofRepeatNs;
        input_delivered = true;
      }
    }

    GuestRequests& requests = machine.requests();
    if (requests.exit_status) {
      if (input != nullptr) input->Flush();
      return {*requests.exit_status, ""};
    }
    bool reset = requests.reset;
    std::string reset_reason = "the guest requested a reset";
    switch (result.reason) {
      case StopReason::kDeadline:
      case StopReason::kKicked:
      case StopReason::kDebug:
        break;
      case StopReason::kError:
        return {1, result.message};
      case StopReason::kShutdown:
        reset = true;
        reset_reason = "triple fault";
        break;
      case StopReason::kReset:
        reset = true;
        break;
      case StopReason::kHalt: {
        CpuState state;
        if (auto r = vcpu.GetState(state); !r) return {1, r.error().message};
        uint64_t next = clock.next_deadline_ns();
        bool can_wake = (state.rflags & flags::kIf) != 0 || state.events.nmi_pending;
        if (!can_wake) {
          if (input != nullptr) input->Flush();
          return {1, fmt::format("the guest halted with interrupts disabled at {:#x}:{:#x}; "
                                 "it can never continue",
                                 state.seg[kCs].selector, state.rip)};
        }
        if (clock.mode() == VirtualClock::Mode::kDeterministic) {
          // New input raises the UART's interrupt: let the guest take it.
          if (input_delivered) break;
          // After EOF the next Ctrl-D is a wake-up source like a timer: a
          // tickless guest idles with no timer armed, waiting for input.
          if (input != nullptr && input->eof() && com1.CanReceive()) {
            next = std::min(next, std::max(next_eof_ns, clock.now_ns()));
          }
          if (next == VirtualClock::kNever && (input == nullptr || input->eof())) {
            return {1, "the guest halted with no timer armed and no input to wake it"};
          }
          if (next != VirtualClock::kNever) clock.AdvanceTo(next);
        } else {
          uint64_t now_after = clock.now_ns();
          uint64_t wait = next > now_after ? next - now_after : 0;
          SleepNs(std::min(wait, options.poll_interval_ns));
        }
        break;
      }
    }
    if (reset) {
      if (options.no_reboot) {
        if (input != nullptr) input->Flush();
        return {0, reset_reason + " (--no-reboot)"};
      }
      log->info("system reset: {}", reset_reason);
      machine.Reset();
      CpuState state;
      state.Reset();
      if (auto r = vcpu.SetState(state); !r) return {1, r.error().message};
      if (options.after_reset) {
        if (auto r = options.after_reset(machine, vcpu); !r) return {1, r.error().message};
      }
    }
  }
}

}  // namespace x86vm
