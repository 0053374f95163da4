#include "accel/kvm/kvm_state.h"

#include <cstring>

namespace x86vm {
namespace {

// FXSAVE/XSAVE legacy-region offsets (SDM Vol. 1 Table 10-2, 64-bit format).
constexpr size_t kFcwOffset = 0;
constexpr size_t kFswOffset = 2;
constexpr size_t kFtwOffset = 4;
constexpr size_t kFopOffset = 6;
constexpr size_t kFipOffset = 8;
constexpr size_t kFdpOffset = 16;
constexpr size_t kMxcsrOffset = 24;
constexpr size_t kStOffset = 32;
constexpr size_t kXmmOffset = 160;
// XSAVE header and the AVX component in the standard format (SDM Vol. 1
// 13.4.2; CPUID.(EAX=0DH,ECX=2).EBX = 576 on every processor with AVX).
constexpr size_t kXstateBvOffset = 512;
constexpr size_t kYmmHiOffset = 576;
constexpr uint64_t kXfeatureX87 = 1;
constexpr uint64_t kXfeatureSse = 2;
constexpr uint64_t kXfeatureAvx = 4;

int Top(uint16_t fsw) { return (fsw >> 11) & 7; }

// #BP and #OF: KVM injects them as software exceptions (VMX type 6, SDM
// Vol. 3 24.8.3), whose pushed RIP is RIP plus an instruction length KVM
// keeps to itself (kvm_exception_is_soft()).
bool IsSoftException(uint8_t vector) { return vector == 3 || vector == 4; }

template <typename T>
T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <typename T>
void Store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

}  // namespace

kvm_segment ToKvmSegment(const Segment& s) {
  kvm_segment k{};
  k.base = s.base;
  k.limit = s.limit;
  k.selector = s.selector;
  k.type = static_cast<uint8_t>(s.attr & seg_attr::kTypeMask);
  k.s = (s.attr & seg_attr::kS) ? 1 : 0;
  k.dpl = static_cast<uint8_t>(s.dpl());
  k.present = s.present() ? 1 : 0;
  k.avl = (s.attr & seg_attr::kAvl) ? 1 : 0;
  k.l = s.l() ? 1 : 0;
  k.db = s.db() ? 1 : 0;
  k.g = (s.attr & seg_attr::kG) ? 1 : 0;
  k.unusable = s.unusable() ? 1 : 0;
  return k;
}

Segment FromKvmSegment(const kvm_segment& k) {
  Segment s;
  s.base = k.base;
  s.limit = k.limit;
  s.selector = k.selector;
  s.attr = (k.type & seg_attr::kTypeMask) | (k.s ? seg_attr::kS : 0) |
           (static_cast<uint32_t>(k.dpl & 3) << seg_attr::kDplShift) |
           (k.present ? seg_attr::kP : 0) | (k.avl ? seg_attr::kAvl : 0) |
           (k.l ? seg_attr::kL : 0) | (k.db ? seg_attr::kDb : 0) | (k.g ? seg_attr::kG : 0) |
           (k.unusable ? seg_attr::kUnusable : 0);
  return s;
}

void StateToRegs(const CpuState& st, kvm_regs& r) {
  r = kvm_regs{};
  r.rax = st.gpr[kRax];
  r.rbx = st.gpr[kRbx];
  r.rcx = st.gpr[kRcx];
  r.rdx = st.gpr[kRdx];
  r.rsi = st.gpr[kRsi];
  r.rdi = st.gpr[kRdi];
  r.rsp = st.gpr[kRsp];
  r.rbp = st.gpr[kRbp];
  r.r8 = st.gpr[kR8];
  r.r9 = st.gpr[kR9];
  r.r10 = st.gpr[kR10];
  r.r11 = st.gpr[kR11];
  r.r12 = st.gpr[kR12];
  r.r13 = st.gpr[kR13];
  r.r14 = st.gpr[kR14];
  r.r15 = st.gpr[kR15];
  r.rip = st.rip;
  r.rflags = st.rflags;
}

void RegsToState(const kvm_regs& r, CpuState& st) {
  st.gpr[kRax] = r.rax;
  st.gpr[kRbx] = r.rbx;
  st.gpr[kRcx] = r.rcx;
  st.gpr[kRdx] = r.rdx;
  st.gpr[kRsi] = r.rsi;
  st.gpr[kRdi] = r.rdi;
  st.gpr[kRsp] = r.rsp;
  st.gpr[kRbp] = r.rbp;
  st.gpr[kR8] = r.r8;
  st.gpr[kR9] = r.r9;
  st.gpr[kR10] = r.r10;
  st.gpr[kR11] = r.r11;
  st.gpr[kR12] = r.r12;
  st.gpr[kR13] = r.r13;
  st.gpr[kR14] = r.r14;
  st.gpr[kR15] = r.r15;
  st.rip = r.rip;
  st.rflags = r.rflags;
}

void StateToSregs(const CpuState& st, uint64_t apic_base, kvm_sregs& s) {
  s = kvm_sregs{};
  s.es = ToKvmSegment(st.seg[kEs]);
  s.cs = ToKvmSegment(st.seg[kCs]);
  s.ss = ToKvmSegment(st.seg[kSs]);
  s.ds = ToKvmSegment(st.seg[kDs]);
  s.fs = ToKvmSegment(st.seg[kFs]);
  s.gs = ToKvmSegment(st.seg[kGs]);
  s.ldt = ToKvmSegment(st.seg[kLdtr]);
  s.tr = ToKvmSegment(st.seg[kTr]);
  s.gdt.base = st.gdtr.base;
  s.gdt.limit = st.gdtr.limit;
  s.idt.base = st.idtr.base;
  s.idt.limit = st.idtr.limit;
  s.cr0 = st.cr0;
  s.cr2 = st.cr2;
  s.cr3 = st.cr3;
  s.cr4 = st.cr4;
  s.cr8 = st.cr8;
  s.efer = st.efer;
  s.apic_base = apic_base;
}

void SregsToState(const kvm_sregs& s, CpuState& st) {
  st.seg[kEs] = FromKvmSegment(s.es);
  st.seg[kCs] = FromKvmSegment(s.cs);
  st.seg[kSs] = FromKvmSegment(s.ss);
  st.seg[kDs] = FromKvmSegment(s.ds);
  st.seg[kFs] = FromKvmSegment(s.fs);
  st.seg[kGs] = FromKvmSegment(s.gs);
  st.seg[kLdtr] = FromKvmSegment(s.ldt);
  st.seg[kTr] = FromKvmSegment(s.tr);
  st.gdtr = DescriptorTable{s.gdt.base, s.gdt.limit};
  st.idtr = DescriptorTable{s.idt.base, s.idt.limit};
  st.cr0 = s.cr0;
  st.cr2 = s.cr2;
  st.cr3 = s.cr3;
  st.cr4 = s.cr4;
  st.cr8 = s.cr8;
  st.efer = s.efer;
}

uint8_t AbridgeTagWord(uint16_t ftw) {
  uint8_t abridged = 0;
  for (int i = 0; i < 8; ++i) {
    if (((ftw >> (2 * i)) & 3) != 3) abridged |= static_cast<uint8_t>(1u << i);
  }
  return abridged;
}

uint16_t ExpandTagWord(uint8_t abridged, const std::array<X87Register, 8>& physical) {
  uint16_t ftw = 0;
  for (int i = 0; i < 8; ++i) {
    uint16_t tag;
    if (!(abridged & (1u << i))) {
      tag = 3;
    } else {
      const X87Register& r = physical[static_cast<size_t>(i)];
      uint64_t significand = Load<uint64_t>(r.data());
      uint16_t exponent = Load<uint16_t>(r.data() + 8) & 0x7fff;
      bool integer_bit = (significand >> 63) != 0;
      if (exponent == 0x7fff) {
        tag = 2;  // Infinity or NaN.
      } else if (exponent == 0) {
        tag = significand == 0 ? 1 : 2;  // Zero, or (pseudo-)denormal.
      } else {
        tag = integer_bit ? 0 : 2;  // Normal, or unnormal (unsupported).
      }
    }
    ftw |= static_cast<uint16_t>(tag << (2 * i));
  }
  return ftw;
}

void StateToFpu(const CpuState& st, kvm_fpu& f) {
  f = kvm_fpu{};
  int top = Top(st.x87.fsw);
  for (int i = 0; i < 8; ++i) {
    const X87Register& r = st.x87.st[static_cast<size_t>((top + i) & 7)];
    std::memcpy(f.fpr[i], r.data(), r.size());
  }
  f.fcw = st.x87.fcw;
  f.fsw = st.x87.fsw;
  f.ftwx = AbridgeTagWord(st.x87.ftw);
  f.last_opcode = st.x87.fop;
  f.last_ip = st.x87.fip;
  f.last_dp = st.x87.fdp;
  for (size_t i = 0; i < 16; ++i) {
    Store(f.xmm[i], st.xmm[i].lo);
    Store(f.xmm[i] + 8, st.xmm[i].hi);
  }
  f.mxcsr = st.mxcsr;
}

void FpuToState(const kvm_fpu& f, CpuState& st) {
  st.x87.fcw = f.fcw;
  st.x87.fsw = f.fsw;
  st.x87.fop = f.last_opcode;
  st.x87.fip = f.last_ip;
  st.x87.fdp = f.last_dp;
  st.x87.fcs = 0;
  st.x87.fds = 0;
  int top = Top(f.fsw);
  for (int i = 0; i < 8; ++i) {
    X87Register& r = st.x87.st[static_cast<size_t>((top + i) & 7)];
    std::memcpy(r.data(), f.fpr[i], r.size());
  }
  st.x87.ftw = ExpandTagWord(f.ftwx, st.x87.st);
  for (size_t i = 0; i < 16; ++i) {
    st.xmm[i].lo = Load<uint64_t>(f.xmm[i]);
    st.xmm[i].hi = Load<uint64_t>(f.xmm[i] + 8);
  }
  st.mxcsr = f.mxcsr;
}

void StateToXsave(const CpuState& st, kvm_xsave& xsave) {
  auto* p = reinterpret_cast<uint8_t*>(xsave.region);
  Store(p + kFcwOffset, st.x87.fcw);
  Store(p + kFswOffset, st.x87.fsw);
  Store(p + kFtwOffset, AbridgeTagWord(st.x87.ftw));
  Store(p + kFopOffset, st.x87.fop);
  Store(p + kFipOffset, st.x87.fip);
  Store(p + kFdpOffset, st.x87.fdp);
  Store(p + kMxcsrOffset, st.mxcsr);
  int top = Top(st.x87.fsw);
  for (int i = 0; i < 8; ++i) {
    uint8_t* slot = p + kStOffset + 16 * static_cast<size_t>(i);
    std::memset(slot, 0, 16);
    const X87Register& r = st.x87.st[static_cast<size_t>((top + i) & 7)];
    std::memcpy(slot, r.data(), r.size());
  }
  for (size_t i = 0; i < 16; ++i) {
    Store(p + kXmmOffset + 16 * i, st.xmm[i].lo);
    Store(p + kXmmOffset + 16 * i + 8, st.xmm[i].hi);
  }
  uint64_t bv = Load<uint64_t>(p + kXstateBvOffset) | kXfeatureX87 | kXfeatureSse;
  if (st.xcr0 & kXfeatureAvx) {
    bv |= kXfeatureAvx;
    for (size_t i = 0; i < 16; ++i) {
      Store(p + kYmmHiOffset + 16 * i, st.ymm_hi[i].lo);
      Store(p + kYmmHiOffset + 16 * i + 8, st.ymm_hi[i].hi);
    }
  }
  Store(p + kXstateBvOffset, bv);
}

void XsaveToState(const kvm_xsave& xsave, CpuState& st) {
  const auto* p = reinterpret_cast<const uint8_t*>(xsave.region);
  uint64_t bv = Load<uint64_t>(p + kXstateBvOffset);
  // A component whose XSTATE_BV bit is clear is in its initial state, and
  // its save area may hold stale bytes (SDM Vol. 1 13.6).
  st.x87 = X87State{};
  if (bv & kXfeatureX87) {
    st.x87.fcw = Load<uint16_t>(p + kFcwOffset);
    st.x87.fsw = Load<uint16_t>(p + kFswOffset);
    st.x87.fop = Load<uint16_t>(p + kFopOffset);
    st.x87.fip = Load<uint64_t>(p + kFipOffset);
    st.x87.fdp = Load<uint64_t>(p + kFdpOffset);
    int top = Top(st.x87.fsw);
    for (int i = 0; i < 8; ++i) {
      X87Register& r = st.x87.st[static_cast<size_t>((top + i) & 7)];
      std::memcpy(r.data(), p + kStOffset + 16 * static_cast<size_t>(i), r.size());
    }
    st.x87.ftw = ExpandTagWord(Load<uint8_t>(p + kFtwOffset), st.x87.st);
  }
  // MXCSR is saved whenever SSE or AVX state is requested, in use or not.
  st.mxcsr = Load<uint32_t>(p + kMxcsrOffset);
  for (size_t i = 0; i < 16; ++i) {
    st.xmm[i] = (bv & kXfeatureSse) ? Xmm{Load<uint64_t>(p + kXmmOffset + 16 * i),
                                          Load<uint64_t>(p + kXmmOffset + 16 * i + 8)}
                                    : Xmm{};
    st.ymm_hi[i] = (bv & kXfeatureAvx) ? Xmm{Load<uint64_t>(p + kYmmHiOffset + 16 * i),
                                             Load<uint64_t>(p + kYmmHiOffset + 16 * i + 8)}
                                       : Xmm{};
  }
}

void StateToEvents(const CpuState& st, kvm_vcpu_events& e) {
  e = kvm_vcpu_events{};
  const PendingEvents& ev = st.events;
  if (ev.exception_pending) {
    // An external interrupt already acknowledged, or #BP/#OF to deliver with
    // RIP as the return address: both are an external-interrupt injection
    // of that vector (same gate, no error code, no DPL check, benign for
    // #DF: SDM Vol. 3 6.12, 6.15 Table 6-4). As an exception KVM would add
    // its own notion of the INT3/INTO length to RIP.
    if (!ev.exception_has_error_code &&
        (ev.exception_vector >= 32 || IsSoftException(ev.exception_vector))) {
      e.interrupt.injected = 1;
      e.interrupt.nr = ev.exception_vector;
    } else {
      e.exception.injected = 1;
      e.exception.nr = ev.exception_vector;
      e.exception.has_error_code = ev.exception_has_error_code ? 1 : 0;
      e.exception.error_code = ev.exception_error_code;
    }
  }
  // Blocking by STI requires RFLAGS.IF = 1 (SDM Vol. 3 26.3.1.5); with IF
  // clear the shadow can only have come from MOV SS / POP SS.
  if (ev.interrupt_shadow) {
    e.interrupt.shadow =
        (st.rflags & flags::kIf) ? KVM_X86_SHADOW_INT_STI : KVM_X86_SHADOW_INT_MOV_SS;
  }
  e.nmi.pending = ev.nmi_pending ? 1 : 0;
  e.nmi.masked = ev.nmi_blocked ? 1 : 0;
  e.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
}

void EventsToState(const kvm_vcpu_events& e, CpuState& st) {
  PendingEvents& ev = st.events;
  ev = PendingEvents{};
  if ((e.exception.injected || e.exception.pending) && IsSoftException(e.exception.nr)) {
    // INT3/INTO being (re)injected: RIP is still at the instruction and KVM
    // keeps the length to add to it, so re-executing it is the exact
    // equivalent (below for INT n).
  } else if (e.exception.injected || e.exception.pending) {
    ev.exception_pending = true;
    ev.exception_vector = e.exception.nr;
    ev.exception_has_error_code = e.exception.has_error_code != 0;
    ev.exception_error_code = e.exception.error_code;
  } else if (e.interrupt.injected && !e.interrupt.soft) {
    ev.exception_pending = true;
    ev.exception_vector = e.interrupt.nr;
  }
  ev.interrupt_shadow = e.interrupt.shadow != 0;
  if (e.nmi.injected) {
    // Delivery had started but not completed: it will be delivered again,
    // and blocking begins only when it is.
    ev.nmi_pending = true;
    ev.nmi_blocked = false;
  } else {
    ev.nmi_pending = e.nmi.pending != 0;
    ev.nmi_blocked = e.nmi.masked != 0;
  }
}

void StateToDebugRegs(const CpuState& st, kvm_debugregs& d) {
  d = kvm_debugregs{};
  for (size_t i = 0; i < 4; ++i) d.db[i] = st.dr[i];
  d.dr6 = st.dr6;
  d.dr7 = st.dr7;
}

void DebugRegsToState(const kvm_debugregs& d, CpuState& st) {
  for (size_t i = 0; i < 4; ++i) st.dr[i] = d.db[i];
  st.dr6 = d.dr6;
  st.dr7 = d.dr7;
}

}  // namespace x86vm
