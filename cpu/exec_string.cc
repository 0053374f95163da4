// String instructions with REP/REPE/REPNE (SDM Vol. 2 "MOVS", "CMPS",
// "SCAS", "LODS", "STOS", "INS", "OUTS", "REP"). Every iteration commits its
// register updates, so a fault mid-string leaves rSI/rDI/rCX showing the
// progress and RIP at the instruction, which then restarts where it stopped.
// Long REP runs are cut into chunks (RIP left at the instruction) so that
// interrupts and the deadline are seen.
#include "cpu/exec_common.h"

namespace x86vm {
namespace {

// Iterations per execution of a REP instruction before yielding.
constexpr uint64_t kRepChunk = 4096;

enum class StrOp { kMovs, kCmps, kStos, kLods, kScas, kIns, kOuts };

void Advance(Cpu& c, int reg, int64_t delta, unsigned addrsize) {
  uint64_t v = c.s.gpr[reg] + static_cast<uint64_t>(delta);
  if (addrsize == 2) c.SetGpr<uint16_t>(reg, static_cast<uint16_t>(v));
  else if (addrsize == 4) c.SetGpr<uint32_t>(reg, static_cast<uint32_t>(v));
  else c.s.gpr[reg] = v;
}

template <StrOp op, typename T>
Fault StringOne(Cpu& c, const Insn& i) {
  uint64_t mask = Cpu::AddrMask(i.addrsize);
  int64_t delta = (c.s.rflags & flags::kDf) ? -static_cast<int64_t>(sizeof(T)) : sizeof(T);
  uint64_t si = c.s.gpr[kRsi] & mask, di = c.s.gpr[kRdi] & mask;
  T a, b;
  switch (op) {
    case StrOp::kMovs:
      X86_TRY(c.Read<T>(i.seg, si, a));
      X86_TRY(c.Write<T>(kEs, di, a));
      Advance(c, kRsi, delta, i.addrsize);
      Advance(c, kRdi, delta, i.addrsize);
      break;
    case StrOp::kCmps:
      X86_TRY(c.Read<T>(i.seg, si, a));
      X86_TRY(c.Read<T>(kEs, di, b));
      alu::Sub<T>(a, b, false, c.s.rflags);
      Advance(c, kRsi, delta, i.addrsize);
      Advance(c, kRdi, delta, i.addrsize);
      break;
    case StrOp::kStos:
      X86_TRY(c.Write<T>(kEs, di, c.Gpr<T>(kRax)));
      Advance(c, kRdi, delta, i.addrsize);
      break;
    case StrOp::kLods:
      X86_TRY(c.Read<T>(i.seg, si, a));
      c.SetGpr<T>(kRax, a);
      Advance(c, kRsi, delta, i.addrsize);
      break;
    case StrOp::kScas:
      X86_TRY(c.Read<T>(kEs, di, b));
      alu::Sub<T>(c.Gpr<T>(kRax), b, false, c.s.rflags);
      Advance(c, kRdi, delta, i.addrsize);
      break;
    case StrOp::kIns: {
      uint16_t port = c.Gpr<uint16_t>(kRdx);
      X86_TRY(c.CheckIoPermission(port, sizeof(T)));
      // The destination is checked before the port is read (SDM: INS faults
      // leave the device untouched).
      X86_TRY(c.ProbeWrite(kEs, di, sizeof(T)));
      a = static_cast<T>(c.PortRead(port, sizeof(T)));
      X86_TRY(c.Write<T>(kEs, di, a));
      Advance(c, kRdi, delta, i.addrsize);
      break;
    }
    case StrOp::kOuts: {
      uint16_t port = c.Gpr<uint16_t>(kRdx);
      X86_TRY(c.CheckIoPermission(port, sizeof(T)));
      X86_TRY(c.Read<T>(i.seg, si, a));
      c.PortWrite(port, sizeof(T), a);
      Advance(c, kRsi, delta, i.addrsize);
      break;
    }
  }
  return kOk;
}

template <StrOp op, typename T>
Fault StringRep(Cpu& c, const Insn& i) {
  if (i.rep == Rep::kNone) return StringOne<op, T>(c, i);
  constexpr bool kCompares = op == StrOp::kCmps || op == StrOp::kScas;
  for (uint64_t n = 0; n < kRepChunk; ++n) {
    if (CountReg(c, i) == 0) return kOk;
    X86_TRY(StringOne<op, T>(c, i));
    SetCountReg(c, i, (CountReg(c, i) - 1) & Cpu::AddrMask(i.addrsize));
    if constexpr (kCompares) {
      bool zf = (c.s.rflags & flags::kZf) != 0;
      if (i.rep == Rep::kRepe && !zf) return kOk;
      if (i.rep == Rep::kRepne && zf) return kOk;
    }
  }
  if (CountReg(c, i) != 0) {
    c.next_rip = c.s.rip;  // Continue in the next slice.
    c.MarkRepIncomplete();
  }
  return kOk;
}

}  // namespace

X86_DEFINE_B(MovsYbXb, StringRep, StrOp::kMovs)
X86_DEFINE_V(MovsYvXv, StringRep, StrOp::kMovs)
X86_DEFINE_B(CmpsXbYb, StringRep, StrOp::kCmps)
X86_DEFINE_V(CmpsXvYv, StringRep, StrOp::kCmps)
X86_DEFINE_B(StosYbAL, StringRep, StrOp::kStos)
X86_DEFINE_V(StosYvrAX, StringRep, StrOp::kStos)
X86_DEFINE_B(LodsALXb, StringRep, StrOp::kLods)
X86_DEFINE_V(LodsrAXXv, StringRep, StrOp::kLods)
X86_DEFINE_B(ScasALYb, StringRep, StrOp::kScas)
X86_DEFINE_V(ScasrAXYv, StringRep, StrOp::kScas)
X86_DEFINE_B(InsYbDX, StringRep, StrOp::kIns)
Fault InsYzDX16(Cpu& c, const Insn& i) { return StringRep<StrOp::kIns, uint16_t>(c, i); }
Fault InsYzDX32(Cpu& c, const Insn& i) { return StringRep<StrOp::kIns, uint32_t>(c, i); }
X86_DEFINE_B(OutsDXXb, StringRep, StrOp::kOuts)
Fault OutsDXXz16(Cpu& c, const Insn& i) { return StringRep<StrOp::kOuts, uint16_t>(c, i); }
Fault OutsDXXz32(Cpu& c, const Insn& i) { return StringRep<StrOp::kOuts, uint32_t>(c, i); }

}  // namespace x86vm
