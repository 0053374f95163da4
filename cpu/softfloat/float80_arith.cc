// x87 arithmetic, comparison and classification (SDM Vol. 2 FADD, FSUB, FMUL,
// FDIV, FSQRT, FCOM/FUCOM, FXAM; exception priorities SDM Vol. 1 8.7).
#include "cpu/softfloat/float80.h"
#include "cpu/softfloat/internal.h"

namespace x86vm::softfloat {

using internal::Exact;
using internal::Kind;
using internal::Unpacked;
using internal::UnpackF80;

bool F80IsNaN(Float80 a) { return UnpackF80(a).IsNaN(); }
bool F80IsSignalingNaN(Float80 a) { return UnpackF80(a).IsSignalingNaN(); }
bool F80IsUnsupported(Float80 a) { return UnpackF80(a).kind == Kind::kUnsupported; }

namespace {

// Shared front end of the two-operand instructions: unsupported encodings and
// NaNs are answered here (they outrank the denormal exception), otherwise DE
// is raised for denormal operands (unless `defer_denormal`) and false is returned.
bool X87BinarySpecial(const Unpacked& a, const Unpacked& b, FpEnv& env, Float80* result,
                      bool defer_denormal = false) {
  env.rounded_up = false;
  if (a.kind == Kind::kUnsupported || b.kind == Kind::kUnsupported) {
    env.Raise(kFlagInvalid);
    *result = kFloat80Indefinite;
    return true;
  }
  if (a.IsNaN() || b.IsNaN()) {
    *result = internal::X87PropagateNaN(a, b, env);
    return true;
  }
  if (!defer_denormal && (a.denormal || b.denormal)) env.Raise(kFlagDenormal);
  return false;
}

Float80 RoundArith(const Exact& x, FpEnv& env) {
  return internal::PackF80(
      internal::Round(x.sign, x.exp, x.sig, internal::X87ArithmeticSpec(env.precision), env));
}

// Unpacks both operands, folding in memory-denormal marks.
void UnpackPair(Float80 fa, Float80 fb, DenormalSource source, Unpacked* a, Unpacked* b) {
  *a = UnpackF80(fa);
  *b = UnpackF80(fb);
  a->denormal = a->denormal || (source.a && a->IsFinite());
  b->denormal = b->denormal || (source.b && b->IsFinite());
}

Float80 AddOrSub(Float80 fa, Float80 fb, bool subtract, FpEnv& env, DenormalSource source) {
  Unpacked a, b;
  UnpackPair(fa, fb, source, &a, &b);
  Float80 special;
  if (X87BinarySpecial(a, b, env, &special)) return special;
  const bool b_sign = b.sign != subtract;
  if (a.IsInfinity() || b.IsInfinity()) {
    if (a.IsInfinity() && b.IsInfinity() && a.sign != b_sign) {
      env.Raise(kFlagInvalid);
      return kFloat80Indefinite;
    }
    return internal::F80Inf(a.IsInfinity() ? a.sign : b_sign);
  }
  return RoundArith(internal::AddExact(a, b, subtract, env.rounding), env);
}

}  // namespace

Float80 F80Add(Float80 a, Float80 b, FpEnv& env, DenormalSource source) {
  return AddOrSub(a, b, false, env, source);
}

Float80 F80Sub(Float80 a, Float80 b, FpEnv& env, DenormalSource source) {
  return AddOrSub(a, b, true, env, source);
}

Float80 F80Mul(Float80 fa, Float80 fb, FpEnv& env, DenormalSource source) {
  Unpacked a, b;
  UnpackPair(fa, fb, source, &a, &b);
  Float80 special;
  if (X87BinarySpecial(a, b, env, &special)) return special;
  const bool sign = a.sign != b.sign;
  if (a.IsInfinity() || b.IsInfinity()) {
    if (a.IsZero() || b.IsZero()) {
      env.Raise(kFlagInvalid);
      return kFloat80Indefinite;
    }
    return internal::F80Inf(sign);
  }
  if (a.IsZero() || b.IsZero()) return internal::F80Zero(sign);
  return RoundArith(internal::MulExact(a, b), env);
}

Float80 F80Div(Float80 fa, Float80 fb, FpEnv& env, DenormalSource source) {
  Unpacked a, b;
  UnpackPair(fa, fb, source, &a, &b);
  Float80 special;
  if (X87BinarySpecial(a, b, env, &special, /*defer_denormal=*/true)) return special;
  const bool sign = a.sign != b.sign;
  // Division by zero outranks the denormal exception (measured; SDM Vol. 1 8.7).
  if (!b.IsZero() && (a.denormal || b.denormal)) env.Raise(kFlagDenormal);
  if (a.IsInfinity()) {
    if (b.IsInfinity()) {
      env.Raise(kFlagInvalid);
      return kFloat80Indefinite;
    }
    return internal::F80Inf(sign);
  }
  if (b.IsInfinity()) return internal::F80Zero(sign);
  if (b.IsZero()) {
    if (a.IsZero()) {
      env.Raise(kFlagInvalid);
      return kFloat80Indefinite;
    }
    env.Raise(kFlagDivideByZero);
    return internal::F80Inf(sign);
  }
  if (a.IsZero()) return internal::F80Zero(sign);
  return RoundArith(internal::DivExact(a, b), env);
}

Float80 F80Sqrt(Float80 fa, FpEnv& env) {
  env.rounded_up = false;
  const Unpacked a = UnpackF80(fa);
  if (a.kind == Kind::kUnsupported) {
    env.Raise(kFlagInvalid);
    return kFloat80Indefinite;
  }
  if (a.IsNaN()) return internal::X87PropagateNaN(a, env);
  if (a.IsZero()) return fa;
  if (a.sign) {
    env.Raise(kFlagInvalid);
    return kFloat80Indefinite;
  }
  if (a.denormal) env.Raise(kFlagDenormal);
  if (a.IsInfinity()) return fa;
  return RoundArith(internal::SqrtExact(a), env);
}

CompareResult F80Compare(Float80 fa, Float80 fb, bool quiet, FpEnv& env, DenormalSource source) {
  env.rounded_up = false;
  Unpacked a, b;
  UnpackPair(fa, fb, source, &a, &b);
  if (a.kind == Kind::kUnsupported || b.kind == Kind::kUnsupported) {
    env.Raise(kFlagInvalid);
    return CompareResult::kUnordered;
  }
  if (a.IsNaN() || b.IsNaN()) {
    if (!quiet || a.IsSignalingNaN() || b.IsSignalingNaN()) env.Raise(kFlagInvalid);
    return CompareResult::kUnordered;
  }
  if (a.denormal || b.denormal) env.Raise(kFlagDenormal);
  return internal::CompareNumbers(a, b);
}

X87Class F80Classify(Float80 fa) {
  const Unpacked a = UnpackF80(fa);
  switch (a.kind) {
    case Kind::kUnsupported:
      return X87Class::kUnsupported;
    case Kind::kNaN:
      return X87Class::kNaN;
    case Kind::kInfinity:
      return X87Class::kInfinity;
    case Kind::kZero:
      return X87Class::kZero;
    case Kind::kFinite:
      return a.denormal ? X87Class::kDenormal : X87Class::kNormal;
  }
  return X87Class::kUnsupported;
}

}  // namespace x86vm::softfloat
