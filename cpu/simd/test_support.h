// Test-only helpers for cpu/simd: random operands biased towards edge values,
// printing, and the host CPU as oracle (inline asm, x86-64 hosts only).
#ifndef X86VM_CPU_SIMD_TEST_SUPPORT_H_
#define X86VM_CPU_SIMD_TEST_SUPPORT_H_

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <utility>

#include "cpu/simd/xmm.h"

namespace x86vm::simd::test_support {

// Random operands reproducible from a fixed seed.
class Operands {
 public:
  explicit Operands(uint64_t seed) : rng_(seed) {}

  uint64_t Next() { return rng_(); }
  // Uniform in [0, n).
  uint64_t Below(uint64_t n) { return rng_() % n; }

  // An XMM value: uniform bytes, or lanes of one width drawn mostly from the
  // values where saturation, sign and carries change behaviour.
  Xmm NextXmm() {
    Xmm x;
    switch (Below(7)) {
      case 0:
      case 1:
        for (int i = 0; i < 2; ++i) x.set_u64(i, Next());
        break;
      case 2: {
        static constexpr uint8_t kBytes[] = {0,    1,    2,    0x7e, 0x7f,
                                             0x80, 0x81, 0xfe, 0xff};
        for (int i = 0; i < 16; ++i) {
          x.set_u8(i, Below(4) == 0 ? static_cast<uint8_t>(Next())
                                    : kBytes[Below(9)]);
        }
        break;
      }
      case 3: {
        static constexpr uint16_t kWords[] = {
            0,      1,      2,      0x7f,   0x80,   0xff,
            0x100,  0x7ffe, 0x7fff, 0x8000, 0x8001, 0xfffe,
            0xffff, 0x4000, 0xc000, 0xff80, 0xff7f};
        for (int i = 0; i < 8; ++i) {
          x.set_u16(i, Below(4) == 0 ? static_cast<uint16_t>(Next())
                                     : kWords[Below(17)]);
        }
        break;
      }
      case 4: {
        static constexpr uint32_t kDwords[] = {
            0,          1,          0x7fff,     0x8000,
            0xffff,     0x10000,    0x7fffffff, 0x80000000,
            0x80000001, 0xfffffffe, 0xffffffff, 0xffff8000};
        for (int i = 0; i < 4; ++i) {
          x.set_u32(i, Below(4) == 0 ? static_cast<uint32_t>(Next())
                                     : kDwords[Below(12)]);
        }
        break;
      }
      case 5: {
        static constexpr uint64_t kQwords[] = {0,
                                               1,
                                               ~uint64_t{0},
                                               uint64_t{1} << 63,
                                               (uint64_t{1} << 63) - 1,
                                               0xffffffff,
                                               0x80000000,
                                               0xffffffff80000000};
        for (int i = 0; i < 2; ++i)
          x.set_u64(i, Below(3) == 0 ? Next() : kQwords[Below(8)]);
        break;
      }
      default:
        // Small values: equal lanes and ties become common.
        for (int i = 0; i < 16; ++i)
          x.set_u8(i, static_cast<uint8_t>(Below(3)));
        break;
    }
    return x;
  }

  // A second operand related to the first often enough to hit equality.
  Xmm NextPartner(const Xmm& first) {
    switch (Below(8)) {
      case 0:
        return first;
      case 1: {
        Xmm x = first;
        x.set_u8(static_cast<int>(Below(16)), static_cast<uint8_t>(Next()));
        return x;
      }
      default:
        return NextXmm();
    }
  }

  // A pair of operands.
  std::pair<Xmm, Xmm> NextPair() {
    Xmm a = NextXmm();
    Xmm b = NextPartner(a);
    return {a, b};
  }

 private:
  std::mt19937_64 rng_;
};

// Hex of an XMM value, most significant byte first (as debuggers show it).
inline std::string Hex(const Xmm& x) {
  return fmt::format("{:016x}_{:016x}", x.u64(1), x.u64(0));
}

// True when the host can serve as the oracle for everything tested here.
inline bool HostHasSse42() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("ssse3");
#else
  return false;
#endif
}

// Iterations of each random comparison.
inline constexpr int kIterations = 4000;

// A table of 256 function pointers, entry i being Make<i> of a generator.
// Host instructions with an immediate need one asm statement per imm value.
template <typename Fn, template <int> class Make, size_t... kImm>
constexpr std::array<Fn, 256> MakeImmTableImpl(std::index_sequence<kImm...>) {
  return {&Make<static_cast<int>(kImm)>::Run...};
}
template <typename Fn, template <int> class Make>
constexpr std::array<Fn, 256> MakeImmTable() {
  return MakeImmTableImpl<Fn, Make>(std::make_index_sequence<256>());
}

// Two-operand forms (a = destination, b = source); one-operand
// instructions ignore a.
using XmmBinary = Xmm (*)(const Xmm& a, const Xmm& b);
using MmxBinary = uint64_t (*)(uint64_t a, uint64_t b);
// The product side of an instruction with an immediate.
using XmmBinaryImm = Xmm (*)(const Xmm& a, const Xmm& b, uint8_t imm);
using MmxBinaryImm = uint64_t (*)(uint64_t a, uint64_t b, uint8_t imm);

// Compares product and host on random XMM pairs; stops after a few reports.
inline void CheckXmm(const char* name, XmmBinary product, XmmBinary host,
                     Operands& ops, int iterations = kIterations) {
  int failures = 0;
  for (int i = 0; i < iterations && failures < 3; ++i) {
    auto [a, b] = ops.NextPair();
    const Xmm want = host(a, b);
    const Xmm got = product(a, b);
    if (want != got) {
      ++failures;
      ADD_FAILURE() << name << " a=" << Hex(a) << " b=" << Hex(b)
                    << " host=" << Hex(want) << " ours=" << Hex(got);
    }
  }
}

// Compares product and host on random MMX pairs (the low halves of XMM pairs).
inline void CheckMmx(const char* name, MmxBinary product, MmxBinary host,
                     Operands& ops, int iterations = kIterations) {
  int failures = 0;
  for (int i = 0; i < iterations && failures < 3; ++i) {
    auto [xa, xb] = ops.NextPair();
    const uint64_t a = xa.u64(ops.Below(2));
    const uint64_t b = xb.u64(ops.Below(2));
    const uint64_t want = host(a, b);
    const uint64_t got = product(a, b);
    if (want != got) {
      ++failures;
      ADD_FAILURE() << name
                    << fmt::format(
                           " a={:016x} b={:016x} host={:016x} ours={:016x}", a,
                           b, want, got);
    }
  }
}

// Every imm value against its host instantiation, on random pairs.
inline void CheckXmmImm(const char* name, XmmBinaryImm product,
                        const std::array<XmmBinary, 256>& host, Operands& ops,
                        int iterations_per_imm = 40) {
  int failures = 0;
  for (int imm = 0; imm < 256; ++imm) {
    for (int i = 0; i < iterations_per_imm && failures < 3; ++i) {
      auto [a, b] = ops.NextPair();
      const Xmm want = host[imm](a, b);
      const Xmm got = product(a, b, static_cast<uint8_t>(imm));
      if (want != got) {
        ++failures;
        ADD_FAILURE() << name << " imm=" << imm << " a=" << Hex(a)
                      << " b=" << Hex(b) << " host=" << Hex(want)
                      << " ours=" << Hex(got);
      }
    }
  }
}

// Every imm value of an MMX instruction against its host instantiation.
inline void CheckMmxImm(const char* name, MmxBinaryImm product,
                        const std::array<MmxBinary, 256>& host, Operands& ops,
                        int iterations_per_imm = 40) {
  int failures = 0;
  for (int imm = 0; imm < 256; ++imm) {
    for (int i = 0; i < iterations_per_imm && failures < 3; ++i) {
      const uint64_t a = ops.NextXmm().u64(0);
      const uint64_t b = ops.Below(8) == 0 ? a : ops.NextXmm().u64(1);
      const uint64_t want = host[imm](a, b);
      const uint64_t got = product(a, b, static_cast<uint8_t>(imm));
      if (want != got) {
        ++failures;
        ADD_FAILURE() << name << " imm=" << imm
                      << fmt::format(
                             " a={:016x} b={:016x} host={:016x} ours={:016x}",
                             a, b, want, got);
      }
    }
  }
}

}  // namespace x86vm::simd::test_support

// Host oracles. Each runs one instruction with xmm0 = a and xmm1 = b (mm0 and
// mm1 for MMX) in AT&T order, i.e. `insn %xmm1, %xmm0`, and returns xmm0.
#define X86VM_HOST_XMM(insn)                                           \
  +[](const ::x86vm::simd::Xmm& a, const ::x86vm::simd::Xmm& b) {                  \
    ::x86vm::simd::Xmm r;                                                    \
    asm volatile("movdqu %[a], %%xmm0\n\tmovdqu %[b], %%xmm1\n\t" insn \
                 " %%xmm1, %%xmm0\n\tmovdqu %%xmm0, %[r]"              \
                 : [r] "=m"(r)                                         \
                 : [a] "m"(a), [b] "m"(b)                              \
                 : "xmm0", "xmm1");                                    \
    return r;                                                          \
  }

#define X86VM_HOST_MMX(insn)                                     \
  +[](uint64_t a, uint64_t b) {                                  \
    uint64_t r;                                                  \
    asm volatile("movq %[a], %%mm0\n\tmovq %[b], %%mm1\n\t" insn \
                 " %%mm1, %%mm0\n\tmovq %%mm0, %[r]\n\temms"     \
                 : [r] "=m"(r)                                   \
                 : [a] "m"(a), [b] "m"(b)                        \
                 : "mm0", "mm1");                                \
    return r;                                                    \
  }

// Declares template <int kImm> struct Name whose Run is `insn $kImm, %xmm1,
// %xmm0`, for MakeImmTable.
#define X86VM_HOST_XMM_IMM(Name, insn)                                      \
  template <int kImm>                                                       \
  struct Name {                                                             \
    static ::x86vm::simd::Xmm Run(const ::x86vm::simd::Xmm& a, const ::x86vm::simd::Xmm& b) { \
      ::x86vm::simd::Xmm r;                                                       \
      asm volatile("movdqu %[a], %%xmm0\n\tmovdqu %[b], %%xmm1\n\t" insn    \
                   " %[imm], %%xmm1, %%xmm0\n\tmovdqu %%xmm0, %[r]"         \
                   : [r] "=m"(r)                                            \
                   : [a] "m"(a), [b] "m"(b), [imm] "i"(kImm)                \
                   : "xmm0", "xmm1");                                       \
      return r;                                                             \
    }                                                                       \
  }

// As X86VM_HOST_XMM_IMM for the one-operand shift form `insn $kImm, %xmm0`.
#define X86VM_HOST_XMM_SHIFT_IMM(Name, insn)                              \
  template <int kImm>                                                     \
  struct Name {                                                           \
    static ::x86vm::simd::Xmm Run(const ::x86vm::simd::Xmm& a, const ::x86vm::simd::Xmm&) { \
      ::x86vm::simd::Xmm r;                                                     \
      asm volatile("movdqu %[a], %%xmm0\n\t" insn                         \
                   " %[imm], %%xmm0\n\tmovdqu %%xmm0, %[r]"               \
                   : [r] "=m"(r)                                          \
                   : [a] "m"(a), [imm] "i"(kImm)                          \
                   : "xmm0");                                             \
      return r;                                                           \
    }                                                                     \
  }

// MMX `insn $kImm, %mm1, %mm0`.
#define X86VM_HOST_MMX_IMM(Name, insn)                                 \
  template <int kImm>                                                  \
  struct Name {                                                        \
    static uint64_t Run(uint64_t a, uint64_t b) {                      \
      uint64_t r;                                                      \
      asm volatile("movq %[a], %%mm0\n\tmovq %[b], %%mm1\n\t" insn     \
                   " %[imm], %%mm1, %%mm0\n\tmovq %%mm0, %[r]\n\temms" \
                   : [r] "=m"(r)                                       \
                   : [a] "m"(a), [b] "m"(b), [imm] "i"(kImm)           \
                   : "mm0", "mm1");                                    \
      return r;                                                        \
    }                                                                  \
  }

// MMX one-operand shift `insn $kImm, %mm0`.
#define X86VM_HOST_MMX_SHIFT_IMM(Name, insn)                    \
  template <int kImm>                                           \
  struct Name {                                                 \
    static uint64_t Run(uint64_t a, uint64_t) {                 \
      uint64_t r;                                               \
      asm volatile("movq %[a], %%mm0\n\t" insn                  \
                   " %[imm], %%mm0\n\tmovq %%mm0, %[r]\n\temms" \
                   : [r] "=m"(r)                                \
                   : [a] "m"(a), [imm] "i"(kImm)                \
                   : "mm0");                                    \
      return r;                                                 \
    }                                                           \
  }

// Reads RFLAGS into the named asm operand after the instruction. The stack
// pointer steps over the red zone first, because pushfq writes below rsp;
// lea leaves the flags alone.
#define X86VM_READ_FLAGS(operand)                           \
  "\n\tlea -128(%%rsp), %%rsp\n\tpushfq\n\tpopq %[" operand \
  "]\n\tlea 128(%%rsp), %%rsp"

#endif  // X86VM_CPU_SIMD_TEST_SUPPORT_H_
