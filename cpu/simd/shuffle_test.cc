// Packs, unpacks, shuffles, blends and lane moves against the host CPU, every
// immediate for the immediate forms.
#include "cpu/simd/shuffle.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "cpu/simd/insert_extract.h"
#include "cpu/simd/pack.h"
#include "cpu/simd/test_support.h"

namespace x86vm::simd {
namespace {

using test_support::CheckMmx;
using test_support::CheckMmxImm;
using test_support::CheckXmm;
using test_support::CheckXmmImm;
using test_support::Hex;
using test_support::MakeImmTable;
using test_support::MmxBinary;
using test_support::Operands;
using test_support::XmmBinary;

class HostShuffleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test_support::HostHasSse42())
      GTEST_SKIP() << "host lacks SSSE3/SSE4.2";
  }
};

struct XmmCase {
  const char* name;
  XmmBinary product;
  XmmBinary host;
};
struct MmxCase {
  const char* name;
  MmxBinary product;
  MmxBinary host;
};

#define XMM_CASE(fn, insn) \
  XmmCase { #fn, static_cast < XmmBinary>(&fn), X86VM_HOST_XMM(insn) }
#define MMX_CASE(fn, insn) \
  MmxCase { #fn, static_cast < MmxBinary>(&fn), X86VM_HOST_MMX(insn) }
#define XMM_UNARY_CASE(fn, insn)                                              \
  XmmCase {                                                                   \
#fn, [](const Xmm&, const Xmm& b) { return fn(b); }, X86VM_HOST_XMM(insn) \
  }
// PMOVSX/ZX read the low quadword of the source register.
#define XMM_EXTEND_CASE(fn, insn)                                        \
  XmmCase {                                                              \
#fn, [](const Xmm&,                                                  \
            const Xmm& b) { return fn(b.u64(0)); }, X86VM_HOST_XMM(insn) \
  }

TEST_F(HostShuffleTest, PackUnpackXmm) {
  const XmmCase cases[] = {
      XMM_CASE(Packsswb, "packsswb"),
      XMM_CASE(Packssdw, "packssdw"),
      XMM_CASE(Packuswb, "packuswb"),
      XMM_CASE(Packusdw, "packusdw"),
      XMM_CASE(Punpcklbw, "punpcklbw"),
      XMM_CASE(Punpcklwd, "punpcklwd"),
      XMM_CASE(Punpckldq, "punpckldq"),
      XMM_CASE(Punpcklqdq, "punpcklqdq"),
      XMM_CASE(Punpckhbw, "punpckhbw"),
      XMM_CASE(Punpckhwd, "punpckhwd"),
      XMM_CASE(Punpckhdq, "punpckhdq"),
      XMM_CASE(Punpckhqdq, "punpckhqdq"),
      XMM_CASE(Punpckldq, "unpcklps"),
      XMM_CASE(Punpckhdq, "unpckhps"),
      XMM_CASE(Punpcklqdq, "unpcklpd"),
      XMM_CASE(Punpckhqdq, "unpckhpd"),
      XMM_CASE(Pshufb, "pshufb"),
      XMM_UNARY_CASE(Movsldup, "movsldup"),
      XMM_UNARY_CASE(Movshdup, "movshdup"),
      XMM_UNARY_CASE(Movddup, "movddup"),
  };
  Operands ops(21);
  for (const XmmCase& c : cases) CheckXmm(c.name, c.product, c.host, ops);
}

TEST_F(HostShuffleTest, PackUnpackMmx) {
  const MmxCase cases[] = {
      MMX_CASE(Packsswb, "packsswb"),   MMX_CASE(Packssdw, "packssdw"),
      MMX_CASE(Packuswb, "packuswb"),   MMX_CASE(Punpcklbw, "punpcklbw"),
      MMX_CASE(Punpcklwd, "punpcklwd"), MMX_CASE(Punpckldq, "punpckldq"),
      MMX_CASE(Punpckhbw, "punpckhbw"), MMX_CASE(Punpckhwd, "punpckhwd"),
      MMX_CASE(Punpckhdq, "punpckhdq"), MMX_CASE(Pshufb, "pshufb"),
  };
  Operands ops(22);
  for (const MmxCase& c : cases) CheckMmx(c.name, c.product, c.host, ops);
}

TEST_F(HostShuffleTest, ExtendingMoves) {
  const XmmCase cases[] = {
      XMM_EXTEND_CASE(Pmovsxbw, "pmovsxbw"),
      XMM_EXTEND_CASE(Pmovsxbd, "pmovsxbd"),
      XMM_EXTEND_CASE(Pmovsxbq, "pmovsxbq"),
      XMM_EXTEND_CASE(Pmovsxwd, "pmovsxwd"),
      XMM_EXTEND_CASE(Pmovsxwq, "pmovsxwq"),
      XMM_EXTEND_CASE(Pmovsxdq, "pmovsxdq"),
      XMM_EXTEND_CASE(Pmovzxbw, "pmovzxbw"),
      XMM_EXTEND_CASE(Pmovzxbd, "pmovzxbd"),
      XMM_EXTEND_CASE(Pmovzxbq, "pmovzxbq"),
      XMM_EXTEND_CASE(Pmovzxwd, "pmovzxwd"),
      XMM_EXTEND_CASE(Pmovzxwq, "pmovzxwq"),
      XMM_EXTEND_CASE(Pmovzxdq, "pmovzxdq"),
  };
  Operands ops(23);
  for (const XmmCase& c : cases) CheckXmm(c.name, c.product, c.host, ops);
}

X86VM_HOST_XMM_IMM(HostPshufd, "pshufd");
X86VM_HOST_XMM_IMM(HostPshufhw, "pshufhw");
X86VM_HOST_XMM_IMM(HostPshuflw, "pshuflw");
X86VM_HOST_MMX_IMM(HostPshufw, "pshufw");
X86VM_HOST_XMM_IMM(HostShufps, "shufps");
X86VM_HOST_XMM_IMM(HostShufpd, "shufpd");
X86VM_HOST_XMM_IMM(HostPblendw, "pblendw");
X86VM_HOST_XMM_IMM(HostBlendps, "blendps");
X86VM_HOST_XMM_IMM(HostBlendpd, "blendpd");
X86VM_HOST_XMM_IMM(HostInsertps, "insertps");

TEST_F(HostShuffleTest, ShufflesAndBlendsEveryImmediate) {
  Operands ops(24);
  CheckXmmImm(
      "Pshufd",
      [](const Xmm&, const Xmm& b, uint8_t imm) { return Pshufd(b, imm); },
      MakeImmTable<XmmBinary, HostPshufd>(), ops, 16);
  CheckXmmImm(
      "Pshufhw",
      [](const Xmm&, const Xmm& b, uint8_t imm) { return Pshufhw(b, imm); },
      MakeImmTable<XmmBinary, HostPshufhw>(), ops, 16);
  CheckXmmImm(
      "Pshuflw",
      [](const Xmm&, const Xmm& b, uint8_t imm) { return Pshuflw(b, imm); },
      MakeImmTable<XmmBinary, HostPshuflw>(), ops, 16);
  CheckMmxImm(
      "Pshufw",
      [](uint64_t, uint64_t b, uint8_t imm) { return Pshufw(b, imm); },
      MakeImmTable<MmxBinary, HostPshufw>(), ops, 16);
  CheckXmmImm("Shufps", &Shufps, MakeImmTable<XmmBinary, HostShufps>(), ops,
              16);
  CheckXmmImm("Shufpd", &Shufpd, MakeImmTable<XmmBinary, HostShufpd>(), ops,
              16);
  CheckXmmImm("Pblendw", &Pblendw, MakeImmTable<XmmBinary, HostPblendw>(), ops,
              16);
  CheckXmmImm("Blendps", &Blendps, MakeImmTable<XmmBinary, HostBlendps>(), ops,
              16);
  CheckXmmImm("Blendpd", &Blendpd, MakeImmTable<XmmBinary, HostBlendpd>(), ops,
              16);
  // The register form takes its source dword from imm[7:6].
  CheckXmmImm(
      "Insertps",
      [](const Xmm& a, const Xmm& b, uint8_t imm) {
        return Insertps(a, b.u32(imm >> 6), imm);
      },
      MakeImmTable<XmmBinary, HostInsertps>(), ops, 16);
}

// PBLENDVB/BLENDVPS/BLENDVPD take their mask from the implicit XMM0.
#define HOST_BLENDV(insn)                                                  \
  [](const Xmm& a, const Xmm& b, const Xmm& mask) {                        \
    Xmm r;                                                                 \
    asm volatile(                                                          \
        "movdqu %[mask], %%xmm0\n\tmovdqu %[a], %%xmm1\n\tmovdqu %[b], "   \
        "%%xmm2\n\t" insn " %%xmm0, %%xmm2, %%xmm1\n\tmovdqu %%xmm1, %[r]" \
        : [r] "=m"(r)                                                      \
        : [a] "m"(a), [b] "m"(b), [mask] "m"(mask)                         \
        : "xmm0", "xmm1", "xmm2");                                         \
    return r;                                                              \
  }

TEST_F(HostShuffleTest, VariableBlends) {
  using Blend = Xmm (*)(const Xmm&, const Xmm&, const Xmm&);
  struct Case {
    const char* name;
    Blend product;
    Blend host;
  };
  const Case cases[] = {
      {"Pblendvb", &Pblendvb, HOST_BLENDV("pblendvb")},
      {"Blendvps", &Blendvps, HOST_BLENDV("blendvps")},
      {"Blendvpd", &Blendvpd, HOST_BLENDV("blendvpd")},
  };
  Operands ops(25);
  for (const Case& c : cases) {
    for (int i = 0; i < test_support::kIterations; ++i) {
      const Xmm a = ops.NextXmm();
      const Xmm b = ops.NextXmm();
      const Xmm mask = ops.NextXmm();
      ASSERT_EQ(Hex(c.product(a, b, mask)), Hex(c.host(a, b, mask)))
          << c.name << " a=" << Hex(a) << " b=" << Hex(b)
          << " mask=" << Hex(mask);
    }
  }
}

// Extracts into a general register: the host result is returned in the low
// quadword of an Xmm so the imm tables can hold it. %k/%q name the 32/64-bit
// register.
#define HOST_EXTRACT(Name, insn, reg)                                      \
  template <int kImm>                                                      \
  struct Name {                                                            \
    static Xmm Run(const Xmm&, const Xmm& b) {                             \
      uint64_t out = 0xdeadbeefdeadbeef;                                   \
      asm volatile("movdqu %[b], %%xmm1\n\t" insn " %[imm], %%xmm1, %" reg \
                   "[out]"                                                 \
                   : [out] "+r"(out)                                       \
                   : [b] "m"(b), [imm] "i"(kImm)                           \
                   : "xmm1");                                              \
      return Xmm::FromU64(out, 0);                                         \
    }                                                                      \
  }

// Inserts from a general register holding the low quadword of b.
#define HOST_INSERT(Name, insn, reg)                                 \
  template <int kImm>                                                \
  struct Name {                                                      \
    static Xmm Run(const Xmm& a, const Xmm& b) {                     \
      Xmm r;                                                         \
      const uint64_t value = b.u64(0);                               \
      asm volatile("movdqu %[a], %%xmm0\n\t" insn " %[imm], %" reg   \
                   "[value], %%xmm0\n\tmovdqu %%xmm0, %[r]"          \
                   : [r] "=m"(r)                                     \
                   : [a] "m"(a), [value] "r"(value), [imm] "i"(kImm) \
                   : "xmm0");                                        \
      return r;                                                      \
    }                                                                \
  }

HOST_EXTRACT(HostPextrb, "pextrb", "k");
HOST_EXTRACT(HostPextrw, "pextrw", "k");
HOST_EXTRACT(HostPextrd, "pextrd", "k");
HOST_EXTRACT(HostPextrq, "pextrq", "q");
HOST_EXTRACT(HostExtractps, "extractps", "k");
HOST_INSERT(HostPinsrb, "pinsrb", "k");
HOST_INSERT(HostPinsrw, "pinsrw", "k");
HOST_INSERT(HostPinsrd, "pinsrd", "k");
HOST_INSERT(HostPinsrq, "pinsrq", "q");

template <int kImm>
struct HostMmxPextrw {
  static uint64_t Run(uint64_t, uint64_t b) {
    uint64_t out = 0xdeadbeefdeadbeef;
    asm volatile("movq %[b], %%mm1\n\tpextrw %[imm], %%mm1, %k[out]\n\temms"
                 : [out] "+r"(out)
                 : [b] "m"(b), [imm] "i"(kImm)
                 : "mm1");
    return out;
  }
};

template <int kImm>
struct HostMmxPinsrw {
  static uint64_t Run(uint64_t a, uint64_t b) {
    uint64_t r;
    asm volatile(
        "movq %[a], %%mm0\n\tpinsrw %[imm], %k[b], %%mm0\n\tmovq %%mm0, "
        "%[r]\n\temms"
        : [r] "=m"(r)
        : [a] "m"(a), [b] "r"(b), [imm] "i"(kImm)
        : "mm0");
    return r;
  }
};

TEST_F(HostShuffleTest, InsertExtractEveryImmediate) {
  Operands ops(26);
  // Writes to a 32-bit register clear bits 63:32, so the products'
  // zero-extended values must match the whole host register.
  CheckXmmImm(
      "Pextrb",
      [](const Xmm&, const Xmm& b, uint8_t imm) {
        return Xmm::FromU64(Pextrb(b, imm), 0);
      },
      MakeImmTable<XmmBinary, HostPextrb>(), ops, 8);
  CheckXmmImm(
      "Pextrw",
      [](const Xmm&, const Xmm& b, uint8_t imm) {
        return Xmm::FromU64(Pextrw(b, imm), 0);
      },
      MakeImmTable<XmmBinary, HostPextrw>(), ops, 8);
  CheckXmmImm(
      "Pextrd",
      [](const Xmm&, const Xmm& b, uint8_t imm) {
        return Xmm::FromU64(Pextrd(b, imm), 0);
      },
      MakeImmTable<XmmBinary, HostPextrd>(), ops, 8);
  CheckXmmImm(
      "Pextrq",
      [](const Xmm&, const Xmm& b, uint8_t imm) {
        return Xmm::FromU64(Pextrq(b, imm), 0);
      },
      MakeImmTable<XmmBinary, HostPextrq>(), ops, 8);
  CheckXmmImm(
      "Extractps",
      [](const Xmm&, const Xmm& b, uint8_t imm) {
        return Xmm::FromU64(Extractps(b, imm), 0);
      },
      MakeImmTable<XmmBinary, HostExtractps>(), ops, 8);
  CheckXmmImm(
      "Pinsrb",
      [](const Xmm& a, const Xmm& b, uint8_t imm) {
        return Pinsrb(a, static_cast<uint8_t>(b.u64(0)), imm);
      },
      MakeImmTable<XmmBinary, HostPinsrb>(), ops, 8);
  CheckXmmImm(
      "Pinsrw",
      [](const Xmm& a, const Xmm& b, uint8_t imm) {
        return Pinsrw(a, static_cast<uint16_t>(b.u64(0)), imm);
      },
      MakeImmTable<XmmBinary, HostPinsrw>(), ops, 8);
  CheckXmmImm(
      "Pinsrd",
      [](const Xmm& a, const Xmm& b, uint8_t imm) {
        return Pinsrd(a, static_cast<uint32_t>(b.u64(0)), imm);
      },
      MakeImmTable<XmmBinary, HostPinsrd>(), ops, 8);
  CheckXmmImm(
      "Pinsrq",
      [](const Xmm& a, const Xmm& b, uint8_t imm) {
        return Pinsrq(a, b.u64(0), imm);
      },
      MakeImmTable<XmmBinary, HostPinsrq>(), ops, 8);
  CheckMmxImm(
      "Pextrw",
      [](uint64_t, uint64_t b, uint8_t imm) {
        return uint64_t{Pextrw(b, imm)};
      },
      MakeImmTable<MmxBinary, HostMmxPextrw>(), ops, 8);
  CheckMmxImm(
      "Pinsrw",
      [](uint64_t a, uint64_t b, uint8_t imm) {
        return Pinsrw(a, static_cast<uint16_t>(b), imm);
      },
      MakeImmTable<MmxBinary, HostMmxPinsrw>(), ops, 8);
}

TEST(SimdShuffleFixed, KnownValues) {
  const Xmm x = Xmm::FromU64(0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL);
  EXPECT_EQ(Pshufd(x, 0x1b),
            Xmm::FromU64(0x0b0a09080f0e0d0cULL, 0x0302010007060504ULL));
  EXPECT_EQ(Pshufb(x, Xmm::FromU64(0x80ff0f0e'00000001ULL, 0)).u64(0),
            0x00000f0e'00000001ULL);
  EXPECT_EQ(Packuswb(Xmm::FromU64(0x0100'00ff'8000'7fffULL, 0), Xmm{}).u64(0),
            0x00000000'ffff00ffULL);
  EXPECT_EQ(Pmovsxbw(0x80ff017f).u64(0), 0xff80'ffff'0001'007fULL);
  EXPECT_EQ(Insertps(x, 0xaabbccdd, 0x21),
            Xmm::FromU64(0x0706050400000000ULL, 0x0f0e0d0caabbccddULL));
}

}  // namespace
}  // namespace x86vm::simd
