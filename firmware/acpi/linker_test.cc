#include "firmware/acpi/linker.h"

#include <gtest/gtest.h>

#include "firmware/acpi/acpi_test_util.h"

namespace x86vm {
namespace {

using Bytes = std::vector<uint8_t>;

// Two blobs: "a" holds a 4-byte and an 8-byte pointer into "b" and a checksum.
TableLinker TwoFiles() {
  TableLinker l;
  Bytes& a = l.AddFile("a", 16, TableLinker::kZoneFseg);
  a.assign(16, 0);
  a[0] = 0x11;
  Bytes& b = l.AddFile("b", 64, TableLinker::kZoneHigh);
  b.assign(32, 0);
  l.AddPointer("a", 4, 4, "b", 8);
  l.AddPointer("a", 8, 8, "b", 16);
  l.AddChecksum("a", 1, 0, 16);
  return l;
}

TEST(TableLinkerTest, PointerFieldsHoldOffsetsUntilLinked) {
  TableLinker l = TwoFiles();
  EXPECT_EQ(acpi_test::Le(l.file("a"), 4, 4), 8u);
  EXPECT_EQ(acpi_test::Le(l.file("a"), 8, 8), 16u);
  EXPECT_EQ(l.file_names(), (std::vector<std::string>{"a", "b"}));
}

TEST(TableLinkerTest, CommandEncodingIs128BytesEach) {
  TableLinker l = TwoFiles();
  Bytes enc = l.EncodeCommands();
  ASSERT_EQ(enc.size(), 5u * 128);
  // ALLOCATE "a": command 1, name, align 16 at +60, zone 2 at +64.
  EXPECT_EQ(acpi_test::Le(enc, 0, 4), 1u);
  EXPECT_EQ(enc[4], 'a');
  EXPECT_EQ(enc[5], 0);
  EXPECT_EQ(acpi_test::Le(enc, 4 + 56, 4), 16u);
  EXPECT_EQ(enc[4 + 60], 2);
  // ADD_POINTER a <- b: dest name at +4, src name at +60, offset at +116, size at +120.
  const size_t p = 2 * 128;
  EXPECT_EQ(acpi_test::Le(enc, p, 4), 2u);
  EXPECT_EQ(enc[p + 4], 'a');
  EXPECT_EQ(enc[p + 60], 'b');
  EXPECT_EQ(acpi_test::Le(enc, p + 116, 4), 4u);
  EXPECT_EQ(enc[p + 120], 4);
  // ADD_CHECKSUM: offset at +60, start at +64, length at +68.
  const size_t c = 4 * 128;
  EXPECT_EQ(acpi_test::Le(enc, c, 4), 3u);
  EXPECT_EQ(acpi_test::Le(enc, c + 60, 4), 1u);
  EXPECT_EQ(acpi_test::Le(enc, c + 64, 4), 0u);
  EXPECT_EQ(acpi_test::Le(enc, c + 68, 4), 16u);
  auto decoded = acpi_test::DecodeLoader(enc);
  ASSERT_TRUE(decoded);
  for (const auto& cmd : *decoded) EXPECT_TRUE(cmd.padding_clean);
}

TEST(TableLinkerTest, LinkAddsAddressesAndFixesChecksums) {
  auto linked = TwoFiles().Link({{"a", 0xf0010}, {"b", 0x7fff0000}});
  ASSERT_TRUE(linked);
  const Bytes& a = linked->at("a");
  EXPECT_EQ(acpi_test::Le(a, 4, 4), 0x7fff0008u);
  EXPECT_EQ(acpi_test::Le(a, 8, 8), 0x7fff0010u);
  EXPECT_EQ(acpi_test::Sum8(a), 0);
}

TEST(TableLinkerTest, LinkErrors) {
  TableLinker l = TwoFiles();
  EXPECT_FALSE(l.Link({{"a", 0xf0010}}));                       // No address for "b".
  EXPECT_FALSE(l.Link({{"a", 0xf0018}, {"b", 0x7fff0000}}));    // "a" not 16-aligned.
  auto high = l.Link({{"a", 0xf0010}, {"b", 0x100000000ull}});  // "b" beyond a 4-byte pointer.
  ASSERT_FALSE(high);
  EXPECT_NE(high.error().message.find("4-byte"), std::string::npos) << high.error().message;
}

}  // namespace
}  // namespace x86vm
