// A bare machine for CPU tests: RAM, the two buses, a deterministic clock,
// a debug port that records bytes (0xE9), and an Interpreter on top.
#ifndef X86VM_CPU_TEST_MACHINE_H_
#define X86VM_CPU_TEST_MACHINE_H_

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "cpu/interpreter.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/irq.h"
#include "machine/guest_memory.h"

namespace x86vm {

// An interrupt controller the test drives by hand.
class FakeInterruptController : public InterruptController {
 public:
  bool HasInterrupt() override { return pending_ >= 0; }
  uint8_t AcknowledgeInterrupt() override {
    uint8_t v = static_cast<uint8_t>(pending_);
    pending_ = -1;
    ++acks_;
    return v;
  }
  bool TakeNmi() override {
    bool n = nmi_;
    nmi_ = false;
    return n;
  }
  void Raise(uint8_t vector) { pending_ = vector; }
  void RaiseNmi() { nmi_ = true; }
  int acks() const { return acks_; }

 private:
  int pending_ = -1;
  bool nmi_ = false;
  int acks_ = 0;
};

class TestMachine {
 public:
  explicit TestMachine(uint64_t ram_bytes = 16 << 20)
      : mmio_("mmio"), pio_("pio"), clock_(VirtualClock::Mode::kDeterministic),
        debug_port_([this](uint64_t, size_t) -> uint64_t { return 0; },
                    [this](uint64_t, size_t, uint64_t v) { out_.push_back(static_cast<char>(v)); }) {
    memory_ = std::move(GuestMemory::Create(ram_bytes).value());
    (void)pio_.Register(0xe9, 1, &debug_port_, "debug");
    CpuEnvironment env{memory_.get(), &mmio_, &pio_, &irq_, &clock_, nullptr};
    cpu_ = std::make_unique<Interpreter>(env);
  }

  GuestMemory& memory() { return *memory_; }
  Interpreter& cpu() { return *cpu_; }
  FakeInterruptController& irq() { return irq_; }
  VirtualClock& clock() { return clock_; }
  Bus& pio() { return pio_; }
  // Bytes the guest wrote to port 0xE9.
  const std::string& out() const { return out_; }

  void Load(uint64_t gpa, const std::vector<uint8_t>& bytes) {
    std::memcpy(memory_->HostRange(gpa, bytes.size()), bytes.data(), bytes.size());
  }
  // Loads a nasm-assembled test program from the runfiles.
  bool LoadFile(uint64_t gpa, const std::string& runfile) {
    std::ifstream f(runfile, std::ios::binary);
    if (!f) return false;
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    Load(gpa, bytes);
    return true;
  }
  uint64_t Read64(uint64_t gpa) {
    uint64_t v;
    std::memcpy(&v, memory_->HostRange(gpa, 8), 8);
    return v;
  }
  void Write64(uint64_t gpa, uint64_t v) { std::memcpy(memory_->HostRange(gpa, 8), &v, 8); }

  CpuState State() {
    CpuState s;
    (void)cpu_->GetState(s);
    return s;
  }
  void SetState(const CpuState& s) { (void)cpu_->SetState(s); }

  // Starts in real mode at 0000:ip with a stack at 0000:7000.
  void StartReal(uint16_t ip) {
    CpuState s;
    s.Reset();
    for (Segment& sg : s.seg) {
      if (&sg == &s.seg[kLdtr] || &sg == &s.seg[kTr]) continue;
      sg.selector = 0;
      sg.base = 0;
    }
    s.rip = ip;
    s.gpr[kRsp] = 0x7000;
    s.idtr = {0, 0x3ff};
    SetState(s);
  }

  // Runs until HLT (with nothing pending) or `max_ns` of virtual time.
  StopReason RunToHalt(uint64_t max_ns = 10'000'000) {
    return cpu_->Run(clock_.now_ns() + max_ns).reason;
  }

 private:
  std::unique_ptr<GuestMemory> memory_;
  Bus mmio_;
  Bus pio_;
  VirtualClock clock_;
  FakeInterruptController irq_;
  FunctionBusTarget debug_port_;
  std::string out_;
  std::unique_ptr<Interpreter> cpu_;
};

}  // namespace x86vm

#endif  // X86VM_CPU_TEST_MACHINE_H_
