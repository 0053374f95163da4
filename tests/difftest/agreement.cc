#include "tests/difftest/agreement.h"

#include <capstone/capstone.h>
#include <fmt/format.h>

#include <set>

#include "tests/difftest/disasm.h"

namespace x86vm::difftest {
namespace {

// The field names of a diff list ("rax", "rflags", "mem[...]" -> "mem").
std::set<std::string> DiffKeys(const std::vector<std::string>& diffs) {
  std::set<std::string> keys;
  for (const std::string& d : diffs) {
    std::string key = d.substr(0, d.find_first_of(":["));
    // A different exception is a different mismatch.
    if (key == "outcome" || key == "vector") key = d;
    keys.insert(key);
  }
  return keys;
}

// Instruction start offsets of `code`, or empty if Capstone cannot decode it.
std::vector<size_t> InstructionStarts(DiffMode mode, uint64_t addr, const std::vector<uint8_t>& code) {
  std::vector<size_t> starts;
  csh handle;
  const cs_mode cmode = mode == DiffMode::kReal16 ? CS_MODE_16 : mode == DiffMode::kProt32 ? CS_MODE_32 : CS_MODE_64;
  if (cs_open(CS_ARCH_X86, cmode, &handle) != CS_ERR_OK) return starts;
  size_t offset = 0;
  while (offset < code.size()) {
    cs_insn* insn = nullptr;
    const size_t n = cs_disasm(handle, code.data() + offset, code.size() - offset, addr + offset, 1, &insn);
    if (n == 0) {
      starts.clear();
      break;
    }
    starts.push_back(offset);
    offset += insn[0].size;
    cs_free(insn, n);
  }
  cs_close(&handle);
  return starts;
}

// The exception vector of an outcome, -1 for none.
int VectorOf(const DiffOutcome& o) { return o.exception ? o.exception->vector : -1; }

struct Comparison {
  std::vector<std::string> diffs;
  int vector_a;
  int vector_b;
};

// Runs `c` on both engines; the diffs, or nullopt if either engine failed.
std::optional<Comparison> Compare(DiffEngine& a, DiffEngine& b, const DiffCase& c, const CompareOptions& compare) {
  auto ra = a.Run(c);
  auto rb = b.Run(c);
  if (!ra || !rb) return std::nullopt;
  return Comparison{CompareOutcomes(c, *ra, *rb, compare), VectorOf(*ra), VectorOf(*rb)};
}

}  // namespace

DiffCase MinimiseMismatch(DiffEngine& a, DiffEngine& b, const DiffCase& c, const CompareOptions& compare) {
  auto first = Compare(a, b, c, compare);
  if (!first || first->diffs.empty()) return c;
  const std::set<std::string> keys = DiffKeys(first->diffs);
  DiffCase best = c;
  bool progress = true;
  while (progress) {
    progress = false;
    std::vector<size_t> starts = InstructionStarts(best.mode, best.regs.rip, best.code);
    // Try the removals from the front: setup moves go first, then the rest.
    for (size_t i = 0; i < starts.size() && starts.size() > 1; ++i) {
      const size_t begin = starts[i];
      const size_t end = i + 1 < starts.size() ? starts[i + 1] : best.code.size();
      // A Jcc's displacement would point elsewhere once bytes vanish behind it.
      bool has_branch = false;
      for (size_t j = 0; j < i; ++j) {
        const uint8_t op = best.code[starts[j]];
        has_branch |= op >= 0x70 && op <= 0x7f;
      }
      if (has_branch) continue;
      DiffCase trial = best;
      trial.code.erase(trial.code.begin() + static_cast<long>(begin), trial.code.begin() + static_cast<long>(end));
      if (trial.undefined_flags_at.size() >= end) {
        trial.undefined_flags_at.erase(trial.undefined_flags_at.begin() + static_cast<long>(begin),
                                       trial.undefined_flags_at.begin() + static_cast<long>(end));
      }
      auto diffs = Compare(a, b, trial, compare);
      // The same fields must differ, with the same exceptions on each side.
      if (!diffs || diffs->diffs.empty() || DiffKeys(diffs->diffs) != keys || diffs->vector_a != first->vector_a ||
          diffs->vector_b != first->vector_b) {
        continue;
      }
      best = std::move(trial);
      progress = true;
      break;
    }
  }
  return best;
}

std::string MismatchReport(DiffEngine& a, DiffEngine& b, const DiffCase& c, const std::vector<std::string>& diffs) {
  std::string out = fmt::format("--- mismatch {} vs {}\n", a.name(), b.name());
  out += DescribeCase(c);
  for (const std::string& d : diffs) out += fmt::format("  {}\n", d);
  return out;
}

AgreementStats RunAgreement(DiffEngine& a, DiffEngine& b, CaseGenerator& gen, const AgreementOptions& options) {
  AgreementStats stats;
  for (uint64_t i = 0; i < options.cases; ++i) {
    DiffCase c = gen.Next();
    ++stats.cases;
    auto ra = a.Run(c);
    auto rb = b.Run(c);
    if (!ra || !rb) {
      if (!ra) ++stats.errors_a;
      if (!rb) ++stats.errors_b;
      if (stats.error_reports.size() < static_cast<size_t>(options.max_reports)) {
        stats.error_reports.push_back(fmt::format("--- engine error: {}{}\n{}", !ra ? ra.error().message : "",
                                                  !rb ? rb.error().message : "", DescribeCase(c)));
      }
      continue;
    }
    std::vector<std::string> diffs = CompareOutcomes(c, *ra, *rb, options.compare);
    if (diffs.empty()) {
      ++stats.agreed;
      if (ra->exception) ++stats.faulted;
      continue;
    }
    ++stats.mismatched;
    stats.mismatches_by_template[c.note.substr(0, c.note.find(';'))]++;
    if (stats.reports.size() < static_cast<size_t>(options.max_reports)) {
      DiffCase small = options.minimise ? MinimiseMismatch(a, b, c, options.compare) : c;
      auto sa = a.Run(small);
      auto sb = b.Run(small);
      std::vector<std::string> small_diffs = (sa && sb) ? CompareOutcomes(small, *sa, *sb, options.compare) : diffs;
      std::string report = MismatchReport(a, b, small, small_diffs);
      if (small.code != c.code) {
        // Minimising can drop a setup that mattered: keep the original listing.
        report += "  original code:\n" + Disassemble(c.mode, c.regs.rip, c.code);
      }
      stats.reports.push_back(std::move(report));
    }
  }
  return stats;
}

}  // namespace x86vm::difftest
