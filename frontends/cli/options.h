// The x86vm command line. Option names are fixed: scripts and later work rely
// on them. Parsing only checks syntax and files; what the machine can do with
// the options is decided when it is built.
#ifndef X86VM_FRONTENDS_CLI_OPTIONS_H_
#define X86VM_FRONTENDS_CLI_OPTIONS_H_

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace x86vm {

// One --disk PATH[,readonly].
struct DiskOption {
  std::string path;
  bool read_only = false;
};

// One --trace-range: linear RIP addresses [start, end).
struct AddressRange {
  uint64_t start = 0;
  uint64_t end = 0;
};

// Everything the command line can say.
struct Options {
  uint64_t memory_bytes = 512ull << 20;
  std::string accel = "auto";        // interp | kvm | auto | hybrid
  uint64_t accel_swap_ms = 0;        // --accel-swap-ms N (hybrid): forced handovers
  std::string bios = "builtin";      // builtin | seabios | ovmf | none | PATH
  std::string kernel;                // --kernel PATH
  std::string initrd;                // --initrd PATH[,PATH...]
  std::string append;                // --append STRING
  std::vector<DiskOption> disks;     // --disk, repeatable
  std::string serial = "stdio";      // stdio | file:PATH | none
  std::string display = "none";      // none | sdl
  std::string debugcon;              // stdio | file:PATH; empty: off
  std::optional<uint16_t> exit_port; // --exit-port PORT
  std::string clock = "realtime";    // realtime | deterministic
  bool no_reboot = false;
  bool stats = false;                // --stats: engine figures at exit
  std::string log = "warn";          // --log SPEC
  std::string trace;                 // --trace FILE; empty: no trace
  std::vector<AddressRange> trace_ranges;  // --trace-range, repeatable
  uint64_t trace_skip = 0;           // --trace-skip N
  std::optional<uint64_t> trace_limit;  // --trace-limit N
  bool help = false;
  bool version = false;
};

// What went wrong on the command line; exit status 2.
struct UsageError {
  std::string message;  // One line, naming the option or file.
};

// Parses argv (without argv[0]). Checks syntax, numbers, sizes, and that files
// named by --bios PATH, --kernel, --initrd and --disk exist and are readable.
std::expected<Options, UsageError> ParseOptions(const std::vector<std::string>& args);

// The --help text.
std::string HelpText();

// The --version line.
std::string VersionText();

}  // namespace x86vm

#endif  // X86VM_FRONTENDS_CLI_OPTIONS_H_
