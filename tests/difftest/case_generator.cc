#include "tests/difftest/case_generator.h"

#include "tests/difftest/templates.h"

namespace x86vm::difftest {
namespace {

// Single-precision values worth hitting: signed zeros, ones, the extremes,
// denormals, infinities and NaNs (quiet and signalling).
constexpr uint32_t kFloats[] = {0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3f000000, 0x3fc00000,
                                0x40400000, 0x4b800001, 0x7f7fffff, 0xff7fffff, 0x00800000, 0x00000001,
                                0x807fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001,
                                0x7fbfffff, 0x4f000000, 0xcf000000, 0x5f000000, 0x501502f9, 0x3eaaaaab};
// The same for double precision, plus the integer-conversion edges.
constexpr uint64_t kDoubles[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
    0x3fe0000000000000ull, 0x3ff8000000000000ull, 0x7fefffffffffffffull, 0x0010000000000000ull,
    0x0000000000000001ull, 0x800fffffffffffffull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
    0x7ff8000000000000ull, 0xfff8000000000000ull, 0x7ff0000000000001ull, 0x7ff7ffffffffffffull,
    0x41e0000000000000ull, 0xc1e0000000000000ull, 0x41dfffffffc00000ull, 0x43e0000000000000ull,
    0xc3e0000000000000ull, 0x3fd5555555555555ull, 0x36a0000000000000ull, 0x47efffffe0000000ull};

uint64_t Pick(std::mt19937_64& rng, uint64_t n) { return rng() % n; }

// Replaces NaN lanes (single and double view) by ones.
DiffXmm WithoutNans(DiffXmm x) {
  auto fix64 = [](uint64_t v) {
    if (((v >> 52) & 0x7ff) == 0x7ff && (v & 0xfffffffffffffull) != 0) v = 0x3ff0000000000000ull;
    for (int half = 0; half < 2; ++half) {
      const uint32_t f = static_cast<uint32_t>(v >> (32 * half));
      if (((f >> 23) & 0xff) == 0xff && (f & 0x7fffff) != 0) {
        v = (v & ~(0xffffffffull << (32 * half))) | (uint64_t{0x3f800000} << (32 * half));
      }
    }
    return v;
  };
  x.lo = fix64(x.lo);
  x.hi = fix64(x.hi);
  return x;
}

DiffXmm RandomXmm(std::mt19937_64& rng) {
  DiffXmm x;
  switch (Pick(rng, 5)) {
    case 0:
      x.lo = rng();
      x.hi = rng();
      break;
    case 1:  // Four singles.
      for (int i = 0; i < 4; ++i) {
        uint64_t f = Pick(rng, 4) == 0 ? static_cast<uint32_t>(rng()) : kFloats[Pick(rng, std::size(kFloats))];
        (i < 2 ? x.lo : x.hi) |= f << (32 * (i & 1));
      }
      break;
    case 2:  // Two doubles.
      x.lo = Pick(rng, 4) == 0 ? rng() : kDoubles[Pick(rng, std::size(kDoubles))];
      x.hi = Pick(rng, 4) == 0 ? rng() : kDoubles[Pick(rng, std::size(kDoubles))];
      break;
    case 3:  // Small bytes/words (string compares, packs, saturation edges).
      for (int i = 0; i < 16; ++i) {
        uint64_t b = Pick(rng, 3) == 0 ? Pick(rng, 4) : Pick(rng, 2) ? 0x7f + Pick(rng, 3) : 0x41 + Pick(rng, 6);
        (i < 8 ? x.lo : x.hi) |= b << (8 * (i & 7));
      }
      break;
    default:  // Integer boundaries per lane.
      x.lo = Pick(rng, 2) ? 0x7fff80007fffffffull : 0xffffffff00000000ull;
      x.hi = rng() & 0x8000800080008000ull;
      break;
  }
  return x;
}

}  // namespace

CaseGenerator::CaseGenerator(uint64_t seed, GenOptions options) : rng_(seed), options_(std::move(options)) {
  const uint8_t mode_bit = ModeBit(options_.mode);
  for (const Template& t : AllTemplates()) {
    if ((t.modes & mode_bit) == 0) continue;
    if ((t.features & ~options_.features) != 0) continue;
    const std::string_view name(t.name);
    if (!options_.only.empty() && name.find(options_.only) == std::string_view::npos) continue;
    bool excluded = false;
    for (const std::string& e : options_.exclude) excluded |= !e.empty() && name.find(e) != std::string_view::npos;
    if (excluded) continue;
    // Unicorn's PCMPxSTRx and DPPS/DPPD disagree with the hardware (README.md).
    if (options_.avoid_unicorn_deviations &&
        ((name.starts_with("pcmp") && name.find("str") != std::string_view::npos) || name.starts_with("dpp"))) {
      continue;
    }
    enabled_.push_back(&t);
  }
}

CaseGenerator::~CaseGenerator() = default;

std::vector<std::string> CaseGenerator::TemplateNames() const {
  std::vector<std::string> names;
  for (const Template* t : enabled_) names.emplace_back(t->name);
  return names;
}

DiffCase CaseGenerator::NewCase() {
  DiffCase c;
  c.mode = options_.mode;
  const DiffLayout layout = LayoutFor(c.mode);
  c.regs.rip = layout.code_addr;
  GenOptions unused = options_;
  GenCtx g(rng_, unused, c);
  const uint64_t gmask = c.mode == DiffMode::kLong64 ? ~0ull : 0xffffffffull;
  for (int i = 0; i < 16; ++i) c.regs.gpr[i] = i < g.num_gprs() ? g.RandomValue() & gmask : 0;
  c.regs.gpr[kDRsp] = layout.stack_page + 0xf00 - 8 * g.Below(8);
  c.regs.rflags = (rng_() & dflags::kStatus) | dflags::kFixed1;
  if (g.Chance(20)) c.regs.rflags |= dflags::kDf;
  for (int i = 0; i < g.num_gprs(); ++i) {
    c.regs.xmm[i] = RandomXmm(rng_);
    if (!options_.nan_inputs) c.regs.xmm[i] = WithoutNans(c.regs.xmm[i]);
  }
  uint32_t mxcsr = 0x1f80;
  if (g.Chance(25)) mxcsr = (mxcsr & ~0x6000u) | static_cast<uint32_t>(g.Below(4) << 13);  // Rounding.
  if (options_.denormal_modes && g.Chance(10)) mxcsr |= 0x8000;  // FTZ.
  if (options_.denormal_modes && g.Chance(10)) mxcsr |= 0x0040;  // DAZ.
  if (g.Chance(20)) mxcsr |= static_cast<uint32_t>(g.Below(64));  // Sticky exception flags.
  if (options_.unmask_simd_exceptions && g.Chance(10)) mxcsr &= ~(static_cast<uint32_t>(g.Below(64)) << 7);
  c.regs.mxcsr = mxcsr;

  for (uint64_t page : {layout.data_addr, layout.data_addr + kDiffPageBytes, layout.stack_page}) {
    DiffPage p;
    p.vaddr = page;
    for (auto& b : p.bytes) b = static_cast<uint8_t>(rng_());
    // Sprinkle runs of equal and small bytes (string compares, BCD digits).
    for (int k = 0; k < 8; ++k) {
      const size_t at = g.Below(kDiffPageBytes - 64);
      const uint8_t v = g.Chance(50) ? 0 : static_cast<uint8_t>(g.Below(10));
      const size_t run = 16 + g.Below(48);
      for (size_t i = 0; i < run; ++i) p.bytes[at + i] = v;
    }
    c.pages.push_back(std::move(p));
  }
  return c;
}

DiffCase CaseGenerator::Build(const std::vector<const Template*>& picks) {
  DiffCase c = NewCase();
  GenCtx g(rng_, options_, c);
  std::string note;
  for (const Template* t : picks) {
    if (c.code.size() > 3000) break;
    g.ReadFlags(t->read);
    t->emit(g, *t);
    if (!note.empty()) note += "; ";
    note += t->name;
  }
  c.undefined_flags = g.undefined_flags();
  c.note = std::move(note);
  return c;
}

DiffCase CaseGenerator::Next() {
  std::vector<const Template*> picks;
  if (enabled_.empty()) return Build(picks);
  const int span = options_.max_insns - options_.min_insns + 1;
  const int n = options_.min_insns + static_cast<int>(Pick(rng_, span > 0 ? span : 1));
  for (int i = 0; i < n; ++i) picks.push_back(enabled_[Pick(rng_, enabled_.size())]);
  return Build(picks);
}

DiffCase CaseGenerator::ForTemplate(std::string_view name) {
  for (const Template* t : enabled_) {
    if (name == t->name) return Build({t});
  }
  DiffCase c = NewCase();
  c.note = "unknown template";
  return c;
}

}  // namespace x86vm::difftest
