#include "devices/ioapic.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "devices/clock.h"
#include "devices/local_apic.h"

namespace x86vm {
namespace {

constexpr uint64_t kBase = IoApic::kDefaultBase;
constexpr uint32_t kMasked = 1u << 16;
constexpr uint32_t kLevel = 1u << 15;
constexpr uint32_t kRemoteIrr = 1u << 14;
constexpr uint32_t kActiveLow = 1u << 13;
constexpr uint32_t kLogical = 1u << 11;

struct Message {
  uint8_t destination;
  bool logical;
  uint8_t vector;
  int mode;
  bool level;
  bool operator==(const Message&) const = default;
};

// An IOAPIC on an MMIO bus whose messages are recorded.
struct Rig {
  explicit Rig(uint8_t id = 0, uint8_t version = 0x20) : ioapic(id, version) {
    EXPECT_TRUE(
        bus.Register(kBase, IoApic::kMmioSize, &ioapic, "ioapic").has_value());
    ioapic.set_delivery([this](uint8_t d, bool l, uint8_t v, int m, bool lv) {
      sent.push_back({d, l, v, m, lv});
      return accept;
    });
  }
  uint32_t ReadReg(uint8_t index) {
    bus.WriteValue(kBase, 1, index);
    return static_cast<uint32_t>(bus.ReadValue(kBase + 0x10, 4));
  }
  void WriteReg(uint8_t index, uint32_t value) {
    bus.WriteValue(kBase, 4, index);
    bus.WriteValue(kBase + 0x10, 4, value);
  }
  void Route(int pin, uint32_t low, uint8_t destination = 0) {
    WriteReg(static_cast<uint8_t>(0x11 + 2 * pin), uint32_t{destination} << 24);
    WriteReg(static_cast<uint8_t>(0x10 + 2 * pin), low);
  }
  uint32_t Low(int pin) {
    return ReadReg(static_cast<uint8_t>(0x10 + 2 * pin));
  }

  Bus bus{"mmio"};
  IoApic ioapic;
  std::vector<Message> sent;
  bool accept = true;
};

TEST(IoApicTest, IdentificationRegisters) {
  Rig rig(/*id=*/2);
  EXPECT_EQ(rig.ReadReg(0x00), 0x02000000u);
  EXPECT_EQ(rig.ReadReg(0x01), 0x00170020u);  // 24 entries, version 0x20.
  EXPECT_EQ(rig.ReadReg(0x02), 0x02000000u);
  rig.WriteReg(0x00, 0xFFFFFFFF);
  EXPECT_EQ(rig.ReadReg(0x00), 0x0F000000u);
  rig.WriteReg(0x01, 0);  // Read-only.
  EXPECT_EQ(rig.ReadReg(0x01), 0x00170020u);
  EXPECT_EQ(rig.bus.ReadValue(kBase, 1), 0x01u);  // IOREGSEL reads back.

  Rig old(0, 0x11);
  EXPECT_EQ(old.ReadReg(0x01), 0x00170011u);
}

TEST(IoApicTest, RedirectionTableResetAndWritableBits) {
  Rig rig;
  for (int pin = 0; pin < IoApic::kPins; ++pin) {
    EXPECT_EQ(rig.Low(pin), kMasked) << pin;
    EXPECT_EQ(rig.ReadReg(static_cast<uint8_t>(0x11 + 2 * pin)), 0u) << pin;
  }
  // Delivery status (12) and remote IRR (14) are read-only; bits 31:17
  // reserved; only the destination byte of the high half exists.
  rig.WriteReg(0x10, 0xFFFFFFFF);
  EXPECT_EQ(rig.Low(0), 0x0001AFFFu);
  rig.WriteReg(0x11, 0xFFFFFFFF);
  EXPECT_EQ(rig.ReadReg(0x11), 0xFF000000u);
  // Indices past the table read 0 and ignore writes.
  rig.WriteReg(0x40, 0x1234);
  EXPECT_EQ(rig.ReadReg(0x40), 0u);
  EXPECT_EQ(rig.ReadReg(0xFF), 0u);
  EXPECT_EQ(rig.ioapic.input(24), nullptr);
  EXPECT_EQ(rig.ioapic.input(-1), nullptr);
  EXPECT_NE(rig.ioapic.input(23), nullptr);
}

TEST(IoApicTest, NarrowIoWinAccess) {
  Rig rig;
  rig.Route(3, kMasked | 0x33);
  rig.bus.WriteValue(kBase, 1, 0x16);
  EXPECT_EQ(rig.bus.ReadValue(kBase + 0x10, 1), 0x33u);
  EXPECT_EQ(rig.bus.ReadValue(kBase + 0x12, 1), 0x01u);
  rig.bus.WriteValue(kBase + 0x10, 1, 0x44);  // Merges into the low byte.
  EXPECT_EQ(rig.Low(3), kMasked | 0x44);
}

TEST(IoApicTest, EdgePinDeliversOnRisingEdge) {
  Rig rig;
  rig.Route(4, 0x34, /*destination=*/1);
  IrqLine* pin = rig.ioapic.input(4);
  pin->Raise();
  ASSERT_EQ(rig.sent.size(), 1u);
  EXPECT_EQ(rig.sent[0], (Message{1, false, 0x34, 0, false}));
  pin->Raise();  // No new edge.
  EXPECT_EQ(rig.sent.size(), 1u);
  pin->Lower();
  EXPECT_EQ(rig.sent.size(), 1u);
  pin->Pulse();
  EXPECT_EQ(rig.sent.size(), 2u);
  EXPECT_EQ(rig.Low(4) & kRemoteIrr, 0u);
}

TEST(IoApicTest, ActiveLowPolarity) {
  Rig rig;
  IrqLine* pin = rig.ioapic.input(5);
  pin->Raise();  // Idle level of an active-low wire.
  rig.Route(5, kActiveLow | 0x35);
  EXPECT_TRUE(rig.sent.empty());
  pin->Lower();  // Falling wire = active edge.
  EXPECT_EQ(rig.sent.size(), 1u);
  pin->Raise();
  EXPECT_EQ(rig.sent.size(), 1u);

  // Level, active low: asserted while the wire is low.
  rig.Route(6, kMasked | kLevel | kActiveLow | 0x36);
  rig.ioapic.input(6)->Raise();
  rig.Route(6, kLevel | kActiveLow | 0x36);
  EXPECT_EQ(rig.sent.size(), 1u);
  rig.ioapic.input(6)->Lower();
  ASSERT_EQ(rig.sent.size(), 2u);
  EXPECT_EQ(rig.sent[1], (Message{0, false, 0x36, 0, true}));
}

TEST(IoApicTest, MaskedEdgeIsHeldUntilUnmasked) {
  Rig rig;
  rig.Route(7, kMasked | 0x37);
  rig.ioapic.input(7)->Pulse();
  rig.ioapic.input(7)->Pulse();
  EXPECT_TRUE(rig.sent.empty());
  rig.Route(7, 0x37);
  EXPECT_EQ(rig.sent.size(), 1u);  // Edges coalesce into one.
  rig.Route(7, 0x37);
  EXPECT_EQ(rig.sent.size(), 1u);
}

TEST(IoApicTest, LevelPinRemoteIrrAndEoi) {
  Rig rig;
  rig.Route(9, kLevel | 0x49);
  IrqLine* pin = rig.ioapic.input(9);
  pin->Raise();
  ASSERT_EQ(rig.sent.size(), 1u);
  EXPECT_TRUE(rig.sent[0].level);
  EXPECT_EQ(rig.Low(9) & kRemoteIrr, kRemoteIrr);
  pin->Raise();  // Still asserted, remote IRR set: nothing new.
  EXPECT_EQ(rig.sent.size(), 1u);
  rig.ioapic.Eoi(0x50);  // Another vector: no effect.
  EXPECT_EQ(rig.sent.size(), 1u);
  rig.ioapic.Eoi(0x49);  // Still asserted: sent again.
  EXPECT_EQ(rig.sent.size(), 2u);
  EXPECT_EQ(rig.Low(9) & kRemoteIrr, kRemoteIrr);
  pin->Lower();
  rig.ioapic.Eoi(0x49);
  EXPECT_EQ(rig.sent.size(), 2u);
  EXPECT_EQ(rig.Low(9) & kRemoteIrr, 0u);
  // Writes cannot set or clear remote IRR.
  pin->Raise();
  rig.Route(9, kLevel | 0x49);
  EXPECT_EQ(rig.Low(9) & kRemoteIrr, kRemoteIrr);
  EXPECT_EQ(rig.sent.size(), 3u);
}

TEST(IoApicTest, EoiRegister) {
  Rig rig;  // Version 0x20.
  rig.Route(10, kLevel | 0x4A);
  rig.ioapic.input(10)->Raise();
  rig.bus.WriteValue(kBase + 0x40, 4, 0x4A);
  EXPECT_EQ(rig.sent.size(), 2u);

  Rig old(0, 0x11);  // No EOI register on the 82093AA.
  old.Route(10, kLevel | 0x4A);
  old.ioapic.input(10)->Raise();
  old.bus.WriteValue(kBase + 0x40, 4, 0x4A);
  EXPECT_EQ(old.sent.size(), 1u);
  EXPECT_EQ(old.Low(10) & kRemoteIrr, kRemoteIrr);
  // Linux's fallback: switch to edge and back to clear remote IRR.
  old.Route(10, kMasked | 0x4A);
  EXPECT_EQ(old.Low(10) & kRemoteIrr, 0u);
  old.Route(10, kLevel | 0x4A);
  EXPECT_EQ(old.sent.size(), 2u);
}

TEST(IoApicTest, LevelMaskingAndRejectedDelivery) {
  Rig rig;
  rig.Route(11, kMasked | kLevel | 0x4B);
  rig.ioapic.input(11)->Raise();
  EXPECT_TRUE(rig.sent.empty());
  rig.Route(11, kLevel | 0x4B);  // Unmasked while asserted.
  EXPECT_EQ(rig.sent.size(), 1u);

  // Nobody accepted: no remote IRR, retried on the next change.
  rig.accept = false;
  rig.Route(12, kLevel | 0x4C);
  rig.ioapic.input(12)->Raise();
  EXPECT_EQ(rig.sent.size(), 2u);
  EXPECT_EQ(rig.Low(12) & kRemoteIrr, 0u);
  rig.accept = true;
  rig.ioapic.input(12)->Raise();
  EXPECT_EQ(rig.sent.size(), 3u);
  EXPECT_EQ(rig.Low(12) & kRemoteIrr, kRemoteIrr);
}

TEST(IoApicTest, DeliveryModesAndDestinations) {
  Rig rig;
  rig.Route(1, kLogical | (4u << 8), /*destination=*/0x0C);  // NMI, logical.
  rig.Route(2, (7u << 8), 0);                                // ExtINT.
  rig.Route(3, (3u << 8) | 0x40, 0);                         // Reserved.
  rig.ioapic.input(1)->Pulse();
  rig.ioapic.input(2)->Pulse();
  rig.ioapic.input(3)->Pulse();
  ASSERT_EQ(rig.sent.size(), 2u);
  EXPECT_EQ(rig.sent[0], (Message{0x0C, true, 0, 4, false}));
  EXPECT_EQ(rig.sent[1], (Message{0, false, 0, 7, false}));
}

// The IOAPIC feeding real local APICs through the router, with the EOI
// broadcast wired back.
struct Board {
  Board() {
    for (int i = 0; i < 2; ++i) {
      apics.push_back(std::make_unique<LocalApic>(
          clock, LocalApic::Config{.apic_id = static_cast<uint32_t>(i),
                                   .bsp = i == 0}));
      router.Add(apics.back().get());
      apics.back()->set_ipi_sink(
          [this](const Ipi& ipi) { router.SendIpi(ipi); });
      apics.back()->set_eoi_broadcast([this](uint8_t v) { ioapic.Eoi(v); });
    }
    EXPECT_TRUE(
        bus.Register(kBase, IoApic::kMmioSize, &ioapic, "ioapic").has_value());
    EXPECT_TRUE(bus.Register(LocalApic::kDefaultBase, LocalApic::kMmioSize,
                             apics[0].get(), "lapic")
                    .has_value());
    ioapic.set_delivery([this](uint8_t d, bool l, uint8_t v, int m, bool lv) {
      return router.DeliverMessage(d, l, v, m, lv);
    });
    // CPU 0's OS software-enables its APIC (SVR); CPU 1 stays disabled
    // until a test enables it.
    bus.WriteValue(LocalApic::kDefaultBase + 0xF0, 4, 0x1FF);
  }
  void Route(int pin, uint32_t low, uint8_t destination) {
    bus.WriteValue(kBase, 1, 0x11 + 2 * pin);
    bus.WriteValue(kBase + 0x10, 4, uint32_t{destination} << 24);
    bus.WriteValue(kBase, 1, 0x10 + 2 * pin);
    bus.WriteValue(kBase + 0x10, 4, low);
  }
  int Take(int cpu) {
    return apics[cpu]->HasInterrupt() ? apics[cpu]->AcknowledgeInterrupt() : -1;
  }

  VirtualClock clock{VirtualClock::Mode::kDeterministic};
  Bus bus{"mmio"};
  IoApic ioapic{2};
  ApicRouter router;
  std::vector<std::unique_ptr<LocalApic>> apics;
};

TEST(IoApicTest, EndToEndLevelInterruptWithEoiBroadcast) {
  Board board;
  LocalApic& cpu0 = *board.apics[0];
  board.Route(9, kLevel | 0x49, /*destination=*/0);
  board.ioapic.input(9)->Raise();
  EXPECT_EQ(board.Take(0), 0x49);
  EXPECT_EQ(board.Take(1), -1);
  EXPECT_FALSE(cpu0.HasInterrupt());
  // EOI at the local APIC while the device still asserts: redelivered.
  board.bus.WriteValue(LocalApic::kDefaultBase + 0xB0, 4, 0);
  EXPECT_EQ(board.Take(0), 0x49);
  // The device is serviced, then the EOI: nothing more.
  board.ioapic.input(9)->Lower();
  board.bus.WriteValue(LocalApic::kDefaultBase + 0xB0, 4, 0);
  EXPECT_EQ(board.Take(0), -1);
  board.bus.WriteValue(kBase, 1, 0x10 + 2 * 9);
  EXPECT_EQ(board.bus.ReadValue(kBase + 0x10, 4) & kRemoteIrr, 0u);
}

TEST(IoApicTest, EndToEndEdgeAndLowestPriority) {
  Board board;
  LocalApic& cpu1 = *board.apics[1];
  cpu1.SetApicBaseMsr(LocalApic::kDefaultBase | (1u << 11) |
                      (1u << 10));  // x2APIC.
  cpu1.WriteMsr(0x80F, 0x1FF);
  // Edge, physical to CPU 1 (in x2APIC mode, xAPIC-format destination).
  board.Route(1, 0x31, /*destination=*/1);
  board.ioapic.input(1)->Pulse();
  EXPECT_EQ(board.Take(1), 0x31);
  EXPECT_EQ(board.Take(0), -1);
  EXPECT_TRUE(cpu1.WriteMsr(0x80B, 0));  // EOI.
  // Physical broadcast, lowest priority: the CPU with the lower TPR wins.
  board.apics[0]->SetTpr(0x30);
  board.Route(2, (1u << 8) | 0x52, /*destination=*/0xFF);
  board.ioapic.input(2)->Pulse();
  EXPECT_EQ(board.Take(1), 0x52);
  EXPECT_EQ(board.Take(0), -1);
  // Masked pin: nothing reaches the CPUs.
  board.Route(3, kMasked | 0x53, 0);
  board.ioapic.input(3)->Pulse();
  EXPECT_EQ(board.Take(0), -1);
}

TEST(IoApicTest, SaveLoadRoundTrip) {
  auto rig = std::make_unique<Rig>(3);
  rig->Route(9, kLevel | 0x49, 1);
  rig->ioapic.input(9)->Raise();  // Remote IRR set, wire high.
  rig->Route(7, kMasked | 0x37);
  rig->ioapic.input(7)->Pulse();  // Edge held while masked.
  rig->Route(5, kActiveLow | 0x35);
  rig->ioapic.input(5)->Raise();  // Idle.
  rig->WriteReg(0x00, 0x05000000);
  rig->bus.WriteValue(kBase, 1, 0x23);  // IOREGSEL left pointing somewhere.

  Serializer save = Serializer::ForSave();
  rig->ioapic.Serialize(save);
  std::vector<uint8_t> bytes = save.data();
  rig.reset();

  Rig fresh;
  Serializer load = Serializer::ForLoad(bytes);
  fresh.ioapic.Serialize(load);
  ASSERT_TRUE(load.ok()) << load.error();
  EXPECT_TRUE(load.at_end());
  Serializer again = Serializer::ForSave();
  fresh.ioapic.Serialize(again);
  EXPECT_EQ(again.data(), bytes);

  EXPECT_EQ(fresh.bus.ReadValue(kBase, 1), 0x23u);
  EXPECT_EQ(fresh.ReadReg(0x00), 0x05000000u);
  EXPECT_EQ(fresh.Low(9) & kRemoteIrr, kRemoteIrr);
  EXPECT_TRUE(fresh.sent.empty());
  fresh.ioapic.Eoi(0x49);  // Wire still high: redelivered.
  ASSERT_EQ(fresh.sent.size(), 1u);
  EXPECT_EQ(fresh.sent[0], (Message{1, false, 0x49, 0, true}));
  fresh.Route(7, 0x37);  // The held edge.
  EXPECT_EQ(fresh.sent.size(), 2u);
  fresh.ioapic.input(5)->Lower();  // Polarity and wire level survived.
  EXPECT_EQ(fresh.sent.size(), 3u);
  // Reset masks everything and restores the configured ID.
  fresh.ioapic.Reset();
  EXPECT_EQ(fresh.ReadReg(0x00), 0u);
  EXPECT_EQ(fresh.Low(9), kMasked);
}

}  // namespace
}  // namespace x86vm
