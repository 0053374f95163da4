#include "machine/run_loop.h"

#include <gtest/gtest.h>

#include <deque>

namespace x86vm {
namespace {

// A vCPU whose Run() calls a test-provided step function.
class FakeVcpu : public Vcpu {
 public:
  using Step = std::function<RunResult(uint64_t deadline_ns)>;
  explicit FakeVcpu(Step step) : step_(std::move(step)) {}
  const char* engine_name() const override { return "fake"; }
  RunResult Run(uint64_t deadline_ns) override {
    ++runs;
    return step_(deadline_ns);
  }
  Result<> GetState(CpuState& s) override {
    s = state;
    return {};
  }
  Result<> SetState(const CpuState& s) override {
    state = s;
    ++set_state_calls;
    return {};
  }
  void Kick() override {}
  uint64_t instructions_retired() const override { return 0; }

  CpuState state;
  int runs = 0;
  int set_state_calls = 0;

 private:
  Step step_;
};

class FakeSource : public SerialSource {
 public:
  std::optional<uint8_t> Poll() override {
    if (bytes.empty()) {
      at_eof = end_after_bytes;
      return std::nullopt;
    }
    uint8_t b = bytes.front();
    bytes.pop_front();
    return b;
  }
  bool quit_requested() const override { return quit; }
  bool eof() const override { return at_eof; }
  void Flush() override {}
  std::deque<uint8_t> bytes;
  bool end_after_bytes = false;
  bool at_eof = false;
  bool quit = false;
};

std::unique_ptr<PcMachine> MakeMachine() {
  PcConfig config;
  config.memory_bytes = 16ull << 20;
  config.clock_mode = VirtualClock::Mode::kDeterministic;
  config.exit_port = 0xf4;
  return std::move(*PcMachine::Create(config));
}

TEST(RunLoop, ExitPortEndsWithItsStatus) {
  auto m = MakeMachine();
  FakeVcpu cpu([&](uint64_t) {
    m->pio().WriteValue(0xf4, 1, 3);
    return RunResult{StopReason::kDeadline, ""};
  });
  RunOutcome out = RunMachine(*m, cpu, {});
  EXPECT_EQ(out.exit_status, 7);
}

TEST(RunLoop, DeadGuestEndsWithAMessage) {
  auto m = MakeMachine();
  FakeVcpu cpu([&](uint64_t) { return RunResult{StopReason::kHalt, ""}; });
  cpu.state.rflags = flags::kFixed1;  // IF clear.
  RunOutcome out = RunMachine(*m, cpu, {});
  EXPECT_EQ(out.exit_status, 1);
  EXPECT_NE(out.message.find("interrupts disabled"), std::string::npos);
}

TEST(RunLoop, HaltSkipsToTheNextTimerInDeterministicMode) {
  auto m = MakeMachine();
  std::vector<uint64_t> times;
  FakeVcpu cpu([&](uint64_t) {
    times.push_back(m->clock().now_ns());
    if (times.size() == 4) m->pio().WriteValue(0xf4, 1, 0);
    return RunResult{StopReason::kHalt, ""};
  });
  cpu.state.rflags = flags::kFixed1 | flags::kIf;
  RunOutcome out = RunMachine(*m, cpu, {});
  EXPECT_EQ(out.exit_status, 1);
  ASSERT_EQ(times.size(), 4u);
  // The PIT runs from power-on (mode 3, 18.2 Hz): each halt skips ahead.
  EXPECT_GT(times[1], times[0]);
  EXPECT_GT(times[3], times[2]);
}

TEST(RunLoop, ResetResetsDevicesAndCpuOrExitsWithNoReboot) {
  auto m = MakeMachine();
  int calls = 0;
  FakeVcpu cpu([&](uint64_t) {
    if (++calls == 1) {
      m->pio().WriteValue(0x3ff, 1, 0x77);  // COM1 scratch, cleared by reset.
      return RunResult{StopReason::kShutdown, ""};
    }
    EXPECT_EQ(m->pio().ReadValue(0x3ff, 1), 0u);
    m->pio().WriteValue(0xf4, 1, 1);
    return RunResult{StopReason::kDeadline, ""};
  });
  int after_reset_calls = 0;
  RunLoopOptions options;
  options.after_reset = [&](PcMachine&, Vcpu&) -> Result<> {
    ++after_reset_calls;
    return {};
  };
  RunOutcome out = RunMachine(*m, cpu, options);
  EXPECT_EQ(out.exit_status, 3);
  EXPECT_EQ(cpu.set_state_calls, 1);
  EXPECT_EQ(after_reset_calls, 1);

  auto m2 = MakeMachine();
  FakeVcpu cpu2([&](uint64_t) { return RunResult{StopReason::kShutdown, ""}; });
  options.no_reboot = true;
  out = RunMachine(*m2, cpu2, options);
  EXPECT_EQ(out.exit_status, 0);
  EXPECT_NE(out.message.find("triple fault"), std::string::npos);
}

TEST(RunLoop, SerialInputReachesCom1AndEofTypesCtrlD) {
  auto m = MakeMachine();
  FakeSource source;
  source.bytes = {'h', 'i'};
  source.end_after_bytes = true;
  std::string received;
  FakeVcpu cpu([&](uint64_t) {
    // Drain COM1's receiver like a guest driver would (LSR.DR then RBR).
    while (m->pio().ReadValue(0x3fd, 1) & 1) {
      received += static_cast<char>(m->pio().ReadValue(0x3f8, 1));
    }
    if (received.find('\x04') != std::string::npos) m->pio().WriteValue(0xf4, 1, 0);
    m->clock().AddInstructions(1000000);
    return RunResult{StopReason::kDeadline, ""};
  });
  RunLoopOptions options;
  options.serial_input = &source;
  RunOutcome out = RunMachine(*m, cpu, options);
  EXPECT_EQ(out.exit_status, 1);
  EXPECT_EQ(received.substr(0, 3), "hi\x04");
}

TEST(RunLoop, TicklessIdleGuestStillGetsCtrlDAfterEofInDeterministicMode) {
  auto m = MakeMachine();
  // Counter 0 in mode 0 waits for a count: the PIT arms no timer, like a
  // tickless kernel idling in HLT until input arrives.
  m->pio().WriteValue(0x43, 1, 0x30);
  ASSERT_EQ(m->clock().next_deadline_ns(), VirtualClock::kNever);
  FakeSource source;
  source.end_after_bytes = true;
  std::string received;
  FakeVcpu cpu([&](uint64_t) {
    while (m->pio().ReadValue(0x3fd, 1) & 1) {
      received += static_cast<char>(m->pio().ReadValue(0x3f8, 1));
    }
    if (received.find('\x04') != std::string::npos) m->pio().WriteValue(0xf4, 1, 1);
    return RunResult{StopReason::kHalt, ""};
  });
  cpu.state.rflags = flags::kFixed1 | flags::kIf;
  RunLoopOptions options;
  options.serial_input = &source;
  RunOutcome out = RunMachine(*m, cpu, options);
  EXPECT_EQ(out.exit_status, 3) << out.message;
  EXPECT_EQ(received, "\x04");
}

TEST(RunLoop, QuitEscapeEnds) {
  auto m = MakeMachine();
  FakeSource source;
  source.quit = true;
  FakeVcpu cpu([&](uint64_t) { return RunResult{StopReason::kDeadline, ""}; });
  RunLoopOptions options;
  options.serial_input = &source;
  EXPECT_EQ(RunMachine(*m, cpu, options).exit_status, 0);
}

}  // namespace
}  // namespace x86vm
