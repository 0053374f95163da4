// Helpers shared by the specialized forms (exec_fast.cc, exec_fast_sse.cc):
// 64-bit-mode memory operands, the fallback to the generic handler, and
// decode-time handler lists.
#ifndef X86VM_CPU_EXEC_FAST_MEM_H_
#define X86VM_CPU_EXEC_FAST_MEM_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "cpu/cpu.h"
#include "cpu/hot_inline.h"
#include "cpu/insn.h"

namespace x86vm {

// How a 64-bit-mode memory operand's address is formed. kIndex (a scaled
// index and no base, as compilers emit `lea r, [i*8]`) is used by LEA only.
enum class Ea { kBase, kBaseIndex, kRip, kIndex };

// The linear address of a memory operand decoded in 64-bit mode with a
// 64-bit address size (Cpu::Ea plus the FS/GS base, which is all that
// segmentation does there).
template <Ea kind>
X86VM_HOT_INLINE uint64_t Linear64(const Cpu& c, const Insn& i) {
  uint64_t ea = i.disp;
  if constexpr (kind != Ea::kRip) ea += c.s.gpr[i.base];
  if constexpr (kind == Ea::kBaseIndex) ea += c.s.gpr[i.index] << i.scale;
  if constexpr (kind == Ea::kRip) ea += c.s.rip + i.length;
  if (i.seg >= kFs) ea += c.s.seg[i.seg].base;
  return ea;
}

// Cpu::FastLinearHost for 64-bit mode, where the CPL is SS.DPL (protected
// mode, never virtual-8086: Cpu::cpl() without its mode tests).
X86VM_HOT_INLINE uint8_t* Host64(Cpu& c, uint64_t linear, unsigned size, Access kind) {
  return c.FastLinearHost(linear, size, kind, c.s.seg[kSs].dpl() == 3);
}

// The generic handler a specialized form falls back to, after writing back
// lazy flags (Cpu::lf_pending): it reads and writes RFLAGS directly.
template <Handler generic>
X86VM_HOT_INLINE Fault Generic(Cpu& c, const Insn& i) {
  c.MaterializeFlags();
  return generic(c, i);
}

// A fixed set of handlers, sorted once, for the membership tests that run
// for every instruction decoded.
class SortedHandlers {
 public:
  explicit SortedHandlers(std::vector<Handler> handlers) : handlers_(std::move(handlers)) {
    std::sort(handlers_.begin(), handlers_.end(), std::less<Handler>());
  }
  bool Contains(Handler h) const {
    return std::binary_search(handlers_.begin(), handlers_.end(), h, std::less<Handler>());
  }

 private:
  std::vector<Handler> handlers_;
};

}  // namespace x86vm

#endif  // X86VM_CPU_EXEC_FAST_MEM_H_
