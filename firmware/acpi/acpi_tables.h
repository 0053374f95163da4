// The ACPI tables of the machine (RSDP, RSDT, XSDT, FADT, FACS, MADT, DSDT;
// ACPI 6.5 chapter 5), in the two forms firmware and guests take them:
//  - fw_cfg files for SeaBIOS/OVMF: "etc/acpi/rsdp", "etc/acpi/tables" and
//    the "etc/table-loader" commands that place and link them (QEMU's
//    format, so those firmware images work unchanged);
//  - tables written straight into guest memory for direct kernel boot or a
//    BIOS that does not run the loader.
// Both come from one TableLinker, so they are the same tables.
#ifndef X86VM_FIRMWARE_ACPI_ACPI_TABLES_H_
#define X86VM_FIRMWARE_ACPI_ACPI_TABLES_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "firmware/acpi/acpi_machine.h"
#include "firmware/acpi/linker.h"
#include "firmware/e820.h"

namespace x86vm {

// fw_cfg file names (QEMU's ACPI_BUILD_*_FILE).
inline constexpr std::string_view kAcpiRsdpFile = "etc/acpi/rsdp";
inline constexpr std::string_view kAcpiTablesFile = "etc/acpi/tables";
inline constexpr std::string_view kAcpiLoaderFile = "etc/table-loader";

// Builds every table. In the returned linker, "etc/acpi/tables" holds FACS
// (offset 0, 64-byte aligned), DSDT, FADT, MADT, RSDT and XSDT, and
// "etc/acpi/rsdp" the RSDP; pointer fields hold offsets, checksums are 0
// until linked. Errors name what the machine description gets wrong (no
// CPU, more CPUs than xAPIC IDs, an IRQ above 15, too many PCI slots, names
// too long).
Result<TableLinker> BuildAcpiTables(const AcpiMachine& machine);

// One fw_cfg file: name and contents.
struct AcpiFwCfgFile {
  std::string name;
  std::vector<uint8_t> bytes;
};

// The three fw_cfg files for SeaBIOS/OVMF; add each with FwCfg::AddFile.
Result<std::vector<AcpiFwCfgFile>> BuildAcpiFwCfgFiles(const AcpiMachine& machine);

// Where InstallAcpiTables puts things in guest-physical memory.
struct AcpiLayout {
  uint64_t rsdp_gpa;             // 16-byte aligned, in [0xE0000, 0xFFFFF] (ACPI 6.5 5.2.5.1).
  uint64_t tables_gpa;           // Page aligned, in RAM below 4 GiB.
  uint64_t tables_window_bytes;  // Reserved for the tables (page multiple).
};

// The RSDP's default home: the start of the BIOS read-only area that
// OSPM scans, free when no BIOS image is mapped there (direct boot).
inline constexpr uint64_t kAcpiDefaultRsdpGpa = 0xe0000;
// The window reserved for the tables at the top of RAM below the PCI hole.
inline constexpr uint64_t kAcpiTablesWindowBytes = 64 * 1024;

// The default layout for a machine whose RAM below 4 GiB ends at
// `low_ram_end` (GuestMemory::ram_below_4g_bytes()): the RSDP at 0xE0000
// and the tables in the last 64 KiB of that RAM (QEMU's loader likewise
// keeps the initrd below the firmware's ACPI area).
AcpiLayout DefaultAcpiLayout(uint64_t low_ram_end);

// Copies `bytes` to guest-physical `gpa`; false when that is not RAM.
using AcpiMemoryWriter = std::function<bool(uint64_t gpa, std::span<const uint8_t> bytes)>;

// What InstallAcpiTables placed.
struct AcpiInstallation {
  uint64_t rsdp_gpa;
  // The tables window for the e820 map (BuildE820's `reserved`): the page
  // holding the FACS as ACPI NVS (OSPM must preserve it), the rest as ACPI
  // reclaimable. The RSDP lies in the BIOS area, which is never RAM in e820.
  std::vector<E820Entry> e820;
};

// Builds the tables, links them for `layout` and writes them with `write`.
// Errors: a bad description, a misplaced layout, tables larger than the
// window, or a write the writer refused.
Result<AcpiInstallation> InstallAcpiTables(const AcpiMachine& machine, const AcpiLayout& layout,
                                           const AcpiMemoryWriter& write);

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_ACPI_ACPI_TABLES_H_
