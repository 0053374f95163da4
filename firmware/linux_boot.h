// Direct Linux boot: loads a bzImage (boot protocol 2.06+, the 32-bit entry),
// its initrd and command line, and a boot_params page with the e820 map.
// See Documentation/x86/boot.rst and zero-page.rst in the Linux tree.
#ifndef X86VM_FIRMWARE_LINUX_BOOT_H_
#define X86VM_FIRMWARE_LINUX_BOOT_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "firmware/e820.h"
#include "machine/guest_memory.h"

namespace x86vm {

// What the loader needs besides guest memory.
struct LinuxBootParams {
  std::string kernel_name;          // For error messages (the --kernel path).
  std::span<const uint8_t> kernel;  // The whole bzImage file.
  std::span<const uint8_t> initrd;  // Empty: no initrd.
  std::string cmdline;
  std::vector<E820Entry> e820;
  uint64_t acpi_rsdp_gpa = 0;       // 0: the kernel searches the BIOS area.
  uint64_t initrd_end_max_gpa = 0;  // Nonzero: the initrd must end below this
                                    // (keeps it off the ACPI tables).
};

// The 32-bit protected-mode entry state the boot protocol requires
// (boot.rst "32-bit boot protocol"): flat 4 GiB segments from a GDT with
// __BOOT_CS = 0x10 and __BOOT_DS = 0x18, paging and interrupts off,
// ESI = boot_params, EBP = EDI = EBX = 0.
struct LinuxEntry {
  uint32_t eip;
  uint32_t esi;              // Physical address of boot_params.
  uint32_t gdt_base;         // The GDT the loader wrote.
  uint16_t gdt_limit;
  uint16_t code_selector;    // 0x10
  uint16_t data_selector;    // 0x18
  uint32_t initrd_gpa;       // 0 when there is no initrd.
};

// Fixed guest-physical placement of what the loader writes below 1 MiB.
inline constexpr uint32_t kLinuxGdtGpa = 0x6000;
inline constexpr uint32_t kLinuxBootParamsGpa = 0x7000;
inline constexpr uint32_t kLinuxCmdlineGpa = 0x20000;
inline constexpr uint32_t kLinuxKernelGpa = 0x100000;

// Checks the image, places everything in `memory` and returns the entry
// state. Errors name the kernel file and the reason (not a bzImage,
// truncated, too old a protocol, does not fit in memory, command line too
// long).
Result<LinuxEntry> LoadLinux(GuestMemory& memory, const LinuxBootParams& params);

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_LINUX_BOOT_H_
