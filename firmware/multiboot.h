// Multiboot (version 1, specification 0.6.96) kernels: ELF kernels and flat
// images described by the header's address fields (the "a.out kludge",
// flag bit 16), with any number of modules, a command line, the memory
// sizes and the e820 memory map in the multiboot information structure.
#ifndef X86VM_FIRMWARE_MULTIBOOT_H_
#define X86VM_FIRMWARE_MULTIBOOT_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "firmware/e820.h"
#include "firmware/flat32_boot.h"
#include "machine/guest_memory.h"

namespace x86vm {

// Spec 3.1.1: the header lies 4-byte aligned in the first 8192 bytes.
inline constexpr uint32_t kMultibootHeaderMagic = 0x1BADB002;
inline constexpr size_t kMultibootSearchBytes = 8192;
// Spec 3.2: EAX on entry.
inline constexpr uint32_t kMultibootBootloaderMagic = 0x2BADB002;

// Header flags (spec 3.1.2). Bits 0-15 are requirements: a loader that
// cannot meet one must refuse the kernel.
namespace multiboot_flag {
inline constexpr uint32_t kPageAlignModules = 1u << 0;
inline constexpr uint32_t kMemoryInfo = 1u << 1;
inline constexpr uint32_t kVideoMode = 1u << 2;
inline constexpr uint32_t kAddressFields = 1u << 16;  // The a.out kludge.
}  // namespace multiboot_flag

// Information structure flags (spec 3.3): which fields are valid.
namespace multiboot_info_flag {
inline constexpr uint32_t kMemory = 1u << 0;
inline constexpr uint32_t kCmdline = 1u << 2;
inline constexpr uint32_t kModules = 1u << 3;
inline constexpr uint32_t kMemoryMap = 1u << 6;
inline constexpr uint32_t kBootLoaderName = 1u << 9;
}  // namespace multiboot_info_flag

// Byte offsets in the multiboot information structure (spec 3.3).
namespace multiboot_info {
inline constexpr size_t kFlags = 0;
inline constexpr size_t kMemLower = 4;
inline constexpr size_t kMemUpper = 8;
inline constexpr size_t kCmdline = 16;
inline constexpr size_t kModsCount = 20;
inline constexpr size_t kModsAddr = 24;
inline constexpr size_t kMmapLength = 44;
inline constexpr size_t kMmapAddr = 48;
inline constexpr size_t kBootLoaderName = 64;
inline constexpr size_t kBytes = 120;          // Through the framebuffer fields, zeroed.
inline constexpr size_t kModuleBytes = 16;     // mod_start, mod_end, string, reserved.
inline constexpr size_t kMmapEntryBytes = 24;  // size (= 20), base_addr, length, type.
}  // namespace multiboot_info

// The boot loader name the info structure carries.
inline constexpr char kMultibootLoaderName[] = "x86vm";

// A multiboot header as found in the file.
struct MultibootHeader {
  size_t file_offset;  // Where the magic is.
  uint32_t flags;
  // Valid when flags has kAddressFields (spec 3.1.3).
  uint32_t header_addr;
  uint32_t load_addr;
  uint32_t load_end_addr;  // 0: load to the end of the file.
  uint32_t bss_end_addr;   // 0: no bss.
  uint32_t entry_addr;
};

// The first header in the first 8192 bytes whose magic, flags and checksum
// add up to zero (mod 2^32); nullopt when there is none. The address fields
// are read only when present in the file (else left 0: LoadMultiboot
// reports the truncation).
std::optional<MultibootHeader> FindMultibootHeader(std::span<const uint8_t> kernel);

// What the multiboot loader needs besides guest memory.
struct MultibootParams {
  std::string kernel_name;          // Errors, and the command line's first word.
  std::span<const uint8_t> kernel;  // The whole file.
  std::vector<BootModule> modules;  // Each one's string is its name.
  std::string cmdline;              // Passed as "kernel_name cmdline", as GRUB and QEMU do.
  std::vector<E820Entry> e820;      // Empty: BuildE820(memory).
};

// Loads the kernel, the modules (page-aligned, after the kernel) and the
// information structure (at kFlat32InfoGpa: flags mem, cmdline, mods, mmap,
// boot_loader_name) and returns the entry: EAX = 0x2BADB002, EBX = the info
// address. Errors name the file and the reason (no header, a required flag
// x86vm cannot meet, truncated, bad address fields, not ELF without address
// fields, a segment outside RAM or over the boot information).
Result<Flat32Entry> LoadMultiboot(GuestMemory& memory, const MultibootParams& params);

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_MULTIBOOT_H_
