#include "firmware/multiboot.h"

#include <algorithm>
#include <cstring>

#include "firmware/elf.h"

namespace x86vm {
namespace {

// The header: magic, flags, checksum, then (flag 16) five address fields.
constexpr size_t kHeaderBytes = 12;
constexpr size_t kHeaderWithAddressBytes = 32;
// Required flags (bits 0-15) x86vm can meet.
constexpr uint32_t kSupportedRequired =
    multiboot_flag::kPageAlignModules | multiboot_flag::kMemoryInfo;

uint32_t Get32(std::span<const uint8_t> b, size_t off) {
  return static_cast<uint32_t>(b[off]) | static_cast<uint32_t>(b[off + 1]) << 8 |
         static_cast<uint32_t>(b[off + 2]) << 16 | static_cast<uint32_t>(b[off + 3]) << 24;
}
void Put(uint8_t* p, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(value >> (8 * i));
}

// The ranges of an a.out-kludge image (spec 3.1.3): the file from the
// offset matching load_addr up to load_end_addr, then zeros to bss_end_addr.
Result<std::vector<LoadRange>> KludgeRanges(const MultibootHeader& h, std::span<const uint8_t> file,
                                            const std::string& label, uint32_t* eip) {
  if (h.file_offset + kHeaderWithAddressBytes > file.size()) {
    return Fail(
        "{}: truncated: the multiboot header at offset {:#x} sets flag 16 but its "
        "address fields end past the file's {} bytes",
        label, h.file_offset, file.size());
  }
  if (h.load_addr > h.header_addr) {
    return Fail("{}: multiboot load_addr {:#x} is above header_addr {:#x}", label, h.load_addr,
                h.header_addr);
  }
  uint64_t header_distance = h.header_addr - h.load_addr;
  if (header_distance > h.file_offset) {
    return Fail(
        "{}: multiboot header_addr - load_addr ({:#x}) is more than the header's file "
        "offset ({:#x}): the image would start before the file",
        label, header_distance, h.file_offset);
  }
  uint64_t file_start = h.file_offset - header_distance;
  uint64_t load_bytes;
  if (h.load_end_addr == 0) {
    load_bytes = file.size() - file_start;
  } else {
    if (h.load_end_addr < h.load_addr) {
      return Fail("{}: multiboot load_end_addr {:#x} is below load_addr {:#x}", label,
                  h.load_end_addr, h.load_addr);
    }
    load_bytes = h.load_end_addr - h.load_addr;
    if (load_bytes > file.size() - file_start) {
      return Fail(
          "{}: truncated: load_addr..load_end_addr needs {:#x} bytes from file offset "
          "{:#x} but the file has {} bytes",
          label, load_bytes, file_start, file.size());
    }
  }
  uint64_t memory_bytes = load_bytes;
  if (h.bss_end_addr != 0) {
    if (h.bss_end_addr < h.load_addr + load_bytes) {
      return Fail("{}: multiboot bss_end_addr {:#x} is below the end of the loaded image {:#x}",
                  label, h.bss_end_addr, h.load_addr + load_bytes);
    }
    memory_bytes = h.bss_end_addr - h.load_addr;
  }
  if (h.entry_addr < h.load_addr || h.entry_addr - h.load_addr >= load_bytes) {
    return Fail("{}: multiboot entry_addr {:#x} is outside the loaded image [{:#x}, {:#x})", label,
                h.entry_addr, h.load_addr, h.load_addr + load_bytes);
  }
  *eip = h.entry_addr;
  return std::vector<LoadRange>{LoadRange{
      h.load_addr, file.subspan(static_cast<size_t>(file_start), static_cast<size_t>(load_bytes)),
      memory_bytes, "the image (multiboot address fields)"}};
}

Result<std::vector<LoadRange>> ElfRanges(std::span<const uint8_t> file, const std::string& label,
                                         uint32_t* eip) {
  if (!ElfFile::HasMagic(file)) {
    return Fail(
        "{}: the multiboot header has no address fields (flag 16) and the file is not "
        "ELF, so there is no way to tell where to load it",
        label);
  }
  auto elf = ElfFile::Parse(label, file);
  if (!elf) return std::unexpected(elf.error());
  if (elf->machine() != kElfMachine386 && elf->machine() != kElfMachineX86_64) {
    return Fail("{}: ELF machine {} is not x86 (3 or 62)", label, elf->machine());
  }
  std::vector<LoadRange> ranges = ElfLoadRanges(*elf);
  if (ranges.empty()) return Fail("{}: no loadable (PT_LOAD) segment", label);
  auto entry = ElfPhysicalEntry(*elf, elf->entry(), label);
  if (!entry) return std::unexpected(entry.error());
  *eip = *entry;
  return ranges;
}

// mem_lower and mem_upper in KiB (spec 3.3): RAM from 0 (at most 640 KiB)
// and contiguous RAM from 1 MiB up to the first hole.
void MemorySizes(const std::vector<E820Entry>& e820, uint32_t* lower_kib, uint32_t* upper_kib) {
  uint64_t lower = 0;
  for (const E820Entry& e : e820) {
    if (e.type == E820Type::kRam && e.addr == 0) lower = std::min<uint64_t>(e.size, 640 << 10);
  }
  uint64_t upper_end = GuestMemory::kHighMemStart;
  for (bool grew = true; grew;) {
    grew = false;
    for (const E820Entry& e : e820) {
      if (e.type == E820Type::kRam && e.addr <= upper_end && e.addr + e.size > upper_end) {
        upper_end = e.addr + e.size;
        grew = true;
      }
    }
  }
  *lower_kib = static_cast<uint32_t>(lower >> 10);
  *upper_kib = static_cast<uint32_t>(
      std::min<uint64_t>((upper_end - GuestMemory::kHighMemStart) >> 10, 0xffffffffu));
}

}  // namespace

std::optional<MultibootHeader> FindMultibootHeader(std::span<const uint8_t> kernel) {
  size_t limit = std::min(kernel.size(), kMultibootSearchBytes);
  for (size_t off = 0; off + kHeaderBytes <= limit; off += 4) {
    if (Get32(kernel, off) != kMultibootHeaderMagic) continue;
    uint32_t flags = Get32(kernel, off + 4);
    if (static_cast<uint32_t>(kMultibootHeaderMagic + flags + Get32(kernel, off + 8)) != 0) {
      continue;
    }
    MultibootHeader h{};
    h.file_offset = off;
    h.flags = flags;
    if (off + kHeaderWithAddressBytes <= kernel.size()) {
      h.header_addr = Get32(kernel, off + 12);
      h.load_addr = Get32(kernel, off + 16);
      h.load_end_addr = Get32(kernel, off + 20);
      h.bss_end_addr = Get32(kernel, off + 24);
      h.entry_addr = Get32(kernel, off + 28);
    }
    return h;
  }
  return std::nullopt;
}

Result<Flat32Entry> LoadMultiboot(GuestMemory& memory, const MultibootParams& p) {
  const std::string label = "--kernel " + p.kernel_name;
  std::optional<MultibootHeader> header = FindMultibootHeader(p.kernel);
  if (!header) {
    return Fail(
        "{}: no multiboot header (magic 0x1BADB002 with a valid checksum, 4-byte aligned "
        "in the first 8192 bytes)",
        label);
  }
  uint32_t required = header->flags & 0xffff;
  if (required & multiboot_flag::kVideoMode) {
    return Fail(
        "{}: the multiboot header requires video mode information (flag bit 2), which "
        "x86vm cannot provide (no VBE)",
        label);
  }
  if (uint32_t unknown = required & ~kSupportedRequired; unknown != 0) {
    return Fail(
        "{}: the multiboot header requires features x86vm does not know (flag bits "
        "{:#06x}); the spec says to refuse such a kernel",
        label, unknown);
  }

  uint32_t eip = 0;
  auto kernel = (header->flags & multiboot_flag::kAddressFields)
                    ? KludgeRanges(*header, p.kernel, label, &eip)
                    : ElfRanges(p.kernel, label, &eip);
  if (!kernel) return std::unexpected(kernel.error());
  std::vector<E820Entry> e820 = p.e820.empty() ? BuildE820(memory) : p.e820;

  // RAM first (a kernel outside RAM is the clearer error); the overlap with
  // the boot information is checked once its size is known.
  if (auto r = CheckLoadRanges(*kernel, e820, kFlat32GdtGpa, label); !r) {
    return std::unexpected(r.error());
  }
  auto module_gpas = PlaceModules(p.modules, *kernel, e820, ModulePlacement::kAfterKernel);
  if (!module_gpas) return std::unexpected(module_gpas.error());

  BootInfoWriter info;
  Flat32Entry entry{};
  AddFlat32Gdt(info, entry);
  uint64_t mbi = info.Reserve(multiboot_info::kBytes, 4096);
  uint64_t mods = info.Reserve(multiboot_info::kModuleBytes * p.modules.size(), 4);
  uint64_t mmap = info.Reserve(multiboot_info::kMmapEntryBytes * e820.size(), 4);
  std::string cmdline = p.cmdline.empty() ? p.kernel_name : p.kernel_name + " " + p.cmdline;
  uint64_t cmdline_gpa = info.AddString(cmdline);
  std::vector<uint64_t> names;
  for (const BootModule& m : p.modules) names.push_back(info.AddString(m.name));
  uint64_t loader_name = info.AddString(kMultibootLoaderName);
  if (info.overflowed()) {
    return Fail(
        "{}: the command line, module names and memory map do not fit in the boot "
        "information area [{:#x}, {:#x})",
        label, kFlat32GdtGpa, kFlat32AreaEnd);
  }

  namespace mi = multiboot_info;
  namespace mf = multiboot_info_flag;
  uint8_t* b = info.At(mbi);
  uint32_t lower_kib, upper_kib;
  MemorySizes(e820, &lower_kib, &upper_kib);
  Put(b + mi::kFlags,
      mf::kMemory | mf::kCmdline | mf::kModules | mf::kMemoryMap | mf::kBootLoaderName, 4);
  Put(b + mi::kMemLower, lower_kib, 4);
  Put(b + mi::kMemUpper, upper_kib, 4);
  Put(b + mi::kCmdline, cmdline_gpa, 4);
  Put(b + mi::kModsCount, p.modules.size(), 4);
  Put(b + mi::kModsAddr, mods, 4);
  Put(b + mi::kMmapLength, mi::kMmapEntryBytes * e820.size(), 4);
  Put(b + mi::kMmapAddr, mmap, 4);
  Put(b + mi::kBootLoaderName, loader_name, 4);
  for (size_t i = 0; i < p.modules.size(); ++i) {
    uint8_t* m = info.At(mods + i * mi::kModuleBytes);
    uint64_t start = (*module_gpas)[i];
    Put(m + 0, start, 4);
    Put(m + 4, start + p.modules[i].data.size(), 4);  // One past the end, as GRUB sets it.
    Put(m + 8, names[i], 4);
  }
  for (size_t i = 0; i < e820.size(); ++i) {
    // Each entry's `size` field counts the 20 bytes after it (spec 3.3).
    uint8_t* e = info.At(mmap + i * mi::kMmapEntryBytes);
    Put(e + 0, mi::kMmapEntryBytes - 4, 4);
    Put(e + 4, e820[i].addr, 8);
    Put(e + 12, e820[i].size, 8);
    Put(e + 20, static_cast<uint32_t>(e820[i].type), 4);
  }

  if (auto r = CheckLoadRanges(*kernel, e820, info.end(), label); !r) {
    return std::unexpected(r.error());
  }
  if (auto r = WriteLoadRanges(memory, *kernel, label); !r) return std::unexpected(r.error());
  for (size_t i = 0; i < p.modules.size(); ++i) {
    const BootModule& m = p.modules[i];
    if (m.data.empty()) continue;
    uint8_t* dst = memory.HostRange((*module_gpas)[i], m.data.size());
    if (dst == nullptr) return Fail("--initrd {}: no RAM at {:#x}", m.name, (*module_gpas)[i]);
    std::memcpy(dst, m.data.data(), m.data.size());
  }
  if (auto r = info.Commit(memory, label); !r) return std::unexpected(r.error());
  // Spec 3.2: A20 must be enabled.
  memory.SetA20(true);

  entry.eip = eip;
  entry.eax = kMultibootBootloaderMagic;
  entry.ebx = static_cast<uint32_t>(mbi);
  return entry;
}

}  // namespace x86vm
