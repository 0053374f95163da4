#include "firmware/acpi/acpi_tables.h"

#include <gtest/gtest.h>

#include <set>

#include "devices/acpi_pm.h"
#include "firmware/acpi/acpi_test_util.h"

namespace x86vm {
namespace {

using acpi_test::Le;
using acpi_test::SparseMemory;
using acpi_test::Sum8;
using Bytes = std::vector<uint8_t>;

constexpr uint64_t kLowRamEnd = 128ull << 20;

std::string Sig(const Bytes& table) { return std::string(table.begin(), table.begin() + 4); }

// The tables reachable from an RSDP, parsed back from guest memory.
struct ParsedTables {
  Bytes rsdp, rsdt, xsdt, fadt, facs, dsdt, madt;
  uint64_t facs_gpa = 0;
  std::vector<uint64_t> rsdt_entries, xsdt_entries;
};

// Follows every pointer from the RSDP, checking signatures, lengths and
// checksums on the way (gtest failures, then an empty result on a break).
ParsedTables ParseFrom(const SparseMemory& mem, uint64_t rsdp_gpa) {
  ParsedTables t;
  auto rsdp = mem.Read(rsdp_gpa, 36);
  EXPECT_TRUE(rsdp);
  if (!rsdp) return t;
  t.rsdp = *rsdp;
  EXPECT_EQ(std::string(t.rsdp.begin(), t.rsdp.begin() + 8), "RSD PTR ");
  EXPECT_EQ(Sum8(std::span(t.rsdp).first(20)), 0);
  EXPECT_EQ(Sum8(t.rsdp), 0);
  EXPECT_EQ(t.rsdp[15], 2);  // Revision 2: XSDT present.
  EXPECT_EQ(Le(t.rsdp, 20, 4), 36u);

  auto table = [&](uint64_t gpa, std::string_view sig) {
    auto bytes = mem.Table(gpa);
    EXPECT_TRUE(bytes) << sig << " at " << gpa;
    if (!bytes) return Bytes{};
    EXPECT_EQ(Sig(*bytes), sig);
    EXPECT_EQ(Sum8(*bytes), 0) << sig;
    return *bytes;
  };
  t.rsdt = table(Le(t.rsdp, 16, 4), "RSDT");
  t.xsdt = table(Le(t.rsdp, 24, 8), "XSDT");
  for (size_t off = 36; off + 4 <= t.rsdt.size(); off += 4)
    t.rsdt_entries.push_back(Le(t.rsdt, off, 4));
  for (size_t off = 36; off + 8 <= t.xsdt.size(); off += 8)
    t.xsdt_entries.push_back(Le(t.xsdt, off, 8));
  EXPECT_EQ(t.rsdt_entries, t.xsdt_entries);
  for (uint64_t gpa : t.xsdt_entries) {
    auto bytes = mem.Table(gpa);
    if (!bytes) {
      ADD_FAILURE() << "no table at " << gpa;
      continue;
    }
    EXPECT_EQ(Sum8(*bytes), 0) << Sig(*bytes);
    if (Sig(*bytes) == "FACP") t.fadt = *bytes;
    if (Sig(*bytes) == "APIC") t.madt = *bytes;
  }
  EXPECT_EQ(t.fadt.size(), 276u);
  if (t.fadt.size() < 276) return t;
  t.facs_gpa = Le(t.fadt, 36, 4);
  EXPECT_EQ(Le(t.fadt, 132, 8), 0u) << "X_FIRMWARE_CTRL must be 0 when FIRMWARE_CTRL is set";
  EXPECT_EQ(t.facs_gpa % 64, 0u);
  auto facs = mem.Read(t.facs_gpa, 64);
  EXPECT_TRUE(facs);
  if (facs) t.facs = *facs;
  EXPECT_EQ(Le(t.fadt, 40, 4), Le(t.fadt, 140, 8)) << "DSDT and X_DSDT disagree";
  t.dsdt = table(Le(t.fadt, 140, 8), "DSDT");
  return t;
}

Result<AcpiInstallation> InstallPc(SparseMemory& mem, int cpus = 1) {
  return InstallAcpiTables(acpi_test::PcAcpiMachine(cpus), DefaultAcpiLayout(kLowRamEnd),
                           mem.Writer());
}

TEST(AcpiTablesTest, DefaultLayout) {
  AcpiLayout l = DefaultAcpiLayout(kLowRamEnd);
  EXPECT_EQ(l.rsdp_gpa, 0xe0000u);
  EXPECT_EQ(l.tables_gpa, kLowRamEnd - 64 * 1024);
  EXPECT_EQ(l.tables_window_bytes, 64u * 1024);
}

TEST(AcpiTablesTest, InstalledTablesParseBackFromTheRsdp) {
  SparseMemory mem;
  auto inst = InstallPc(mem);
  ASSERT_TRUE(inst) << inst.error().message;
  EXPECT_EQ(inst->rsdp_gpa, 0xe0000u);
  ParsedTables t = ParseFrom(mem, inst->rsdp_gpa);
  ASSERT_FALSE(HasFailure());
  // RSDT/XSDT list the FADT and the MADT.
  EXPECT_EQ(t.xsdt_entries.size(), 2u);
  EXPECT_EQ(Sig(t.madt), "APIC");
  EXPECT_EQ(std::string(t.facs.begin(), t.facs.begin() + 4), "FACS");
  EXPECT_EQ(Le(t.facs, 4, 4), 64u);
  // Everything lies in the reported window.
  const uint64_t lo = kLowRamEnd - 64 * 1024;
  for (uint64_t gpa : t.xsdt_entries) {
    EXPECT_GE(gpa, lo);
    EXPECT_LT(gpa, kLowRamEnd);
  }
  EXPECT_GE(t.facs_gpa, lo);
}

TEST(AcpiTablesTest, E820RangesCoverTheWindowWithTheFacsPageAsNvs) {
  SparseMemory mem;
  auto inst = InstallPc(mem);
  ASSERT_TRUE(inst);
  const uint64_t lo = kLowRamEnd - 64 * 1024;
  ASSERT_EQ(inst->e820.size(), 2u);
  EXPECT_EQ(inst->e820[0].addr, lo);
  EXPECT_EQ(inst->e820[0].size, 4096u);
  EXPECT_EQ(inst->e820[0].type, E820Type::kNvs);
  EXPECT_EQ(inst->e820[1].addr, lo + 4096);
  EXPECT_EQ(inst->e820[1].size, 60u * 1024);
  EXPECT_EQ(inst->e820[1].type, E820Type::kAcpi);
  ParsedTables t = ParseFrom(mem, inst->rsdp_gpa);
  EXPECT_LT(t.facs_gpa + 64, lo + 4096);
}

TEST(AcpiTablesTest, FadtDescribesThePmBlock) {
  SparseMemory mem;
  auto inst = InstallPc(mem);
  ASSERT_TRUE(inst);
  const Bytes f = ParseFrom(mem, inst->rsdp_gpa).fadt;
  ASSERT_EQ(f.size(), 276u);
  constexpr uint64_t pm = AcpiPm::kDefaultBase;
  EXPECT_EQ(f[8], 6);    // Revision 6 ...
  EXPECT_EQ(f[131], 5);  // ... minor 5.
  EXPECT_EQ(Le(f, 46, 2), AcpiPm::kSciIrq);
  EXPECT_EQ(Le(f, 48, 4), 0u);  // SMI_CMD: always in ACPI mode.
  EXPECT_EQ(f[52], 0);
  EXPECT_EQ(f[53], 0);
  EXPECT_EQ(Le(f, 56, 4), pm + AcpiPm::kPm1EvtOffset);
  EXPECT_EQ(Le(f, 64, 4), pm + AcpiPm::kPm1CntOffset);
  EXPECT_EQ(Le(f, 76, 4), pm + AcpiPm::kPmTmrOffset);
  EXPECT_EQ(Le(f, 80, 4), pm + AcpiPm::kGpe0Offset);
  EXPECT_EQ(f[88], AcpiPm::kPm1EvtLen);
  EXPECT_EQ(f[89], AcpiPm::kPm1CntLen);
  EXPECT_EQ(f[91], AcpiPm::kPmTmrLen);
  EXPECT_EQ(f[92], AcpiPm::kGpe0Len);
  EXPECT_GT(Le(f, 96, 2), 100u);   // No C2.
  EXPECT_GT(Le(f, 98, 2), 1000u);  // No C3.
  EXPECT_EQ(f[108], 0x32);         // CENTURY.
  EXPECT_EQ(Le(f, 109, 2), 0x7u);  // Legacy devices, 8042, no VGA.
  uint32_t flags = static_cast<uint32_t>(Le(f, 112, 4));
  EXPECT_EQ(flags, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 10));
  EXPECT_FALSE(flags & (1u << 8)) << "TMR_VAL_EXT: the timer is 24 bits";
  EXPECT_FALSE(flags & (1u << 4)) << "the power button is a fixed feature";
  // RESET_REG: system I/O, 8 bits, byte access.
  EXPECT_EQ(f[116], 1);
  EXPECT_EQ(f[117], 8);
  EXPECT_EQ(f[119], 1);
  EXPECT_EQ(Le(f, 120, 8), pm + AcpiPm::kResetRegOffset);
  EXPECT_EQ(f[128], AcpiPm::kResetValue);
  // The X_ blocks repeat the 32-bit ones.
  struct {
    size_t gas, legacy, len;
  } blocks[] = {{148, 56, 88}, {172, 64, 89}, {208, 76, 91}, {220, 80, 92}};
  for (const auto& b : blocks) {
    EXPECT_EQ(f[b.gas], 1) << b.gas;
    EXPECT_EQ(f[b.gas + 1], f[b.len] * 8) << b.gas;
    EXPECT_EQ(Le(f, b.gas + 4, 8), Le(f, b.legacy, 4)) << b.gas;
  }
}

TEST(AcpiTablesTest, VgaAndKeyboardControllerFlags) {
  AcpiMachine m = acpi_test::PcAcpiMachine();
  m.vga_present = true;
  m.has_8042 = false;
  SparseMemory mem;
  auto inst = InstallAcpiTables(m, DefaultAcpiLayout(kLowRamEnd), mem.Writer());
  ASSERT_TRUE(inst);
  EXPECT_EQ(Le(ParseFrom(mem, inst->rsdp_gpa).fadt, 109, 2), 0x1u);
}

TEST(AcpiTablesTest, MadtDescribesCpusIoApicOverridesAndNmi) {
  SparseMemory mem;
  auto inst = InstallPc(mem, /*cpus=*/3);
  ASSERT_TRUE(inst);
  const Bytes m = ParseFrom(mem, inst->rsdp_gpa).madt;
  ASSERT_GE(m.size(), 44u);
  EXPECT_EQ(Le(m, 36, 4), 0xfee00000u);
  EXPECT_EQ(Le(m, 40, 4), 1u);              // PCAT_COMPAT.
  std::vector<std::pair<int, int>> lapics;  // UID, APIC ID.
  int ioapics = 0, nmis = 0;
  std::map<int, std::pair<uint32_t, uint16_t>> overrides;  // IRQ -> GSI, flags.
  for (size_t off = 44; off < m.size();) {
    uint8_t type = m[off], len = m[off + 1];
    ASSERT_GE(len, 2);
    ASSERT_LE(off + len, m.size());
    switch (type) {
      case 0:
        ASSERT_EQ(len, 8);
        lapics.push_back({m[off + 2], m[off + 3]});
        EXPECT_EQ(Le(m, off + 4, 4), 1u);  // Enabled.
        break;
      case 1:
        ASSERT_EQ(len, 12);
        ++ioapics;
        EXPECT_EQ(m[off + 2], 0);
        EXPECT_EQ(Le(m, off + 4, 4), 0xfec00000u);
        EXPECT_EQ(Le(m, off + 8, 4), 0u);
        break;
      case 2:
        ASSERT_EQ(len, 10);
        EXPECT_EQ(m[off + 2], 0);  // ISA.
        overrides[m[off + 3]] = {static_cast<uint32_t>(Le(m, off + 4, 4)),
                                 static_cast<uint16_t>(Le(m, off + 8, 2))};
        break;
      case 4:
        ASSERT_EQ(len, 6);
        ++nmis;
        EXPECT_EQ(m[off + 2], 0xff);  // All processors.
        EXPECT_EQ(m[off + 5], 1);     // LINT1.
        break;
      default:
        ADD_FAILURE() << "unexpected MADT entry " << int{type};
    }
    off += len;
  }
  EXPECT_EQ(lapics, (std::vector<std::pair<int, int>>{{0, 0}, {1, 1}, {2, 2}}));
  EXPECT_EQ(ioapics, 1);
  EXPECT_EQ(nmis, 1);
  ASSERT_EQ(overrides.size(), 2u);
  // IRQ0 -> GSI2 edge/high; the SCI level/active-high (how AcpiPm drives it).
  EXPECT_EQ(overrides[0], std::make_pair(2u, uint16_t{0x5}));
  EXPECT_EQ(overrides[9], std::make_pair(9u, uint16_t{0xd}));
}

TEST(AcpiTablesTest, FwCfgFilesAndLoaderCommands) {
  auto files = BuildAcpiFwCfgFiles(acpi_test::PcAcpiMachine());
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 3u);
  std::map<std::string, Bytes> by_name;
  for (const AcpiFwCfgFile& f : *files) by_name[f.name] = f.bytes;
  ASSERT_TRUE(by_name.contains("etc/acpi/rsdp"));
  ASSERT_TRUE(by_name.contains("etc/acpi/tables"));
  ASSERT_TRUE(by_name.contains("etc/table-loader"));
  const Bytes& tables = by_name["etc/acpi/tables"];
  const Bytes& rsdp = by_name["etc/acpi/rsdp"];
  const Bytes& loader = by_name["etc/table-loader"];
  EXPECT_EQ(rsdp.size(), 36u);
  EXPECT_EQ(loader.size() % 128, 0u);

  auto cmds = acpi_test::DecodeLoader(loader);
  ASSERT_TRUE(cmds);
  ASSERT_GE(cmds->size(), 2u);
  // ALLOCATE: tables (64-aligned, HIGH) first, the RSDP (16-aligned, FSEG).
  EXPECT_EQ((*cmds)[0].kind, 1u);
  EXPECT_EQ((*cmds)[0].file, "etc/acpi/tables");
  EXPECT_EQ((*cmds)[0].align, 64u);
  EXPECT_EQ((*cmds)[0].zone, 1);
  int allocs = 0;
  std::set<std::string> allocated;
  // Where each table of the tables file starts, from the headers.
  std::map<uint32_t, std::string> table_at;
  table_at[0] = "FACS";
  for (size_t off = 64; off + 36 <= tables.size();) {
    std::string sig(tables.begin() + static_cast<long>(off),
                    tables.begin() + static_cast<long>(off) + 4);
    uint32_t len = static_cast<uint32_t>(Le(tables, off + 4, 4));
    ASSERT_GE(len, 36u);
    table_at[static_cast<uint32_t>(off)] = sig;
    EXPECT_EQ(tables[off + 9], 0) << sig << ": checksums are left to the loader";
    off = (off + len + 7) & ~size_t{7};
  }
  EXPECT_EQ(table_at.size(), 6u);  // FACS DSDT FACP APIC RSDT XSDT.
  std::set<uint32_t> checksummed;
  std::vector<std::pair<std::string, uint32_t>> patched;  // Pointer fields, in order.
  for (const acpi_test::LoaderCommand& c : *cmds) {
    EXPECT_TRUE(c.padding_clean) << "command " << c.kind << " " << c.file;
    switch (c.kind) {
      case 1:
        ++allocs;
        allocated.insert(c.file);
        if (c.file == "etc/acpi/rsdp") {
          EXPECT_EQ(c.align, 16u);
          EXPECT_EQ(c.zone, 2);
        }
        break;
      case 2: {
        EXPECT_TRUE(allocated.contains(c.file) && allocated.contains(c.src_file))
            << "ALLOCATE must come first";
        EXPECT_EQ(c.src_file, "etc/acpi/tables");
        const Bytes& dest = by_name[c.file];
        ASSERT_LE(c.offset + c.size, dest.size());
        // The field holds the offset of a table in the source file.
        uint64_t target = Le(dest, c.offset, c.size);
        EXPECT_TRUE(table_at.contains(static_cast<uint32_t>(target)))
            << c.file << "+" << c.offset << " -> " << target;
        patched.push_back({c.file, c.offset});
        break;
      }
      case 3: {
        if (c.file == "etc/acpi/tables") {
          // Exactly one whole table, checksum byte at +9.
          ASSERT_TRUE(table_at.contains(c.start)) << c.start;
          EXPECT_EQ(c.offset, c.start + 9);
          EXPECT_EQ(c.length, Le(tables, c.start + 4, 4));
          checksummed.insert(c.start);
        } else {
          EXPECT_EQ(c.file, "etc/acpi/rsdp");
          EXPECT_EQ(c.start, 0u);
          EXPECT_TRUE((c.offset == 8 && c.length == 20) || (c.offset == 32 && c.length == 36));
        }
        // No pointer into this range may be patched after its checksum.
        for (const acpi_test::LoaderCommand& later : *cmds) {
          if (&later <= &c || later.kind != 2 || later.file != c.file) continue;
          EXPECT_FALSE(later.offset < c.start + c.length && later.offset + later.size > c.start)
              << "pointer at " << later.offset << " patched after the checksum";
        }
        break;
      }
      default:
        ADD_FAILURE() << "unknown command " << c.kind;
    }
  }
  EXPECT_EQ(allocs, 2);
  // Every table but the FACS (which has no checksum) is checksummed.
  EXPECT_EQ(checksummed.size(), table_at.size() - 1);
  // Pointers: RSDP->RSDT/XSDT, FADT->FACS/DSDT/X_DSDT, 2 RSDT + 2 XSDT entries.
  EXPECT_EQ(patched.size(), 9u);
}

TEST(AcpiTablesTest, FirmwareLoaderAndDirectInstallGiveTheSameBytes) {
  AcpiMachine m = acpi_test::PcAcpiMachine(2);
  auto files = BuildAcpiFwCfgFiles(m);
  ASSERT_TRUE(files);
  std::map<std::string, Bytes> by_name;
  for (const AcpiFwCfgFile& f : *files) by_name[f.name] = f.bytes;
  auto cmds = acpi_test::DecodeLoader(by_name["etc/table-loader"]);
  ASSERT_TRUE(cmds);

  // Our own loader, run the way SeaBIOS runs it.
  const AcpiLayout layout = DefaultAcpiLayout(kLowRamEnd);
  SparseMemory firmware;
  ASSERT_TRUE(acpi_test::RunLoader(
      *cmds, by_name, {{"etc/acpi/rsdp", layout.rsdp_gpa}, {"etc/acpi/tables", layout.tables_gpa}},
      firmware));
  SparseMemory direct;
  ASSERT_TRUE(InstallAcpiTables(m, layout, direct.Writer()));
  for (auto [gpa, size] :
       {std::pair{layout.rsdp_gpa, uint64_t{36}},
        std::pair{layout.tables_gpa, uint64_t{by_name["etc/acpi/tables"].size()}}}) {
    EXPECT_EQ(firmware.Read(gpa, size), direct.Read(gpa, size)) << gpa;
  }
  // And at another address, as a BIOS allocator would choose.
  SparseMemory elsewhere;
  ASSERT_TRUE(acpi_test::RunLoader(
      *cmds, by_name, {{"etc/acpi/rsdp", 0xf5a40}, {"etc/acpi/tables", 0x7ffe0000}}, elsewhere));
  ParsedTables t = ParseFrom(elsewhere, 0xf5a40);
  EXPECT_EQ(t.facs_gpa, 0x7ffe0000u);
}

TEST(AcpiTablesTest, LayoutErrors) {
  AcpiMachine m = acpi_test::PcAcpiMachine();
  SparseMemory mem;
  AcpiLayout l = DefaultAcpiLayout(kLowRamEnd);
  l.rsdp_gpa = 0xe0008;  // Not 16-byte aligned.
  EXPECT_FALSE(InstallAcpiTables(m, l, mem.Writer()));
  l.rsdp_gpa = 0xd0000;  // Outside the BIOS area OSPM scans.
  EXPECT_FALSE(InstallAcpiTables(m, l, mem.Writer()));
  l = DefaultAcpiLayout(kLowRamEnd);
  l.tables_gpa += 64;  // Not page aligned.
  EXPECT_FALSE(InstallAcpiTables(m, l, mem.Writer()));
  l = DefaultAcpiLayout(kLowRamEnd);
  l.tables_window_bytes = 4096;  // Too small.
  auto r = InstallAcpiTables(m, l, mem.Writer());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("window"), std::string::npos) << r.error().message;
  l = DefaultAcpiLayout(kLowRamEnd);
  auto refused = InstallAcpiTables(m, l, [](uint64_t, std::span<const uint8_t>) { return false; });
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("no RAM"), std::string::npos);
}

TEST(AcpiTablesTest, DescriptionErrors) {
  auto fails = [](auto mutate) {
    AcpiMachine m = acpi_test::PcAcpiMachine();
    mutate(m);
    return !BuildAcpiTables(m).has_value();
  };
  EXPECT_FALSE(fails([](AcpiMachine&) {}));
  EXPECT_TRUE(fails([](AcpiMachine& m) { m.cpu_apic_ids.clear(); }));
  EXPECT_TRUE(fails([](AcpiMachine& m) { m.cpu_apic_ids = {0, 0}; }));
  EXPECT_TRUE(fails([](AcpiMachine& m) { m.cpu_apic_ids = {0xff}; }));
  EXPECT_TRUE(fails([](AcpiMachine& m) { m.sci_irq = 16; }));
  EXPECT_TRUE(fails([](AcpiMachine& m) { m.serial_ports.push_back({0x3e8, 20}); }));
  EXPECT_TRUE(fails([](AcpiMachine& m) { m.pirq_isa_irqs.clear(); }));
  EXPECT_TRUE(fails([](AcpiMachine& m) { m.pm_tmr_len = 3; }));
  EXPECT_TRUE(fails([](AcpiMachine& m) { m.pm1a_cnt_port = 0; }));
  EXPECT_TRUE(fails([](AcpiMachine& m) { m.pci_last_slot = 32; }));
  EXPECT_TRUE(fails([](AcpiMachine& m) { m.oem_id = "TOOLONG"; }));
}

}  // namespace
}  // namespace x86vm
