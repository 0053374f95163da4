#include "firmware/pvh_boot.h"

#include <cstring>

namespace x86vm {
namespace {

void Put(uint8_t* p, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(value >> (8 * i));
}

std::string KernelLabel(const std::string& name) { return "--kernel " + name; }

}  // namespace

Result<std::optional<uint32_t>> FindPvhEntry(const ElfFile& elf, std::string_view label) {
  auto notes = elf.Notes();
  if (!notes) return std::unexpected(notes.error());
  for (const ElfNote& note : *notes) {
    if (note.name != "Xen" || note.type != kXenElfNotePhys32Entry) continue;
    // Linux writes the entry as a pointer-sized word (_ASM_PTR): 8 bytes in
    // a 64-bit vmlinux, 4 in a 32-bit one.
    if (note.desc.size() != 4 && note.desc.size() != 8) {
      return Fail("{}: the PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY) has {} bytes, not 4 or 8",
                  label, note.desc.size());
    }
    uint64_t entry = 0;
    for (size_t i = 0; i < note.desc.size(); ++i) {
      entry |= static_cast<uint64_t>(note.desc[i]) << (8 * i);
    }
    if (entry >> 32 != 0) {
      return Fail("{}: the PVH entry point {:#x} is not a 32-bit physical address", label, entry);
    }
    return std::optional<uint32_t>(static_cast<uint32_t>(entry));
  }
  return std::optional<uint32_t>();
}

bool IsPvhKernel(std::span<const uint8_t> kernel) {
  if (!ElfFile::HasMagic(kernel)) return false;
  auto elf = ElfFile::Parse("", kernel);
  if (!elf) return false;
  auto entry = FindPvhEntry(*elf, "");
  return entry.has_value() && entry->has_value();
}

Result<Flat32Entry> LoadPvh(GuestMemory& memory, const PvhBootParams& p) {
  const std::string label = KernelLabel(p.kernel_name);
  auto elf = ElfFile::Parse(label, p.kernel);
  if (!elf) return std::unexpected(elf.error());
  if (elf->machine() != kElfMachine386 && elf->machine() != kElfMachineX86_64) {
    return Fail("{}: ELF machine {} is not x86 (3 or 62)", label, elf->machine());
  }
  auto pvh_entry = FindPvhEntry(*elf, label);
  if (!pvh_entry) return std::unexpected(pvh_entry.error());
  if (!pvh_entry->has_value()) {
    return Fail(
        "{}: ELF kernel without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); it cannot "
        "be booted directly",
        label);
  }
  uint32_t eip = **pvh_entry;
  std::vector<LoadRange> kernel = ElfLoadRanges(*elf);
  if (kernel.empty()) return Fail("{}: no loadable (PT_LOAD) segment", label);
  bool entry_loaded = false;
  for (const LoadRange& r : kernel) {
    if (eip >= r.gpa && eip - r.gpa < r.bytes.size()) entry_loaded = true;
  }
  if (!entry_loaded) {
    return Fail("{}: the PVH entry point {:#x} is outside every loaded segment", label, eip);
  }
  std::vector<E820Entry> e820 = p.e820.empty() ? BuildE820(memory) : p.e820;

  // RAM first (a kernel outside RAM is the clearer error); the overlap with
  // the boot information is checked once its size is known.
  if (auto r = CheckLoadRanges(kernel, e820, kFlat32GdtGpa, label); !r) {
    return std::unexpected(r.error());
  }
  auto module_gpas = PlaceModules(p.modules, kernel, e820, ModulePlacement::kTopOfLowRam);
  if (!module_gpas) return std::unexpected(module_gpas.error());

  // The boot information area: GDT, hvm_start_info, module list, memory
  // map, then the strings.
  BootInfoWriter info;
  Flat32Entry entry{};
  AddFlat32Gdt(info, entry);
  uint64_t start_info = info.Reserve(kHvmStartInfoBytes, 4096);
  uint64_t modlist =
      p.modules.empty() ? 0 : info.Reserve(kHvmModlistEntryBytes * p.modules.size(), 8);
  uint64_t memmap = info.Reserve(kHvmMemmapEntryBytes * e820.size(), 8);
  uint64_t cmdline = info.AddString(p.cmdline);
  std::vector<uint64_t> module_names;
  for (const BootModule& m : p.modules) module_names.push_back(info.AddString(m.name));
  if (info.overflowed()) {
    return Fail(
        "{}: the command line, module names and memory map ({} bytes) do not fit in the "
        "boot information area [{:#x}, {:#x})",
        label, p.cmdline.size() + kHvmMemmapEntryBytes * e820.size(), kFlat32GdtGpa,
        kFlat32AreaEnd);
  }

  uint8_t* si = info.At(start_info);
  Put(si + 0, kHvmStartMagic, 4);
  Put(si + 4, 1, 4);  // Version 1: has memmap_paddr and memmap_entries.
  Put(si + 8, 0, 4);  // flags: no SIF_* (not privileged, no console info).
  Put(si + 12, p.modules.size(), 4);
  Put(si + 16, modlist, 8);
  Put(si + 24, cmdline, 8);
  Put(si + 32, p.acpi_rsdp_gpa, 8);
  Put(si + 40, memmap, 8);
  Put(si + 48, e820.size(), 4);
  for (size_t i = 0; i < p.modules.size(); ++i) {
    uint8_t* m = info.At(modlist + i * kHvmModlistEntryBytes);
    Put(m + 0, (*module_gpas)[i], 8);
    Put(m + 8, p.modules[i].data.size(), 8);
    Put(m + 16, module_names[i], 8);
  }
  for (size_t i = 0; i < e820.size(); ++i) {
    // Same type values as e820 (XEN_HVM_MEMMAP_TYPE_* follow ACPI).
    uint8_t* e = info.At(memmap + i * kHvmMemmapEntryBytes);
    Put(e + 0, e820[i].addr, 8);
    Put(e + 8, e820[i].size, 8);
    Put(e + 16, static_cast<uint32_t>(e820[i].type), 4);
  }

  if (auto r = CheckLoadRanges(kernel, e820, info.end(), label); !r)
    return std::unexpected(r.error());
  if (auto r = WriteLoadRanges(memory, kernel, label); !r) return std::unexpected(r.error());
  for (size_t i = 0; i < p.modules.size(); ++i) {
    const BootModule& m = p.modules[i];
    uint8_t* dst = memory.HostRange((*module_gpas)[i], m.data.size());
    if (dst == nullptr && !m.data.empty()) {
      return Fail("--initrd {}: no RAM at {:#x}", m.name, (*module_gpas)[i]);
    }
    if (!m.data.empty()) std::memcpy(dst, m.data.data(), m.data.size());
  }
  if (auto r = info.Commit(memory, label); !r) return std::unexpected(r.error());
  // Xen's PVH ABI enters with A20 implied on: nothing aliases at 1 MiB.
  memory.SetA20(true);

  entry.eip = eip;
  entry.eax = 0;
  entry.ebx = static_cast<uint32_t>(start_info);
  return entry;
}

}  // namespace x86vm
