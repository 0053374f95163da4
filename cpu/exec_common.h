// Shared helpers for the instruction handlers (exec_*.cc): handler
// definition macros, operand-size dispatch, condition codes.
#ifndef X86VM_CPU_EXEC_COMMON_H_
#define X86VM_CPU_EXEC_COMMON_H_

#include <cstdint>
#include <type_traits>

#include "cpu/alu.h"
#include "cpu/cpu.h"
#include "cpu/handlers.h"

namespace x86vm {

// Defines name16/name32/name64 as instances of a handler template whose last
// template parameter is the operand type.
#define X86_DEFINE_V(name, tmpl, ...)                                                 \
  Fault name##16(Cpu& c, const Insn& i) { return tmpl<__VA_ARGS__ __VA_OPT__(, ) uint16_t>(c, i); } \
  Fault name##32(Cpu& c, const Insn& i) { return tmpl<__VA_ARGS__ __VA_OPT__(, ) uint32_t>(c, i); } \
  Fault name##64(Cpu& c, const Insn& i) { return tmpl<__VA_ARGS__ __VA_OPT__(, ) uint64_t>(c, i); }

// Defines a byte-operand handler from the same template.
#define X86_DEFINE_B(name, tmpl, ...) \
  Fault name(Cpu& c, const Insn& i) { return tmpl<__VA_ARGS__ __VA_OPT__(, ) uint8_t>(c, i); }

// The unsigned type of an operand size in bytes.
template <int N>
using UInt = std::conditional_t<N == 1, uint8_t,
             std::conditional_t<N == 2, uint16_t, std::conditional_t<N == 4, uint32_t, uint64_t>>>;

// Reads the destination of a read-modify-write instruction (ALU ops, INC,
// NOT, shifts, BTS, XADD, XCHG...). The processor reads it with write
// intent, so a memory operand that may not be written faults as a write
// (#PF with W = 1, #GP for a read-only segment) before it is read; the
// host's KVM oracle shows W = 1 (SDM Vol. 3 4.7).
template <typename T>
X86VM_HOT_INLINE Fault ReadModifyE(Cpu& c, const Insn& i, T& v) {
  if (i.is_mem()) return c.ReadForWrite<T>(i.seg, c.Ea(i), v);
  v = c.RegOp<T>(i, i.rm);
  return kOk;
}

// Sign-extends the low bits of an immediate to T.
template <typename T>
constexpr T ImmAs(uint64_t imm) {
  return static_cast<T>(imm);
}

// Evaluates condition code `cc` (the low 4 bits of Jcc/SETcc/CMOVcc; SDM
// Vol. 1 Table B-1) against RFLAGS.
constexpr bool Condition(int cc, uint64_t fl) {
  bool cf = fl & flags::kCf, zf = fl & flags::kZf, sf = fl & flags::kSf, of = fl & flags::kOf,
       pf = fl & flags::kPf;
  bool r = false;
  switch (cc >> 1) {
    case 0: r = of; break;
    case 1: r = cf; break;
    case 2: r = zf; break;
    case 3: r = cf || zf; break;
    case 4: r = sf; break;
    case 5: r = pf; break;
    case 6: r = sf != of; break;
    case 7: r = zf || (sf != of); break;
  }
  return (cc & 1) ? !r : r;
}

// The device-not-available rules shared by every x87 instruction (SDM Vol. 3
// Table 2-2): #NM when CR0.EM or CR0.TS is set.
inline Fault CheckX87(const Cpu& c) {
  return (c.s.cr0 & (cr0::kEm | cr0::kTs)) ? Raise(kNm) : kOk;
}

// The rules shared by every SSE instruction (SDM Vol. 3 13.1, Table 2-2):
// #UD when CR0.EM is set or CR4.OSFXSR is clear, then #NM when CR0.TS is set.
inline Fault CheckSse(const Cpu& c) {
  if ((c.s.cr0 & cr0::kEm) || !(c.s.cr4 & cr4::kOsfxsr)) return Raise(kUd);
  return (c.s.cr0 & cr0::kTs) ? Raise(kNm) : kOk;
}

// The /digit of a group opcode (ModRM.reg without REX.R).
inline int Digit(const Insn& i) { return (i.modrm >> 3) & 7; }

// Masks a count register value to the address size (rCX for LOOP/REP).
inline uint64_t CountReg(const Cpu& c, const Insn& i) {
  return c.s.gpr[kRcx] & Cpu::AddrMask(i.addrsize);
}
inline void SetCountReg(Cpu& c, const Insn& i, uint64_t v) {
  if (i.addrsize == 2) c.SetGpr<uint16_t>(kRcx, static_cast<uint16_t>(v));
  else if (i.addrsize == 4) c.SetGpr<uint32_t>(kRcx, static_cast<uint32_t>(v));
  else c.s.gpr[kRcx] = v;
}

}  // namespace x86vm

#endif  // X86VM_CPU_EXEC_COMMON_H_
