// System instruction handlers (SDM Vol. 2: IN, OUT, HLT, CLI, STI, CPUID,
// RDTSC, RDTSCP, RDMSR, WRMSR, MOV CRn/DRn, CLTS, LGDT, LIDT, SGDT, SIDT,
// LLDT, SLDT, LTR, STR, LMSW, SMSW, LAR, LSL, VERR, VERW, ARPL, INVLPG,
// INVPCID, SWAPGS, SYSCALL, SYSRET, SYSENTER, SYSEXIT, RD/WR FS/GS BASE,
// CLAC, STAC, WBINVD, INVD, UD2). WAIT and the x87 escapes are in exec_x87.cc.
#include "cpu/exec_common.h"

namespace x86vm {
namespace {

int Iopl(const Cpu& c) { return static_cast<int>((c.s.rflags & flags::kIopl) >> flags::kIoplShift); }

// Privileged instructions: #GP(0) unless CPL 0 (real mode is CPL 0).
Fault RequireCpl0(const Cpu& c) { return c.s.cpl() == 0 ? kOk : Raise(kGp, 0); }

// Instructions that exist only in protected mode (#UD in real and v8086 mode).
Fault RequireProtected(const Cpu& c) {
  return (c.s.protected_mode() && !c.s.v86_mode()) ? kOk : Raise(kUd);
}

// UMIP: SGDT, SIDT, SLDT, SMSW and STR are #GP(0) above CPL 0 (SDM Vol. 3 2.5).
Fault CheckUmip(const Cpu& c) {
  return ((c.s.cr4 & cr4::kUmip) && c.s.cpl() > 0) ? Raise(kGp, 0) : kOk;
}

template <bool dx, typename T>
Fault In(Cpu& c, const Insn& i) {
  uint16_t port = dx ? c.Gpr<uint16_t>(kRdx) : static_cast<uint8_t>(i.imm);
  X86_TRY(c.CheckIoPermission(port, sizeof(T)));
  T v = static_cast<T>(c.PortRead(port, sizeof(T)));
  c.SetGpr<T>(kRax, v);
  return kOk;
}

template <bool dx, typename T>
Fault Out(Cpu& c, const Insn& i) {
  uint16_t port = dx ? c.Gpr<uint16_t>(kRdx) : static_cast<uint8_t>(i.imm);
  X86_TRY(c.CheckIoPermission(port, sizeof(T)));
  c.PortWrite(port, sizeof(T), c.Gpr<T>(kRax));
  return kOk;
}

// A flat 64-bit or 32-bit code / data descriptor cache as SYSCALL, SYSRET,
// SYSENTER and SYSEXIT load it (they do not read the GDT).
Segment FlatCode(uint16_t sel, int dpl, bool long_mode) {
  uint32_t attr = 0xb | seg_attr::kS | seg_attr::kP | seg_attr::kG |
                  (static_cast<uint32_t>(dpl) << seg_attr::kDplShift);
  attr |= long_mode ? seg_attr::kL : seg_attr::kDb;
  return Segment{sel, 0, 0xffffffff, attr};
}

Segment FlatData(uint16_t sel, int dpl) {
  return Segment{sel, 0, 0xffffffff,
                 0x3 | seg_attr::kS | seg_attr::kP | seg_attr::kG | seg_attr::kDb |
                     (static_cast<uint32_t>(dpl) << seg_attr::kDplShift)};
}

// Reads the selector operand of LAR/LSL/VERR/VERW and its descriptor; false
// when the selector is null or outside its table (ZF = 0, no fault).
Fault LoadCheckedDescriptor(Cpu& c, const Insn& i, uint16_t& sel, uint64_t& raw, bool& ok) {
  X86_TRY(c.ReadE<uint16_t>(i, sel));
  ok = false;
  if ((sel & 0xfffc) == 0) return kOk;
  Fault f = c.ReadDescriptor(sel, raw, kGp);
  if (f.faulted()) {
    // Only a page fault on the table access is a real fault here.
    if (f.vector == kPf) return f;
    return kOk;
  }
  ok = true;
  return kOk;
}

// The DPL/RPL rule shared by LAR, LSL, VERR and VERW: conforming code is
// always visible, everything else needs DPL >= max(CPL, RPL).
bool Visible(const Cpu& c, const Segment& sg, uint16_t sel) {
  bool conforming = (sg.attr & seg_attr::kS) && (sg.type() & seg_attr::kCode) &&
                    (sg.type() & seg_attr::kExpandDown);
  return conforming || (sg.dpl() >= c.s.cpl() && sg.dpl() >= (sel & 3));
}

template <bool lsl, typename T>
Fault LarLsl(Cpu& c, const Insn& i) {
  X86_TRY(RequireProtected(c));
  uint16_t sel;
  uint64_t raw;
  bool ok;
  X86_TRY(LoadCheckedDescriptor(c, i, sel, raw, ok));
  bool lma = (c.s.efer & efer::kLma) != 0;
  if (ok) {
    Segment sg = Cpu::DescriptorToSegment(sel, raw);
    if (!(sg.attr & seg_attr::kS)) {
      unsigned t = sg.type();
      // Valid system types (SDM Vol. 2 "LAR" and "LSL" tables).
      bool valid = lma ? (t == 2 || t == 9 || t == 0xb || (!lsl && t == 0xc))
                       : (t == 1 || t == 2 || t == 3 || t == 9 || t == 0xb ||
                          (!lsl && (t == 4 || t == 5 || t == 0xc)));
      ok = valid;
    }
    ok = ok && Visible(c, sg, sel);
    if (ok) {
      uint64_t result = lsl ? sg.limit : (raw >> 32) & 0x00ffff00ull;
      if (!lsl && sizeof(T) == 2) result &= 0xff00;
      if (!lsl) result &= 0x00f0ff00ull;
      c.SetGpr<T>(i.reg, static_cast<T>(result));
    }
  }
  c.s.rflags = alu::SetFlag(c.s.rflags, flags::kZf, ok);
  return kOk;
}

template <bool write>
Fault Verify(Cpu& c, const Insn& i) {
  X86_TRY(RequireProtected(c));
  uint16_t sel;
  uint64_t raw;
  bool ok;
  X86_TRY(LoadCheckedDescriptor(c, i, sel, raw, ok));
  if (ok) {
    Segment sg = Cpu::DescriptorToSegment(sel, raw);
    bool code = (sg.type() & seg_attr::kCode) != 0;
    ok = (sg.attr & seg_attr::kS) && Visible(c, sg, sel);
    if (write) ok = ok && !code && (sg.type() & seg_attr::kWritable);
    else ok = ok && (!code || (sg.type() & seg_attr::kWritable));
  }
  c.s.rflags = alu::SetFlag(c.s.rflags, flags::kZf, ok);
  return kOk;
}

// LGDT/LIDT: a 16-bit limit then a base of 24 (16-bit operand), 32 or 64 bits.
template <bool idt>
Fault LoadTableRegister(Cpu& c, const Insn& i) {
  X86_TRY(RequireCpl0(c));
  uint64_t ea = c.Ea(i);
  uint16_t limit;
  uint64_t base = 0;
  X86_TRY(c.Read<uint16_t>(i.seg, ea, limit));
  unsigned n = c.is64() ? 8 : 4;
  X86_TRY(c.ReadBytes(i.seg, (ea + 2) & Cpu::AddrMask(i.addrsize), &base, n));
  if (c.is64()) {
    if (!Cpu::IsCanonical(base)) return Raise(kGp, 0);
  } else if (i.opsize == 2) {
    base &= 0xffffff;
  }
  DescriptorTable& t = idt ? c.s.idtr : c.s.gdtr;
  t.base = base;
  t.limit = limit;
  return kOk;
}

template <bool idt>
Fault StoreTableRegister(Cpu& c, const Insn& i) {
  X86_TRY(CheckUmip(c));
  const DescriptorTable& t = idt ? c.s.idtr : c.s.gdtr;
  uint64_t ea = c.Ea(i);
  unsigned n = c.is64() ? 8 : 4;
  uint64_t base = c.is64() ? t.base : (t.base & 0xffffffffull);
  X86_TRY(c.ProbeWrite(i.seg, ea, 2 + n));
  X86_TRY(c.Write<uint16_t>(i.seg, ea, t.limit));
  return c.WriteBytes(i.seg, (ea + 2) & Cpu::AddrMask(i.addrsize), &base, n);
}

// SLDT/STR/SMSW: a register destination takes the operand size, memory 16 bits.
template <typename T>
Fault StoreSystemWord(Cpu& c, const Insn& i, uint64_t value) {
  if (i.is_mem()) return c.Write<uint16_t>(i.seg, c.Ea(i), static_cast<uint16_t>(value));
  c.SetGpr<T>(i.rm, static_cast<T>(value));
  return kOk;
}

template <typename T>
Fault Group6(Cpu& c, const Insn& i) {
  X86_TRY(RequireProtected(c));
  bool lma = (c.s.efer & efer::kLma) != 0;
  switch (Digit(i)) {
    case 0:  // SLDT
      X86_TRY(CheckUmip(c));
      return StoreSystemWord<T>(c, i, c.s.seg[kLdtr].selector);
    case 1:  // STR
      X86_TRY(CheckUmip(c));
      return StoreSystemWord<T>(c, i, c.s.seg[kTr].selector);
    case 2: {  // LLDT
      X86_TRY(RequireCpl0(c));
      uint16_t sel;
      X86_TRY(c.ReadE<uint16_t>(i, sel));
      if ((sel & 0xfffc) == 0) {
        c.s.seg[kLdtr] = Segment{sel, 0, 0, seg_attr::kUnusable};
        return kOk;
      }
      if (sel & 4) return Raise(kGp, sel & 0xfffc);
      uint64_t lo, hi = 0;
      if (lma) X86_TRY(c.ReadDescriptor16(sel, lo, hi, kGp));
      else X86_TRY(c.ReadDescriptor(sel, lo, kGp));
      Segment sg = Cpu::DescriptorToSegment(sel, lo);
      if ((sg.attr & seg_attr::kS) || sg.type() != 2) return Raise(kGp, sel & 0xfffc);
      if (!sg.present()) return Raise(kNp, sel & 0xfffc);
      if (lma) sg.base |= (hi & 0xffffffffull) << 32;
      c.s.seg[kLdtr] = sg;
      return kOk;
    }
    case 3: {  // LTR
      X86_TRY(RequireCpl0(c));
      uint16_t sel;
      X86_TRY(c.ReadE<uint16_t>(i, sel));
      if ((sel & 0xfffc) == 0) return Raise(kGp, 0);
      if (sel & 4) return Raise(kGp, sel & 0xfffc);
      uint64_t lo, hi = 0;
      if (lma) X86_TRY(c.ReadDescriptor16(sel, lo, hi, kGp));
      else X86_TRY(c.ReadDescriptor(sel, lo, kGp));
      Segment sg = Cpu::DescriptorToSegment(sel, lo);
      unsigned t = sg.type();
      bool available = lma ? t == 9 : (t == 1 || t == 9);
      if ((sg.attr & seg_attr::kS) || !available) return Raise(kGp, sel & 0xfffc);
      if (!sg.present()) return Raise(kNp, sel & 0xfffc);
      if (lma) sg.base |= (hi & 0xffffffffull) << 32;
      // Mark the TSS busy in the GDT.
      uint8_t access = static_cast<uint8_t>((lo >> 40) | 2);
      uint64_t linear = c.s.gdtr.base + (sel & 0xfff8) + 5;
      if (!lma) linear &= 0xffffffffull;
      X86_TRY(c.WriteLinear(linear, &access, 1, true));
      sg.attr |= 2;
      c.s.seg[kTr] = sg;
      return kOk;
    }
    case 4: return Verify<false>(c, i);
    case 5: return Verify<true>(c, i);
    default: return Raise(kUd);
  }
}

template <typename T>
Fault Group7(Cpu& c, const Insn& i) {
  switch (Digit(i)) {
    case 0: return StoreTableRegister<false>(c, i);
    case 1: return StoreTableRegister<true>(c, i);
    case 2: return LoadTableRegister<false>(c, i);
    case 3: return LoadTableRegister<true>(c, i);
    case 4:  // SMSW
      X86_TRY(CheckUmip(c));
      return StoreSystemWord<T>(c, i, c.s.cr0);
    case 6: {  // LMSW: loads PE, MP, EM, TS; cannot clear PE.
      X86_TRY(RequireCpl0(c));
      uint16_t v;
      X86_TRY(c.ReadE<uint16_t>(i, v));
      uint64_t cr0 = (c.s.cr0 & ~0xeull) | (v & 0xf) | (c.s.cr0 & cr0::kPe);
      return c.SetCr0(cr0);
    }
    case 7: {  // INVLPG
      X86_TRY(RequireCpl0(c));
      uint64_t ea = c.Ea(i);
      uint64_t linear = c.is64() ? ea + ((i.seg == kFs || i.seg == kGs) ? c.s.seg[i.seg].base : 0)
                                 : (c.s.seg[i.seg].base + ea) & 0xffffffffull;
      c.FlushTlbPage(linear);
      return kOk;
    }
    default: return Raise(kUd);
  }
}

template <typename T>
Fault Arpl(Cpu& c, const Insn& i) {
  X86_TRY(RequireProtected(c));
  uint16_t dst;
  X86_TRY(c.ReadE<uint16_t>(i, dst));
  uint16_t src = c.Gpr<uint16_t>(i.reg);
  bool adjust = (dst & 3) < (src & 3);
  if (adjust) X86_TRY(c.WriteE<uint16_t>(i, static_cast<uint16_t>((dst & ~3) | (src & 3))));
  c.s.rflags = alu::SetFlag(c.s.rflags, flags::kZf, adjust);
  return kOk;
}

// RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE (F3 0F AE /0-/3).
template <typename T>
Fault FsGsBase(Cpu& c, const Insn& i) {
  if (!c.is64() || !(c.s.cr4 & cr4::kFsgsbase)) return Raise(kUd);
  int d = Digit(i);
  int seg = (d & 1) ? kGs : kFs;
  if (d < 2) {
    c.SetGpr<T>(i.rm, static_cast<T>(c.s.seg[seg].base));
  } else {
    uint64_t v = c.Gpr<T>(i.rm);
    if (!Cpu::IsCanonical(v)) return Raise(kGp, 0);
    c.s.seg[seg].base = v;
  }
  return kOk;
}

}  // namespace

X86_DEFINE_B(InALIb, In, false)
Fault InEAXIb16(Cpu& c, const Insn& i) { return In<false, uint16_t>(c, i); }
Fault InEAXIb32(Cpu& c, const Insn& i) { return In<false, uint32_t>(c, i); }
X86_DEFINE_B(InALDX, In, true)
Fault InEAXDX16(Cpu& c, const Insn& i) { return In<true, uint16_t>(c, i); }
Fault InEAXDX32(Cpu& c, const Insn& i) { return In<true, uint32_t>(c, i); }
X86_DEFINE_B(OutIbAL, Out, false)
Fault OutIbEAX16(Cpu& c, const Insn& i) { return Out<false, uint16_t>(c, i); }
Fault OutIbEAX32(Cpu& c, const Insn& i) { return Out<false, uint32_t>(c, i); }
X86_DEFINE_B(OutDXAL, Out, true)
Fault OutDXEAX16(Cpu& c, const Insn& i) { return Out<true, uint16_t>(c, i); }
Fault OutDXEAX32(Cpu& c, const Insn& i) { return Out<true, uint32_t>(c, i); }
X86_DEFINE_V(LarGvEw, LarLsl, false)
X86_DEFINE_V(LslGvEw, LarLsl, true)
X86_DEFINE_V(Grp6, Group6)
X86_DEFINE_V(Grp7, Group7)
X86_DEFINE_V(ArplEwGw, Arpl)
Fault RdWrFsGsBase32(Cpu& c, const Insn& i) { return FsGsBase<uint32_t>(c, i); }
Fault RdWrFsGsBase64(Cpu& c, const Insn& i) { return FsGsBase<uint64_t>(c, i); }

Fault Hlt(Cpu& c, const Insn&) {
  X86_TRY(RequireCpl0(c));
  c.Halt();
  return kOk;
}

// CLI/STI: IOPL-sensitive in protected and virtual-8086 mode (no PVI/VME).
Fault Cli(Cpu& c, const Insn&) {
  if (c.s.protected_mode() && (c.s.v86_mode() ? Iopl(c) < 3 : c.s.cpl() > Iopl(c))) {
    return Raise(kGp, 0);
  }
  c.s.rflags &= ~flags::kIf;
  return kOk;
}

Fault Sti(Cpu& c, const Insn&) {
  if (c.s.protected_mode() && (c.s.v86_mode() ? Iopl(c) < 3 : c.s.cpl() > Iopl(c))) {
    return Raise(kGp, 0);
  }
  // Interrupts stay blocked until after the next instruction (SDM "STI").
  if (!(c.s.rflags & flags::kIf)) c.SetInterruptShadow(false);
  c.SetRflags(c.s.rflags | flags::kIf);
  return kOk;
}

Fault CpuidHandler(Cpu& c, const Insn&) {
  CpuidResult r = Cpuid(c.features, c.s, c.Gpr<uint32_t>(kRax), c.Gpr<uint32_t>(kRcx));
  c.SetGpr<uint32_t>(kRax, r[0]);
  c.SetGpr<uint32_t>(kRbx, r[1]);
  c.SetGpr<uint32_t>(kRcx, r[2]);
  c.SetGpr<uint32_t>(kRdx, r[3]);
  return kOk;
}

Fault Rdtsc(Cpu& c, const Insn&) {
  if ((c.s.cr4 & cr4::kTsd) && c.s.cpl() > 0) return Raise(kGp, 0);
  uint64_t tsc = c.ReadTsc();
  c.SetGpr<uint32_t>(kRax, static_cast<uint32_t>(tsc));
  c.SetGpr<uint32_t>(kRdx, static_cast<uint32_t>(tsc >> 32));
  return kOk;
}

Fault Rdtscp(Cpu& c, const Insn& i) {
  X86_TRY(Rdtsc(c, i));
  c.SetGpr<uint32_t>(kRcx, static_cast<uint32_t>(c.s.msr.tsc_aux));
  return kOk;
}

Fault Rdmsr(Cpu& c, const Insn&) {
  X86_TRY(RequireCpl0(c));
  uint64_t v;
  X86_TRY(c.ReadMsr(c.Gpr<uint32_t>(kRcx), v));
  c.SetGpr<uint32_t>(kRax, static_cast<uint32_t>(v));
  c.SetGpr<uint32_t>(kRdx, static_cast<uint32_t>(v >> 32));
  return kOk;
}

Fault Wrmsr(Cpu& c, const Insn&) {
  X86_TRY(RequireCpl0(c));
  uint64_t v = (uint64_t{c.Gpr<uint32_t>(kRdx)} << 32) | c.Gpr<uint32_t>(kRax);
  return c.WriteMsr(c.Gpr<uint32_t>(kRcx), v);
}

// MOV r, CRn (0F 20) and MOV CRn, r (0F 22): the operand is 64 bits in
// 64-bit mode, 32 bits otherwise; ModRM.mod is ignored.
Fault MovRdCd(Cpu& c, const Insn& i) {
  X86_TRY(RequireCpl0(c));
  uint64_t v;
  switch (i.reg) {
    case 0: v = c.s.cr0; break;
    case 2: v = c.s.cr2; break;
    case 3: v = c.s.cr3; break;
    case 4: v = c.s.cr4; break;
    case 8:
      v = c.env().platform ? (c.env().platform->GetTaskPriority() & 0xf) : (c.s.cr8 & 0xf);
      break;
    default: return Raise(kUd);
  }
  if (c.is64()) c.s.gpr[i.rm] = v;
  else c.SetGpr<uint32_t>(i.rm, static_cast<uint32_t>(v));
  return kOk;
}

Fault MovCdRd(Cpu& c, const Insn& i) {
  X86_TRY(RequireCpl0(c));
  uint64_t v = c.is64() ? c.s.gpr[i.rm] : c.Gpr<uint32_t>(i.rm);
  switch (i.reg) {
    case 0: return c.SetCr0(c.is64() ? v : (v & 0xffffffffull));
    case 2: c.s.cr2 = v; return kOk;
    case 3: return c.SetCr3(v);
    case 4: return c.SetCr4(v);
    case 8:
      if (v & ~0xfull) return Raise(kGp, 0);
      c.s.cr8 = v;
      if (c.env().platform) c.env().platform->SetTaskPriority(static_cast<uint8_t>(v));
      c.PollEvents();
      return kOk;
    default: return Raise(kUd);
  }
}

// MOV DRn (SDM Vol. 3 18.2): DR4/DR5 alias DR6/DR7 unless CR4.DE.
Fault MovRdDd(Cpu& c, const Insn& i) {
  X86_TRY(RequireCpl0(c));
  X86_TRY(c.CheckDebugRegisterAccess());
  int n = i.reg;
  if ((n == 4 || n == 5) && (c.s.cr4 & cr4::kDe)) return Raise(kUd);
  if (n == 4) n = 6;
  if (n == 5) n = 7;
  uint64_t v;
  if (n < 4) v = c.s.dr[n];
  else if (n == 6) v = c.s.dr6;
  else if (n == 7) v = c.s.dr7;
  else return Raise(kUd);
  if (c.is64()) c.s.gpr[i.rm] = v;
  else c.SetGpr<uint32_t>(i.rm, static_cast<uint32_t>(v));
  return kOk;
}

Fault MovDdRd(Cpu& c, const Insn& i) {
  X86_TRY(RequireCpl0(c));
  X86_TRY(c.CheckDebugRegisterAccess());
  int n = i.reg;
  if ((n == 4 || n == 5) && (c.s.cr4 & cr4::kDe)) return Raise(kUd);
  if (n == 4) n = 6;
  if (n == 5) n = 7;
  uint64_t v = c.is64() ? c.s.gpr[i.rm] : c.Gpr<uint32_t>(i.rm);
  if (n < 4) {
    c.s.dr[n] = v;
    c.UpdateDebugState();
  } else if (n == 6 || n == 7) {
    if (v >> 32) return Raise(kGp, 0);
    // Fixed bits: DR6 reads 1 in 31:16 and 11:4, DR7 bit 10 is 1.
    if (n == 6) c.s.dr6 = (v & 0x0000e00f) | 0xffff0ff0;
    else c.s.dr7 = (v & 0xffff2bff) | 0x400;
    c.UpdateDebugState();
  } else {
    return Raise(kUd);
  }
  return kOk;
}

Fault Clts(Cpu& c, const Insn&) {
  X86_TRY(RequireCpl0(c));
  c.s.cr0 &= ~cr0::kTs;
  return kOk;
}

Fault Swapgs(Cpu& c, const Insn&) {
  if (!c.is64()) return Raise(kUd);
  X86_TRY(RequireCpl0(c));
  std::swap(c.s.seg[kGs].base, c.s.msr.kernel_gs_base);
  return kOk;
}

// SYSCALL (SDM Vol. 2 "SYSCALL"): Intel allows it only in 64-bit mode.
Fault Syscall(Cpu& c, const Insn&) {
  if (!c.is64() || !(c.s.efer & efer::kSce)) return Raise(kUd);
  c.s.gpr[kRcx] = c.next_rip;
  c.s.gpr[kR11] = c.s.rflags & ~flags::kRf;
  uint16_t sel = static_cast<uint16_t>(c.s.msr.star >> 32) & 0xfffc;
  c.SetRflags(c.s.rflags & ~(c.s.msr.sfmask | flags::kRf));
  c.s.seg[kSs] = FlatData(static_cast<uint16_t>(sel + 8), 0);
  c.SetCs(FlatCode(sel, 0, true));
  c.next_rip = c.s.msr.lstar;
  return kOk;
}

Fault Sysret(Cpu& c, const Insn& i) {
  if (!c.is64() || !(c.s.efer & efer::kSce)) return Raise(kUd);
  X86_TRY(RequireCpl0(c));
  bool to64 = i.has(insn_flags::kRexW);
  // Intel raises #GP(0) at CPL 0 for a non-canonical RCX.
  if (to64 && !Cpu::IsCanonical(c.s.gpr[kRcx])) return Raise(kGp, 0);
  uint16_t base = static_cast<uint16_t>(c.s.msr.star >> 48);
  c.SetRflags((c.s.gpr[kR11] & 0x3c7fd7) | flags::kFixed1);
  uint16_t cs = to64 ? static_cast<uint16_t>(base + 16) : base;
  // SS keeps the selector and gets a flat DPL 3 cache (SDM "SYSRET").
  c.s.seg[kSs] = FlatData(static_cast<uint16_t>((base + 8) | 3), 3);
  c.SetCs(FlatCode(static_cast<uint16_t>(cs | 3), 3, to64));
  c.next_rip = to64 ? c.s.gpr[kRcx] : (c.s.gpr[kRcx] & 0xffffffffull);
  return kOk;
}

Fault Sysenter(Cpu& c, const Insn&) {
  if (!c.s.protected_mode()) return Raise(kGp, 0);
  uint16_t sel = static_cast<uint16_t>(c.s.msr.sysenter_cs);
  if ((sel & 0xfffc) == 0) return Raise(kGp, 0);
  bool lma = (c.s.efer & efer::kLma) != 0;
  c.SetRflags(c.s.rflags & ~(flags::kVm | flags::kIf | flags::kRf));
  c.s.seg[kSs] = FlatData(static_cast<uint16_t>((sel & 0xfffc) + 8), 0);
  c.SetCs(FlatCode(sel & 0xfffc, 0, lma));
  c.s.gpr[kRsp] = lma ? c.s.msr.sysenter_esp : (c.s.msr.sysenter_esp & 0xffffffffull);
  c.next_rip = lma ? c.s.msr.sysenter_eip : (c.s.msr.sysenter_eip & 0xffffffffull);
  return kOk;
}

Fault Sysexit(Cpu& c, const Insn& i) {
  if (!c.s.protected_mode() || c.s.v86_mode()) return Raise(kGp, 0);
  X86_TRY(RequireCpl0(c));
  uint16_t sel = static_cast<uint16_t>(c.s.msr.sysenter_cs);
  if ((sel & 0xfffc) == 0) return Raise(kGp, 0);
  bool to64 = i.has(insn_flags::kRexW);
  if (to64 && (!Cpu::IsCanonical(c.s.gpr[kRdx]) || !Cpu::IsCanonical(c.s.gpr[kRcx]))) {
    return Raise(kGp, 0);
  }
  uint16_t cs = static_cast<uint16_t>(sel + (to64 ? 32 : 16));
  uint16_t ss = static_cast<uint16_t>(sel + (to64 ? 40 : 24));
  c.s.seg[kSs] = FlatData(static_cast<uint16_t>(ss | 3), 3);
  c.SetCs(FlatCode(static_cast<uint16_t>(cs | 3), 3, to64));
  c.s.gpr[kRsp] = to64 ? c.s.gpr[kRcx] : (c.s.gpr[kRcx] & 0xffffffffull);
  c.next_rip = to64 ? c.s.gpr[kRdx] : (c.s.gpr[kRdx] & 0xffffffffull);
  return kOk;
}

// INVPCID (66 0F 38 82): our TLB is not PCID-tagged, so each type flushes
// at least what it must.
Fault Invpcid(Cpu& c, const Insn& i) {
  X86_TRY(RequireCpl0(c));
  uint64_t type = c.is64() ? c.s.gpr[i.reg] : c.Gpr<uint32_t>(i.reg);
  uint64_t desc[2];
  X86_TRY(c.ReadBytes(i.seg, c.Ea(i), desc, 16));
  if (type > 3) return Raise(kGp, 0);
  if (desc[0] >> 12) return Raise(kGp, 0);  // Reserved descriptor bits.
  switch (type) {
    case 0:
      if (!Cpu::IsCanonical(desc[1])) return Raise(kGp, 0);
      c.FlushTlbPage(desc[1]);
      break;
    case 1: case 3: c.FlushTlb(false); break;
    default: c.FlushTlb(true); break;
  }
  return kOk;
}

// CLAC/STAC above CPL 0 are #UD, not #GP (SDM Vol. 2 "CLAC", "STAC").
Fault Clac(Cpu& c, const Insn&) {
  if (c.s.cpl() != 0) return Raise(kUd);
  c.s.rflags &= ~flags::kAc;
  return kOk;
}

Fault Stac(Cpu& c, const Insn&) {
  if (c.s.cpl() != 0) return Raise(kUd);
  c.s.rflags |= flags::kAc;
  return kOk;
}

Fault Wbinvd(Cpu& c, const Insn&) { return RequireCpl0(c); }

}  // namespace x86vm
