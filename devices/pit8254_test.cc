#include "devices/pit8254.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace x86vm {
namespace {

// Port numbers as the guest sees them.
constexpr uint64_t kCh0 = 0x40;
constexpr uint64_t kCh1 = 0x41;
constexpr uint64_t kCh2 = 0x42;
constexpr uint64_t kCtrl = 0x43;
constexpr uint64_t kPortB = 0x61;

class PitTest : public ::testing::Test {
 protected:
  PitTest()
      : clock_(VirtualClock::Mode::kDeterministic),
        pio_("pio"),
        pit_(std::make_unique<Pit8254>(clock_, &irq0_)),
        port61_(std::make_unique<Port61>(clock_, *pit_)) {
    EXPECT_TRUE(pio_.Register(Pit8254::kPortBase, Pit8254::kPortCount,
                              pit_.get(), "pit")
                    .has_value());
    EXPECT_TRUE(
        pio_.Register(Port61::kPort, 1, port61_.get(), "port61").has_value());
  }

  void Out(uint64_t port, uint8_t value) { pio_.WriteValue(port, 1, value); }
  uint8_t In(uint64_t port) {
    return static_cast<uint8_t>(pio_.ReadValue(port, 1));
  }

  // Moves virtual time to the first ns of PIT clock `tick` and runs timers,
  // as the run loop does between instructions.
  void AtTick(uint64_t tick) {
    clock_.AdvanceTo(Pit8254::NsOfTick(tick));
    clock_.RunDueTimers();
  }
  uint64_t Now() const { return Pit8254::TicksAt(clock_.now_ns()); }

  // Counter latch command, then LSB and MSB.
  uint16_t LatchedCount(int channel) {
    Out(kCtrl, static_cast<uint8_t>(channel << 6));
    uint16_t lo = In(kCh0 + channel);
    return static_cast<uint16_t>(lo | (In(kCh0 + channel) << 8));
  }
  // Read-back status of one channel.
  uint8_t Status(int channel) {
    Out(kCtrl, static_cast<uint8_t>(0xe0 | (2 << channel)));
    return In(kCh0 + channel);
  }
  // Control word for channel `ch`, LSB/MSB access, `mode`, binary.
  void Program(int ch, int mode, uint16_t count) {
    Out(kCtrl, static_cast<uint8_t>((ch << 6) | 0x30 | (mode << 1)));
    Out(kCh0 + ch, static_cast<uint8_t>(count));
    Out(kCh0 + ch, static_cast<uint8_t>(count >> 8));
  }

  VirtualClock clock_;
  Bus pio_;
  RecordingIrqLine irq0_;
  std::unique_ptr<Pit8254> pit_;
  std::unique_ptr<Port61> port61_;
};

// Steps virtual time from deadline to deadline up to `ns`, as a run loop that
// never oversleeps a timer would.
void RunUntil(VirtualClock& clock, uint64_t ns) {
  while (clock.next_deadline_ns() <= ns) {
    clock.AdvanceTo(clock.next_deadline_ns());
    clock.RunDueTimers();
  }
  clock.AdvanceTo(ns);
  clock.RunDueTimers();
}

TEST(PitClock, TicksAndNanosecondsAgree) {
  EXPECT_EQ(Pit8254::TicksAt(1000000000), 1193182u);
  EXPECT_EQ(Pit8254::NsOfTick(1193182), 1000000000u);
  for (uint64_t k : {1ull, 2ull, 17ull, 65536ull, 1193183ull, 123456789ull}) {
    uint64_t ns = Pit8254::NsOfTick(k);
    EXPECT_EQ(Pit8254::TicksAt(ns), k);
    EXPECT_EQ(Pit8254::TicksAt(ns - 1), k - 1);
  }
  // 838 or 839 ns per tick.
  EXPECT_EQ(Pit8254::NsOfTick(1), 839u);
}

TEST_F(PitTest, ResetRunsChannel0InMode3At18Hz) {
  // As QEMU: mode 3, count 0x10000 loaded on the first pulse.
  EXPECT_EQ(Status(0) & 0x3f, 0x36);
  EXPECT_TRUE(irq0_.level());
  AtTick(1 + 0x8000);
  EXPECT_FALSE(irq0_.level());
  AtTick(1 + 0x10000);
  EXPECT_TRUE(irq0_.level());
  EXPECT_EQ(irq0_.rising_edges(), 2);  // Construction, then one period.
}

TEST_F(PitTest, Mode0InterruptOnTerminalCount) {
  AtTick(100);
  irq0_.ClearEdges();
  Out(kCtrl, 0x30);  // Channel 0, LSB then MSB, mode 0, binary.
  EXPECT_FALSE(irq0_.level()) << "OUT goes low on the control word";
  Out(kCh0, 1000 & 0xff);
  Out(kCh0, 1000 >> 8);
  // Written at clock 100: loaded on pulse 101, then one decrement per pulse.
  EXPECT_TRUE(Status(0) & 0x40) << "null count until the load pulse";
  AtTick(101);
  EXPECT_FALSE(Status(0) & 0x40);
  EXPECT_EQ(LatchedCount(0), 1000);
  AtTick(601);
  EXPECT_EQ(LatchedCount(0), 500);
  clock_.AdvanceTo(Pit8254::NsOfTick(1100 + 1) - 1);
  clock_.RunDueTimers();
  EXPECT_EQ(LatchedCount(0), 1);
  EXPECT_FALSE(irq0_.level());
  EXPECT_EQ(clock_.next_deadline_ns(), Pit8254::NsOfTick(1101));
  AtTick(1101);
  EXPECT_TRUE(irq0_.level());
  EXPECT_EQ(irq0_.rising_edges(), 1);
  EXPECT_EQ(LatchedCount(0), 0);
  // The counter wraps and keeps counting; OUT stays high, no more timers.
  AtTick(1102);
  EXPECT_EQ(LatchedCount(0), 0xffff);
  EXPECT_EQ(clock_.next_deadline_ns(), VirtualClock::kNever);
  AtTick(200000);
  EXPECT_TRUE(irq0_.level());
  EXPECT_EQ(irq0_.rising_edges(), 1);
}

TEST_F(PitTest, Mode0FirstByteStopsCountingAndRewriteRestarts) {
  AtTick(10);
  Program(0, 0, 50);
  AtTick(30);  // Count 50 - (30 - 11) = 31.
  EXPECT_EQ(LatchedCount(0), 31);
  Out(kCh0, 100);  // First byte: counting stops, OUT low.
  AtTick(40);
  EXPECT_EQ(LatchedCount(0), 31);
  Out(kCh0, 0);  // Second byte: 100 loads on pulse 41.
  AtTick(41);
  EXPECT_EQ(LatchedCount(0), 100);
  AtTick(141);
  EXPECT_TRUE(irq0_.level());
}

// Linux arch/x86/kernel/tsc.c pit_calibrate_tsc(): gate high, speaker off,
// channel 2 mode 0 with a 10 ms count, then poll port 0x61 bit 5.
TEST_F(PitTest, LinuxPitCalibrateTscSeesOutputAtExactTime) {
  AtTick(5000);
  Out(kPortB, static_cast<uint8_t>((In(kPortB) & ~0x02) | 0x01));
  Out(kCtrl, 0xb0);
  constexpr uint16_t kLatch = 11931;  // CLOCK_TICK_RATE / 100.
  Out(kCh2, kLatch & 0xff);
  Out(kCh2, kLatch >> 8);
  uint64_t written = Now();
  uint64_t high_at_ns = Pit8254::NsOfTick(written + 1 + kLatch);
  clock_.AdvanceTo(high_at_ns - 1);
  EXPECT_EQ(In(kPortB) & 0x20, 0);
  clock_.AdvanceTo(high_at_ns);
  EXPECT_EQ(In(kPortB) & 0x20, 0x20);
  // 10 ms of virtual time, within one PIT clock.
  EXPECT_NEAR(static_cast<double>(high_at_ns - Pit8254::NsOfTick(written)), 1e7,
              840);
}

// Linux quick_pit_calibrate(): channel 2 mode 0 from 0xffff, unlatched
// LSB+MSB reads; the MSB must fall by one every 256 clocks.
TEST_F(PitTest, LinuxQuickPitCalibrateMsbSequence) {
  AtTick(777);
  Out(kPortB, static_cast<uint8_t>((In(kPortB) & ~0x02) | 0x01));
  Out(kCtrl, 0xb0);
  Out(kCh2, 0xff);
  Out(kCh2, 0xff);
  uint64_t load = Now() + 1;
  for (uint64_t k = 0; k < 256 * 20; k += 37) {
    clock_.AdvanceTo(Pit8254::NsOfTick(load + k));
    uint8_t lsb = In(kCh2);
    uint8_t msb = In(kCh2);
    uint16_t expected = static_cast<uint16_t>(0xffff - k);
    EXPECT_EQ(lsb, expected & 0xff) << k;
    EXPECT_EQ(msb, expected >> 8) << k;
  }
}

TEST_F(PitTest, Mode2RateGeneratorDrivesIrq0Periodically) {
  AtTick(50);
  irq0_.ClearEdges();
  Program(0, 2, 1193);  // Linux's periodic mode at HZ=1000 (0x34).
  uint64_t base = 51;
  EXPECT_EQ(Status(0) & 0xbf, 0x80 | 0x34);
  AtTick(base);
  EXPECT_EQ(LatchedCount(0), 1193);
  AtTick(base + 1191);
  EXPECT_EQ(LatchedCount(0), 2);
  EXPECT_TRUE(irq0_.level());
  AtTick(base + 1192);
  EXPECT_EQ(LatchedCount(0), 1);
  EXPECT_FALSE(irq0_.level()) << "low for one clock while the count is 1";
  AtTick(base + 1193);
  EXPECT_EQ(LatchedCount(0), 1193);
  EXPECT_TRUE(irq0_.level());
  EXPECT_EQ(irq0_.rising_edges(), 1);
  // Run one virtual second following the timer deadlines: 1000 interrupts.
  irq0_.ClearEdges();
  uint64_t end_ns = Pit8254::NsOfTick(base + 1193) + 1000000000;
  while (clock_.next_deadline_ns() <= end_ns) {
    clock_.AdvanceTo(clock_.next_deadline_ns());
    clock_.RunDueTimers();
  }
  EXPECT_EQ(irq0_.rising_edges(), 1000);
}

TEST_F(PitTest, LateTimersStillDeliverEdgesInOrder) {
  Program(0, 2, 100);
  AtTick(1);
  irq0_.ClearEdges();
  // The falling edge is due at 100 and the rising at 101; the run loop only
  // gets to timers at 105.
  AtTick(105);
  EXPECT_TRUE(irq0_.level());
  EXPECT_EQ(irq0_.rising_edges(), 1);
  // A long stall: one edge, not thousands, and the timer is in the future.
  clock_.AdvanceTo(Pit8254::NsOfTick(10000000));
  clock_.RunDueTimers();
  EXPECT_EQ(irq0_.rising_edges(), 2);
  EXPECT_GT(clock_.next_deadline_ns(), clock_.now_ns());
  EXPECT_LE(clock_.next_deadline_ns(), Pit8254::NsOfTick(10000000 + 100));
}

TEST_F(PitTest, Mode3SquareWaveEvenCount) {
  AtTick(9);
  Program(0, 3, 10);
  uint64_t base = 10;
  const uint16_t counts[] = {10, 8, 6, 4, 2, 10, 8, 6, 4, 2, 10};
  const bool outs[] = {1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1};
  irq0_.ClearEdges();
  for (int k = 0; k < 11; ++k) {
    AtTick(base + k);
    EXPECT_EQ(LatchedCount(0), counts[k]) << k;
    EXPECT_EQ(irq0_.level(), outs[k]) << k;
    EXPECT_EQ((Status(0) & 0x80) != 0, outs[k]) << k;
  }
  EXPECT_EQ(irq0_.rising_edges(), 1);
}

TEST_F(PitTest, Mode3SquareWaveOddCount) {
  AtTick(9);
  Program(0, 3, 5);
  // Odd: n - 1 loaded, high for (n + 1) / 2 clocks, low for (n - 1) / 2.
  const uint16_t counts[] = {4, 2, 0, 4, 2, 4, 2, 0};
  const bool outs[] = {1, 1, 1, 0, 0, 1, 1, 1};
  for (int k = 0; k < 8; ++k) {
    AtTick(10 + k);
    EXPECT_EQ(LatchedCount(0), counts[k]) << k;
    EXPECT_EQ(irq0_.level(), outs[k]) << k;
  }
}

TEST_F(PitTest, Mode2NewCountWaitsForEndOfPeriod) {
  AtTick(0);
  Program(0, 2, 100);  // Loads at 1; period ends at 101.
  AtTick(50);
  Out(kCh0, 20);
  Out(kCh0, 0);
  EXPECT_TRUE(Status(0) & 0x40);
  AtTick(60);
  EXPECT_EQ(LatchedCount(0), 41);  // Still the old period.
  AtTick(101);
  EXPECT_EQ(LatchedCount(0), 20);
  EXPECT_FALSE(Status(0) & 0x40);
  irq0_.ClearEdges();
  AtTick(121);
  EXPECT_EQ(irq0_.rising_edges(), 1);
  EXPECT_EQ(LatchedCount(0), 20);
}

TEST_F(PitTest, Mode3NewCountWaitsForEndOfHalfCycle) {
  AtTick(0);
  Program(0, 3, 100);  // Loads at 1; high until 51, low until 101.
  AtTick(10);
  Out(kCh0, 20);
  Out(kCh0, 0);
  AtTick(50);
  EXPECT_TRUE(irq0_.level());
  AtTick(51);  // Old half cycle ends; the low half of the new count starts.
  EXPECT_FALSE(irq0_.level());
  EXPECT_EQ(LatchedCount(0), 20);
  AtTick(60);
  EXPECT_FALSE(irq0_.level());
  AtTick(61);
  EXPECT_TRUE(irq0_.level());
  AtTick(71);
  EXPECT_FALSE(irq0_.level());
}

TEST_F(PitTest, Mode2GateLowForcesOutHighAndRisingEdgeReloads) {
  // Channel 2's gate is port 0x61 bit 0.
  Out(kPortB, 0x01);
  Program(2, 2, 10);
  uint64_t base = Now() + 1;
  AtTick(base + 9);
  EXPECT_EQ(In(kPortB) & 0x20, 0) << "count 1: OUT low";
  Out(kPortB, 0x00);
  EXPECT_EQ(In(kPortB) & 0x20, 0x20) << "gate low forces OUT high";
  AtTick(base + 30);
  EXPECT_EQ(LatchedCount(2), 1) << "counting stopped";
  Out(kPortB, 0x01);  // Trigger: reload on the next clock.
  uint64_t g = Now();
  AtTick(g + 1);
  EXPECT_EQ(LatchedCount(2), 10);
  AtTick(g + 9);
  EXPECT_EQ(In(kPortB) & 0x20, 0x20);
  AtTick(g + 10);
  EXPECT_EQ(In(kPortB) & 0x20, 0) << "low N clocks after the trigger";
}

TEST_F(PitTest, Mode0GateLowSuspendsCounting) {
  Out(kPortB, 0x00);
  Program(2, 0, 100);  // Gate low: loaded but not counting.
  AtTick(Now() + 50);
  EXPECT_EQ(LatchedCount(2), 100);
  Out(kPortB, 0x01);
  uint64_t g = Now();
  AtTick(g + 30);
  EXPECT_EQ(LatchedCount(2), 70);
  Out(kPortB, 0x00);
  AtTick(g + 80);
  EXPECT_EQ(LatchedCount(2), 70);
  EXPECT_EQ(In(kPortB) & 0x20, 0);
  Out(kPortB, 0x01);
  uint64_t g2 = Now();
  AtTick(g2 + 69);
  EXPECT_EQ(In(kPortB) & 0x20, 0);
  AtTick(g2 + 70);
  EXPECT_EQ(In(kPortB) & 0x20, 0x20);
  EXPECT_EQ(LatchedCount(2), 0);
}

TEST_F(PitTest, Mode1HardwareRetriggerableOneShot) {
  Out(kPortB, 0x00);
  Program(2, 1, 5);
  EXPECT_EQ(In(kPortB) & 0x20, 0x20) << "OUT high until triggered";
  EXPECT_TRUE(Status(2) & 0x40) << "count waits for the trigger";
  AtTick(Now() + 20);
  EXPECT_EQ(In(kPortB) & 0x20, 0x20);
  Out(kPortB, 0x01);  // Trigger.
  uint64_t g = Now();
  EXPECT_EQ(In(kPortB) & 0x20, 0x20);
  AtTick(g + 1);
  EXPECT_EQ(In(kPortB) & 0x20, 0) << "low from the clock after the trigger";
  EXPECT_EQ(LatchedCount(2), 5);
  EXPECT_FALSE(Status(2) & 0x40);
  AtTick(g + 3);
  Out(kPortB, 0x00);  // Retrigger: the one-shot starts over.
  Out(kPortB, 0x01);
  uint64_t g2 = Now();
  AtTick(g2 + 5);
  EXPECT_EQ(In(kPortB) & 0x20, 0);
  AtTick(g2 + 6);
  EXPECT_EQ(In(kPortB) & 0x20, 0x20);
  AtTick(g2 + 7);
  EXPECT_EQ(LatchedCount(2), 0xffff);
}

TEST_F(PitTest, Mode4SoftwareStrobeIsLinuxOneshot) {
  AtTick(1000);
  irq0_.ClearEdges();
  Out(kCtrl, 0x38);  // Linux pit_set_oneshot().
  EXPECT_TRUE(irq0_.level());
  Out(kCh0, 200);
  Out(kCh0, 0);
  AtTick(1001 + 199);
  EXPECT_TRUE(irq0_.level());
  AtTick(1001 + 200);
  EXPECT_FALSE(irq0_.level()) << "one clock low at terminal count";
  AtTick(1001 + 201);
  EXPECT_TRUE(irq0_.level());
  EXPECT_EQ(irq0_.rising_edges(), 1);
  AtTick(1001 + 70000);
  EXPECT_EQ(irq0_.rising_edges(), 1) << "no second strobe after wrapping";
}

TEST_F(PitTest, Mode5HardwareTriggeredStrobe) {
  Out(kPortB, 0x00);
  Program(2, 5, 4);
  AtTick(Now() + 10);
  EXPECT_EQ(In(kPortB) & 0x20, 0x20);
  Out(kPortB, 0x01);
  uint64_t g = Now();
  AtTick(g + 4);
  EXPECT_EQ(In(kPortB) & 0x20, 0x20);
  AtTick(g + 5);
  EXPECT_EQ(In(kPortB) & 0x20, 0);
  AtTick(g + 6);
  EXPECT_EQ(In(kPortB) & 0x20, 0x20);
}

TEST_F(PitTest, CounterLatchHoldsValueAndIgnoresSecondLatch) {
  AtTick(0);
  Program(1, 2, 1000);
  AtTick(101);       // Count 900.
  Out(kCtrl, 0x40);  // Latch channel 1.
  AtTick(201);
  Out(kCtrl, 0x40);  // Ignored: the first latch is unread.
  EXPECT_EQ(In(kCh1), 900 & 0xff);
  AtTick(301);
  EXPECT_EQ(In(kCh1), 900 >> 8);
  // Released: an unlatched read sees the live count.
  EXPECT_EQ(In(kCh1), 700 & 0xff);
  EXPECT_EQ(In(kCh1), 700 >> 8);
}

TEST_F(PitTest, ReadBackStatusThenCount) {
  AtTick(0);
  Out(kCtrl, 0x7b);  // Channel 1, LSB/MSB, mode 5 (M2-M0 = 101), BCD.
  // Status with null count and OUT high.
  Out(kCtrl, 0xe4);
  EXPECT_EQ(In(kCh1), 0x80 | 0x40 | 0x3b);
  // Mode bits 110 report as written although they act as mode 2.
  Out(kCtrl, 0xbc);  // Channel 2, LSB/MSB, mode "6", binary.
  Out(kPortB, 0x01);
  Out(kCh2, 10);
  Out(kCh2, 0);
  AtTick(Now() + 4);  // Count 7.
  // Read-back of count and status for channels 0 and 2 at once.
  Out(kCtrl, 0xca);
  AtTick(Now() + 3);
  EXPECT_EQ(In(kCh2), 0x80 | 0x3c);
  EXPECT_EQ(In(kCh2), 7);
  EXPECT_EQ(In(kCh2), 0);
  EXPECT_EQ(In(kCh0) & 0x3f, 0x36);  // Channel 0 reset state: status first.
  // Status latched twice before reading keeps the first one.
  Out(kCtrl, 0xe8);
  AtTick(Now() + 3);  // Channel 2 reaches count 1: OUT low.
  Out(kCtrl, 0xe8);
  EXPECT_EQ(In(kCh2) & 0x80, 0x80);
  EXPECT_EQ(Status(2) & 0x80, 0);
}

TEST_F(PitTest, BcdCounting) {
  AtTick(0);
  Out(kCtrl, 0x31);  // Channel 0, LSB/MSB, mode 0, BCD.
  Out(kCh0, 0x34);
  Out(kCh0, 0x12);
  AtTick(1);
  EXPECT_EQ(LatchedCount(0), 0x1234);
  AtTick(36);
  EXPECT_EQ(LatchedCount(0), 0x1199);
  // Zero is 10000 in BCD: reads 0000 then 9999.
  Out(kCtrl, 0x35);  // Mode 2, BCD.
  Out(kCh0, 0);
  Out(kCh0, 0);
  uint64_t base = Now() + 1;
  AtTick(base);
  EXPECT_EQ(LatchedCount(0), 0x0000);
  AtTick(base + 1);
  EXPECT_EQ(LatchedCount(0), 0x9999);
  irq0_.ClearEdges();
  AtTick(base + 10000);
  EXPECT_EQ(irq0_.rising_edges(), 1);
}

TEST_F(PitTest, AccessModesAndFlipFlops) {
  AtTick(0);
  Out(kCtrl, 0x10);  // Channel 0, LSB only, mode 0.
  Out(kCh0, 0x80);   // Count 0x0080.
  AtTick(1);
  EXPECT_EQ(In(kCh0), 0x80);
  EXPECT_EQ(In(kCh0), 0x80) << "LSB-only reads never return the MSB";
  Out(kCtrl, 0x20);  // MSB only.
  Out(kCh0, 0x02);   // Count 0x0200.
  AtTick(Now() + 1);
  EXPECT_EQ(In(kCh0), 0x02);
  Out(kCtrl, 0x00);  // Latch in MSB-only mode: one read.
  EXPECT_EQ(In(kCh0), 0x02);
  AtTick(Now() + 1);
  EXPECT_EQ(In(kCh0), 0x01);  // Live 0x1ff.
  // LSB/MSB: unlatched reads alternate, independently of writes.
  Out(kCtrl, 0x30);
  Out(kCh0, 0x34);
  Out(kCh0, 0x12);
  AtTick(Now() + 1);
  EXPECT_EQ(In(kCh0), 0x34);
  EXPECT_EQ(In(kCh0), 0x12);
  EXPECT_EQ(In(kCh0), 0x34);
  // A control word resets the read flip-flop.
  Out(kCtrl, 0x30);
  Out(kCh0, 0x78);
  Out(kCh0, 0x56);
  AtTick(Now() + 1);
  EXPECT_EQ(In(kCh0), 0x78);
  EXPECT_EQ(In(kCh0), 0x56);
  // The control port reads as a floating bus.
  EXPECT_EQ(In(kCtrl), 0xff);
}

TEST_F(PitTest, Port61RefreshToggleAndChannel2Output) {
  Out(kPortB, 0xff);
  EXPECT_EQ(In(kPortB) & 0x0f, 0x0f) << "bits 0-3 read back";
  EXPECT_EQ(In(kPortB) & 0xc0, 0) << "no NMI sources";
  EXPECT_TRUE(port61_->speaker_on());
  Out(kPortB, 0x00);
  EXPECT_FALSE(port61_->speaker_on());
  // Bit 4 flips every 18 PIT clocks (15.09 us).
  AtTick(18 * 10);
  uint8_t first = In(kPortB) & 0x10;
  AtTick(18 * 10 + 17);
  EXPECT_EQ(In(kPortB) & 0x10, first);
  AtTick(18 * 11);
  EXPECT_NE(In(kPortB) & 0x10, first);
  int toggles = 0;
  uint8_t last = In(kPortB) & 0x10;
  const uint64_t start_ns = clock_.now_ns();
  for (uint64_t ns = start_ns; ns < start_ns + 1000000; ns += 1000) {
    clock_.AdvanceTo(ns);
    uint8_t now = In(kPortB) & 0x10;
    if (now != last) ++toggles;
    last = now;
  }
  EXPECT_NEAR(toggles, 66, 1);  // 1 ms / 15.09 us.
  // Bit 5 follows channel 2's OUT (mode 3 square wave, gate on).
  Out(kPortB, 0x03);
  Program(2, 3, 4);
  uint64_t base = Now() + 1;
  AtTick(base);
  EXPECT_EQ(In(kPortB) & 0x20, 0x20);
  EXPECT_EQ(pit_->Channel2ToneMilliHz(), Pit8254::kClockHz * 1000 / 4);
  AtTick(base + 2);
  EXPECT_EQ(In(kPortB) & 0x20, 0);
  AtTick(base + 4);
  EXPECT_EQ(In(kPortB) & 0x20, 0x20);
}

TEST_F(PitTest, SaveLoadRoundTrip) {
  AtTick(1000);
  Program(0, 2, 300);  // Periodic IRQ0.
  Out(kPortB, 0x03);
  Program(2, 0, 5000);  // Channel 2 one-shot, running.
  Out(kCtrl, 0x7a);     // Channel 1: LSB/MSB, mode 5, binary.
  Out(kCh1, 0x11);      // Half-written count.
  AtTick(1001);
  Out(kCtrl, 0x80);                  // Latch channel 2...
  EXPECT_EQ(In(kCh2), 5000 & 0xff);  // ...and read only its LSB.
  AtTick(1500);

  Serializer save = Serializer::ForSave();
  clock_.Serialize(save);
  pit_->Serialize(save);
  port61_->Serialize(save);
  ASSERT_TRUE(save.ok());

  VirtualClock clock2(VirtualClock::Mode::kDeterministic);
  RecordingIrqLine irq2;
  Pit8254 pit2(clock2, &irq2);
  Port61 port2(clock2, pit2);
  Serializer load = Serializer::ForLoad(save.data());
  clock2.Serialize(load);
  pit2.Serialize(load);
  port2.Serialize(load);
  ASSERT_TRUE(load.ok()) << load.error();
  EXPECT_TRUE(load.at_end());
  EXPECT_EQ(irq2.level(), irq0_.level());

  Serializer again = Serializer::ForSave();
  clock2.Serialize(again);
  pit2.Serialize(again);
  port2.Serialize(again);
  EXPECT_EQ(again.data(), save.data());
  for (size_t i = 0; i < save.data().size() && i < again.data().size(); ++i) {
    if (save.data()[i] != again.data()[i]) {
      ADD_FAILURE() << "first difference at " << i << " of "
                    << save.data().size();
      break;
    }
  }

  // Behaviour continues identically on both machines.
  Bus pio2("pio");
  ASSERT_TRUE(
      pio2.Register(Pit8254::kPortBase, Pit8254::kPortCount, &pit2, "pit")
          .has_value());
  ASSERT_TRUE(pio2.Register(Port61::kPort, 1, &port2, "port61").has_value());
  irq0_.ClearEdges();
  irq2.ClearEdges();
  for (uint64_t tick : {1600ull, 2301ull, 6003ull, 9000ull}) {
    RunUntil(clock_, Pit8254::NsOfTick(tick));
    RunUntil(clock2, Pit8254::NsOfTick(tick));
    EXPECT_EQ(irq2.rising_edges(), irq0_.rising_edges()) << tick;
    EXPECT_EQ(pio2.ReadValue(kPortB, 1) & 0x3f, In(kPortB) & 0x3f) << tick;
    EXPECT_EQ(pio2.ReadValue(kCh2, 1), In(kCh2))
        << tick;  // Latched MSB, then live.
    pio2.WriteValue(kCh1, 1, 0x22);
    Out(kCh1, 0x22);
    pio2.WriteValue(kCtrl, 1, 0xee);
    Out(kCtrl, 0xee);
    for (uint64_t port : {kCh1, kCh2}) {
      EXPECT_EQ(pio2.ReadValue(port, 1), In(port))
          << tick << " status " << port;
      EXPECT_EQ(pio2.ReadValue(port, 1), In(port)) << tick << " lsb " << port;
      EXPECT_EQ(pio2.ReadValue(port, 1), In(port)) << tick << " msb " << port;
    }
  }
  EXPECT_GT(irq0_.rising_edges(), 20);
}

TEST_F(PitTest, CorruptSnapshotIsSanitized) {
  Serializer save = Serializer::ForSave();
  pit_->Serialize(save);
  std::vector<uint8_t> bytes = save.data();
  // Zero everything after the section header: n = 0 must not divide by zero.
  for (size_t i = 16; i < bytes.size(); ++i) bytes[i] = 0;
  Serializer load = Serializer::ForLoad(bytes);
  pit_->Serialize(load);
  AtTick(100000);
  LatchedCount(0);
  Status(1);
  In(kPortB);
}

}  // namespace
}  // namespace x86vm
