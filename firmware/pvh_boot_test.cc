#include "firmware/pvh_boot.h"

#include <gtest/gtest.h>

#include "firmware/boot_state.h"
#include "firmware/kernel_kind.h"
#include "firmware/test_elf.h"

namespace x86vm {
namespace {

using testing::BuildElf;
using testing::Le;
using testing::Load;
using testing::Note;
using testing::NoteSegment;
using testing::ReadGuest;
using testing::ReadGuestString;

constexpr uint64_t kEntry = 0x1000040;

// A Linux-like ELF64 kernel: code at 16 MiB physical linked high, a bss,
// and the PVH note with an 8-byte descriptor.
std::vector<uint8_t> PvhKernel(std::vector<uint8_t> note = Note("Xen", 18, Le(kEntry, 8)),
                               uint64_t paddr = 0x1000000, uint16_t machine = kElfMachineX86_64) {
  std::vector<uint8_t> code(0x100);
  for (size_t i = 0; i < code.size(); ++i) code[i] = static_cast<uint8_t>(i);
  return BuildElf(true, machine, 0xffffffff81000040ull,
                  {Load(paddr, code, 0x3000, 0xffffffff81000000ull), NoteSegment(note)});
}

std::string LoadError(GuestMemory& mem, const PvhBootParams& p) {
  auto r = LoadPvh(mem, p);
  if (r) return "(loaded)";
  return r.error().message;
}

TEST(PvhBoot, WritesStartInfoSegmentsAndModules) {
  auto mem = GuestMemory::Create(64ull << 20).value();
  testing::Scribble(*mem);
  auto kernel = PvhKernel();
  std::vector<uint8_t> initrd(10000, 0x5a), second(3, 0x77);
  PvhBootParams p;
  p.kernel_name = "vmlinux";
  p.kernel = kernel;
  p.modules = {{"initrd.img", initrd}, {"extra.bin", second}};
  p.cmdline = "console=ttyS0 earlyprintk=serial";
  p.e820 = BuildE820(*mem);
  p.acpi_rsdp_gpa = 0xf5a00;
  auto entry = LoadPvh(*mem, p);
  ASSERT_TRUE(entry) << entry.error().message;

  EXPECT_EQ(entry->eip, kEntry);
  EXPECT_EQ(entry->ebx, kFlat32InfoGpa);
  EXPECT_EQ(entry->eax, 0u);

  // The segment at its physical address, the rest of p_memsz zeroed.
  EXPECT_EQ(ReadGuest(*mem, 0x1000000 + 0x41, 1), 0x41u);
  EXPECT_EQ(ReadGuest(*mem, 0x1000000 + 0xff, 1), 0xffu);
  EXPECT_EQ(ReadGuest(*mem, 0x1000000 + 0x100, 8), 0u);
  EXPECT_EQ(ReadGuest(*mem, 0x1000000 + 0x2ff8, 8), 0u);
  EXPECT_EQ(ReadGuest(*mem, 0x1000000 + 0x3000, 1), 0xccu);  // Past p_memsz: untouched.

  // hvm_start_info, version 1.
  uint64_t si = entry->ebx;
  EXPECT_EQ(ReadGuest(*mem, si + 0, 4), kHvmStartMagic);
  EXPECT_EQ(ReadGuest(*mem, si + 4, 4), 1u);
  EXPECT_EQ(ReadGuest(*mem, si + 8, 4), 0u);
  EXPECT_EQ(ReadGuest(*mem, si + 12, 4), 2u);
  EXPECT_EQ(ReadGuestString(*mem, ReadGuest(*mem, si + 24, 8)), "console=ttyS0 earlyprintk=serial");
  EXPECT_EQ(ReadGuest(*mem, si + 32, 8), 0xf5a00u);
  EXPECT_EQ(ReadGuest(*mem, si + 52, 4), 0u);  // reserved

  // Modules: page-aligned at the top of RAM, first one highest.
  uint64_t modlist = ReadGuest(*mem, si + 16, 8);
  uint64_t m0 = ReadGuest(*mem, modlist + 0, 8);
  uint64_t m1 = ReadGuest(*mem, modlist + 32, 8);
  EXPECT_EQ(m0 % 4096, 0u);
  EXPECT_EQ(m1 % 4096, 0u);
  EXPECT_LE(m0 + 10000, 64u << 20);
  EXPECT_GT(m0 + 10000, (64u << 20) - 4096 * 4);
  EXPECT_LE(m1 + 3, m0);
  EXPECT_EQ(ReadGuest(*mem, modlist + 8, 8), 10000u);
  EXPECT_EQ(ReadGuest(*mem, modlist + 40, 8), 3u);
  EXPECT_EQ(ReadGuestString(*mem, ReadGuest(*mem, modlist + 16, 8)), "initrd.img");
  EXPECT_EQ(ReadGuestString(*mem, ReadGuest(*mem, modlist + 48, 8)), "extra.bin");
  EXPECT_EQ(ReadGuest(*mem, modlist + 24, 8), 0u);
  EXPECT_EQ(ReadGuest(*mem, m0 + 9999, 1), 0x5au);
  EXPECT_EQ(ReadGuest(*mem, m1 + 2, 1), 0x77u);

  // The memory map is our e820.
  uint64_t memmap = ReadGuest(*mem, si + 40, 8);
  ASSERT_EQ(ReadGuest(*mem, si + 48, 4), p.e820.size());
  for (size_t i = 0; i < p.e820.size(); ++i) {
    EXPECT_EQ(ReadGuest(*mem, memmap + 24 * i, 8), p.e820[i].addr);
    EXPECT_EQ(ReadGuest(*mem, memmap + 24 * i + 8, 8), p.e820[i].size);
    EXPECT_EQ(ReadGuest(*mem, memmap + 24 * i + 16, 4), static_cast<uint32_t>(p.e820[i].type));
    EXPECT_EQ(ReadGuest(*mem, memmap + 24 * i + 20, 4), 0u);
  }

  // The GDT: flat code at 0x10, flat data at 0x18, busy TSS at 0x20.
  EXPECT_EQ(entry->gdt_base, kFlat32GdtGpa);
  EXPECT_EQ(entry->gdt_limit, 39);
  EXPECT_EQ(ReadGuest(*mem, kFlat32GdtGpa + 0x10, 8), 0x00cf9b000000ffffull);
  EXPECT_EQ(ReadGuest(*mem, kFlat32GdtGpa + 0x18, 8), 0x00cf93000000ffffull);
  EXPECT_EQ(ReadGuest(*mem, kFlat32GdtGpa + 0x20, 8), 0x00008b0000000067ull);
}

TEST(PvhBoot, EntryStateIsFlat32WithStartInfoInEbx) {
  auto mem = GuestMemory::Create(64ull << 20).value();
  auto kernel = PvhKernel();
  PvhBootParams p;
  p.kernel_name = "vmlinux";
  p.kernel = kernel;
  auto entry = LoadPvh(*mem, p);  // Empty e820: built from the memory.
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_EQ(ReadGuest(*mem, kFlat32InfoGpa + 48, 4), BuildE820(*mem).size());
  CpuState s = Flat32EntryState(*entry);
  EXPECT_EQ(s.rip, kEntry);
  EXPECT_EQ(s.gpr[kRbx], kFlat32InfoGpa);
  EXPECT_EQ(s.gpr[kRax], 0u);
  EXPECT_EQ(s.cr0, cr0::kPe | cr0::kEt);
  EXPECT_EQ(s.cr4, 0u);
  EXPECT_EQ(s.efer, 0u);
  EXPECT_EQ(s.rflags & (flags::kIf | flags::kVm | flags::kTf), 0u);
  EXPECT_EQ(s.seg[kCs].selector, 0x10);
  EXPECT_EQ(s.seg[kCs].base, 0u);
  EXPECT_EQ(s.seg[kCs].limit, 0xffffffffu);
  EXPECT_TRUE(s.seg[kCs].db());
  EXPECT_TRUE(s.seg[kCs].attr & seg_attr::kCode);
  for (SegReg r : {kDs, kEs, kSs, kFs, kGs}) {
    EXPECT_EQ(s.seg[r].selector, 0x18);
    EXPECT_EQ(s.seg[r].base, 0u);
    EXPECT_EQ(s.seg[r].limit, 0xffffffffu);
    EXPECT_TRUE(s.seg[r].attr & seg_attr::kWritable);
    EXPECT_FALSE(s.seg[r].attr & seg_attr::kCode);
  }
  EXPECT_EQ(s.seg[kTr].selector, 0x20);
  EXPECT_EQ(s.seg[kTr].base, 0u);
  EXPECT_EQ(s.seg[kTr].limit, 0x67u);
  EXPECT_EQ(s.seg[kTr].type(), 0xbu);
  EXPECT_EQ(s.gdtr.base, kFlat32GdtGpa);
  EXPECT_EQ(s.gdtr.limit, 39);
  EXPECT_TRUE(mem->a20_enabled());
}

TEST(PvhBoot, LoadsTheNasmKernels) {
  for (const char* path : {"tests/kernels/pvh_elf32.elf", "tests/kernels/pvh_elf64.elf"}) {
    SCOPED_TRACE(path);
    auto kernel = testing::ReadRunfile(path);
    ASSERT_FALSE(kernel.empty()) << "missing runfile";
    auto kind = DetectKernelKind(path, kernel);
    ASSERT_TRUE(kind) << kind.error().message;
    EXPECT_EQ(*kind, KernelKind::kPvhElf);
    auto mem = GuestMemory::Create(128ull << 20).value();
    std::vector<uint8_t> initrd = {'M', 'O', 'D'};
    PvhBootParams p;
    p.kernel_name = path;
    p.kernel = kernel;
    p.modules = {{"a.txt", initrd}};
    p.cmdline = "console=ttyS0";
    auto entry = LoadPvh(*mem, p);
    ASSERT_TRUE(entry) << entry.error().message;
    auto elf = ElfFile::Parse(path, kernel);
    ASSERT_TRUE(elf);
    EXPECT_EQ(entry->eip, elf->entry());  // The note names _start, as e_entry does.
    const ElfSegment& first = elf->segments()[0];
    ASSERT_EQ(first.type, kElfPtLoad);
    EXPECT_EQ(std::memcmp(mem->HostRange(first.paddr, first.file_bytes),
                          kernel.data() + first.offset, first.file_bytes),
              0);
    EXPECT_EQ(ReadGuest(*mem, entry->ebx, 4), kHvmStartMagic);
  }
}

TEST(PvhBoot, FindsTheEntryNote) {
  auto elf32 = BuildElf(false, kElfMachine386, 0x100000,
                        {Load(0x100000, {0x90}), NoteSegment(Note("Xen", 18, Le(0x100000, 4)))});
  EXPECT_TRUE(IsPvhKernel(elf32));
  auto other_notes =
      BuildElf(false, kElfMachine386, 0x100000,
               {Load(0x100000, {0x90}), NoteSegment(Note("Xen", 17, Le(0x100000, 4))),
                NoteSegment(Note("GNU", 18, Le(0x100000, 4)))});
  EXPECT_FALSE(IsPvhKernel(other_notes));
  std::vector<uint8_t> junk(100, 0);
  EXPECT_FALSE(IsPvhKernel(junk));
}

TEST(PvhBoot, Errors) {
  auto mem = GuestMemory::Create(32ull << 20).value();
  PvhBootParams p;
  p.kernel_name = "vmlinux";
  p.e820 = BuildE820(*mem);

  std::vector<uint8_t> not_elf(4096, 0x90);
  p.kernel = not_elf;
  EXPECT_EQ(LoadError(*mem, p), "--kernel vmlinux: not an ELF file (no \\x7fELF magic)");

  auto no_note = BuildElf(true, kElfMachineX86_64, 0x100000, {Load(0x100000, {1})});
  p.kernel = no_note;
  EXPECT_NE(LoadError(*mem, p).find("--kernel vmlinux: ELF kernel without a PVH entry note"),
            std::string::npos);

  auto bad_size = PvhKernel(Note("Xen", 18, Le(kEntry, 2)), 0x100000);
  p.kernel = bad_size;
  EXPECT_NE(LoadError(*mem, p).find("has 2 bytes, not 4 or 8"), std::string::npos);

  auto high = PvhKernel(Note("Xen", 18, Le(0x100000000ull, 8)), 0x100000);
  p.kernel = high;
  EXPECT_NE(LoadError(*mem, p).find("not a 32-bit physical address"), std::string::npos);

  auto outside = PvhKernel(Note("Xen", 18, Le(0x200000, 8)), 0x100000);
  p.kernel = outside;
  EXPECT_NE(LoadError(*mem, p).find("entry point 0x200000 is outside every loaded segment"),
            std::string::npos);

  auto arm = PvhKernel(Note("Xen", 18, Le(0x100040, 8)), 0x100000, 183);
  p.kernel = arm;
  EXPECT_NE(LoadError(*mem, p).find("ELF machine 183 is not x86"), std::string::npos);

  auto beyond_ram = PvhKernel(Note("Xen", 18, Le(0x4000040, 8)), 0x4000000);  // 64 MiB > 32.
  p.kernel = beyond_ram;
  std::string e = LoadError(*mem, p);
  EXPECT_NE(e.find("--kernel vmlinux: segment 0 at [0x4000000, 0x4003000) is not in guest RAM"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("--memory"), std::string::npos);

  auto above_4g = BuildElf(true, kElfMachineX86_64, 0x100000,
                          {Load(0x100000, {0x90}), Load(0x100000000ull, {1}),
                           NoteSegment(Note("Xen", 18, Le(0x100000, 4)))});
  p.kernel = above_4g;
  EXPECT_NE(LoadError(*mem, p).find("segment 1 at [0x100000000, 0x100000001) does not lie below "
                                    "4 GiB"),
            std::string::npos)
      << LoadError(*mem, p);

  auto in_bios_hole = PvhKernel(Note("Xen", 18, Le(0xa0040, 8)), 0xa0000);
  p.kernel = in_bios_hole;
  EXPECT_NE(LoadError(*mem, p).find("is not in guest RAM"), std::string::npos);

  auto over_info = PvhKernel(Note("Xen", 18, Le(0x7040, 8)), 0x7000);
  p.kernel = over_info;
  e = LoadError(*mem, p);
  EXPECT_NE(e.find("segment 0 at [0x7000, 0xa000) overlaps the boot information the loader "
                   "writes at [0x6000, "),
            std::string::npos)
      << e;

  // A kernel just below the area is fine; one just past what is used too.
  auto below_info = PvhKernel(Note("Xen", 18, Le(0x3040, 8)), 0x3000);
  p.kernel = below_info;
  EXPECT_EQ(LoadError(*mem, p), "(loaded)");
  auto past_info = PvhKernel(Note("Xen", 18, Le(0x10040, 8)), 0x10000);
  p.kernel = past_info;
  EXPECT_EQ(LoadError(*mem, p), "(loaded)");

  auto ok = PvhKernel(Note("Xen", 18, Le(0x100040, 8)), 0x100000);
  p.kernel = ok;
  std::vector<uint8_t> huge(40u << 20);
  p.modules = {{"big.img", huge}};
  EXPECT_NE(LoadError(*mem, p).find("--initrd big.img: 40.0 MiB does not fit in guest RAM"),
            std::string::npos);

  p.modules = {};
  p.cmdline = std::string(700 << 10, 'x');
  EXPECT_NE(LoadError(*mem, p).find("do not fit in the boot information area [0x6000, 0x9fc00)"),
            std::string::npos);

  p.cmdline = "";
  auto truncated = ok;
  truncated.resize(truncated.size() - 8);  // Into the note segment's data.
  p.kernel = truncated;
  EXPECT_NE(LoadError(*mem, p).find("truncated: segment 1"), std::string::npos);
}

TEST(KernelKind, DetectsEachProtocolAndExplainsTheRest) {
  std::vector<uint8_t> bz(0x1000, 0);
  bz[0x1fe] = 0x55;
  bz[0x1ff] = 0xaa;
  std::memcpy(&bz[0x202], "HdrS", 4);
  EXPECT_EQ(DetectKernelKind("bz", bz).value(), KernelKind::kLinuxBzImage);

  std::vector<uint8_t> mb(64, 0);
  testing::PutLe(mb, 8, 0x1BADB002, 4);
  testing::PutLe(mb, 12, 0, 4);
  testing::PutLe(mb, 16, static_cast<uint32_t>(-0x1BADB002), 4);
  EXPECT_EQ(DetectKernelKind("mb", mb).value(), KernelKind::kMultiboot);

  EXPECT_EQ(DetectKernelKind("pvh", PvhKernel()).value(), KernelKind::kPvhElf);
  EXPECT_STREQ(KernelKindName(KernelKind::kPvhElf), "PVH ELF");

  auto plain = BuildElf(true, kElfMachineX86_64, 0x100000, {Load(0x100000, {1})});
  auto r = DetectKernelKind("vmlinux", plain);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("--kernel vmlinux: an ELF file with neither a PVH entry note"),
            std::string::npos);

  std::vector<uint8_t> junk(8192, 0x90);
  r = DetectKernelKind("junk.bin", junk);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("--kernel junk.bin: not a Linux bzImage, a multiboot kernel or "
                                   "a PVH ELF kernel"),
            std::string::npos);

  r = DetectKernelKind("empty", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "--kernel empty: the file is empty");

  auto broken = plain;
  broken.resize(60);
  r = DetectKernelKind("broken", broken);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("--kernel broken: truncated"), std::string::npos);
}

}  // namespace
}  // namespace x86vm
