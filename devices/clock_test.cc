#include "devices/clock.h"

#include <gtest/gtest.h>

namespace x86vm {
namespace {

TEST(VirtualClock, DeterministicFollowsInstructions) {
  VirtualClock clock(VirtualClock::Mode::kDeterministic);
  EXPECT_EQ(clock.now_ns(), 0u);
  clock.AddInstructions(100);
  EXPECT_EQ(clock.now_ns(), 100u);
  clock.set_ns_per_instruction(3);
  clock.AddInstructions(10);
  EXPECT_EQ(clock.now_ns(), 130u);
  clock.AdvanceTo(50);  // Never backwards.
  EXPECT_EQ(clock.now_ns(), 130u);
  clock.AdvanceTo(1000);
  EXPECT_EQ(clock.now_ns(), 1000u);
}

TEST(VirtualClock, RealTimeFollowsHostAndPauses) {
  uint64_t host = 5000;
  VirtualClock clock(VirtualClock::Mode::kRealTime, [&] { return host; });
  EXPECT_EQ(clock.now_ns(), 0u);
  host += 700;
  EXPECT_EQ(clock.now_ns(), 700u);
  clock.Pause();
  host += 10000;
  EXPECT_EQ(clock.now_ns(), 700u);
  clock.Resume();
  host += 1;
  EXPECT_EQ(clock.now_ns(), 701u);
}

TEST(Timer, FiresInDeadlineOrderAndCanRearm) {
  VirtualClock clock(VirtualClock::Mode::kDeterministic);
  std::vector<int> fired;
  Timer* periodic_ptr = nullptr;
  Timer a(clock, [&] { fired.push_back(1); });
  Timer periodic(clock, [&] {
    fired.push_back(2);
    periodic_ptr->ArmAt(periodic_ptr->clock().now_ns() + 100);
  });
  periodic_ptr = &periodic;
  a.ArmAt(50);
  periodic.ArmAt(30);
  EXPECT_EQ(clock.next_deadline_ns(), 30u);
  clock.AdvanceTo(60);
  clock.RunDueTimers();
  EXPECT_EQ(fired, (std::vector<int>{2, 1}));
  EXPECT_FALSE(a.armed());
  EXPECT_EQ(clock.next_deadline_ns(), 160u);
  periodic.Cancel();
  EXPECT_EQ(clock.next_deadline_ns(), VirtualClock::kNever);
}

TEST(Timer, DestroyedTimerUnregisters) {
  VirtualClock clock(VirtualClock::Mode::kDeterministic);
  {
    Timer t(clock, [] {});
    t.ArmAt(10);
    EXPECT_EQ(clock.next_deadline_ns(), 10u);
  }
  EXPECT_EQ(clock.next_deadline_ns(), VirtualClock::kNever);
}

TEST(Timer, SerializeRoundTrip) {
  VirtualClock clock(VirtualClock::Mode::kDeterministic);
  Timer t(clock, [] {});
  clock.AdvanceTo(500);
  t.ArmAt(900);
  Serializer save = Serializer::ForSave();
  clock.Serialize(save);
  t.Serialize(save);

  VirtualClock clock2(VirtualClock::Mode::kDeterministic);
  Timer t2(clock2, [] {});
  Serializer load = Serializer::ForLoad(save.data());
  clock2.Serialize(load);
  t2.Serialize(load);
  ASSERT_TRUE(load.ok());
  EXPECT_EQ(clock2.now_ns(), 500u);
  EXPECT_EQ(t2.deadline_ns(), 900u);
  EXPECT_EQ(clock2.next_deadline_ns(), 900u);
}

}  // namespace
}  // namespace x86vm
