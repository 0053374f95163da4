#include "firmware/acpi/dsdt.h"

#include <gtest/gtest.h>

#include "devices/acpi_pm.h"
#include "devices/pci.h"
#include "firmware/acpi/acpi_test_util.h"

namespace x86vm {
namespace {

using acpi_test::AmlObject;
using acpi_test::AmlValue;
using acpi_test::Le;
using acpi_test::ResourceItem;
using Kind = AmlValue::Kind;

class DsdtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    aml_ = BuildDsdtAml(acpi_test::PcAcpiMachine(2));
    walk_ = acpi_test::WalkAml(aml_);
    ASSERT_TRUE(walk_.ok) << walk_.error;
  }

  const AmlObject* Find(const std::string& path) const {
    auto it = walk_.objects.find(path);
    return it == walk_.objects.end() ? nullptr : &it->second;
  }

  // The value of Name `path`, failing the test when absent.
  AmlValue Value(const std::string& path) const {
    const AmlObject* o = Find(path);
    if (o == nullptr || !o->value) {
      ADD_FAILURE() << "no Name " << path;
      return {};
    }
    return *o->value;
  }

  // The descriptors of the resource template in Name `path`.
  std::vector<ResourceItem> Resources(const std::string& path) const {
    AmlValue v = Value(path);
    if (v.kind != Kind::kBuffer) {
      ADD_FAILURE() << path << " is not a buffer";
      return {};
    }
    auto items = acpi_test::DecodeResources(v.buffer);
    if (!items) {
      ADD_FAILURE() << path << " is not a resource template";
      return {};
    }
    return *items;
  }

  std::vector<uint8_t> aml_;
  acpi_test::AmlWalk walk_;
};

TEST_F(DsdtTest, S5AndPicMode) {
  AmlValue s5 = Value("\\_S5_");
  ASSERT_EQ(s5.kind, Kind::kPackage);
  ASSERT_EQ(s5.elements.size(), 4u);
  EXPECT_EQ(s5.elements[0].integer, AcpiPm::kSlpTypS5);
  EXPECT_EQ(s5.elements[1].integer, AcpiPm::kSlpTypS5);
  ASSERT_NE(Find("\\_PIC"), nullptr);
  EXPECT_EQ(Find("\\_PIC")->kind, "Method");
  EXPECT_EQ(Find("\\_PIC")->method_flags & 7, 1);
  EXPECT_EQ(Value("\\PICF").integer, 0u);  // PIC mode until OSPM calls \_PIC.
}

TEST_F(DsdtTest, ProcessorsMatchMadtUids) {
  EXPECT_EQ(Value("\\_SB_.C000._HID").text, "ACPI0007");
  EXPECT_EQ(Value("\\_SB_.C000._UID").integer, 0u);
  EXPECT_EQ(Value("\\_SB_.C001._UID").integer, 1u);
  EXPECT_EQ(Find("\\_SB_.C002"), nullptr);
}

TEST_F(DsdtTest, PciRootBridge) {
  ASSERT_NE(Find("\\_SB_.PCI0"), nullptr);
  EXPECT_EQ(Find("\\_SB_.PCI0")->kind, "Device");
  EXPECT_EQ(Value("\\_SB_.PCI0._HID").integer, 0x030ad041u);  // EisaId("PNP0A03").
  EXPECT_EQ(Find("\\_SB_.PCI0._ADR"), nullptr) << "_HID and _ADR are exclusive";
  ASSERT_NE(Find("\\_SB_.PCI0._PRT"), nullptr);
  EXPECT_EQ(Find("\\_SB_.PCI0._PRT")->kind, "Method");

  std::vector<ResourceItem> crs = Resources("\\_SB_.PCI0._CRS");
  ASSERT_EQ(crs.size(), 6u);
  // Bus numbers 0-255.
  EXPECT_EQ(crs[0].type, 0x88);
  EXPECT_EQ(crs[0].data[0], 2);
  EXPECT_EQ(Le(crs[0].data, 7, 2), 0xffu);
  // The config ports 0xCF8-0xCFF.
  EXPECT_EQ(crs[1].type, 0x08);
  EXPECT_EQ(Le(crs[1].data, 1, 2), 0xcf8u);
  EXPECT_EQ(crs[1].data[6], 8);
  // I/O windows around them.
  EXPECT_EQ(crs[2].data[0], 1);
  EXPECT_EQ(Le(crs[2].data, 5, 2), 0x0000u);
  EXPECT_EQ(Le(crs[2].data, 7, 2), 0x0cf7u);
  EXPECT_EQ(Le(crs[3].data, 5, 2), 0x0d00u);
  EXPECT_EQ(Le(crs[3].data, 7, 2), 0xffffu);
  // VGA window and the PCI hole.
  EXPECT_EQ(crs[4].type, 0x87);
  EXPECT_EQ(Le(crs[4].data, 7, 4), 0xa0000u);
  EXPECT_EQ(Le(crs[4].data, 11, 4), 0xbffffu);
  EXPECT_EQ(Le(crs[5].data, 7, 4), 0xc0000000u);
  EXPECT_EQ(Le(crs[5].data, 11, 4), 0xfebfffffu);
}

// Both routing tables: 4 entries per slot 1-31, naming the link of the PIRQ
// the board's swizzle (PciBus::PirqForPin) actually drives.
TEST_F(DsdtTest, RoutingTablesFollowTheBoardSwizzle) {
  for (auto [table, prefix] :
       {std::pair{"\\_SB_.PCI0.PRTP", "\\_SB_.LNK"}, std::pair{"\\_SB_.PCI0.PRTA", "\\_SB_.GSI"}}) {
    AmlValue prt = Value(table);
    ASSERT_EQ(prt.kind, Kind::kPackage);
    ASSERT_EQ(prt.elements.size(), 31u * 4);
    size_t i = 0;
    for (int slot = 1; slot <= 31; ++slot) {
      for (int pin = 0; pin < 4; ++pin, ++i) {
        const AmlValue& e = prt.elements[i];
        ASSERT_EQ(e.kind, Kind::kPackage);
        ASSERT_EQ(e.elements.size(), 4u);
        EXPECT_EQ(e.elements[0].integer, (uint64_t(slot) << 16) | 0xffff);
        EXPECT_EQ(e.elements[1].integer, uint64_t(pin));
        ASSERT_EQ(e.elements[2].kind, Kind::kName);
        int pirq = PciBus::PirqForPin(static_cast<uint8_t>(slot), static_cast<uint8_t>(pin + 1));
        EXPECT_EQ(e.elements[2].text, std::string(prefix) + "ABCD"[pirq]) << slot << "/" << pin;
        EXPECT_EQ(e.elements[3].integer, 0u);
        ASSERT_NE(Find(e.elements[2].text), nullptr) << e.elements[2].text;
      }
    }
  }
}

TEST_F(DsdtTest, PicLinksReadTheRoutingRegisters) {
  const AmlObject* region = Find("\\_SB_.PCI0.ISA_.PIRQ");
  ASSERT_NE(region, nullptr);
  EXPECT_EQ(region->kind, "OperationRegion");
  EXPECT_EQ(region->region_space, 2);  // PCI_Config of 00:01.0 ...
  EXPECT_EQ(Value("\\_SB_.PCI0.ISA_._ADR").integer, 0x00010000u);
  EXPECT_EQ(region->region_offset, uint64_t{Piix3IsaBridge::kPirqRouteA});  // ... at 0x60.
  EXPECT_EQ(region->region_length, 4u);
  for (char x : std::string("ABCD")) {
    const AmlObject* field = Find(std::string("\\_SB_.PCI0.ISA_.PRQ") + x);
    ASSERT_NE(field, nullptr);
    EXPECT_EQ(field->field_bits, 8u);
    std::string link = std::string("\\_SB_.LNK") + x;
    EXPECT_EQ(Value(link + "._HID").integer, 0x0f0cd041u);  // PNP0C0F.
    for (const char* m : {"._STA", "._DIS", "._CRS", "._SRS"}) {
      ASSERT_NE(Find(link + m), nullptr) << link << m;
      EXPECT_EQ(Find(link + m)->kind, "Method");
    }
    EXPECT_EQ(Find(link + "._SRS")->method_flags & 7, 1);
    std::vector<ResourceItem> prs = Resources(link + "._PRS");
    ASSERT_EQ(prs.size(), 1u);
    EXPECT_EQ(prs[0].type, 0x89);
    EXPECT_EQ(prs[0].data[0], 0x09);  // Consumer, level, active high, shared.
    ASSERT_EQ(prs[0].data[1], 3);
    EXPECT_EQ(Le(prs[0].data, 2, 4), 5u);
    EXPECT_EQ(Le(prs[0].data, 6, 4), 10u);
    EXPECT_EQ(Le(prs[0].data, 10, 4), 11u);
  }
  ASSERT_NE(Find("\\_SB_.IQST"), nullptr);
  ASSERT_NE(Find("\\_SB_.IQCR"), nullptr);
  EXPECT_TRUE(Find("\\_SB_.IQCR")->method_flags & 0x08) << "IQCR creates a Name: Serialized";
}

TEST_F(DsdtTest, GsiLinksAreFixedLevelActiveHigh) {
  for (int p = 0; p < 4; ++p) {
    std::string link = std::string("\\_SB_.GSI") + "ABCD"[p];
    for (const char* res : {"._PRS", "._CRS"}) {
      std::vector<ResourceItem> items = Resources(link + res);
      ASSERT_EQ(items.size(), 1u);
      EXPECT_EQ(items[0].type, 0x89);
      EXPECT_EQ(items[0].data[0], 0x09);
      ASSERT_EQ(items[0].data[1], 1);
      EXPECT_EQ(Le(items[0].data, 2, 4), 16u + p);
    }
    ASSERT_NE(Find(link + "._SRS"), nullptr);
  }
  // UIDs are unique among the PNP0C0F devices.
  std::set<uint64_t> uids;
  for (const char* l : {"LNKA", "LNKB", "LNKC", "LNKD", "GSIA", "GSIB", "GSIC", "GSID"}) {
    uids.insert(Value(std::string("\\_SB_.") + l + "._UID").integer);
  }
  EXPECT_EQ(uids.size(), 8u);
}

TEST_F(DsdtTest, IsaDevices) {
  const std::string isa = "\\_SB_.PCI0.ISA_.";
  EXPECT_EQ(Value(isa + "KBD_._HID").integer, 0x0303d041u);  // PNP0303.
  std::vector<ResourceItem> kbd = Resources(isa + "KBD_._CRS");
  ASSERT_EQ(kbd.size(), 3u);
  EXPECT_EQ(Le(kbd[0].data, 1, 2), 0x60u);
  EXPECT_EQ(Le(kbd[1].data, 1, 2), 0x64u);
  EXPECT_EQ(kbd[2].type, 0x04);
  EXPECT_EQ(Le(kbd[2].data, 0, 2), 1u << 1);

  EXPECT_EQ(Value(isa + "MOU_._HID").integer, 0x130fd041u);  // PNP0F13.
  std::vector<ResourceItem> mou = Resources(isa + "MOU_._CRS");
  ASSERT_EQ(mou.size(), 1u);
  EXPECT_EQ(Le(mou[0].data, 0, 2), 1u << 12);

  EXPECT_EQ(Value(isa + "RTC_._HID").integer, 0x000bd041u);  // PNP0B00.
  std::vector<ResourceItem> rtc = Resources(isa + "RTC_._CRS");
  ASSERT_EQ(rtc.size(), 2u);
  EXPECT_EQ(Le(rtc[0].data, 1, 2), 0x70u);
  EXPECT_EQ(Le(rtc[1].data, 0, 2), 1u << 8);

  struct {
    const char* name;
    uint16_t port;
    int irq;
    uint64_t uid;
  } coms[] = {{"COM1", 0x3f8, 4, 1}, {"COM2", 0x2f8, 3, 2}};
  for (const auto& c : coms) {
    EXPECT_EQ(Value(isa + c.name + "._HID").integer, 0x0105d041u);  // PNP0501.
    EXPECT_EQ(Value(isa + c.name + "._UID").integer, c.uid);
    std::vector<ResourceItem> crs = Resources(isa + c.name + "._CRS");
    ASSERT_EQ(crs.size(), 2u);
    EXPECT_EQ(crs[0].type, 0x08);
    EXPECT_EQ(Le(crs[0].data, 1, 2), c.port);
    EXPECT_EQ(Le(crs[0].data, 3, 2), c.port);
    EXPECT_EQ(crs[0].data[6], 8);
    EXPECT_EQ(crs[1].type, 0x04);
    EXPECT_EQ(Le(crs[1].data, 0, 2), 1u << c.irq);
  }
  EXPECT_EQ(Find(isa + "COM3"), nullptr);

  EXPECT_EQ(Value(isa + "FWCF._HID").text, "QEMU0002");
  std::vector<ResourceItem> fw = Resources(isa + "FWCF._CRS");
  ASSERT_EQ(fw.size(), 1u);
  EXPECT_EQ(Le(fw[0].data, 1, 2), 0x510u);
  EXPECT_EQ(fw[0].data[6], 12);
}

TEST_F(DsdtTest, OptionalDevicesFollowTheDescription) {
  AcpiMachine m = acpi_test::PcAcpiMachine();
  m.has_8042 = false;
  m.fw_cfg_port = 0;
  m.serial_ports.clear();
  auto walk = acpi_test::WalkAml(BuildDsdtAml(m));
  ASSERT_TRUE(walk.ok) << walk.error;
  EXPECT_FALSE(walk.objects.contains("\\_SB_.PCI0.ISA_.KBD_"));
  EXPECT_FALSE(walk.objects.contains("\\_SB_.PCI0.ISA_.FWCF"));
  EXPECT_FALSE(walk.objects.contains("\\_SB_.PCI0.ISA_.COM1"));
  EXPECT_TRUE(walk.objects.contains("\\_SB_.PCI0.ISA_.RTC_"));
}

}  // namespace
}  // namespace x86vm
