#include "firmware/elf.h"

#include <gtest/gtest.h>

#include "firmware/test_elf.h"

namespace x86vm {
namespace {

using testing::BuildElf;
using testing::Le;
using testing::Load;
using testing::Note;
using testing::NoteSegment;
using testing::PutLe;

std::string ErrorOf(const std::vector<uint8_t>& image) {
  auto elf = ElfFile::Parse("--kernel k.elf", image);
  if (elf) return "(parsed)";
  return elf.error().message;
}

void ExpectError(const std::vector<uint8_t>& image, const std::string& text) {
  std::string message = ErrorOf(image);
  EXPECT_NE(message.find("--kernel k.elf: "), std::string::npos) << message;
  EXPECT_NE(message.find(text), std::string::npos) << message;
}

TEST(Elf, ParsesElf32Segments) {
  auto image = BuildElf(false, kElfMachine386, 0x100010,
                        {Load(0x100000, {1, 2, 3, 4}, 0x1000), testing::OtherSegment(6)});
  auto elf = ElfFile::Parse("k", image);
  ASSERT_TRUE(elf) << elf.error().message;
  EXPECT_FALSE(elf->is_64bit());
  EXPECT_EQ(elf->machine(), kElfMachine386);
  EXPECT_EQ(elf->type(), 2);
  EXPECT_EQ(elf->entry(), 0x100010u);
  ASSERT_EQ(elf->segments().size(), 2u);
  const ElfSegment& s = elf->segments()[0];
  EXPECT_EQ(s.type, kElfPtLoad);
  EXPECT_EQ(s.paddr, 0x100000u);
  EXPECT_EQ(s.vaddr, 0x100000u);
  EXPECT_EQ(s.file_bytes, 4u);
  EXPECT_EQ(s.memory_bytes, 0x1000u);
  EXPECT_EQ(s.align, 4u);
  auto bytes = elf->SegmentBytes(s);
  ASSERT_EQ(bytes.size(), 4u);
  EXPECT_EQ(bytes[3], 4);
  EXPECT_EQ(elf->segments()[1].type, 6u);
}

TEST(Elf, ParsesElf64SegmentsAndHighAddresses) {
  auto image = BuildElf(true, kElfMachineX86_64, 0xffffffff81000000ull,
                        {Load(0x1000000, {9, 8}, 0x2000, 0xffffffff81000000ull)});
  auto elf = ElfFile::Parse("k", image);
  ASSERT_TRUE(elf) << elf.error().message;
  EXPECT_TRUE(elf->is_64bit());
  EXPECT_EQ(elf->entry(), 0xffffffff81000000ull);
  ASSERT_EQ(elf->segments().size(), 1u);
  EXPECT_EQ(elf->segments()[0].vaddr, 0xffffffff81000000ull);
  EXPECT_EQ(elf->segments()[0].paddr, 0x1000000u);
  EXPECT_EQ(elf->segments()[0].memory_bytes, 0x2000u);
}

TEST(Elf, IteratesNotesWithFourAndEightByteAlignment) {
  std::vector<uint8_t> notes4 = Note("Xen", 18, Le(0x100000, 4));
  std::vector<uint8_t> more = Note("GNU", 3, {1, 2, 3, 4, 5});  // Desc padded to 8.
  notes4.insert(notes4.end(), more.begin(), more.end());
  std::vector<uint8_t> notes8 = Note("Linux", 7, Le(0x1234, 8), 8);
  auto image =
      BuildElf(true, kElfMachineX86_64, 0, {NoteSegment(notes4, 4), NoteSegment(notes8, 8)});
  auto elf = ElfFile::Parse("k", image);
  ASSERT_TRUE(elf) << elf.error().message;
  auto notes = elf->Notes();
  ASSERT_TRUE(notes) << notes.error().message;
  ASSERT_EQ(notes->size(), 3u);
  EXPECT_EQ((*notes)[0].name, "Xen");
  EXPECT_EQ((*notes)[0].type, 18u);
  ASSERT_EQ((*notes)[0].desc.size(), 4u);
  EXPECT_EQ((*notes)[0].desc[2], 0x10);
  EXPECT_EQ((*notes)[1].name, "GNU");
  EXPECT_EQ((*notes)[1].desc.size(), 5u);
  EXPECT_EQ((*notes)[1].desc[4], 5);
  EXPECT_EQ((*notes)[2].name, "Linux");
  ASSERT_EQ((*notes)[2].desc.size(), 8u);
  EXPECT_EQ((*notes)[2].desc[0], 0x34);
}

TEST(Elf, HeaderErrorsNameTheFileAndTheProblem) {
  ExpectError({'M', 'Z', 0, 0, 0, 0, 0, 0}, "not an ELF file");
  ExpectError({0x7f, 'E', 'L', 'F'}, "truncated ELF identification");

  auto good = BuildElf(false, kElfMachine386, 0, {Load(0x100000, {1})});
  auto bad_class = good;
  bad_class[4] = 3;
  ExpectError(bad_class, "ELF class 3");
  auto big_endian = good;
  big_endian[5] = 2;
  ExpectError(big_endian, "big-endian");
  auto bad_version = good;
  bad_version[6] = 0;
  ExpectError(bad_version, "ELF version 0");
  ExpectError(std::vector<uint8_t>(good.begin(), good.begin() + 40), "the ELF32 header alone");
  auto good64 = BuildElf(true, kElfMachineX86_64, 0, {});
  ExpectError(std::vector<uint8_t>(good64.begin(), good64.begin() + 60), "the ELF64 header alone");

  auto xnum = good;
  PutLe(xnum, 44, 0xffff, 2);
  ExpectError(xnum, "PN_XNUM");
  auto small_entries = good;
  PutLe(small_entries, 42, 16, 2);
  ExpectError(small_entries, "program header entry size 16");
  auto phdrs_past_end = good;
  PutLe(phdrs_past_end, 28, good.size() - 8, 4);
  ExpectError(phdrs_past_end, "program headers at offset");
  auto huge_phoff = good;
  PutLe(huge_phoff, 28, 0xfffffff0, 4);
  ExpectError(huge_phoff, "truncated");
}

TEST(Elf, SegmentErrors) {
  auto image = BuildElf(false, kElfMachine386, 0, {Load(0x100000, {1, 2, 3, 4})});
  // Segment 0's program header is at 52: p_offset +4, p_filesz +16, p_memsz +20.
  auto past_end = image;
  PutLe(past_end, 52 + 16, 0x10000, 4);
  PutLe(past_end, 52 + 20, 0x10000, 4);
  ExpectError(past_end, "truncated: segment 0");
  auto offset_overflow = image;
  PutLe(offset_overflow, 52 + 4, 0xffffffff, 4);
  ExpectError(offset_overflow, "truncated: segment 0");
  auto file_over_memory = image;
  PutLe(file_over_memory, 52 + 20, 2, 4);
  ExpectError(file_over_memory, "more file bytes");

  auto wraps = BuildElf(true, kElfMachineX86_64, 0, {Load(0xfffffffffffff000ull, {1}, 0x2000)});
  ExpectError(wraps, "wraps around");

  // Other segment types are not checked against the file (PT_GNU_STACK etc.).
  auto other = image;
  PutLe(other, 52, 0x6474e551, 4);
  PutLe(other, 52 + 4, 0xffffff00, 4);
  EXPECT_EQ(ErrorOf(other), "(parsed)");
}

TEST(Elf, NoteErrors) {
  std::vector<uint8_t> truncated_header = {4, 0, 0, 0, 4, 0, 0, 0};
  auto a = BuildElf(false, kElfMachine386, 0, {NoteSegment(truncated_header)});
  auto elf = ElfFile::Parse("--kernel k.elf", a);
  ASSERT_TRUE(elf);
  auto notes = elf->Notes();
  ASSERT_FALSE(notes);
  EXPECT_NE(notes.error().message.find("--kernel k.elf: truncated note header"), std::string::npos)
      << notes.error().message;

  std::vector<uint8_t> long_desc = Note("Xen", 18, Le(1, 4));
  PutLe(long_desc, 4, 4096, 4);  // descsz far past the segment.
  auto b = BuildElf(false, kElfMachine386, 0, {NoteSegment(long_desc)});
  elf = ElfFile::Parse("--kernel k.elf", b);
  ASSERT_TRUE(elf);
  notes = elf->Notes();
  ASSERT_FALSE(notes);
  EXPECT_NE(notes.error().message.find("runs past the end of note segment 0"), std::string::npos)
      << notes.error().message;

  std::vector<uint8_t> huge_name = Note("Xen", 18, Le(1, 4));
  PutLe(huge_name, 0, 0xffffffff, 4);
  auto c = BuildElf(false, kElfMachine386, 0, {NoteSegment(huge_name)});
  elf = ElfFile::Parse("--kernel k.elf", c);
  ASSERT_TRUE(elf);
  EXPECT_FALSE(elf->Notes());
}

TEST(Elf, ReadsTheNasmTestKernels) {
  auto mb = testing::ReadRunfile("tests/kernels/multiboot_elf.elf");
  ASSERT_FALSE(mb.empty()) << "missing runfile";
  auto elf = ElfFile::Parse("multiboot_elf.elf", mb);
  ASSERT_TRUE(elf) << elf.error().message;
  EXPECT_FALSE(elf->is_64bit());
  int loads = 0;
  for (const ElfSegment& s : elf->segments()) loads += s.type == kElfPtLoad;
  EXPECT_EQ(loads, 3);  // Code, read-only data, bss (kernel.ld).

  auto pvh = testing::ReadRunfile("tests/kernels/pvh_elf64.elf");
  ASSERT_FALSE(pvh.empty()) << "missing runfile";
  elf = ElfFile::Parse("pvh_elf64.elf", pvh);
  ASSERT_TRUE(elf) << elf.error().message;
  EXPECT_TRUE(elf->is_64bit());
  auto notes = elf->Notes();
  ASSERT_TRUE(notes);
  ASSERT_EQ(notes->size(), 1u);
  EXPECT_EQ((*notes)[0].name, "Xen");
  EXPECT_EQ((*notes)[0].desc.size(), 8u);
}

}  // namespace
}  // namespace x86vm
