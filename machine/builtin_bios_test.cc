// The builtin BIOS on the real board with the interpreter: POST programs the
// chipset and installs ACPI, a boot sector runs, and a PS/2 key press goes
// i8042 -> IRQ 1 -> INT 15h/4Fh -> the services -> INT 16h.
#include "machine/builtin_bios.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <string>

#include "cpu/interpreter.h"
#include "firmware/bios/bios_abi.h"
#include "machine/boot_payload.h"
#include "machine/cpu_platform.h"
#include "machine/pc_acpi.h"
#include "machine/run_loop.h"

namespace x86vm {
namespace {

class StringSink : public SerialSink {
 public:
  void Write(uint8_t byte) override { text += static_cast<char>(byte); }
  std::string text;
};

// Writes a 64 KiB disk whose boot sector reads one key with INT 16h and
// exits with it: mov ah,0; int 16h; out 0xF4,al; cli; hlt.
std::string MakeBootDisk() {
  std::string path =
      ::testing::TempDir() + "/builtin_bios_boot_" + std::to_string(getpid()) + ".img";
  std::vector<char> image(65536, 0);
  const uint8_t code[] = {0xb4, 0x00, 0xcd, 0x16, 0xe6, 0xf4, 0xfa, 0xf4};
  std::memcpy(image.data(), code, sizeof(code));
  image[510] = 0x55;
  image[511] = static_cast<char>(0xaa);
  std::ofstream(path, std::ios::binary)
      .write(image.data(), static_cast<std::streamsize>(image.size()));
  return path;
}

TEST(BuiltinBiosTest, PostSetsUpTheBoardAndAKeyReachesTheBootSector) {
  std::string disk = MakeBootDisk();
  StringSink com1;
  PcConfig config;
  config.memory_bytes = 64ull << 20;
  config.clock_mode = VirtualClock::Mode::kDeterministic;
  config.com1_sink = &com1;
  config.exit_port = 0xf4;
  config.disks = {{disk, false}};
  auto machine_or = PcMachine::Create(config);
  ASSERT_TRUE(machine_or.has_value()) << machine_or.error().message;
  PcMachine& machine = **machine_or;

  BootPayload payload = BootPayload::ForBuiltinBios();
  ASSERT_TRUE(payload.MapRom(machine).has_value());
  EXPECT_EQ(machine.pio().ReadValue(bios_abi::kTrapPort, 4), bios_abi::kTrapSignature);
  PcCpuPlatform platform(machine);
  Interpreter cpu(MakeCpuEnvironment(machine, &platform));
  machine.memory().set_write_observer(
      [&cpu](uint64_t gpa, uint64_t size) { cpu.InvalidateCode(gpa, size); });
  ASSERT_TRUE(payload.Load(machine, cpu).has_value());

  // 'A' pressed and released (set 2) after POST, while INT 16h waits.
  Timer key(machine.clock(), [&machine] {
    const uint8_t press[] = {0x1c};
    const uint8_t release[] = {0xf0, 0x1c};
    machine.i8042().KeyEvent(press);
    machine.i8042().KeyEvent(release);
  });
  key.ArmAt(300'000'000);

  RunLoopOptions run;
  RunOutcome outcome = RunMachine(machine, cpu, run);
  unlink(disk.c_str());
  EXPECT_EQ(outcome.exit_status, ('a' << 1) | 1) << outcome.message << "\n" << com1.text;
  EXPECT_NE(com1.text.find("x86vm BIOS"), std::string::npos);

  // IDE decode on both channels, the PIRQ routes and the bus-master BAR.
  PciFunction* ide = machine.pci().FindFunction(1, 1);
  PciFunction* isa = machine.pci().FindFunction(1, 0);
  ASSERT_NE(ide, nullptr);
  ASSERT_NE(isa, nullptr);
  EXPECT_EQ(ide->ReadConfig(0x40, 2), 0x8000u);
  EXPECT_EQ(ide->ReadConfig(0x42, 2), 0x8000u);
  EXPECT_EQ(ide->bar_address(4), BuiltinBios::kPciIoStart);
  EXPECT_TRUE(ide->command() & pci_config::kCommandIo);
  for (int p = 0; p < 4; ++p) {
    EXPECT_EQ(isa->ReadConfig(static_cast<uint8_t>(0x60 + p), 1),
              BuiltinBios::kPirqIrqs[static_cast<size_t>(p)]);
  }
  EXPECT_EQ(machine.pio().ReadValue(0x4d1, 1) & 0x0c, 0x0cu);  // IRQ 10, 11 level.

  // The RSDP where OSPM scans, the tables reported in e820 as ACPI.
  char rsdp[8];
  ASSERT_TRUE(machine.memory().ReadPhysical(
      0xe0000, std::span<uint8_t>(reinterpret_cast<uint8_t*>(rsdp), 8)));
  EXPECT_EQ(std::string(rsdp, 8), "RSD PTR ");
  // INT 13h points into the BIOS segment; the BDA says 639 KiB.
  uint8_t ivt[4];
  ASSERT_TRUE(machine.memory().ReadPhysical(0x13 * 4, ivt));
  EXPECT_EQ(ivt[2] | (ivt[3] << 8), 0xf000);
  uint8_t mem_kb[2];
  ASSERT_TRUE(machine.memory().ReadPhysical(0x413, mem_kb));
  EXPECT_EQ(mem_kb[0] | (mem_kb[1] << 8), 639);
}

TEST(BuiltinBiosTest, PirqRoutesAreAmongTheDsdtChoices) {
  AcpiMachine acpi = DescribePcForAcpi();
  for (uint8_t irq : BuiltinBios::kPirqIrqs) {
    EXPECT_NE(std::find(acpi.pirq_isa_irqs.begin(), acpi.pirq_isa_irqs.end(), irq),
              acpi.pirq_isa_irqs.end())
        << int{irq};
  }
}

TEST(BuiltinBiosTest, E820ReportsTheAcpiTablesAfterPost) {
  PcConfig config;
  config.memory_bytes = 32ull << 20;
  config.clock_mode = VirtualClock::Mode::kDeterministic;
  auto machine = PcMachine::Create(config);
  ASSERT_TRUE(machine.has_value());
  auto bios = BuiltinBios::Attach(**machine);
  ASSERT_TRUE(bios.has_value());
  // A second BIOS cannot take the same trap port.
  EXPECT_FALSE(BuiltinBios::Attach(**machine).has_value());
  (*bios)->BoardPost();
  const auto& map = (*bios)->services().e820();
  auto has = [&map](E820Type type) {
    return std::any_of(map.begin(), map.end(),
                       [type](const E820Entry& e) { return e.type == type; });
  };
  EXPECT_TRUE(has(E820Type::kAcpi));
  EXPECT_TRUE(has(E820Type::kNvs));
  uint64_t acpi_end = 0;
  for (const E820Entry& e : map) {
    if (e.type == E820Type::kAcpi) acpi_end = e.addr + e.size;
  }
  EXPECT_EQ(acpi_end, 32ull << 20);
}

}  // namespace
}  // namespace x86vm
