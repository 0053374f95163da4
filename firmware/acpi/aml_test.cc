#include "firmware/acpi/aml.h"

#include <gtest/gtest.h>

#include "firmware/acpi/acpi_test_util.h"

namespace x86vm::aml {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes Ascii(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST(AmlTest, IntegersUseTheShortestEncoding) {
  EXPECT_EQ(Int(0).bytes, Bytes({0x00}));
  EXPECT_EQ(Int(1).bytes, Bytes({0x01}));
  EXPECT_EQ(Int(~0ull).bytes, Bytes({0xff}));
  EXPECT_EQ(Int(2).bytes, Bytes({0x0a, 0x02}));
  EXPECT_EQ(Int(0xff).bytes, Bytes({0x0a, 0xff}));
  EXPECT_EQ(Int(0x1234).bytes, Bytes({0x0b, 0x34, 0x12}));
  EXPECT_EQ(Int(0x12345678).bytes, Bytes({0x0c, 0x78, 0x56, 0x34, 0x12}));
  EXPECT_EQ(Int(0x100000000ull).bytes, Bytes({0x0e, 0, 0, 0, 0, 1, 0, 0, 0}));
}

TEST(AmlTest, StringsAndEisaIds) {
  EXPECT_EQ(String("AB").bytes, Bytes({0x0d, 'A', 'B', 0x00}));
  // The values iasl gives EisaId("PNP0A03") and EisaId("PNP0501").
  EXPECT_EQ(EisaId("PNP0A03").bytes, Bytes({0x0c, 0x41, 0xd0, 0x0a, 0x03}));
  EXPECT_EQ(EisaId("PNP0501").bytes, Bytes({0x0c, 0x41, 0xd0, 0x05, 0x01}));
}

TEST(AmlTest, NameStrings) {
  EXPECT_EQ(EncodeNameString("_SB"), Ascii("_SB_"));
  EXPECT_EQ(EncodeNameString("\\_SB.PCI0"), Cat({{0x5c, 0x2e}, Ascii("_SB_PCI0")}));
  EXPECT_EQ(EncodeNameString("\\_SB.PCI0.ISA.PRQA"),
            Cat({{0x5c, 0x2f, 0x04}, Ascii("_SB_PCI0ISA_PRQA")}));
  EXPECT_EQ(EncodeNameString("^^LNK"), Cat({{0x5e, 0x5e}, Ascii("LNK_")}));
  EXPECT_EQ(EncodeNameString("\\"), Bytes({0x5c, 0x00}));
}

TEST(AmlTest, PackageLengths) {
  // One byte while the total (content + the byte itself) fits 6 bits.
  EXPECT_EQ(PkgLength(0), Bytes({0x01}));
  EXPECT_EQ(PkgLength(62), Bytes({0x3f}));
  // 63 + 2 = 65 = 0x041: lead 0x40 | low nibble 1, then 0x04.
  EXPECT_EQ(PkgLength(63), Bytes({0x41, 0x04}));
  // 4093 + 2 = 4095 still fits 12 bits; 4094 + 2 would not, so 3 bytes.
  EXPECT_EQ(PkgLength(4093), Bytes({0x4f, 0xff}));
  EXPECT_EQ(PkgLength(4094), Bytes({0x81, 0x00, 0x01}));  // 4097 = 0x1001.
  // Field widths are the bare bit count.
  EXPECT_EQ(FieldLength(8), Bytes({0x08}));
  EXPECT_EQ(FieldLength(64), Bytes({0x40, 0x04}));
}

TEST(AmlTest, NamedObjectsAndStatements) {
  // Method (_PIC, 1) { Store (Arg0, PICF) }
  EXPECT_EQ(Method("_PIC", 1, false, {Store(Arg(0), NameString("PICF"))}).bytes,
            Cat({{0x14, 0x0c}, Ascii("_PIC"), {0x01, 0x70, 0x68}, Ascii("PICF")}));
  // Serialized with 7 arguments: flags 0x0F.
  EXPECT_EQ(Method("M", 7, true, {}).bytes, Cat({{0x14, 0x06}, Ascii("M___"), {0x0f}}));
  // Device (KBD) { Name (_UID, One) }
  EXPECT_EQ(Device("KBD", {Name("_UID", Int(1))}).bytes,
            Cat({{0x5b, 0x82, 0x0b}, Ascii("KBD_"), {0x08}, Ascii("_UID"), {0x01}}));
  EXPECT_EQ(Scope("\\_SB", {}).bytes, Cat({{0x10, 0x06, 0x5c}, Ascii("_SB_")}));
  // If (And (0x80, Arg0)) { Return (9) } Else { Return (Zero) }
  EXPECT_EQ(If(And(Int(0x80), Arg(0)), {Return(Int(9))}).bytes,
            Bytes({0xa0, 0x09, 0x7b, 0x0a, 0x80, 0x68, 0x00, 0xa4, 0x0a, 0x09}));
  EXPECT_EQ(Else({Return(Int(0))}).bytes, Bytes({0xa1, 0x03, 0xa4, 0x00}));
  EXPECT_EQ(Or(Local(1), Int(1), Local(1)).bytes, Bytes({0x7d, 0x61, 0x01, 0x61}));
  EXPECT_EQ(LLess(Arg(1), Int(2)).bytes, Bytes({0x95, 0x69, 0x0a, 0x02}));
  EXPECT_EQ(LEqual(Arg(1), Int(2)).bytes, Bytes({0x93, 0x69, 0x0a, 0x02}));
  EXPECT_EQ(LNot(Arg(1)).bytes, Bytes({0x92, 0x69}));
  EXPECT_EQ(CreateDWordField(Arg(0), Int(5), "PRRI").bytes,
            Cat({{0x8a, 0x68, 0x0a, 0x05}, Ascii("PRRI")}));
  EXPECT_EQ(Call("\\_SB.IQST", {Arg(0)}).bytes, Cat({{0x5c, 0x2e}, Ascii("_SB_IQST"), {0x68}}));
}

TEST(AmlTest, RegionsAndFields) {
  EXPECT_EQ(OperationRegion("PIRQ", RegionSpace::kPciConfig, Int(0x60), Int(4)).bytes,
            Cat({{0x5b, 0x80}, Ascii("PIRQ"), {0x02, 0x0a, 0x60, 0x0a, 0x04}}));
  // Field (PIRQ, ByteAcc, NoLock, Preserve) { PRQA, 8, , 8, PRQB, 8 }
  EXPECT_EQ(
      Field("PIRQ", FieldAccess::kByte, FieldUpdate::kPreserve, {{"PRQA", 8}, {"", 8}, {"PRQB", 8}})
          .bytes,
      Cat({{0x5b, 0x81, 0x12},
           Ascii("PIRQ"),
           {0x01},
           Ascii("PRQA"),
           {0x08, 0x00, 0x08},
           Ascii("PRQB"),
           {0x08}}));
}

TEST(AmlTest, DataObjects) {
  EXPECT_EQ(Package({Int(0), Int(5)}).bytes, Bytes({0x12, 0x05, 0x02, 0x00, 0x0a, 0x05}));
  const Bytes three = {1, 2, 3};
  EXPECT_EQ(Buffer(three).bytes, Bytes({0x11, 0x06, 0x0a, 0x03, 1, 2, 3}));
  // An empty template is just the End Tag.
  EXPECT_EQ(ResourceTemplate({}).bytes, Bytes({0x11, 0x05, 0x0a, 0x02, 0x79, 0x00}));
}

TEST(AmlTest, ResourceDescriptors) {
  EXPECT_EQ(Io(0x3f8, 0x3f8, 1, 8), Bytes({0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08}));
  EXPECT_EQ(IrqNoFlags({4}), Bytes({0x22, 0x10, 0x00}));
  EXPECT_EQ(IrqNoFlags({1, 12}), Bytes({0x22, 0x02, 0x10}));
  EXPECT_EQ(Irq(Trigger::kLevel, Polarity::kActiveLow, Sharing::kShared, {5}),
            Bytes({0x23, 0x20, 0x00, 0x18}));
  EXPECT_EQ(Interrupt(Trigger::kLevel, Polarity::kActiveHigh, Sharing::kShared, {16}),
            Bytes({0x89, 0x06, 0x00, 0x09, 0x01, 0x10, 0x00, 0x00, 0x00}));
  EXPECT_EQ(Interrupt(Trigger::kEdge, Polarity::kActiveLow, Sharing::kExclusive, {5, 10}),
            Bytes({0x89, 0x0a, 0x00, 0x07, 0x02, 5, 0, 0, 0, 10, 0, 0, 0}));
  EXPECT_EQ(Memory32Fixed(true, 0xfec00000, 0x1000),
            Bytes({0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0xc0, 0xfe, 0x00, 0x10, 0x00, 0x00}));
  EXPECT_EQ(WordBusNumber(0, 0xff), Bytes({0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0x00, 0x00,
                                           0xff, 0x00, 0, 0, 0x00, 0x01}));
  EXPECT_EQ(WordIo(0x0d00, 0xffff), Bytes({0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0, 0, 0x00, 0x0d,
                                           0xff, 0xff, 0, 0, 0x00, 0xf3}));
  Resource dio = DWordIo(0x1000, 0x1fff);
  ASSERT_EQ(dio.size(), 26u);
  EXPECT_EQ(Bytes(dio.begin(), dio.begin() + 6), Bytes({0x87, 0x17, 0x00, 0x01, 0x0c, 0x03}));
  Resource mem = DWordMemory(Cacheability::kNonCacheable, 0xc0000000, 0xfebfffff);
  ASSERT_EQ(mem.size(), 26u);
  EXPECT_EQ(Bytes(mem.begin(), mem.begin() + 6), Bytes({0x87, 0x17, 0x00, 0x00, 0x0c, 0x01}));
  EXPECT_EQ(acpi_test::Le(mem, 10, 4), 0xc0000000u);
  EXPECT_EQ(acpi_test::Le(mem, 14, 4), 0xfebfffffu);
  EXPECT_EQ(acpi_test::Le(mem, 22, 4), 0x3ec00000u);
  Resource qmem = QWordMemory(Cacheability::kCacheable, 0x100000000ull, 0x1ffffffffull);
  ASSERT_EQ(qmem.size(), 46u);
  EXPECT_EQ(Bytes(qmem.begin(), qmem.begin() + 6), Bytes({0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x03}));
  EXPECT_EQ(acpi_test::Le(qmem, 38, 8), 0x100000000ull);
}

TEST(AmlTest, LongBodiesGetMultiBytePackageLengths) {
  std::vector<Aml> names;
  for (int i = 0; i < 40; ++i) names.push_back(Name("X", Int(0x12345678)));  // 10 bytes each.
  Aml dev = Device("BIG", names);
  // 2 opcode bytes, 2 PkgLength bytes, name, 400 bytes of body.
  ASSERT_EQ(dev.bytes.size(), 2u + 2u + 4u + 400u);
  auto walk = acpi_test::WalkAml(dev.bytes);
  ASSERT_TRUE(walk.ok) << walk.error;
  EXPECT_EQ(walk.objects.at("\\BIG_").kind, "Device");
  EXPECT_EQ(walk.objects.at("\\BIG_.X___").value->integer, 0x12345678u);
}

}  // namespace
}  // namespace x86vm::aml
