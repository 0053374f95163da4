// Host-side errors as values: every layer returns Result<T> instead of throwing
// (STYLE.md: host errors are returned, not thrown across layers).
#ifndef X86VM_BASE_STATUS_H_
#define X86VM_BASE_STATUS_H_

#include <expected>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace x86vm {

// A host error: one line a user can act on (names the file, option or offset).
struct Error {
  std::string message;
};

// Either a value or an Error. Result<> carries no value.
template <typename T = void>
using Result = std::expected<T, Error>;

// Builds the error side of a Result with an fmt-style message.
template <typename... Args>
std::unexpected<Error> Fail(fmt::format_string<Args...> format, Args&&... args) {
  return std::unexpected<Error>(
      Error{fmt::format(format, std::forward<Args>(args)...)});
}

}  // namespace x86vm

#endif  // X86VM_BASE_STATUS_H_
