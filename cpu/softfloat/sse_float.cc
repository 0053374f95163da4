// SSE scalar arithmetic, MIN/MAX and comparisons (SDM Vol. 2 ADDSS..UCOMISD;
// NaN rules SDM Vol. 1 Table 4-7, 11.5).
#include "cpu/softfloat/sse_float.h"

#include "cpu/softfloat/sse_internal.h"

namespace x86vm::softfloat {

using internal::Exact;
using internal::F32Format;
using internal::F64Format;
using internal::Kind;
using internal::Unpacked;

namespace {

enum class Op { kAdd, kSub, kMul, kDiv };

// SSE NaN rule: the first operand's NaN wins, quieted; IE for any SNaN.
template <typename F>
typename F::Bits PropagateNaN(const Unpacked& a, const Unpacked& b, FpEnv& env) {
  if (a.IsSignalingNaN() || b.IsSignalingNaN()) env.Raise(kFlagInvalid);
  return F::Quiet(a.IsNaN() ? a : b);
}

template <typename F>
typename F::Bits Arith(Op op, typename F::Bits fa, typename F::Bits fb, FpEnv& env) {
  const Unpacked a = F::Unpack(fa, env.denormals_are_zero);
  const Unpacked b = F::Unpack(fb, env.denormals_are_zero);
  if (a.IsNaN() || b.IsNaN()) return PropagateNaN<F>(a, b, env);
  const bool denormal = a.denormal || b.denormal;
  const bool sign = a.sign != b.sign;
  switch (op) {
    case Op::kAdd:
    case Op::kSub: {
      if (denormal) env.Raise(kFlagDenormal);
      const bool b_sign = b.sign != (op == Op::kSub);
      if (a.IsInfinity() || b.IsInfinity()) {
        if (a.IsInfinity() && b.IsInfinity() && a.sign != b_sign) {
          env.Raise(kFlagInvalid);
          return F::kIndefinite;
        }
        return F::Inf(a.IsInfinity() ? a.sign : b_sign);
      }
      return internal::RoundInto<F>(internal::AddExact(a, b, op == Op::kSub, env.rounding), env);
    }
    case Op::kMul:
      if (denormal) env.Raise(kFlagDenormal);
      if (a.IsInfinity() || b.IsInfinity()) {
        if (a.IsZero() || b.IsZero()) {
          env.Raise(kFlagInvalid);
          return F::kIndefinite;
        }
        return F::Inf(sign);
      }
      if (a.IsZero() || b.IsZero()) return F::Zero(sign);
      return internal::RoundInto<F>(internal::MulExact(a, b), env);
    case Op::kDiv:
      if (denormal && !b.IsZero()) env.Raise(kFlagDenormal);
      if (a.IsInfinity()) {
        if (b.IsInfinity()) {
          env.Raise(kFlagInvalid);
          return F::kIndefinite;
        }
        return F::Inf(sign);
      }
      if (b.IsInfinity()) return F::Zero(sign);
      if (b.IsZero()) {
        if (a.IsZero()) {
          env.Raise(kFlagInvalid);
          return F::kIndefinite;
        }
        env.Raise(kFlagDivideByZero);
        return F::Inf(sign);
      }
      if (a.IsZero()) return F::Zero(sign);
      return internal::RoundInto<F>(internal::DivExact(a, b), env);
  }
  return F::kIndefinite;
}

template <typename F>
typename F::Bits Sqrt(typename F::Bits fa, FpEnv& env) {
  const Unpacked a = F::Unpack(fa, env.denormals_are_zero);
  if (a.IsNaN()) return PropagateNaN<F>(a, a, env);
  if (a.IsZero()) return F::Zero(a.sign);
  if (a.sign) {
    env.Raise(kFlagInvalid);
    return F::kIndefinite;
  }
  if (a.denormal) env.Raise(kFlagDenormal);
  if (a.IsInfinity()) return fa;
  return internal::RoundInto<F>(internal::SqrtExact(a), env);
}

template <typename F>
typename F::Bits MinMax(bool is_max, typename F::Bits fa, typename F::Bits fb, FpEnv& env) {
  const Unpacked a = F::Unpack(fa, env.denormals_are_zero);
  const Unpacked b = F::Unpack(fb, env.denormals_are_zero);
  // SDM Vol. 2 MINSS/MAXSS: a NaN of either kind raises IE and the second
  // operand is returned unchanged; so is it for equal values (+0 vs -0).
  // Under DAZ the returned operand is the zero a denormal was read as.
  const typename F::Bits b_read = b.IsZero() ? F::Zero(b.sign) : fb;
  if (a.IsNaN() || b.IsNaN()) {
    env.Raise(kFlagInvalid);
    return b_read;
  }
  if (a.denormal || b.denormal) env.Raise(kFlagDenormal);
  const CompareResult c = internal::CompareNumbers(a, b);
  const bool take_a = is_max ? c == CompareResult::kGreater : c == CompareResult::kLess;
  if (!take_a) return b_read;
  return a.IsZero() ? F::Zero(a.sign) : fa;
}

template <typename F>
CompareResult Compare(typename F::Bits fa, typename F::Bits fb, bool quiet, FpEnv& env) {
  const Unpacked a = F::Unpack(fa, env.denormals_are_zero);
  const Unpacked b = F::Unpack(fb, env.denormals_are_zero);
  if (a.IsNaN() || b.IsNaN()) {
    if (!quiet || a.IsSignalingNaN() || b.IsSignalingNaN()) env.Raise(kFlagInvalid);
    return CompareResult::kUnordered;
  }
  if (a.denormal || b.denormal) env.Raise(kFlagDenormal);
  return internal::CompareNumbers(a, b);
}

// The 16 base predicates of CMPPS (SDM Vol. 2 Table 3-1): which outcomes make
// the predicate true, and whether it signals on QNaNs. Predicates 16-31 are
// the same relations with the signaling flag inverted.
struct Predicate {
  bool less, equal, greater, unordered, signaling;
};
constexpr Predicate kPredicates[16] = {
    {false, true, false, false, false},   // EQ_OQ
    {true, false, false, false, true},    // LT_OS
    {true, true, false, false, true},     // LE_OS
    {false, false, false, true, false},   // UNORD_Q
    {true, false, true, true, false},     // NEQ_UQ
    {false, true, true, true, true},      // NLT_US
    {false, false, true, true, true},     // NLE_US
    {true, true, true, false, false},     // ORD_Q
    {false, true, false, true, false},    // EQ_UQ
    {true, false, false, true, true},     // NGE_US
    {true, true, false, true, true},      // NGT_US
    {false, false, false, false, false},  // FALSE_OQ
    {true, false, true, false, false},    // NEQ_OQ
    {false, true, true, false, true},     // GE_OS
    {false, false, true, false, true},    // GT_OS
    {true, true, true, true, false},      // TRUE_UQ
};

template <typename F>
bool ComparePredicate(typename F::Bits fa, typename F::Bits fb, uint8_t predicate, FpEnv& env) {
  const Predicate& p = kPredicates[predicate & 15];
  const bool signaling = p.signaling != ((predicate & 16) != 0);
  switch (Compare<F>(fa, fb, !signaling, env)) {
    case CompareResult::kLess:
      return p.less;
    case CompareResult::kEqual:
      return p.equal;
    case CompareResult::kGreater:
      return p.greater;
    case CompareResult::kUnordered:
      return p.unordered;
  }
  return false;
}

}  // namespace

#define X86VM_SSE_BINARY(name, Format, op)                                                      \
  Format::Bits name(Format::Bits a, Format::Bits b, FpEnv& env) {                               \
    return internal::WithLocalFlags(env, [&](FpEnv& e) { return Arith<Format>(op, a, b, e); }); \
  }
X86VM_SSE_BINARY(F32Add, F32Format, Op::kAdd)
X86VM_SSE_BINARY(F32Sub, F32Format, Op::kSub)
X86VM_SSE_BINARY(F32Mul, F32Format, Op::kMul)
X86VM_SSE_BINARY(F32Div, F32Format, Op::kDiv)
X86VM_SSE_BINARY(F64Add, F64Format, Op::kAdd)
X86VM_SSE_BINARY(F64Sub, F64Format, Op::kSub)
X86VM_SSE_BINARY(F64Mul, F64Format, Op::kMul)
X86VM_SSE_BINARY(F64Div, F64Format, Op::kDiv)
#undef X86VM_SSE_BINARY

uint32_t F32Sqrt(uint32_t a, FpEnv& env) {
  return internal::WithLocalFlags(env, [&](FpEnv& e) { return Sqrt<F32Format>(a, e); });
}
uint64_t F64Sqrt(uint64_t a, FpEnv& env) {
  return internal::WithLocalFlags(env, [&](FpEnv& e) { return Sqrt<F64Format>(a, e); });
}

uint32_t F32Min(uint32_t a, uint32_t b, FpEnv& env) { return MinMax<F32Format>(false, a, b, env); }
uint32_t F32Max(uint32_t a, uint32_t b, FpEnv& env) { return MinMax<F32Format>(true, a, b, env); }
uint64_t F64Min(uint64_t a, uint64_t b, FpEnv& env) { return MinMax<F64Format>(false, a, b, env); }
uint64_t F64Max(uint64_t a, uint64_t b, FpEnv& env) { return MinMax<F64Format>(true, a, b, env); }

CompareResult F32Compare(uint32_t a, uint32_t b, bool quiet, FpEnv& env) {
  return Compare<F32Format>(a, b, quiet, env);
}
CompareResult F64Compare(uint64_t a, uint64_t b, bool quiet, FpEnv& env) {
  return Compare<F64Format>(a, b, quiet, env);
}

uint32_t ComisEflags(CompareResult result) {
  constexpr uint32_t kCf = 1u << 0, kPf = 1u << 2, kZf = 1u << 6;
  switch (result) {
    case CompareResult::kLess:
      return kCf;
    case CompareResult::kEqual:
      return kZf;
    case CompareResult::kGreater:
      return 0;
    case CompareResult::kUnordered:
      return kZf | kPf | kCf;
  }
  return 0;
}

bool F32ComparePredicate(uint32_t a, uint32_t b, uint8_t predicate, FpEnv& env) {
  return ComparePredicate<F32Format>(a, b, predicate, env);
}
bool F64ComparePredicate(uint64_t a, uint64_t b, uint8_t predicate, FpEnv& env) {
  return ComparePredicate<F64Format>(a, b, predicate, env);
}

}  // namespace x86vm::softfloat
