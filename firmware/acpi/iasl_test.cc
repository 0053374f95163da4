// Cross-checks the generated tables with ACPICA's iasl (Debian package
// acpica-tools): every table must disassemble without errors, and the DSDT's
// disassembly must compile back. Skipped when iasl is not installed.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "firmware/acpi/acpi_tables.h"
#include "firmware/acpi/acpi_test_util.h"

namespace x86vm {
namespace {

namespace fs = std::filesystem;

std::string FindIasl() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    fs::path p = fs::path(dir) / "iasl";
    if (fs::exists(p)) return p.string();
  }
  return "";
}

// Runs `command` in `dir`; returns its exit status and stdout+stderr.
std::pair<int, std::string> RunIn(const fs::path& dir, const std::string& command) {
  std::string full = "cd '" + dir.string() + "' && " + command + " 2>&1";
  std::string out;
  FILE* p = popen(full.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// The count before `what` in iasl's compile summary ("0 Errors, 1 Warnings,
// ..."), or -1 when there is no summary.
int SummaryCount(const std::string& log, const std::string& what) {
  size_t pos = log.find(" " + what + ",");
  if (pos == std::string::npos) return -1;
  size_t start = log.rfind(' ', pos - 1);
  return std::atoi(log.substr(start + 1, pos - start - 1).c_str());
}

// Disassembly problems are printed as "Error"/"Warning" lines or "****".
bool MentionsProblems(const std::string& log) {
  return log.find("Error") != std::string::npos || log.find("Warning") != std::string::npos ||
         log.find("**** ") != std::string::npos;
}

TEST(IaslTest, TablesDisassembleAndTheDsdtRecompiles) {
  std::string iasl = FindIasl();
  if (iasl.empty()) GTEST_SKIP() << "iasl not installed (apt-get install acpica-tools)";
  const char* tmp = std::getenv("TEST_TMPDIR");
  fs::path dir = fs::path(tmp != nullptr ? tmp : "/tmp") / "acpi_iasl";
  fs::remove_all(dir);
  fs::create_directories(dir);

  acpi_test::SparseMemory mem;
  auto inst =
      InstallAcpiTables(acpi_test::PcAcpiMachine(2), DefaultAcpiLayout(256ull << 20), mem.Writer());
  ASSERT_TRUE(inst);
  auto rsdp = mem.Read(inst->rsdp_gpa, 36);
  ASSERT_TRUE(rsdp);
  auto xsdt = mem.Table(acpi_test::Le(*rsdp, 24, 8));
  ASSERT_TRUE(xsdt);
  // (iasl -d takes no raw RSDP: it has no table header. The parse-back
  // tests check it.)
  std::map<std::string, std::vector<uint8_t>> tables = {{"xsdt", *xsdt}};
  for (size_t off = 36; off + 8 <= xsdt->size(); off += 8) {
    auto t = mem.Table(acpi_test::Le(*xsdt, off, 8));
    ASSERT_TRUE(t);
    std::string sig(t->begin(), t->begin() + 4);
    tables[sig] = *t;
    if (sig == "FACP") {
      auto dsdt = mem.Table(acpi_test::Le(*t, 140, 8));
      ASSERT_TRUE(dsdt);
      tables["DSDT"] = *dsdt;
      auto facs = mem.Read(acpi_test::Le(*t, 36, 4), 64);
      ASSERT_TRUE(facs);
      tables["FACS"] = *facs;
    }
  }
  ASSERT_TRUE(tables.contains("DSDT"));
  ASSERT_TRUE(tables.contains("APIC"));

  for (const auto& [name, bytes] : tables) {
    fs::path file = dir / (name + ".dat");
    std::ofstream(file, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    auto [status, log] = RunIn(dir, iasl + " -d " + file.filename().string());
    EXPECT_EQ(status, 0) << name << ":\n" << log;
    EXPECT_FALSE(MentionsProblems(log)) << name << ":\n" << log;
    EXPECT_TRUE(fs::exists(dir / (name + ".dsl"))) << name << ":\n" << log;
  }

  // The DSDT's ASL compiles back to AML.
  auto [status, log] = RunIn(dir, iasl + " -p recompiled DSDT.dsl");
  EXPECT_EQ(status, 0) << log;
  // Remarks are allowed (iasl remarks on the Name in \_SB.IQCR, a pattern
  // QEMU's DSDT uses too); errors and warnings are not.
  EXPECT_EQ(SummaryCount(log, "Errors"), 0) << log;
  EXPECT_EQ(SummaryCount(log, "Warnings"), 0) << log;
  std::ifstream dsl(dir / "DSDT.dsl");
  std::string text((std::istreambuf_iterator<char>(dsl)), std::istreambuf_iterator<char>());
  for (const char* expected : {"Name (\\_S5, Package", "Device (\\_SB.PCI0)", "Method (_PRT",
                               "PNP0A03", "Device (\\_SB.LNKA)", "PCI_Config", "Device (COM1)"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }
}

}  // namespace
}  // namespace x86vm
