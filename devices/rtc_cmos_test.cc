#include "devices/rtc_cmos.h"

#include <gtest/gtest.h>

#include <memory>

#include "devices/bus.h"

namespace x86vm {
namespace {

constexpr int64_t kStart = 1709251198;  // 2024-02-29 23:59:58 UTC, a Thursday.
constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kUs = 1'000;

class RtcTest : public ::testing::Test {
 protected:
  RtcTest() { Rebuild(kStart); }

  void Rebuild(int64_t start) {
    pio_ = std::make_unique<Bus>("pio");
    rtc_ = std::make_unique<RtcCmos>(clock_, &irq_, start);
    ASSERT_TRUE(
        pio_->Register(RtcCmos::kPortBase, RtcCmos::kPortCount, rtc_.get(), "rtc").has_value());
  }

  uint8_t Reg(uint8_t index) {
    pio_->WriteValue(0x70, 1, index);
    return static_cast<uint8_t>(pio_->ReadValue(0x71, 1));
  }
  void SetReg(uint8_t index, uint8_t value) {
    pio_->WriteValue(0x70, 1, index);
    pio_->WriteValue(0x71, 1, value);
  }
  // Moves virtual time to `ns` since power-on and fires due timers.
  void At(uint64_t ns) {
    clock_.AdvanceTo(ns);
    clock_.RunDueTimers();
  }
  // Runs timers one deadline at a time up to `end_ns`, acknowledging each
  // interrupt like an ISR (read register C); returns the interrupts taken.
  int CountInterrupts(uint64_t end_ns) {
    int taken = 0;
    while (clock_.next_deadline_ns() <= end_ns) {
      At(clock_.next_deadline_ns());
      if (irq_.level()) {
        ++taken;
        Reg(0x0c);
        EXPECT_FALSE(irq_.level());
      }
    }
    At(end_ns);
    return taken;
  }

  VirtualClock clock_{VirtualClock::Mode::kDeterministic};
  RecordingIrqLine irq_;
  std::unique_ptr<Bus> pio_;
  std::unique_ptr<RtcCmos> rtc_;
};

TEST_F(RtcTest, BcdTimeAndDateAtStartAndAfterLeapDayRollover) {
  EXPECT_EQ(Reg(0x00), 0x58);
  EXPECT_EQ(Reg(0x02), 0x59);
  EXPECT_EQ(Reg(0x04), 0x23);
  EXPECT_EQ(Reg(0x06), 0x05);  // Thursday (Sunday = 1).
  EXPECT_EQ(Reg(0x07), 0x29);
  EXPECT_EQ(Reg(0x08), 0x02);
  EXPECT_EQ(Reg(0x09), 0x24);
  EXPECT_EQ(Reg(0x32), 0x20);
  EXPECT_EQ(Reg(0x0a), 0x26);
  EXPECT_EQ(Reg(0x0b), 0x02);
  EXPECT_EQ(Reg(0x0d), 0x80);
  At(2000 * kMs);
  EXPECT_EQ(Reg(0x00), 0x00);
  EXPECT_EQ(Reg(0x02), 0x00);
  EXPECT_EQ(Reg(0x04), 0x00);
  EXPECT_EQ(Reg(0x06), 0x06);
  EXPECT_EQ(Reg(0x07), 0x01);
  EXPECT_EQ(Reg(0x08), 0x03);
  EXPECT_EQ(Reg(0x09), 0x24);
  EXPECT_EQ(rtc_->CurrentTimeSeconds(), kStart + 2);
}

TEST_F(RtcTest, CenturyCountsWithTheClock) {
  Rebuild(4102444799);  // 2099-12-31 23:59:59.
  EXPECT_EQ(Reg(0x09), 0x99);
  EXPECT_EQ(Reg(0x32), 0x20);
  At(1000 * kMs);
  EXPECT_EQ(Reg(0x09), 0x00);
  EXPECT_EQ(Reg(0x32), 0x21);
  EXPECT_EQ(Reg(0x06), 0x06);  // Friday.
}

TEST_F(RtcTest, BinaryAnd12HourFormats) {
  SetReg(0x0b, 0x06);  // Binary, 24-hour: registers are converted at once.
  EXPECT_EQ(Reg(0x00), 58);
  EXPECT_EQ(Reg(0x04), 23);
  EXPECT_EQ(Reg(0x09), 24);
  EXPECT_EQ(Reg(0x32), 20);
  SetReg(0x0b, 0x04);  // Binary, 12-hour: 11 PM.
  EXPECT_EQ(Reg(0x04), 0x80 | 11);
  SetReg(0x0b, 0x00);  // BCD, 12-hour.
  EXPECT_EQ(Reg(0x04), 0x91);
  At(2000 * kMs);  // Midnight is 12 AM.
  EXPECT_EQ(Reg(0x04), 0x12);
  At(3600 * 1000 * kMs + 2000 * kMs);  // 1 AM.
  EXPECT_EQ(Reg(0x04), 0x01);
  At(13 * 3600 * 1000 * kMs + 2000 * kMs);  // 1 PM.
  EXPECT_EQ(Reg(0x04), 0x81);
}

TEST_F(RtcTest, UipIsHighFor244MicrosecondsBeforeEachUpdate) {
  At(1000 * kMs - 300 * kUs);
  EXPECT_EQ(Reg(0x0a) & 0x80, 0);
  At(1000 * kMs - 240 * kUs);
  EXPECT_EQ(Reg(0x0a), 0xa6);
  EXPECT_EQ(Reg(0x00), 0x58);  // Still the old second during UIP.
  At(1000 * kMs - 1);
  EXPECT_EQ(Reg(0x0a) & 0x80, 0x80);
  EXPECT_EQ(Reg(0x00), 0x58);
  At(1000 * kMs);
  EXPECT_EQ(Reg(0x0a) & 0x80, 0);
  EXPECT_EQ(Reg(0x00), 0x59);
  // SET stops updates and with them UIP.
  SetReg(0x0b, 0x82);
  At(2000 * kMs - 100 * kUs);
  EXPECT_EQ(Reg(0x0a) & 0x80, 0);
}

TEST_F(RtcTest, GuestSetTimeIsKeptAndCountsOn) {
  At(300 * kMs);
  SetReg(0x0b, 0x82);  // SET.
  SetReg(0x00, 0x30);
  SetReg(0x02, 0x15);
  SetReg(0x04, 0x10);
  SetReg(0x06, 0x02);  // A weekday the date does not have: kept as written.
  SetReg(0x07, 0x04);
  SetReg(0x08, 0x07);
  SetReg(0x09, 0x21);
  At(5000 * kMs);  // Frozen while SET.
  EXPECT_EQ(Reg(0x00), 0x30);
  SetReg(0x0b, 0x02);
  EXPECT_EQ(Reg(0x00), 0x30);
  EXPECT_EQ(Reg(0x06), 0x02);
  // The divider phase is unchanged by SET: next update at 6 s.
  At(6000 * kMs - 1);
  EXPECT_EQ(Reg(0x00), 0x30);
  At(6000 * kMs);
  EXPECT_EQ(Reg(0x00), 0x31);
  EXPECT_EQ(rtc_->CurrentTimeSeconds(), 1625393731);  // 2021-07-04 10:15:31.
  At(6000 * kMs + 24 * 3600 * 1000 * kMs);
  EXPECT_EQ(Reg(0x06), 0x03);  // The guest's weekday counts on.
  EXPECT_EQ(Reg(0x07), 0x05);
}

TEST_F(RtcTest, TimeByteWrittenWhileRunningIsIncremented) {
  SetReg(0x02, 0x10);  // Minutes 59 -> 10 without SET.
  EXPECT_EQ(Reg(0x02), 0x10);
  At(1000 * kMs);
  EXPECT_EQ(Reg(0x00), 0x59);
  EXPECT_EQ(Reg(0x02), 0x10);
  At(2000 * kMs);
  EXPECT_EQ(Reg(0x00), 0x00);
  EXPECT_EQ(Reg(0x02), 0x11);
  EXPECT_EQ(Reg(0x04), 0x23);
}

TEST_F(RtcTest, DividerResetHoldsTimeAndFirstUpdateIsHalfASecondLater) {
  At(200 * kMs);
  SetReg(0x0a, 0x76);  // Divider in reset.
  At(10000 * kMs);
  EXPECT_EQ(Reg(0x00), 0x58);
  EXPECT_EQ(Reg(0x0a) & 0x80, 0);
  SetReg(0x0a, 0x26);
  At(10500 * kMs - 1);
  EXPECT_EQ(Reg(0x00), 0x58);
  At(10500 * kMs);
  EXPECT_EQ(Reg(0x00), 0x59);
}

TEST_F(RtcTest, PeriodicInterruptRates) {
  struct Case {
    uint8_t rs;
    int per_second;
  };
  for (Case c :
       {Case{3, 8192}, Case{6, 1024}, Case{1, 256}, Case{2, 128}, Case{15, 2}, Case{0, 0}}) {
    SCOPED_TRACE(c.rs);
    uint64_t t0 = clock_.now_ns();
    SetReg(0x0a, static_cast<uint8_t>(0x20 | c.rs));
    SetReg(0x0b, 0x42);  // PIE.
    Reg(0x0c);
    int taken = CountInterrupts(t0 + 1000 * kMs);
    // The phase follows the divider, so a window may hold one tick more or less.
    EXPECT_NEAR(taken, c.per_second, 1);
    SetReg(0x0b, 0x02);
  }
  // From t = 10 s, 1024 Hz: ticks exactly every 976.5625 us.
  At(10000 * kMs);
  SetReg(0x0a, 0x26);
  SetReg(0x0b, 0x42);
  Reg(0x0c);
  EXPECT_EQ(CountInterrupts(11000 * kMs), 1024);
  EXPECT_EQ(clock_.next_deadline_ns(), 11000 * kMs + 976563);
}

TEST_F(RtcTest, PeriodicFlagIsSetWithoutInterruptWhenPieIsClear) {
  Reg(0x0c);
  At(2 * kMs);  // Two 1024 Hz ticks.
  EXPECT_EQ(Reg(0x0c) & 0xc0, 0x40);
  EXPECT_EQ(irq_.rising_edges(), 0);
  EXPECT_EQ(Reg(0x0c) & 0x40, 0);  // Cleared by the read.
  // Enabling PIE with PF pending raises IRQ8 at once.
  At(3 * kMs);
  SetReg(0x0b, 0x42);
  EXPECT_TRUE(irq_.level());
  EXPECT_EQ(Reg(0x0c), 0xc0);
  EXPECT_FALSE(irq_.level());
  EXPECT_EQ(Reg(0x0c), 0x00);
}

TEST_F(RtcTest, UpdateEndedInterruptEverySecond) {
  SetReg(0x0b, 0x12);  // UIE.
  EXPECT_FALSE(irq_.level());
  At(1000 * kMs - 1);
  EXPECT_FALSE(irq_.level());
  At(1000 * kMs);
  EXPECT_TRUE(irq_.level());
  At(1500 * kMs);
  EXPECT_EQ(Reg(0x0c), 0x90 | 0x40);  // IRQF, UF; PF came along without PIE.
  EXPECT_FALSE(irq_.level());
  EXPECT_EQ(Reg(0x0c), 0x00);
  EXPECT_EQ(CountInterrupts(10000 * kMs + 1), 9);
  // Unacknowledged, IRQF stays high and there is no new edge.
  irq_.ClearEdges();
  At(15000 * kMs);
  EXPECT_EQ(irq_.rising_edges(), 1);
  EXPECT_TRUE(irq_.level());
  // SET clears UIE (datasheet, register B).
  SetReg(0x0b, 0x92);
  EXPECT_EQ(Reg(0x0b), 0x82);
}

TEST_F(RtcTest, AlarmFiresAtMatchingSecond) {
  Reg(0x0c);
  SetReg(0x01, 0x03);  // 00:00:03 on March 1st, 5 s after the start.
  SetReg(0x03, 0x00);
  SetReg(0x05, 0x00);
  SetReg(0x0b, 0x22);  // AIE.
  At(5000 * kMs - 1);
  EXPECT_FALSE(irq_.level());
  At(5000 * kMs);
  EXPECT_TRUE(irq_.level());
  EXPECT_EQ(Reg(0x0c), 0xb0 | 0x40);  // IRQF, AF, UF (and PF, not enabled).
  EXPECT_FALSE(irq_.level());
  At(6000 * kMs);
  EXPECT_FALSE(irq_.level());
  // Don't-care in all three bytes: every second.
  SetReg(0x01, 0xc0);
  SetReg(0x03, 0xff);
  SetReg(0x05, 0xc5);
  Reg(0x0c);
  EXPECT_EQ(CountInterrupts(9000 * kMs), 3);
  // Seconds don't care, minute 01: once a second during 00:01:xx only.
  SetReg(0x03, 0x01);
  Reg(0x0c);
  EXPECT_EQ(CountInterrupts(200000 * kMs), 60);  // 00:01:00 .. 00:01:59.
}

TEST_F(RtcTest, AlarmMatchedDuringLongUnobservedGapIsReported) {
  SetReg(0x01, 0x00);
  SetReg(0x03, 0x30);
  SetReg(0x05, 0x12);
  Reg(0x0c);
  At(20ull * 3600 * 1000 * kMs);  // 19:59:58 the next day: 12:30:00 passed.
  EXPECT_EQ(Reg(0x0c) & 0x30, 0x30);
  EXPECT_EQ(irq_.rising_edges(), 0);
  At(21ull * 3600 * 1000 * kMs);
  EXPECT_EQ(Reg(0x0c) & 0x30, 0x10);
}

TEST_F(RtcTest, RegisterCReadClearsFlagsAndLowersIrq) {
  SetReg(0x0b, 0x52);  // PIE | UIE.
  At(1000 * kMs);
  EXPECT_TRUE(irq_.level());
  EXPECT_EQ(Reg(0x0c), 0xd0);
  EXPECT_FALSE(irq_.level());
  EXPECT_EQ(Reg(0x0c), 0x00);
  SetReg(0x0c, 0xff);  // Read-only.
  SetReg(0x0d, 0x00);
  EXPECT_EQ(Reg(0x0c), 0x00);
  EXPECT_EQ(Reg(0x0d), 0x80);
}

TEST_F(RtcTest, NmiMaskBitAndIndexWrap) {
  EXPECT_FALSE(rtc_->nmi_masked());
  pio_->WriteValue(0x70, 1, 0x80 | 0x40);
  EXPECT_TRUE(rtc_->nmi_masked());
  pio_->WriteValue(0x71, 1, 0x5a);
  EXPECT_EQ(rtc_->CmosByte(0x40), 0x5a);
  EXPECT_EQ(pio_->ReadValue(0x70, 1), 0xffu);  // Write-only.
  pio_->WriteValue(0x70, 1, 0x40);
  EXPECT_FALSE(rtc_->nmi_masked());
  EXPECT_EQ(pio_->ReadValue(0x71, 1), 0x5au);
  // A 16-bit write at 0x70 is index then data, as two ISA byte cycles.
  pio_->WriteValue(0x70, 2, 0xa50e);
  EXPECT_EQ(rtc_->CmosByte(0x0e), 0xa5);
}

TEST_F(RtcTest, ExtendedBankIsSeparate) {
  pio_->WriteValue(0x72, 1, 0x05);
  pio_->WriteValue(0x73, 1, 0xab);
  pio_->WriteValue(0x72, 1, 0xff);  // Bit 7 ignored: byte 0xff.
  pio_->WriteValue(0x73, 1, 0xcd);
  EXPECT_EQ(rtc_->CmosByte(0x85), 0xab);
  EXPECT_EQ(rtc_->CmosByte(0xff), 0xcd);
  pio_->WriteValue(0x72, 1, 0x05);
  EXPECT_EQ(pio_->ReadValue(0x73, 1), 0xabu);
  EXPECT_NE(Reg(0x05), 0xab);  // The alarm hour, not the extended byte.
  EXPECT_FALSE(rtc_->nmi_masked());
}

TEST_F(RtcTest, MemorySizeBytesAndChecksum) {
  rtc_->SetMemorySize(512ull << 20, 0);
  EXPECT_EQ(Reg(0x15), 0x80);  // 640 KiB.
  EXPECT_EQ(Reg(0x16), 0x02);
  EXPECT_EQ(Reg(0x17), 0xff);  // Capped at 0xffff KiB.
  EXPECT_EQ(Reg(0x18), 0xff);
  EXPECT_EQ(Reg(0x30), 0xff);
  EXPECT_EQ(Reg(0x31), 0xff);
  EXPECT_EQ(Reg(0x34), 0x00);  // (512 - 16) MiB / 64 KiB = 0x1f00.
  EXPECT_EQ(Reg(0x35), 0x1f);
  EXPECT_EQ(Reg(0x5b), 0x00);
  rtc_->SetMemorySize(32ull << 20, 0);
  EXPECT_EQ(Reg(0x17), 0x00);  // 31 MiB = 0x7c00 KiB.
  EXPECT_EQ(Reg(0x18), 0x7c);
  EXPECT_EQ(Reg(0x34), 0x00);  // 16 MiB / 64 KiB = 0x100.
  EXPECT_EQ(Reg(0x35), 0x01);
  rtc_->SetMemorySize(0xe0000000ull, 6ull << 30);
  EXPECT_EQ(Reg(0x34), 0x00);  // 3568 MiB / 64 KiB = 0xdf00.
  EXPECT_EQ(Reg(0x35), 0xdf);
  EXPECT_EQ(Reg(0x5b), 0x00);  // 6 GiB / 64 KiB = 0x18000.
  EXPECT_EQ(Reg(0x5c), 0x80);
  EXPECT_EQ(Reg(0x5d), 0x01);
  rtc_->SetCpuCount(4);
  EXPECT_EQ(Reg(0x5f), 3);
  ASSERT_TRUE(rtc_->SetCmosByte(RtcCmos::kCmosEquipment,
                                RtcCmos::kEquipmentFpu | RtcCmos::kEquipmentPs2Mouse));
  EXPECT_FALSE(rtc_->SetCmosByte(0x0a, 0));
  EXPECT_FALSE(rtc_->SetCmosByte(0x32, 0));
  unsigned sum = 0;
  for (int i = 0x10; i <= 0x2d; ++i) sum += Reg(static_cast<uint8_t>(i));
  EXPECT_EQ(Reg(0x2e), (sum >> 8) & 0xff);
  EXPECT_EQ(Reg(0x2f), sum & 0xff);
  EXPECT_EQ(sum, 0x06u + 0x80 + 0x02 + 0xff + 0xff);  // Equipment + memory bytes.
}

TEST_F(RtcTest, ResetClearsEnablesAndFlagsButKeepsTimeAndRam) {
  SetReg(0x40, 0x77);
  SetReg(0x0b, 0x7a);  // PIE AIE UIE SQWE, 24h.
  At(1000 * kMs);
  EXPECT_TRUE(irq_.level());
  rtc_->Reset();
  EXPECT_FALSE(irq_.level());
  EXPECT_EQ(Reg(0x0b), 0x02);
  EXPECT_EQ(Reg(0x0c), 0x00);
  EXPECT_EQ(Reg(0x40), 0x77);
  EXPECT_EQ(Reg(0x00), 0x59);
  EXPECT_EQ(clock_.next_deadline_ns(), VirtualClock::kNever);
}

TEST_F(RtcTest, SaveLoadRoundTrip) {
  SetReg(0x0b, 0x86);  // SET, binary.
  SetReg(0x09, 30);
  SetReg(0x0b, 0x56);  // PIE UIE, binary.
  SetReg(0x01, 0xc0);
  SetReg(0x03, 0xc0);
  SetReg(0x05, 0xc0);
  pio_->WriteValue(0x72, 1, 0x11);
  pio_->WriteValue(0x73, 1, 0x99);
  rtc_->SetMemorySize(256ull << 20, 0);
  pio_->WriteValue(0x70, 1, 0x8c);  // NMI masked, index C.
  At(1000 * kMs + 123 * kUs);
  ASSERT_TRUE(irq_.level());

  Serializer save = Serializer::ForSave();
  clock_.Serialize(save);
  rtc_->Serialize(save);

  VirtualClock clock2(VirtualClock::Mode::kDeterministic);
  RecordingIrqLine irq2;
  RtcCmos rtc2(clock2, &irq2, 0);
  Serializer load = Serializer::ForLoad(save.data());
  clock2.Serialize(load);
  rtc2.Serialize(load);
  ASSERT_TRUE(load.ok()) << load.error();
  EXPECT_TRUE(load.at_end());
  EXPECT_TRUE(irq2.level());
  EXPECT_TRUE(rtc2.nmi_masked());

  Serializer again = Serializer::ForSave();
  clock2.Serialize(again);
  rtc2.Serialize(again);
  EXPECT_EQ(again.data(), save.data());

  // Behaviour continues identically: index C is selected in both.
  Bus pio2("pio");
  ASSERT_TRUE(pio2.Register(0x70, 4, &rtc2, "rtc").has_value());
  EXPECT_EQ(pio2.ReadValue(0x71, 1), pio_->ReadValue(0x71, 1));
  EXPECT_FALSE(irq2.level());
  for (uint64_t t : {1500 * kMs, 2000 * kMs, 2000 * kMs + 10 * kUs, 7000 * kMs}) {
    At(t);
    clock2.AdvanceTo(t);
    clock2.RunDueTimers();
    EXPECT_EQ(irq2.level(), irq_.level());
    EXPECT_EQ(rtc2.CmosByte(0x0c), rtc_->CmosByte(0x0c));
    for (uint8_t r : {0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x32}) {
      EXPECT_EQ(rtc2.CmosByte(r), rtc_->CmosByte(r)) << int{r};
    }
  }
  EXPECT_EQ(rtc2.CmosByte(0x09), 30);
  EXPECT_EQ(rtc2.CmosByte(0x91), 0x99);
  EXPECT_EQ(rtc2.CmosByte(0x15), 0x80);
}

}  // namespace
}  // namespace x86vm
