// ALU results and flags against values computed by hand from the SDM
// definitions (and, for undefined flags, the documented choice in alu.h).
#include "cpu/alu.h"

#include <gtest/gtest.h>

namespace x86vm::alu {
namespace {

constexpr uint64_t CF = flags::kCf, PF = flags::kPf, AF = flags::kAf, ZF = flags::kZf,
                   SF = flags::kSf, OF = flags::kOf;

uint64_t Status(uint64_t fl) { return fl & flags::kStatus; }

TEST(AluTest, AddFlags) {
  uint64_t fl = 0;
  EXPECT_EQ(Add<uint8_t>(0xff, 1, false, fl), 0);
  EXPECT_EQ(Status(fl), CF | PF | AF | ZF);
  fl = 0;
  EXPECT_EQ(Add<uint8_t>(0x7f, 1, false, fl), 0x80);
  EXPECT_EQ(Status(fl), SF | OF | AF);
  fl = 0;
  EXPECT_EQ(Add<uint32_t>(0x80000000u, 0x80000000u, false, fl), 0u);
  EXPECT_EQ(Status(fl), CF | OF | ZF | PF);
  fl = 0;
  EXPECT_EQ(Add<uint16_t>(0xfffe, 1, true, fl), 0);  // ADC with carry in.
  EXPECT_EQ(Status(fl), CF | ZF | PF | AF);
}

TEST(AluTest, SubFlags) {
  uint64_t fl = 0;
  EXPECT_EQ(Sub<uint8_t>(0, 1, false, fl), 0xff);
  EXPECT_EQ(Status(fl), CF | SF | PF | AF);
  fl = 0;
  EXPECT_EQ(Sub<uint8_t>(0x80, 1, false, fl), 0x7f);
  EXPECT_EQ(Status(fl), OF | AF);
  fl = 0;
  EXPECT_EQ(Sub<uint64_t>(5, 5, false, fl), 0u);
  EXPECT_EQ(Status(fl), ZF | PF);
  fl = 0;
  EXPECT_EQ(Sub<uint32_t>(0, 0, true, fl), 0xffffffffu);  // SBB borrow in.
  EXPECT_EQ(Status(fl), CF | SF | PF | AF);
}

// The flags of every 8-bit ADD/ADC/SUB/SBB against the SDM definitions
// evaluated with wide integer arithmetic (not the bit identities of alu.h).
uint64_t ReferenceSzp(unsigned r) {
  unsigned ones = 0;
  for (unsigned v = r & 0xff; v != 0; v >>= 1) ones += v & 1;
  return (r == 0 ? ZF : 0) | ((r & 0x80) ? SF : 0) | (ones % 2 == 0 ? PF : 0);
}

TEST(AluTest, AddSubFlagsExhaustive8) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (int c = 0; c < 2; ++c) {
        int sa = static_cast<int8_t>(a), sb = static_cast<int8_t>(b);
        uint64_t fl = 0;
        unsigned sum = static_cast<unsigned>(a + b + c) & 0xff;
        ASSERT_EQ(Add<uint8_t>(static_cast<uint8_t>(a), static_cast<uint8_t>(b), c != 0, fl), sum);
        uint64_t want = (a + b + c > 0xff ? CF : 0) | ((a & 0xf) + (b & 0xf) + c > 0xf ? AF : 0) |
                        (sa + sb + c > 127 || sa + sb + c < -128 ? OF : 0) | ReferenceSzp(sum);
        ASSERT_EQ(Status(fl), want) << a << "+" << b << "+" << c;
        fl = 0;
        unsigned diff = static_cast<unsigned>(a - b - c) & 0xff;
        ASSERT_EQ(Sub<uint8_t>(static_cast<uint8_t>(a), static_cast<uint8_t>(b), c != 0, fl), diff);
        want = (a - b - c < 0 ? CF : 0) | ((a & 0xf) - (b & 0xf) - c < 0 ? AF : 0) |
               (sa - sb - c > 127 || sa - sb - c < -128 ? OF : 0) | ReferenceSzp(diff);
        ASSERT_EQ(Status(fl), want) << a << "-" << b << "-" << c;
      }
    }
  }
}

// AluLive computes the live flags exactly as Alu does and leaves the others
// as they were: every operation, both carry-ins, every byte pair, and 64-bit
// edge values, for each live set ElideDeadFlags uses and for single flags.
template <typename T, uint64_t kLive>
void ExpectLiveMatchesAlu(T a, T b) {
  for (uint64_t before : {uint64_t{0x2}, uint64_t{0x2} | flags::kStatus, uint64_t{0x2} | CF}) {
    for (int op = 0; op < 8; ++op) {
      uint64_t full = before, live = before;
      T want = Alu<T>(static_cast<AluOp>(op), a, b, full);
      ASSERT_EQ((AluLive<T, kLive>(static_cast<AluOp>(op), a, b, live)), want) << op;
      ASSERT_EQ(live & kLive, full & kLive) << "op " << op << " a " << uint64_t{a} << " b " << uint64_t{b};
      ASSERT_EQ(live & ~kLive, before & ~kLive) << "op " << op;
    }
  }
}

template <uint64_t kLive>
void ExpectLiveMatchesAluEverywhere() {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) ExpectLiveMatchesAlu<uint8_t, kLive>(static_cast<uint8_t>(a), static_cast<uint8_t>(b));
  }
  const uint64_t edges[] = {0, 1, 0x7f, 0x80, 0xffffffff, 0x7fffffffffffffff, 0x8000000000000000, ~0ull, 0x123456789abcdef0};
  for (uint64_t a : edges) {
    for (uint64_t b : edges) {
      ExpectLiveMatchesAlu<uint64_t, kLive>(a, b);
      ExpectLiveMatchesAlu<uint32_t, kLive>(static_cast<uint32_t>(a), static_cast<uint32_t>(b));
    }
  }
}

TEST(AluTest, AluLiveMatchesAluOnLiveFlags) {
  ExpectLiveMatchesAluEverywhere<CF>();
  ExpectLiveMatchesAluEverywhere<ZF>();
  ExpectLiveMatchesAluEverywhere<AF>();
  ExpectLiveMatchesAluEverywhere<OF | SF>();
  ExpectLiveMatchesAluEverywhere<PF>();
  ExpectLiveMatchesAluEverywhere<0>();
}

// 64-bit carries and borrows at the edges, with and without a carry in.
TEST(AluTest, AddSubCarryEdges64) {
  constexpr uint64_t kMax = ~0ull;
  uint64_t fl = 0;
  EXPECT_EQ(Add<uint64_t>(kMax, 0, true, fl), 0u);
  EXPECT_EQ(Status(fl) & CF, CF);
  EXPECT_EQ(Add<uint64_t>(kMax, 0, false, fl), kMax);
  EXPECT_EQ(Status(fl) & CF, 0u);
  EXPECT_EQ(Add<uint64_t>(kMax, kMax, true, fl), kMax);
  EXPECT_EQ(Status(fl) & CF, CF);
  EXPECT_EQ(Sub<uint64_t>(5, 5, true, fl), kMax);
  EXPECT_EQ(Status(fl) & CF, CF);
  EXPECT_EQ(Sub<uint64_t>(5, 4, true, fl), 0u);
  EXPECT_EQ(Status(fl) & CF, 0u);
  EXPECT_EQ(Sub<uint64_t>(0, kMax, false, fl), 1u);
  EXPECT_EQ(Status(fl) & CF, CF);
}

TEST(AluTest, IncDecKeepCarry) {
  uint64_t fl = CF;
  EXPECT_EQ(Inc<uint8_t>(0x7f, fl), 0x80);
  EXPECT_EQ(Status(fl), CF | SF | OF | AF);
  fl = 0;
  EXPECT_EQ(Dec<uint16_t>(0, fl), 0xffff);
  EXPECT_EQ(Status(fl), SF | PF | AF);
}

TEST(AluTest, NegAndLogic) {
  uint64_t fl = 0;
  EXPECT_EQ(Neg<uint8_t>(0, fl), 0);
  EXPECT_EQ(Status(fl), ZF | PF);
  EXPECT_EQ(Neg<uint8_t>(0x80, fl), 0x80);
  EXPECT_EQ(Status(fl), CF | SF | OF);
  fl = CF | OF | AF;
  EXPECT_EQ(Logic<uint8_t>(0x03, fl), 0x03);
  EXPECT_EQ(Status(fl), PF);
}

TEST(AluTest, ShiftsAndRotates) {
  uint64_t fl = 0;
  EXPECT_EQ(Shift<uint8_t>(ShiftOp::kShl, 0x81, 1, fl), 0x02);
  EXPECT_EQ(Status(fl), CF | OF);  // OF = MSB(result) ^ CF = 0 ^ 1.
  fl = 0;
  EXPECT_EQ(Shift<uint8_t>(ShiftOp::kShr, 0x81, 1, fl), 0x40);
  EXPECT_EQ(Status(fl), CF | OF);  // OF = MSB(original).
  fl = 0;
  EXPECT_EQ(Shift<uint8_t>(ShiftOp::kSar, 0x81, 1, fl), 0xc0);
  EXPECT_EQ(Status(fl), CF | SF | PF);
  // A masked count of zero changes nothing, flags included.
  fl = CF | ZF;
  EXPECT_EQ(Shift<uint32_t>(ShiftOp::kShl, 0x1234, 32, fl), 0x1234u);
  EXPECT_EQ(fl, CF | ZF);
  // 64-bit counts mask to 6 bits.
  fl = 0;
  EXPECT_EQ(Shift<uint64_t>(ShiftOp::kShl, 1, 63, fl), 1ull << 63);
  fl = 0;
  EXPECT_EQ(Shift<uint8_t>(ShiftOp::kRol, 0x81, 1, fl), 0x03);
  EXPECT_EQ(Status(fl), CF | OF);  // OF = MSB(result) ^ CF.
  fl = 0;
  EXPECT_EQ(Shift<uint8_t>(ShiftOp::kRor, 0x01, 1, fl), 0x80);
  EXPECT_EQ(Status(fl), CF | OF);
  // RCL through carry: 9-bit rotate for bytes.
  fl = CF;
  EXPECT_EQ(Shift<uint8_t>(ShiftOp::kRcl, 0x80, 1, fl), 0x01);
  EXPECT_EQ(Status(fl), CF | OF);
  fl = 0;
  EXPECT_EQ(Shift<uint8_t>(ShiftOp::kRcl, 0x01, 9, fl), 0x01);  // 9 mod 9 = 0
  fl = CF;
  EXPECT_EQ(Shift<uint8_t>(ShiftOp::kRcr, 0x01, 1, fl), 0x80);
  EXPECT_EQ(Status(fl), CF | OF);
  // 8-bit SHL by 8: everything shifted out, CF = old bit 0.
  fl = 0;
  EXPECT_EQ(Shift<uint8_t>(ShiftOp::kShl, 0x01, 8, fl), 0);
  EXPECT_TRUE(fl & CF);
}

TEST(AluTest, DoubleShifts) {
  uint64_t fl = 0;
  EXPECT_EQ(Shld<uint32_t>(0x12345678u, 0x9abcdef0u, 8, fl), 0x3456789au);
  EXPECT_FALSE(fl & CF);
  fl = 0;
  EXPECT_EQ(Shrd<uint32_t>(0x12345678u, 0x9abcdef0u, 8, fl), 0xf0123456u);
  EXPECT_EQ(fl & CF, 0u);  // Bit 7 of 0x78 is 0.
  fl = 0;
  EXPECT_EQ(Shld<uint16_t>(0x1234, 0x5678, 4, fl), 0x2345);
}

TEST(AluTest, MultiplyAndDivide) {
  uint64_t fl = 0;
  auto w = Mul<uint8_t>(0x10, 0x10, fl);
  EXPECT_EQ(w.lo, 0);
  EXPECT_EQ(w.hi, 1);
  EXPECT_EQ(fl & (CF | OF), CF | OF);
  fl = 0;
  auto m = Imul<uint16_t>(static_cast<uint16_t>(-2), 3, fl);
  EXPECT_EQ(m.lo, static_cast<uint16_t>(-6));
  EXPECT_EQ(m.hi, 0xffff);
  EXPECT_EQ(fl & (CF | OF), 0u);
  auto q = MulU64(~0ull, ~0ull);
  EXPECT_EQ(q.lo, 1u);
  EXPECT_EQ(q.hi, ~0ull - 1);
  EXPECT_FALSE(Div<uint8_t>(1, 0, 1).ok);  // 0x100 / 1 overflows.
  auto d = Div<uint32_t>(0, 7000, 7);
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.quotient, 1000u);
  auto id = Idiv<uint8_t>(0xff, static_cast<uint8_t>(-7), 2);  // -7 / 2
  EXPECT_TRUE(id.ok);
  EXPECT_EQ(static_cast<int8_t>(id.quotient), -3);
  EXPECT_EQ(static_cast<int8_t>(id.remainder), -1);
  EXPECT_FALSE(Idiv<uint8_t>(0xff, 0x80, 0xff).ok);  // -128 / -1
  EXPECT_FALSE(Idiv<uint64_t>(1ull << 63, 0, ~0ull).ok);
  EXPECT_FALSE(Div<uint64_t>(0, 1, 0).ok);
}

}  // namespace
}  // namespace x86vm::alu
