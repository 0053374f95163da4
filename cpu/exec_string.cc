// String instructions with REP/REPE/REPNE (SDM Vol. 2 "MOVS", "CMPS",
// "SCAS", "LODS", "STOS", "INS", "OUTS", "REP"). Every iteration commits its
// register updates, so a fault mid-string leaves rSI/rDI/rCX showing the
// progress and RIP at the instruction, which then restarts where it stopped.
// Long REP runs are cut into chunks (RIP left at the instruction) so that
// interrupts and the deadline are seen.
#include <algorithm>
#include <cstring>

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
      // The SDM does not order the two reads; the hardware (the KVM ring-3
      // oracle) and QEMU read ES:rDI first, so when both fault, CR2 names
      // the destination.
      X86_TRY(c.Read<T>(kEs, di, b));
      X86_TRY(c.Read<T>(i.seg, si, a));
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

// REP MOVS / REP STOS: whole runs inside one page at a time through host
// pointers, forward (DF=0) or backward (DF=1). Returns the elements done;
// stops (for the precise one-element path to continue) at page ends, TLB
// misses, MMIO, code pages and anything else FastHostPointer refuses. When
// source and destination overlap, the copy goes element by element in the
// instruction's direction, which is exactly the architectural result.
template <StrOp op, typename T>
uint64_t FastBulk(Cpu& c, const Insn& i, uint64_t count) {
  constexpr uint64_t kSize = sizeof(T);
  const bool down = (c.s.rflags & flags::kDf) != 0;
  uint64_t mask = Cpu::AddrMask(i.addrsize);
  // The segment base as linear addressing uses it (only FS/GS in 64-bit mode).
  auto base = [&](int seg) {
    return (!c.is64() || seg == kFs || seg == kGs) ? c.s.seg[seg].base : 0;
  };
  // Elements from `off` on, in the direction of travel, that stay in this
  // page and do not wrap the address size.
  auto room = [&](int seg, uint64_t off) -> uint64_t {
    uint64_t in_page = (base(seg) + off) & 0xfff;
    if (!down) return std::min((4096 - in_page) / kSize, (mask - off) / kSize + 1);
    if (in_page + kSize > 4096) return 0;  // The element crosses the page.
    return std::min(in_page / kSize, off / kSize) + 1;
  };
  uint64_t done = 0;
  while (done < count) {
    uint64_t di = c.s.gpr[kRdi] & mask;
    uint64_t si = c.s.gpr[kRsi] & mask;
    uint64_t n = std::min(room(kEs, di), count - done);
    if (op == StrOp::kMovs) n = std::min(n, room(i.seg, si));
    if (n == 0) break;
    unsigned bytes = static_cast<unsigned>(n * kSize);
    // The lowest address each run touches.
    uint64_t di_low = down ? di - (n - 1) * kSize : di;
    uint64_t si_low = down ? si - (n - 1) * kSize : si;
    uint8_t* dst = c.FastHostPointer(kEs, di_low, bytes, Access::kWrite);
    if (dst == nullptr) break;
    if (op == StrOp::kStos) {
      T v = c.Gpr<T>(kRax);
      if (kSize == 1) {
        std::memset(dst, static_cast<uint8_t>(v), bytes);
      } else {
        for (uint64_t k = 0; k < n; ++k) std::memcpy(dst + k * kSize, &v, kSize);
      }
    } else {
      const uint8_t* src = c.FastHostPointer(i.seg, si_low, bytes, Access::kRead);
      if (src == nullptr) break;
      if (dst >= src + bytes || src >= dst + bytes) {
        std::memcpy(dst, src, bytes);
      } else {
        // Element by element in the direction of travel.
        for (uint64_t k = 0; k < n; ++k) {
          uint64_t at = down ? (n - 1 - k) * kSize : k * kSize;
          T v;
          std::memcpy(&v, src + at, kSize);
          std::memcpy(dst + at, &v, kSize);
        }
      }
      uint64_t next_si = down ? si - bytes : si + bytes;
      c.s.gpr[kRsi] = (c.s.gpr[kRsi] & ~mask) | (next_si & mask);
    }
    uint64_t next_di = down ? di - bytes : di + bytes;
    c.s.gpr[kRdi] = (c.s.gpr[kRdi] & ~mask) | (next_di & mask);
    if (i.addrsize == 4) {
      c.s.gpr[kRdi] &= 0xffffffffull;
      if (op == StrOp::kMovs) c.s.gpr[kRsi] &= 0xffffffffull;
    }
    done += n;
  }
  return done;
}

template <StrOp op, typename T>
Fault StringRep(Cpu& c, const Insn& i) {
  if (i.rep == Rep::kNone) return StringOne<op, T>(c, i);
  if constexpr (op == StrOp::kMovs || op == StrOp::kStos) {
    // Alternate bulk runs and single precise steps (which fill the TLB or
    // raise the fault) within one chunk.
    uint64_t budget = kRepChunk * 64;
    while (budget > 0) {
      uint64_t count = CountReg(c, i);
      if (count == 0) return kOk;
      uint64_t n = FastBulk<op, T>(c, i, std::min(count, budget));
      SetCountReg(c, i, count - n);
      budget -= std::min(budget, n);
      if (CountReg(c, i) == 0) return kOk;
      X86_TRY(StringOne<op, T>(c, i));
      SetCountReg(c, i, CountReg(c, i) - 1);
      if (budget) --budget;
    }
    if (CountReg(c, i) != 0) {
      c.next_rip = c.s.rip;
      c.MarkRepIncomplete();
    }
    return kOk;
  }
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
