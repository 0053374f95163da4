// Test-only oracle: runs one x87 or SSE instruction on the host CPU (x86-64)
// with a chosen control word / MXCSR and returns its result and status.
// Instructions are emitted as raw opcode bytes so operand order is exactly the
// SDM's (GNU as swaps some AT&T x87 mnemonics).
#ifndef X86VM_CPU_SOFTFLOAT_HOST_ORACLE_H_
#define X86VM_CPU_SOFTFLOAT_HOST_ORACLE_H_

#include <array>
#include <bit>
#include <cstdint>
#include <type_traits>

#include "cpu/softfloat/float80.h"

namespace x86vm::softfloat::testing {

// x87 state after one instruction.
struct HostX87 {
  Float80 st0;      // ST(0) after the instruction
  Float80 st1;      // ST(1) after the instruction (garbage if popped away)
  uint16_t status;  // FSW right after the instruction
};

// Exception bits of an FSW.
inline uint8_t StatusFlags(uint16_t sw) { return sw & 0x3F; }
// C1 of an FSW.
inline bool StatusC1(uint16_t sw) { return (sw >> 9) & 1; }
// C2 of an FSW.
inline bool StatusC2(uint16_t sw) { return (sw >> 10) & 1; }

// Control word with all exceptions masked and the given RC and PC.
inline uint16_t MaskedControlWord(int rc, int pc) {
  return static_cast<uint16_t>(0x3F | (pc << 8) | (rc << 10));
}

// Loads b then a (a = ST(0), b = ST(1)), runs the opcode bytes, reads FSW, stores ST(0), ST(1).
#define X86VM_HOST_X87_OP(name, bytes)                                                    \
  inline HostX87 name(Float80 a, Float80 b, uint16_t cw) {                                \
    HostX87 r{};                                                                          \
    asm volatile(                                                                         \
        "fninit\n\t"                                                                      \
        "fldcw %[cw]\n\t"                                                                 \
        "fldt %[b]\n\t"                                                                   \
        "fldt %[a]\n\t"                                                                   \
        ".byte " bytes                                                                    \
        "\n\t"                                                                            \
        "fnstsw %[sw]\n\t"                                                                \
        "fstpt %[r0]\n\t"                                                                 \
        "fstpt %[r1]\n\t"                                                                 \
        "fninit\n\t"                                                                      \
        : [sw] "=m"(r.status), [r0] "=m"(r.st0), [r1] "=m"(r.st1)                         \
        : [a] "m"(a), [b] "m"(b), [cw] "m"(cw)                                            \
        : "memory", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)"); \
    return r;                                                                             \
  }

X86VM_HOST_X87_OP(HostFadd, "0xD8, 0xC1")     // FADD ST(0), ST(1)
X86VM_HOST_X87_OP(HostFsub, "0xD8, 0xE1")     // FSUB ST(0), ST(1): a - b
X86VM_HOST_X87_OP(HostFmul, "0xD8, 0xC9")     // FMUL ST(0), ST(1)
X86VM_HOST_X87_OP(HostFdiv, "0xD8, 0xF1")     // FDIV ST(0), ST(1): a / b
X86VM_HOST_X87_OP(HostFsqrt, "0xD9, 0xFA")    // FSQRT
X86VM_HOST_X87_OP(HostFprem, "0xD9, 0xF8")    // FPREM: a rem b
X86VM_HOST_X87_OP(HostFprem1, "0xD9, 0xF5")   // FPREM1
X86VM_HOST_X87_OP(HostFrndint, "0xD9, 0xFC")  // FRNDINT
X86VM_HOST_X87_OP(HostFscale, "0xD9, 0xFD")   // FSCALE: a * 2^trunc(b)
X86VM_HOST_X87_OP(HostFxtract, "0xD9, 0xF4")  // FXTRACT: ST(0) = significand, ST(1) = exponent
X86VM_HOST_X87_OP(HostFcom, "0xD8, 0xD1")     // FCOM ST(1)
X86VM_HOST_X87_OP(HostFucom, "0xDD, 0xE1")    // FUCOM ST(1)
X86VM_HOST_X87_OP(HostFxam, "0xD9, 0xE5")     // FXAM
X86VM_HOST_X87_OP(HostF2xm1, "0xD9, 0xF0")    // F2XM1
X86VM_HOST_X87_OP(HostFyl2x, "0xD9, 0xF1")    // FYL2X: b * log2(a), popped
X86VM_HOST_X87_OP(HostFyl2xp1, "0xD9, 0xF9")  // FYL2XP1: b * log2(a + 1), popped
X86VM_HOST_X87_OP(HostFpatan, "0xD9, 0xF3")   // FPATAN: atan(b / a), popped
X86VM_HOST_X87_OP(HostFptan, "0xD9, 0xF2")    // FPTAN: ST(1) = tan(a), ST(0) = 1
X86VM_HOST_X87_OP(HostFsin, "0xD9, 0xFE")     // FSIN
X86VM_HOST_X87_OP(HostFcos, "0xD9, 0xFF")     // FCOS
X86VM_HOST_X87_OP(HostFsincos, "0xD9, 0xFB")  // FSINCOS: ST(1) = sin, ST(0) = cos
X86VM_HOST_X87_OP(HostFldpi, "0xD9, 0xEB")    // FLDPI (pushes)
X86VM_HOST_X87_OP(HostFldl2t, "0xD9, 0xE9")   // FLDL2T
X86VM_HOST_X87_OP(HostFldl2e, "0xD9, 0xEA")   // FLDL2E
X86VM_HOST_X87_OP(HostFldlg2, "0xD9, 0xEC")   // FLDLG2
X86VM_HOST_X87_OP(HostFldln2, "0xD9, 0xED")   // FLDLN2

#undef X86VM_HOST_X87_OP

// FLD m32fp then FSTP m80fp.
inline HostX87 HostLoadF32(uint32_t v, uint16_t cw) {
  HostX87 r{};
  asm volatile("fninit\n\tfldcw %[cw]\n\tflds %[v]\n\tfnstsw %[sw]\n\tfstpt %[r0]\n\tfninit"
               : [sw] "=m"(r.status), [r0] "=m"(r.st0)
               : [v] "m"(v), [cw] "m"(cw)
               : "memory", "st");
  return r;
}

// FLD m64fp then FSTP m80fp.
inline HostX87 HostLoadF64(uint64_t v, uint16_t cw) {
  HostX87 r{};
  asm volatile("fninit\n\tfldcw %[cw]\n\tfldl %[v]\n\tfnstsw %[sw]\n\tfstpt %[r0]\n\tfninit"
               : [sw] "=m"(r.status), [r0] "=m"(r.st0)
               : [v] "m"(v), [cw] "m"(cw)
               : "memory", "st");
  return r;
}

// Result of a store from ST(0) to memory.
template <typename T>
struct HostStore {
  T value;
  uint16_t status;
};

// FLD m80fp then FSTP m32fp.
inline HostStore<uint32_t> HostStoreF32(Float80 a, uint16_t cw) {
  HostStore<uint32_t> r{};
  asm volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfstps %[v]\n\tfnstsw %[sw]\n\tfninit"
               : [sw] "=m"(r.status), [v] "=m"(r.value)
               : [a] "m"(a), [cw] "m"(cw)
               : "memory", "st");
  return r;
}

// FLD m80fp then FSTP m64fp.
inline HostStore<uint64_t> HostStoreF64(Float80 a, uint16_t cw) {
  HostStore<uint64_t> r{};
  asm volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfstpl %[v]\n\tfnstsw %[sw]\n\tfninit"
               : [sw] "=m"(r.status), [v] "=m"(r.value)
               : [a] "m"(a), [cw] "m"(cw)
               : "memory", "st");
  return r;
}

// FLD m80fp then FISTP m16int.
inline HostStore<int16_t> HostStoreI16(Float80 a, uint16_t cw) {
  HostStore<int16_t> r{};
  asm volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfistps %[v]\n\tfnstsw %[sw]\n\tfninit"
               : [sw] "=m"(r.status), [v] "=m"(r.value)
               : [a] "m"(a), [cw] "m"(cw)
               : "memory", "st");
  return r;
}

// FLD m80fp then FISTP m32int.
inline HostStore<int32_t> HostStoreI32(Float80 a, uint16_t cw) {
  HostStore<int32_t> r{};
  asm volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfistpl %[v]\n\tfnstsw %[sw]\n\tfninit"
               : [sw] "=m"(r.status), [v] "=m"(r.value)
               : [a] "m"(a), [cw] "m"(cw)
               : "memory", "st");
  return r;
}

// FLD m80fp then FISTP m64int.
inline HostStore<int64_t> HostStoreI64(Float80 a, uint16_t cw) {
  HostStore<int64_t> r{};
  asm volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfistpll %[v]\n\tfnstsw %[sw]\n\tfninit"
               : [sw] "=m"(r.status), [v] "=m"(r.value)
               : [a] "m"(a), [cw] "m"(cw)
               : "memory", "st");
  return r;
}

// FLD m80fp then FISTTP m64int (SSE3).
inline HostStore<int64_t> HostTruncateI64(Float80 a, uint16_t cw) {
  HostStore<int64_t> r{};
  asm volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfisttpll %[v]\n\tfnstsw %[sw]\n\tfninit"
               : [sw] "=m"(r.status), [v] "=m"(r.value)
               : [a] "m"(a), [cw] "m"(cw)
               : "memory", "st");
  return r;
}

// FLD m80fp then FBSTP m80bcd.
inline HostStore<std::array<uint8_t, 10>> HostStoreBcd(Float80 a, uint16_t cw) {
  HostStore<std::array<uint8_t, 10>> r{};
  asm volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfbstp %[v]\n\tfnstsw %[sw]\n\tfninit"
               : [sw] "=m"(r.status), [v] "=m"(r.value)
               : [a] "m"(a), [cw] "m"(cw)
               : "memory", "st");
  return r;
}

// FBLD m80bcd then FSTP m80fp.
inline HostX87 HostLoadBcd(const std::array<uint8_t, 10>& bcd) {
  HostX87 r{};
  asm volatile("fninit\n\tfbld %[v]\n\tfnstsw %[sw]\n\tfstpt %[r0]\n\tfninit"
               : [sw] "=m"(r.status), [r0] "=m"(r.st0)
               : [v] "m"(bcd)
               : "memory", "st");
  return r;
}

// FLD m80fp a, then FADD m32fp b: ST(0) = a + b.
inline HostX87 HostFaddM32(Float80 a, uint32_t b, uint16_t cw) {
  HostX87 r{};
  asm volatile(
      "fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfadds %[b]\n\tfnstsw %[sw]\n\tfstpt %[r0]\n\tfninit"
      : [sw] "=m"(r.status), [r0] "=m"(r.st0)
      : [a] "m"(a), [b] "m"(b), [cw] "m"(cw)
      : "memory", "st");
  return r;
}

// FLD m80fp a, then FMUL m64fp b: ST(0) = a * b.
inline HostX87 HostFmulM64(Float80 a, uint64_t b, uint16_t cw) {
  HostX87 r{};
  asm volatile(
      "fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfmull %[b]\n\tfnstsw %[sw]\n\tfstpt %[r0]\n\tfninit"
      : [sw] "=m"(r.status), [r0] "=m"(r.st0)
      : [a] "m"(a), [b] "m"(b), [cw] "m"(cw)
      : "memory", "st");
  return r;
}

// FILD m64int then FSTP m80fp.
inline Float80 HostLoadI64(int64_t v) {
  Float80 r{};
  asm volatile("fninit\n\tfildll %[v]\n\tfstpt %[r0]\n\tfninit"
               : [r0] "=m"(r)
               : [v] "m"(v)
               : "memory", "st");
  return r;
}

// SSE state after one instruction.
template <typename T>
struct HostSse {
  T value;
  uint32_t mxcsr;  // MXCSR after the instruction (flags in bits 0-5)
};

// MXCSR with all exceptions masked, the given RC, and DAZ/FTZ.
inline uint32_t MaskedMxcsr(int rc, bool daz = false, bool ftz = false) {
  return 0x1F80u | (static_cast<uint32_t>(rc) << 13) | (daz ? 0x40u : 0) | (ftz ? 0x8000u : 0);
}

// Runs `insn` with %[x] (in/out, XMM) and %[y] (XMM) under the given MXCSR.
#define X86VM_HOST_SSE_OP(name, type, insn)                                           \
  inline HostSse<type> name(type a, type b, uint32_t mxcsr) {                         \
    HostSse<type> r{};                                                                \
    using F = std::conditional_t<sizeof(type) == 4, float, double>;                   \
    F x = std::bit_cast<F>(a);                                                        \
    F y = std::bit_cast<F>(b);                                                        \
    const uint32_t restore = 0x1F80;                                                  \
    asm volatile("ldmxcsr %[csr]\n\t" insn "\n\tstmxcsr %[out]\n\tldmxcsr %[restore]" \
                 : [x] "+x"(x), [out] "=m"(r.mxcsr)                                   \
                 : [y] "x"(y), [csr] "m"(mxcsr), [restore] "m"(restore)               \
                 : "memory");                                                         \
    r.value = std::bit_cast<type>(x);                                                 \
    return r;                                                                         \
  }

X86VM_HOST_SSE_OP(HostAddss, uint32_t, "addss %[y], %[x]")
X86VM_HOST_SSE_OP(HostSubss, uint32_t, "subss %[y], %[x]")
X86VM_HOST_SSE_OP(HostMulss, uint32_t, "mulss %[y], %[x]")
X86VM_HOST_SSE_OP(HostDivss, uint32_t, "divss %[y], %[x]")
X86VM_HOST_SSE_OP(HostSqrtss, uint32_t, "sqrtss %[y], %[x]")
X86VM_HOST_SSE_OP(HostMinss, uint32_t, "minss %[y], %[x]")
X86VM_HOST_SSE_OP(HostMaxss, uint32_t, "maxss %[y], %[x]")
X86VM_HOST_SSE_OP(HostRcpss, uint32_t, "rcpss %[y], %[x]")
X86VM_HOST_SSE_OP(HostRsqrtss, uint32_t, "rsqrtss %[y], %[x]")
X86VM_HOST_SSE_OP(HostAddsd, uint64_t, "addsd %[y], %[x]")
X86VM_HOST_SSE_OP(HostSubsd, uint64_t, "subsd %[y], %[x]")
X86VM_HOST_SSE_OP(HostMulsd, uint64_t, "mulsd %[y], %[x]")
X86VM_HOST_SSE_OP(HostDivsd, uint64_t, "divsd %[y], %[x]")
X86VM_HOST_SSE_OP(HostSqrtsd, uint64_t, "sqrtsd %[y], %[x]")
X86VM_HOST_SSE_OP(HostMinsd, uint64_t, "minsd %[y], %[x]")
X86VM_HOST_SSE_OP(HostMaxsd, uint64_t, "maxsd %[y], %[x]")

#undef X86VM_HOST_SSE_OP

// Runs a conversion `insn` from %[in] (type In, XMM or GPR) to %[out] (type Out).
#define X86VM_HOST_SSE_CONVERT(name, Out, OutReg, OutCons, In, InReg, InCons, insn) \
  inline HostSse<Out> name(In a, uint32_t mxcsr) {                                  \
    HostSse<Out> r{};                                                               \
    InReg x = std::bit_cast<InReg>(a);                                              \
    OutReg y{};                                                                     \
    const uint32_t restore = 0x1F80;                                                \
    asm volatile("ldmxcsr %[csr]\n\t" insn "\n\tstmxcsr %[m]\n\tldmxcsr %[restore]" \
                 : [out] OutCons(y), [m] "=m"(r.mxcsr)                              \
                 : [in] InCons(x), [csr] "m"(mxcsr), [restore] "m"(restore)         \
                 : "memory");                                                       \
    r.value = std::bit_cast<Out>(y);                                                \
    return r;                                                                       \
  }

X86VM_HOST_SSE_CONVERT(HostCvtss2sd, uint64_t, double, "=x", uint32_t, float, "x",
                       "cvtss2sd %[in], %[out]")
X86VM_HOST_SSE_CONVERT(HostCvtsd2ss, uint32_t, float, "=x", uint64_t, double, "x",
                       "cvtsd2ss %[in], %[out]")
X86VM_HOST_SSE_CONVERT(HostCvtsi2ss32, uint32_t, float, "=x", int32_t, int32_t, "r",
                       "cvtsi2ssl %[in], %[out]")
X86VM_HOST_SSE_CONVERT(HostCvtsi2ss64, uint32_t, float, "=x", int64_t, int64_t, "r",
                       "cvtsi2ssq %[in], %[out]")
X86VM_HOST_SSE_CONVERT(HostCvtsi2sd64, uint64_t, double, "=x", int64_t, int64_t, "r",
                       "cvtsi2sdq %[in], %[out]")
X86VM_HOST_SSE_CONVERT(HostCvtss2si32, int32_t, int32_t, "=r", uint32_t, float, "x",
                       "cvtss2si %[in], %[out]")
X86VM_HOST_SSE_CONVERT(HostCvttss2si32, int32_t, int32_t, "=r", uint32_t, float, "x",
                       "cvttss2si %[in], %[out]")
X86VM_HOST_SSE_CONVERT(HostCvtss2si64, int64_t, int64_t, "=r", uint32_t, float, "x",
                       "cvtss2si %[in], %[out]")
X86VM_HOST_SSE_CONVERT(HostCvttss2si64, int64_t, int64_t, "=r", uint32_t, float, "x",
                       "cvttss2si %[in], %[out]")
X86VM_HOST_SSE_CONVERT(HostCvtsd2si32, int32_t, int32_t, "=r", uint64_t, double, "x",
                       "cvtsd2si %[in], %[out]")
X86VM_HOST_SSE_CONVERT(HostCvttsd2si32, int32_t, int32_t, "=r", uint64_t, double, "x",
                       "cvttsd2si %[in], %[out]")
X86VM_HOST_SSE_CONVERT(HostCvtsd2si64, int64_t, int64_t, "=r", uint64_t, double, "x",
                       "cvtsd2si %[in], %[out]")
X86VM_HOST_SSE_CONVERT(HostCvttsd2si64, int64_t, int64_t, "=r", uint64_t, double, "x",
                       "cvttsd2si %[in], %[out]")

#undef X86VM_HOST_SSE_CONVERT

// ROUNDSS with immediate Imm.
template <int Imm>
inline HostSse<uint32_t> HostRoundss(uint32_t a, uint32_t mxcsr) {
  HostSse<uint32_t> r{};
  float x = std::bit_cast<float>(a);
  float y = 0;
  const uint32_t restore = 0x1F80;
  asm volatile(
      "ldmxcsr %[csr]\n\troundss %[imm], %[in], %[out]\n\tstmxcsr %[m]\n\tldmxcsr %[restore]"
      : [out] "=x"(y), [m] "=m"(r.mxcsr)
      : [in] "x"(x), [imm] "i"(Imm), [csr] "m"(mxcsr), [restore] "m"(restore)
      : "memory");
  r.value = std::bit_cast<uint32_t>(y);
  return r;
}

// ROUNDSD with immediate Imm.
template <int Imm>
inline HostSse<uint64_t> HostRoundsd(uint64_t a, uint32_t mxcsr) {
  HostSse<uint64_t> r{};
  double x = std::bit_cast<double>(a);
  double y = 0;
  const uint32_t restore = 0x1F80;
  asm volatile(
      "ldmxcsr %[csr]\n\troundsd %[imm], %[in], %[out]\n\tstmxcsr %[m]\n\tldmxcsr %[restore]"
      : [out] "=x"(y), [m] "=m"(r.mxcsr)
      : [in] "x"(x), [imm] "i"(Imm), [csr] "m"(mxcsr), [restore] "m"(restore)
      : "memory");
  r.value = std::bit_cast<uint64_t>(y);
  return r;
}

// VCMPSS with predicate Imm: true when the mask is all ones.
template <int Imm>
inline HostSse<bool> HostCmpss(uint32_t a, uint32_t b, uint32_t mxcsr) {
  HostSse<bool> r{};
  float x = std::bit_cast<float>(a);
  const float y = std::bit_cast<float>(b);
  const uint32_t restore = 0x1F80;
  asm volatile(
      "ldmxcsr %[csr]\n\tvcmpss %[imm], %[y], %[x], %[x]\n\tstmxcsr %[m]\n\tldmxcsr %[restore]"
      : [x] "+x"(x), [m] "=m"(r.mxcsr)
      : [y] "x"(y), [imm] "i"(Imm), [csr] "m"(mxcsr), [restore] "m"(restore)
      : "memory");
  r.value = std::bit_cast<uint32_t>(x) == 0xFFFFFFFFu;
  return r;
}

// VCMPSD with predicate Imm.
template <int Imm>
inline HostSse<bool> HostCmpsd(uint64_t a, uint64_t b, uint32_t mxcsr) {
  HostSse<bool> r{};
  double x = std::bit_cast<double>(a);
  const double y = std::bit_cast<double>(b);
  const uint32_t restore = 0x1F80;
  asm volatile(
      "ldmxcsr %[csr]\n\tvcmpsd %[imm], %[y], %[x], %[x]\n\tstmxcsr %[m]\n\tldmxcsr %[restore]"
      : [x] "+x"(x), [m] "=m"(r.mxcsr)
      : [y] "x"(y), [imm] "i"(Imm), [csr] "m"(mxcsr), [restore] "m"(restore)
      : "memory");
  r.value = std::bit_cast<uint64_t>(x) == ~0ull;
  return r;
}

// COMISS (Quiet = false) or UCOMISS (Quiet = true): EFLAGS ZF/PF/CF as bits 6/2/0.
template <bool Quiet, typename T>
inline HostSse<uint32_t> HostComis(T a, T b, uint32_t mxcsr) {
  using F = std::conditional_t<sizeof(T) == 4, float, double>;
  HostSse<uint32_t> r{};
  const F x = std::bit_cast<F>(a);
  const F y = std::bit_cast<F>(b);
  uint8_t zf, pf, cf;
  const uint32_t restore = 0x1F80;
  if constexpr (sizeof(T) == 4) {
    asm volatile(
        "ldmxcsr %[csr]\n\t"
        ".if %c[q]\n\tucomiss %[y], %[x]\n\t.else\n\tcomiss %[y], %[x]\n\t.endif\n\t"
        "setz %[zf]\n\tsetp %[pf]\n\tsetc %[cf]\n\tstmxcsr %[m]\n\tldmxcsr %[restore]"
        : [zf] "=q"(zf), [pf] "=q"(pf), [cf] "=q"(cf), [m] "=m"(r.mxcsr)
        : [x] "x"(x), [y] "x"(y), [q] "i"(Quiet ? 1 : 0), [csr] "m"(mxcsr), [restore] "m"(restore)
        : "memory", "cc");
  } else {
    asm volatile(
        "ldmxcsr %[csr]\n\t"
        ".if %c[q]\n\tucomisd %[y], %[x]\n\t.else\n\tcomisd %[y], %[x]\n\t.endif\n\t"
        "setz %[zf]\n\tsetp %[pf]\n\tsetc %[cf]\n\tstmxcsr %[m]\n\tldmxcsr %[restore]"
        : [zf] "=q"(zf), [pf] "=q"(pf), [cf] "=q"(cf), [m] "=m"(r.mxcsr)
        : [x] "x"(x), [y] "x"(y), [q] "i"(Quiet ? 1 : 0), [csr] "m"(mxcsr), [restore] "m"(restore)
        : "memory", "cc");
  }
  r.value = static_cast<uint32_t>(zf) << 6 | static_cast<uint32_t>(pf) << 2 | cf;
  return r;
}

}  // namespace x86vm::softfloat::testing

#endif  // X86VM_CPU_SOFTFLOAT_HOST_ORACLE_H_
