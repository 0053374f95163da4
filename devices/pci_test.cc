#include "devices/pci.h"

#include <gtest/gtest.h>

#include <memory>

namespace x86vm {
namespace {

// Answers reads with offset-derived bytes and remembers the last write.
class EchoTarget : public BusTarget {
 public:
  explicit EchoTarget(uint8_t tag) : tag_(tag) {}
  void Read(uint64_t offset, std::span<uint8_t> data) override {
    for (size_t i = 0; i < data.size(); ++i) {
      data[i] = static_cast<uint8_t>(tag_ + offset + i);
    }
  }
  void Write(uint64_t offset, std::span<const uint8_t> data) override {
    last_offset = offset;
    last_value = LoadLe(data);
  }
  uint64_t last_offset = ~0ull;
  uint64_t last_value = 0;

 private:
  uint8_t tag_;
};

// A function with one BAR of each kind: BAR0 I/O 32 bytes, BAR1 32-bit
// memory 4 KiB, BAR2-3 64-bit prefetchable memory 16 KiB; INTA#.
class TestFunction : public PciFunction {
 public:
  explicit TestFunction(std::string name, uint16_t device_id = 0x1234)
      : PciFunction(std::move(name)) {
    SetIds(0x1af4, device_id);
    SetClass(0x01, 0x80, 0x00);
    SetRevision(0x07);
    SetSubsystem(0x1af4, 0x0001);
    SetInterruptPin(1);
    DefineIoBar(0, 0x20, &io);
    DefineMemoryBar(1, 0x1000, &mem32, /*is_64bit=*/false, /*prefetchable=*/false);
    DefineMemoryBar(2, 0x4000, &mem64, /*is_64bit=*/true, /*prefetchable=*/true);
  }
  EchoTarget io{0x10};
  EchoTarget mem32{0x40};
  EchoTarget mem64{0x80};
};

constexpr uint32_t kCfgEnable = 0x80000000u;

// A bus with the two bridges and two test functions, wired like the board.
struct Machine {
  Machine() {
    EXPECT_TRUE(pio.Register(0xcf8, 4, pci.config_address_port(), "pci-addr").has_value());
    EXPECT_TRUE(pio.Register(0xcfc, 4, pci.config_data_port(), "pci-data").has_value());
    EXPECT_TRUE(pci.AddFunction(0, 0, &host).has_value());
    EXPECT_TRUE(pci.AddFunction(1, 0, &isa).has_value());
    EXPECT_TRUE(pci.AddFunction(3, 0, &dev3).has_value());
    EXPECT_TRUE(pci.AddFunction(4, 0, &dev4).has_value());
    for (int p = 0; p < 4; ++p) {
      pci.ConnectPirq(p, isa.pirq_input(p));
      isa.ConnectPirqGsi(p, &gsi[p]);
    }
    for (int irq = 0; irq < 16; ++irq) isa.ConnectIsaIrq(irq, &isa_irq[irq]);
    pci.set_reset_control(isa.reset_control());
    host.set_memory_map_changed([this] { ++memory_map_changes; });
    isa.set_reset_handler([this](bool hard) { resets.push_back(hard); });
  }

  void Select(uint8_t dev, uint8_t fn, uint8_t reg) {
    pio.WriteValue(0xcf8, 4, kCfgEnable | dev << 11 | fn << 8 | (reg & 0xfc));
  }
  uint32_t Read(uint8_t dev, uint8_t fn, uint8_t reg, size_t size) {
    Select(dev, fn, reg);
    return static_cast<uint32_t>(pio.ReadValue(0xcfc + (reg & 3), size));
  }
  void Write(uint8_t dev, uint8_t fn, uint8_t reg, size_t size, uint32_t value) {
    Select(dev, fn, reg);
    pio.WriteValue(0xcfc + (reg & 3), size, value);
  }

  // Saves every PCI device, in board order.
  std::vector<uint8_t> Save() {
    Serializer s = Serializer::ForSave();
    pci.Serialize(s);
    host.Serialize(s);
    isa.Serialize(s);
    dev3.Serialize(s);
    dev4.Serialize(s);
    return s.data();
  }
  bool Load(const std::vector<uint8_t>& data) {
    Serializer s = Serializer::ForLoad(data);
    pci.Serialize(s);
    host.Serialize(s);
    isa.Serialize(s);
    dev3.Serialize(s);
    dev4.Serialize(s);
    return s.ok() && s.at_end();
  }

  Bus pio{"pio"};
  Bus mmio{"mmio"};
  PciBus pci{&pio, &mmio};
  I440fxHostBridge host;
  Piix3IsaBridge isa;
  TestFunction dev3{"dev3", 0x1111};
  TestFunction dev4{"dev4", 0x2222};
  std::array<RecordingIrqLine, 4> gsi;
  std::array<RecordingIrqLine, 16> isa_irq;
  int memory_map_changes = 0;
  std::vector<bool> resets;
};

TEST(Pci, BridgeIdentity) {
  Machine m;
  EXPECT_EQ(m.Read(0, 0, 0x00, 4), 0x12378086u);
  EXPECT_EQ(m.Read(0, 0, 0x08, 4), 0x06000002u);  // Class 060000, rev 02.
  EXPECT_EQ(m.Read(0, 0, 0x0e, 1), 0x00u);
  EXPECT_EQ(m.Read(1, 0, 0x00, 4), 0x70008086u);
  EXPECT_EQ(m.Read(1, 0, 0x0a, 2), 0x0601u);      // ISA bridge.
  EXPECT_EQ(m.Read(1, 0, 0x0e, 1), 0x80u);        // Multi-function.
  EXPECT_EQ(m.Read(1, 0, 0x2c, 4), 0x11001af4u);  // Subsystem.
  for (int p = 0; p < 4; ++p) EXPECT_EQ(m.Read(1, 0, 0x60 + p, 1), 0x80u);
  EXPECT_EQ(m.Read(0, 0, 0x72, 1), 0x02u);
}

TEST(Pci, SubDwordReadsAtEveryOffset) {
  Machine m;
  // Vendor 1af4, device 1111 at 03.0: bytes f4 1a 11 11.
  EXPECT_EQ(m.Read(3, 0, 0x00, 1), 0xf4u);
  EXPECT_EQ(m.Read(3, 0, 0x01, 1), 0x1au);
  EXPECT_EQ(m.Read(3, 0, 0x02, 1), 0x11u);
  EXPECT_EQ(m.Read(3, 0, 0x03, 1), 0x11u);
  EXPECT_EQ(m.Read(3, 0, 0x00, 2), 0x1af4u);
  EXPECT_EQ(m.Read(3, 0, 0x02, 2), 0x1111u);
  EXPECT_EQ(m.Read(3, 0, 0x01, 2), 0x111au);  // Inside the dword, unaligned.
  EXPECT_EQ(m.Read(3, 0, 0x08, 4), 0x01800007u);
  EXPECT_EQ(m.Read(3, 0, 0x3d, 1), 0x01u);  // INTA#.
}

TEST(Pci, AbsentFunctionsAndDisabledCyclesReadAllOnes) {
  Machine m;
  EXPECT_EQ(m.Read(5, 0, 0x00, 4), 0xffffffffu);
  EXPECT_EQ(m.Read(5, 0, 0x00, 2), 0xffffu);
  EXPECT_EQ(m.Read(0, 1, 0x00, 2), 0xffffu);
  m.Write(5, 0, 0x04, 4, 0xffffffff);  // Dropped, no crash.
  // Bus 1 does not exist.
  m.pio.WriteValue(0xcf8, 4, kCfgEnable | 1 << 16);
  EXPECT_EQ(m.pio.ReadValue(0xcfc, 4), 0xffffffffu);
  // Enable bit clear: no configuration cycle at all.
  m.pio.WriteValue(0xcf8, 4, 0x00000000);
  EXPECT_EQ(m.pio.ReadValue(0xcfc, 4), 0xffffffffu);
  EXPECT_EQ(m.pci.ConfigRead(31, 7, 0, 2), 0xffffu);
}

TEST(Pci, ConfigAddressLatchesOnlyDwordWrites) {
  Machine m;
  m.pio.WriteValue(0xcf8, 4, 0xffffffff);
  EXPECT_EQ(m.pio.ReadValue(0xcf8, 4), 0x80fffffcu);  // Reserved bits read 0.
  m.pio.WriteValue(0xcf8, 4, 0x80001800);
  m.pio.WriteValue(0xcf8, 1, 0x44);
  m.pio.WriteValue(0xcf8, 2, 0x4444);
  m.pio.WriteValue(0xcfa, 2, 0x4444);
  EXPECT_EQ(m.pio.ReadValue(0xcf8, 4), 0x80001800u);
  EXPECT_EQ(m.pio.ReadValue(0xcfc, 2), 0x1af4u);  // Still 03.0.
}

TEST(Pci, WritesHonourMasksAndSizes) {
  Machine m;
  // Read-only IDs.
  m.Write(3, 0, 0x00, 4, 0xdeadbeef);
  EXPECT_EQ(m.Read(3, 0, 0x00, 4), 0x11111af4u);
  // Latency timer by byte at 0xCFD, cache line size by byte at 0xCFC.
  m.Write(3, 0, 0x0d, 1, 0x40);
  m.Write(3, 0, 0x0c, 1, 0x10);
  EXPECT_EQ(m.Read(3, 0, 0x0c, 4), 0x00004010u);  // Header type byte stays 0.
  // Interrupt line by word at 0xCFE... is at 0x3c; pin (0x3d) is read-only.
  m.Write(3, 0, 0x3c, 2, 0x050b);
  EXPECT_EQ(m.Read(3, 0, 0x3c, 2), 0x010bu);
  // Command: only the modelled bits stick.
  m.Write(3, 0, 0x04, 2, 0xffff);
  EXPECT_EQ(m.Read(3, 0, 0x04, 2), 0x0547u);
  // Device-specific space is writable by default, at any offset.
  m.Write(3, 0, 0x42, 2, 0xbeef);
  EXPECT_EQ(m.Read(3, 0, 0x40, 4), 0xbeef0000u);
  // PIRQ route registers keep bit 7 and bits 3:0.
  m.Write(1, 0, 0x61, 1, 0xff);
  EXPECT_EQ(m.Read(1, 0, 0x61, 1), 0x8fu);
}

TEST(Pci, CapabilityList) {
  TestFunction fn("caps");
  fn.AddCapability(0x09, 0x40, 8);
  fn.AddCapability(0x05, 0x50, 4);
  Bus pio("pio"), mmio("mmio");
  PciBus pci(&pio, &mmio);
  ASSERT_TRUE(pci.AddFunction(2, 0, &fn).has_value());
  EXPECT_EQ(pci.ConfigRead(2, 0, 0x06, 2) & pci_config::kStatusCapabilities,
            pci_config::kStatusCapabilities);
  EXPECT_EQ(pci.ConfigRead(2, 0, 0x34, 1), 0x50u);
  EXPECT_EQ(pci.ConfigRead(2, 0, 0x50, 2), 0x4005u);  // id 05, next 0x40.
  EXPECT_EQ(pci.ConfigRead(2, 0, 0x40, 2), 0x0009u);  // id 09, end of list.
  pci.ConfigWrite(2, 0, 0x44, 4, 0xffffffff);         // Body read-only by default.
  EXPECT_EQ(pci.ConfigRead(2, 0, 0x44, 4), 0u);
  pci.ConfigWrite(2, 0, 0x48, 4, 0x12345678);  // Past it: writable.
  EXPECT_EQ(pci.ConfigRead(2, 0, 0x48, 4), 0x12345678u);
}

TEST(Pci, StatusErrorBitsAreWriteOneToClear) {
  Machine m;
  m.dev3.SetConfig16(pci_config::kStatus, 0xf900);
  m.Write(3, 0, 0x06, 2, 0x8000);
  EXPECT_EQ(m.Read(3, 0, 0x06, 2), 0x7900u);
  m.Write(3, 0, 0x04, 4, 0x79000000);  // Command word 0, clears the rest.
  EXPECT_EQ(m.Read(3, 0, 0x06, 2), 0x0000u);
}

TEST(Pci, BarSizing) {
  Machine m;
  EXPECT_EQ(m.Read(3, 0, 0x10, 4), 0x00000001u);  // I/O.
  EXPECT_EQ(m.Read(3, 0, 0x14, 4), 0x00000000u);  // 32-bit memory.
  EXPECT_EQ(m.Read(3, 0, 0x18, 4), 0x0000000cu);  // 64-bit prefetchable.
  for (uint8_t reg = 0x10; reg < 0x28; reg += 4) m.Write(3, 0, reg, 4, 0xffffffff);
  EXPECT_EQ(m.Read(3, 0, 0x10, 4), 0xffffffe1u);
  EXPECT_EQ(m.Read(3, 0, 0x14, 4), 0xfffff000u);
  EXPECT_EQ(m.Read(3, 0, 0x18, 4), 0xffffc00cu);
  EXPECT_EQ(m.Read(3, 0, 0x1c, 4), 0xffffffffu);
  EXPECT_EQ(m.Read(3, 0, 0x20, 4), 0x00000000u);  // Unimplemented BARs.
  EXPECT_EQ(m.Read(3, 0, 0x24, 4), 0x00000000u);
  EXPECT_EQ(m.Read(3, 0, 0x30, 4), 0x00000000u);  // No expansion ROM.
  // Decode was off during sizing, so nothing appeared on the buses.
  EXPECT_FALSE(m.dev3.bar_mapped(0));
  EXPECT_FALSE(m.mmio.IsMapped(0xfffff000));
}

TEST(Pci, IoBarWindowFollowsDecodeAndMoves) {
  Machine m;
  m.Write(3, 0, 0x10, 4, 0xc001);
  EXPECT_EQ(m.Read(3, 0, 0x10, 4), 0xc001u);
  EXPECT_FALSE(m.pio.IsMapped(0xc000));
  EXPECT_EQ(m.pio.ReadValue(0xc004, 1), 0xffu);
  m.Write(3, 0, 0x04, 2, pci_config::kCommandIo);
  EXPECT_TRUE(m.dev3.bar_mapped(0));
  EXPECT_EQ(m.pio.ReadValue(0xc004, 1), 0x14u);  // Target tag 0x10 + offset 4.
  EXPECT_EQ(m.pio.ReadValue(0xc01e, 2), 0x2f2eu);
  EXPECT_FALSE(m.pio.IsMapped(0xc020));
  m.pio.WriteValue(0xc008, 4, 0x12345678);
  EXPECT_EQ(m.dev3.io.last_offset, 8u);
  EXPECT_EQ(m.dev3.io.last_value, 0x12345678u);
  // Memory decode stays off: the memory BARs are not mapped.
  m.Write(3, 0, 0x14, 4, 0xfebf0000);
  EXPECT_FALSE(m.mmio.IsMapped(0xfebf0000));
  // Moving the BAR moves the window.
  m.Write(3, 0, 0x10, 4, 0xd000);
  EXPECT_FALSE(m.pio.IsMapped(0xc000));
  EXPECT_EQ(m.pio.ReadValue(0xd000, 1), 0x10u);
  EXPECT_EQ(m.dev3.bar_address(0), 0xd000u);
  // Byte write of the BAR's second byte moves it too.
  m.Write(3, 0, 0x11, 1, 0xe0);
  EXPECT_FALSE(m.pio.IsMapped(0xd000));
  EXPECT_TRUE(m.pio.IsMapped(0xe000));
  // An I/O window that would end past 64 KiB is not decoded.
  m.Write(3, 0, 0x10, 4, 0x10000);
  EXPECT_FALSE(m.dev3.bar_mapped(0));
  m.Write(3, 0, 0x10, 4, 0xffe0);
  EXPECT_EQ(m.pio.ReadValue(0xffff, 1), 0x2fu);
  m.Write(3, 0, 0x10, 4, 0xe000);
  // Disabling I/O decode removes it.
  m.Write(3, 0, 0x04, 2, 0);
  EXPECT_FALSE(m.pio.IsMapped(0xe000));
  EXPECT_FALSE(m.dev3.bar_mapped(0));
}

TEST(Pci, MemoryBarsMapOnMmio) {
  Machine m;
  m.Write(3, 0, 0x14, 4, 0xfebf0000);
  m.Write(3, 0, 0x18, 4, 0x00008000);
  m.Write(3, 0, 0x1c, 4, 0x00000001);  // 0x1_0000_8000.
  m.Write(3, 0, 0x04, 2, pci_config::kCommandMemory);
  EXPECT_FALSE(m.pio.IsMapped(0xc000));
  EXPECT_EQ(m.mmio.ReadValue(0xfebf0010, 4), 0x53525150u);
  EXPECT_EQ(m.mmio.ReadValue(0x100008000ull, 1), 0x80u);
  EXPECT_TRUE(m.mmio.IsMapped(0x10000bfffull));
  EXPECT_FALSE(m.mmio.IsMapped(0x10000c000ull));
  EXPECT_EQ(m.dev3.bar_address(2), 0x100008000ull);
  m.mmio.WriteValue(0x100008010ull, 8, 0x1122334455667788ull);
  EXPECT_EQ(m.dev3.mem64.last_offset, 0x10u);
  EXPECT_EQ(m.dev3.mem64.last_value, 0x1122334455667788ull);
  // Rewriting the high dword alone moves the 64-bit window below 4 GiB.
  m.Write(3, 0, 0x1c, 4, 0);
  EXPECT_FALSE(m.mmio.IsMapped(0x100008000ull));
  EXPECT_TRUE(m.mmio.IsMapped(0x8000));
  // Sizing with decode on maps the window at the size mask, as in QEMU.
  m.Write(3, 0, 0x14, 4, 0xffffffff);
  EXPECT_TRUE(m.mmio.IsMapped(0xfffff000));
  EXPECT_FALSE(m.mmio.IsMapped(0xfebf0000));
  // Address 0 means unassigned: not decoded.
  m.Write(3, 0, 0x14, 4, 0);
  EXPECT_FALSE(m.dev3.bar_mapped(1));
  EXPECT_FALSE(m.mmio.IsMapped(0));
  m.Write(3, 0, 0x14, 4, 0xfebf0000);
  EXPECT_TRUE(m.dev3.bar_mapped(1));
}

TEST(Pci, ClashingBarsAreRetriedWhenTheOtherMoves) {
  Machine m;
  m.Write(3, 0, 0x10, 4, 0xc000);
  m.Write(4, 0, 0x10, 4, 0xc000);
  m.Write(3, 0, 0x04, 2, pci_config::kCommandIo);
  m.Write(4, 0, 0x04, 2, pci_config::kCommandIo);
  EXPECT_TRUE(m.dev3.bar_mapped(0));
  EXPECT_FALSE(m.dev4.bar_mapped(0));  // Refused, not crashed.
  m.Write(3, 0, 0x10, 4, 0xc100);
  EXPECT_TRUE(m.dev4.bar_mapped(0));
  EXPECT_TRUE(m.dev3.bar_mapped(0));
  m.pio.WriteValue(0xc000, 1, 1);
  EXPECT_EQ(m.dev4.io.last_value, 1u);
  EXPECT_EQ(m.dev3.io.last_offset, ~0ull);
}

TEST(Pci, SwizzleMatchesPiix) {
  EXPECT_EQ(PciBus::PirqForPin(1, 1), 0);  // 01.0 INTA -> PIRQA.
  EXPECT_EQ(PciBus::PirqForPin(2, 1), 1);
  EXPECT_EQ(PciBus::PirqForPin(3, 1), 2);
  EXPECT_EQ(PciBus::PirqForPin(4, 1), 3);
  EXPECT_EQ(PciBus::PirqForPin(5, 1), 0);
  EXPECT_EQ(PciBus::PirqForPin(0, 1), 3);
  EXPECT_EQ(PciBus::PirqForPin(3, 2), 3);  // INTB of device 3.
  EXPECT_EQ(PciBus::PirqForPin(3, 4), 1);
}

TEST(Pci, IntxRoutesThroughPirqToIsaIrqAndGsi) {
  Machine m;
  // dev3 INTA -> PIRQC; firmware routes PIRQC to IRQ 11.
  m.Write(1, 0, 0x62, 1, 11);
  m.dev3.SetIrq(true);
  EXPECT_TRUE(m.isa_irq[11].level());
  EXPECT_TRUE(m.gsi[2].level());  // GSI 18.
  EXPECT_FALSE(m.gsi[0].level());
  EXPECT_TRUE(m.pci.pirq_level(2));
  EXPECT_EQ(m.Read(3, 0, 0x06, 2) & pci_config::kStatusInterrupt, pci_config::kStatusInterrupt);
  m.dev3.SetIrq(false);
  EXPECT_FALSE(m.isa_irq[11].level());
  EXPECT_FALSE(m.gsi[2].level());
  EXPECT_EQ(m.Read(3, 0, 0x06, 2) & pci_config::kStatusInterrupt, 0u);

  // Re-routing while asserted moves the level from IRQ 11 to IRQ 10.
  m.dev3.SetIrq(true);
  m.Write(1, 0, 0x60, 4, 0x800a0a80);  // A off, B 10, C 10, D off.
  EXPECT_FALSE(m.isa_irq[11].level());
  EXPECT_TRUE(m.isa_irq[10].level());
  // Disabled routing: no ISA IRQ, but the IOAPIC input still sees it.
  m.Write(1, 0, 0x62, 1, 0x8a);
  EXPECT_FALSE(m.isa_irq[10].level());
  EXPECT_TRUE(m.gsi[2].level());
  // A reserved encoding (IRQ 0, the timer) is not routed either.
  m.Write(1, 0, 0x62, 1, 0x00);
  EXPECT_FALSE(m.isa_irq[0].level());
  m.Write(1, 0, 0x62, 1, 0x0a);
  EXPECT_TRUE(m.isa_irq[10].level());

  // Command.INTX_DISABLE masks the pin; Status still shows the interrupt.
  m.Write(3, 0, 0x04, 2, pci_config::kCommandIntxDisable);
  EXPECT_FALSE(m.isa_irq[10].level());
  EXPECT_FALSE(m.gsi[2].level());
  EXPECT_EQ(m.Read(3, 0, 0x06, 2) & pci_config::kStatusInterrupt, pci_config::kStatusInterrupt);
  m.Write(3, 0, 0x04, 2, 0);
  EXPECT_TRUE(m.isa_irq[10].level());
}

TEST(Pci, SharedPirqIsTheOrOfItsDevices) {
  Machine m;
  // dev4 INTA -> PIRQD; route PIRQC and PIRQD both to IRQ 11.
  m.Write(1, 0, 0x62, 2, 0x0b0b);
  m.dev3.SetIrq(true);
  m.dev4.SetIrq(true);
  EXPECT_TRUE(m.isa_irq[11].level());
  EXPECT_TRUE(m.gsi[2].level());
  EXPECT_TRUE(m.gsi[3].level());
  m.dev3.SetIrq(false);
  EXPECT_TRUE(m.isa_irq[11].level());  // dev4 still holds it.
  EXPECT_FALSE(m.gsi[2].level());
  m.dev4.SetIrq(false);
  EXPECT_FALSE(m.isa_irq[11].level());
  EXPECT_EQ(m.isa_irq[11].rising_edges(), 1);
}

TEST(Pci, PamAndSmramRegisters) {
  Machine m;
  const int before = m.memory_map_changes;
  m.Write(0, 0, 0x59, 1, 0xff);
  EXPECT_EQ(m.Read(0, 0, 0x59, 1), 0x30u);
  EXPECT_EQ(m.memory_map_changes, before + 1);
  m.Write(0, 0, 0x5a, 2, 0x1331);  // PAM1 = 31h, PAM2 = 13h.
  EXPECT_EQ(m.memory_map_changes, before + 2);
  m.Write(0, 0, 0x5a, 1, 0x31);  // Unchanged: no callback.
  EXPECT_EQ(m.memory_map_changes, before + 2);
  const auto segs = m.host.PamSegments();
  EXPECT_EQ(segs[0].base, 0xf0000u);
  EXPECT_TRUE(segs[0].read_enable && segs[0].write_enable);
  EXPECT_EQ(segs[1].base, 0xc0000u);  // PAM1 low nibble 1: read only.
  EXPECT_TRUE(segs[1].read_enable);
  EXPECT_FALSE(segs[1].write_enable);
  EXPECT_EQ(segs[2].base, 0xc4000u);  // PAM1 high nibble 3.
  EXPECT_TRUE(segs[2].read_enable && segs[2].write_enable);
  EXPECT_EQ(segs[3].base, 0xc8000u);  // PAM2 low nibble 3.
  EXPECT_TRUE(segs[3].write_enable);
  EXPECT_EQ(segs[4].base, 0xcc000u);  // PAM2 high nibble 1.
  EXPECT_FALSE(segs[4].write_enable);
  EXPECT_EQ(segs[12].base, 0xec000u);
  EXPECT_EQ(segs[12].size_bytes, 0x4000u);

  // SMRAM: open it, then lock; lock clears D_OPEN and sticks until reset.
  m.Write(0, 0, 0x72, 1, 0x4a);
  EXPECT_EQ(m.host.smram(), 0x4au);
  m.Write(0, 0, 0x72, 1, 0x5a);
  EXPECT_EQ(m.host.smram(), 0x1au);
  m.Write(0, 0, 0x72, 1, 0x40);
  EXPECT_EQ(m.host.smram(), 0x12u);
  m.host.Reset();
  EXPECT_EQ(m.host.smram(), 0x02u);
  EXPECT_EQ(m.host.pam(0), 0x00u);
}

TEST(Pci, ResetControlAtCf9) {
  Machine m;
  m.pio.WriteValue(0xcf9, 1, 0x02);
  EXPECT_EQ(m.pio.ReadValue(0xcf9, 1), 0x02u);
  EXPECT_TRUE(m.resets.empty());
  m.pio.WriteValue(0xcf9, 1, 0x06);
  ASSERT_EQ(m.resets.size(), 1u);
  EXPECT_TRUE(m.resets[0]);
  m.pio.WriteValue(0xcf9, 1, 0x04);
  ASSERT_EQ(m.resets.size(), 2u);
  EXPECT_FALSE(m.resets[1]);
  // The dword at 0xCF8 is still CONFIG_ADDRESS.
  m.pio.WriteValue(0xcf8, 4, 0x80000000);
  EXPECT_EQ(m.pio.ReadValue(0xcf8, 4), 0x80000000u);
}

TEST(Pci, ResetReturnsToPowerOnState) {
  Machine m;
  m.Write(3, 0, 0x10, 4, 0xc000);
  m.Write(3, 0, 0x04, 2, pci_config::kCommandIo | pci_config::kCommandBusMaster);
  m.Write(1, 0, 0x62, 1, 11);
  m.dev3.SetIrq(true);
  EXPECT_TRUE(m.dev3.bus_master_enabled());
  EXPECT_TRUE(m.isa_irq[11].level());
  m.dev3.Reset();
  EXPECT_FALSE(m.pio.IsMapped(0xc000));
  EXPECT_EQ(m.Read(3, 0, 0x10, 4), 0x1u);
  EXPECT_EQ(m.Read(3, 0, 0x04, 2), 0u);
  EXPECT_EQ(m.Read(3, 0, 0x00, 4), 0x11111af4u);
  EXPECT_FALSE(m.isa_irq[11].level());
  m.isa.Reset();
  EXPECT_EQ(m.Read(1, 0, 0x62, 1), 0x80u);
}

TEST(Pci, RejectsTakenSlots) {
  Machine m;
  TestFunction extra("extra");
  EXPECT_FALSE(m.pci.AddFunction(3, 0, &extra).has_value());
  EXPECT_FALSE(m.pci.AddFunction(32, 0, &extra).has_value());
  EXPECT_FALSE(m.pci.AddFunction(6, 8, &extra).has_value());
  EXPECT_TRUE(m.pci.AddFunction(6, 0, &extra).has_value());
  EXPECT_EQ(m.pci.FindFunction(6, 0), &extra);
  EXPECT_FALSE(m.pci.AddFunction(7, 0, &extra).has_value());
}

TEST(Pci, DestroyedFunctionLeavesTheBus) {
  Machine m;
  {
    TestFunction temp("temp");
    ASSERT_TRUE(m.pci.AddFunction(9, 0, &temp).has_value());
    m.Write(9, 0, 0x10, 4, 0xb000);
    m.Write(9, 0, 0x04, 2, pci_config::kCommandIo);
    EXPECT_TRUE(m.pio.IsMapped(0xb000));
  }
  EXPECT_FALSE(m.pio.IsMapped(0xb000));
  EXPECT_EQ(m.Read(9, 0, 0x00, 4), 0xffffffffu);
}

TEST(Pci, SaveLoadRoundTrip) {
  auto a = std::make_unique<Machine>();
  a->Write(3, 0, 0x10, 4, 0xc040);
  a->Write(3, 0, 0x14, 4, 0xfebf1000);
  a->Write(3, 0, 0x18, 4, 0x00000000);
  a->Write(3, 0, 0x1c, 4, 0x00000008);
  a->Write(3, 0, 0x04, 2, pci_config::kCommandIo | pci_config::kCommandMemory);
  a->Write(4, 0, 0x14, 4, 0xfebf2000);
  a->Write(4, 0, 0x04, 2, pci_config::kCommandMemory);
  a->Write(1, 0, 0x60, 4, 0x0b0b0a0a);
  a->Write(0, 0, 0x5a, 1, 0x33);
  a->Write(0, 0, 0x72, 1, 0x08);
  a->dev4.SetIrq(true);  // PIRQD -> IRQ 11, GSI 19.
  a->pio.WriteValue(0xcf9, 1, 0x02);
  a->Select(4, 0, 0x3c);
  const std::vector<uint8_t> saved = a->Save();

  auto b = std::make_unique<Machine>();
  const int changes_before = b->memory_map_changes;
  ASSERT_TRUE(b->Load(saved));
  EXPECT_EQ(b->Save(), saved);
  EXPECT_GT(b->memory_map_changes, changes_before);  // Board told to remap.

  // Windows re-registered at the loaded BAR addresses.
  EXPECT_EQ(b->pio.ReadValue(0xc040, 1), 0x10u);
  EXPECT_EQ(b->mmio.ReadValue(0xfebf1000, 1), 0x40u);
  EXPECT_EQ(b->mmio.ReadValue(0x800000000ull, 1), 0x80u);
  EXPECT_EQ(b->mmio.ReadValue(0xfebf2004, 1), 0x44u);
  EXPECT_FALSE(b->pio.IsMapped(0xc000));
  // INTx state and the routed lines came back.
  EXPECT_TRUE(b->isa_irq[11].level());
  EXPECT_TRUE(b->gsi[3].level());
  EXPECT_FALSE(b->isa_irq[10].level());
  EXPECT_EQ(b->host.pam(1), 0x33u);
  EXPECT_EQ(b->pio.ReadValue(0xcf9, 1), 0x02u);
  // CONFIG_ADDRESS still selects 04.0 register 0x3c.
  EXPECT_EQ(b->pio.ReadValue(0xcfd, 1), 0x01u);

  // Behaviour continues: dropping INTx and moving a BAR work on the copy.
  b->dev4.SetIrq(false);
  EXPECT_FALSE(b->isa_irq[11].level());
  b->Write(3, 0, 0x10, 4, 0xc080);
  EXPECT_FALSE(b->pio.IsMapped(0xc040));
  EXPECT_TRUE(b->pio.IsMapped(0xc080));

  // Loading over a running machine moves its windows back.
  ASSERT_TRUE(b->Load(saved));
  EXPECT_TRUE(b->pio.IsMapped(0xc040));
  EXPECT_FALSE(b->pio.IsMapped(0xc080));
  EXPECT_TRUE(b->isa_irq[11].level());
}

TEST(Pci, TruncatedSnapshotIsAnError) {
  Machine a;
  std::vector<uint8_t> saved = a.Save();
  saved.resize(saved.size() / 2);
  Machine b;
  EXPECT_FALSE(b.Load(saved));
}

}  // namespace
}  // namespace x86vm
