#include "devices/local_apic.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace x86vm {
namespace {

constexpr uint32_t kId = 0x020;
constexpr uint32_t kVersion = 0x030;
constexpr uint32_t kTpr = 0x080;
constexpr uint32_t kApr = 0x090;
constexpr uint32_t kPpr = 0x0A0;
constexpr uint32_t kEoi = 0x0B0;
constexpr uint32_t kLdr = 0x0D0;
constexpr uint32_t kDfr = 0x0E0;
constexpr uint32_t kSvr = 0x0F0;
constexpr uint32_t kIsr = 0x100;
constexpr uint32_t kTmr = 0x180;
constexpr uint32_t kIrr = 0x200;
constexpr uint32_t kEsr = 0x280;
constexpr uint32_t kLvtCmci = 0x2F0;
constexpr uint32_t kIcrLow = 0x300;
constexpr uint32_t kIcrHigh = 0x310;
constexpr uint32_t kLvtTimer = 0x320;
constexpr uint32_t kLvtLint0 = 0x350;
constexpr uint32_t kLvtLint1 = 0x360;
constexpr uint32_t kLvtError = 0x370;
constexpr uint32_t kInitialCount = 0x380;
constexpr uint32_t kCurrentCount = 0x390;
constexpr uint32_t kDivide = 0x3E0;

constexpr uint32_t kMasked = 1u << 16;
constexpr uint32_t kPeriodic = 1u << 17;
constexpr uint32_t kTscDeadline = 2u << 17;
constexpr uint64_t kEnable = 1u << 11;
constexpr uint64_t kExtd = 1u << 10;

// An 8259 stand-in behind LINT0.
class FakePic : public InterruptController {
 public:
  bool HasInterrupt() override { return pending; }
  uint8_t AcknowledgeInterrupt() override {
    ++acks;
    pending = false;
    return vector;
  }
  bool pending = false;
  uint8_t vector = 0x08;
  int acks = 0;
};

// One APIC on an MMIO bus, with the board's relocation callback.
struct Rig {
  explicit Rig(VirtualClock& clock, LocalApic::Config config = {})
      : apic(clock, config) {
    EXPECT_TRUE(bus.Register(LocalApic::kDefaultBase, LocalApic::kMmioSize,
                             &apic, "lapic")
                    .has_value());
    apic.set_mmio_move([this](std::optional<uint64_t> old_base,
                              std::optional<uint64_t> new_base) {
      if (old_base) {
        EXPECT_TRUE(bus.Unregister(*old_base));
      }
      if (new_base) {
        EXPECT_TRUE(
            bus.Register(*new_base, LocalApic::kMmioSize, &apic, "lapic")
                .has_value());
      }
      ++moves;
    });
  }
  uint64_t base() const {
    return apic.mmio_base().value_or(LocalApic::kDefaultBase);
  }
  uint32_t Rd(uint32_t offset) {
    return static_cast<uint32_t>(bus.ReadValue(base() + offset, 4));
  }
  void Wr(uint32_t offset, uint32_t value) {
    bus.WriteValue(base() + offset, 4, value);
  }
  bool Bit(uint32_t reg, int vector) {
    return (Rd(reg + 0x10 * (vector / 32)) >> (vector % 32)) & 1;
  }
  void SoftwareEnable(uint8_t spurious = 0xFF) { Wr(kSvr, 0x100 | spurious); }
  // Acknowledges and returns what the CPU would take, or -1.
  int Take() { return apic.HasInterrupt() ? apic.AcknowledgeInterrupt() : -1; }

  Bus bus{"mmio"};
  LocalApic apic;
  int moves = 0;
};

class LocalApicTest : public ::testing::Test {
 protected:
  void AdvanceTo(uint64_t ns) {
    clock_.AdvanceTo(ns);
    clock_.RunDueTimers();
  }
  VirtualClock clock_{VirtualClock::Mode::kDeterministic};
};

TEST_F(LocalApicTest, PowerOnState) {
  Rig rig(clock_, {.apic_id = 3});
  EXPECT_EQ(rig.apic.apic_base_msr(), 0xFEE00900u);  // Enabled, BSP.
  EXPECT_EQ(rig.Rd(kId), 0x03000000u);
  EXPECT_EQ(rig.Rd(kVersion), 0x00050014u);
  EXPECT_EQ(rig.Rd(kSvr), 0xFFu);
  EXPECT_EQ(rig.Rd(kDfr), 0xFFFFFFFFu);
  EXPECT_EQ(rig.Rd(kTpr), 0u);
  for (uint32_t lvt = kLvtTimer; lvt <= kLvtError; lvt += 0x10)
    EXPECT_EQ(rig.Rd(lvt), kMasked);
  EXPECT_EQ(rig.Rd(kLvtCmci), 0u);  // Not present without CMCI.
  EXPECT_FALSE(rig.apic.software_enabled());

  Rig ap(clock_, {.apic_id = 1, .bsp = false, .cmci = true});
  EXPECT_EQ(ap.apic.apic_base_msr(), 0xFEE00800u);
  EXPECT_EQ(ap.apic.initial_apic_id(), 1u);
}

TEST_F(LocalApicTest, CmciLvtRaisesMaxLvt) {
  Rig rig(clock_, {.cmci = true});
  EXPECT_EQ(rig.Rd(kVersion), 0x00060014u);
  EXPECT_EQ(rig.Rd(kLvtCmci), kMasked);
  rig.SoftwareEnable();
  rig.Wr(kLvtCmci, 0x55);
  EXPECT_EQ(rig.Rd(kLvtCmci), 0x55u);
  rig.apic.SignalLocalInterrupt(LocalApic::Lvt::kCmci);
  EXPECT_EQ(rig.Take(), 0x55);
}

TEST_F(LocalApicTest, SoftwareDisableMasksLvt) {
  Rig rig(clock_);
  rig.Wr(kLvtLint0, 0x700);  // Mask cannot be cleared while disabled.
  EXPECT_EQ(rig.Rd(kLvtLint0), 0x700u | kMasked);
  rig.SoftwareEnable();
  rig.Wr(kLvtLint0, 0x700);
  rig.Wr(kLvtTimer, 0x20);
  EXPECT_EQ(rig.Rd(kLvtLint0), 0x700u);
  rig.Wr(kSvr, 0xFF);
  EXPECT_EQ(rig.Rd(kLvtLint0), 0x700u | kMasked);
  EXPECT_EQ(rig.Rd(kLvtTimer), 0x20u | kMasked);
  // Fixed interrupts are not accepted while software disabled, NMI is.
  EXPECT_FALSE(
      rig.apic.DeliverInterrupt(0x40, ApicDeliveryMode::kFixed, false));
  EXPECT_TRUE(rig.apic.DeliverInterrupt(0, ApicDeliveryMode::kNmi, false));
  EXPECT_TRUE(rig.apic.TakeNmi());
  EXPECT_FALSE(rig.apic.TakeNmi());
}

TEST_F(LocalApicTest, RegisterWritesAndReadOnlyBits) {
  Rig rig(clock_);
  rig.SoftwareEnable();
  rig.Wr(kId, 0x05FFFFFF);
  EXPECT_EQ(rig.Rd(kId), 0x05000000u);
  rig.Wr(kLdr, 0x12345678);
  EXPECT_EQ(rig.Rd(kLdr), 0x12000000u);
  rig.Wr(kDfr, 0x0);
  EXPECT_EQ(rig.Rd(kDfr), 0x0FFFFFFFu);
  rig.Wr(kTpr, 0x1FF);
  EXPECT_EQ(rig.Rd(kTpr), 0xFFu);
  rig.Wr(kVersion, 0);
  EXPECT_EQ(rig.Rd(kVersion), 0x00050014u);
  rig.Wr(kSvr, 0xFFFFFFFF);  // Focus bit and enable; bit 12 not supported.
  EXPECT_EQ(rig.Rd(kSvr), 0x3FFu);
  // LINT0: remote IRR and delivery status are read-only.
  rig.Wr(kLvtLint0, 0xFFFFFFFF);
  EXPECT_EQ(rig.Rd(kLvtLint0), 0x1A7FFu);
  // Timer without a TSC: only one-shot and periodic exist.
  rig.Wr(kLvtTimer, 0xFFFFFFFF);
  EXPECT_EQ(rig.Rd(kLvtTimer), 0x300FFu);
  rig.Wr(kLvtError, 0xFFFFFFFF);
  EXPECT_EQ(rig.Rd(kLvtError), 0x100FFu);
  rig.Wr(kIcrHigh, 0xFFFFFFFF);
  EXPECT_EQ(rig.Rd(kIcrHigh), 0xFF000000u);
  rig.Wr(kDivide, 0xFF);
  EXPECT_EQ(rig.Rd(kDivide), 0xBu);
}

TEST_F(LocalApicTest, MmioAccessSizes) {
  Rig rig(clock_);
  uint64_t base = LocalApic::kDefaultBase;
  EXPECT_EQ(rig.bus.ReadValue(base + kVersion, 1), 0x14u);
  EXPECT_EQ(rig.bus.ReadValue(base + kVersion + 2, 1), 0x05u);
  EXPECT_EQ(rig.bus.ReadValue(base + kVersion + 4, 4), 0u);
  EXPECT_EQ(rig.bus.ReadValue(base + kVersion, 8), 0x00050014u);
  // Only aligned dword writes are defined.
  rig.bus.WriteValue(base + kTpr, 1, 0x40);
  rig.bus.WriteValue(base + kTpr + 4, 4, 0x40);
  EXPECT_EQ(rig.Rd(kTpr), 0u);
  rig.bus.WriteValue(base + kTpr, 4, 0x40);
  EXPECT_EQ(rig.Rd(kTpr), 0x40u);
}

TEST_F(LocalApicTest, ApicBaseRelocatesAndDisables) {
  Rig rig(clock_);
  rig.SoftwareEnable();
  rig.Wr(kTpr, 0x30);
  ASSERT_TRUE(rig.apic.SetApicBaseMsr(0xFED00000 | kEnable));
  EXPECT_EQ(rig.moves, 1);
  EXPECT_EQ(rig.apic.apic_base_msr(), 0xFED00900u);  // BSP bit kept.
  EXPECT_EQ(rig.bus.ReadValue(0xFED00000 + kTpr, 4), 0x30u);
  EXPECT_FALSE(rig.bus.IsMapped(LocalApic::kDefaultBase));

  // Global disable: window gone, PIC passthrough, state back to reset.
  ASSERT_TRUE(rig.apic.SetApicBaseMsr(0xFED00000));
  EXPECT_EQ(rig.moves, 2);
  EXPECT_FALSE(rig.apic.mmio_base().has_value());
  EXPECT_FALSE(rig.bus.IsMapped(0xFED00000));
  EXPECT_FALSE(rig.apic.DeliverInterrupt(0x40, ApicDeliveryMode::kNmi, false));
  ASSERT_TRUE(rig.apic.SetApicBaseMsr(LocalApic::kDefaultBase | kEnable));
  EXPECT_EQ(rig.Rd(kTpr), 0u);
  EXPECT_EQ(rig.Rd(kSvr), 0xFFu);

  // Reset puts the window back after a relocation.
  ASSERT_TRUE(rig.apic.SetApicBaseMsr(0xFED00000 | kEnable));
  rig.apic.Reset();
  EXPECT_EQ(rig.apic.mmio_base(), LocalApic::kDefaultBase);
  EXPECT_TRUE(rig.bus.IsMapped(LocalApic::kDefaultBase));
}

TEST_F(LocalApicTest, ApicBaseInvalidWritesFault) {
  Rig rig(clock_);
  uint64_t base = LocalApic::kDefaultBase;
  EXPECT_FALSE(
      rig.apic.SetApicBaseMsr(base | kEnable | 0x1));  // Reserved bit 0.
  EXPECT_FALSE(
      rig.apic.SetApicBaseMsr(base | kEnable | (1u << 9)));  // Reserved bit 9.
  EXPECT_FALSE(rig.apic.SetApicBaseMsr((uint64_t{1} << 40) |
                                       kEnable));       // Above MAXPHYADDR.
  EXPECT_FALSE(rig.apic.SetApicBaseMsr(base | kExtd));  // EXTD without EN.
  ASSERT_TRUE(rig.apic.SetApicBaseMsr(base));           // Disable.
  EXPECT_FALSE(
      rig.apic.SetApicBaseMsr(base | kEnable | kExtd));  // Disabled -> x2APIC.
  ASSERT_TRUE(rig.apic.SetApicBaseMsr(base | kEnable));
  ASSERT_TRUE(rig.apic.SetApicBaseMsr(base | kEnable | kExtd));
  EXPECT_FALSE(rig.apic.SetApicBaseMsr(base | kEnable));  // x2APIC -> xAPIC.
  ASSERT_TRUE(rig.apic.SetApicBaseMsr(base));  // x2APIC -> disabled is fine.

  Rig no_x2(clock_, {.x2apic_supported = false});
  EXPECT_FALSE(no_x2.apic.SetApicBaseMsr(base | kEnable | kExtd));
}

TEST_F(LocalApicTest, X2ApicMsrInterface) {
  Rig rig(clock_, {.apic_id = 0x23});
  EXPECT_FALSE(rig.apic.ReadMsr(0x802).has_value());  // Not in x2APIC mode yet.
  EXPECT_FALSE(rig.apic.WriteMsr(0x808, 0));
  ASSERT_TRUE(
      rig.apic.SetApicBaseMsr(LocalApic::kDefaultBase | kEnable | kExtd));
  EXPECT_TRUE(rig.apic.x2apic_mode());
  EXPECT_FALSE(rig.apic.mmio_base().has_value());  // MMIO interface gone.
  EXPECT_FALSE(rig.bus.IsMapped(LocalApic::kDefaultBase));

  EXPECT_EQ(rig.apic.ReadMsr(0x802), 0x23u);
  EXPECT_EQ(rig.apic.ReadMsr(0x803), 0x00050014u);
  EXPECT_EQ(rig.apic.ReadMsr(0x80D), 0x00020008u);  // Cluster 2, member bit 3.
  EXPECT_TRUE(rig.apic.WriteMsr(0x80F, 0x1FF));
  EXPECT_TRUE(rig.apic.WriteMsr(0x808, 0x40));
  EXPECT_EQ(rig.apic.ReadMsr(0x808), 0x40u);
  EXPECT_EQ(rig.apic.ReadMsr(0x80A), 0x40u);  // PPR.

  // Registers that do not exist in x2APIC mode, write-only and read-only
  // ones, reserved high bits: all #GP.
  for (uint32_t msr : {0x800u, 0x804u, 0x809u, 0x80Bu, 0x80Cu, 0x80Eu, 0x831u,
                       0x83Fu, 0x82Fu, 0x8FFu, 0x7FFu, 0x900u}) {
    EXPECT_FALSE(rig.apic.ReadMsr(msr).has_value()) << std::hex << msr;
  }
  EXPECT_FALSE(rig.apic.WriteMsr(0x802, 0));  // ID read-only.
  EXPECT_FALSE(rig.apic.WriteMsr(0x80D, 0));  // LDR read-only.
  EXPECT_FALSE(rig.apic.WriteMsr(0x80A, 0));  // PPR.
  EXPECT_FALSE(rig.apic.WriteMsr(0x839, 0));  // Current count.
  EXPECT_FALSE(rig.apic.WriteMsr(0x80B, 1));  // Non-zero EOI.
  EXPECT_FALSE(rig.apic.WriteMsr(0x828, 1));  // Non-zero ESR.
  EXPECT_FALSE(rig.apic.WriteMsr(0x808, 1ull << 32));
  EXPECT_FALSE(rig.apic.WriteMsr(0x80E, 0));  // DFR.
  EXPECT_FALSE(rig.apic.WriteMsr(0x831, 0));  // ICR high.
  EXPECT_TRUE(rig.apic.WriteMsr(0x80B, 0));
  EXPECT_TRUE(rig.apic.WriteMsr(0x828, 0));

  // SELF IPI and the 64-bit ICR.
  EXPECT_TRUE(rig.apic.WriteMsr(0x83F, 0x61));
  EXPECT_EQ(rig.Take(), 0x61);
  EXPECT_EQ(rig.apic.ReadMsr(0x810 + 0x61 / 32), 1u << (0x61 % 32));  // ISR.
  EXPECT_TRUE(rig.apic.WriteMsr(0x80B, 0));
  EXPECT_EQ(rig.apic.ReadMsr(0x813), 0u);
  // Physical IPI to our own 32-bit ID reaches us without a router.
  EXPECT_TRUE(rig.apic.WriteMsr(0x830, (uint64_t{0x23} << 32) | 0x72));
  EXPECT_EQ(rig.apic.ReadMsr(0x830), (uint64_t{0x23} << 32) | 0x72);
  EXPECT_EQ(rig.Take(), 0x72);
  // xAPIC MMIO accesses no longer reach the APIC.
  EXPECT_EQ(rig.bus.ReadValue(LocalApic::kDefaultBase + kTpr, 4), 0xFFFFFFFFu);
}

TEST_F(LocalApicTest, X2ApicIpiCarries32BitDestination) {
  Rig rig(clock_, {.apic_id = 1});
  std::vector<Ipi> sent;
  rig.apic.set_ipi_sink([&](const Ipi& ipi) { sent.push_back(ipi); });
  ASSERT_TRUE(
      rig.apic.SetApicBaseMsr(LocalApic::kDefaultBase | kEnable | kExtd));
  ASSERT_TRUE(rig.apic.WriteMsr(0x80F, 0x1FF));
  ASSERT_TRUE(rig.apic.WriteMsr(
      0x830, (uint64_t{0x12345} << 32) | (1u << 11) | 0x4000 | 0x450));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].destination, 0x12345u);
  EXPECT_TRUE(sent[0].x2apic_format);
  EXPECT_TRUE(sent[0].logical);
  EXPECT_EQ(sent[0].mode, ApicDeliveryMode::kNmi);
  EXPECT_EQ(sent[0].source, &rig.apic);
}

TEST_F(LocalApicTest, OneShotTimer) {
  Rig rig(clock_);
  rig.SoftwareEnable();
  rig.Wr(kLvtTimer, 0x30);
  rig.Wr(kDivide, 0x0);  // Divide by 2: 2 ns per count at 1 GHz.
  AdvanceTo(100);
  rig.Wr(kInitialCount, 1000);
  EXPECT_EQ(rig.Rd(kInitialCount), 1000u);
  EXPECT_EQ(rig.Rd(kCurrentCount), 1000u);
  AdvanceTo(600);
  EXPECT_EQ(rig.Rd(kCurrentCount), 750u);
  AdvanceTo(2099);
  EXPECT_EQ(rig.Rd(kCurrentCount), 1u);
  EXPECT_FALSE(rig.apic.HasInterrupt());
  AdvanceTo(2100);
  EXPECT_EQ(rig.Rd(kCurrentCount), 0u);
  EXPECT_TRUE(rig.Bit(kIrr, 0x30));
  EXPECT_EQ(rig.Take(), 0x30);
  rig.Wr(kEoi, 0);
  AdvanceTo(100000);
  EXPECT_FALSE(rig.apic.HasInterrupt());  // One shot only.
  EXPECT_EQ(rig.Rd(kCurrentCount), 0u);
  // Writing 0 stops a running timer.
  rig.Wr(kInitialCount, 10);
  rig.Wr(kInitialCount, 0);
  AdvanceTo(200000);
  EXPECT_FALSE(rig.apic.HasInterrupt());
}

TEST_F(LocalApicTest, TimerDivideSettings) {
  struct Case {
    uint32_t dcr;
    uint64_t divisor;
  };
  for (Case c : {Case{0x0, 2}, Case{0x1, 4}, Case{0x2, 8}, Case{0x3, 16},
                 Case{0x8, 32}, Case{0x9, 64}, Case{0xA, 128}, Case{0xB, 1}}) {
    VirtualClock clock(VirtualClock::Mode::kDeterministic);
    Rig rig(clock);
    rig.SoftwareEnable();
    rig.Wr(kLvtTimer, 0x31);
    rig.Wr(kDivide, c.dcr);
    rig.Wr(kInitialCount, 100);
    clock.AdvanceTo(100 * c.divisor - 1);
    clock.RunDueTimers();
    EXPECT_FALSE(rig.apic.HasInterrupt()) << "dcr " << c.dcr;
    EXPECT_EQ(rig.Rd(kCurrentCount), 1u) << "dcr " << c.dcr;
    clock.AdvanceTo(100 * c.divisor);
    clock.RunDueTimers();
    EXPECT_TRUE(rig.apic.HasInterrupt()) << "dcr " << c.dcr;
  }
}

TEST_F(LocalApicTest, PeriodicTimer) {
  Rig rig(clock_);
  rig.SoftwareEnable();
  rig.Wr(kDivide, 0xB);  // Divide by 1.
  rig.Wr(kLvtTimer, kPeriodic | 0x40);
  rig.Wr(kInitialCount, 100);
  std::vector<uint64_t> fired_at;
  for (uint64_t t = 1; t <= 350; ++t) {
    AdvanceTo(t);
    if (rig.Take() == 0x40) {
      fired_at.push_back(t);
      rig.Wr(kEoi, 0);
    }
  }
  EXPECT_EQ(fired_at, (std::vector<uint64_t>{100, 200, 300}));
  EXPECT_EQ(rig.Rd(kCurrentCount), 50u);  // t = 350.
  // A masked timer keeps counting without interrupts.
  rig.Wr(kLvtTimer, kPeriodic | kMasked | 0x40);
  AdvanceTo(1000);
  EXPECT_FALSE(rig.apic.HasInterrupt());
  EXPECT_EQ(rig.Rd(kCurrentCount), 100u);
  // A long jump coalesces the missed periods into one interrupt.
  rig.Wr(kLvtTimer, kPeriodic | 0x40);
  AdvanceTo(10050);
  EXPECT_EQ(rig.Take(), 0x40);
  rig.Wr(kEoi, 0);
  EXPECT_FALSE(rig.apic.HasInterrupt());
  EXPECT_EQ(rig.Rd(kCurrentCount), 50u);
  AdvanceTo(10100);
  EXPECT_EQ(rig.Take(), 0x40);
  // Switching to one-shot lets the current period run out and stop.
  rig.Wr(kEoi, 0);
  rig.Wr(kLvtTimer, 0x40);
  AdvanceTo(10200);
  EXPECT_EQ(rig.Take(), 0x40);
  rig.Wr(kEoi, 0);
  AdvanceTo(10400);
  EXPECT_FALSE(rig.apic.HasInterrupt());
}

TEST_F(LocalApicTest, DivideChangeWhileCounting) {
  Rig rig(clock_);
  rig.SoftwareEnable();
  rig.Wr(kLvtTimer, 0x41);
  rig.Wr(kDivide, 0xB);  // 1 ns per count.
  rig.Wr(kInitialCount, 1000);
  AdvanceTo(400);
  EXPECT_EQ(rig.Rd(kCurrentCount), 600u);
  rig.Wr(kDivide, 0x1);  // 4 ns per count from here: 600 counts = 2400 ns.
  EXPECT_EQ(rig.Rd(kCurrentCount), 600u);
  AdvanceTo(800);
  EXPECT_EQ(rig.Rd(kCurrentCount), 500u);
  AdvanceTo(2799);
  EXPECT_FALSE(rig.apic.HasInterrupt());
  AdvanceTo(2800);
  EXPECT_EQ(rig.Take(), 0x41);
}

TEST_F(LocalApicTest, TscDeadlineTimer) {
  Rig rig(clock_);
  // A 2 GHz TSC derived from virtual time.
  rig.apic.set_tsc([this] { return clock_.now_ns() * 2; }, 2'000'000'000);
  rig.SoftwareEnable();
  // Writes outside TSC-deadline mode are ignored.
  rig.apic.WriteTscDeadline(100);
  EXPECT_EQ(rig.apic.ReadTscDeadline(), 0u);

  rig.Wr(kLvtTimer, kTscDeadline | 0x50);
  EXPECT_EQ(rig.Rd(kLvtTimer), kTscDeadline | 0x50);
  rig.Wr(kInitialCount, 5);  // Ignored in TSC-deadline mode.
  EXPECT_EQ(rig.Rd(kInitialCount), 0u);
  EXPECT_EQ(rig.Rd(kCurrentCount), 0u);

  AdvanceTo(1000);                  // TSC = 2000.
  rig.apic.WriteTscDeadline(4001);  // 1000.5 ns away: fires at 2001 ns.
  EXPECT_EQ(rig.apic.ReadTscDeadline(), 4001u);
  AdvanceTo(2000);
  EXPECT_FALSE(rig.apic.HasInterrupt());
  AdvanceTo(2001);
  EXPECT_EQ(rig.Take(), 0x50);
  EXPECT_EQ(rig.apic.ReadTscDeadline(), 0u);  // Disarmed after firing.
  rig.Wr(kEoi, 0);

  // A deadline already passed fires immediately; 0 disarms.
  rig.apic.WriteTscDeadline(1);
  EXPECT_EQ(rig.Take(), 0x50);
  rig.Wr(kEoi, 0);
  rig.apic.WriteTscDeadline(10000);
  rig.apic.WriteTscDeadline(0);
  AdvanceTo(20000);
  EXPECT_FALSE(rig.apic.HasInterrupt());

  // Leaving TSC-deadline mode disarms the timer.
  rig.apic.WriteTscDeadline(50000);
  rig.Wr(kLvtTimer, 0x50);
  EXPECT_EQ(rig.apic.ReadTscDeadline(), 0u);
  AdvanceTo(40000);
  EXPECT_FALSE(rig.apic.HasInterrupt());
}

TEST_F(LocalApicTest, PriorityTprAndPpr) {
  Rig rig(clock_);
  rig.SoftwareEnable();
  rig.apic.DeliverInterrupt(0x31, ApicDeliveryMode::kFixed, false);
  rig.apic.DeliverInterrupt(0x52, ApicDeliveryMode::kFixed, false);
  EXPECT_TRUE(rig.Bit(kIrr, 0x31));
  EXPECT_TRUE(rig.Bit(kIrr, 0x52));
  rig.Wr(kTpr, 0x50);  // Class 5 blocks 0x52 (class must be above).
  EXPECT_EQ(rig.Rd(kPpr), 0x50u);
  EXPECT_EQ(rig.Rd(kApr), 0x50u);
  EXPECT_FALSE(rig.apic.HasInterrupt());
  rig.apic.SetCr8(4);  // TPR 0x40.
  EXPECT_EQ(rig.Rd(kTpr), 0x40u);
  EXPECT_EQ(rig.apic.GetCr8(), 4u);
  EXPECT_EQ(rig.Take(), 0x52);
  EXPECT_TRUE(rig.Bit(kIsr, 0x52));
  EXPECT_FALSE(rig.Bit(kIrr, 0x52));
  EXPECT_EQ(rig.Rd(kPpr), 0x50u);         // ISRV class dominates TPR.
  EXPECT_FALSE(rig.apic.HasInterrupt());  // 0x31 is below.
  rig.Wr(kEoi, 0);
  EXPECT_EQ(rig.Rd(kPpr), 0x40u);
  EXPECT_FALSE(rig.apic.HasInterrupt());  // 0x31 still below TPR.
  rig.apic.SetTpr(0x2F);
  EXPECT_EQ(rig.apic.GetCr8(), 2u);
  EXPECT_EQ(rig.Rd(kPpr), 0x2Fu);
  EXPECT_EQ(rig.Take(), 0x31);
}

TEST_F(LocalApicTest, NestedIsrAndEoiOrder) {
  Rig rig(clock_);
  rig.SoftwareEnable();
  rig.apic.DeliverInterrupt(0x40, ApicDeliveryMode::kFixed, false);
  EXPECT_EQ(rig.Take(), 0x40);
  rig.apic.DeliverInterrupt(0x45, ApicDeliveryMode::kFixed,
                            false);  // Same class: waits.
  EXPECT_FALSE(rig.apic.HasInterrupt());
  rig.apic.DeliverInterrupt(0x80, ApicDeliveryMode::kFixed,
                            false);  // Higher: nests.
  EXPECT_EQ(rig.Take(), 0x80);
  EXPECT_TRUE(rig.Bit(kIsr, 0x40));
  EXPECT_TRUE(rig.Bit(kIsr, 0x80));
  EXPECT_EQ(rig.Rd(kPpr), 0x80u);
  rig.Wr(kEoi, 0);  // Retires the highest, 0x80.
  EXPECT_FALSE(rig.Bit(kIsr, 0x80));
  EXPECT_TRUE(rig.Bit(kIsr, 0x40));
  EXPECT_FALSE(rig.apic.HasInterrupt());
  rig.Wr(kEoi, 0);
  EXPECT_FALSE(rig.Bit(kIsr, 0x40));
  EXPECT_EQ(rig.Take(), 0x45);
  rig.Wr(kEoi, 0);
  rig.Wr(kEoi, 0);  // EOI with nothing in service is harmless.
  EXPECT_EQ(rig.Rd(kIsr + 0x20), 0u);
}

TEST_F(LocalApicTest, LevelTriggeredEoiBroadcast) {
  Rig rig(clock_);
  std::vector<uint8_t> eois;
  rig.apic.set_eoi_broadcast([&](uint8_t v) { eois.push_back(v); });
  rig.SoftwareEnable();
  rig.apic.DeliverInterrupt(0x60, ApicDeliveryMode::kFixed, true);
  rig.apic.DeliverInterrupt(0x70, ApicDeliveryMode::kFixed, false);
  EXPECT_TRUE(rig.Bit(kTmr, 0x60));
  EXPECT_FALSE(rig.Bit(kTmr, 0x70));
  EXPECT_EQ(rig.Take(), 0x70);
  rig.Wr(kEoi, 0);
  EXPECT_TRUE(eois.empty());  // Edge: no broadcast.
  EXPECT_EQ(rig.Take(), 0x60);
  rig.Wr(kEoi, 0);
  EXPECT_EQ(eois, std::vector<uint8_t>{0x60});
}

TEST_F(LocalApicTest, DirectedEoiSuppressesBroadcast) {
  Rig rig(clock_, {.directed_eoi = true});
  int eois = 0;
  rig.apic.set_eoi_broadcast([&](uint8_t) { ++eois; });
  EXPECT_EQ(rig.Rd(kVersion), 0x01050014u);
  rig.Wr(kSvr, 0x11FF);
  EXPECT_EQ(rig.Rd(kSvr), 0x11FFu);
  rig.apic.DeliverInterrupt(0x60, ApicDeliveryMode::kFixed, true);
  EXPECT_EQ(rig.Take(), 0x60);
  rig.Wr(kEoi, 0);
  EXPECT_EQ(eois, 0);
}

TEST_F(LocalApicTest, SpuriousVectorAtInta) {
  Rig rig(clock_);
  rig.SoftwareEnable(0xEF);
  EXPECT_FALSE(rig.apic.HasInterrupt());
  EXPECT_EQ(rig.apic.AcknowledgeInterrupt(), 0xEF);
  // TPR raised between INTR and INTA: spurious, and IRR/ISR unchanged.
  rig.apic.DeliverInterrupt(0x55, ApicDeliveryMode::kFixed, false);
  ASSERT_TRUE(rig.apic.HasInterrupt());
  rig.apic.SetCr8(0xF);
  EXPECT_EQ(rig.apic.AcknowledgeInterrupt(), 0xEF);
  EXPECT_TRUE(rig.Bit(kIrr, 0x55));
  EXPECT_FALSE(rig.Bit(kIsr, 0x55));
  EXPECT_EQ(rig.Rd(kIsr + 0x70), 0u);
}

TEST_F(LocalApicTest, Lint0ExtIntPassthrough) {
  Rig rig(clock_);
  FakePic pic;
  rig.apic.set_pic(&pic);
  pic.vector = 0x20;
  // Reset state: software disabled, the 8259 reaches INTR (virtual wire).
  pic.pending = true;
  EXPECT_TRUE(rig.apic.HasInterrupt());
  EXPECT_EQ(rig.apic.AcknowledgeInterrupt(), 0x20);
  EXPECT_EQ(pic.acks, 1);
  // Software enabled with LINT0 masked (its reset value): blocked.
  rig.SoftwareEnable();
  pic.pending = true;
  EXPECT_FALSE(rig.apic.HasInterrupt());
  // What firmware does (SeaBIOS, MP spec virtual wire): LINT0 ExtINT.
  rig.Wr(kLvtLint0, 0x8700);
  EXPECT_TRUE(rig.apic.HasInterrupt());
  // ExtINT ignores the TPR and comes before APIC vectors.
  rig.apic.DeliverInterrupt(0x90, ApicDeliveryMode::kFixed, false);
  rig.Wr(kTpr, 0xF0);
  EXPECT_EQ(rig.apic.AcknowledgeInterrupt(), 0x20);
  EXPECT_EQ(pic.acks, 2);
  EXPECT_FALSE(rig.Bit(kIsr, 0x20));
  rig.Wr(kTpr, 0);
  EXPECT_EQ(rig.Take(), 0x90);
  // Globally disabled: the 8259 drives INTR directly.
  ASSERT_TRUE(rig.apic.SetApicBaseMsr(LocalApic::kDefaultBase));
  pic.pending = true;
  EXPECT_TRUE(rig.apic.HasInterrupt());
  EXPECT_EQ(rig.apic.AcknowledgeInterrupt(), 0x20);
  EXPECT_FALSE(rig.apic.HasInterrupt());
}

TEST_F(LocalApicTest, ExtIntMessageFromIoApic) {
  Rig rig(clock_);
  FakePic pic;
  rig.apic.set_pic(&pic);
  rig.SoftwareEnable();  // LINT0 masked.
  pic.pending = true;
  EXPECT_FALSE(rig.apic.HasInterrupt());
  EXPECT_TRUE(rig.apic.DeliverInterrupt(0, ApicDeliveryMode::kExtInt, false));
  EXPECT_TRUE(rig.apic.HasInterrupt());
  EXPECT_EQ(rig.apic.AcknowledgeInterrupt(), 0x08);
  pic.pending = true;
  EXPECT_FALSE(rig.apic.HasInterrupt());  // One message, one INTA.
}

TEST_F(LocalApicTest, Lint1NmiAndNmiIpi) {
  Rig rig(clock_);
  // Globally enabled, software disabled: LINT1 acts as NMI.
  rig.apic.lint1()->Pulse();
  EXPECT_TRUE(rig.apic.TakeNmi());
  EXPECT_FALSE(rig.apic.TakeNmi());
  rig.SoftwareEnable();
  rig.apic.lint1()->Pulse();  // Masked now.
  EXPECT_FALSE(rig.apic.TakeNmi());
  rig.Wr(kLvtLint1, 0x400);
  rig.apic.lint1()->Raise();
  rig.apic.lint1()->Raise();  // No second edge.
  EXPECT_TRUE(rig.apic.TakeNmi());
  EXPECT_FALSE(rig.apic.TakeNmi());
  rig.apic.lint1()->Lower();
  // NMI IPI to our own physical ID.
  rig.Wr(kIcrHigh, 0);
  rig.Wr(kIcrLow, 0x4400);
  EXPECT_TRUE(rig.apic.TakeNmi());
  EXPECT_EQ(rig.Rd(kIcrLow), 0x4400u);  // Delivery status idle.
}

TEST_F(LocalApicTest, Lint0LevelRemoteIrr) {
  Rig rig(clock_);
  std::vector<uint8_t> eois;
  rig.apic.set_eoi_broadcast([&](uint8_t v) { eois.push_back(v); });
  rig.SoftwareEnable();
  rig.apic.lint0()->Raise();  // Idle level of an active-low wire.
  rig.Wr(kLvtLint0, 0x8000 | 0x2000 | 0x68);  // Fixed, level, active low.
  EXPECT_FALSE(rig.apic.HasInterrupt());
  rig.apic.lint0()->Lower();                       // Active.
  EXPECT_EQ(rig.Rd(kLvtLint0) & 0x4000, 0x4000u);  // Remote IRR.
  EXPECT_TRUE(rig.Bit(kTmr, 0x68));
  EXPECT_EQ(rig.Take(), 0x68);
  rig.Wr(kEoi, 0);  // Still asserted: delivered again.
  EXPECT_EQ(eois, std::vector<uint8_t>{0x68});
  EXPECT_TRUE(rig.Bit(kIrr, 0x68));
  EXPECT_EQ(rig.Take(), 0x68);
  rig.apic.lint0()->Raise();  // Deasserted.
  rig.Wr(kEoi, 0);
  EXPECT_FALSE(rig.apic.HasInterrupt());
  EXPECT_EQ(rig.Rd(kLvtLint0) & 0x4000, 0u);
  // Edge LINT0: one interrupt per active edge.
  rig.apic.lint0()->Lower();
  rig.Wr(kLvtLint0, 0x69);
  rig.apic.lint0()->Pulse();
  EXPECT_EQ(rig.Take(), 0x69);
  EXPECT_FALSE(rig.Bit(kTmr, 0x69));
}

TEST_F(LocalApicTest, IllegalVectorsAndErrorInterrupt) {
  Rig rig(clock_);
  rig.SoftwareEnable();
  rig.Wr(kLvtError, 0xFE);
  EXPECT_FALSE(
      rig.apic.DeliverInterrupt(0x05, ApicDeliveryMode::kFixed, false));
  EXPECT_EQ(rig.Rd(kEsr), 0u);  // Latched by the next ESR write.
  rig.Wr(kEsr, 0);
  EXPECT_EQ(rig.Rd(kEsr), 0x40u);  // Receive illegal vector.
  EXPECT_EQ(rig.Take(), 0xFE);     // Error interrupt.
  rig.Wr(kEoi, 0);
  rig.Wr(kIcrLow, 0x4000 | 0x03);  // Fixed IPI with vector 3.
  rig.Wr(kEsr, 0);
  EXPECT_EQ(rig.Rd(kEsr), 0x20u);  // Send illegal vector.
  rig.Wr(kEsr, 0);
  EXPECT_EQ(rig.Rd(kEsr), 0u);
  // An error LVT with an illegal vector must not recurse.
  rig.Wr(kLvtError, 0x02);
  rig.apic.DeliverInterrupt(0x01, ApicDeliveryMode::kFixed, false);
  rig.Wr(kEsr, 0);
  EXPECT_EQ(rig.Rd(kEsr), 0x40u);
}

TEST_F(LocalApicTest, IpisThroughRouter) {
  Rig a(clock_, {.apic_id = 0});
  Rig b(clock_, {.apic_id = 1, .bsp = false});
  ApicRouter router;
  router.Add(&a.apic);
  router.Add(&b.apic);
  a.apic.set_ipi_sink([&](const Ipi& ipi) { router.SendIpi(ipi); });
  b.apic.set_ipi_sink([&](const Ipi& ipi) { router.SendIpi(ipi); });
  a.SoftwareEnable();
  b.SoftwareEnable();

  // Physical, fixed.
  a.Wr(kIcrHigh, 0x01000000);
  a.Wr(kIcrLow, 0x4000 | 0x81);
  EXPECT_EQ(b.Take(), 0x81);
  EXPECT_EQ(a.Take(), -1);
  b.Wr(kEoi, 0);
  // Self shorthand.
  a.Wr(kIcrLow, (1u << 18) | 0x82);
  EXPECT_EQ(a.Take(), 0x82);
  a.Wr(kEoi, 0);
  // All excluding self / all including self.
  a.Wr(kIcrLow, (3u << 18) | 0x83);
  EXPECT_EQ(a.Take(), -1);
  EXPECT_EQ(b.Take(), 0x83);
  b.Wr(kEoi, 0);
  a.Wr(kIcrLow, (2u << 18) | 0x84);
  EXPECT_EQ(a.Take(), 0x84);
  EXPECT_EQ(b.Take(), 0x84);
  a.Wr(kEoi, 0);
  b.Wr(kEoi, 0);
  // Logical flat: LDR bits 0x01 and 0x02, destination 0x02.
  a.Wr(kLdr, 0x01000000);
  b.Wr(kLdr, 0x02000000);
  a.Wr(kIcrHigh, 0x02000000);
  a.Wr(kIcrLow, (1u << 11) | 0x85);
  EXPECT_EQ(b.Take(), 0x85);
  EXPECT_EQ(a.Take(), -1);
  b.Wr(kEoi, 0);
  // Lowest priority to both: the one with the lower TPR gets it.
  a.Wr(kTpr, 0x20);
  b.Wr(kTpr, 0x10);
  a.Wr(kIcrHigh, 0x03000000);
  a.Wr(kIcrLow, (1u << 11) | 0x100 | 0x86);
  EXPECT_EQ(b.Take(), 0x86);
  EXPECT_EQ(a.Take(), -1);
  b.Wr(kEoi, 0);
  // INIT and SIPI are recorded for the board; INIT de-assert is not sent.
  b.Wr(kIcrHigh, 0x00000000);
  b.Wr(kIcrLow, 0x8000 | 0x500);  // INIT level de-assert.
  EXPECT_FALSE(a.apic.TakeInit());
  b.Wr(kIcrLow, 0x4500);
  EXPECT_TRUE(a.apic.TakeInit());
  EXPECT_FALSE(a.apic.TakeInit());
  b.Wr(kIcrLow, 0x4600 | 0x9A);
  EXPECT_EQ(a.apic.TakeSipi(), 0x9A);
  EXPECT_FALSE(a.apic.TakeSipi().has_value());
}

TEST_F(LocalApicTest, LogicalClusterAndX2ApicMatching) {
  Rig rig(clock_, {.apic_id = 0x21});
  rig.SoftwareEnable();
  rig.Wr(kDfr, 0x0FFFFFFF);  // Cluster model.
  rig.Wr(kLdr, 0x32000000);  // Cluster 3, member bit 1.
  EXPECT_TRUE(rig.apic.AcceptsDestination(0x32, true, false));
  EXPECT_TRUE(rig.apic.AcceptsDestination(0x36, true, false));
  EXPECT_FALSE(rig.apic.AcceptsDestination(0x22, true, false));
  EXPECT_FALSE(rig.apic.AcceptsDestination(0x31, true, false));
  EXPECT_TRUE(rig.apic.AcceptsDestination(0xF2, true, false));  // All clusters.
  EXPECT_TRUE(rig.apic.AcceptsDestination(0xFF, true, false));
  EXPECT_TRUE(rig.apic.AcceptsDestination(0x21, false, false));
  EXPECT_TRUE(rig.apic.AcceptsDestination(0xFF, false, false));
  EXPECT_FALSE(rig.apic.AcceptsDestination(0x20, false, false));
  ASSERT_TRUE(
      rig.apic.SetApicBaseMsr(LocalApic::kDefaultBase | kEnable | kExtd));
  // x2APIC logical ID: cluster 2, bit 1.
  EXPECT_TRUE(rig.apic.AcceptsDestination(0x00020002, true, true));
  EXPECT_FALSE(rig.apic.AcceptsDestination(0x00010002, true, true));
  EXPECT_TRUE(rig.apic.AcceptsDestination(0x21, false, true));
  EXPECT_TRUE(rig.apic.AcceptsDestination(0xFFFFFFFF, false, true));
  EXPECT_TRUE(rig.apic.AcceptsDestination(0xFF, false,
                                          false));  // xAPIC-format broadcast.
  ASSERT_TRUE(rig.apic.SetApicBaseMsr(LocalApic::kDefaultBase));
  EXPECT_FALSE(rig.apic.AcceptsDestination(0xFF, false, false));  // Disabled.
}

TEST_F(LocalApicTest, InitResetKeepsIdAndBase) {
  Rig rig(clock_, {.apic_id = 2});
  rig.SoftwareEnable();
  rig.Wr(kId, 0x07000000);
  rig.Wr(kTpr, 0x30);
  ASSERT_TRUE(rig.apic.SetApicBaseMsr(0xFED00000 | kEnable));
  rig.apic.InitReset();
  EXPECT_EQ(rig.apic.apic_base_msr(), 0xFED00900u);
  EXPECT_EQ(rig.Rd(kId), 0x07000000u);
  EXPECT_EQ(rig.Rd(kTpr), 0u);
  EXPECT_EQ(rig.Rd(kSvr), 0xFFu);
}

TEST_F(LocalApicTest, SaveLoadRoundTrip) {
  auto rig = std::make_unique<Rig>(clock_, LocalApic::Config{.apic_id = 4});
  FakePic pic;
  rig->apic.set_pic(&pic);
  rig->SoftwareEnable(0xEF);
  rig->Wr(kTpr, 0x20);
  rig->Wr(kLdr, 0x08000000);
  rig->Wr(kLvtLint0, 0x8700);
  rig->apic.DeliverInterrupt(0x50, ApicDeliveryMode::kFixed, true);
  EXPECT_EQ(rig->Take(), 0x50);
  rig->apic.DeliverInterrupt(0x44, ApicDeliveryMode::kFixed, false);
  rig->Wr(kDivide, 0xB);
  rig->Wr(kLvtTimer, kPeriodic | 0x60);
  AdvanceTo(1000);
  rig->Wr(kInitialCount, 300);  // Fires at 1300, 1600, ...
  AdvanceTo(1100);
  ASSERT_TRUE(rig->apic.SetApicBaseMsr(0xFED00000 | kEnable));
  rig->apic.lint1()->Raise();

  Serializer save = Serializer::ForSave();
  rig->apic.Serialize(save);
  std::vector<uint8_t> bytes = save.data();
  rig.reset();

  Rig fresh(clock_, {.apic_id = 4});
  std::vector<uint8_t> eois;
  fresh.apic.set_eoi_broadcast([&](uint8_t v) { eois.push_back(v); });
  fresh.apic.set_pic(&pic);
  Serializer load = Serializer::ForLoad(bytes);
  fresh.apic.Serialize(load);
  ASSERT_TRUE(load.ok()) << load.error();
  EXPECT_TRUE(load.at_end());
  // The window followed the loaded IA32_APIC_BASE.
  EXPECT_EQ(fresh.apic.mmio_base(), 0xFED00000u);
  EXPECT_TRUE(fresh.bus.IsMapped(0xFED00000));
  EXPECT_FALSE(fresh.bus.IsMapped(LocalApic::kDefaultBase));

  Serializer again = Serializer::ForSave();
  fresh.apic.Serialize(again);
  EXPECT_EQ(again.data(), bytes);

  // Behaviour continues: registers, timer phase, ISR/TMR and EOI broadcast.
  EXPECT_EQ(fresh.Rd(kTpr), 0x20u);
  EXPECT_EQ(fresh.Rd(kLdr), 0x08000000u);
  EXPECT_EQ(fresh.Rd(kCurrentCount), 200u);
  EXPECT_TRUE(fresh.Bit(kIsr, 0x50));
  fresh.Wr(kEoi, 0);
  EXPECT_EQ(eois, std::vector<uint8_t>{0x50});
  EXPECT_EQ(fresh.Take(), 0x44);
  fresh.Wr(kEoi, 0);
  AdvanceTo(1299);
  EXPECT_FALSE(fresh.apic.HasInterrupt());
  AdvanceTo(1300);
  EXPECT_EQ(fresh.Take(), 0x60);
  fresh.Wr(kEoi, 0);
  AdvanceTo(1600);
  EXPECT_EQ(fresh.Take(), 0x60);
  // LINT0 ExtINT survived; the LINT1 level was kept (no new edge).
  pic.pending = true;
  EXPECT_EQ(fresh.Take(), 0x08);
  EXPECT_EQ(fresh.apic.AcknowledgeInterrupt(),
            0xEF);  // Nothing left: spurious.
}

TEST_F(LocalApicTest, LoadRejectsTruncatedStream) {
  Rig rig(clock_);
  Serializer save = Serializer::ForSave();
  rig.apic.Serialize(save);
  std::vector<uint8_t> bytes = save.data();
  bytes.resize(bytes.size() / 2);
  Rig fresh(clock_);
  Serializer load = Serializer::ForLoad(bytes);
  fresh.apic.Serialize(load);
  EXPECT_FALSE(load.ok());
}

}  // namespace
}  // namespace x86vm
