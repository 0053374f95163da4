#include "firmware/flat32_boot.h"

#include <algorithm>
#include <cstring>

namespace x86vm {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t k4GiB = 0x100000000ull;

uint64_t AlignUp(uint64_t v, uint64_t align) { return (v + align - 1) & ~(align - 1); }

// RAM ranges of `e820` sorted and with adjacent or overlapping ones merged.
std::vector<E820Entry> MergedRam(const std::vector<E820Entry>& e820) {
  std::vector<E820Entry> ram;
  for (const E820Entry& e : e820) {
    if (e.type == E820Type::kRam && e.size != 0) ram.push_back(e);
  }
  std::sort(ram.begin(), ram.end(),
            [](const E820Entry& a, const E820Entry& b) { return a.addr < b.addr; });
  std::vector<E820Entry> merged;
  for (const E820Entry& e : ram) {
    if (!merged.empty() && e.addr <= merged.back().addr + merged.back().size) {
      uint64_t end = std::max(merged.back().addr + merged.back().size, e.addr + e.size);
      merged.back().size = end - merged.back().addr;
    } else {
      merged.push_back(e);
    }
  }
  return merged;
}

bool Overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
  return a_size != 0 && b_size != 0 && a < b + b_size && b < a + a_size;
}

std::string MiB(uint64_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
}

}  // namespace

BootInfoWriter::BootInfoWriter() { bytes_.reserve(kPage * 2); }

uint64_t BootInfoWriter::Reserve(uint64_t size, uint64_t align) {
  uint64_t at = AlignUp(end(), align);
  if (at > kFlat32AreaEnd || size > kFlat32AreaEnd - at) {
    overflowed_ = true;
    return 0;
  }
  bytes_.resize(static_cast<size_t>(at + size - kFlat32GdtGpa), 0);
  return at;
}

uint64_t BootInfoWriter::Add(std::span<const uint8_t> bytes, uint64_t align) {
  uint64_t at = Reserve(bytes.size(), align);
  if (at != 0 && !bytes.empty()) std::memcpy(At(at), bytes.data(), bytes.size());
  return at;
}

uint64_t BootInfoWriter::AddString(std::string_view text) {
  uint64_t at = Reserve(text.size() + 1, 1);
  if (at != 0) std::memcpy(At(at), text.data(), text.size());
  return at;
}

Result<> BootInfoWriter::Commit(GuestMemory& memory, std::string_view label) const {
  if (overflowed_) {
    return Fail(
        "{}: the boot information (command line, module names, memory map) does not fit "
        "in [{:#x}, {:#x})",
        label, kFlat32GdtGpa, kFlat32AreaEnd);
  }
  uint8_t* dst = memory.HostRange(kFlat32GdtGpa, bytes_.size());
  if (dst == nullptr) {
    return Fail("{}: no RAM at [{:#x}, {:#x}) for the boot information", label, kFlat32GdtGpa,
                end());
  }
  std::memcpy(dst, bytes_.data(), bytes_.size());
  return {};
}

void AddFlat32Gdt(BootInfoWriter& info, Flat32Entry& entry) {
  // Two null entries keep the selectors equal to Linux's boot GDT
  // (__BOOT_CS 0x10, __BOOT_DS 0x18). Code and data are flat 4 GiB, 32-bit,
  // page-granular, accessed (so the CPU never writes the GDT back); the TSS
  // is a busy 32-bit TSS at 0 with limit 0x67, which Xen's PVH ABI asks TR
  // to hold (SDM Vol. 3 3.4.5 and 7.2.2 for the descriptor layouts).
  static constexpr uint64_t kGdt[5] = {0, 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull,
                                       0x00008b0000000067ull};
  uint8_t bytes[sizeof(kGdt)];
  for (size_t i = 0; i < sizeof(kGdt); ++i)
    bytes[i] = static_cast<uint8_t>(kGdt[i / 8] >> (8 * (i % 8)));
  entry.gdt_base = static_cast<uint32_t>(info.Add(bytes, 8));
  entry.gdt_limit = sizeof(kGdt) - 1;
  entry.code_selector = 0x10;
  entry.data_selector = 0x18;
  entry.tss_selector = 0x20;
}

bool InE820Ram(const std::vector<E820Entry>& e820, uint64_t addr, uint64_t size) {
  if (addr + size < addr) return false;
  for (const E820Entry& e : MergedRam(e820)) {
    if (addr >= e.addr && addr + size <= e.addr + e.size) return true;
  }
  return false;
}

Result<> CheckLoadRanges(const std::vector<LoadRange>& ranges, const std::vector<E820Entry>& e820,
                         uint64_t area_end, std::string_view label) {
  uint64_t ram_bytes = 0;
  for (const E820Entry& e : MergedRam(e820)) ram_bytes += e.size;
  for (const LoadRange& r : ranges) {
    if (r.memory_bytes == 0) continue;
    uint64_t end = r.gpa + r.memory_bytes;
    if (end > k4GiB || end < r.gpa) {
      return Fail("{}: {} at [{:#x}, {:#x}) does not lie below 4 GiB", label, r.what, r.gpa, end);
    }
    if (Overlaps(r.gpa, r.memory_bytes, kFlat32GdtGpa, area_end - kFlat32GdtGpa)) {
      return Fail(
          "{}: {} at [{:#x}, {:#x}) overlaps the boot information the loader writes at "
          "[{:#x}, {:#x})",
          label, r.what, r.gpa, end, kFlat32GdtGpa, area_end);
    }
    if (!InE820Ram(e820, r.gpa, r.memory_bytes)) {
      return Fail(
          "{}: {} at [{:#x}, {:#x}) is not in guest RAM ({} in all; try a larger "
          "--memory)",
          label, r.what, r.gpa, end, MiB(ram_bytes));
    }
  }
  return {};
}

Result<> WriteLoadRanges(GuestMemory& memory, const std::vector<LoadRange>& ranges,
                         std::string_view label) {
  for (const LoadRange& r : ranges) {
    if (r.memory_bytes == 0) continue;
    uint8_t* dst = memory.HostRange(r.gpa, r.memory_bytes);
    if (dst == nullptr) {
      // RAM in the e820 map but not one host region: a map that does not
      // match the memory (a caller's bug or a range across 4 GiB).
      return Fail("{}: {} at [{:#x}, {:#x}) is not one contiguous RAM region", label, r.what, r.gpa,
                  r.gpa + r.memory_bytes);
    }
    std::memcpy(dst, r.bytes.data(), r.bytes.size());
    std::memset(dst + r.bytes.size(), 0, r.memory_bytes - r.bytes.size());
  }
  return {};
}

std::vector<LoadRange> ElfLoadRanges(const ElfFile& elf) {
  std::vector<LoadRange> ranges;
  const std::vector<ElfSegment>& segments = elf.segments();
  for (size_t i = 0; i < segments.size(); ++i) {
    const ElfSegment& s = segments[i];
    if (s.type != kElfPtLoad || s.memory_bytes == 0) continue;
    ranges.push_back(
        LoadRange{s.paddr, elf.SegmentBytes(s), s.memory_bytes, fmt::format("segment {}", i)});
  }
  return ranges;
}

Result<uint32_t> ElfPhysicalEntry(const ElfFile& elf, uint64_t entry, std::string_view label) {
  uint64_t physical = entry;
  bool found = false;
  for (const ElfSegment& s : elf.segments()) {
    if (s.type != kElfPtLoad) continue;
    if (entry >= s.vaddr && entry - s.vaddr < s.memory_bytes) {
      physical = entry - s.vaddr + s.paddr;
      found = true;
      break;
    }
  }
  for (const ElfSegment& s : elf.segments()) {
    if (found) break;
    if (s.type == kElfPtLoad && entry >= s.paddr && entry - s.paddr < s.memory_bytes) found = true;
  }
  if (!found) {
    return Fail("{}: entry point {:#x} is outside every loadable segment", label, entry);
  }
  if (physical >= k4GiB) {
    return Fail("{}: entry point {:#x} is not below 4 GiB (a 32-bit entry is needed)", label,
                physical);
  }
  return static_cast<uint32_t>(physical);
}

Result<std::vector<uint64_t>> PlaceModules(const std::vector<BootModule>& modules,
                                           const std::vector<LoadRange>& kernel,
                                           const std::vector<E820Entry>& e820,
                                           ModulePlacement placement) {
  std::vector<uint64_t> addrs;
  uint64_t kernel_end = GuestMemory::kHighMemStart;
  for (const LoadRange& r : kernel) kernel_end = std::max(kernel_end, r.gpa + r.memory_bytes);
  auto overlaps_kernel = [&](uint64_t addr, uint64_t size) {
    for (const LoadRange& r : kernel) {
      if (Overlaps(addr, size, r.gpa, r.memory_bytes)) return true;
    }
    return false;
  };
  if (placement == ModulePlacement::kAfterKernel) {
    uint64_t next = AlignUp(kernel_end, kPage);
    for (const BootModule& m : modules) {
      if (!InE820Ram(e820, next, m.data.size())) {
        return Fail(
            "--initrd {}: {} does not fit in guest RAM at {:#x} after the kernel (try a "
            "larger --memory)",
            m.name, MiB(m.data.size()), next);
      }
      addrs.push_back(next);
      next = AlignUp(next + m.data.size(), kPage);
    }
    return addrs;
  }
  uint64_t top = 0;
  for (const E820Entry& e : MergedRam(e820)) {
    if (e.addr < k4GiB) top = std::max(top, std::min(e.addr + e.size, k4GiB));
  }
  for (const BootModule& m : modules) {
    uint64_t size = m.data.size();
    uint64_t addr = size <= top ? (top - size) & ~(kPage - 1) : 0;
    if (size > top || addr < GuestMemory::kHighMemStart || !InE820Ram(e820, addr, size) ||
        overlaps_kernel(addr, size)) {
      return Fail(
          "--initrd {}: {} does not fit in guest RAM below 4 GiB beside the kernel (try "
          "a larger --memory)",
          m.name, MiB(size));
    }
    addrs.push_back(addr);
    top = addr;
  }
  return addrs;
}

}  // namespace x86vm
