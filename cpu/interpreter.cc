#include "cpu/interpreter.h"

#include <algorithm>

#include "cpu/cpu.h"
#include "devices/clock.h"

namespace x86vm {
namespace {

// Instructions per slice in real-time mode, between looks at the host clock.
constexpr uint64_t kRealTimeSlice = 1 << 16;
// Upper bound of a deterministic slice, so Kick() and I/O stay responsive.
constexpr uint64_t kMaxDeterministicSlice = 1 << 20;

}  // namespace

Interpreter::Interpreter(const CpuEnvironment& env, CpuFeatures features)
    : cpu_(std::make_unique<Cpu>(env)), clock_(env.clock) {
  cpu_->features = features;
}

Interpreter::~Interpreter() = default;

RunResult Interpreter::Run(uint64_t deadline_ns) {
  bool deterministic = clock_->mode() == VirtualClock::Mode::kDeterministic;
  for (;;) {
    uint64_t now = clock_->now_ns();
    if (now >= deadline_ns) return {StopReason::kDeadline, {}};
    uint64_t budget = kRealTimeSlice;
    if (deterministic) {
      uint64_t per = clock_->ns_per_instruction();
      budget = std::min<uint64_t>((deadline_ns - now + per - 1) / per, kMaxDeterministicSlice);
    }
    uint64_t before = cpu_->instructions_retired();
    CpuExit exit = cpu_->Run(budget);
    if (deterministic) {
      clock_->AddInstructions(cpu_->instructions_retired() - before);
      cpu_->credited_instructions = cpu_->instructions_retired();
    }
    switch (exit) {
      case CpuExit::kBudget: continue;
      case CpuExit::kHalt: return {StopReason::kHalt, {}};
      case CpuExit::kShutdown:
        if (tracer_ != nullptr) tracer_->OnShutdown(cpu_->s);
        return {StopReason::kShutdown, {}};
      case CpuExit::kReset: return {StopReason::kReset, {}};
      case CpuExit::kKicked: return {StopReason::kKicked, {}};
    }
  }
}

Result<> Interpreter::GetState(CpuState& state) {
  state = cpu_->s;
  return {};
}

Result<> Interpreter::SetState(const CpuState& state) {
  cpu_->s = state;
  // A new state usually comes with new memory contents (snapshot restore,
  // loaders), which the CPU did not see being written.
  cpu_->FlushCodeCache();
  cpu_->StateChanged();
  return {};
}

void Interpreter::Kick() { cpu_->Kick(); }

uint64_t Interpreter::instructions_retired() const { return cpu_->instructions_retired(); }

void Interpreter::Reset() { cpu_->Reset(); }

void Interpreter::InvalidateCode(uint64_t gpa, uint64_t size) { cpu_->InvalidateCode(gpa, size); }

void Interpreter::MemoryMapChanged() { cpu_->FlushTlb(true); }

void Interpreter::SetTracer(InstructionTracer* tracer) {
  tracer_ = tracer;
  cpu_->SetTracer(tracer);
}

}  // namespace x86vm
