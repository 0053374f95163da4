#include "firmware/acpi/acpi_tables.h"

#include <set>

#include "firmware/acpi/dsdt.h"

namespace x86vm {
namespace {

constexpr std::string_view kRsdp = kAcpiRsdpFile;
constexpr std::string_view kTables = kAcpiTablesFile;

// Standard description header (ACPI 6.5 5.2.6): 36 bytes.
constexpr size_t kHeaderBytes = 36;
constexpr size_t kHeaderLengthOffset = 4;
constexpr size_t kHeaderChecksumOffset = 9;
// Table revisions we follow: ACPI 6.5 for the FADT (6.5), MADT 5 (ACPI
// 6.3+ layout of the entries used here), DSDT 2 (64-bit AML integers).
constexpr uint8_t kRsdtRevision = 1;
constexpr uint8_t kXsdtRevision = 1;
constexpr uint8_t kFadtRevision = 6;
constexpr uint8_t kFadtMinorRevision = 5;
constexpr uint8_t kMadtRevision = 5;
constexpr uint8_t kDsdtRevision = 2;
constexpr uint8_t kFacsVersion = 2;
constexpr uint32_t kOemRevision = 1;
constexpr char kCreatorId[] = "XVMC";
constexpr uint32_t kCreatorRevision = 1;

// RSDP (5.2.5.3): 36 bytes in revision 2.
constexpr size_t kRsdpBytes = 36;
constexpr uint8_t kRsdpRevision = 2;
constexpr size_t kRsdpChecksumOffset = 8;
constexpr size_t kRsdpRsdtOffset = 16;
constexpr size_t kRsdpXsdtOffset = 24;
constexpr size_t kRsdpExtendedChecksumOffset = 32;
constexpr size_t kRsdpV1Bytes = 20;  // What the first checksum covers.

// FACS (5.2.10): 64 bytes, 64-byte aligned.
constexpr size_t kFacsBytes = 64;

// FADT (5.2.9, table 5.9) field offsets; 276 bytes in revision 6.
constexpr size_t kFadtBytes = 276;
constexpr size_t kFadtFirmwareCtrl = 36;
constexpr size_t kFadtDsdt = 40;
constexpr size_t kFadtSciInt = 46;
constexpr size_t kFadtSmiCmd = 48;
constexpr size_t kFadtPm1aEvtBlk = 56;
constexpr size_t kFadtPm1aCntBlk = 64;
constexpr size_t kFadtPmTmrBlk = 76;
constexpr size_t kFadtGpe0Blk = 80;
constexpr size_t kFadtPm1EvtLen = 88;
constexpr size_t kFadtPm1CntLen = 89;
constexpr size_t kFadtPmTmrLen = 91;
constexpr size_t kFadtGpe0BlkLen = 92;
constexpr size_t kFadtPLvl2Lat = 96;
constexpr size_t kFadtPLvl3Lat = 98;
constexpr size_t kFadtCentury = 108;
constexpr size_t kFadtIapcBootArch = 109;
constexpr size_t kFadtFlags = 112;
constexpr size_t kFadtResetReg = 116;
constexpr size_t kFadtResetValue = 128;
constexpr size_t kFadtMinorVersion = 131;
constexpr size_t kFadtXDsdt = 140;
constexpr size_t kFadtXPm1aEvtBlk = 148;
constexpr size_t kFadtXPm1aCntBlk = 172;
constexpr size_t kFadtXPmTmrBlk = 208;
constexpr size_t kFadtXGpe0Blk = 220;
// FADT Flags (table 5.10).
constexpr uint32_t kFadtWbinvd = 1u << 0;
constexpr uint32_t kFadtProcC1 = 1u << 2;
constexpr uint32_t kFadtSlpButton = 1u << 5;  // No fixed-feature sleep button.
constexpr uint32_t kFadtResetRegSup = 1u << 10;
// P_LVL2_LAT > 100 and P_LVL3_LAT > 1000: C2 and C3 not supported.
constexpr uint16_t kNoC2 = 0x0fff;
constexpr uint16_t kNoC3 = 0xffff;
// IAPC_BOOT_ARCH (table 5.11).
constexpr uint16_t kBootArchLegacyDevices = 1u << 0;
constexpr uint16_t kBootArch8042 = 1u << 1;
constexpr uint16_t kBootArchVgaNotPresent = 1u << 2;

// Generic Address Structure (5.2.3.2): space, bit width, bit offset,
// access size (1 byte, 2 word, 3 dword), 64-bit address.
constexpr uint8_t kGasSystemIo = 1;

// MADT (5.2.12) and its entries.
constexpr uint32_t kMadtPcatCompat = 1u << 0;
constexpr uint8_t kMadtLocalApic = 0;
constexpr uint8_t kMadtIoApic = 1;
constexpr uint8_t kMadtIrqOverride = 2;
constexpr uint8_t kMadtLocalApicNmi = 4;
constexpr uint32_t kLocalApicEnabled = 1u << 0;
constexpr uint8_t kAllProcessors = 0xff;
// MPS INTI flags (table 5.26): polarity bits 1:0, trigger bits 3:2.
constexpr uint16_t kIntiActiveHigh = 0x1;
constexpr uint16_t kIntiActiveLow = 0x3;
constexpr uint16_t kIntiEdge = 0x1 << 2;
constexpr uint16_t kIntiLevel = 0x3 << 2;

void Put(std::vector<uint8_t>& b, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) b.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

void PutAt(std::vector<uint8_t>& b, size_t offset, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) b[offset + i] = static_cast<uint8_t>(value >> (8 * i));
}

// A fixed-width ASCII field, space padded (OEM ID style).
void PutText(std::vector<uint8_t>& b, std::string_view text, size_t width) {
  for (size_t i = 0; i < width; ++i)
    b.push_back(i < text.size() ? static_cast<uint8_t>(text[i]) : ' ');
}

void PutGasAt(std::vector<uint8_t>& b, size_t offset, uint8_t space, uint8_t bit_width,
              uint8_t access_size, uint64_t address) {
  b[offset] = space;
  b[offset + 1] = bit_width;
  b[offset + 2] = 0;  // Bit offset.
  b[offset + 3] = access_size;
  PutAt(b, offset + 4, address, 8);
}

// Starts a table at the next 8-byte boundary of `blob` (alignment is not
// required; it keeps the tables readable in a hex dump). Returns its offset.
size_t BeginTable(std::vector<uint8_t>& blob, std::string_view signature, uint8_t revision,
                  const AcpiMachine& m) {
  blob.resize((blob.size() + 7) & ~size_t{7}, 0);
  size_t start = blob.size();
  PutText(blob, signature, 4);
  Put(blob, 0, 4);  // Length, set by EndTable.
  blob.push_back(revision);
  blob.push_back(0);  // Checksum, computed by the loader.
  PutText(blob, m.oem_id, 6);
  PutText(blob, m.oem_table_id, 8);
  Put(blob, kOemRevision, 4);
  PutText(blob, kCreatorId, 4);
  Put(blob, kCreatorRevision, 4);
  return start;
}

uint32_t EndTable(TableLinker& linker, size_t start) {
  std::vector<uint8_t>& blob = linker.file(kTables);
  auto length = static_cast<uint32_t>(blob.size() - start);
  PutAt(blob, start + kHeaderLengthOffset, length, 4);
  linker.AddChecksum(kTables, static_cast<uint32_t>(start + kHeaderChecksumOffset),
                     static_cast<uint32_t>(start), length);
  return static_cast<uint32_t>(start);
}

Result<> Validate(const AcpiMachine& m) {
  if (m.cpu_apic_ids.empty()) return Fail("ACPI: the machine has no CPU");
  if (m.cpu_apic_ids.size() > 255) return Fail("ACPI: more than 255 CPUs need x2APIC entries");
  std::set<uint8_t> ids;
  for (uint8_t id : m.cpu_apic_ids) {
    if (id == 0xff) return Fail("ACPI: APIC ID 0xFF is the broadcast ID");
    if (!ids.insert(id).second) return Fail("ACPI: APIC ID {} used twice", id);
  }
  auto isa_irq = [](int irq, std::string_view what) -> Result<> {
    if (irq < 0 || irq > 15) return Fail("ACPI: {} IRQ {} is not an ISA IRQ", what, irq);
    return {};
  };
  for (const AcpiIrqOverride& o : m.irq_overrides) {
    if (auto r = isa_irq(o.isa_irq, "override"); !r) return r;
  }
  if (auto r = isa_irq(m.sci_irq, "SCI"); !r) return r;
  if (auto r = isa_irq(m.kbd_irq, "keyboard"); !r) return r;
  if (auto r = isa_irq(m.mouse_irq, "mouse"); !r) return r;
  if (auto r = isa_irq(m.rtc_irq, "RTC"); !r) return r;
  for (const AcpiSerialPort& s : m.serial_ports) {
    if (auto r = isa_irq(s.irq, "serial port"); !r) return r;
  }
  if (m.serial_ports.size() > 9) return Fail("ACPI: at most 9 serial ports (COM1-COM9)");
  if (m.pirq_isa_irqs.empty()) return Fail("ACPI: no ISA IRQ for the PCI links");
  for (uint8_t irq : m.pirq_isa_irqs) {
    if (auto r = isa_irq(irq, "PCI link"); !r) return r;
  }
  if (m.pm1a_evt_port == 0 || m.pm1a_cnt_port == 0 || m.pm_tmr_port == 0) {
    return Fail("ACPI: PM1a event, PM1a control and PM timer blocks are required");
  }
  if (m.pm1_evt_len < 4 || m.pm1_cnt_len < 2 || m.pm_tmr_len != 4) {
    return Fail("ACPI: PM block lengths {}/{}/{} (need >= 4, >= 2, 4)", m.pm1_evt_len,
                m.pm1_cnt_len, m.pm_tmr_len);
  }
  if (m.gpe0_port != 0 && (m.gpe0_len == 0 || m.gpe0_len % 2 != 0)) {
    return Fail("ACPI: GPE0 block length {} must be even and non-zero", m.gpe0_len);
  }
  if (m.pci_config_port == 0 || m.pci_config_port > 0xfff7) {
    return Fail("ACPI: PCI config ports at {:#x}", m.pci_config_port);
  }
  if (m.pci_mmio_start > m.pci_mmio_end) return Fail("ACPI: empty PCI MMIO window");
  if (m.pci_first_slot > m.pci_last_slot || m.pci_last_slot > 31) {
    return Fail("ACPI: PCI slots {}-{}", m.pci_first_slot, m.pci_last_slot);
  }
  if (m.pirq_router_device > 31 || m.pirq_router_function > 7 || m.pirq_route_offset > 0xfc) {
    return Fail("ACPI: PIRQ router at {:02x}.{} offset {:#x}", m.pirq_router_device,
                m.pirq_router_function, m.pirq_route_offset);
  }
  if (m.oem_id.size() > 6 || m.oem_table_id.size() > 8) {
    return Fail("ACPI: OEM ID \"{}\" or table ID \"{}\" too long", m.oem_id, m.oem_table_id);
  }
  return {};
}

uint32_t BuildFacs(TableLinker& linker) {
  std::vector<uint8_t>& blob = linker.file(kTables);
  // Offset 0 of a 64-byte aligned file: the FACS alignment (5.2.10).
  size_t start = blob.size();
  PutText(blob, "FACS", 4);
  Put(blob, kFacsBytes, 4);
  blob.resize(start + kFacsBytes, 0);  // No waking vector, no global lock owner.
  blob[start + 32] = kFacsVersion;
  return static_cast<uint32_t>(start);
}

uint32_t BuildDsdt(TableLinker& linker, const AcpiMachine& m) {
  std::vector<uint8_t>& blob = linker.file(kTables);
  size_t start = BeginTable(blob, "DSDT", kDsdtRevision, m);
  std::vector<uint8_t> aml = BuildDsdtAml(m);
  blob.insert(blob.end(), aml.begin(), aml.end());
  return EndTable(linker, start);
}

uint32_t BuildFadt(TableLinker& linker, const AcpiMachine& m, uint32_t facs, uint32_t dsdt) {
  std::vector<uint8_t>& blob = linker.file(kTables);
  size_t start = BeginTable(blob, "FACP", kFadtRevision, m);
  blob.resize(start + kFadtBytes, 0);
  auto at = [start](size_t field) { return start + field; };
  PutAt(blob, at(kFadtSciInt), m.sci_irq, 2);
  // SMI_CMD = 0: no SMI port, the hardware is always in ACPI mode (SCI_EN
  // set from reset), so OSPM never tries to switch (5.2.9).
  PutAt(blob, at(kFadtSmiCmd), 0, 4);
  PutAt(blob, at(kFadtPm1aEvtBlk), m.pm1a_evt_port, 4);
  PutAt(blob, at(kFadtPm1aCntBlk), m.pm1a_cnt_port, 4);
  PutAt(blob, at(kFadtPmTmrBlk), m.pm_tmr_port, 4);
  PutAt(blob, at(kFadtGpe0Blk), m.gpe0_port, 4);
  blob[at(kFadtPm1EvtLen)] = m.pm1_evt_len;
  blob[at(kFadtPm1CntLen)] = m.pm1_cnt_len;
  blob[at(kFadtPmTmrLen)] = m.pm_tmr_len;
  blob[at(kFadtGpe0BlkLen)] = m.gpe0_port != 0 ? m.gpe0_len : 0;
  PutAt(blob, at(kFadtPLvl2Lat), kNoC2, 2);
  PutAt(blob, at(kFadtPLvl3Lat), kNoC3, 2);
  blob[at(kFadtCentury)] = m.rtc_century_index;
  uint16_t boot_arch = kBootArchLegacyDevices;
  if (m.has_8042) boot_arch |= kBootArch8042;
  if (!m.vga_present) boot_arch |= kBootArchVgaNotPresent;
  PutAt(blob, at(kFadtIapcBootArch), boot_arch, 2);
  // TMR_VAL_EXT stays 0: the PM timer is 24 bits.
  uint32_t flags = kFadtWbinvd | kFadtProcC1 | kFadtSlpButton;
  if (m.reset_port != 0) flags |= kFadtResetRegSup;
  PutAt(blob, at(kFadtFlags), flags, 4);
  if (m.reset_port != 0) {
    PutGasAt(blob, at(kFadtResetReg), kGasSystemIo, 8, 1, m.reset_port);
    blob[at(kFadtResetValue)] = m.reset_value;
  }
  blob[at(kFadtMinorVersion)] = kFadtMinorRevision;
  // The 64-bit blocks repeat the 32-bit ones (OSPM prefers them; ACPICA
  // warns when they disagree). Access sizes follow the registers: PM1
  // status/enable/control are 16-bit, the timer 32-bit, GPE bytes.
  PutGasAt(blob, at(kFadtXPm1aEvtBlk), kGasSystemIo, static_cast<uint8_t>(m.pm1_evt_len * 8), 2,
           m.pm1a_evt_port);
  PutGasAt(blob, at(kFadtXPm1aCntBlk), kGasSystemIo, static_cast<uint8_t>(m.pm1_cnt_len * 8), 2,
           m.pm1a_cnt_port);
  PutGasAt(blob, at(kFadtXPmTmrBlk), kGasSystemIo, static_cast<uint8_t>(m.pm_tmr_len * 8), 3,
           m.pm_tmr_port);
  if (m.gpe0_port != 0) {
    PutGasAt(blob, at(kFadtXGpe0Blk), kGasSystemIo, static_cast<uint8_t>(m.gpe0_len * 8), 1,
             m.gpe0_port);
  }
  // FIRMWARE_CTRL (32-bit) for the FACS, X_FIRMWARE_CTRL left 0: only one
  // may be set. DSDT and X_DSDT both point at the DSDT, as QEMU does.
  // Pointers go before the checksum, which covers them as patched.
  auto s = static_cast<uint32_t>(start);
  linker.AddPointer(kTables, s + kFadtFirmwareCtrl, 4, kTables, facs);
  linker.AddPointer(kTables, s + kFadtDsdt, 4, kTables, dsdt);
  linker.AddPointer(kTables, s + kFadtXDsdt, 8, kTables, dsdt);
  return EndTable(linker, start);
}

uint32_t BuildMadt(TableLinker& linker, const AcpiMachine& m) {
  std::vector<uint8_t>& blob = linker.file(kTables);
  size_t start = BeginTable(blob, "APIC", kMadtRevision, m);
  Put(blob, m.lapic_address, 4);
  Put(blob, m.has_8259 ? kMadtPcatCompat : 0, 4);
  for (size_t uid = 0; uid < m.cpu_apic_ids.size(); ++uid) {
    // Processor Local APIC (5.2.12.2): UID matches the DSDT Cnnn._UID.
    blob.insert(blob.end(), {kMadtLocalApic, 8, static_cast<uint8_t>(uid), m.cpu_apic_ids[uid]});
    Put(blob, kLocalApicEnabled, 4);
  }
  // I/O APIC (5.2.12.3).
  blob.insert(blob.end(), {kMadtIoApic, 12, m.ioapic_id, 0});
  Put(blob, m.ioapic_address, 4);
  Put(blob, m.ioapic_gsi_base, 4);
  for (const AcpiIrqOverride& o : m.irq_overrides) {
    // Interrupt Source Override (5.2.12.5), bus 0 = ISA.
    blob.insert(blob.end(), {kMadtIrqOverride, 10, 0, o.isa_irq});
    Put(blob, o.gsi, 4);
    Put(blob,
        static_cast<uint16_t>((o.active_low ? kIntiActiveLow : kIntiActiveHigh) |
                              (o.level_triggered ? kIntiLevel : kIntiEdge)),
        2);
  }
  // Local APIC NMI (5.2.12.7) on every processor's LINT pin, edge/high as
  // the NMI input is wired on a PC.
  blob.insert(blob.end(), {kMadtLocalApicNmi, 6, kAllProcessors});
  Put(blob, kIntiActiveHigh | kIntiEdge, 2);
  blob.push_back(m.nmi_lint);
  return EndTable(linker, start);
}

// RSDT (4-byte entries) or XSDT (8-byte entries) listing `tables`.
uint32_t BuildRootTable(TableLinker& linker, const AcpiMachine& m, bool xsdt,
                        const std::vector<uint32_t>& tables) {
  std::vector<uint8_t>& blob = linker.file(kTables);
  size_t start = xsdt ? BeginTable(blob, "XSDT", kXsdtRevision, m)
                      : BeginTable(blob, "RSDT", kRsdtRevision, m);
  uint8_t entry_bytes = xsdt ? 8 : 4;
  blob.resize(start + kHeaderBytes + tables.size() * entry_bytes, 0);
  // Pointers first: the checksum covers the entries as patched.
  for (size_t i = 0; i < tables.size(); ++i) {
    linker.AddPointer(kTables, static_cast<uint32_t>(start + kHeaderBytes + i * entry_bytes),
                      entry_bytes, kTables, tables[i]);
  }
  return EndTable(linker, start);
}

void BuildRsdp(TableLinker& linker, const AcpiMachine& m, uint32_t rsdt, uint32_t xsdt) {
  // 16-byte aligned in the F-segment, where OSPM on a legacy BIOS finds it
  // (5.2.5.1); SeaBIOS's loader keeps it there.
  std::vector<uint8_t>& blob = linker.AddFile(kRsdp, 16, TableLinker::kZoneFseg);
  PutText(blob, "RSD PTR ", 8);
  blob.push_back(0);  // Checksum of the first 20 bytes.
  PutText(blob, m.oem_id, 6);
  blob.push_back(kRsdpRevision);
  Put(blob, 0, 4);  // RsdtAddress.
  Put(blob, kRsdpBytes, 4);
  Put(blob, 0, 8);    // XsdtAddress.
  blob.push_back(0);  // Extended checksum.
  blob.resize(kRsdpBytes, 0);
  linker.AddPointer(kRsdp, kRsdpRsdtOffset, 4, kTables, rsdt);
  linker.AddPointer(kRsdp, kRsdpXsdtOffset, 8, kTables, xsdt);
  // The extended checksum covers the first one, so it goes second.
  linker.AddChecksum(kRsdp, kRsdpChecksumOffset, 0, kRsdpV1Bytes);
  linker.AddChecksum(kRsdp, kRsdpExtendedChecksumOffset, 0, kRsdpBytes);
}

}  // namespace

Result<TableLinker> BuildAcpiTables(const AcpiMachine& machine) {
  if (auto r = Validate(machine); !r) return std::unexpected(r.error());
  TableLinker linker;
  // 64-byte alignment of the file gives the FACS at offset 0 its alignment.
  linker.AddFile(kTables, 64, TableLinker::kZoneHigh);
  uint32_t facs = BuildFacs(linker);
  uint32_t dsdt = BuildDsdt(linker, machine);
  uint32_t fadt = BuildFadt(linker, machine, facs, dsdt);
  uint32_t madt = BuildMadt(linker, machine);
  uint32_t rsdt = BuildRootTable(linker, machine, /*xsdt=*/false, {fadt, madt});
  uint32_t xsdt = BuildRootTable(linker, machine, /*xsdt=*/true, {fadt, madt});
  BuildRsdp(linker, machine, rsdt, xsdt);
  return linker;
}

Result<std::vector<AcpiFwCfgFile>> BuildAcpiFwCfgFiles(const AcpiMachine& machine) {
  auto linker = BuildAcpiTables(machine);
  if (!linker) return std::unexpected(linker.error());
  return std::vector<AcpiFwCfgFile>{
      {std::string(kRsdp), linker->file(kRsdp)},
      {std::string(kTables), linker->file(kTables)},
      {std::string(kAcpiLoaderFile), linker->EncodeCommands()},
  };
}

AcpiLayout DefaultAcpiLayout(uint64_t low_ram_end) {
  uint64_t top = low_ram_end & ~uint64_t{0xfff};
  return {.rsdp_gpa = kAcpiDefaultRsdpGpa,
          .tables_gpa = top >= kAcpiTablesWindowBytes ? top - kAcpiTablesWindowBytes : 0,
          .tables_window_bytes = kAcpiTablesWindowBytes};
}

Result<AcpiInstallation> InstallAcpiTables(const AcpiMachine& machine, const AcpiLayout& layout,
                                           const AcpiMemoryWriter& write) {
  constexpr uint64_t kPage = 4096;
  if (layout.rsdp_gpa < 0xe0000 || layout.rsdp_gpa + kRsdpBytes > 0x100000 ||
      layout.rsdp_gpa % 16 != 0) {
    return Fail("ACPI: RSDP at {:#x} is not 16-byte aligned in 0xE0000-0xFFFFF", layout.rsdp_gpa);
  }
  if (layout.tables_gpa % kPage != 0 || layout.tables_window_bytes % kPage != 0 ||
      layout.tables_window_bytes == 0 || layout.tables_gpa < 0x100000 ||
      layout.tables_gpa + layout.tables_window_bytes > (uint64_t{1} << 32)) {
    return Fail("ACPI: tables window {:#x}+{:#x} is not page aligned RAM between 1 MiB and 4 GiB",
                layout.tables_gpa, layout.tables_window_bytes);
  }
  auto linker = BuildAcpiTables(machine);
  if (!linker) return std::unexpected(linker.error());
  if (linker->file(kTables).size() > layout.tables_window_bytes) {
    return Fail("ACPI: tables need {} bytes, the window has {}", linker->file(kTables).size(),
                layout.tables_window_bytes);
  }
  auto linked = linker->Link(
      {{std::string(kRsdp), layout.rsdp_gpa}, {std::string(kTables), layout.tables_gpa}});
  if (!linked) return std::unexpected(linked.error());
  if (!write(layout.tables_gpa, linked->at(std::string(kTables)))) {
    return Fail("ACPI: no RAM for the tables at {:#x}", layout.tables_gpa);
  }
  if (!write(layout.rsdp_gpa, linked->at(std::string(kRsdp)))) {
    return Fail("ACPI: cannot write the RSDP at {:#x}", layout.rsdp_gpa);
  }
  AcpiInstallation out{.rsdp_gpa = layout.rsdp_gpa, .e820 = {}};
  out.e820.push_back({layout.tables_gpa, kPage, E820Type::kNvs});
  if (layout.tables_window_bytes > kPage) {
    out.e820.push_back(
        {layout.tables_gpa + kPage, layout.tables_window_bytes - kPage, E820Type::kAcpi});
  }
  return out;
}

}  // namespace x86vm
