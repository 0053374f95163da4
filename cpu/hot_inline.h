// X86VM_HOT_INLINE marks the small helpers every instruction handler runs
// (register and memory operand access, the TLB fast path, flag
// computation). GCC's -O2 heuristics leave them as out-of-line calls, which
// profiling of tests/bench/cpu_loop showed costing about a quarter of the
// time; forcing them inline lets each handler become straight-line code.
#ifndef X86VM_CPU_HOT_INLINE_H_
#define X86VM_CPU_HOT_INLINE_H_

// Forces inlining (GCC and Clang); falls back to a plain hint elsewhere.
#if defined(__GNUC__) || defined(__clang__)
#define X86VM_HOT_INLINE [[gnu::always_inline]] inline
// Inlines every direct call in the function (the wrappers around handlers
// in exec_fast.cc, which would otherwise call the handler they exist for).
#define X86VM_FLATTEN [[gnu::flatten]]
#else
#define X86VM_HOT_INLINE inline
#define X86VM_FLATTEN
#endif

#endif  // X86VM_CPU_HOT_INLINE_H_
