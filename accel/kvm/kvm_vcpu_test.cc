// The KVM engine against small guests and the shared device model. Every
// test skips with the reason where /dev/kvm is unusable.
#include "accel/kvm/kvm_vcpu.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "accel/kvm/kvm_msrs.h"
#include "accel/kvm/kvm_state.h"
#include "accel/kvm/kvm_test_util.h"
#include "machine/cpu_platform.h"
#include "machine/pc.h"
#include "machine/run_loop.h"

namespace x86vm {
namespace {

using kvm_test::LongMode;
using kvm_test::MiniBoard;
using kvm_test::RecordingTarget;

constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint16_t kTestPort = 0x700;

std::unique_ptr<KvmVcpu> MakeVcpu(const CpuEnvironment& env) {
  auto vcpu = KvmVcpu::Create(env);
  EXPECT_TRUE(vcpu.has_value()) << vcpu.error().message;
  return vcpu ? std::move(*vcpu) : nullptr;
}

// --- Guests on a minimal board ----------------------------------------------

TEST(KvmGuest, RealModePortIoOfEverySizeAndStrings) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board;
  RecordingTarget port;
  int word = 0;
  port.read_value = [&](uint64_t, size_t size) -> uint64_t {
    return size == 1 ? 0x5a : static_cast<uint64_t>(0x1000 + word++);
  };
  ASSERT_TRUE(board.pio().Register(kTestPort, 4, &port, "test").has_value());
  board.Load(0x1000, kvm_test::ReadGuest("real_mode_io"));
  auto vcpu = MakeVcpu(board.env());
  ASSERT_NE(vcpu, nullptr);
  ASSERT_TRUE(vcpu->SetState(kvm_test::RealModeState(0x1000)).has_value());

  RunResult r = vcpu->Run(board.clock().now_ns() + 10 * kSecond);
  ASSERT_EQ(r.reason, StopReason::kHalt) << r.message;

  using A = RecordingTarget::Access;
  std::vector<A> expected = {
      {true, 0, 1, 0x11},       {true, 0, 2, 0x2233},  {true, 0, 4, 0x44556677},
      {false, 0, 1, 0x5a},      {true, 0, 1, 0x5a},    {true, 0, 1, 'h'},
      {true, 0, 1, 'e'},        {true, 0, 1, 'l'},     {true, 0, 1, 'l'},
      {true, 0, 1, 'o'},        {false, 0, 2, 0x1000}, {false, 0, 2, 0x1001},
      {true, 0, 2, 0x1000},     {true, 0, 2, 0x1001},
  };
  EXPECT_EQ(port.log, expected);
  CpuState s;
  ASSERT_TRUE(vcpu->GetState(s).has_value());
  EXPECT_TRUE(s.halted);
  EXPECT_EQ(s.rflags & flags::kIf, 0u);
  const std::vector<uint8_t> code = kvm_test::ReadGuest("real_mode_io");
  // msg is the 5 bytes before buf (4 bytes) at the end of the program.
  uint64_t msg = 0x1000 + code.size() - 9;
  EXPECT_EQ(s.gpr[kRsi] & 0xffff, msg + 5);
  EXPECT_EQ(s.gpr[kRcx] & 0xffff, 0u);
}

TEST(KvmGuest, ProtectedModeMmioAndReadOnlyRom) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board;
  RecordingTarget port, mmio;
  mmio.read_value = [](uint64_t offset, size_t) -> uint64_t {
    return offset == 4 ? 0x12345678 : 0;
  };
  ASSERT_TRUE(board.pio().Register(kTestPort, 4, &port, "test").has_value());
  ASSERT_TRUE(board.mmio().Register(0xd0000000, 0x1000, &mmio, "test").has_value());
  board.Load(0x1000, kvm_test::ReadGuest("protected_mode"));
  auto vcpu = MakeVcpu(board.env());
  ASSERT_NE(vcpu, nullptr);
  // Added after the vCPU exists: Run() maps new regions before entering.
  std::vector<uint8_t> rom(4096, 0);
  rom[0] = 0xab;
  ASSERT_TRUE(board.memory().AddRom(0xffff0000, rom, "rom").has_value());
  ASSERT_TRUE(vcpu->SetState(kvm_test::RealModeState(0x1000)).has_value());

  RunResult r = vcpu->Run(board.clock().now_ns() + 10 * kSecond);
  ASSERT_EQ(r.reason, StopReason::kHalt) << r.message;

  std::vector<uint64_t> writes = port.writes();
  ASSERT_EQ(writes.size(), 4u);
  EXPECT_EQ(writes[0], 0x12345678u);
  EXPECT_EQ(writes[1], 5050u);
  EXPECT_EQ(writes[2], 0xabu) << "the ROM write must be dropped";
  EXPECT_EQ(writes[3] & cr0::kPe, cr0::kPe);
  using A = RecordingTarget::Access;
  std::vector<A> expected_mmio = {{true, 0, 4, 0xcafef00d}, {false, 4, 4, 0x12345678}};
  EXPECT_EQ(mmio.log, expected_mmio);
  EXPECT_EQ(*board.memory().HostRange(0xffff0000, 1), 0xab);
  CpuState s;
  ASSERT_TRUE(vcpu->GetState(s).has_value());
  EXPECT_TRUE(s.protected_mode());
  EXPECT_EQ(s.seg[kCs].selector, 0x08);
  EXPECT_TRUE(s.seg[kCs].db());
}

std::vector<uint8_t> RingLoopGuest() {
  std::vector<uint8_t> code = kvm_test::ReadGuest("ring3_loop");
  // mov edx, 0x700; out dx, eax; shr rax, 32; out dx, eax; hlt (#GP at CPL 3).
  const uint8_t epilogue[] = {0xba, 0x00, 0x07, 0x00, 0x00, 0xef, 0x48,
                              0xc1, 0xe8, 0x20, 0xef, 0xf4};
  code.insert(code.end(), std::begin(epilogue), std::end(epilogue));
  return code;
}

TEST(KvmGuest, LongModeRing3ComputeLoop) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board;
  RecordingTarget port;
  ASSERT_TRUE(board.pio().Register(kTestPort, 4, &port, "test").has_value());
  kvm_test::BuildLongModeTables(board.memory());
  board.Load(LongMode::kCode, RingLoopGuest());
  auto vcpu = MakeVcpu(board.env());
  ASSERT_NE(vcpu, nullptr);
  CpuState entry = kvm_test::LongModeState(LongMode::kCode, 3);
  constexpr uint64_t kIterations = 3'000'000;
  entry.gpr[kRdi] = kIterations;
  ASSERT_TRUE(vcpu->SetState(entry).has_value());

  RunResult r = vcpu->Run(board.clock().now_ns() + 30 * kSecond);
  ASSERT_EQ(r.reason, StopReason::kHalt) << r.message;
  std::vector<uint64_t> writes = port.writes();
  ASSERT_EQ(writes.size(), 2u);
  EXPECT_EQ(writes[0] | (writes[1] << 32), kvm_test::RingLoopChecksum(kIterations));
  // HLT at CPL 3 raised #GP(0): the vector-13 stub at ring 0 halted.
  CpuState s;
  ASSERT_TRUE(vcpu->GetState(s).has_value());
  EXPECT_EQ(s.rip, LongMode::kStubs + 13 + 1);
  EXPECT_EQ(s.cpl(), 0);
  EXPECT_TRUE(s.long_mode_active());
  EXPECT_GT(vcpu->instructions_retired(), 0u);
}

TEST(KvmGuest, SseAtRing0ReportsTheInstructionOrRuns) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board;
  kvm_test::BuildLongModeTables(board.memory());
  const uint8_t code[] = {0x66, 0x0f, 0xef, 0xc9, 0xf4};  // pxor xmm1, xmm1; hlt
  board.Load(LongMode::kCode, code);
  auto vcpu = MakeVcpu(board.env());
  ASSERT_NE(vcpu, nullptr);
  CpuState entry = kvm_test::LongModeState(LongMode::kCode, 0);
  entry.xmm[1] = Xmm{0x1111, 0x2222};
  ASSERT_TRUE(vcpu->SetState(entry).has_value());

  RunResult r = vcpu->Run(board.clock().now_ns() + 10 * kSecond);
  if (r.reason == StopReason::kError) {
    // Hosts whose KVM emulates ring 0 in software (ours): it cannot emulate
    // SSE, and the report must say exactly what and where.
    for (const char* part : {"KVM_EXIT_INTERNAL_ERROR", "pxor xmm1, xmm1", "66 0f ef c9",
                             "64-bit code, CPL 0"}) {
      EXPECT_NE(r.message.find(part), std::string::npos) << "missing '" << part << "' in\n"
                                                         << r.message;
    }
    std::printf("SSE at ring 0 (expected on a software KVM):\n%s\n", r.message.c_str());
  } else {
    // Real VMX/SVM: the instruction just runs.
    ASSERT_EQ(r.reason, StopReason::kHalt) << r.message;
    CpuState s;
    ASSERT_TRUE(vcpu->GetState(s).has_value());
    EXPECT_EQ(s.xmm[1], Xmm{});
  }
}

TEST(KvmGuest, Ring3SseStateMovesBothWays) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board;
  RecordingTarget port;
  ASSERT_TRUE(board.pio().Register(kTestPort, 4, &port, "test").has_value());
  kvm_test::BuildLongModeTables(board.memory());
  const uint8_t code[] = {
      0x66, 0x48, 0x0f, 0x7e, 0xc8,  // movq rax, xmm1   (SetState's value)
      0x66, 0xba, 0x00, 0x07,        // mov dx, 0x700
      0xef,                          // out dx, eax
      0x66, 0x48, 0x0f, 0x6e, 0xc3,  // movq xmm0, rbx
      0x66, 0x0f, 0xd4, 0xc0,        // paddq xmm0, xmm0
      0xee,                          // out dx, al
      0xf4,                          // hlt: #GP at CPL 3
  };
  board.Load(LongMode::kCode, code);
  auto vcpu = MakeVcpu(board.env());
  ASSERT_NE(vcpu, nullptr);
  CpuState entry = kvm_test::LongModeState(LongMode::kCode, 3);
  entry.xmm[1] = Xmm{0x5555aaaa, 0};
  entry.gpr[kRbx] = 0x1234;
  ASSERT_TRUE(vcpu->SetState(entry).has_value());
  RunResult r = vcpu->Run(board.clock().now_ns() + 10 * kSecond);
  ASSERT_EQ(r.reason, StopReason::kHalt) << r.message;
  ASSERT_FALSE(port.writes().empty());
  if (vcpu->host_limits().fpu_drops_mxcsr) {
    // Known host bug (see KvmHostLimits::fpu_drops_mxcsr): KVM_SET_FPU never
    // reaches the guest. Note it rather than hide it.
    std::printf("this KVM ignores KVM_SET_FPU: the guest read XMM1 = %#llx, not 0x5555aaaa\n",
                static_cast<unsigned long long>(port.writes()[0]));
  } else {
    EXPECT_EQ(port.writes()[0], 0x5555aaaau) << "XMM1 from SetState reached the guest";
  }
  CpuState s;
  ASSERT_TRUE(vcpu->GetState(s).has_value());
  EXPECT_EQ(s.xmm[0].lo, 0x2468u) << "XMM0 written by the guest reached GetState";
}

// MXCSR written by the guest itself (LDMXCSR at ring 3, which runs natively
// even on a KVM that emulates ring 0) must reach GetState, or the engine must
// say it cannot (KvmHostLimits::mxcsr_unreadable) so the hybrid never hands
// a stale MXCSR to the interpreter.
TEST(KvmGuest, Ring3MxcsrReachesGetStateOrIsReportedUnreadable) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board;
  RecordingTarget port;
  ASSERT_TRUE(board.pio().Register(kTestPort, 4, &port, "test").has_value());
  kvm_test::BuildLongModeTables(board.memory());
  const uint8_t code[] = {
      0xb8, 0x80, 0x7f, 0x00, 0x00,  // mov eax, 0x7f80 (RC = toward zero)
      0x50,                          // push rax
      0x0f, 0xae, 0x14, 0x24,        // ldmxcsr [rsp]
      0x0f, 0xae, 0x1c, 0x24,        // stmxcsr [rsp]
      0x58,                          // pop rax
      0x66, 0xba, 0x00, 0x07,        // mov dx, 0x700
      0xef,                          // out dx, eax (what the guest reads back)
      0xf4,                          // hlt: #GP at CPL 3
  };
  board.Load(LongMode::kCode, code);
  auto vcpu = MakeVcpu(board.env());
  ASSERT_NE(vcpu, nullptr);
  ASSERT_TRUE(vcpu->SetState(kvm_test::LongModeState(LongMode::kCode, 3)).has_value());
  RunResult r = vcpu->Run(board.clock().now_ns() + 10 * kSecond);
  ASSERT_EQ(r.reason, StopReason::kHalt) << r.message;
  ASSERT_FALSE(port.writes().empty());
  EXPECT_EQ(port.writes()[0], 0x7f80u);
  CpuState s;
  ASSERT_TRUE(vcpu->GetState(s).has_value());
  if (vcpu->host_limits().fpu_drops_mxcsr) {
    // This KVM cannot report the guest's MXCSR: a state with SSE enabled
    // must never be given to it by an engine that wants it back exactly.
    std::printf("this KVM hides the guest's MXCSR (GetState: %#x, the guest wrote 0x7f80)\n",
                s.mxcsr);
    CpuState sse_on = s;
    sse_on.cr4 |= cr4::kOsfxsr;
    EXPECT_NE(vcpu->LostChanges(s, sse_on).find("MXCSR"), std::string::npos)
        << vcpu->LostChanges(s, sse_on);
    CpuState sse_off = s;
    sse_off.cr4 &= ~cr4::kOsfxsr;
    EXPECT_EQ(vcpu->LostChanges(sse_off, sse_off), "");
  } else {
    EXPECT_EQ(s.mxcsr, 0x7f80u) << "the guest's LDMXCSR reached GetState";
  }
}

// A platform that owns IA32_APIC_BASE and the x2APIC TPR, and the CR8 TPR.
class FakePlatform : public CpuPlatform {
 public:
  MsrAccess ReadMsr(uint32_t index, uint64_t& value) override {
    if (index != 0x1b) return MsrAccess::kNotMine;
    value = 0xfee00900;
    return MsrAccess::kOk;
  }
  MsrAccess WriteMsr(uint32_t index, uint64_t value) override {
    if (index < 0x800 || index > 0x8ff) return MsrAccess::kNotMine;
    writes.push_back({index, value});
    return MsrAccess::kOk;
  }
  uint8_t GetTaskPriority() override { return tpr; }
  void SetTaskPriority(uint8_t value) override { tpr = value; }
  std::vector<std::pair<uint32_t, uint64_t>> writes;
  uint8_t tpr = 9;
};

TEST(KvmGuest, ApicMsrsAndCr8ReachThePlatform) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board;
  RecordingTarget port;
  FakePlatform platform;
  ASSERT_TRUE(board.pio().Register(kTestPort, 4, &port, "test").has_value());
  kvm_test::BuildLongModeTables(board.memory());
  board.Load(LongMode::kCode, kvm_test::ReadGuest("ring0_platform"));
  auto vcpu = MakeVcpu(board.env(nullptr, &platform));
  ASSERT_NE(vcpu, nullptr);
  ASSERT_TRUE(vcpu->SetState(kvm_test::LongModeState(LongMode::kCode, 0)).has_value());

  RunResult r = vcpu->Run(board.clock().now_ns() + 10 * kSecond);
  ASSERT_EQ(r.reason, StopReason::kHalt) << r.message;
  std::vector<uint64_t> writes = port.writes();
  ASSERT_EQ(writes.size(), 4u);
  EXPECT_EQ(writes[0], 0xfee00900u);  // RDMSR IA32_APIC_BASE, EAX
  EXPECT_EQ(writes[1], 0u);           // EDX
  EXPECT_EQ(writes[2], 9u);           // MOV from CR8 = the platform's TPR
  std::vector<std::pair<uint32_t, uint64_t>> msr_writes = {{0x808, 0x20}};
  EXPECT_EQ(platform.writes, msr_writes);
  EXPECT_EQ(platform.tpr, 5) << "MOV to CR8 must reach the platform";
  CpuState s;
  ASSERT_TRUE(vcpu->GetState(s).has_value());
  EXPECT_EQ(s.rip, LongMode::kStubs + 13 + 1) << "an unknown MSR must raise #GP";
  EXPECT_EQ(s.cr8, 5u);
  EXPECT_GE(vcpu->stats().msr_exits, 3u);
}

TEST(KvmRun, KickFromAnotherThreadStopsRun) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board;
  kvm_test::BuildLongModeTables(board.memory());
  const uint8_t spin[] = {0xeb, 0xfe};  // jmp $ at CPL 3: never exits on its own.
  board.Load(LongMode::kCode, spin);
  auto vcpu = MakeVcpu(board.env());
  ASSERT_NE(vcpu, nullptr);
  ASSERT_TRUE(vcpu->SetState(kvm_test::LongModeState(LongMode::kCode, 3)).has_value());

  // A kick before Run() is not lost.
  vcpu->Kick();
  EXPECT_EQ(vcpu->Run(VirtualClock::kNever).reason, StopReason::kKicked);

  using Clock = std::chrono::steady_clock;
  Clock::time_point kicked_at;
  std::thread kicker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    kicked_at = Clock::now();
    vcpu->Kick();
  });
  RunResult r = vcpu->Run(VirtualClock::kNever);
  Clock::time_point returned_at = Clock::now();
  kicker.join();
  EXPECT_EQ(r.reason, StopReason::kKicked) << r.message;
  auto latency = std::chrono::duration_cast<std::chrono::microseconds>(returned_at - kicked_at);
  std::printf("Kick() to Run() return: %lld us\n", static_cast<long long>(latency.count()));
  EXPECT_LT(latency.count(), 100'000);
  CpuState s;
  ASSERT_TRUE(vcpu->GetState(s).has_value());
  EXPECT_EQ(s.rip, LongMode::kCode) << "still spinning on the jmp";
}

TEST(KvmRun, DeadlineStopsRun) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board;
  kvm_test::BuildLongModeTables(board.memory());
  const uint8_t spin[] = {0xeb, 0xfe};
  board.Load(LongMode::kCode, spin);
  auto vcpu = MakeVcpu(board.env());
  ASSERT_NE(vcpu, nullptr);
  ASSERT_TRUE(vcpu->SetState(kvm_test::LongModeState(LongMode::kCode, 3)).has_value());
  uint64_t start = board.clock().now_ns();
  RunResult r = vcpu->Run(start + 20'000'000);
  uint64_t end = board.clock().now_ns();
  EXPECT_EQ(r.reason, StopReason::kDeadline) << r.message;
  EXPECT_GE(end - start, 20'000'000u);
  EXPECT_LT(end - start, 500'000'000u);
}

TEST(KvmRun, DeterministicClockIsCreditedWithGuestTime) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board(16ull << 20, VirtualClock::Mode::kDeterministic);
  kvm_test::BuildLongModeTables(board.memory());
  const uint8_t spin[] = {0xeb, 0xfe};
  board.Load(LongMode::kCode, spin);
  auto vcpu = MakeVcpu(board.env());
  ASSERT_NE(vcpu, nullptr);
  ASSERT_TRUE(vcpu->SetState(kvm_test::LongModeState(LongMode::kCode, 3)).has_value());
  RunResult r = vcpu->Run(10'000'000);
  EXPECT_EQ(r.reason, StopReason::kDeadline) << r.message;
  EXPECT_GE(board.clock().now_ns(), 10'000'000u);
  EXPECT_GE(vcpu->instructions_retired(), 10'000'000u);
}

// An interrupt controller the test drives by hand.
class FakeIrq : public InterruptController {
 public:
  bool HasInterrupt() override { return vector >= 0; }
  uint8_t AcknowledgeInterrupt() override {
    uint8_t v = static_cast<uint8_t>(vector);
    vector = -1;
    return v;
  }
  bool TakeNmi() override { return std::exchange(nmi, false); }
  int vector = -1;
  bool nmi = false;
};

TEST(KvmGuest, NmiWakesAHaltAndTheBiosShadowCanBeReadOnly) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board;
  RecordingTarget port;
  FakeIrq irq;
  ASSERT_TRUE(board.pio().Register(kTestPort, 4, &port, "test").has_value());
  board.Load(0x1000, kvm_test::ReadGuest("nmi_wake"));
  *board.memory().HostRange(0xc0000, 1) = 0xab;
  auto vcpu = MakeVcpu(board.env(&irq));
  ASSERT_NE(vcpu, nullptr);
  board.memory().SetBiosShadowReadOnly(true);  // After creation: Run() re-maps.
  ASSERT_TRUE(vcpu->SetState(kvm_test::RealModeState(0x1000)).has_value());

  RunResult r = vcpu->Run(board.clock().now_ns() + 10 * kSecond);
  ASSERT_EQ(r.reason, StopReason::kHalt) << r.message;
  EXPECT_EQ(port.writes(), std::vector<uint64_t>{0xab});
  // Halted with IF clear and nothing pending: stays halted.
  r = vcpu->Run(board.clock().now_ns() + 10 * kSecond);
  EXPECT_EQ(r.reason, StopReason::kHalt);
  irq.nmi = true;
  r = vcpu->Run(board.clock().now_ns() + 10 * kSecond);
  ASSERT_EQ(r.reason, StopReason::kHalt) << r.message;
  EXPECT_EQ(port.writes(), (std::vector<uint64_t>{0xab, 'N', 'W'}));
  EXPECT_EQ(vcpu->stats().nmis_injected, 1u);
}

TEST(KvmGuest, TripleFaultIsShutdown) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board;
  kvm_test::BuildLongModeTables(board.memory());
  const uint8_t ud2[] = {0x0f, 0x0b};
  board.Load(LongMode::kCode, ud2);
  auto vcpu = MakeVcpu(board.env());
  ASSERT_NE(vcpu, nullptr);
  // With an empty IDT neither the #UD, nor the #GP it causes, nor the #DF
  // can be delivered: a triple fault (SDM Vol. 3 6.15, "Interrupt 8").
  CpuState entry = kvm_test::LongModeState(LongMode::kCode, 0);
  entry.idtr.limit = 0;
  ASSERT_TRUE(vcpu->SetState(entry).has_value());
  RunResult r = vcpu->Run(board.clock().now_ns() + 10 * kSecond);
  EXPECT_EQ(r.reason, StopReason::kShutdown) << r.message;
}

TEST(KvmGuest, TscFollowsTheStateOffset) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board;
  RecordingTarget port;
  ASSERT_TRUE(board.pio().Register(kTestPort, 4, &port, "test").has_value());
  kvm_test::BuildLongModeTables(board.memory());
  board.Load(LongMode::kCode, kvm_test::ReadGuest("rdtsc_ring3"));
  auto vcpu = MakeVcpu(board.env());
  ASSERT_NE(vcpu, nullptr);
  CpuState entry = kvm_test::LongModeState(LongMode::kCode, 3);
  entry.msr.tsc_offset = 1ull << 50;
  uint64_t before = board.clock().now_ns();
  ASSERT_TRUE(vcpu->SetState(entry).has_value());
  RunResult r = vcpu->Run(board.clock().now_ns() + 10 * kSecond);
  uint64_t after = board.clock().now_ns();
  ASSERT_EQ(r.reason, StopReason::kHalt) << r.message;
  std::vector<uint64_t> w = port.writes();
  ASSERT_EQ(w.size(), 2u);
  uint64_t tsc = w[0] | (w[1] << 32);
  const KvmHostLimits& limits = vcpu->host_limits();
  if (std::find(limits.refused_msrs.begin(), limits.refused_msrs.end(), kMsrTsc) !=
      limits.refused_msrs.end()) {
    std::printf("this KVM refuses IA32_TSC: the guest read TSC %#llx, not about 2^50\n",
                static_cast<unsigned long long>(tsc));
    return;
  }
  // TSC = virtual ns + offset at SetState, then advancing at the guest TSC
  // rate (tsc_khz; 1 GHz when KVM scales it).
  double ratio = limits.tsc_khz ? limits.tsc_khz / 1e6 : 1.0;
  EXPECT_GE(tsc, before + entry.msr.tsc_offset);
  EXPECT_LE(tsc, after + entry.msr.tsc_offset +
                     static_cast<uint64_t>(static_cast<double>(after - before) * ratio) + 1000);
}

// --- Guests on the PC board ---------------------------------------------------

class StringSink : public SerialSink, public DebugConSink {
 public:
  void Write(uint8_t byte) override { text.push_back(static_cast<char>(byte)); }
  void Put(uint8_t byte) override { text.push_back(static_cast<char>(byte)); }
  std::string text;
};

struct PcBoard {
  explicit PcBoard(StringSink* com1, StringSink* debugcon) {
    PcConfig config;
    config.memory_bytes = 16ull << 20;
    config.clock_mode = VirtualClock::Mode::kRealTime;
    config.com1_sink = com1;
    config.debugcon_sink = debugcon;
    config.exit_port = 0xf4;
    machine = std::move(PcMachine::Create(config).value());
    platform = std::make_unique<PcCpuPlatform>(*machine);
  }
  void Load(uint64_t gpa, const std::vector<uint8_t>& bytes) {
    std::memcpy(machine->memory().HostRange(gpa, bytes.size()), bytes.data(), bytes.size());
  }
  std::unique_ptr<PcMachine> machine;
  std::unique_ptr<PcCpuPlatform> platform;
};

TEST(KvmPc, PitInterruptsThroughTheSharedPic) {
  X86VM_SKIP_WITHOUT_KVM();
  StringSink debugcon;
  PcBoard pc(nullptr, &debugcon);
  pc.Load(0x1000, kvm_test::ReadGuest("pit_irq"));
  auto vcpu = MakeVcpu(MakeCpuEnvironment(*pc.machine, pc.platform.get()));
  ASSERT_NE(vcpu, nullptr);
  ASSERT_TRUE(vcpu->SetState(kvm_test::RealModeState(0x1000)).has_value());

  RunOutcome out = RunMachine(*pc.machine, *vcpu, {});
  EXPECT_EQ(out.exit_status, 1) << out.message;
  ASSERT_EQ(debugcon.text.size(), 1u);
  EXPECT_EQ(debugcon.text[0], 10) << "ten IRQ0s counted";
  EXPECT_GE(vcpu->stats().interrupts_injected, 10u);
  EXPECT_GE(vcpu->stats().hlt_exits, 10u);
}

TEST(KvmPc, UartOutputThroughTheShared16550) {
  X86VM_SKIP_WITHOUT_KVM();
  StringSink com1;
  PcBoard pc(&com1, nullptr);
  pc.Load(0x1000, kvm_test::ReadGuest("uart_hello"));
  auto vcpu = MakeVcpu(MakeCpuEnvironment(*pc.machine, pc.platform.get()));
  ASSERT_NE(vcpu, nullptr);
  ASSERT_TRUE(vcpu->SetState(kvm_test::RealModeState(0x1000)).has_value());

  RunOutcome out = RunMachine(*pc.machine, *vcpu, {});
  EXPECT_EQ(out.exit_status, 3) << out.message;
  EXPECT_EQ(com1.text, "Hello from KVM\r\n");
}

TEST(KvmPc, KeyboardControllerResetStopsRun) {
  X86VM_SKIP_WITHOUT_KVM();
  PcBoard pc(nullptr, nullptr);
  pc.Load(0x1000, {0xb0, 0xfe, 0xe6, 0x64, 0xf4});  // mov al, 0xfe; out 0x64, al; hlt
  auto vcpu = MakeVcpu(MakeCpuEnvironment(*pc.machine, pc.platform.get()));
  ASSERT_NE(vcpu, nullptr);
  ASSERT_TRUE(vcpu->SetState(kvm_test::RealModeState(0x1000)).has_value());
  RunResult r = vcpu->Run(pc.machine->clock().now_ns() + 10 * kSecond);
  EXPECT_EQ(r.reason, StopReason::kReset) << r.message;
  EXPECT_TRUE(pc.machine->requests().reset);
  CpuState s;
  ASSERT_TRUE(vcpu->GetState(s).has_value());
  EXPECT_EQ(s.rip, 0x1004u) << "the OUT completed before Run returned";
}

// --- State round trip -----------------------------------------------------------

// Sign-extends bit 47 (a canonical 48-bit address).
uint64_t Canonical(uint64_t v) {
  return static_cast<uint64_t>(static_cast<int64_t>(v << 16) >> 16);
}

// A random state KVM must accept: 64-bit mode, control-register bits our
// CPUID model allows, valid MSR values, events KVM can express. Physical
// addresses stay below 2^36: KVM's MAXPHYADDR when it took no CPUID (it then
// rejects a CR3 above it).
CpuState RandomState(std::mt19937_64& rng) {
  auto bit = [&](uint64_t mask) { return (rng() & 1) ? mask : 0; };
  CpuState s = kvm_test::LongModeState(0, 0);
  for (uint64_t& g : s.gpr) g = rng();
  s.rip = Canonical(rng());
  s.rflags = flags::kFixed1 | (rng() & (flags::kStatus | flags::kTf | flags::kIf | flags::kDf |
                                        flags::kIopl | flags::kNt | flags::kRf | flags::kAc |
                                        flags::kId));
  for (int i : {kEs, kSs, kDs, kFs, kGs}) {
    Segment& sg = s.seg[static_cast<size_t>(i)];
    sg.selector = static_cast<uint16_t>(rng());
    sg.base = (i == kFs || i == kGs) ? Canonical(rng()) : (rng() & 0xffffffff);
    sg.limit = static_cast<uint32_t>(rng());
    sg.attr = static_cast<uint32_t>(rng() & 7) | seg_attr::kS | seg_attr::kP |
              static_cast<uint32_t>(rng() & seg_attr::kDplMask) | bit(seg_attr::kAvl) |
              bit(seg_attr::kDb) | bit(seg_attr::kG);
    if (i != kSs && rng() % 4 == 0) sg.attr |= seg_attr::kUnusable;
  }
  s.seg[kCs].selector = static_cast<uint16_t>(rng() & 0xfffc);
  s.seg[kCs].attr |= bit(seg_attr::kAccessed) | bit(seg_attr::kAvl);
  s.seg[kTr].base = Canonical(rng());
  s.seg[kTr].limit = 0x67 + static_cast<uint32_t>(rng() & 0xffff);
  s.seg[kTr].selector = static_cast<uint16_t>(rng() & 0xfff8);
  if (rng() & 1) s.seg[kLdtr] = Segment{static_cast<uint16_t>(rng() & 0xfff8), Canonical(rng()),
                                        static_cast<uint32_t>(rng() & 0xfffff), 0x2 | seg_attr::kP};
  s.gdtr = DescriptorTable{Canonical(rng()), static_cast<uint16_t>(rng())};
  s.idtr = DescriptorTable{Canonical(rng()), static_cast<uint16_t>(rng())};
  s.cr0 |= bit(cr0::kMp) | bit(cr0::kTs) | bit(cr0::kAm);
  s.cr0 &= ~(bit(cr0::kWp));
  s.cr2 = rng();
  s.cr3 = rng() & 0xffffff000ull;
  s.cr4 |= bit(cr4::kTsd) | bit(cr4::kPse) | bit(cr4::kMce) | bit(cr4::kPge) | bit(cr4::kPce);
  s.cr8 = rng() & 0xf;
  s.efer |= bit(efer::kNxe);
  s.efer &= ~bit(efer::kSce);
  for (uint64_t& d : s.dr) d = rng();
  s.dr6 = 0xffff0ff0 | (rng() & 0xe00f);
  s.dr7 = 0x400 | (rng() & 0xffff23ff);
  s.x87.fcw = static_cast<uint16_t>(rng());
  s.x87.fsw = static_cast<uint16_t>(rng());
  for (X87Register& r : s.x87.st) {
    for (uint8_t& b : r) b = static_cast<uint8_t>(rng());
  }
  s.x87.ftw = ExpandTagWord(static_cast<uint8_t>(rng()), s.x87.st);
  s.x87.fop = static_cast<uint16_t>(rng() & 0x7ff);
  s.x87.fip = rng();
  s.x87.fdp = rng();
  s.mxcsr = static_cast<uint32_t>(rng() & 0xffff);
  for (Xmm& x : s.xmm) x = Xmm{rng(), rng()};
  MsrState& m = s.msr;
  m.star = rng();
  m.lstar = Canonical(rng());
  m.cstar = Canonical(rng());
  m.sfmask = rng() & 0xffffffff;
  m.kernel_gs_base = Canonical(rng());
  m.sysenter_cs = rng() & 0xffff;
  m.sysenter_esp = Canonical(rng());
  m.sysenter_eip = Canonical(rng());
  m.tsc_offset = rng() & ((1ull << 40) - 1);
  m.tsc_aux = rng() & 0xffffffff;
  static constexpr uint8_t kMemTypes[] = {0, 1, 4, 5, 6, 7};
  m.pat = 0;
  for (int i = 0; i < 8; ++i) m.pat |= uint64_t{kMemTypes[rng() % 6]} << (8 * i);
  m.mtrr_def_type = (rng() & 1 ? 6 : 0) | (rng() & 0xc00);
  for (uint64_t& f : m.mtrr_fixed) {
    f = 0;
    for (int i = 0; i < 8; ++i) f |= uint64_t{kMemTypes[rng() % 5]} << (8 * i);
  }
  for (size_t i = 0; i < 16; i += 2) {
    m.mtrr_var[i] = (rng() & 0xffffff000ull) | (rng() & 1 ? 6 : 0);
    m.mtrr_var[i + 1] = (rng() & 0xffffff000ull) | (rng() & 0x800);
  }
  m.mcg_status = rng() & 7;
  PendingEvents& e = s.events;
  switch (rng() % 4) {
    case 0:
      e.exception_pending = true;
      e.exception_vector = 14;
      e.exception_has_error_code = true;
      e.exception_error_code = static_cast<uint32_t>(rng() & 0x1f);
      break;
    case 1:
      e.exception_pending = true;
      e.exception_vector = static_cast<uint8_t>(32 + rng() % 224);  // An acknowledged IRQ.
      break;
    default:
      break;
  }
  e.nmi_pending = rng() & 1;
  e.nmi_blocked = rng() & 1;
  e.interrupt_shadow = rng() & 1;
  s.halted = rng() & 1;
  return s;
}

// Field-by-field differences, with what KVM legitimately normalizes masked:
// - an unusable segment keeps only the unusable bit of its attributes (VMX
//   stores AR = 0x10000 for it, SDM Vol. 3 25.4.1);
// - FCS/FDS read back 0 (KVM's FXSAVE64 layout has no room for them);
// - the TSC offset moves with the guest TSC's rate between set and get (a
//   TSC not scaled to 1 GHz), so it is compared within 50 ms.
std::vector<std::string> Differences(const CpuState& want, const CpuState& got) {
  std::vector<std::string> out;
  auto check = [&](const char* name, uint64_t a, uint64_t b) {
    if (a != b) out.push_back(fmt::format("{}: want {:#x} got {:#x}", name, a, b));
  };
  for (size_t i = 0; i < 16; ++i) check(fmt::format("gpr[{}]", i).c_str(), want.gpr[i], got.gpr[i]);
  check("rip", want.rip, got.rip);
  check("rflags", want.rflags, got.rflags);
  static constexpr const char* kSegs[] = {"es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr"};
  for (size_t i = 0; i < 8; ++i) {
    const Segment &a = want.seg[i], &b = got.seg[i];
    std::string n = kSegs[i];
    check((n + ".selector").c_str(), a.selector, b.selector);
    check((n + ".base").c_str(), a.base, b.base);
    check((n + ".limit").c_str(), a.limit, b.limit);
    uint32_t mask = a.unusable() ? seg_attr::kUnusable : ~0u;
    check((n + ".attr").c_str(), a.attr & mask, b.attr & mask);
  }
  check("gdtr.base", want.gdtr.base, got.gdtr.base);
  check("gdtr.limit", want.gdtr.limit, got.gdtr.limit);
  check("idtr.base", want.idtr.base, got.idtr.base);
  check("idtr.limit", want.idtr.limit, got.idtr.limit);
  check("cr0", want.cr0, got.cr0);
  check("cr2", want.cr2, got.cr2);
  check("cr3", want.cr3, got.cr3);
  check("cr4", want.cr4, got.cr4);
  check("cr8", want.cr8, got.cr8);
  check("efer", want.efer, got.efer);
  check("xcr0", want.xcr0, got.xcr0);
  for (size_t i = 0; i < 4; ++i) check(fmt::format("dr{}", i).c_str(), want.dr[i], got.dr[i]);
  check("dr6", want.dr6, got.dr6);
  check("dr7", want.dr7, got.dr7);
  check("fcw", want.x87.fcw, got.x87.fcw);
  check("fsw", want.x87.fsw, got.x87.fsw);
  check("ftw", want.x87.ftw, got.x87.ftw);
  check("fop", want.x87.fop, got.x87.fop);
  check("fip", want.x87.fip, got.x87.fip);
  check("fdp", want.x87.fdp, got.x87.fdp);
  for (size_t i = 0; i < 8; ++i) {
    if (want.x87.st[i] != got.x87.st[i]) out.push_back(fmt::format("st R{}", i));
  }
  check("mxcsr", want.mxcsr, got.mxcsr);
  for (size_t i = 0; i < 16; ++i) {
    check(fmt::format("xmm{}.lo", i).c_str(), want.xmm[i].lo, got.xmm[i].lo);
    check(fmt::format("xmm{}.hi", i).c_str(), want.xmm[i].hi, got.xmm[i].hi);
  }
  MsrState wm = want.msr, gm = got.msr;
  int64_t tsc_drift = static_cast<int64_t>(gm.tsc_offset - wm.tsc_offset);
  if (tsc_drift < -50'000'000 || tsc_drift > 50'000'000) {
    out.push_back(fmt::format("tsc_offset: want {:#x} got {:#x}", wm.tsc_offset, gm.tsc_offset));
  }
  for (uint32_t index : StateMsrIndices()) {
    uint64_t* a = MsrStateField(wm, index);
    uint64_t* b = MsrStateField(gm, index);
    if (a != nullptr) check(MsrName(index).c_str(), *a, *b);
  }
  const PendingEvents &we = want.events, &ge = got.events;
  check("exception_pending", we.exception_pending, ge.exception_pending);
  check("exception_vector", we.exception_vector, ge.exception_vector);
  check("exception_has_error_code", we.exception_has_error_code, ge.exception_has_error_code);
  check("exception_error_code", we.exception_error_code, ge.exception_error_code);
  check("nmi_pending", we.nmi_pending, ge.nmi_pending);
  check("nmi_blocked", we.nmi_blocked, ge.nmi_blocked);
  check("interrupt_shadow", we.interrupt_shadow, ge.interrupt_shadow);
  check("halted", want.halted, got.halted);
  return out;
}

TEST(KvmState, RandomizedRoundTrip) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board;
  auto vcpu = MakeVcpu(board.env());
  ASSERT_NE(vcpu, nullptr);
  std::mt19937_64 rng(20240601);
  for (int iteration = 0; iteration < 200; ++iteration) {
    SCOPED_TRACE(iteration);
    CpuState want = RandomState(rng);
    auto set = vcpu->SetState(want);
    ASSERT_TRUE(set.has_value()) << set.error().message;
    CpuState got;
    ASSERT_TRUE(vcpu->GetState(got).has_value());
    std::vector<std::string> diffs = Differences(want, got);
    EXPECT_TRUE(diffs.empty()) << fmt::format("{}", fmt::join(diffs, "\n"));
    if (!diffs.empty()) break;
  }
}

TEST(KvmState, RealModeResetStateRoundTrips) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board;
  auto vcpu = MakeVcpu(board.env());
  ASSERT_NE(vcpu, nullptr);
  CpuState want;
  want.Reset();
  ASSERT_TRUE(vcpu->SetState(want).has_value());
  CpuState got;
  ASSERT_TRUE(vcpu->GetState(got).has_value());
  std::vector<std::string> diffs = Differences(want, got);
  EXPECT_TRUE(diffs.empty()) << fmt::format("{}", fmt::join(diffs, "\n"));
}

TEST(KvmState, HostLimitsAreReported) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board;
  auto vcpu = MakeVcpu(board.env());
  ASSERT_NE(vcpu, nullptr);
  const KvmHostLimits& l = vcpu->host_limits();
  std::string refused;
  for (uint32_t index : l.refused_msrs) refused += MsrName(index) + " ";
  std::printf("KVM host: supported_cpuid=%d guest_cpuid=%d xsave=%d fpu_drops_mxcsr=%d "
              "tsc_khz=%u tsc_scaled=%d\nrefused MSRs: %s\n",
              l.supported_cpuid, l.guest_cpuid, l.xsave, l.fpu_drops_mxcsr, l.tsc_khz, l.tsc_scaled,
              refused.empty() ? "(none)" : refused.c_str());
  SUCCEED();
}

}  // namespace
}  // namespace x86vm
