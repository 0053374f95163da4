// Dead-flag elision (ElideDeadFlags, Cpu::DispatchFast), straight runs
// (Insn::run) and lazy flags (Cpu::lf_pending) are invisible: a CPU running
// with them and a reference without agree on every register and flag at
// every point where Run returns, whatever the instruction budget, and the
// careful dispatch loop (breakpoints armed) runs the full-flag handlers.
// The reference runs under a tracer (the careful loop, which materializes
// the flags after every instruction), so no handler there ever reads lazy
// flags.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "cpu/cpu.h"
#include "cpu/test_machine.h"
#include "cpu/trace_hook.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "machine/guest_memory.h"

namespace x86vm {
namespace {

constexpr uint64_t kCode = 0x1000;

// A loop of 32-bit register arithmetic: killers (ADD, IMUL, SHL, SUB, XOR,
// CMP) with flag-neutral MOV/MOVZX/LEA between them, flag readers (ADC,
// JNZ, SETcc, CMOVcc), INC/DEC and a rotate.
const std::vector<uint8_t> kLoop = {
    0xb9, 0x40, 0x00, 0x00, 0x00,  // mov ecx, 64
    // loop:
    0x01, 0xd8,              // add eax, ebx
    0x89, 0xc2,              // mov edx, eax
    0x0f, 0xaf, 0xc2,        // imul eax, edx
    0x31, 0xc6,              // xor esi, eax
    0xc1, 0xe3, 0x03,        // shl ebx, 3
    0x11, 0xc7,              // adc edi, eax
    0xff, 0xc3,              // inc ebx
    0xc1, 0xc0, 0x05,        // rol eax, 5
    0x29, 0xf5,              // sub ebp, esi
    0x8d, 0x14, 0x18,        // lea edx, [eax+ebx]
    0x39, 0xd6,              // cmp esi, edx
    0x0f, 0x92, 0xc2,        // setb dl
    0x0f, 0xb6, 0xd2,        // movzx edx, dl
    0x01, 0xd7,              // add edi, edx
    0x39, 0xd8,              // cmp eax, ebx
    0x0f, 0x43, 0xd6,        // cmovae edx, esi
    0x29, 0xd5,              // sub ebp, edx
    0x85, 0xc0,              // test eax, eax
    0x0f, 0x44, 0xf3,        // cmovz esi, ebx
    0x81, 0xf3, 0x5a, 0x5a, 0x00, 0x00,  // xor ebx, 0x5a5a
    0xc1, 0xe8, 0x00,        // shr eax, 0 (changes nothing)
    0xff, 0xc9,              // dec ecx
    0x75, 0xc5,              // jnz loop
    0xf4,                    // hlt
};

// The lm_runs.asm program (memory accesses inside straight runs), loaded
// at 0x1000 and entered in 64-bit mode.
std::vector<uint8_t> LongModeProgram() {
  std::ifstream f("cpu/testdata/lm_runs.bin", std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Keeps a CPU in its careful, traced loop.
class NullTracer : public InstructionTracer {
 public:
  TraceAction BeforeInstruction(const TracedInstruction&, const CpuState&) override { return TraceAction::kIgnore; }
  void AfterInstruction(const CpuState&) override {}
  void OnEvent(const TracedEvent&, const CpuState&) override {}
  void OnShutdown(const CpuState&) override {}
};

// A CPU running `code` at kCode: in flat 32-bit protected mode without
// paging, or in 64-bit mode with 0-2 MiB identity-mapped by 4 KiB pages
// (lm_runs.asm's layout: tables at 0x10000-0x13fff, the page at 0x180000
// not present).
class FlatCpu {
 public:
  explicit FlatCpu(bool elide, const std::vector<uint8_t>& code = kLoop, bool long_mode = false)
      : mmio_("mmio"), pio_("pio"), clock_(VirtualClock::Mode::kDeterministic) {
    memory_ = std::move(GuestMemory::Create(2 << 20).value());
    std::memcpy(memory_->HostRange(kCode, code.size()), code.data(), code.size());
    CpuEnvironment env{memory_.get(), &mmio_, &pio_, &irq_, &clock_, nullptr};
    cpu_ = std::make_unique<Cpu>(env);
    cpu_->elide_dead_flags = elide;
    cpu_->straight_runs = elide;
    // The reference runs one instruction per step, flags materialized.
    if (!elide) cpu_->SetTracer(&tracer_);
    CpuState s;
    s.Reset();
    const uint32_t data = 0x3 | seg_attr::kS | seg_attr::kP | seg_attr::kDb | seg_attr::kG;
    for (int r : {kEs, kSs, kDs, kFs, kGs}) s.seg[r] = Segment{0x10, 0, 0xffffffff, data};
    s.seg[kCs] = Segment{0x08, 0, 0xffffffff, 0xb | seg_attr::kS | seg_attr::kP | seg_attr::kDb | seg_attr::kG};
    s.cr0 = cr0::kPe | cr0::kEt | cr0::kNe;
    if (long_mode) {
      for (uint64_t table = 0x10000; table < 0x13000; table += 0x1000) Put64(table, (table + 0x1000) | 3);
      for (uint64_t page = 0; page < 512; ++page) Put64(0x13000 + page * 8, page << 12 | (page == 0x180 ? 2 : 3));
      s.seg[kCs].attr = 0xb | seg_attr::kS | seg_attr::kP | seg_attr::kL | seg_attr::kG;
      s.cr0 |= cr0::kPg;
      s.cr3 = 0x10000;
      s.cr4 = cr4::kPae;
      s.efer = efer::kLme | efer::kLma;
    }
    s.rip = kCode;
    s.gpr[kRax] = 0x12345678;
    s.gpr[kRbx] = 0x9abcdef1;
    s.gpr[kRsi] = 0x0f0f0f0f;
    s.gpr[kRbp] = 0x80000000;
    s.rflags = flags::kFixed1;
    cpu_->s = s;
    cpu_->StateChanged();
  }

  Cpu& cpu() { return *cpu_; }

  // Runs with a budget; returns how many instructions retired.
  uint64_t Step(uint64_t budget) {
    uint64_t before = cpu_->instructions_retired();
    cpu_->Run(budget);
    return cpu_->instructions_retired() - before;
  }

 private:
  void Put64(uint64_t gpa, uint64_t v) { std::memcpy(memory_->HostRange(gpa, 8), &v, 8); }

  std::unique_ptr<GuestMemory> memory_;
  Bus mmio_;
  Bus pio_;
  VirtualClock clock_;
  FakeInterruptController irq_;
  NullTracer tracer_;
  std::unique_ptr<Cpu> cpu_;
};

void ExpectSameState(const CpuState& a, const CpuState& b, const std::string& where) {
  for (int r = 0; r < 16; ++r) ASSERT_EQ(a.gpr[r], b.gpr[r]) << where << " gpr " << r;
  ASSERT_EQ(a.rflags, b.rflags) << where << " at rip " << std::hex << a.rip << " / " << b.rip;
  ASSERT_EQ(a.rip, b.rip) << where;
  ASSERT_EQ(a.halted, b.halted) << where;
}

// Steps the eliding CPU with the budgets in turn (1, 2, 3, 1, 2, 3... by
// default) and the reference to the same instruction count after each; they
// must always agree.
void RunInLockstep(FlatCpu& elided, FlatCpu& reference, bool* overshot,
                   const std::vector<uint64_t>& budgets = {1, 2, 3}) {
  for (int i = 0; i < 200000 && !elided.cpu().s.halted; ++i) {
    uint64_t budget = budgets[i % budgets.size()];
    uint64_t ran = elided.Step(budget);
    if (ran > budget) *overshot = true;
    uint64_t target = elided.cpu().instructions_retired();
    while (reference.cpu().instructions_retired() < target && !reference.cpu().s.halted) {
      reference.Step(target - reference.cpu().instructions_retired());
    }
    ASSERT_EQ(reference.cpu().instructions_retired(), target);
    ExpectSameState(elided.cpu().s, reference.cpu().s, "after " + std::to_string(target));
    if (::testing::Test::HasFailure()) return;
  }
  ASSERT_TRUE(elided.cpu().s.halted);
}

TEST(DeadFlagsTest, AgreesAtEveryStopAndElides) {
  FlatCpu elided(true), reference(false);
  bool overshot = false;
  RunInLockstep(elided, reference, &overshot);
  // Some budget ended inside a dead-flag run and was exceeded: the elision
  // really happened (otherwise this test would compare nothing).
  EXPECT_TRUE(overshot);
}

// Budgets that cover whole straight runs (the loop body is one run of over
// twenty), end inside them, and span several iterations.
TEST(DeadFlagsTest, AgreesWithBudgetsAcrossWholeRuns) {
  FlatCpu elided(true), reference(false);
  bool overshot = false;
  RunInLockstep(elided, reference, &overshot, {1, 5, 24, 100, 7, 1000, 2, 29, 13});
}

// Memory accesses end straight runs (Insn::ends_run): loads, stores and
// PUSH/POP inside runs, a store into the next instruction, and a #PF in the
// middle of a run, whose pushed RIP and retired count must be exact.
TEST(DeadFlagsTest, RunsWithMemoryAccessesAgreeAtEveryStop) {
  const std::vector<uint8_t> program = LongModeProgram();
  ASSERT_FALSE(program.empty()) << "cpu/testdata/lm_runs.bin missing";
  for (const std::vector<uint64_t>& budgets :
       std::vector<std::vector<uint64_t>>{{1, 2, 3}, {1, 5, 24, 100, 7, 1000, 2, 29, 13}, {100000}}) {
    FlatCpu runs(true, program, true), reference(false, program, true);
    bool overshot = false;
    RunInLockstep(runs, reference, &overshot, budgets);
    const CpuState& s = runs.cpu().s;
    EXPECT_EQ(s.gpr[13], 0u) << "#PF pushed the wrong RIP";
    EXPECT_EQ(s.gpr[14], 0x180008u) << "CR2";
    EXPECT_EQ(s.gpr[15], 0x99u) << "the store into the next instruction was missed";
    EXPECT_EQ(runs.cpu().instructions_retired(), reference.cpu().instructions_retired());
  }
}

TEST(DeadFlagsTest, CarefulLoopComputesFlags) {
  FlatCpu elided(true), reference(false);
  // Decode the loop once (marking dead flags), then start over with a code
  // breakpoint armed elsewhere: that selects the careful dispatch loop,
  // which stops exactly at each budget and must compute every flag.
  elided.Step(1000);
  CpuState start = FlatCpu(false).cpu().s;
  start.dr[0] = 0xff000;
  start.dr7 = 0x401;  // L0, execute.
  elided.cpu().s = start;
  elided.cpu().StateChanged();
  reference.cpu().s = start;
  reference.cpu().StateChanged();
  uint64_t base_e = elided.cpu().instructions_retired();
  uint64_t base_r = reference.cpu().instructions_retired();
  for (int i = 0; i < 5000 && !elided.cpu().s.halted; ++i) {
    ASSERT_EQ(elided.Step(1), 1u);
    ASSERT_EQ(reference.Step(1), 1u);
    ExpectSameState(elided.cpu().s, reference.cpu().s,
                    "careful step " + std::to_string(elided.cpu().instructions_retired() - base_e));
  }
  EXPECT_TRUE(elided.cpu().s.halted);
  EXPECT_EQ(elided.cpu().instructions_retired() - base_e, reference.cpu().instructions_retired() - base_r);
}

}  // namespace
}  // namespace x86vm
