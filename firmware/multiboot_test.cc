#include "firmware/multiboot.h"

#include <gtest/gtest.h>

#include "firmware/boot_state.h"
#include "firmware/kernel_kind.h"
#include "firmware/test_elf.h"

namespace x86vm {
namespace {

using testing::BuildElf;
using testing::Load;
using testing::PutLe;
using testing::ReadGuest;
using testing::ReadGuestString;

// The fields of a multiboot header with the address fields.
struct Header {
  uint32_t flags = 0x00010003;
  uint32_t header_addr = 0x100040;
  uint32_t load_addr = 0x100000;
  uint32_t load_end_addr = 0x100800;
  uint32_t bss_end_addr = 0x102000;
  uint32_t entry_addr = 0x100010;
};

// A 4 KiB flat image (byte i = i * 3) with `h` at file offset `at`.
std::vector<uint8_t> FlatKernel(const Header& h = {}, size_t at = 0x40) {
  std::vector<uint8_t> k(0x1000);
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i * 3);
  PutLe(k, at, kMultibootHeaderMagic, 4);
  PutLe(k, at + 4, h.flags, 4);
  PutLe(k, at + 8, static_cast<uint32_t>(0u - kMultibootHeaderMagic - h.flags), 4);
  PutLe(k, at + 12, h.header_addr, 4);
  PutLe(k, at + 16, h.load_addr, 4);
  PutLe(k, at + 20, h.load_end_addr, 4);
  PutLe(k, at + 24, h.bss_end_addr, 4);
  PutLe(k, at + 28, h.entry_addr, 4);
  return k;
}

// Just magic, flags and checksum at offset `at` of `k`.
void PutHeader(std::vector<uint8_t>& k, size_t at, uint32_t flags) {
  PutLe(k, at, kMultibootHeaderMagic, 4);
  PutLe(k, at + 4, flags, 4);
  PutLe(k, at + 8, static_cast<uint32_t>(0u - kMultibootHeaderMagic - flags), 4);
}

std::string LoadError(GuestMemory& mem, const MultibootParams& p) {
  auto r = LoadMultiboot(mem, p);
  if (r) return "(loaded)";
  return r.error().message;
}

TEST(Multiboot, FindsOnlyAlignedValidHeadersInTheFirst8KiB) {
  std::vector<uint8_t> k(16384, 0);
  EXPECT_FALSE(FindMultibootHeader(k));
  PutHeader(k, 8192, 0);  // Too late.
  EXPECT_FALSE(FindMultibootHeader(k));
  PutHeader(k, 8180, 0);  // The last place it may start.
  ASSERT_TRUE(FindMultibootHeader(k));
  EXPECT_EQ(FindMultibootHeader(k)->file_offset, 8180u);
  PutHeader(k, 101, 0);  // Unaligned: ignored.
  EXPECT_EQ(FindMultibootHeader(k)->file_offset, 8180u);
  PutHeader(k, 200, 3);
  PutLe(k, 208, 0, 4);  // Bad checksum: ignored.
  EXPECT_EQ(FindMultibootHeader(k)->file_offset, 8180u);
  PutHeader(k, 100, 0x10002);
  auto h = FindMultibootHeader(k);
  EXPECT_EQ(h->file_offset, 100u);
  EXPECT_EQ(h->flags, 0x10002u);
  // A header at the very end of a short file: found, address fields left 0.
  std::vector<uint8_t> tiny(12, 0);
  PutHeader(tiny, 0, 0x10000);
  ASSERT_TRUE(FindMultibootHeader(tiny));
  EXPECT_EQ(FindMultibootHeader(tiny)->load_addr, 0u);
}

TEST(Multiboot, LoadsFlatImageModulesAndInfo) {
  auto mem = GuestMemory::Create(64ull << 20).value();
  testing::Scribble(*mem);
  auto kernel = FlatKernel();
  std::vector<uint8_t> a(5000, 'a'), b(1, 'b'), c;  // c: an empty module.
  MultibootParams p;
  p.kernel_name = "kernel.bin";
  p.kernel = kernel;
  p.modules = {{"a.mod", a}, {"dir/b.mod", b}, {"c.mod", c}};
  p.cmdline = "root=/dev/x debug";
  p.e820 = BuildE820(*mem);
  auto entry = LoadMultiboot(*mem, p);
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_EQ(entry->eip, 0x100010u);
  EXPECT_EQ(entry->eax, 0x2BADB002u);
  EXPECT_EQ(entry->ebx, kFlat32InfoGpa);

  // Image: file bytes [0, 0x800) at 1 MiB, zeros to bss_end, nothing past it.
  EXPECT_EQ(ReadGuest(*mem, 0x100000 + 0x7ff, 1), static_cast<uint8_t>(0x7ff * 3));
  EXPECT_EQ(ReadGuest(*mem, 0x100000 + 0x40, 4), kMultibootHeaderMagic);
  EXPECT_EQ(ReadGuest(*mem, 0x100800, 8), 0u);
  EXPECT_EQ(ReadGuest(*mem, 0x101ff8, 8), 0u);

  uint64_t mbi = entry->ebx;
  namespace mi = multiboot_info;
  EXPECT_EQ(ReadGuest(*mem, mbi + mi::kFlags, 4), 0x24du);  // mem, cmdline, mods, mmap, name.
  EXPECT_EQ(ReadGuest(*mem, mbi + mi::kMemLower, 4), 639u);
  EXPECT_EQ(ReadGuest(*mem, mbi + mi::kMemUpper, 4), 63u * 1024);
  EXPECT_EQ(ReadGuestString(*mem, ReadGuest(*mem, mbi + mi::kCmdline, 4)),
            "kernel.bin root=/dev/x debug");
  EXPECT_EQ(ReadGuestString(*mem, ReadGuest(*mem, mbi + mi::kBootLoaderName, 4)), "x86vm");
  EXPECT_EQ(ReadGuest(*mem, mbi + 72, 4), 0u);  // No VBE.
  EXPECT_EQ(ReadGuest(*mem, mbi + 88, 8), 0u);  // No framebuffer.

  // Modules: page-aligned, one after another after the bss.
  ASSERT_EQ(ReadGuest(*mem, mbi + mi::kModsCount, 4), 3u);
  uint64_t mods = ReadGuest(*mem, mbi + mi::kModsAddr, 4);
  uint64_t a_at = ReadGuest(*mem, mods, 4);
  EXPECT_EQ(a_at, 0x102000u);
  EXPECT_EQ(ReadGuest(*mem, mods + 4, 4), a_at + 5000);
  EXPECT_EQ(ReadGuestString(*mem, ReadGuest(*mem, mods + 8, 4)), "a.mod");
  EXPECT_EQ(ReadGuest(*mem, mods + 12, 4), 0u);
  EXPECT_EQ(ReadGuest(*mem, a_at + 4999, 1), 'a');
  uint64_t b_at = ReadGuest(*mem, mods + 16, 4);
  EXPECT_EQ(b_at, 0x104000u);
  EXPECT_EQ(ReadGuest(*mem, mods + 20, 4), b_at + 1);
  EXPECT_EQ(ReadGuestString(*mem, ReadGuest(*mem, mods + 24, 4)), "dir/b.mod");
  EXPECT_EQ(ReadGuest(*mem, b_at, 1), 'b');
  uint64_t c_at = ReadGuest(*mem, mods + 32, 4);
  EXPECT_EQ(c_at, 0x105000u);
  EXPECT_EQ(ReadGuest(*mem, mods + 36, 4), c_at);
  EXPECT_EQ(ReadGuestString(*mem, ReadGuest(*mem, mods + 40, 4)), "c.mod");

  // Memory map: the e820 entries, each with size 20 before it.
  uint64_t mmap = ReadGuest(*mem, mbi + mi::kMmapAddr, 4);
  ASSERT_EQ(ReadGuest(*mem, mbi + mi::kMmapLength, 4), 24 * p.e820.size());
  for (size_t i = 0; i < p.e820.size(); ++i) {
    EXPECT_EQ(ReadGuest(*mem, mmap + 24 * i, 4), 20u);
    EXPECT_EQ(ReadGuest(*mem, mmap + 24 * i + 4, 8), p.e820[i].addr);
    EXPECT_EQ(ReadGuest(*mem, mmap + 24 * i + 12, 8), p.e820[i].size);
    EXPECT_EQ(ReadGuest(*mem, mmap + 24 * i + 20, 4), static_cast<uint32_t>(p.e820[i].type));
  }

  CpuState s = Flat32EntryState(*entry);
  EXPECT_EQ(s.gpr[kRax], 0x2BADB002u);
  EXPECT_EQ(s.gpr[kRbx], kFlat32InfoGpa);
  EXPECT_EQ(s.rip, 0x100010u);
  EXPECT_EQ(s.cr0 & (cr0::kPe | cr0::kPg), cr0::kPe);
  EXPECT_EQ(s.rflags & flags::kIf, 0u);
  EXPECT_EQ(s.seg[kCs].limit, 0xffffffffu);
  EXPECT_EQ(s.seg[kSs].limit, 0xffffffffu);
  EXPECT_TRUE(mem->a20_enabled());
}

TEST(Multiboot, MemorySizesFollowTheE820Map) {
  auto mem = GuestMemory::Create(64ull << 20).value();
  auto kernel = FlatKernel();
  MultibootParams p;
  p.kernel_name = "k";
  p.kernel = kernel;
  // RAM from 1 MiB is split by a reserved range at 16 MiB: mem_upper stops there.
  p.e820 = BuildE820(*mem, {{16u << 20, 4096, E820Type::kAcpi}});
  auto entry = LoadMultiboot(*mem, p);
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_EQ(ReadGuest(*mem, entry->ebx + multiboot_info::kMemUpper, 4), 15u * 1024);
  EXPECT_EQ(ReadGuestString(*mem, ReadGuest(*mem, entry->ebx + multiboot_info::kCmdline, 4)), "k");
}

TEST(Multiboot, LoadFieldsZeroMeanWholeFileAndNoBss) {
  auto mem = GuestMemory::Create(16ull << 20).value();
  testing::Scribble(*mem);
  Header h;
  h.load_end_addr = 0;
  h.bss_end_addr = 0;
  auto kernel = FlatKernel(h);
  MultibootParams p;
  p.kernel_name = "k";
  p.kernel = kernel;
  std::vector<uint8_t> m(1, 'm');
  p.modules = {{"m", m}};
  auto entry = LoadMultiboot(*mem, p);
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_EQ(ReadGuest(*mem, 0x100000 + 0xfff, 1), static_cast<uint8_t>(0xfff * 3));
  uint64_t mods = ReadGuest(*mem, entry->ebx + multiboot_info::kModsAddr, 4);
  EXPECT_EQ(ReadGuest(*mem, mods, 4), 0x101000u);
}

TEST(Multiboot, ElfKernelLinkedHighEntersAtThePhysicalEntry) {
  auto mem = GuestMemory::Create(16ull << 20).value();
  std::vector<uint8_t> code(0x200, 0x90), header(12);
  PutHeader(header, 0, 0x00000002);
  code.insert(code.begin(), header.begin(), header.end());
  auto kernel = BuildElf(
      false, kElfMachine386, 0xc0100010,
      {Load(0x100000, code, 0x1000, 0xc0100000), Load(0x200000, {1, 2, 3}, 0, 0xc0200000)});
  ASSERT_TRUE(FindMultibootHeader(kernel));
  MultibootParams p;
  p.kernel_name = "k.elf";
  p.kernel = kernel;
  auto entry = LoadMultiboot(*mem, p);
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_EQ(entry->eip, 0x100010u);
  EXPECT_EQ(ReadGuest(*mem, 0x100000, 4), kMultibootHeaderMagic);
  EXPECT_EQ(ReadGuest(*mem, 0x200002, 1), 3u);
  EXPECT_EQ(ReadGuest(*mem, 0x100ff8, 8), 0u);
}

TEST(Multiboot, LoadsTheNasmKernels) {
  for (const char* path : {"tests/kernels/multiboot_elf.elf", "tests/kernels/multiboot_aout.bin"}) {
    SCOPED_TRACE(path);
    auto kernel = testing::ReadRunfile(path);
    ASSERT_FALSE(kernel.empty()) << "missing runfile";
    auto kind = DetectKernelKind(path, kernel);
    ASSERT_TRUE(kind) << kind.error().message;
    EXPECT_EQ(*kind, KernelKind::kMultiboot);
    auto header = FindMultibootHeader(kernel);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->flags & 0xffff, 3u);
    auto mem = GuestMemory::Create(128ull << 20).value();
    std::vector<uint8_t> a = {'A'}, b = {'B'};
    MultibootParams p;
    p.kernel_name = path;
    p.kernel = kernel;
    p.modules = {{"a", a}, {"b", b}};
    auto entry = LoadMultiboot(*mem, p);
    ASSERT_TRUE(entry) << entry.error().message;
    EXPECT_GE(entry->eip, 0x100000u);
    EXPECT_LT(entry->eip, 0x101000u);
    EXPECT_EQ(ReadGuest(*mem, entry->ebx + multiboot_info::kModsCount, 4), 2u);
  }
}

TEST(Multiboot, HeaderAndFlagErrors) {
  auto mem = GuestMemory::Create(16ull << 20).value();
  MultibootParams p;
  p.kernel_name = "k.bin";

  std::vector<uint8_t> none(9000, 0);
  p.kernel = none;
  EXPECT_NE(LoadError(*mem, p).find("--kernel k.bin: no multiboot header"), std::string::npos);

  Header h;
  h.flags = 0x00010007;
  auto video = FlatKernel(h);
  p.kernel = video;
  EXPECT_NE(LoadError(*mem, p).find("requires video mode information (flag bit 2)"),
            std::string::npos);

  h.flags = 0x00010023;
  auto unknown = FlatKernel(h);
  p.kernel = unknown;
  EXPECT_NE(LoadError(*mem, p).find("requires features x86vm does not know (flag bits 0x0020)"),
            std::string::npos);

  h.flags = 0x00110003;  // An unknown optional bit (20) is ignored.
  auto optional = FlatKernel(h);
  p.kernel = optional;
  EXPECT_EQ(LoadError(*mem, p), "(loaded)");

  std::vector<uint8_t> flat_without_fields(4096, 0x90);
  PutHeader(flat_without_fields, 0, 0x00000003);
  p.kernel = flat_without_fields;
  EXPECT_NE(LoadError(*mem, p).find("has no address fields (flag 16) and the file is not ELF"),
            std::string::npos);

  std::vector<uint8_t> mb_code(0x40, 0x90);
  PutHeader(mb_code, 0, 0);
  auto bad_entry = BuildElf(false, kElfMachine386, 0x300000, {Load(0x100000, mb_code)});
  p.kernel = bad_entry;
  EXPECT_NE(LoadError(*mem, p).find("entry point 0x300000 is outside every loadable segment"),
            std::string::npos);
  auto high_entry = BuildElf(true, kElfMachineX86_64, 0x100000000ull,
                             {Load(0x100000000ull, mb_code, 0, 0x100000000ull)});
  p.kernel = high_entry;
  EXPECT_NE(LoadError(*mem, p).find("entry point 0x100000000 is not below 4 GiB"),
            std::string::npos);

  auto elf_without_load = BuildElf(false, kElfMachine386, 0x100000, {});
  PutHeader(elf_without_load, 52, 0);  // Right after the ELF header.
  elf_without_load.resize(128, 0);
  p.kernel = elf_without_load;
  EXPECT_NE(LoadError(*mem, p).find("no loadable (PT_LOAD) segment"), std::string::npos);
}

TEST(Multiboot, AddressFieldErrors) {
  auto mem = GuestMemory::Create(16ull << 20).value();
  MultibootParams p;
  p.kernel_name = "k.bin";
  auto expect = [&](const Header& h, const std::string& text, size_t at = 0x40) {
    auto k = FlatKernel(h, at);
    p.kernel = k;
    std::string e = LoadError(*mem, p);
    EXPECT_NE(e.find("--kernel k.bin: "), std::string::npos) << e;
    EXPECT_NE(e.find(text), std::string::npos) << e;
  };
  Header h;
  h.load_addr = 0x100080;
  expect(h, "load_addr 0x100080 is above header_addr 0x100040");
  h = {};
  h.load_addr = 0xff000;
  expect(h, "more than the header's file offset");
  h = {};
  h.load_end_addr = 0xff000;
  expect(h, "load_end_addr 0xff000 is below load_addr");
  h = {};
  h.load_end_addr = 0x102000;
  expect(h, "truncated: load_addr..load_end_addr needs 0x2000 bytes");
  h = {};
  h.bss_end_addr = 0x100400;
  expect(h, "bss_end_addr 0x100400 is below the end of the loaded image 0x100800");
  h = {};
  h.entry_addr = 0x100900;
  expect(h, "entry_addr 0x100900 is outside the loaded image [0x100000, 0x100800)");
  h = {};
  h.header_addr = 0x2000040;  // 32 MiB: past RAM.
  h.load_addr = 0x2000000;
  h.load_end_addr = 0x2000800;
  h.bss_end_addr = 0;
  h.entry_addr = 0x2000010;
  expect(h, "the image (multiboot address fields) at [0x2000000, 0x2000800) is not in guest RAM");
  h = {};
  h.header_addr = 0x7040;  // Over the boot information.
  h.load_addr = 0x7000;
  h.load_end_addr = 0x7800;
  h.bss_end_addr = 0;
  h.entry_addr = 0x7010;
  expect(h, "overlaps the boot information the loader writes at [0x6000, ");

  // The header's address fields cut off by the end of the file.
  std::vector<uint8_t> cut(0x50, 0);
  PutHeader(cut, 0x40, 0x00010000);
  p.kernel = cut;
  EXPECT_NE(LoadError(*mem, p).find("truncated: the multiboot header at offset 0x40 sets flag 16"),
            std::string::npos);
}

TEST(Multiboot, ModuleAndInfoErrors) {
  auto mem = GuestMemory::Create(16ull << 20).value();
  auto kernel = FlatKernel();
  MultibootParams p;
  p.kernel_name = "k.bin";
  p.kernel = kernel;
  std::vector<uint8_t> small(10), big(15u << 20);
  p.modules = {{"small", small}, {"big.img", big}};
  EXPECT_NE(LoadError(*mem, p).find("--initrd big.img: 15.0 MiB does not fit in guest RAM at "
                                    "0x103000 after the kernel"),
            std::string::npos)
      << LoadError(*mem, p);

  p.modules.clear();
  p.cmdline = std::string(700 << 10, 'x');
  EXPECT_NE(LoadError(*mem, p).find("do not fit in the boot information area"), std::string::npos);
}

}  // namespace
}  // namespace x86vm
