#include "devices/acpi_pm.h"

#include <gtest/gtest.h>

namespace x86vm {
namespace {

constexpr uint64_t kBase = AcpiPm::kDefaultBase;
constexpr uint64_t kSts = kBase + 0;
constexpr uint64_t kEn = kBase + 2;
constexpr uint64_t kCnt = kBase + 4;
constexpr uint64_t kTmr = kBase + 8;
constexpr uint64_t kReset = kBase + AcpiPm::kResetRegOffset;
constexpr uint64_t kGpeSts = kBase + 0x20;
constexpr uint64_t kGpeEn = kBase + 0x24;
// 2^23 ticks at 3.579545 MHz, rounded up: when bit 23 first toggles.
constexpr uint64_t kFirstToggleNs = 2343484438;

class AcpiPmTest : public ::testing::Test {
 protected:
  AcpiPmTest() : pm(clock, &sci) {
    EXPECT_TRUE(
        bus.Register(kBase, AcpiPm::kBlockBytes, &pm, "acpi_pm").has_value());
    pm.set_power_off([this] { ++power_offs; });
    pm.set_reset_requested([this] { ++resets; });
  }
  uint64_t In(uint64_t port, size_t size) { return bus.ReadValue(port, size); }
  void Out(uint64_t port, size_t size, uint64_t v) {
    bus.WriteValue(port, size, v);
  }
  void RunTo(uint64_t ns) {
    clock.AdvanceTo(ns);
    clock.RunDueTimers();
  }

  VirtualClock clock{VirtualClock::Mode::kDeterministic};
  RecordingIrqLine sci;
  Bus bus{"pio"};
  AcpiPm pm;
  int power_offs = 0;
  int resets = 0;
};

TEST_F(AcpiPmTest, ResetState) {
  EXPECT_EQ(In(kSts, 2), 0u);
  EXPECT_EQ(In(kEn, 2), 0u);
  EXPECT_EQ(In(kCnt, 2), AcpiPm::kSciEn);
  EXPECT_EQ(In(kBase + 0x10, 1), 0xFFu);  // Unused byte in the block.
  EXPECT_EQ(In(kReset, 1), 0u);
  EXPECT_EQ(In(kGpeSts, 4), 0u);
  EXPECT_FALSE(sci.level());
  // PM1_EN keeps only defined bits; PM1_EVT as one dword.
  Out(kEn, 2, 0xFFFF);
  EXPECT_EQ(In(kEn, 2), 0x0721u);
  EXPECT_EQ(In(kSts, 4), 0x07210000u);
}

TEST_F(AcpiPmTest, TimerCountsAt3579545Hz) {
  EXPECT_EQ(In(kTmr, 4), 0u);
  clock.AdvanceTo(1000);  // 1 us = 3.58 ticks.
  EXPECT_EQ(In(kTmr, 4), 3u);
  clock.AdvanceTo(1000000000);
  EXPECT_EQ(In(kTmr, 4), 3579545u);
  EXPECT_EQ(pm.timer_value(), 3579545u);
  EXPECT_EQ(In(kTmr, 2), 3579545u & 0xFFFF);
  EXPECT_EQ(In(kTmr + 2, 1), (3579545u >> 16) & 0xFF);
  // 24 bits wide: wraps after 2^24 ticks (4.687 s); the top byte reads 0.
  clock.AdvanceTo(5000000000);
  EXPECT_EQ(In(kTmr, 4), (5 * 3579545u) & 0xFFFFFF);
  EXPECT_EQ(In(kTmr + 3, 1), 0u);
  // Far in the future the arithmetic does not overflow.
  clock.AdvanceTo(10ull * 24 * 3600 * 1000000000);  // 10 days.
  uint64_t ticks = 10ull * 24 * 3600 * 3579545;
  EXPECT_EQ(In(kTmr, 4), ticks & 0xFFFFFF);
}

TEST_F(AcpiPmTest, TimerOverflowRaisesSciWhenEnabled) {
  Out(kEn, 2, AcpiPm::kTmrSts);
  RunTo(kFirstToggleNs - 1);
  EXPECT_FALSE(sci.level());
  EXPECT_EQ(In(kSts, 2) & AcpiPm::kTmrSts, 0u);
  RunTo(kFirstToggleNs);
  EXPECT_TRUE(sci.level());
  EXPECT_EQ(sci.rising_edges(), 1);
  EXPECT_EQ(In(kTmr, 4), 1u << 23);
  EXPECT_EQ(In(kSts, 2) & AcpiPm::kTmrSts, AcpiPm::kTmrSts);
  // Write 1 to clear drops the SCI until the next toggle (bit 23 1 -> 0).
  Out(kSts, 2, AcpiPm::kTmrSts);
  EXPECT_FALSE(sci.level());
  EXPECT_EQ(In(kSts, 2), 0u);
  RunTo(2 * kFirstToggleNs - 2);
  EXPECT_FALSE(sci.level());
  RunTo(2 * kFirstToggleNs);
  EXPECT_TRUE(sci.level());
  EXPECT_EQ(sci.rising_edges(), 2);
  // Writing 0 bits does not clear.
  Out(kSts, 2, 0);
  EXPECT_TRUE(sci.level());
}

TEST_F(AcpiPmTest, TimerStatusWithoutEnableRaisesNoSci) {
  RunTo(kFirstToggleNs + 5);
  EXPECT_EQ(In(kSts, 2), AcpiPm::kTmrSts);
  EXPECT_FALSE(sci.level());
  // Enabling with the status already set asserts the SCI at once.
  Out(kEn, 2, AcpiPm::kTmrSts);
  EXPECT_TRUE(sci.level());
  // With SCI_EN cleared nothing is raised.
  Out(kCnt, 2, 0);
  EXPECT_FALSE(sci.level());
}

TEST_F(AcpiPmTest, PowerButton) {
  pm.PressPowerButton();
  EXPECT_EQ(In(kSts, 2), AcpiPm::kPwrBtnSts);
  EXPECT_FALSE(sci.level());
  Out(kEn, 2, AcpiPm::kPwrBtnSts);
  EXPECT_TRUE(sci.level());
  Out(kSts + 1, 1, AcpiPm::kPwrBtnSts >> 8);  // Byte-wide clear of bit 8.
  EXPECT_FALSE(sci.level());
  pm.PressPowerButton();
  EXPECT_TRUE(sci.level());
  EXPECT_EQ(sci.rising_edges(), 2);
  EXPECT_EQ(power_offs, 0);
}

TEST_F(AcpiPmTest, SleepEnableS5PowersOff) {
  // Linux's acpi_hw_legacy_sleep: write SLP_TYP, then SLP_TYP | SLP_EN.
  uint16_t typ = AcpiPm::kSlpTypS5 << AcpiPm::kSlpTypShift;
  Out(kCnt, 2, AcpiPm::kSciEn | typ);
  EXPECT_EQ(power_offs, 0);
  Out(kCnt, 2, AcpiPm::kSciEn | typ | AcpiPm::kSlpEn);
  EXPECT_EQ(power_offs, 1);
  EXPECT_EQ(In(kCnt, 2) & AcpiPm::kSlpEn, 0u);  // SLP_EN reads 0.
  // Another sleep type (S3 = 1 here) is ignored.
  Out(kCnt, 2, AcpiPm::kSciEn | (1 << AcpiPm::kSlpTypShift) | AcpiPm::kSlpEn);
  EXPECT_EQ(power_offs, 1);
  EXPECT_EQ(In(kCnt, 2), AcpiPm::kSciEn | (1u << AcpiPm::kSlpTypShift));
  // A byte write of the high byte alone works too.
  Out(kCnt + 1, 1, (typ | AcpiPm::kSlpEn) >> 8);
  EXPECT_EQ(power_offs, 2);
  EXPECT_EQ(resets, 0);
}

TEST_F(AcpiPmTest, ResetRegister) {
  Out(kReset, 1, 0x02);  // Hard-reset type selected, no reset yet.
  EXPECT_EQ(resets, 0);
  EXPECT_EQ(In(kReset, 1), 0x02u);
  Out(kReset, 1, AcpiPm::kResetValue);
  EXPECT_EQ(resets, 1);
  EXPECT_EQ(In(kReset, 1), 0x02u);  // Bit 2 is not kept.
  // The same register as a 0xCF9-style byte port.
  Bus other("pio");
  ASSERT_TRUE(
      other.Register(0xCF9, 1, pm.reset_control_register(), "rcr").has_value());
  other.WriteValue(0xCF9, 1, 0x0E);
  EXPECT_EQ(resets, 2);
  EXPECT_EQ(other.ReadValue(0xCF9, 1), 0x0Au);
  pm.Reset();
  EXPECT_EQ(In(kReset, 1), 0u);
}

TEST_F(AcpiPmTest, GpeRaisesSci) {
  pm.RaiseGpe(3);
  pm.RaiseGpe(40);  // Out of range: ignored.
  EXPECT_EQ(In(kGpeSts, 4), 0x8u);
  EXPECT_FALSE(sci.level());
  Out(kGpeEn, 1, 0x08);
  EXPECT_TRUE(sci.level());
  EXPECT_EQ(In(kGpeEn, 4), 0x8u);
  Out(kGpeSts, 4, 0x08);
  EXPECT_FALSE(sci.level());
  EXPECT_EQ(In(kGpeSts, 4), 0u);
}

TEST_F(AcpiPmTest, SaveLoadRoundTrip) {
  Out(kEn, 2, AcpiPm::kTmrSts | AcpiPm::kPwrBtnSts);
  pm.PressPowerButton();
  Out(kGpeEn, 4, 0x11);
  Out(kReset, 1, 0x02);
  RunTo(1000000);
  EXPECT_TRUE(sci.level());

  Serializer save = Serializer::ForSave();
  clock.Serialize(save);
  pm.Serialize(save);
  ASSERT_TRUE(save.ok());

  VirtualClock clock2(VirtualClock::Mode::kDeterministic);
  RecordingIrqLine sci2;
  AcpiPm copy(clock2, &sci2);
  int copy_resets = 0;
  copy.set_reset_requested([&] { ++copy_resets; });
  Serializer load = Serializer::ForLoad(save.data());
  clock2.Serialize(load);
  copy.Serialize(load);
  ASSERT_TRUE(load.ok()) << load.error();
  EXPECT_TRUE(load.at_end());
  EXPECT_TRUE(sci2.level());
  Serializer again = Serializer::ForSave();
  clock2.Serialize(again);
  copy.Serialize(again);
  EXPECT_EQ(again.data(), save.data());

  // Both continue: clear the power button, then the timer SCI comes at the
  // same virtual time in each.
  Bus bus2("pio");
  ASSERT_TRUE(
      bus2.Register(kBase, AcpiPm::kBlockBytes, &copy, "acpi_pm").has_value());
  Out(kSts, 2, AcpiPm::kPwrBtnSts);
  bus2.WriteValue(kSts, 2, AcpiPm::kPwrBtnSts);
  EXPECT_FALSE(sci.level());
  EXPECT_FALSE(sci2.level());
  EXPECT_EQ(bus2.ReadValue(kTmr, 4), In(kTmr, 4));
  RunTo(kFirstToggleNs);
  clock2.AdvanceTo(kFirstToggleNs);
  clock2.RunDueTimers();
  EXPECT_TRUE(sci.level());
  EXPECT_TRUE(sci2.level());
  EXPECT_EQ(bus2.ReadValue(kReset, 1), 0x02u);
  bus2.WriteValue(kReset, 1, AcpiPm::kResetValue);
  EXPECT_EQ(copy_resets, 1);
}

TEST(AcpiPmLoad, CorruptStreamIsAnError) {
  VirtualClock clock(VirtualClock::Mode::kDeterministic);
  AcpiPm pm(clock, nullptr);
  uint8_t junk[3] = {9, 9, 9};
  Serializer load = Serializer::ForLoad(junk);
  pm.Serialize(load);
  EXPECT_FALSE(load.ok());
}

}  // namespace
}  // namespace x86vm
