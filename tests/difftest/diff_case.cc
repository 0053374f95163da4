#include "tests/difftest/diff_case.h"

#include <fmt/format.h>

namespace x86vm::difftest {

const char* ModeName(DiffMode mode) {
  switch (mode) {
    case DiffMode::kReal16: return "real16";
    case DiffMode::kProt32: return "prot32";
    case DiffMode::kLong64: return "long64";
  }
  return "?";
}

DiffLayout LayoutFor(DiffMode mode) {
  switch (mode) {
    case DiffMode::kReal16:
      // Segment bases are 0, so everything sits inside the first 64 KiB.
      return DiffLayout{.code_addr = 0x1000, .data_addr = 0x4000, .stack_page = 0x7000};
    case DiffMode::kProt32:
    case DiffMode::kLong64:
      // Below 2 GiB so [disp32] absolute and RIP-relative forms reach the data.
      return DiffLayout{.code_addr = 0x400000, .data_addr = 0x600000, .stack_page = 0x7ff000};
  }
  return {};
}

std::string HexBytes(const std::vector<uint8_t>& bytes) {
  std::string s;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i != 0) s += ' ';
    s += fmt::format("{:02x}", bytes[i]);
  }
  return s;
}

std::string FlagNames(uint64_t value) {
  static constexpr struct {
    uint64_t bit;
    const char* name;
  } kNames[] = {{dflags::kCf, "CF"}, {dflags::kPf, "PF"}, {dflags::kAf, "AF"}, {dflags::kZf, "ZF"},
                {dflags::kSf, "SF"}, {dflags::kDf, "DF"}, {dflags::kOf, "OF"}};
  std::string s;
  for (const auto& n : kNames) {
    if ((value & n.bit) == 0) continue;
    if (!s.empty()) s += ' ';
    s += n.name;
  }
  return s.empty() ? "-" : s;
}

namespace {

const char* const kGprNames[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                   "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

int GprCount(DiffMode mode) { return mode == DiffMode::kLong64 ? 16 : 8; }

bool IsNan32(uint32_t v) { return (v & 0x7f800000u) == 0x7f800000u && (v & 0x7fffffu) != 0; }
bool IsNan64(uint64_t v) {
  return (v & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (v & 0xfffffffffffffull) != 0;
}

// Each 64-bit half equal, or NaN on both sides as a double, or each of its
// 32-bit lanes equal or NaN on both sides as a float.
bool NanLanesEqual(const DiffXmm& a, const DiffXmm& b) {
  auto half = [](uint64_t x, uint64_t y) {
    if (x == y || (IsNan64(x) && IsNan64(y))) return true;
    for (int k = 0; k < 2; ++k) {
      const uint32_t fx = static_cast<uint32_t>(x >> (32 * k));
      const uint32_t fy = static_cast<uint32_t>(y >> (32 * k));
      if (fx != fy && !(IsNan32(fx) && IsNan32(fy))) return false;
    }
    return true;
  };
  return half(a.lo, b.lo) && half(a.hi, b.hi);
}

uint64_t GprMask(DiffMode mode) {
  switch (mode) {
    case DiffMode::kReal16:
      // Real-mode code may still use 32-bit registers through 66h prefixes.
    case DiffMode::kProt32: return 0xffffffffull;
    case DiffMode::kLong64: return ~0ull;
  }
  return ~0ull;
}

}  // namespace

std::vector<std::string> CompareOutcomes(const DiffCase& c, const DiffOutcome& a, const DiffOutcome& b,
                                         const CompareOptions& options) {
  std::vector<std::string> diffs;
  if (a.exception.has_value() != b.exception.has_value()) {
    auto describe = [](const DiffOutcome& o) {
      return o.exception ? fmt::format("exception {}", o.exception->vector) : std::string("no exception");
    };
    diffs.push_back(fmt::format("outcome: {} vs {}", describe(a), describe(b)));
  } else if (a.exception) {
    const DiffException& x = *a.exception;
    const DiffException& y = *b.exception;
    if (x.vector != y.vector) diffs.push_back(fmt::format("vector: {} vs {}", x.vector, y.vector));
    if (options.compare_error_code && x.vector == y.vector &&
        (x.has_error_code != y.has_error_code || x.error_code != y.error_code)) {
      diffs.push_back(fmt::format("error code: {:#x} vs {:#x}", x.error_code, y.error_code));
    }
    if (options.compare_cr2 && x.vector == 14 && y.vector == 14 && x.cr2 != y.cr2) {
      diffs.push_back(fmt::format("cr2: {:#x} vs {:#x}", x.cr2, y.cr2));
    }
  }
  const uint64_t gpr_mask = GprMask(c.mode);
  for (int i = 0; i < GprCount(c.mode); ++i) {
    if ((c.undefined_gprs >> i) & 1) continue;
    uint64_t x = a.regs.gpr[i] & gpr_mask;
    uint64_t y = b.regs.gpr[i] & gpr_mask;
    if (x != y) diffs.push_back(fmt::format("{}: {:#x} vs {:#x}", kGprNames[i], x, y));
  }
  if (a.regs.rip != b.regs.rip) diffs.push_back(fmt::format("rip: {:#x} vs {:#x}", a.regs.rip, b.regs.rip));
  const uint64_t fmask = dflags::kCompared & ~c.UndefinedFlagsAt(a.regs.rip);
  if ((a.regs.rflags & fmask) != (b.regs.rflags & fmask)) {
    diffs.push_back(fmt::format("rflags: {:#x} [{}] vs {:#x} [{}] (differ: {})", a.regs.rflags & fmask,
                                FlagNames(a.regs.rflags & fmask), b.regs.rflags & fmask,
                                FlagNames(b.regs.rflags & fmask),
                                FlagNames((a.regs.rflags ^ b.regs.rflags) & fmask)));
  }
  for (int i = 0; i < GprCount(c.mode); ++i) {
    if (a.regs.xmm[i] != b.regs.xmm[i] &&
        !(options.nan_lanes_equal && NanLanesEqual(a.regs.xmm[i], b.regs.xmm[i]))) {
      diffs.push_back(fmt::format("xmm{}: {:016x}{:016x} vs {:016x}{:016x}", i, a.regs.xmm[i].hi,
                                  a.regs.xmm[i].lo, b.regs.xmm[i].hi, b.regs.xmm[i].lo));
    }
  }
  if (options.compare_mxcsr && ((a.regs.mxcsr ^ b.regs.mxcsr) & ~options.mxcsr_ignore) != 0) {
    diffs.push_back(fmt::format("mxcsr: {:#x} vs {:#x}", a.regs.mxcsr, b.regs.mxcsr));
  }
  if (a.pages.size() != b.pages.size()) {
    diffs.push_back(fmt::format("pages: {} vs {}", a.pages.size(), b.pages.size()));
    return diffs;
  }
  for (size_t p = 0; p < a.pages.size(); ++p) {
    const auto& x = a.pages[p].bytes;
    const auto& y = b.pages[p].bytes;
    int shown = 0;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (x[i] == y[i]) continue;
      if (shown++ < 8) {
        diffs.push_back(fmt::format("mem[{:#x}]: {:#04x} vs {:#04x}", a.pages[p].vaddr + i, x[i], y[i]));
      }
    }
    if (shown > 8) diffs.push_back(fmt::format("... {} more differing bytes", shown - 8));
  }
  return diffs;
}

}  // namespace x86vm::difftest
