// Boots each direct-boot test kernel on the PC board with the interpreter, as
// the x86vm binary does (detect, load, set the entry state, run), and checks
// what the kernel printed on COM1 and its exit status. The same kernels pass
// on QEMU (run_kernels.sh): they check the entry state themselves and print
// the boot information they were given.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "cpu/interpreter.h"
#include "firmware/boot_state.h"
#include "firmware/e820.h"
#include "firmware/kernel_kind.h"
#include "firmware/multiboot.h"
#include "firmware/pvh_boot.h"
#include "machine/cpu_platform.h"
#include "machine/pc.h"
#include "machine/run_loop.h"

namespace x86vm {
namespace {

class StringSink : public SerialSink {
 public:
  void Write(uint8_t byte) override { text.push_back(static_cast<char>(byte)); }
  std::string text;
};

std::vector<uint8_t> ReadRunfile(const std::string& path) {
  std::vector<uint8_t> data;
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) return data;
  uint8_t buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) data.insert(data.end(), buf, buf + n);
  fclose(f);
  return data;
}

struct Boot {
  int exit_status = -1;
  std::string serial;
  std::string error;
};

// Changes the machine or entry state after loading, to check that the test
// kernels notice a wrong entry state.
using Tamper = std::function<void(PcMachine&, CpuState&)>;

// Boots `path` with `modules` and `cmdline` on a 128 MiB machine.
Boot BootKernel(const std::string& path, const std::vector<BootModule>& modules,
                const std::string& cmdline, Tamper tamper = nullptr) {
  Boot boot;
  std::vector<uint8_t> kernel = ReadRunfile(path);
  if (kernel.empty()) {
    boot.error = "missing runfile " + path;
    return boot;
  }
  StringSink com1;
  PcConfig config;
  config.memory_bytes = 128ull << 20;
  config.clock_mode = VirtualClock::Mode::kDeterministic;
  config.rtc_start_unix_seconds = 1577836800;
  config.com1_sink = &com1;
  config.exit_port = 0xf4;
  auto machine_or = PcMachine::Create(config);
  if (!machine_or) {
    boot.error = machine_or.error().message;
    return boot;
  }
  PcMachine& machine = **machine_or;
  PcCpuPlatform platform(machine);
  Interpreter cpu(MakeCpuEnvironment(machine, &platform));
  machine.memory().set_write_observer(
      [&cpu](uint64_t gpa, uint64_t size) { cpu.InvalidateCode(gpa, size); });

  auto load = [&](PcMachine& m, Vcpu& vcpu) -> Result<> {
    auto kind = DetectKernelKind(path, kernel);
    if (!kind) return std::unexpected(kind.error());
    Result<Flat32Entry> entry;
    if (*kind == KernelKind::kMultiboot) {
      MultibootParams p;
      p.kernel_name = path;
      p.kernel = kernel;
      p.modules = modules;
      p.cmdline = cmdline;
      p.e820 = BuildE820(m.memory());
      entry = LoadMultiboot(m.memory(), p);
    } else if (*kind == KernelKind::kPvhElf) {
      PvhBootParams p;
      p.kernel_name = path;
      p.kernel = kernel;
      p.modules = modules;
      p.cmdline = cmdline;
      p.e820 = BuildE820(m.memory());
      entry = LoadPvh(m.memory(), p);
    } else {
      return Fail("{}: unexpected kernel kind {}", path, KernelKindName(*kind));
    }
    if (!entry) return std::unexpected(entry.error());
    CpuState state = Flat32EntryState(*entry);
    if (tamper) tamper(m, state);
    return vcpu.SetState(state);
  };
  if (auto r = load(machine, cpu); !r) {
    boot.error = r.error().message;
    return boot;
  }
  RunLoopOptions run;
  run.no_reboot = true;
  run.after_reset = load;
  RunOutcome outcome = RunMachine(machine, cpu, run);
  boot.exit_status = outcome.exit_status;
  boot.serial = com1.text;
  if (!outcome.message.empty()) boot.error = outcome.message;
  std::printf("--- %s on COM1:\n%s", path.c_str(), boot.serial.c_str());  // For the test log.
  return boot;
}

const std::vector<uint8_t> kModuleA = {'M', 'O', 'D', 'U', 'L', 'E', '-', 'A', '\n'};
const std::vector<uint8_t> kModuleB = {'s', 'e', 'c', 'o', 'n', 'd', ' ', 'B', '\n'};

void ExpectContains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "missing \"" << part << "\" in:\n" << text;
}

class MultibootBoot : public ::testing::TestWithParam<const char*> {};

TEST_P(MultibootBoot, KernelSeesMagicModulesCmdlineAndMemoryMap) {
  std::string path = std::string("tests/kernels/") + GetParam();
  Boot b = BootKernel(path, {{"a.txt", kModuleA}, {"dir/b.txt", kModuleB}}, "hello world x=1");
  ASSERT_EQ(b.error, "") << b.serial;
  EXPECT_EQ(b.exit_status, 1) << b.serial;  // Exit value 0: (0 << 1) | 1.
  ExpectContains(b.serial, "magic=2BADB002 flags=0000024D\n");
  ExpectContains(b.serial, "mem_lower=639 KiB mem_upper=");
  ExpectContains(b.serial, "cmdline=" + path + " hello world x=1\n");
  ExpectContains(b.serial, "mods_count=2\n");
  ExpectContains(b.serial, "string=a.txt data=MODULE-A.\n");
  ExpectContains(b.serial, "string=dir/b.txt data=second B.\n");
  ExpectContains(b.serial, "mmap base=0000000000000000 length=000000000009FC00 type=1\n");
  ExpectContains(b.serial, "mmap base=0000000000100000 length=");
  ExpectContains(b.serial, "boot_loader_name=x86vm\n");
  ExpectContains(b.serial, "PASS\n");
}

INSTANTIATE_TEST_SUITE_P(Kernels, MultibootBoot,
                         ::testing::Values("multiboot_elf.elf", "multiboot_aout.bin"));

class PvhBoot : public ::testing::TestWithParam<const char*> {};

TEST_P(PvhBoot, KernelSeesStartInfoModuleCmdlineAndMemoryMap) {
  std::string path = std::string("tests/kernels/") + GetParam();
  Boot b = BootKernel(path, {{"initrd.img", kModuleA}}, "console=ttyS0 pvh=1");
  ASSERT_EQ(b.error, "") << b.serial;
  EXPECT_EQ(b.exit_status, 1) << b.serial;
  ExpectContains(b.serial, "cr4=00000000\n");
  ExpectContains(b.serial, "start_info=00007000 magic=336EC578 version=1 flags=00000000\n");
  ExpectContains(b.serial, "cmdline=console=ttyS0 pvh=1\n");
  ExpectContains(b.serial, "nr_modules=1\n");
  ExpectContains(b.serial, "size=9 cmdline=initrd.img data=MODULE-A.\n");
  ExpectContains(b.serial, "memmap addr=0000000000000000 size=000000000009FC00 type=1\n");
  ExpectContains(b.serial, "PASS\n");
}

INSTANTIATE_TEST_SUITE_P(Kernels, PvhBoot, ::testing::Values("pvh_elf32.elf", "pvh_elf64.elf"));

// The kernels' own checks fail when the entry state is wrong: exit value N
// (status (N << 1) | 1) and "FAIL N: ..." on COM1.
TEST(KernelChecks, NoticeAWrongEntryState) {
  struct Case {
    const char* kernel;
    Tamper tamper;
    int check;
  };
  const Case cases[] = {
      {"multiboot_elf.elf", [](PcMachine&, CpuState& s) { s.gpr[kRax] = 0; }, 7},
      {"multiboot_aout.bin",
       [](PcMachine& m, CpuState& s) {
         std::memset(m.memory().HostRange(s.gpr[kRbx], 4), 0, 4);  // Info flags: nothing valid.
       },
       9},
      {"pvh_elf32.elf",
       [](PcMachine& m, CpuState& s) {
         std::memset(m.memory().HostRange(s.gdtr.base, 40), 0, 40);  // LSL finds no descriptor.
       },
       5},
      {"pvh_elf64.elf", [](PcMachine&, CpuState& s) { s.gpr[kRbx] = 0; }, 7},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.kernel);
    Boot b = BootKernel(std::string("tests/kernels/") + c.kernel, {}, "", c.tamper);
    EXPECT_EQ(b.exit_status, (c.check << 1) | 1) << b.serial;
    ExpectContains(b.serial, "FAIL " + std::to_string(c.check) + ": ");
  }
}

}  // namespace
}  // namespace x86vm
