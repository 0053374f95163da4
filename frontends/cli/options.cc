#include "frontends/cli/options.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <functional>
#include <map>

#include <fmt/format.h>

#include "base/log.h"
#include "base/parse.h"
#include "frontends/chardev.h"

namespace x86vm {
namespace {

std::unexpected<UsageError> Usage(std::string message) {
  return std::unexpected(UsageError{std::move(message)});
}

// A file named on the command line must exist and be readable now, so the
// user hears about a typo before anything starts.
std::optional<UsageError> CheckReadable(std::string_view option, const std::string& path) {
  if (path.empty()) return UsageError{fmt::format("{}: empty file name", option)};
  if (access(path.c_str(), R_OK) != 0) {
    return UsageError{fmt::format("{}: cannot read '{}': {}", option, path,
                                  std::strerror(errno))};
  }
  return std::nullopt;
}

std::optional<UsageError> CheckOneOf(std::string_view option, const std::string& value,
                                     std::initializer_list<std::string_view> allowed) {
  for (std::string_view a : allowed) {
    if (value == a) return std::nullopt;
  }
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  return UsageError{fmt::format("{}: '{}' is not one of {}", option, value, list)};
}

// stdio | none | file:PATH, checked by the backend's own parser.
std::optional<UsageError> CheckCharSpec(std::string_view option, const std::string& value) {
  if (auto spec = ParseCharSpec(option, value); !spec) return UsageError{spec.error().message};
  return std::nullopt;
}

// START-END (END exclusive) or START+SIZE, each a number.
std::optional<UsageError> ParseRange(const std::string& value, AddressRange& out) {
  size_t sep = value.find_first_of("-+");
  auto bad = [&](std::string_view why) {
    return UsageError{fmt::format("--trace-range: '{}' {} (START-END or START+SIZE)", value, why)};
  };
  if (sep == std::string::npos) return bad("is not a range");
  auto start = ParseNumber(std::string_view(value).substr(0, sep));
  auto second = ParseNumber(std::string_view(value).substr(sep + 1));
  if (!start || !second) return bad("has a malformed number");
  uint64_t end = value[sep] == '+' ? *start + *second : *second;
  if (end <= *start) return bad("is empty");
  out = {*start, end};
  return std::nullopt;
}

}  // namespace

std::expected<Options, UsageError> ParseOptions(const std::vector<std::string>& args) {
  Options o;
  using Handler = std::function<std::optional<UsageError>(const std::string&)>;
  // Options that take a value; each handler validates and stores it.
  const std::map<std::string, Handler, std::less<>> with_value = {
      {"--memory",
       [&](const std::string& v) -> std::optional<UsageError> {
         auto size = ParseSize(v);
         if (!size) return UsageError{"--memory: " + size.error().message};
         if (*size < (1ull << 20) || *size % 4096 != 0) {
           return UsageError{fmt::format("--memory: '{}' must be at least 1M and a multiple of 4K", v)};
         }
         o.memory_bytes = *size;
         return std::nullopt;
       }},
      {"--accel",
       [&](const std::string& v) {
         o.accel = v;
         return CheckOneOf("--accel", v, {"interp", "kvm", "auto", "hybrid"});
       }},
      {"--accel-swap-ms",
       [&](const std::string& v) -> std::optional<UsageError> {
         auto n = ParseNumber(v);
         if (!n || *n == 0 || *n > 3'600'000) {
           return UsageError{
               fmt::format("--accel-swap-ms: '{}' is not a number of ms (1-3600000)", v)};
         }
         o.accel_swap_ms = *n;
         return std::nullopt;
       }},
      {"--bios",
       [&](const std::string& v) -> std::optional<UsageError> {
         o.bios = v;
         if (v == "builtin" || v == "seabios" || v == "ovmf" || v == "none") return std::nullopt;
         return CheckReadable("--bios", v);
       }},
      {"--kernel",
       [&](const std::string& v) {
         o.kernel = v;
         return CheckReadable("--kernel", v);
       }},
      {"--initrd",
       [&](const std::string& v) -> std::optional<UsageError> {
         o.initrd = v;
         size_t start = 0;
         while (start <= v.size()) {
           size_t comma = v.find(',', start);
           std::string path = v.substr(start, comma == std::string::npos ? std::string::npos
                                                                         : comma - start);
           if (auto e = CheckReadable("--initrd", path)) return e;
           if (comma == std::string::npos) break;
           start = comma + 1;
         }
         return std::nullopt;
       }},
      {"--append",
       [&](const std::string& v) {
         o.append = v;
         return std::optional<UsageError>();
       }},
      {"--disk",
       [&](const std::string& v) -> std::optional<UsageError> {
         DiskOption d;
         size_t comma = v.find(',');
         d.path = v.substr(0, comma);
         if (comma != std::string::npos) {
           std::string flags = v.substr(comma + 1);
           if (flags != "readonly") {
             return UsageError{fmt::format("--disk: unknown flag '{}' (only 'readonly')", flags)};
           }
           d.read_only = true;
         }
         if (auto e = CheckReadable("--disk", d.path)) return e;
         if (!d.read_only && access(d.path.c_str(), W_OK) != 0) {
           return UsageError{fmt::format(
               "--disk: '{}' is not writable (add ,readonly to use it read-only)", d.path)};
         }
         o.disks.push_back(d);
         return std::nullopt;
       }},
      {"--serial",
       [&](const std::string& v) {
         o.serial = v;
         return CheckCharSpec("--serial", v);
       }},
      {"--display",
       [&](const std::string& v) {
         o.display = v;
         return CheckOneOf("--display", v, {"none", "sdl"});
       }},
      {"--debugcon",
       [&](const std::string& v) {
         o.debugcon = v;
         return CheckCharSpec("--debugcon", v);
       }},
      {"--exit-port",
       [&](const std::string& v) -> std::optional<UsageError> {
         auto n = ParseNumber(v);
         if (!n || *n > 0xffff) {
           return UsageError{fmt::format("--exit-port: '{}' is not a port number (0-0xffff)", v)};
         }
         o.exit_port = static_cast<uint16_t>(*n);
         return std::nullopt;
       }},
      {"--clock",
       [&](const std::string& v) {
         o.clock = v;
         return CheckOneOf("--clock", v, {"realtime", "deterministic"});
       }},
      {"--trace",
       [&](const std::string& v) -> std::optional<UsageError> {
         if (v.empty()) return UsageError{"--trace: empty file name"};
         o.trace = v;
         return std::nullopt;
       }},
      {"--trace-range",
       [&](const std::string& v) -> std::optional<UsageError> {
         AddressRange r;
         if (auto e = ParseRange(v, r)) return e;
         o.trace_ranges.push_back(r);
         return std::nullopt;
       }},
      {"--trace-skip",
       [&](const std::string& v) -> std::optional<UsageError> {
         auto n = ParseNumber(v);
         if (!n) return UsageError{fmt::format("--trace-skip: '{}' is not a number", v)};
         o.trace_skip = *n;
         return std::nullopt;
       }},
      {"--trace-limit",
       [&](const std::string& v) -> std::optional<UsageError> {
         auto n = ParseNumber(v);
         if (!n || *n == 0) {
           return UsageError{fmt::format("--trace-limit: '{}' is not a positive number", v)};
         }
         o.trace_limit = *n;
         return std::nullopt;
       }},
      {"--log",
       [&](const std::string& v) -> std::optional<UsageError> {
         o.log = v;
         if (auto r = ConfigureLogging(v); !r) return UsageError{r.error().message};
         return std::nullopt;
       }},
  };
  const std::map<std::string, bool*, std::less<>> flags = {
      {"--no-reboot", &o.no_reboot},
      {"--stats", &o.stats},
      {"--help", &o.help},
      {"-h", &o.help},
      {"--version", &o.version},
  };

  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::optional<std::string> value;
    if (size_t eq = name.find('='); name.starts_with("--") && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (auto f = flags.find(name); f != flags.end()) {
      if (value) return Usage(fmt::format("{}: takes no value", name));
      *f->second = true;
      continue;
    }
    auto h = with_value.find(name);
    if (h == with_value.end()) {
      return Usage(fmt::format("unknown option '{}' (see --help)", args[i]));
    }
    if (!value) {
      if (i + 1 >= args.size()) return Usage(fmt::format("{}: missing value", name));
      value = args[++i];
    }
    if (auto e = h->second(*value)) return std::unexpected(*e);
  }
  if (o.accel_swap_ms != 0 && o.accel != "hybrid") {
    return Usage("--accel-swap-ms needs --accel hybrid");
  }
  if (o.trace.empty() && (!o.trace_ranges.empty() || o.trace_skip != 0 || o.trace_limit)) {
    return Usage("--trace-range, --trace-skip and --trace-limit need --trace FILE");
  }
  return o;
}

std::string HelpText() {
  return R"(Usage: x86vm [OPTIONS]
A PC emulator and virtual machine monitor.

Machine:
  --memory SIZE          guest RAM, e.g. 512M, 2G (a bare number is MiB; default 512M)
  --accel ENGINE         interp | kvm | auto (default auto); developer: hybrid (KVM,
                         the interpreter for what KVM cannot run, no speed check)
  --accel-swap-ms N      with --accel hybrid: also swap engines every N ms of guest
                         time (tests that handovers are exact)
  --bios FIRMWARE        builtin | seabios | ovmf | none | PATH (default builtin)
  --clock MODE           realtime | deterministic (guest time follows executed
                         instructions; two runs with the same input are identical)
  --no-reboot            exit instead of resetting on a triple fault or reset request
Boot:
  --kernel PATH          boot a Linux bzImage (or PVH/multiboot kernel) directly
  --initrd PATH[,PATH]   initial ramdisk (several: multiboot modules)
  --append STRING        kernel command line
  --disk PATH[,readonly] a raw disk image (repeatable)
Console and devices:
  --serial BACKEND       COM1: stdio | file:PATH | none (default stdio; Ctrl-A x quits)
  --display MODE         none | sdl (default none)
  --debugcon BACKEND     bytes written to ports 0x402/0xE9: stdio | file:PATH | none
  --exit-port PORT       a write of V to PORT exits with status (V<<1)|1
Diagnostics:
  --stats                print at exit: engine, time and guest instructions per engine,
                         handovers between engines, KVM exits by reason
  --log SPEC             log levels: LEVEL or COMPONENT=LEVEL,... (trace debug info
                         warn error off; default warn). Components: pio mmio pic pit
                         rtc com1 i8042 pci fw_cfg lapic ioapic acpi_pm machine
  --trace FILE           write every executed instruction to FILE: CS:RIP, linear
                         address, bytes, disassembly, changed registers, and a
                         "---" line per exception or interrupt (runs the interpreter)
  --trace-range START-END  trace only RIPs whose linear address is in [START, END)
                         (or START+SIZE); repeatable
  --trace-skip N         start the trace after N (in-range) instructions; lines are
                         numbered, so a number seen in one trace is a skip for the next
  --trace-limit N        stop tracing after N instructions (then full speed)
  --help                 this text
  --version              the version

Numbers accept decimal or 0x-prefixed hex. Bad options exit with status 2.
)";
}

std::string VersionText() { return "x86vm 0.1.0"; }

}  // namespace x86vm
