// The BIOS memory map (INT 15h E820, boot_params.e820_table, fw_cfg
// etc/e820), derived from the machine's actual memory map.
#ifndef X86VM_FIRMWARE_E820_H_
#define X86VM_FIRMWARE_E820_H_

#include <cstdint>
#include <vector>

#include "machine/guest_memory.h"

namespace x86vm {

// ACPI 6.4 table 15.4: address range types.
enum class E820Type : uint32_t { kRam = 1, kReserved = 2, kAcpi = 3, kNvs = 4 };

struct E820Entry {
  uint64_t addr;
  uint64_t size;
  E820Type type;
};

// Where the EBDA starts: the top 1 KiB of conventional memory, reserved.
inline constexpr uint64_t kEbdaStart = 0x9fc00;

// The map for `memory`: usable RAM below the EBDA, the BIOS area reserved,
// RAM from 1 MiB to the PCI hole and above 4 GiB, and the high BIOS ROM
// reserved. `reserved` ranges (ACPI tables, firmware data) are carved out of
// RAM with their own type.
std::vector<E820Entry> BuildE820(const GuestMemory& memory,
                                 const std::vector<E820Entry>& reserved = {});

// Packs entries in the layout of QEMU's fw_cfg file "etc/e820" and of
// boot_params.e820_table: little-endian u64 address, u64 size, u32 type.
std::vector<uint8_t> EncodeE820(const std::vector<E820Entry>& entries);

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_E820_H_
