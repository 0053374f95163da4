#include "accel/policy.h"

#include <gtest/gtest.h>

#include "devices/bus.h"
#include "devices/clock.h"
#include "machine/guest_memory.h"

namespace x86vm {
namespace {

class PolicyTest : public ::testing::Test {
 protected:
  PolicyTest() : memory_(std::move(*GuestMemory::Create(1 << 20))) {
    env_.memory = memory_.get();
    env_.pio = &pio_;
    env_.mmio = &mmio_;
    env_.clock = &clock_;
  }
  std::unique_ptr<GuestMemory> memory_;
  Bus pio_{"pio"};
  Bus mmio_{"mmio"};
  VirtualClock clock_{VirtualClock::Mode::kDeterministic};
  CpuEnvironment env_;
};

TEST_F(PolicyTest, InterpNeverOpensKvm) {
  auto choice = CreateEngine("interp", env_);
  ASSERT_TRUE(choice.has_value());
  EXPECT_STREQ(choice->vcpu->engine_name(), "interp");
  EXPECT_NE(choice->interpreter, nullptr);
}

TEST_F(PolicyTest, AutoPicksTheFasterEngineForThisHost) {
  auto choice = CreateEngine("auto", env_);
  ASSERT_TRUE(choice.has_value());
  auto ips = MeasureKvmRing0Ips();
  if (!ips) {
    // No usable KVM: auto falls back to the interpreter and says why.
    EXPECT_STREQ(choice->vcpu->engine_name(), "interp");
    EXPECT_NE(choice->reason.find("KVM unusable"), std::string::npos) << choice->reason;
  } else if (*ips < kMinKvmRing0Ips) {
    // These machines: KVM emulates ring 0, so the interpreter runs.
    EXPECT_STREQ(choice->vcpu->engine_name(), "interp");
    EXPECT_NE(choice->reason.find("emulates ring-0"), std::string::npos) << choice->reason;
  } else {
    // Hardware KVM: KVM runs the guest, the interpreter takes what it cannot.
    EXPECT_STREQ(choice->vcpu->engine_name(), "hybrid");
    EXPECT_NE(choice->interpreter, nullptr);
  }
}

TEST_F(PolicyTest, HybridIsKvmWithTheInterpreterBehindIt) {
  HybridOptions options;
  options.swap_interval_ns = 3'000'000;
  auto choice = CreateEngine("hybrid", env_, options);
  if (!choice) {
    EXPECT_NE(choice.error().message.find("--accel hybrid"), std::string::npos);
    return;
  }
  EXPECT_STREQ(choice->vcpu->engine_name(), "hybrid");
  ASSERT_NE(choice->interpreter, nullptr);
  EXPECT_NE(choice->reason.find("every 3 ms"), std::string::npos) << choice->reason;
  auto& hybrid = dynamic_cast<HybridVcpu&>(*choice->vcpu);
  EXPECT_EQ(&hybrid.interpreter(), choice->interpreter);
  // A state goes in and comes back whichever engine holds it.
  CpuState in;
  in.Reset();
  in.gpr[kRbx] = 0x1234;
  in.rip = 0xfff0;
  ASSERT_TRUE(choice->vcpu->SetState(in).has_value());
  CpuState out;
  ASSERT_TRUE(choice->vcpu->GetState(out).has_value());
  EXPECT_EQ(out.gpr[kRbx], 0x1234u);
  EXPECT_EQ(out.rip, 0xfff0u);
  EXPECT_STREQ(hybrid.active_engine_name(), "kvm");
  EXPECT_EQ(hybrid.stats().handovers, 0u);
}

TEST_F(PolicyTest, KvmIsKvmOrAClearError) {
  auto choice = CreateEngine("kvm", env_);
  if (!choice) {
    EXPECT_NE(choice.error().message.find("--accel kvm"), std::string::npos);
    return;
  }
  EXPECT_STREQ(choice->vcpu->engine_name(), "kvm");
  EXPECT_EQ(choice->interpreter, nullptr);
}

}  // namespace
}  // namespace x86vm
