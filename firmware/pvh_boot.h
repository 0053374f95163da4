// PVH direct boot (Xen's HVM direct-boot ABI, which Linux and QEMU use): an
// uncompressed ELF kernel whose XEN_ELFNOTE_PHYS32_ENTRY note gives a 32-bit
// physical entry point. The loader places the PT_LOAD segments at their
// physical addresses and passes an hvm_start_info (version 1, with the e820
// map) in EBX. See Xen's docs/misc/pvh.pandoc and
// xen/include/public/arch-x86/hvm/start_info.h.
#ifndef X86VM_FIRMWARE_PVH_BOOT_H_
#define X86VM_FIRMWARE_PVH_BOOT_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "firmware/e820.h"
#include "firmware/elf.h"
#include "firmware/flat32_boot.h"
#include "machine/guest_memory.h"

namespace x86vm {

// xen/include/public/elfnote.h: the note (owner "Xen") holding the entry.
inline constexpr uint32_t kXenElfNotePhys32Entry = 18;
// hvm_start_info.magic: "xEn3" with the 0x80 bit of the "E" set.
inline constexpr uint32_t kHvmStartMagic = 0x336ec578;
// Sizes of hvm_start_info (version 1), hvm_modlist_entry and
// hvm_memmap_table_entry.
inline constexpr uint64_t kHvmStartInfoBytes = 56;
inline constexpr uint64_t kHvmModlistEntryBytes = 32;
inline constexpr uint64_t kHvmMemmapEntryBytes = 24;

// What the PVH loader needs besides guest memory.
struct PvhBootParams {
  std::string kernel_name;          // For error messages (the --kernel path).
  std::span<const uint8_t> kernel;  // The whole ELF file.
  std::vector<BootModule> modules;  // Linux takes the first as its initrd.
  std::string cmdline;
  std::vector<E820Entry> e820;  // Empty: BuildE820(memory).
  uint64_t acpi_rsdp_gpa = 0;   // 0: not given (the kernel searches).
};

// The PVH entry point of a parsed ELF file: nullopt when it has no
// XEN_ELFNOTE_PHYS32_ENTRY note; an error when the note is malformed.
Result<std::optional<uint32_t>> FindPvhEntry(const ElfFile& elf, std::string_view label);

// True when `kernel` is an ELF file with a well-formed PVH entry note.
bool IsPvhKernel(std::span<const uint8_t> kernel);

// Loads the segments, modules and hvm_start_info (at kFlat32InfoGpa, with
// the modules list, memory map and strings after it) and returns the entry:
// EBX = the hvm_start_info address, EAX = 0. Errors name the kernel or
// module file and the reason (not ELF, no PVH note, truncated, a segment
// outside RAM or over the boot information, modules that do not fit).
Result<Flat32Entry> LoadPvh(GuestMemory& memory, const PvhBootParams& params);

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_PVH_BOOT_H_
