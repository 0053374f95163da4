// Everything in cpu/simd: the pure semantics of the MMX/SSE-SSE4.2 integer,
// shuffle, pack, blend and string instructions, CRC32, POPCNT, LZCNT, TZCNT.
#ifndef X86VM_CPU_SIMD_SIMD_H_
#define X86VM_CPU_SIMD_SIMD_H_

#include "cpu/simd/arith.h"           // IWYU pragma: export
#include "cpu/simd/bit_count.h"       // IWYU pragma: export
#include "cpu/simd/compare_logic.h"   // IWYU pragma: export
#include "cpu/simd/flags.h"           // IWYU pragma: export
#include "cpu/simd/horizontal.h"      // IWYU pragma: export
#include "cpu/simd/insert_extract.h"  // IWYU pragma: export
#include "cpu/simd/pack.h"            // IWYU pragma: export
#include "cpu/simd/shift.h"           // IWYU pragma: export
#include "cpu/simd/shuffle.h"         // IWYU pragma: export
#include "cpu/simd/string_compare.h"  // IWYU pragma: export
#include "cpu/simd/xmm.h"             // IWYU pragma: export

#endif  // X86VM_CPU_SIMD_SIMD_H_
