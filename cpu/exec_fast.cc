// Specialized forms of the hottest handlers, chosen once at decode time
// (SpecializeHandler): register operands, and memory operands in 64-bit mode
// with a 64-bit address. They compute exactly what the generic handlers in
// exec_alu.cc, exec_move.cc and exec_control.cc compute, with the operand
// form known in advance, so no ModRM, address-size or segment-type tests and
// no out-of-line calls remain on their path. Anything off the fast path (a
// TLB miss, a page-crossing access, a fault, breakpoints) calls the generic
// handler, which redoes the instruction precisely from the start; nothing
// is committed before that point. exec_fast_test.cc runs each one against
// its generic handler.
//
// 64-bit-mode memory forms rely on the decoded-instruction cache being per
// code mode: an Insn decoded in 64-bit mode only ever runs in 64-bit mode,
// where segmentation is only the FS/GS base (SDM Vol. 3 3.2.4).
#include <algorithm>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>

#include "cpu/exec_common.h"
#include "cpu/exec_fast.h"
#include "cpu/exec_fast_mem.h"
#include "cpu/lazy_flags.h"

namespace x86vm {
namespace {

using alu::AluOp;
using alu::ShiftOp;

// ---- Lazy flags (Cpu::lf_pending, lazy_flags.h) ------------------------------
// The full-flag ALU forms below leave their flags lazy; the forms that read
// flags go through CarryIn and Cond. Forms that compute flags eagerly start
// from FlagsIn (exact RFLAGS) and store whole status flags back, and the
// forms computing only CF or ZF for ElideDeadFlags store theirs and drop
// the lazy words (every other flag is dead there). Nothing in this file
// touches c.s.rflags' status bits otherwise.

// CF: what ADC and SBB read.
X86VM_HOT_INLINE bool CarryIn(const Cpu& c) {
  return c.lf_pending ? lazy::Cf(c.lf_aux) : (c.s.rflags & flags::kCf) != 0;
}

// Condition code cc (Jcc, SETcc, CMOVcc).
template <int cc>
X86VM_HOT_INLINE bool Cond(const Cpu& c) {
  return c.lf_pending ? lazy::Condition<cc>(c.lf_res, c.lf_aux) : Condition(cc, c.s.rflags);
}

// Exact RFLAGS, for a form that then stores all of it back.
X86VM_HOT_INLINE uint64_t FlagsIn(Cpu& c) {
  c.MaterializeFlags();
  return c.s.rflags;
}

template <typename T>
X86VM_HOT_INLINE void SetLazy(Cpu& c, T r, uint64_t aux) {
  c.lf_res = lazy::Res(r);
  c.lf_aux = aux;
  c.lf_pending = true;
}

// One group-1 operation with every status flag, lazily; CMP returns `a`.
template <AluOp op, typename T>
X86VM_HOT_INLINE T LazyAlu(Cpu& c, T a, T b) {
  T r;
  switch (op) {
    case AluOp::kAdd:
    case AluOp::kAdc:
      r = static_cast<T>(a + b + (op == AluOp::kAdc && CarryIn(c) ? 1 : 0));
      SetLazy(c, r, lazy::AddAux<T>(a, b, r));
      return r;
    case AluOp::kSub:
    case AluOp::kSbb:
    case AluOp::kCmp:
      r = static_cast<T>(a - b - (op == AluOp::kSbb && CarryIn(c) ? 1 : 0));
      SetLazy(c, r, lazy::SubAux<T>(a, b, r));
      return op == AluOp::kCmp ? a : r;
    case AluOp::kOr: r = static_cast<T>(a | b); break;
    case AluOp::kAnd: r = static_cast<T>(a & b); break;
    case AluOp::kXor: r = static_cast<T>(a ^ b); break;
  }
  SetLazy(c, r, 0);  // CF = OF = 0; AF cleared (alu::Logic).
  return r;
}

// A group-1 operation computing the flags in kLive: all of them (lazily),
// or only CF or ZF (ElideDeadFlags; the rest are dead).
template <AluOp op, typename T, uint64_t kLive>
X86VM_HOT_INLINE T AluFlags(Cpu& c, T a, T b) {
  if constexpr (kLive == flags::kStatus) {
    return LazyAlu<op, T>(c, a, b);
  } else {
    uint64_t fl = (c.s.rflags & ~flags::kCf) | (CarryIn(c) ? flags::kCf : 0);
    T r = alu::AluLive<T, kLive>(op, a, b, fl);
    c.s.rflags = fl;
    c.lf_pending = false;
    return r;
  }
}

// A flag-free form's result (ADC and SBB still read CF).
template <AluOp op, typename T>
X86VM_HOT_INLINE T AluNoFlags(const Cpu& c, T a, T b) {
  uint64_t fl = CarryIn(c) ? flags::kCf : 0;
  return alu::Alu<T>(op, a, b, fl);
}

// ---- Memory forms inside straight runs (Insn::chains_itself) ------------------
// Run by DispatchFast as part of a straight run (Cpu::in_threaded_run), a
// memory form continues with its successor itself unless it is the last of
// the run. Its slow path (Fallback: a TLB miss, an MMIO or code-page write,
// a fault) runs the generic handler and, when that faults or asks for a
// stop, ends the run there (Cpu::run_stop); the instructions before it in
// the run have retired, those after it have not.

Fault ReturnOk(Cpu&, const Insn&) { return kOk; }

// The end of a memory form's fast path: its successor's `threaded` inside
// a run, else ReturnOk. One unconditional indirect tail call: GCC turns a
// conditional `return next.threaded(...)` beside `return kOk` into a call
// and rebuilds the Fault, which costs more than the chaining saves.
X86VM_HOT_INLINE Fault Next(Cpu& c, const Insn& i) {
  const Insn* target = &i;
  Handler h = ReturnOk;
  if (c.in_threaded_run && i.run > 1) {
    target = &i + 1;
    h = target->threaded;
  }
  return h(c, *target);
}

// A memory form's slow path (a tail call: the fast path needs no frame).
template <Handler generic>
[[gnu::noinline]] Fault Fallback(Cpu& c, const Insn& i) {
  Fault f = Generic<generic>(c, i);
  if (!c.in_threaded_run) return f;
  if (f.faulted() || c.AnyExitRequest()) [[unlikely]] {
    c.run_stop = &i;
    return f;
  }
  return Next(c, i);
}

// ---- ALU: ADD OR ADC SBB AND SUB XOR CMP ------------------------------------

// E = register (ModRM.rm), G = register (ModRM.reg). kLive: the status
// flags to compute (ElideDeadFlags picks fewer when the others are dead).
template <AluOp op, typename T, uint64_t kLive = flags::kStatus>
Fault AluEvGvReg(Cpu& c, const Insn& i) {
  T r = AluFlags<op, T, kLive>(c, c.RegOp<T>(i, i.rm), c.RegOp<T>(i, i.reg));
  if constexpr (op != AluOp::kCmp) c.SetRegOp<T>(i, i.rm, r);
  return kOk;
}

template <AluOp op, typename T, uint64_t kLive = flags::kStatus>
Fault AluGvEvReg(Cpu& c, const Insn& i) {
  T r = AluFlags<op, T, kLive>(c, c.RegOp<T>(i, i.reg), c.RegOp<T>(i, i.rm));
  if constexpr (op != AluOp::kCmp) c.SetRegOp<T>(i, i.reg, r);
  return kOk;
}

// Group 1 with an immediate (80/81/83 /digit), register destination.
template <AluOp op, typename T, uint64_t kLive = flags::kStatus>
Fault AluEvIReg(Cpu& c, const Insn& i) {
  T r = AluFlags<op, T, kLive>(c, c.RegOp<T>(i, i.rm), ImmAs<T>(i.imm));
  if constexpr (op != AluOp::kCmp) c.SetRegOp<T>(i, i.rm, r);
  return kOk;
}

// Memory destination (read-modify-write; CMP only reads).
template <AluOp op, typename T, Handler generic, Ea kind>
Fault AluEvGvMem(Cpu& c, const Insn& i) {
  constexpr Access kAccess = op == AluOp::kCmp ? Access::kRead : Access::kWrite;
  uint8_t* p = Host64(c, Linear64<kind>(c, i), sizeof(T), kAccess);
  if (p == nullptr) [[unlikely]] return Fallback<generic>(c, i);
  T a;
  std::memcpy(&a, p, sizeof(T));
  T r = LazyAlu<op, T>(c, a, c.RegOp<T>(i, i.reg));
  if constexpr (op != AluOp::kCmp) std::memcpy(p, &r, sizeof(T));
  return Next(c, i);
}

template <AluOp op, typename T, Handler generic, Ea kind>
Fault AluEvIMem(Cpu& c, const Insn& i) {
  constexpr Access kAccess = op == AluOp::kCmp ? Access::kRead : Access::kWrite;
  uint8_t* p = Host64(c, Linear64<kind>(c, i), sizeof(T), kAccess);
  if (p == nullptr) [[unlikely]] return Fallback<generic>(c, i);
  T a;
  std::memcpy(&a, p, sizeof(T));
  T r = LazyAlu<op, T>(c, a, ImmAs<T>(i.imm));
  if constexpr (op != AluOp::kCmp) std::memcpy(p, &r, sizeof(T));
  return Next(c, i);
}

// Memory source, register destination.
// (kLive: see ElideDeadFlags; the generic fallback computes every flag.)
template <AluOp op, typename T, Handler generic, Ea kind, uint64_t kLive = flags::kStatus>
Fault AluGvEvMem(Cpu& c, const Insn& i) {
  const uint8_t* p = Host64(c, Linear64<kind>(c, i), sizeof(T), Access::kRead);
  if (p == nullptr) [[unlikely]] return Fallback<generic>(c, i);
  T b;
  std::memcpy(&b, p, sizeof(T));
  T r = AluFlags<op, T, kLive>(c, c.RegOp<T>(i, i.reg), b);
  if constexpr (op != AluOp::kCmp) c.SetRegOp<T>(i, i.reg, r);
  return Next(c, i);
}

// The accumulator with an immediate (04/05, 0C/0D, ... 3C/3D: AL, Ib and
// rAX, Iz).
template <AluOp op, typename T>
Fault AluAccImm(Cpu& c, const Insn& i) {
  T r = LazyAlu<op, T>(c, c.Gpr<T>(kRax), ImmAs<T>(i.imm));
  if constexpr (op != AluOp::kCmp) c.SetGpr<T>(kRax, r);
  return kOk;
}

// ---- TEST -------------------------------------------------------------------
// Lazily, as alu::Logic: the result, and an aux word of 0 (CF = OF = AF = 0).

template <typename T>
Fault TestAccImm(Cpu& c, const Insn& i) {
  SetLazy<T>(c, static_cast<T>(c.Gpr<T>(kRax) & ImmAs<T>(i.imm)), 0);
  return kOk;
}


template <typename T>
Fault TestEvGvReg(Cpu& c, const Insn& i) {
  SetLazy<T>(c, static_cast<T>(c.RegOp<T>(i, i.rm) & c.RegOp<T>(i, i.reg)), 0);
  return kOk;
}

template <typename T>
Fault TestEvIReg(Cpu& c, const Insn& i) {
  SetLazy<T>(c, static_cast<T>(c.RegOp<T>(i, i.rm) & ImmAs<T>(i.imm)), 0);
  return kOk;
}

template <typename T, Handler generic, Ea kind>
Fault TestEvGvMem(Cpu& c, const Insn& i) {
  const uint8_t* p = Host64(c, Linear64<kind>(c, i), sizeof(T), Access::kRead);
  if (p == nullptr) [[unlikely]] return Fallback<generic>(c, i);
  T a;
  std::memcpy(&a, p, sizeof(T));
  SetLazy<T>(c, static_cast<T>(a & c.RegOp<T>(i, i.reg)), 0);
  return Next(c, i);
}

template <typename T, Handler generic, Ea kind>
Fault TestEvIMem(Cpu& c, const Insn& i) {
  const uint8_t* p = Host64(c, Linear64<kind>(c, i), sizeof(T), Access::kRead);
  if (p == nullptr) [[unlikely]] return Fallback<generic>(c, i);
  T a;
  std::memcpy(&a, p, sizeof(T));
  SetLazy<T>(c, static_cast<T>(a & ImmAs<T>(i.imm)), 0);
  return Next(c, i);
}

// ---- MOV, MOVZX/MOVSX/MOVSXD, LEA ---------------------------------------------

template <typename T>
Fault MovEvGvReg(Cpu& c, const Insn& i) {
  c.SetRegOp<T>(i, i.rm, c.RegOp<T>(i, i.reg));
  return kOk;
}

template <typename T>
Fault MovGvEvReg(Cpu& c, const Insn& i) {
  c.SetRegOp<T>(i, i.reg, c.RegOp<T>(i, i.rm));
  return kOk;
}

template <typename T, Handler generic, Ea kind>
Fault MovEvGvMem(Cpu& c, const Insn& i) {
  uint8_t* p = Host64(c, Linear64<kind>(c, i), sizeof(T), Access::kWrite);
  if (p == nullptr) [[unlikely]] return Fallback<generic>(c, i);
  T v = c.RegOp<T>(i, i.reg);
  std::memcpy(p, &v, sizeof(T));
  return Next(c, i);
}

template <typename T, Handler generic, Ea kind>
Fault MovGvEvMem(Cpu& c, const Insn& i) {
  const uint8_t* p = Host64(c, Linear64<kind>(c, i), sizeof(T), Access::kRead);
  if (p == nullptr) [[unlikely]] return Fallback<generic>(c, i);
  T v;
  std::memcpy(&v, p, sizeof(T));
  c.SetRegOp<T>(i, i.reg, v);
  return Next(c, i);
}

template <typename T, Handler generic, Ea kind>
Fault MovEvIMem(Cpu& c, const Insn& i) {
  uint8_t* p = Host64(c, Linear64<kind>(c, i), sizeof(T), Access::kWrite);
  if (p == nullptr) [[unlikely]] return Fallback<generic>(c, i);
  T v = ImmAs<T>(i.imm);
  std::memcpy(p, &v, sizeof(T));
  return Next(c, i);
}

// MOVZX/MOVSX/MOVSXD: Src extended to T.
template <typename T, typename Src, bool sign>
X86VM_HOT_INLINE T Extend(Src v) {
  if constexpr (sign) {
    return static_cast<T>(static_cast<std::make_signed_t<T>>(static_cast<std::make_signed_t<Src>>(v)));
  } else {
    return static_cast<T>(v);
  }
}

// Register source: byte sources need RegOp (AH..BH without REX).
template <typename T, typename Src, bool sign>
Fault MovExtendReg(Cpu& c, const Insn& i) {
  c.SetGpr<T>(i.reg, Extend<T, Src, sign>(c.RegOp<Src>(i, i.rm)));
  return kOk;
}

template <typename T, typename Src, bool sign, Handler generic, Ea kind>
Fault MovExtendMem(Cpu& c, const Insn& i) {
  const uint8_t* p = Host64(c, Linear64<kind>(c, i), sizeof(Src), Access::kRead);
  if (p == nullptr) [[unlikely]] return Fallback<generic>(c, i);
  Src v;
  std::memcpy(&v, p, sizeof(Src));
  c.SetGpr<T>(i.reg, Extend<T, Src, sign>(v));
  return Next(c, i);
}

// LEA computes the offset only: no segment base.
template <typename T, Ea kind>
Fault Lea64(Cpu& c, const Insn& i) {
  uint64_t ea = i.disp;
  if constexpr (kind == Ea::kBase || kind == Ea::kBaseIndex) ea += c.s.gpr[i.base];
  if constexpr (kind == Ea::kBaseIndex || kind == Ea::kIndex) ea += c.s.gpr[i.index] << i.scale;
  if constexpr (kind == Ea::kRip) ea += c.s.rip + i.length;
  c.SetGpr<T>(i.reg, static_cast<T>(ea));
  return kOk;
}

// ---- Shifts by an immediate, IMUL, INC/DEC ------------------------------------

template <ShiftOp op, typename T>
Fault ShiftEvIbReg(Cpu& c, const Insn& i) {
  if constexpr (op == ShiftOp::kRol || op == ShiftOp::kRor) {
    // Only CF and OF change (and nothing for a count of 0): on exact flags.
    uint64_t fl = FlagsIn(c);
    c.SetGpr<T>(i.rm, alu::Shift<T>(op, c.Gpr<T>(i.rm), static_cast<uint8_t>(i.imm), fl));
    c.s.rflags = fl;
  } else {
    // SHL/SHR/SAR write all six (AF cleared) unless the masked count is 0,
    // which changes no flag (but a 32-bit destination is still written,
    // clearing bits 63:32).
    if ((i.imm & (sizeof(T) == 8 ? 63 : 31)) == 0) {
      c.SetGpr<T>(i.rm, c.Gpr<T>(i.rm));
      return kOk;
    }
    uint64_t fl = 0;
    T r = alu::Shift<T>(op, c.Gpr<T>(i.rm), static_cast<uint8_t>(i.imm), fl);
    SetLazy(c, r, lazy::CfOfAux((fl & flags::kCf) != 0, (fl & flags::kOf) != 0));
    c.SetGpr<T>(i.rm, r);
  }
  return kOk;
}

template <typename T>
Fault ImulGvEvReg(Cpu& c, const Insn& i) {
  uint64_t fl = FlagsIn(c);
  auto w = alu::Imul<T>(c.Gpr<T>(i.reg), c.Gpr<T>(i.rm), fl);
  c.s.rflags = fl;
  c.SetGpr<T>(i.reg, w.lo);
  return kOk;
}

template <bool inc, typename T>
Fault IncDecEvReg(Cpu& c, const Insn& i) {
  // ADD/SUB 1 with CF kept (alu::Inc, alu::Dec).
  const T a = c.Gpr<T>(i.rm);
  const T r = static_cast<T>(inc ? a + 1 : a - 1);
  const uint64_t aux = inc ? lazy::AddAux<T>(a, 1, r) : lazy::SubAux<T>(a, 1, r);
  SetLazy(c, r, lazy::KeepCf(aux, CarryIn(c)));
  c.SetGpr<T>(i.rm, r);
  return kOk;
}

// ---- Stack and near branches in 64-bit mode -------------------------------------
// The stack is SS:RSP with 64-bit addresses and no base (SDM Vol. 1 6.2.3).

Fault Push64Reg(Cpu& c, const Insn& i) {
  uint64_t rsp = c.s.gpr[kRsp] - 8;
  uint8_t* p = Host64(c, rsp, 8, Access::kWrite);
  if (p == nullptr) [[unlikely]] return Fallback<PushZv64>(c, i);
  std::memcpy(p, &c.s.gpr[i.reg], 8);
  c.s.gpr[kRsp] = rsp;
  return Next(c, i);
}

Fault Pop64Reg(Cpu& c, const Insn& i) {
  uint64_t rsp = c.s.gpr[kRsp];
  const uint8_t* p = Host64(c, rsp, 8, Access::kRead);
  if (p == nullptr) [[unlikely]] return Fallback<PopZv64>(c, i);
  uint64_t v;
  std::memcpy(&v, p, 8);
  c.s.gpr[kRsp] = rsp + 8;
  c.s.gpr[i.reg] = v;  // POP RSP loads the popped value (SDM Vol. 2 "POP").
  return Next(c, i);
}

// Jcc rel8/rel32 with the 64-bit operand size: a target outside the
// canonical range takes the generic path's #GP.
template <int cc, Handler generic>
Fault Jcc64(Cpu& c, const Insn& i) {
  if (!Cond<cc>(c)) return kOk;
  uint64_t target = c.next_rip + i.imm;
  if (!Cpu::IsCanonical(target)) [[unlikely]] return Generic<generic>(c, i);
  c.next_rip = target;
  return kOk;
}

Fault JmpRel64(Cpu& c, const Insn& i) {
  uint64_t target = c.next_rip + i.imm;
  if (!Cpu::IsCanonical(target)) [[unlikely]] return Generic<JmpJ64>(c, i);
  c.next_rip = target;
  return kOk;
}

Fault CallRel64(Cpu& c, const Insn& i) {
  uint64_t target = c.next_rip + i.imm;
  uint64_t rsp = c.s.gpr[kRsp] - 8;
  uint8_t* p = Host64(c, rsp, 8, Access::kWrite);
  if (!Cpu::IsCanonical(target) || p == nullptr) [[unlikely]] return Generic<CallJz64>(c, i);
  uint64_t ret = c.next_rip;
  std::memcpy(p, &ret, 8);
  c.s.gpr[kRsp] = rsp;
  c.next_rip = target;
  return kOk;
}

Fault RetNear64Fast(Cpu& c, const Insn& i) {
  uint64_t rsp = c.s.gpr[kRsp];
  const uint8_t* p = Host64(c, rsp, 8, Access::kRead);
  if (p == nullptr) [[unlikely]] return Generic<RetNear64>(c, i);
  uint64_t target;
  std::memcpy(&target, p, 8);
  if (!Cpu::IsCanonical(target)) [[unlikely]] return Generic<RetNear64>(c, i);
  c.s.gpr[kRsp] = rsp + 8;
  c.next_rip = target;
  return kOk;
}

// ---- CMOVcc, SETcc -------------------------------------------------------------------

// CMOVcc r, r: a 32-bit destination is zero-extended even when the
// condition is false (as Cmov in exec_move.cc).
template <int cc, typename T>
Fault CmovReg(Cpu& c, const Insn& i) {
  if (Cond<cc>(c)) c.SetGpr<T>(i.reg, c.Gpr<T>(i.rm));
  else if constexpr (sizeof(T) == 4) c.SetGpr<T>(i.reg, c.Gpr<T>(i.reg));
  return kOk;
}

// CMOVcc r, m: the source is read (and can fault) whatever the condition.
template <int cc, typename T, Handler generic, Ea kind>
Fault CmovMem(Cpu& c, const Insn& i) {
  const uint8_t* p = Host64(c, Linear64<kind>(c, i), sizeof(T), Access::kRead);
  if (p == nullptr) [[unlikely]] return Fallback<generic>(c, i);
  T v;
  std::memcpy(&v, p, sizeof(T));
  if (Cond<cc>(c)) c.SetGpr<T>(i.reg, v);
  else if constexpr (sizeof(T) == 4) c.SetGpr<T>(i.reg, c.Gpr<T>(i.reg));
  return Next(c, i);
}

template <int cc>
Fault SetccReg(Cpu& c, const Insn& i) {
  c.SetGpr8(i, i.rm, Cond<cc>(c) ? 1 : 0);
  return kOk;
}

// ---- Flag-free forms ----------------------------------------------------------------
// The same register instructions without their status-flag output, for
// instructions whose flags ElideDeadFlags proved dead: a later instruction
// on the same straight run overwrites every status flag before anything
// reads one. The flag computation is dead code here and the compiler drops
// it. ADC and SBB still read CF. CMP and TEST have no other output.

template <AluOp op, typename T>
Fault AluEvGvRegNf(Cpu& c, const Insn& i) {
  if constexpr (op != AluOp::kCmp) {
    c.SetGpr<T>(i.rm, AluNoFlags<op, T>(c, c.Gpr<T>(i.rm), c.Gpr<T>(i.reg)));
  }
  return kOk;
}

template <AluOp op, typename T>
Fault AluGvEvRegNf(Cpu& c, const Insn& i) {
  if constexpr (op != AluOp::kCmp) {
    c.SetGpr<T>(i.reg, AluNoFlags<op, T>(c, c.Gpr<T>(i.reg), c.Gpr<T>(i.rm)));
  }
  return kOk;
}

template <AluOp op, typename T>
Fault AluEvIRegNf(Cpu& c, const Insn& i) {
  if constexpr (op != AluOp::kCmp) {
    c.SetGpr<T>(i.rm, AluNoFlags<op, T>(c, c.Gpr<T>(i.rm), ImmAs<T>(i.imm)));
  }
  return kOk;
}

Fault TestNf(Cpu&, const Insn&) { return kOk; }

template <ShiftOp op, typename T>
Fault ShiftEvIbRegNf(Cpu& c, const Insn& i) {
  uint64_t fl = 0;  // ROL/ROR/SHL/SHR/SAL/SAR read no flag.
  c.SetGpr<T>(i.rm, alu::Shift<T>(op, c.Gpr<T>(i.rm), static_cast<uint8_t>(i.imm), fl));
  return kOk;
}

template <typename T>
Fault ImulGvEvRegNf(Cpu& c, const Insn& i) {
  uint64_t fl = 0;
  c.SetGpr<T>(i.reg, alu::Imul<T>(c.Gpr<T>(i.reg), c.Gpr<T>(i.rm), fl).lo);
  return kOk;
}

template <bool inc, typename T>
Fault IncDecEvRegNf(Cpu& c, const Insn& i) {
  c.SetGpr<T>(i.rm, static_cast<T>(inc ? c.Gpr<T>(i.rm) + 1 : c.Gpr<T>(i.rm) - 1));
  return kOk;
}

// ---- Picking a form ----------------------------------------------------------------

// The three 64-bit-mode memory forms of a handler template whose last
// parameter is the Ea kind.
#define X86_MEM3(F, ...) F<__VA_ARGS__, Ea::kBase>, F<__VA_ARGS__, Ea::kBaseIndex>, F<__VA_ARGS__, Ea::kRip>

// The memory form for this operand's addressing, or nullptr when the
// operand is not a 64-bit-mode memory operand with a 64-bit address and a
// base register (or RIP).
Handler PickMem64(const Insn& i, CodeMode mode, Handler base, Handler base_index, Handler rip) {
  if (mode != CodeMode::k64 || i.addrsize != 8 || !i.is_mem()) return nullptr;
  if (i.has(insn_flags::kRipRelative)) return rip;
  if (i.base == kNoReg) return nullptr;
  return i.index == kNoReg ? base : base_index;
}

template <AluOp op, typename T, Handler ev_gv, Handler gv_ev>
Handler PickAlu(const Insn& i, CodeMode mode, Handler h) {
  if (h == ev_gv) {
    if (!i.is_mem()) return AluEvGvReg<op, T>;
    return PickMem64(i, mode, X86_MEM3(AluEvGvMem, op, T, ev_gv));
  }
  if (!i.is_mem()) return AluGvEvReg<op, T>;
  return PickMem64(i, mode, X86_MEM3(AluGvEvMem, op, T, gv_ev));
}

template <AluOp op, typename T, Handler generic>
Handler PickAluImm(const Insn& i, CodeMode mode) {
  if (!i.is_mem()) return AluEvIReg<op, T>;
  return PickMem64(i, mode, X86_MEM3(AluEvIMem, op, T, generic));
}

template <typename T, Handler generic>
Handler PickGrp1(const Insn& i, CodeMode mode) {
  switch (static_cast<AluOp>(Digit(i))) {
    case AluOp::kAdd: return PickAluImm<AluOp::kAdd, T, generic>(i, mode);
    case AluOp::kOr: return PickAluImm<AluOp::kOr, T, generic>(i, mode);
    case AluOp::kAdc: return PickAluImm<AluOp::kAdc, T, generic>(i, mode);
    case AluOp::kSbb: return PickAluImm<AluOp::kSbb, T, generic>(i, mode);
    case AluOp::kAnd: return PickAluImm<AluOp::kAnd, T, generic>(i, mode);
    case AluOp::kSub: return PickAluImm<AluOp::kSub, T, generic>(i, mode);
    case AluOp::kXor: return PickAluImm<AluOp::kXor, T, generic>(i, mode);
    case AluOp::kCmp: return PickAluImm<AluOp::kCmp, T, generic>(i, mode);
  }
  return nullptr;
}

template <typename T>
Handler PickShiftIb(const Insn& i) {
  if (i.is_mem()) return nullptr;
  switch (static_cast<ShiftOp>(Digit(i))) {
    case ShiftOp::kRol: return ShiftEvIbReg<ShiftOp::kRol, T>;
    case ShiftOp::kRor: return ShiftEvIbReg<ShiftOp::kRor, T>;
    case ShiftOp::kShl: return ShiftEvIbReg<ShiftOp::kShl, T>;
    case ShiftOp::kShr: return ShiftEvIbReg<ShiftOp::kShr, T>;
    case ShiftOp::kSal: return ShiftEvIbReg<ShiftOp::kSal, T>;
    case ShiftOp::kSar: return ShiftEvIbReg<ShiftOp::kSar, T>;
    default: return nullptr;  // RCL/RCR: rare, generic.
  }
}

template <typename T, typename Src, bool sign, Handler generic>
Handler PickExtend(const Insn& i, CodeMode mode) {
  if (!i.is_mem()) return MovExtendReg<T, Src, sign>;
  return PickMem64(i, mode, X86_MEM3(MovExtendMem, T, Src, sign, generic));
}

// A 64-bit-mode memory operand with a 64-bit address, a scaled index and
// no base (SIB base 101 with mod 00: disp32 + index * scale).
bool IsIndexOnly64(const Insn& i, CodeMode mode) {
  return mode == CodeMode::k64 && i.addrsize == 8 && i.is_mem() && !i.has(insn_flags::kRipRelative) &&
         i.base == kNoReg && i.index != kNoReg;
}

// 64-bit-mode forms whose operand size is 64 (not 16 with a 66 prefix).
bool Is64BitOp(const Insn& i, CodeMode mode) { return mode == CodeMode::k64 && i.opsize == 8; }

Handler Pick(const Insn& i, CodeMode mode) {
  const Handler h = i.handler;
  // A LOCK prefix makes register forms #UD and memory forms atomic: generic.
  if (i.has(insn_flags::kLock)) return nullptr;
#define X86_ALU_PICK(Name, op)                                                   \
  if (h == Name##EvGv32 || h == Name##GvEv32) {                                  \
    return PickAlu<AluOp::op, uint32_t, Name##EvGv32, Name##GvEv32>(i, mode, h); \
  }                                                                              \
  if (h == Name##EvGv64 || h == Name##GvEv64) {                                  \
    return PickAlu<AluOp::op, uint64_t, Name##EvGv64, Name##GvEv64>(i, mode, h); \
  }
  X86_ALU_PICK(Add, kAdd)
  X86_ALU_PICK(Or, kOr)
  X86_ALU_PICK(Adc, kAdc)
  X86_ALU_PICK(Sbb, kSbb)
  X86_ALU_PICK(And, kAnd)
  X86_ALU_PICK(Sub, kSub)
  X86_ALU_PICK(Xor, kXor)
  X86_ALU_PICK(Cmp, kCmp)
#undef X86_ALU_PICK
  if (h == Grp1EvIz32) return PickGrp1<uint32_t, Grp1EvIz32>(i, mode);
  if (h == Grp1EvIb32) return PickGrp1<uint32_t, Grp1EvIb32>(i, mode);
  if (h == Grp1EvIz64) return PickGrp1<uint64_t, Grp1EvIz64>(i, mode);
  if (h == Grp1EvIb64) return PickGrp1<uint64_t, Grp1EvIb64>(i, mode);
  if (h == TestEvGv32) {
    return i.is_mem() ? PickMem64(i, mode, X86_MEM3(TestEvGvMem, uint32_t, TestEvGv32)) : TestEvGvReg<uint32_t>;
  }
  if (h == TestEvGv64) {
    return i.is_mem() ? PickMem64(i, mode, X86_MEM3(TestEvGvMem, uint64_t, TestEvGv64)) : TestEvGvReg<uint64_t>;
  }
  if (h == TestEvIz32) {
    return i.is_mem() ? PickMem64(i, mode, X86_MEM3(TestEvIMem, uint32_t, TestEvIz32)) : TestEvIReg<uint32_t>;
  }
  if (h == TestEvIz64) {
    return i.is_mem() ? PickMem64(i, mode, X86_MEM3(TestEvIMem, uint64_t, TestEvIz64)) : TestEvIReg<uint64_t>;
  }
  if (h == MovEvGv32) {
    return i.is_mem() ? PickMem64(i, mode, X86_MEM3(MovEvGvMem, uint32_t, MovEvGv32)) : MovEvGvReg<uint32_t>;
  }
  if (h == MovEvGv64) {
    return i.is_mem() ? PickMem64(i, mode, X86_MEM3(MovEvGvMem, uint64_t, MovEvGv64)) : MovEvGvReg<uint64_t>;
  }
  if (h == MovGvEv32) {
    return i.is_mem() ? PickMem64(i, mode, X86_MEM3(MovGvEvMem, uint32_t, MovGvEv32)) : MovGvEvReg<uint32_t>;
  }
  if (h == MovGvEv64) {
    return i.is_mem() ? PickMem64(i, mode, X86_MEM3(MovGvEvMem, uint64_t, MovGvEv64)) : MovGvEvReg<uint64_t>;
  }
  if (h == MovEvIz32 && i.is_mem()) return PickMem64(i, mode, X86_MEM3(MovEvIMem, uint32_t, MovEvIz32));
  if (h == MovEvIz64 && i.is_mem()) return PickMem64(i, mode, X86_MEM3(MovEvIMem, uint64_t, MovEvIz64));
  if (h == MovzxGvEb32) return PickExtend<uint32_t, uint8_t, false, MovzxGvEb32>(i, mode);
  if (h == MovzxGvEb64) return PickExtend<uint64_t, uint8_t, false, MovzxGvEb64>(i, mode);
  if (h == MovzxGvEw32) return PickExtend<uint32_t, uint16_t, false, MovzxGvEw32>(i, mode);
  if (h == MovzxGvEw64) return PickExtend<uint64_t, uint16_t, false, MovzxGvEw64>(i, mode);
  if (h == MovsxGvEb32) return PickExtend<uint32_t, uint8_t, true, MovsxGvEb32>(i, mode);
  if (h == MovsxGvEb64) return PickExtend<uint64_t, uint8_t, true, MovsxGvEb64>(i, mode);
  if (h == MovsxGvEw32) return PickExtend<uint32_t, uint16_t, true, MovsxGvEw32>(i, mode);
  if (h == MovsxGvEw64) return PickExtend<uint64_t, uint16_t, true, MovsxGvEw64>(i, mode);
  if (h == MovsxdGvEd64) return PickExtend<uint64_t, uint32_t, true, MovsxdGvEd64>(i, mode);
  if (h == LeaGvM32 && i.is_mem()) {
    if (IsIndexOnly64(i, mode)) return Lea64<uint32_t, Ea::kIndex>;
    return PickMem64(i, mode, X86_MEM3(Lea64, uint32_t));
  }
  if (h == LeaGvM64 && i.is_mem()) {
    if (IsIndexOnly64(i, mode)) return Lea64<uint64_t, Ea::kIndex>;
    return PickMem64(i, mode, X86_MEM3(Lea64, uint64_t));
  }
  if (h == Grp2EvIb32) return PickShiftIb<uint32_t>(i);
  if (h == Grp2EvIb64) return PickShiftIb<uint64_t>(i);
  if (h == ImulGvEv32 && !i.is_mem()) return ImulGvEvReg<uint32_t>;
  if (h == ImulGvEv64 && !i.is_mem()) return ImulGvEvReg<uint64_t>;
  if (h == IncEv32 && !i.is_mem()) return IncDecEvReg<true, uint32_t>;
  if (h == IncEv64 && !i.is_mem()) return IncDecEvReg<true, uint64_t>;
  if (h == DecEv32 && !i.is_mem()) return IncDecEvReg<false, uint32_t>;
  if (h == DecEv64 && !i.is_mem()) return IncDecEvReg<false, uint64_t>;
  // Byte forms (AH..BH through RegOp) and the accumulator forms.
#define X86_ALU_PICK8(Name, op)                                                                  \
  if (h == Name##EbGb) {                                                                         \
    return i.is_mem() ? PickMem64(i, mode, X86_MEM3(AluEvGvMem, AluOp::op, uint8_t, Name##EbGb)) \
                      : AluEvGvReg<AluOp::op, uint8_t>;                                          \
  }                                                                                              \
  if (h == Name##GbEb) {                                                                         \
    return i.is_mem() ? PickMem64(i, mode, X86_MEM3(AluGvEvMem, AluOp::op, uint8_t, Name##GbEb)) \
                      : AluGvEvReg<AluOp::op, uint8_t>;                                          \
  }                                                                                              \
  if (h == Name##ALIb) return AluAccImm<AluOp::op, uint8_t>;                                     \
  if (h == Name##rAXIz32) return AluAccImm<AluOp::op, uint32_t>;                                 \
  if (h == Name##rAXIz64) return AluAccImm<AluOp::op, uint64_t>;
  X86_ALU_PICK8(Add, kAdd)
  X86_ALU_PICK8(Or, kOr)
  X86_ALU_PICK8(Adc, kAdc)
  X86_ALU_PICK8(Sbb, kSbb)
  X86_ALU_PICK8(And, kAnd)
  X86_ALU_PICK8(Sub, kSub)
  X86_ALU_PICK8(Xor, kXor)
  X86_ALU_PICK8(Cmp, kCmp)
#undef X86_ALU_PICK8
  if (h == Grp1EbIb) return PickGrp1<uint8_t, Grp1EbIb>(i, mode);
  if (h == TestEbGb) {
    return i.is_mem() ? PickMem64(i, mode, X86_MEM3(TestEvGvMem, uint8_t, TestEbGb)) : TestEvGvReg<uint8_t>;
  }
  if (h == TestEbIb) {
    return i.is_mem() ? PickMem64(i, mode, X86_MEM3(TestEvIMem, uint8_t, TestEbIb)) : TestEvIReg<uint8_t>;
  }
  if (h == TestALIb) return TestAccImm<uint8_t>;
  if (h == TestrAXIz32) return TestAccImm<uint32_t>;
  if (h == TestrAXIz64) return TestAccImm<uint64_t>;
  if (h == MovEbGb) {
    return i.is_mem() ? PickMem64(i, mode, X86_MEM3(MovEvGvMem, uint8_t, MovEbGb)) : MovEvGvReg<uint8_t>;
  }
  if (h == MovGbEb) {
    return i.is_mem() ? PickMem64(i, mode, X86_MEM3(MovGvEvMem, uint8_t, MovGbEb)) : MovGvEvReg<uint8_t>;
  }
  if (h == MovEbIb && i.is_mem()) return PickMem64(i, mode, X86_MEM3(MovEvIMem, uint8_t, MovEbIb));
#define X86_CC_PICK(cc)                                                                            \
  if (h == Cmov##cc##32) {                                                                         \
    return i.is_mem() ? PickMem64(i, mode, X86_MEM3(CmovMem, cc, uint32_t, Cmov##cc##32))          \
                      : CmovReg<cc, uint32_t>;                                                     \
  }                                                                                                \
  if (h == Cmov##cc##64) {                                                                         \
    return i.is_mem() ? PickMem64(i, mode, X86_MEM3(CmovMem, cc, uint64_t, Cmov##cc##64))          \
                      : CmovReg<cc, uint64_t>;                                                     \
  }                                                                                                \
  if (h == Set##cc && !i.is_mem()) return SetccReg<cc>;
  X86_CC_PICK(0) X86_CC_PICK(1) X86_CC_PICK(2) X86_CC_PICK(3)
  X86_CC_PICK(4) X86_CC_PICK(5) X86_CC_PICK(6) X86_CC_PICK(7)
  X86_CC_PICK(8) X86_CC_PICK(9) X86_CC_PICK(10) X86_CC_PICK(11)
  X86_CC_PICK(12) X86_CC_PICK(13) X86_CC_PICK(14) X86_CC_PICK(15)
#undef X86_CC_PICK
  if (Is64BitOp(i, mode)) {
    if (h == PushZv64) return Push64Reg;
    if (h == PopZv64) return Pop64Reg;
    if (h == JmpJ64) return JmpRel64;
    if (h == CallJz64) return CallRel64;
    if (h == RetNear64) return RetNear64Fast;
#define X86_JCC_PICK(cc) \
  if (h == Jcc##cc##64) return Jcc64<cc, Jcc##cc##64>;
    X86_JCC_PICK(0) X86_JCC_PICK(1) X86_JCC_PICK(2) X86_JCC_PICK(3)
    X86_JCC_PICK(4) X86_JCC_PICK(5) X86_JCC_PICK(6) X86_JCC_PICK(7)
    X86_JCC_PICK(8) X86_JCC_PICK(9) X86_JCC_PICK(10) X86_JCC_PICK(11)
    X86_JCC_PICK(12) X86_JCC_PICK(13) X86_JCC_PICK(14) X86_JCC_PICK(15)
#undef X86_JCC_PICK
  }
  return nullptr;
}

#undef X86_MEM3

}  // namespace

Handler SpecializeHandler(const Insn& insn, CodeMode mode) {
  Handler h = Pick(insn, mode);
  if (h == nullptr) h = PickSse(insn, mode);
  return h != nullptr ? h : insn.handler;
}

namespace {

// ---- Threaded straight runs (Insn::threaded) --------------------------------------
// DispatchFast calls the first instruction's `threaded` handler once per
// straight run: each one runs its own handler (inlined here) and tail-calls
// the next, so a run costs one indirect call from the loop, not one per
// instruction. The last one of the run has its plain handler as `threaded`
// (ThreadedFor(const Insn&)), which returns to the loop, so nothing counts
// the run down. Register forms return kOk; only a memory form (which
// chains itself, see Next) or an SSE form (always last) can fault or ask
// for a stop. A run stays within one code
// page, which bounds the call depth where the compiler does not turn the
// tail calls into jumps (fastbuild, sanitizers).
template <Handler h>
X86VM_FLATTEN Fault Threaded(Cpu& c, const Insn& i) {
  (void)h(c, i);  // kOk: only the last of a run can fault.
  const Insn& next = (&i)[1];
  return next.threaded(c, next);
}

// What ElideDeadFlags needs to know about a specialized handler.
struct FlagForm {
  Handler full;       // The specialized handler, computing flags.
  Handler flag_free;  // Its form without the status-flag output.
  uint64_t reads;     // Status flags read (ADC/SBB: CF).
  uint64_t writes;    // Status flags written (shifts: if the count is not 0).
  bool shift = false; // A shift by Ib: a masked count of 0 writes no flag.
  Handler cf_only = nullptr;  // Its form computing only CF, and only ZF,
  Handler zf_only = nullptr;  // where one exists.
  // A memory form (Insn::ends_run): it may fault, so an elision walk
  // converts it but never passes it (see ElideDeadFlags).
  bool memory = false;
  // Threaded<> of full, flag_free, cf_only and zf_only (register forms).
  Handler threaded[4] = {};
};

constexpr uint64_t kAllFlags = flags::kStatus;
constexpr uint64_t kCfOnly = flags::kCf;
constexpr uint64_t kZfOnly = flags::kZf;

template <AluOp op>
constexpr uint64_t kAluReads = op == AluOp::kAdc || op == AluOp::kSbb ? flags::kCf : 0;

#define X86_NF_ALU_FORM(F, op, T)                                                          \
  {F<AluOp::op, T>, F##Nf<AluOp::op, T>, kAluReads<AluOp::op>, kAllFlags, false,        \
   F<AluOp::op, T, kCfOnly>, F<AluOp::op, T, kZfOnly>, false,                           \
   {Threaded<F<AluOp::op, T>>, Threaded<F##Nf<AluOp::op, T>>, Threaded<F<AluOp::op, T, kCfOnly>>, \
    Threaded<F<AluOp::op, T, kZfOnly>>}},
#define X86_NF_ALU_OP(op, T) \
  X86_NF_ALU_FORM(AluEvGvReg, op, T) X86_NF_ALU_FORM(AluGvEvReg, op, T) X86_NF_ALU_FORM(AluEvIReg, op, T)
#define X86_NF_ALU(T)                                                                      \
  X86_NF_ALU_OP(kAdd, T) X86_NF_ALU_OP(kOr, T) X86_NF_ALU_OP(kAdc, T) X86_NF_ALU_OP(kSbb, T) \
      X86_NF_ALU_OP(kAnd, T) X86_NF_ALU_OP(kSub, T) X86_NF_ALU_OP(kXor, T)                 \
          X86_NF_ALU_OP(kCmp, T)
// Register-addressed loads into ALU operations (add rax, [r12] before an
// ADC): the same forms PickAlu chooses, with their generic fallbacks.
#define X86_NF_ALU_MEM_KIND(op, Name, T, kind)                                                   \
  {AluGvEvMem<AluOp::op, T, Name, Ea::kind>, AluGvEvMem<AluOp::op, T, Name, Ea::kind, 0>,       \
   kAluReads<AluOp::op>, kAllFlags, false, AluGvEvMem<AluOp::op, T, Name, Ea::kind, kCfOnly>,    \
   AluGvEvMem<AluOp::op, T, Name, Ea::kind, kZfOnly>, true},
#define X86_NF_ALU_MEM(op, Name)                                                         \
  X86_NF_ALU_MEM_KIND(op, Name##32, uint32_t, kBase) X86_NF_ALU_MEM_KIND(op, Name##32, uint32_t, kBaseIndex) \
      X86_NF_ALU_MEM_KIND(op, Name##64, uint64_t, kBase) X86_NF_ALU_MEM_KIND(op, Name##64, uint64_t, kBaseIndex)
// Register forms with only a flag-free variant: F<__VA_ARGS__> and Nf<...>.
#define X86_NF_PLAIN(F, Nf, reads, writes, shift, ...)                                   \
  {F<__VA_ARGS__>, Nf<__VA_ARGS__>, reads, writes, shift, nullptr, nullptr, false,      \
   {Threaded<F<__VA_ARGS__>>, Threaded<Nf<__VA_ARGS__>>}},
#define X86_NF_SHIFT_OP(op, T, writes) \
  X86_NF_PLAIN(ShiftEvIbReg, ShiftEvIbRegNf, 0, writes, true, ShiftOp::op, T)
#define X86_NF_SHIFT(T)                                                                          \
  X86_NF_SHIFT_OP(kRol, T, flags::kCf | flags::kOf) X86_NF_SHIFT_OP(kRor, T, flags::kCf | flags::kOf) \
      X86_NF_SHIFT_OP(kShl, T, kAllFlags) X86_NF_SHIFT_OP(kShr, T, kAllFlags)                    \
          X86_NF_SHIFT_OP(kSal, T, kAllFlags) X86_NF_SHIFT_OP(kSar, T, kAllFlags)
#define X86_NF_OTHER(T)                                                                           \
  {TestEvGvReg<T>, TestNf, 0, kAllFlags, false, nullptr, nullptr, false,                          \
   {Threaded<TestEvGvReg<T>>, Threaded<TestNf>}},                                                 \
      {TestEvIReg<T>, TestNf, 0, kAllFlags, false, nullptr, nullptr, false,                       \
       {Threaded<TestEvIReg<T>>, Threaded<TestNf>}},                                              \
      X86_NF_PLAIN(ImulGvEvReg, ImulGvEvRegNf, 0, kAllFlags, false, T)                            \
      X86_NF_PLAIN(IncDecEvReg, IncDecEvRegNf, 0, kAllFlags & ~flags::kCf, false, true, T)        \
      X86_NF_PLAIN(IncDecEvReg, IncDecEvRegNf, 0, kAllFlags & ~flags::kCf, false, false, T)

const FlagForm kFlagForms[] = {
    X86_NF_ALU(uint32_t) X86_NF_ALU(uint64_t) X86_NF_SHIFT(uint32_t) X86_NF_SHIFT(uint64_t)
        X86_NF_OTHER(uint32_t) X86_NF_OTHER(uint64_t) X86_NF_ALU_MEM(kAdd, AddGvEv)
            X86_NF_ALU_MEM(kSub, SubGvEv) X86_NF_ALU_MEM(kCmp, CmpGvEv) X86_NF_ALU_MEM(kAdc, AdcGvEv)
                X86_NF_ALU_MEM(kSbb, SbbGvEv) X86_NF_ALU_MEM(kAnd, AndGvEv)};

#undef X86_NF_ALU_FORM
#undef X86_NF_ALU_OP
#undef X86_NF_ALU
#undef X86_NF_ALU_MEM_KIND
#undef X86_NF_ALU_MEM
#undef X86_NF_PLAIN
#undef X86_NF_SHIFT_OP
#undef X86_NF_SHIFT
#undef X86_NF_OTHER

// kFlagForms by `full`, sorted: FindFlagForm runs for every instruction
// decoded and on each step of an elision walk.
const std::vector<std::pair<Handler, const FlagForm*>>& FlagFormIndex() {
  static const std::vector<std::pair<Handler, const FlagForm*>> index = [] {
    std::vector<std::pair<Handler, const FlagForm*>> v;
    for (const FlagForm& f : kFlagForms) v.emplace_back(f.full, &f);
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return std::less<Handler>()(a.first, b.first); });
    return v;
  }();
  return index;
}

const FlagForm* FindFlagForm(Handler h) {
  const auto& index = FlagFormIndex();
  auto it = std::lower_bound(index.begin(), index.end(), h,
                             [](const auto& e, Handler key) { return std::less<Handler>()(e.first, key); });
  return it != index.end() && it->first == h ? it->second : nullptr;
}

// A straight handler and its Threaded<> form (nullptr: not straight).
struct StraightForm {
  Handler h;
  Handler threaded;
};
#define X86_TH(...) {__VA_ARGS__, Threaded<__VA_ARGS__>}

// Register-only instructions that neither read nor write flags and cannot
// fault. All are straight but RIP-relative LEA, which reads s.rip (stale in
// a straight run).
#define X86_NEUTRAL_LEA(T) \
  X86_TH(Lea64<T, Ea::kBase>), X86_TH(Lea64<T, Ea::kBaseIndex>), X86_TH(Lea64<T, Ea::kIndex>), {Lea64<T, Ea::kRip>, nullptr}
const StraightForm kNeutral[] = {
    X86_TH(MovEvGvReg<uint32_t>), X86_TH(MovEvGvReg<uint64_t>), X86_TH(MovGvEvReg<uint32_t>),
    X86_TH(MovGvEvReg<uint64_t>), X86_TH(MovExtendReg<uint32_t, uint8_t, false>),
    X86_TH(MovExtendReg<uint64_t, uint8_t, false>), X86_TH(MovExtendReg<uint32_t, uint16_t, false>),
    X86_TH(MovExtendReg<uint64_t, uint16_t, false>), X86_TH(MovExtendReg<uint32_t, uint8_t, true>),
    X86_TH(MovExtendReg<uint64_t, uint8_t, true>), X86_TH(MovExtendReg<uint32_t, uint16_t, true>),
    X86_TH(MovExtendReg<uint64_t, uint16_t, true>), X86_TH(MovExtendReg<uint64_t, uint32_t, true>),
    X86_NEUTRAL_LEA(uint32_t), X86_NEUTRAL_LEA(uint64_t)};
#undef X86_NEUTRAL_LEA

bool IsFlagNeutral(Handler h) {
  for (const StraightForm& n : kNeutral) {
    if (n.h == h) return true;
  }
  return false;
}

// The status flags a condition code reads (SDM Vol. 1 Table B-1): O, B/C,
// Z, BE, S, P, L, LE and their negations.
constexpr uint64_t CcReads(int cc) {
  switch (cc >> 1) {
    case 0: return flags::kOf;
    case 1: return flags::kCf;
    case 2: return flags::kZf;
    case 3: return flags::kCf | flags::kZf;
    case 4: return flags::kSf;
    case 5: return flags::kPf;
    case 6: return flags::kSf | flags::kOf;
    default: return flags::kZf | flags::kSf | flags::kOf;
  }
}

// Register-only SETcc and CMOVcc: they read the flags of their condition,
// write none, and cannot fault. Returns the flags read, or -1 for any
// other handler.
int64_t FlagReaderReads(Handler h) {
#define X86_READER_CC(cc) {CmovReg<cc, uint32_t>, cc}, {CmovReg<cc, uint64_t>, cc}, {SetccReg<cc>, cc},
  static const struct {
    Handler h;
    int cc;
  } kReaders[] = {X86_READER_CC(0) X86_READER_CC(1) X86_READER_CC(2) X86_READER_CC(3)
                      X86_READER_CC(4) X86_READER_CC(5) X86_READER_CC(6) X86_READER_CC(7)
                          X86_READER_CC(8) X86_READER_CC(9) X86_READER_CC(10) X86_READER_CC(11)
                              X86_READER_CC(12) X86_READER_CC(13) X86_READER_CC(14) X86_READER_CC(15)};
#undef X86_READER_CC
  for (const auto& r : kReaders) {
    if (r.h == h) return static_cast<int64_t>(CcReads(r.cc));
  }
  return -1;
}

// The status flags a FlagForm instruction writes (a shift by a masked
// count of 0 writes none).
uint64_t Writes(const FlagForm& f, const Insn& insn) {
  if (f.shift && (insn.imm & (insn.opsize == 8 ? 63 : 31)) == 0) return 0;
  return f.writes;
}

// Its form computing only `needed` of the flags it writes, if there is one.
Handler FormFor(const FlagForm& f, uint64_t needed) {
  if (needed == 0) return f.flag_free;
  if (needed == flags::kCf) return f.cf_only;
  if (needed == flags::kZf) return f.zf_only;
  return nullptr;
}

}  // namespace

void ElideDeadFlags(Insn* insns, size_t count) {
  // The last Insn was just decoded as the fall-through successor of the one
  // before it. The flags it overwrites without reading are dead before it.
  // Walk back along the chained run, keeping the set of dead flags: an
  // instruction whose outputs are dead in part gets the form that computes
  // only the rest (none, CF only or ZF only), SETcc and CMOVcc make the
  // flags they read live, and flag-neutral ones change nothing. Every
  // instruction on the way is marked kFlagsDead, which tells DispatchFast to
  // run on to the successor before it ever stops (so no event, fault or
  // state read can see the stale flags in between) and the careful loops to
  // use FullFlagsHandler.
  //
  // Nothing on the way may fault, since a fault would see stale flags. A
  // memory form can start a span (if it faults it has changed nothing, and
  // the flags before it are whole), so the walk converts it and stops; it
  // never triggers one (its fault would leave the flags before it stale).
  if (count < 2) return;
  const Insn& last = insns[count - 1];
  const FlagForm* lf = FindFlagForm(last.handler);
  if (lf == nullptr || lf->memory) return;
  uint64_t dead = Writes(*lf, last) & ~lf->reads;
  constexpr int kMaxWalk = 16;
  for (size_t k = count - 1, steps = 0; k > 0 && steps < kMaxWalk && dead != 0; ++steps) {
    Insn& x = insns[--k];
    if (!x.has(insn_flags::kChained) || x.has(insn_flags::kFlagsDead)) return;
    if (const FlagForm* f = FindFlagForm(x.handler)) {
      const uint64_t writes = Writes(*f, x);
      const Handler form = FormFor(*f, writes & ~dead);
      if (form == nullptr) return;  // Its flags are needed: it stays whole.
      x.handler = form;
      x.threaded = ThreadedFor(x);
      x.flags |= insn_flags::kFlagsDead;
      if (f->memory) return;
      dead = (dead | writes) & ~f->reads;
    } else if (int64_t reads = FlagReaderReads(x.handler); reads >= 0) {
      x.flags |= insn_flags::kFlagsDead;
      dead &= ~static_cast<uint64_t>(reads);
    } else if (IsFlagNeutral(x.handler)) {
      x.flags |= insn_flags::kFlagsDead;
    } else {
      return;
    }
  }
}

Handler FullFlagsHandler(const Insn& insn) {
  if (!insn.has(insn_flags::kFlagsDead)) return insn.handler;
  for (const FlagForm& f : kFlagForms) {
    if (f.flag_free == insn.handler || f.cf_only == insn.handler || f.zf_only == insn.handler) return f.full;
  }
  return insn.handler;  // Flag-neutral: the same handler.
}

namespace {

#define X86_STRAIGHT_CC(cc) X86_TH(CmovReg<cc, uint32_t>), X86_TH(CmovReg<cc, uint64_t>), X86_TH(SetccReg<cc>),
#define X86_STRAIGHT_ALU8(op)                                                                 \
  X86_TH(AluEvGvReg<AluOp::op, uint8_t>), X86_TH(AluGvEvReg<AluOp::op, uint8_t>),            \
      X86_TH(AluEvIReg<AluOp::op, uint8_t>), X86_TH(AluAccImm<AluOp::op, uint8_t>),          \
      X86_TH(AluAccImm<AluOp::op, uint32_t>), X86_TH(AluAccImm<AluOp::op, uint64_t>),
// The flag readers and byte forms: straight, outside kFlagForms and kNeutral.
const StraightForm kOtherStraight[] = {
    X86_STRAIGHT_CC(0) X86_STRAIGHT_CC(1) X86_STRAIGHT_CC(2) X86_STRAIGHT_CC(3)
    X86_STRAIGHT_CC(4) X86_STRAIGHT_CC(5) X86_STRAIGHT_CC(6) X86_STRAIGHT_CC(7)
    X86_STRAIGHT_CC(8) X86_STRAIGHT_CC(9) X86_STRAIGHT_CC(10) X86_STRAIGHT_CC(11)
    X86_STRAIGHT_CC(12) X86_STRAIGHT_CC(13) X86_STRAIGHT_CC(14) X86_STRAIGHT_CC(15)
    X86_STRAIGHT_ALU8(kAdd) X86_STRAIGHT_ALU8(kOr) X86_STRAIGHT_ALU8(kAdc) X86_STRAIGHT_ALU8(kSbb)
    X86_STRAIGHT_ALU8(kAnd) X86_STRAIGHT_ALU8(kSub) X86_STRAIGHT_ALU8(kXor) X86_STRAIGHT_ALU8(kCmp)
    X86_TH(TestEvGvReg<uint8_t>), X86_TH(TestEvIReg<uint8_t>), X86_TH(TestAccImm<uint8_t>),
    X86_TH(TestAccImm<uint32_t>), X86_TH(TestAccImm<uint64_t>), X86_TH(MovEvGvReg<uint8_t>),
    X86_TH(MovGvEvReg<uint8_t>)};
#undef X86_STRAIGHT_CC
#undef X86_STRAIGHT_ALU8

bool HandlerLess(const StraightForm& a, const StraightForm& b) { return std::less<Handler>()(a.h, b.h); }

// Every straight handler with its Threaded<> form, sorted by handler: the
// FlagForm register handlers (full, flag-free, CF-only, ZF-only), the
// flag-neutral ones but RIP-relative LEA, and kOtherStraight. Built once;
// ThreadedFor runs for every instruction decoded.
const std::vector<StraightForm>& StraightIndex() {
  static const std::vector<StraightForm> index = [] {
    std::vector<StraightForm> v;
    for (const FlagForm& f : kFlagForms) {
      if (f.memory) continue;  // RunsStraightToFault.
      const Handler forms[4] = {f.full, f.flag_free, f.cf_only, f.zf_only};
      for (int k = 0; k < 4; ++k) {
        if (forms[k] != nullptr) v.push_back({forms[k], f.threaded[k]});
      }
    }
    for (const StraightForm& n : kNeutral) {
      if (n.threaded != nullptr) v.push_back(n);
    }
    for (const StraightForm& o : kOtherStraight) v.push_back(o);
    std::sort(v.begin(), v.end(), HandlerLess);
    return v;
  }();
  return index;
}

}  // namespace

Handler ThreadedFor(Handler h) {
  const std::vector<StraightForm>& index = StraightIndex();
  auto it = std::lower_bound(index.begin(), index.end(), StraightForm{h, nullptr}, HandlerLess);
  return it != index.end() && it->h == h ? it->threaded : nullptr;
}

bool RunsStraight(Handler h) { return ThreadedFor(h) != nullptr; }

Handler ThreadedFor(const Insn& insn) {
  if (insn.chains_itself) return insn.handler;
  Handler t = insn.ends_run ? insn.handler : ThreadedFor(insn.handler);
  // The last of its run returns to DispatchFast.
  return t != nullptr && insn.run == 1 ? insn.handler : t;
}

namespace {

#define X86_V(h) h##16, h##32, h##64
// Generic handlers that neither read nor write RFLAGS' status flags (nor
// RFLAGS as a whole): moves, exchanges, stack and near branches without a
// condition, MOVS/STOS/LODS (DF only), NOPs and SSE moves. They may run
// with lazy flags pending; a fault they raise goes through RaiseException,
// which materializes them.
const Handler kStatusFlagsNeutral[] = {
    X86_V(MovEvGv), X86_V(MovGvEv), X86_V(MovEvIz), X86_V(MovZvIv), MovEbGb, MovGbEb, MovEbIb, MovZbIb,
    X86_V(MovzxGvEb), X86_V(MovzxGvEw), X86_V(MovsxGvEb), X86_V(MovsxGvEw), X86_V(MovsxdGvEd),
    X86_V(LeaGvM), X86_V(XchgEvGv), XchgEbGb, X86_V(XchgZvrAX), Nop, X86_V(CbwCwdeCdqe),
    X86_V(CwdCdqCqo), X86_V(PushZv), X86_V(PopZv), X86_V(PushIz), X86_V(PushIb), X86_V(Leave),
    X86_V(CallJz), X86_V(CallEv), X86_V(RetNear), X86_V(JmpJ), X86_V(JmpEv), MovsYbXb,
    X86_V(MovsYvXv), StosYbAL, X86_V(StosYvrAX), LodsALXb, X86_V(LodsrAXXv), MovupsVxWx, MovupsWxVx,
    MovapsVxWx, MovapsWxVx, MovdVyEy32, MovdVyEy64, MovdEyVy32, MovdEyVy64, MovqVxWq, MovqWqVx};
#undef X86_V

}  // namespace

bool LeavesStatusFlagsAlone(Handler decoded) {
  static const SortedHandlers neutral({std::begin(kStatusFlagsNeutral), std::end(kStatusFlagsNeutral)});
  return neutral.Contains(decoded);
}

bool RunsStraightToFault(const Insn& insn, Handler decoded) {
  if (insn.handler == Push64Reg || insn.handler == Pop64Reg || IsSseForm(insn.handler)) return true;
  // Every specialized memory form (PickMem64) is a load, store or
  // read-modify-write through FastLinearHost; only the RIP-relative ones
  // read s.rip. LEA is straight already (RunsStraight).
  return insn.handler != decoded && insn.is_mem() && !insn.has(insn_flags::kRipRelative) &&
         !RunsStraight(insn.handler);
}

#undef X86_TH

}  // namespace x86vm
