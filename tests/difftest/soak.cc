// Long differential runs: KVM at ring 3 against Unicorn in 64-bit mode (or
// Unicorn alone in another mode as a smoke run), with a seed to reproduce.
//   bazel run -c opt //tests/difftest:soak -- --cases 1000000 --seed 7
// Flags: --cases N, --seed S, --only SUBSTRING, --insns MAX, --reports K,
//        --per-template (one template per case, every template in turn),
//        --no-faults, --no-nans, --no-ftz-daz, --misaligned-sse,
//        --exclude SUBSTRING (repeatable), --strict (include the cases where
//        Unicorn is known to be wrong), --list (print the template names and exit).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/difftest/agreement.h"
#include "tests/difftest/case_generator.h"
#include "tests/difftest/kvm_ring3_oracle.h"
#include "tests/difftest/unicorn_oracle.h"

namespace x86vm::difftest {
namespace {

int Main(int argc, char** argv) {
  uint64_t cases = 100000;
  uint64_t seed = 1;
  int reports = 10;
  GenOptions gen;
  // By default, stay clear of Unicorn's known deviations (README.md); --strict
  // generates them too.
  gen.mode = DiffMode::kLong64;
  gen.avoid_unicorn_deviations = true;
  gen.nan_inputs = false;
  gen.denormal_modes = false;
  bool list = false;
  bool strict = false;
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
      gen.avoid_unicorn_deviations = false;
      gen.nan_inputs = true;
      gen.denormal_modes = true;
    } else if (arg == "--no-nans") {
      gen.nan_inputs = false;
    } else if (arg == "--no-ftz-daz") {
      gen.denormal_modes = false;
    } else if (arg == "--misaligned-sse") {
      gen.misaligned_sse = true;
    } else if (arg == "--no-faults") {
      gen.allow_faults = false;
    } else if (arg == "--list") {
      list = true;
    } else {
      fprintf(stderr, "soak: unknown flag %s\n", arg.c_str());
      return 2;
    }
  }
  auto kvm = KvmRing3Oracle::Create();
  if (!kvm) {
    fprintf(stderr, "soak: KVM oracle unavailable: %s\n", kvm.error().message.c_str());
    return 1;
  }
  UnicornOracle unicorn;
  gen.features = (*kvm)->features() & unicorn.features();
  CaseGenerator generator(seed, gen);
  if (list) {
    for (const std::string& n : generator.TemplateNames()) printf("%s\n", n.c_str());
    return 0;
  }
  AgreementOptions options;
  options.cases = cases;
  options.max_reports = reports;
  options.compare.compare_error_code = false;  // Unicorn's hooks do not report error codes.
  options.compare.mxcsr_ignore = 0x3f;          // Unicorn does not set MXCSR exception flags.
  options.compare.nan_lanes_equal = !strict;     // Unicorn picks the wrong NaN.
  const auto start = std::chrono::steady_clock::now();
  AgreementStats stats = RunAgreement(**kvm, unicorn, generator, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const std::string& r : stats.error_reports) printf("%s\n", r.c_str());
  for (const std::string& r : stats.reports) printf("%s\n", r.c_str());
  printf("seed %llu: %llu cases, %llu agreed (%llu faulted), %llu mismatched, errors kvm %llu unicorn %llu, "
         "%.1f s, %.0f cases/s\n",
         static_cast<unsigned long long>(seed), static_cast<unsigned long long>(stats.cases),
         static_cast<unsigned long long>(stats.agreed), static_cast<unsigned long long>(stats.faulted),
         static_cast<unsigned long long>(stats.mismatched), static_cast<unsigned long long>(stats.errors_a),
         static_cast<unsigned long long>(stats.errors_b), seconds, static_cast<double>(stats.cases) / seconds);
  for (const auto& [name, n] : stats.mismatches_by_template) {
    printf("  %6llu mismatches starting with %s\n", static_cast<unsigned long long>(n), name.c_str());
  }
  return stats.mismatched == 0 && stats.errors_a == 0 && stats.errors_b == 0 ? 0 : 1;
}

}  // namespace
}  // namespace x86vm::difftest

int main(int argc, char** argv) { return x86vm::difftest::Main(argc, argv); }
