// lazy_flags.h against alu.h: for every operation the specialized handlers
// record lazily (ADD/ADC, SUB/SBB/CMP, AND/OR/XOR/TEST, INC/DEC), the six
// status flags decoded from the lazy words, and every condition code
// evaluated on them, must equal what the eager functions compute. Bytes are
// checked exhaustively (all operand pairs, both carries in); wider sizes on
// edge values and random operands.
#include "cpu/lazy_flags.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "cpu/alu.h"
#include "cpu/exec_common.h"

namespace x86vm {
namespace {

using alu::AluOp;

// The lazy words for one operation, as exec_fast.cc's LazyAlu forms them.
template <typename T>
void LazyWords(AluOp op, T a, T b, bool carry_in, uint64_t& res, uint64_t& aux, T& r) {
  switch (op) {
    case AluOp::kAdd:
    case AluOp::kAdc:
      r = static_cast<T>(a + b + (op == AluOp::kAdc && carry_in ? 1 : 0));
      aux = lazy::AddAux<T>(a, b, r);
      break;
    case AluOp::kSub:
    case AluOp::kSbb:
    case AluOp::kCmp:
      r = static_cast<T>(a - b - (op == AluOp::kSbb && carry_in ? 1 : 0));
      aux = lazy::SubAux<T>(a, b, r);
      break;
    case AluOp::kOr: r = static_cast<T>(a | b); aux = 0; break;
    case AluOp::kAnd: r = static_cast<T>(a & b); aux = 0; break;
    case AluOp::kXor: r = static_cast<T>(a ^ b); aux = 0; break;
  }
  res = lazy::Res<T>(r);
}

template <int cc>
void ExpectCondition(uint64_t res, uint64_t aux, uint64_t eager, const char* what) {
  ASSERT_EQ(lazy::Condition<cc>(res, aux), Condition(cc, eager)) << what << " cc " << cc;
}

template <int... cc>
void ExpectConditions(uint64_t res, uint64_t aux, uint64_t eager, const char* what,
                      std::integer_sequence<int, cc...>) {
  (ExpectCondition<cc>(res, aux, eager, what), ...);
}

template <typename T>
void CheckAlu(T a, T b, bool carry_in) {
  for (int o = 0; o < 8; ++o) {
    const AluOp op = static_cast<AluOp>(o);
    uint64_t eager = flags::kFixed1 | (carry_in ? flags::kCf : 0);
    const T expected = alu::Alu<T>(op, a, b, eager);
    uint64_t res, aux;
    T r;
    LazyWords<T>(op, a, b, carry_in, res, aux, r);
    if (op != AluOp::kCmp) {
      ASSERT_EQ(r, expected) << "op " << o;
    }
    ASSERT_EQ(lazy::StatusBits(res, aux), eager & flags::kStatus)
        << "op " << o << " a " << +a << " b " << +b << " carry " << carry_in;
    ExpectConditions(res, aux, eager, "alu", std::make_integer_sequence<int, 16>());
  }
  // INC/DEC keep CF (the carry in plays the old CF).
  for (bool inc : {true, false}) {
    uint64_t eager = flags::kFixed1 | (carry_in ? flags::kCf : 0);
    const T expected = inc ? alu::Inc<T>(a, eager) : alu::Dec<T>(a, eager);
    const T r = static_cast<T>(inc ? a + 1 : a - 1);
    ASSERT_EQ(r, expected);
    const uint64_t aux =
        lazy::KeepCf(inc ? lazy::AddAux<T>(a, 1, r) : lazy::SubAux<T>(a, 1, r), carry_in);
    ASSERT_EQ(lazy::StatusBits(lazy::Res<T>(r), aux), eager & flags::kStatus)
        << (inc ? "inc " : "dec ") << +a << " cf " << carry_in;
  }
}

TEST(LazyFlags, BytesExhaustively) {
  for (unsigned a = 0; a < 256; ++a) {
    for (unsigned b = 0; b < 256; ++b) {
      for (bool carry : {false, true}) {
        CheckAlu<uint8_t>(static_cast<uint8_t>(a), static_cast<uint8_t>(b), carry);
        if (HasFatalFailure()) return;
      }
    }
  }
}

template <typename T>
void CheckWide() {
  std::vector<T> edges;
  for (T v : {T{0}, T{1}, T{2}, T{0xf}, T{0x10}, alu::kSign<T>, static_cast<T>(alu::kSign<T> - 1),
              static_cast<T>(alu::kSign<T> + 1), static_cast<T>(~T{0}), static_cast<T>(~T{0} - 1)}) {
    edges.push_back(v);
  }
  std::mt19937_64 rng(sizeof(T));
  for (int k = 0; k < 200; ++k) edges.push_back(static_cast<T>(rng()));
  for (T a : edges) {
    for (T b : edges) {
      for (bool carry : {false, true}) {
        CheckAlu<T>(a, b, carry);
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }
}

TEST(LazyFlags, WordsDwordsQwords) {
  CheckWide<uint16_t>();
  CheckWide<uint32_t>();
  CheckWide<uint64_t>();
}

}  // namespace
}  // namespace x86vm
