// Measurements of the KVM engine, printed for the record: the cost of a
// GetState+SetState pair, the KVM_RUN exit round trip (a ring-3 OUT loop),
// and a ring-3 compute loop against the same bytes run natively here. They
// assert only correctness, never speed (hosts differ too much).
#include <sys/mman.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>

#include "accel/kvm/kvm_test_util.h"
#include "accel/kvm/kvm_vcpu.h"

namespace x86vm {
namespace {

using kvm_test::LongMode;
using kvm_test::MiniBoard;
using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Counts OUTs without keeping them.
class CountingTarget : public BusTarget {
 public:
  void Read(uint64_t, std::span<uint8_t> data) override {
    std::memset(data.data(), 0, data.size());
  }
  void Write(uint64_t, std::span<const uint8_t>) override { ++writes; }
  uint64_t writes = 0;
};

TEST(KvmSpeed, StateTransfer) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board;
  auto vcpu = std::move(KvmVcpu::Create(board.env()).value());
  CpuState s = kvm_test::LongModeState(LongMode::kCode, 3);
  ASSERT_TRUE(vcpu->SetState(s).has_value());
  constexpr int kRounds = 2000;
  auto t = Clock::now();
  for (int i = 0; i < kRounds; ++i) {
    ASSERT_TRUE(vcpu->GetState(s).has_value());
    ASSERT_TRUE(vcpu->SetState(s).has_value());
  }
  double us = SecondsSince(t) * 1e6 / kRounds;
  t = Clock::now();
  for (int i = 0; i < kRounds; ++i) ASSERT_TRUE(vcpu->GetState(s).has_value());
  double get_us = SecondsSince(t) * 1e6 / kRounds;
  std::printf("GetState+SetState: %.1f us (GetState alone %.1f us)\n", us, get_us);
}

TEST(KvmSpeed, ExitRoundTrip) {
  X86VM_SKIP_WITHOUT_KVM();
  MiniBoard board;
  CountingTarget port;
  ASSERT_TRUE(board.pio().Register(0x700, 1, &port, "count").has_value());
  kvm_test::BuildLongModeTables(board.memory());
  // mov edx, 0x700; 1: out dx, al; jmp 1b   (CPL 3, IOPL 3: no ring-0 code)
  const uint8_t code[] = {0xba, 0x00, 0x07, 0x00, 0x00, 0xee, 0xeb, 0xfd};
  board.Load(LongMode::kCode, code);
  auto vcpu = std::move(KvmVcpu::Create(board.env()).value());
  ASSERT_TRUE(vcpu->SetState(kvm_test::LongModeState(LongMode::kCode, 3)).has_value());
  auto t = Clock::now();
  RunResult r = vcpu->Run(board.clock().now_ns() + 300'000'000);
  double seconds = SecondsSince(t);
  ASSERT_EQ(r.reason, StopReason::kDeadline) << r.message;
  ASSERT_GT(port.writes, 0u);
  double exits = static_cast<double>(port.writes);
  std::printf("KVM_RUN exit round trip (ring-3 OUT to our bus): %.2f us, of which %.2f us inside "
              "KVM_RUN (%llu exits in %.0f ms)\n",
              seconds * 1e6 / exits,
              static_cast<double>(vcpu->stats().ns_in_kvm_run) / 1e3 / exits,
              static_cast<unsigned long long>(port.writes), seconds * 1e3);
}

TEST(KvmSpeed, Ring3LoopAgainstNative) {
  X86VM_SKIP_WITHOUT_KVM();
  constexpr uint64_t kIterations = 50'000'000;
  std::vector<uint8_t> loop = kvm_test::ReadGuest("ring3_loop");
  ASSERT_FALSE(loop.empty());

  // Natively: the same bytes plus RET, called as uint64_t(uint64_t) (SysV:
  // iterations in RDI, result in RAX).
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  std::memcpy(page, loop.data(), loop.size());
  static_cast<uint8_t*>(page)[loop.size()] = 0xc3;
  auto native = reinterpret_cast<uint64_t (*)(uint64_t)>(page);
  auto t = Clock::now();
  uint64_t native_sum = native(kIterations);
  double native_s = SecondsSince(t);
  munmap(page, 4096);
  ASSERT_EQ(native_sum, kvm_test::RingLoopChecksum(kIterations));

  // In the guest at CPL 3, ending in OUT OUT HLT (#GP to the ring-0 stub).
  MiniBoard board;
  kvm_test::RecordingTarget port;
  ASSERT_TRUE(board.pio().Register(0x700, 4, &port, "test").has_value());
  kvm_test::BuildLongModeTables(board.memory());
  const uint8_t epilogue[] = {0xba, 0x00, 0x07, 0x00, 0x00, 0xef, 0x48,
                              0xc1, 0xe8, 0x20, 0xef, 0xf4};
  loop.insert(loop.end(), std::begin(epilogue), std::end(epilogue));
  board.Load(LongMode::kCode, loop);
  auto vcpu = std::move(KvmVcpu::Create(board.env()).value());
  CpuState entry = kvm_test::LongModeState(LongMode::kCode, 3);
  entry.gpr[kRdi] = kIterations;
  ASSERT_TRUE(vcpu->SetState(entry).has_value());
  t = Clock::now();
  RunResult r = vcpu->Run(board.clock().now_ns() + 120'000'000'000ull);
  double guest_s = SecondsSince(t);
  ASSERT_EQ(r.reason, StopReason::kHalt) << r.message;
  std::vector<uint64_t> w = port.writes();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0] | (w[1] << 32), native_sum);
  double insns = 12.0 * kIterations;
  std::printf("ring-3 loop, %llu iterations (~%.1e instructions): native %.3f s, KVM guest %.3f s "
              "(%.2fx native)\n",
              static_cast<unsigned long long>(kIterations), insns, native_s, guest_s,
              guest_s / native_s);
}

}  // namespace
}  // namespace x86vm
