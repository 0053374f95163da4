// x86vm's command-line entry point: parse options, build the PC board, load
// the boot payload, pick an engine and hand everything to the run loop.
#include <time.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "accel/engine_stats.h"
#include "accel/policy.h"
#include "base/log.h"
#include "cpu/interpreter.h"
#include "cpu/trace.h"
#include "frontends/chardev.h"
#include "frontends/cli/options.h"
#include "machine/boot_payload.h"
#include "machine/cpu_platform.h"
#include "machine/pc.h"
#include "machine/run_loop.h"

namespace x86vm {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;

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
  if (o.kernel.empty() && o.bios == "ovmf") {
    return fmt::format(
        "--bios {}: this firmware is not built yet (boot with --kernel, or --bios PATH "
        "for a raw firmware image)",
        o.bios);
  }
  return std::nullopt;
}

// --stats: what ran the guest and how fast, on stderr.
void PrintStats(Vcpu& cpu, const std::string& reason, uint64_t wall_ns) {
  fmt::print(stderr, "{}", FormatEngineStats(cpu, reason, wall_ns));
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
  if (!o.trace.empty() && (o.accel == "kvm" || o.accel == "hybrid")) {
    fmt::print(stderr, "x86vm: --trace: only the interpreter traces (use --accel interp or auto)\n");
    return kExitUsage;
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

  // The boot payload; loaded again after every reset.
  Result<BootPayload> payload = BootPayload::Empty();
  if (!o.kernel.empty()) {
    std::vector<std::string> initrds;
    for (size_t start = 0; !o.initrd.empty() && start <= o.initrd.size();) {
      size_t comma = o.initrd.find(',', start);
      initrds.push_back(o.initrd.substr(start, comma == std::string::npos ? comma : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    payload = BootPayload::ForKernel(o.kernel, initrds, o.append);
  } else if (o.bios == "builtin") {
    payload = BootPayload::ForBuiltinBios();
  } else if (o.bios == "seabios") {
    payload = BootPayload::ForFirmware(BootPayload::kSeaBiosPath);
  } else if (o.bios != "none") {
    payload = BootPayload::ForFirmware(o.bios);
  }
  // ROMs are mapped before an engine exists: KVM builds its memory slots
  // from the memory map when it is created.
  if (payload) {
    if (auto r = payload->MapRom(machine); !r) payload = std::unexpected(r.error());
  }
  if (!payload) {
    fmt::print(stderr, "x86vm: {}\n", payload.error().message);
    return kExitUsage;
  }

  // --trace: created before the engine, which points at it.
  std::unique_ptr<TraceWriter> trace;
  if (!o.trace.empty()) {
    TraceFilter filter;
    for (const AddressRange& r : o.trace_ranges) filter.ranges.push_back({r.start, r.end});
    filter.skip = o.trace_skip;
    filter.limit = o.trace_limit;
    auto t = TraceWriter::Open(o.trace, std::move(filter));
    if (!t) {
      fmt::print(stderr, "x86vm: {}\n", t.error().message);
      return kExitUsage;
    }
    trace = std::move(*t);
  }

  PcCpuPlatform platform(machine);
  CpuEnvironment env = MakeCpuEnvironment(machine, &platform);
  // Only the interpreter traces: --trace makes "auto" pick it.
  HybridOptions hybrid;
  hybrid.swap_interval_ns = o.accel_swap_ms * 1'000'000;
  auto engine = CreateEngine(o.trace.empty() ? o.accel : std::string("interp"), env, hybrid);
  if (!engine) {
    fmt::print(stderr, "x86vm: {}\n", engine.error().message);
    return kExitFailure;
  }
  Logger("accel")->info("engine {}: {}", engine->vcpu->engine_name(), engine->reason);
  std::unique_ptr<Vcpu>& cpu = engine->vcpu;
  if (Interpreter* interp = engine->interpreter) {
    machine.memory().set_write_observer(
        [interp](uint64_t gpa, uint64_t size) { interp->InvalidateCode(gpa, size); });
    machine.memory().set_map_observer([interp] { interp->MemoryMapChanged(); });
    if (trace) interp->SetTracer(trace.get());
  }
  if (auto r = payload->Load(machine, *cpu); !r) {
    fmt::print(stderr, "x86vm: {}\n", r.error().message);
    return kExitUsage;
  }
  auto load_payload = [&payload](PcMachine& m, Vcpu& vcpu) { return payload->Load(m, vcpu); };

  RunLoopOptions run;
  run.no_reboot = o.no_reboot;
  run.serial_input = serial->get();
  run.after_reset = load_payload;
  uint64_t start_ns = HostMonotonicNs();
  RunOutcome outcome = RunMachine(machine, *cpu, run);
  if (o.stats) PrintStats(*cpu, engine->reason, HostMonotonicNs() - start_ns);
  if (trace) trace->Flush();
  (*serial)->Flush();
  if (debugcon) debugcon->Flush();
  if (!outcome.message.empty()) fmt::print(stderr, "x86vm: {}\n", outcome.message);
  return outcome.exit_status;
}

}  // namespace
}  // namespace x86vm

int main(int argc, char** argv) { return x86vm::Main(argc, argv); }
