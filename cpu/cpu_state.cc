#include "cpu/cpu_state.h"

namespace x86vm {

void Segment::Serialize(Serializer& s) {
  s(selector);
  s(base);
  s(limit);
  s(attr);
}

void DescriptorTable::Serialize(Serializer& s) {
  s(base);
  s(limit);
}

void X87State::Serialize(Serializer& s) {
  s(fcw);
  s(fsw);
  s(ftw);
  s(fop);
  s(fip);
  s(fcs);
  s(fdp);
  s(fds);
  s(st);
}

void MsrState::Serialize(Serializer& s) {
  s(star);
  s(lstar);
  s(cstar);
  s(sfmask);
  s(kernel_gs_base);
  s(sysenter_cs);
  s(sysenter_esp);
  s(sysenter_eip);
  s(tsc_offset);
  s(tsc_aux);
  s(pat);
  s(misc_enable);
  s(feature_control);
  s(mtrr_cap);
  s(mtrr_def_type);
  s(mtrr_fixed);
  s(mtrr_var);
  s(spec_ctrl);
  s(tsc_adjust);
  s(mcg_status);
  s(ucode_rev);
  s(xss);
}

void PendingEvents::Serialize(Serializer& s) {
  s(exception_pending);
  s(exception_vector);
  s(exception_has_error_code);
  s(exception_error_code);
  s(nmi_pending);
  s(nmi_blocked);
  s(interrupt_shadow);
}

void CpuState::Reset() {
  *this = CpuState();
  // SDM Vol. 3 Table 9-1: CS = F000 with base FFFF0000, so the first fetch is
  // at FFFFFFF0; the other segments are 0 with a 64 KiB limit, read/write data.
  for (Segment& sg : seg) {
    sg = Segment{0, 0, 0xffff, 0x3 | seg_attr::kS | seg_attr::kP};
  }
  seg[kCs] = Segment{0xf000, 0xffff0000, 0xffff, 0xb | seg_attr::kS | seg_attr::kP};
  seg[kLdtr] = Segment{0, 0, 0xffff, 0x2 | seg_attr::kP};
  seg[kTr] = Segment{0, 0, 0xffff, 0xb | seg_attr::kP};
  rip = 0xfff0;
  // EDX holds the processor signature after reset (SDM Vol. 3 9.1.4).
  gpr[kRdx] = kProcessorSignature;
}

void CpuState::Serialize(Serializer& s) {
  s.Section("cpu", 1);
  s(gpr);
  s(rip);
  s(rflags);
  for (Segment& sg : seg) sg.Serialize(s);
  gdtr.Serialize(s);
  idtr.Serialize(s);
  s(cr0);
  s(cr2);
  s(cr3);
  s(cr4);
  s(cr8);
  s(efer);
  s(xcr0);
  s(pdpte);
  s(dr);
  s(dr6);
  s(dr7);
  x87.Serialize(s);
  s(mxcsr);
  for (Xmm& x : xmm) {
    s(x.lo);
    s(x.hi);
  }
  for (Xmm& x : ymm_hi) {
    s(x.lo);
    s(x.hi);
  }
  msr.Serialize(s);
  events.Serialize(s);
  s(halted);
}

}  // namespace x86vm
