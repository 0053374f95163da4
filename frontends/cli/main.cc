// x86vm's command-line entry point: parse options, build the PC board, load
// the boot payload, pick an engine and hand everything to the run loop.
#include <time.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cpu/interpreter.h"
#include "firmware/acpi/acpi_tables.h"
#include "firmware/bios_image.h"
#include "firmware/boot_state.h"
#include "firmware/e820.h"
#include "firmware/linux_boot.h"
#include "frontends/chardev.h"
#include "frontends/cli/options.h"
#include "machine/cpu_platform.h"
#include "machine/pc.h"
#include "machine/pc_acpi.h"
#include "machine/run_loop.h"

namespace x86vm {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;

// Largest kernel or initrd file read into memory (guest RAM bounds it anyway).
constexpr uint64_t kMaxImageBytes = 4ull << 30;

Result<std::vector<uint8_t>> ReadFile(std::string_view option, const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Fail("{}: cannot open '{}'", option, path);
  std::streamoff size = in.tellg();
  if (size < 0 || static_cast<uint64_t>(size) > kMaxImageBytes) {
    return Fail("{}: '{}' is not a readable file of at most 4 GiB", option, path);
  }
  std::vector<uint8_t> data(static_cast<size_t>(size));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(data.data()), size)) {
    return Fail("{}: error reading '{}'", option, path);
  }
  return data;
}

// Adapts a character backend to the debug console's sink.
class DebugConBackend : public DebugConSink {
 public:
  explicit DebugConBackend(CharBackend* backend) : backend_(backend) {}
  void Put(uint8_t byte) override { backend_->Write(byte); }

 private:
  CharBackend* backend_;
};

// Options that name something not built yet fail with one line each.
std::optional<std::string> NotBuiltYet(const Options& o) {
  if (o.display == "sdl") return "--display sdl: the SDL display is not built yet";
  if (o.accel == "kvm") {
    return "--accel kvm: the KVM engine is not built yet (use --accel interp)";
  }
  if (o.kernel.empty() && (o.bios == "builtin" || o.bios == "seabios" || o.bios == "ovmf")) {
    return fmt::format(
        "--bios {}: this firmware is not built yet (boot with --kernel, or --bios PATH "
        "for a raw firmware image)",
        o.bios);
  }
  return std::nullopt;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = ParseOptions(args);
  if (!parsed) {
    fmt::print(stderr, "x86vm: {}\n", parsed.error().message);
    return kExitUsage;
  }
  const Options& o = *parsed;
  if (o.help) {
    fmt::print("{}", HelpText());
    return 0;
  }
  if (o.version) {
    fmt::print("{}\n", VersionText());
    return 0;
  }
  if (auto missing = NotBuiltYet(o)) {
    fmt::print(stderr, "x86vm: {}\n", *missing);
    return kExitFailure;
  }

  // Host side: character backends.
  auto serial = OpenCharBackend("--serial", o.serial);
  if (!serial) {
    fmt::print(stderr, "x86vm: {}\n", serial.error().message);
    return kExitUsage;
  }
  std::unique_ptr<CharBackend> debugcon;
  if (!o.debugcon.empty()) {
    auto d = OpenCharBackend("--debugcon", o.debugcon);
    if (!d) {
      fmt::print(stderr, "x86vm: {}\n", d.error().message);
      return kExitUsage;
    }
    debugcon = std::move(*d);
  }
  DebugConBackend debugcon_sink(debugcon.get());

  PcConfig config;
  config.memory_bytes = o.memory_bytes;
  config.clock_mode = o.clock == "deterministic" ? VirtualClock::Mode::kDeterministic
                                                 : VirtualClock::Mode::kRealTime;
  // The RTC starts from the host's wall clock, or from a fixed date
  // (2020-01-01) when runs must be repeatable.
  config.rtc_start_unix_seconds =
      config.clock_mode == VirtualClock::Mode::kDeterministic ? 1577836800 : time(nullptr);
  config.com1_sink = serial->get();
  config.debugcon_sink = debugcon ? &debugcon_sink : nullptr;
  config.exit_port = o.exit_port;
  for (const DiskOption& d : o.disks) config.disks.push_back({d.path, d.read_only});
  auto machine_or = PcMachine::Create(config);
  if (!machine_or) {
    fmt::print(stderr, "x86vm: {}\n", machine_or.error().message);
    return kExitFailure;
  }
  PcMachine& machine = **machine_or;

  PcCpuPlatform platform(machine);
  Interpreter cpu(MakeCpuEnvironment(machine, &platform));
  machine.memory().set_write_observer(
      [&cpu](uint64_t gpa, uint64_t size) { cpu.InvalidateCode(gpa, size); });

  // The boot payload; reloaded after every reset.
  std::vector<uint8_t> kernel, initrd, bios;
  if (!o.kernel.empty()) {
    auto k = ReadFile("--kernel", o.kernel);
    if (!k) {
      fmt::print(stderr, "x86vm: {}\n", k.error().message);
      return kExitUsage;
    }
    kernel = std::move(*k);
    if (!o.initrd.empty()) {
      if (o.initrd.find(',') != std::string::npos) {
        fmt::print(stderr, "x86vm: --initrd: several modules need a multiboot kernel\n");
        return kExitUsage;
      }
      auto i = ReadFile("--initrd", o.initrd);
      if (!i) {
        fmt::print(stderr, "x86vm: {}\n", i.error().message);
        return kExitUsage;
      }
      initrd = std::move(*i);
    }
  } else if (o.bios != "none") {
    auto b = ReadFile("--bios", o.bios);
    if (!b) {
      fmt::print(stderr, "x86vm: {}\n", b.error().message);
      return kExitUsage;
    }
    bios = std::move(*b);
    if (auto r = LoadBiosImage(machine.memory(), bios, o.bios); !r) {
      fmt::print(stderr, "x86vm: {}\n", r.error().message);
      return kExitUsage;
    }
  }
  auto load_payload = [&](PcMachine& m, Vcpu& vcpu) -> Result<> {
    if (kernel.empty()) {
      if (!bios.empty()) {
        // The BIOS area is RAM the guest may have changed: restore it.
        uint64_t low_bytes = std::min<uint64_t>(bios.size(), 128 << 10);
        std::memcpy(m.memory().HostRange(0x100000 - low_bytes, low_bytes),
                    bios.data() + bios.size() - low_bytes, low_bytes);
      }
      return {};
    }
    // ACPI tables generated from the board's wiring, in the top of low RAM
    // (reserved in e820) with the RSDP in the BIOS area.
    AcpiLayout layout = DefaultAcpiLayout(m.memory().ram_below_4g_bytes());
    auto acpi = InstallAcpiTables(DescribePcForAcpi(), layout,
                                  [&m](uint64_t gpa, std::span<const uint8_t> bytes) {
                                    return m.memory().WritePhysical(gpa, bytes);
                                  });
    if (!acpi) return std::unexpected(acpi.error());
    LinuxBootParams p;
    p.kernel_name = o.kernel;
    p.kernel = kernel;
    p.initrd = initrd;
    p.cmdline = o.append;
    p.e820 = BuildE820(m.memory(), acpi->e820);
    p.acpi_rsdp_gpa = acpi->rsdp_gpa;
    p.initrd_end_max_gpa = layout.tables_gpa;
    auto entry = LoadLinux(m.memory(), p);
    if (!entry) return std::unexpected(entry.error());
    return vcpu.SetState(LinuxEntryState(*entry));
  };
  if (auto r = load_payload(machine, cpu); !r) {
    fmt::print(stderr, "x86vm: {}\n", r.error().message);
    return kExitUsage;
  }

  RunLoopOptions run;
  run.no_reboot = o.no_reboot;
  run.serial_input = serial->get();
  run.after_reset = load_payload;
  RunOutcome outcome = RunMachine(machine, cpu, run);
  (*serial)->Flush();
  if (debugcon) debugcon->Flush();
  if (!outcome.message.empty()) fmt::print(stderr, "x86vm: {}\n", outcome.message);
  return outcome.exit_status;
}

}  // namespace
}  // namespace x86vm

int main(int argc, char** argv) { return x86vm::Main(argc, argv); }
