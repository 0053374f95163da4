#include "base/parse.h"

namespace x86vm {

Result<uint64_t> ParseNumber(std::string_view text) {
  uint64_t base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty()) return Fail("'' is not a number");
  uint64_t value = 0;
  for (char ch : text) {
    uint64_t digit;
    if (ch >= '0' && ch <= '9') {
      digit = static_cast<uint64_t>(ch - '0');
    } else if (base == 16 && ch >= 'a' && ch <= 'f') {
      digit = static_cast<uint64_t>(ch - 'a' + 10);
    } else if (base == 16 && ch >= 'A' && ch <= 'F') {
      digit = static_cast<uint64_t>(ch - 'A' + 10);
    } else {
      return Fail("'{}' is not a number", text);
    }
    if (value > (UINT64_MAX - digit) / base) return Fail("'{}' is too large", text);
    value = value * base + digit;
  }
  return value;
}

Result<uint64_t> ParseSize(std::string_view text) {
  std::string_view digits = text;
  uint64_t shift = 20;  // A bare number is MiB.
  for (std::string_view suffix : {"iB", "B"}) {
    if (digits.size() > suffix.size() + 1 && digits.ends_with(suffix)) {
      digits.remove_suffix(suffix.size());
      break;
    }
  }
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'k': case 'K': shift = 10; digits.remove_suffix(1); break;
      case 'm': case 'M': shift = 20; digits.remove_suffix(1); break;
      case 'g': case 'G': shift = 30; digits.remove_suffix(1); break;
      case 't': case 'T': shift = 40; digits.remove_suffix(1); break;
      default: break;
    }
  }
  auto n = ParseNumber(digits);
  if (!n) return Fail("'{}' is not a size (examples: 512M, 2G, 0x20000000K)", text);
  if (*n > (UINT64_MAX >> shift)) return Fail("size '{}' is too large", text);
  return *n << shift;
}

}  // namespace x86vm
