// Parsing of numbers and sizes given on the command line.
#ifndef X86VM_BASE_PARSE_H_
#define X86VM_BASE_PARSE_H_

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace x86vm {

// A number in decimal or 0x-prefixed hex. The error names nothing; callers
// add the option name.
Result<uint64_t> ParseNumber(std::string_view text);

// A size in bytes: a number with an optional K, M, G or T suffix (binary
// units, "KiB"/"MiB"... accepted too). A bare number means MiB, as QEMU's -m.
Result<uint64_t> ParseSize(std::string_view text);

}  // namespace x86vm

#endif  // X86VM_BASE_PARSE_H_
