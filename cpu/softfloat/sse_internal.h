// Format traits shared by the SSE binary32/binary64 implementations. Not part
// of the public API.
#ifndef X86VM_CPU_SOFTFLOAT_SSE_INTERNAL_H_
#define X86VM_CPU_SOFTFLOAT_SSE_INTERNAL_H_

#include <cstdint>

#include "cpu/softfloat/internal.h"

namespace x86vm::softfloat::internal {

// binary32 as SSE sees it.
struct F32Format {
  using Bits = uint32_t;
  static constexpr RoundSpec kSpec = kF32Spec;
  static constexpr Bits kIndefinite = 0xFFC00000u;
  static Unpacked Unpack(Bits a, bool daz) { return UnpackF32(a, daz); }
  static Bits Pack(const Rounded& r) { return PackF32(r); }
  static Bits Quiet(const Unpacked& nan) { return QuietF32(nan); }
  static Bits Zero(bool sign) { return F32Zero(sign); }
  static Bits Inf(bool sign) { return F32Inf(sign); }
};

// binary64 as SSE sees it.
struct F64Format {
  using Bits = uint64_t;
  static constexpr RoundSpec kSpec = kF64Spec;
  static constexpr Bits kIndefinite = 0xFFF8000000000000ull;
  static Unpacked Unpack(Bits a, bool daz) { return UnpackF64(a, daz); }
  static Bits Pack(const Rounded& r) { return PackF64(r); }
  static Bits Quiet(const Unpacked& nan) { return QuietF64(nan); }
  static Bits Zero(bool sign) { return F64Zero(sign); }
  static Bits Inf(bool sign) { return F64Inf(sign); }
};

// Rounds an exact result into format F. When an unmasked pre-computation
// exception (IE, DE, ZE) is already in env.flags the instruction faults
// before rounding, so the post-computation flags are not raised (SDM Vol. 1
// 11.5.2). env.flags must hold only this operation's flags.
template <typename F>
typename F::Bits RoundInto(const Exact& x, FpEnv& env) {
  constexpr uint8_t kPre = kFlagInvalid | kFlagDenormal | kFlagDivideByZero;
  if ((env.flags & kPre & ~env.masks) != 0) {
    FpEnv scratch = env;
    return F::Pack(Round(x.sign, x.exp, x.sig, F::kSpec, scratch));
  }
  return F::Pack(Round(x.sign, x.exp, x.sig, F::kSpec, env));
}

// Runs op(local_env) with flags starting empty, then merges them into env.
template <typename Op>
auto WithLocalFlags(FpEnv& env, Op op) {
  FpEnv local = env;
  local.flags = 0;
  auto result = op(local);
  env.flags |= local.flags;
  return result;
}

}  // namespace x86vm::softfloat::internal

#endif  // X86VM_CPU_SOFTFLOAT_SSE_INTERNAL_H_
