// Long differential runs between two engines, with a seed to reproduce.
//   bazel run -c opt //tests/difftest:soak -- --cases 1000000 --seed 7
//       KVM at ring 3 against Unicorn (64-bit), the oracles' agreement.
//   bazel run -c opt //tests/difftest:soak -- --engine interp --cases 1000000
//       the interpreter against KVM at ring 3 (64-bit; the default oracle).
//   bazel run -c opt //tests/difftest:soak -- --engine interp --mode prot32
//       the interpreter against Unicorn (real16/prot32 only run there).
// Flags: --engine interp|kvm (engine A, default kvm), --oracle kvm|unicorn
//        (engine B; default unicorn for --engine kvm, else kvm in long64 and
//        unicorn in the other modes), --mode long64|prot32|real16,
//        --cases N, --seed S, --only SUBSTRING, --exclude SUBSTRING
//        (repeatable), --insns MAX, --reports K, --per-template (one template
//        per case, every template in turn), --no-faults, --no-nans,
//        --no-ftz-daz, --misaligned-sse, --strict (against Unicorn: include
//        the cases where Unicorn is known to be wrong), --coverage (print
//        which opcode-table rows the cases exercised, and the missed ones),
//        --list (print the template names and exit).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "tests/difftest/agreement.h"
#include "tests/difftest/case_generator.h"
#include "tests/difftest/interpreter_engine.h"
#include "tests/difftest/kvm_ring3_oracle.h"
#include "tests/difftest/opcode_coverage.h"
#include "tests/difftest/unicorn_oracle.h"

namespace x86vm::difftest {
namespace {

// Wraps an engine and records the opcode rows of every case it runs.
class CoverageEngine : public DiffEngine {
 public:
  CoverageEngine(DiffEngine& inner, OpcodeCoverage& coverage) : inner_(inner), coverage_(coverage) {}
  const char* name() const override { return inner_.name(); }
  bool Supports(DiffMode mode) const override { return inner_.Supports(mode); }
  uint32_t features() const override { return inner_.features(); }
  Result<DiffOutcome> Run(const DiffCase& c) override {
    coverage_.Add(c);  // Minimised reproducers count again; they add no rows.
    return inner_.Run(c);
  }

 private:
  DiffEngine& inner_;
  OpcodeCoverage& coverage_;
};

Result<std::unique_ptr<DiffEngine>> MakeEngine(const std::string& name) {
  if (name == "interp") {
    auto e = InterpreterEngine::Create();
    if (!e) return std::unexpected(e.error());
    return std::unique_ptr<DiffEngine>(std::move(*e));
  }
  if (name == "kvm") {
    auto e = KvmRing3Oracle::Create();
    if (!e) return std::unexpected(e.error());
    return std::unique_ptr<DiffEngine>(std::move(*e));
  }
  if (name == "unicorn") return std::unique_ptr<DiffEngine>(std::make_unique<UnicornOracle>());
  return Fail("unknown engine '{}' (interp, kvm, unicorn)", name);
}

int Main(int argc, char** argv) {
  uint64_t cases = 100000;
  uint64_t seed = 1;
  int reports = 10;
  GenOptions gen;
  gen.mode = DiffMode::kLong64;
  std::string engine_a = "kvm";
  std::string engine_b;
  bool list = false;
  bool strict = false;
  bool per_template = false;
  bool coverage = false;
  bool no_nans = false, no_ftz_daz = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        fprintf(stderr, "soak: %s needs a value\n", arg.c_str());
        exit(2);
      }
      return argv[++i];
    };
    if (arg == "--cases") {
      cases = strtoull(value(), nullptr, 0);
    } else if (arg == "--seed") {
      seed = strtoull(value(), nullptr, 0);
    } else if (arg == "--engine") {
      engine_a = value();
    } else if (arg == "--oracle") {
      engine_b = value();
    } else if (arg == "--mode") {
      const std::string m = value();
      if (m == "long64")
        gen.mode = DiffMode::kLong64;
      else if (m == "prot32")
        gen.mode = DiffMode::kProt32;
      else if (m == "real16")
        gen.mode = DiffMode::kReal16;
      else {
        fprintf(stderr, "soak: unknown mode %s (long64, prot32, real16)\n", m.c_str());
        return 2;
      }
    } else if (arg == "--only") {
      gen.only = value();
    } else if (arg == "--exclude") {
      gen.exclude.push_back(value());
    } else if (arg == "--insns") {
      gen.max_insns = atoi(value());
    } else if (arg == "--reports") {
      reports = atoi(value());
    } else if (arg == "--strict") {
      strict = true;
    } else if (arg == "--no-nans") {
      no_nans = true;
    } else if (arg == "--no-ftz-daz") {
      no_ftz_daz = true;
    } else if (arg == "--misaligned-sse") {
      gen.misaligned_sse = true;
    } else if (arg == "--no-faults") {
      gen.allow_faults = false;
    } else if (arg == "--per-template") {
      per_template = true;
    } else if (arg == "--coverage") {
      coverage = true;
    } else if (arg == "--list") {
      list = true;
    } else {
      fprintf(stderr, "soak: unknown flag %s\n", arg.c_str());
      return 2;
    }
  }
  if (engine_b.empty()) {
    engine_b = engine_a == "kvm" || gen.mode != DiffMode::kLong64 ? "unicorn" : "kvm";
  }
  auto a = MakeEngine(engine_a);
  auto b = MakeEngine(engine_b);
  if (!a || !b) {
    fprintf(stderr, "soak: engine unavailable: %s\n", (!a ? a.error() : b.error()).message.c_str());
    return 1;
  }
  for (DiffEngine* e : {a->get(), b->get()}) {
    if (!e->Supports(gen.mode)) {
      fprintf(stderr, "soak: %s cannot run %s cases\n", e->name(), ModeName(gen.mode));
      return 1;
    }
  }

  AgreementOptions options;
  options.cases = cases;
  options.max_reports = reports;
  const bool with_unicorn = engine_a == "unicorn" || engine_b == "unicorn";
  if (with_unicorn && !strict) {
    // Stay clear of Unicorn's known deviations (README.md); --strict
    // generates them too.
    gen.avoid_unicorn_deviations = true;
    gen.nan_inputs = false;
    gen.denormal_modes = false;
    options.compare.nan_lanes_equal = true;  // Unicorn picks the wrong NaN.
  }
  if (with_unicorn) {
    options.compare.compare_error_code = false;  // Unicorn's hooks do not report error codes.
    options.compare.mxcsr_ignore = 0x3f;         // Unicorn does not set MXCSR exception flags.
  }
  if (no_nans) gen.nan_inputs = false;
  uint32_t drop = 0;
  if (with_unicorn && !strict && gen.mode == DiffMode::kReal16) {
    // Unicorn's real-mode SSE is broken (README.md): no SSE there.
    drop = feature::kSse2 | feature::kSse3 | feature::kSsse3 | feature::kSse41 | feature::kSse42;
  }
  if (no_ftz_daz) gen.denormal_modes = false;
  gen.features = (*a)->features() & (*b)->features() & ~drop;

  OpcodeCoverage rows;
  CoverageEngine counted(**a, rows);
  CaseGenerator generator(seed, gen);
  if (list) {
    for (const std::string& n : generator.TemplateNames()) printf("%s\n", n.c_str());
    return 0;
  }

  const auto start = std::chrono::steady_clock::now();
  AgreementStats stats;
  auto merge = [&](const AgreementStats& s) {
    stats.cases += s.cases;
    stats.agreed += s.agreed;
    stats.mismatched += s.mismatched;
    stats.errors_a += s.errors_a;
    stats.errors_b += s.errors_b;
    stats.faulted += s.faulted;
    for (const auto& [name, n] : s.mismatches_by_template) stats.mismatches_by_template[name] += n;
    for (const auto& r : s.reports) {
      if (stats.reports.size() < static_cast<size_t>(reports)) stats.reports.push_back(r);
    }
    for (const auto& r : s.error_reports) {
      if (stats.error_reports.size() < static_cast<size_t>(reports)) stats.error_reports.push_back(r);
    }
  };
  if (per_template) {
    // `cases` cases of every template alone, each with its own seed.
    for (const std::string& name : generator.TemplateNames()) {
      GenOptions one = gen;
      one.only = name;
      one.min_insns = one.max_insns = 1;
      CaseGenerator single(seed ^ std::hash<std::string>{}(name), one);
      AgreementOptions o = options;
      o.max_reports = std::max(0, reports - static_cast<int>(stats.reports.size()));
      merge(RunAgreement(counted, **b, single, o));
    }
  } else {
    merge(RunAgreement(counted, **b, generator, options));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const std::string& r : stats.error_reports) printf("%s\n", r.c_str());
  for (const std::string& r : stats.reports) printf("%s\n", r.c_str());
  printf(
      "%s vs %s, %s, seed %llu: %llu cases, %llu agreed (%llu faulted), %llu mismatched, errors %s %llu %s %llu, "
      "%.1f s, %.0f cases/s\n",
      (*a)->name(), (*b)->name(), ModeName(gen.mode), static_cast<unsigned long long>(seed),
      static_cast<unsigned long long>(stats.cases), static_cast<unsigned long long>(stats.agreed),
      static_cast<unsigned long long>(stats.faulted), static_cast<unsigned long long>(stats.mismatched), (*a)->name(),
      static_cast<unsigned long long>(stats.errors_a), (*b)->name(), static_cast<unsigned long long>(stats.errors_b),
      seconds, static_cast<double>(stats.cases) / seconds);
  for (const auto& [name, n] : stats.mismatches_by_template) {
    printf("  %6llu mismatches starting with %s\n", static_cast<unsigned long long>(n), name.c_str());
  }
  if (coverage) printf("%s", rows.Report(/*list_missed=*/true).c_str());
  return stats.mismatched == 0 && stats.errors_a == 0 && stats.errors_b == 0 ? 0 : 1;
}

}  // namespace
}  // namespace x86vm::difftest

int main(int argc, char** argv) { return x86vm::difftest::Main(argc, argv); }
