// High-precision constants for the x87 constant loads and transcendentals,
// each sign * sig * 2^(exp - 127) rounded to nearest at 128 bits. Generated
// with mpmath at 600-bit precision.
#ifndef X86VM_CPU_SOFTFLOAT_CONSTANTS_H_
#define X86VM_CPU_SOFTFLOAT_CONSTANTS_H_

#include <cstdint>

#include "cpu/softfloat/internal.h"

namespace x86vm::softfloat::internal {

// A positive 128-bit constant.
struct WideConstant {
  int32_t exp;
  uint64_t hi;
  uint64_t lo;

  Exact ToExact() const { return Exact{false, exp, (static_cast<u128>(hi) << 64) | lo}; }
};

inline constexpr WideConstant kPi{1, 0xC90FDAA22168C234ull, 0xC4C6628B80DC1CD1ull};
inline constexpr WideConstant kLog2Ten{1, 0xD49A784BCD1B8AFEull, 0x492BF6FF4DAFDB4Dull};
inline constexpr WideConstant kLog2E{0, 0xB8AA3B295C17F0BBull, 0xBE87FED0691D3E89ull};
inline constexpr WideConstant kLog10Two{-2, 0x9A209A84FBCFF798ull, 0x8F8959AC0B7C9178ull};
inline constexpr WideConstant kLnTwo{-1, 0xB17217F7D1CF79ABull, 0xC9E3B39803F2F6AFull};

// atan(k/8) for k = 1..8 (index k - 1).
inline constexpr WideConstant kAtanEighths[8] = {
    {-4, 0xFEADD4D5617B6E32ull, 0xC897989F3E888EF8ull},
    {-3, 0xFADBAFC96406EB15ull, 0x6DC79EF5F7A217E6ull},
    {-2, 0xB7B0CA0F26F78473ull, 0x8AA32122DCFE4483ull},
    {-2, 0xED63382B0DDA7B45ull, 0x6FE445ECBC3A8D03ull},
    {-1, 0x8F005D5EF7F59F9Bull, 0x5C835E1665C43748ull},
    {-1, 0xA4BC7D1934F70924ull, 0x19A87F2A457DAC9Full},
    {-1, 0xB8053E2BC2319E73ull, 0xCB2DA55210A4443Dull},
    {-1, 0xC90FDAA22168C234ull, 0xC4C6628B80DC1CD1ull},
};

// 2/pi as a 384-bit binary fraction, most significant limb first (argument
// reduction for FSIN/FCOS/FPTAN).
inline constexpr uint64_t kTwoOverPiLimbs[6] = {
    0xA2F9836E4E441529ull, 0xFC2757D1F534DDC0ull, 0xDB6295993C439041ull,
    0xFE5163ABDEBBC561ull, 0xB7246E3A424DD2E0ull, 0x06492EEA09D1921Cull,
};

}  // namespace x86vm::softfloat::internal

#endif  // X86VM_CPU_SOFTFLOAT_CONSTANTS_H_
