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
    EXPECT_STREQ(choice->vcpu->engine_name(), "kvm");
  }
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
