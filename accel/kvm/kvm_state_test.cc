// The KVM engine's pure parts: state conversions, the tag word, events,
// CPUID building, MSR tables and failure reports. No /dev/kvm needed.
#include "accel/kvm/kvm_state.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "accel/kvm/kvm_cpuid.h"
#include "accel/kvm/kvm_exit_report.h"
#include "accel/kvm/kvm_msrs.h"

namespace x86vm {
namespace {

X87Register Reg(uint64_t significand, uint16_t sign_exponent) {
  X87Register r{};
  std::memcpy(r.data(), &significand, 8);
  std::memcpy(r.data() + 8, &sign_exponent, 2);
  return r;
}

TEST(KvmSegment, EveryAttributeBitSurvives) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 1000; ++i) {
    Segment s{static_cast<uint16_t>(rng()), rng(), static_cast<uint32_t>(rng()),
              static_cast<uint32_t>(rng()) & 0x1f0ff};  // Every defined AR bit.
    EXPECT_EQ(FromKvmSegment(ToKvmSegment(s)), s);
  }
  Segment code64{0x08, 0, 0xffffffff,
                 0xb | seg_attr::kS | seg_attr::kP | seg_attr::kL | seg_attr::kG};
  kvm_segment k = ToKvmSegment(code64);
  EXPECT_EQ(k.type, 0xb);
  EXPECT_EQ(k.s, 1);
  EXPECT_EQ(k.present, 1);
  EXPECT_EQ(k.l, 1);
  EXPECT_EQ(k.db, 0);
  EXPECT_EQ(k.g, 1);
  EXPECT_EQ(k.unusable, 0);
}

TEST(KvmRegs, GprOrderIsKvmsNotOurs) {
  CpuState s;
  for (size_t i = 0; i < 16; ++i) s.gpr[i] = 0x100 + i;
  s.rip = 0x1234;
  s.rflags = 0x202;
  kvm_regs r;
  StateToRegs(s, r);
  EXPECT_EQ(r.rax, 0x100u);
  EXPECT_EQ(r.rcx, 0x101u);
  EXPECT_EQ(r.rdx, 0x102u);
  EXPECT_EQ(r.rbx, 0x103u);
  EXPECT_EQ(r.rsp, 0x104u);
  EXPECT_EQ(r.r15, 0x10fu);
  CpuState back;
  RegsToState(r, back);
  EXPECT_EQ(back.gpr, s.gpr);
  EXPECT_EQ(back.rip, 0x1234u);
  EXPECT_EQ(back.rflags, 0x202u);
}

TEST(KvmX87, TagWordClassesFollowTheContents) {
  std::array<X87Register, 8> regs{};
  regs[0] = Reg(0x8000000000000000ull, 0x3fff);  // 1.0: valid
  regs[1] = Reg(0, 0);                           // +0: zero
  regs[2] = Reg(0xc000000000000000ull, 0x7fff);  // NaN: special
  regs[3] = Reg(1, 0);                           // denormal: special
  regs[4] = Reg(0x4000000000000000ull, 0x3fff);  // unnormal: special
  regs[5] = Reg(0x8000000000000000ull, 0x7fff);  // infinity: special
  uint8_t abridged = 0x3f;                       // R6, R7 empty
  EXPECT_EQ(ExpandTagWord(abridged, regs), 0b1111101010100100);
  EXPECT_EQ(AbridgeTagWord(0b1111101010100100), 0x3f);
  EXPECT_EQ(AbridgeTagWord(0xffff), 0);
  EXPECT_EQ(AbridgeTagWord(0x0000), 0xff);
}

TEST(KvmX87, FprIsInStackOrder) {
  CpuState s;
  s.x87.fsw = 3 << 11;  // TOP = 3
  for (size_t i = 0; i < 8; ++i) s.x87.st[i] = Reg(0x8000000000000000ull | i, 0x3fff);
  s.x87.ftw = 0;
  s.x87.fip = 0x123456789abcull;
  s.mxcsr = 0x9fc0;
  s.xmm[7] = Xmm{1, 2};
  kvm_fpu f;
  StateToFpu(s, f);
  uint64_t st0;
  std::memcpy(&st0, f.fpr[0], 8);
  EXPECT_EQ(st0 & 0xff, 3u) << "ST(0) is physical R3 when TOP = 3";
  std::memcpy(&st0, f.fpr[5], 8);
  EXPECT_EQ(st0 & 0xff, 0u) << "ST(5) is R0";
  EXPECT_EQ(f.ftwx, 0xff);
  CpuState back;
  FpuToState(f, back);
  EXPECT_EQ(back.x87.st, s.x87.st);
  EXPECT_EQ(back.x87.ftw, 0);
  EXPECT_EQ(back.x87.fip, s.x87.fip);
  EXPECT_EQ(back.mxcsr, s.mxcsr);
  EXPECT_EQ(back.xmm[7], s.xmm[7]);
}

TEST(KvmX87, XsaveRoundTripAndInitComponents) {
  std::mt19937_64 rng(2);
  CpuState s;
  s.x87.fcw = 0x27f;
  s.x87.fsw = 0x3800;
  for (X87Register& r : s.x87.st) r = Reg(rng() | (1ull << 63), 0x4000);
  s.x87.ftw = ExpandTagWord(0x81, s.x87.st);
  s.x87.fop = 0x123;
  s.x87.fdp = rng();
  s.mxcsr = 0x1fa0;
  for (Xmm& x : s.xmm) x = Xmm{rng(), rng()};
  s.xcr0 = 7;
  for (Xmm& x : s.ymm_hi) x = Xmm{rng(), rng()};
  kvm_xsave xsave{};
  StateToXsave(s, xsave);
  CpuState back;
  XsaveToState(xsave, back);
  EXPECT_EQ(back.x87, s.x87);
  EXPECT_EQ(back.mxcsr, s.mxcsr);
  EXPECT_EQ(back.xmm, s.xmm);
  EXPECT_EQ(back.ymm_hi, s.ymm_hi);

  // XSTATE_BV = 0: every component in its initial state, whatever the bytes.
  uint64_t zero = 0;
  std::memcpy(reinterpret_cast<uint8_t*>(xsave.region) + 512, &zero, 8);
  XsaveToState(xsave, back);
  EXPECT_EQ(back.x87, X87State{});
  EXPECT_EQ(back.xmm[3], Xmm{});
  EXPECT_EQ(back.mxcsr, s.mxcsr) << "MXCSR is always saved";
}

TEST(KvmEvents, AcknowledgedInterruptTravelsAsInjected) {
  CpuState s;
  s.events.exception_pending = true;
  s.events.exception_vector = 0x30;
  kvm_vcpu_events e;
  StateToEvents(s, e);
  EXPECT_EQ(e.interrupt.injected, 1);
  EXPECT_EQ(e.interrupt.nr, 0x30);
  EXPECT_EQ(e.exception.injected, 0);
  CpuState back;
  EventsToState(e, back);
  EXPECT_EQ(back.events, s.events);

  s.events.exception_vector = 13;
  s.events.exception_has_error_code = true;
  s.events.exception_error_code = 0x18;
  StateToEvents(s, e);
  EXPECT_EQ(e.exception.injected, 1);
  EXPECT_EQ(e.exception.nr, 13);
  EXPECT_EQ(e.exception.error_code, 0x18u);
  EventsToState(e, back);
  EXPECT_EQ(back.events, s.events);
}

TEST(KvmEvents, ShadowKindFollowsIf) {
  CpuState s;
  s.events.interrupt_shadow = true;
  s.rflags = flags::kFixed1 | flags::kIf;
  kvm_vcpu_events e;
  StateToEvents(s, e);
  EXPECT_EQ(e.interrupt.shadow, KVM_X86_SHADOW_INT_STI);
  s.rflags = flags::kFixed1;
  StateToEvents(s, e);
  EXPECT_EQ(e.interrupt.shadow, KVM_X86_SHADOW_INT_MOV_SS);
  EXPECT_TRUE(e.flags & KVM_VCPUEVENT_VALID_SHADOW);
}

TEST(KvmEvents, NmiBeingInjectedIsPendingNotBlocked) {
  kvm_vcpu_events e{};
  e.nmi.injected = 1;
  e.nmi.masked = 1;
  CpuState s;
  EventsToState(e, s);
  EXPECT_TRUE(s.events.nmi_pending);
  EXPECT_FALSE(s.events.nmi_blocked);
}

TEST(KvmEvents, SoftInterruptIsDroppedSinceRipIsAtTheInt) {
  kvm_vcpu_events e{};
  e.interrupt.injected = 1;
  e.interrupt.soft = 1;
  e.interrupt.nr = 0x80;
  CpuState s;
  EventsToState(e, s);
  EXPECT_FALSE(s.events.exception_pending);
}

TEST(KvmEvents, SoftExceptionIsDroppedSinceRipIsAtTheInstruction) {
  // KVM re-injecting INT3's #BP or INTO's #OF: RIP is at the INT3/INTO and
  // the interpreter must execute it again, not deliver #BP with the INT3's
  // own address as the return address (the handler would return into it).
  for (uint8_t vector : {3, 4}) {
    for (bool injected : {true, false}) {
      kvm_vcpu_events e{};
      (injected ? e.exception.injected : e.exception.pending) = 1;
      e.exception.nr = vector;
      CpuState s;
      s.rip = 0x1234;
      EventsToState(e, s);
      EXPECT_FALSE(s.events.exception_pending) << int{vector};
      EXPECT_EQ(s.rip, 0x1234u);
      // Back to KVM: nothing to inject; KVM executes the instruction again.
      kvm_vcpu_events again;
      StateToEvents(s, again);
      EXPECT_EQ(again.exception.injected, 0);
      EXPECT_EQ(again.interrupt.injected, 0);
    }
  }
  // A fault is still carried.
  kvm_vcpu_events e{};
  e.exception.injected = 1;
  e.exception.nr = 6;
  CpuState s;
  EventsToState(e, s);
  EXPECT_TRUE(s.events.exception_pending);
  EXPECT_EQ(s.events.exception_vector, 6);
}

TEST(KvmEvents, SoftInterruptRoundTripReexecutesTheInt) {
  // KVM_GET_VCPU_EVENTS: INT 0x80 being re-injected, RIP at the CD 80.
  kvm_vcpu_events e{};
  e.interrupt.injected = 1;
  e.interrupt.soft = 1;
  e.interrupt.nr = 0x80;
  e.nmi.injected = 1;
  kvm_regs regs{};
  regs.rip = 0x401000;
  CpuState s;
  RegsToState(regs, s);
  EventsToState(e, s);
  EXPECT_FALSE(s.events.exception_pending);
  EXPECT_TRUE(s.events.nmi_pending);
  EXPECT_EQ(s.rip, 0x401000u);
  kvm_vcpu_events back;
  StateToEvents(s, back);
  EXPECT_EQ(back.interrupt.injected, 0);
  EXPECT_EQ(back.exception.injected, 0);
  EXPECT_EQ(back.nmi.pending, 1);
}

TEST(KvmEvents, PendingBreakpointGoesToKvmWithoutAnInstructionLength) {
  for (uint8_t vector : {3, 4}) {
    CpuState s;
    s.events.exception_pending = true;
    s.events.exception_vector = vector;
    kvm_vcpu_events e;
    StateToEvents(s, e);
    EXPECT_EQ(e.exception.injected, 0) << "KVM would push RIP + its INT3/INTO length";
    EXPECT_EQ(e.interrupt.injected, 1);
    EXPECT_EQ(e.interrupt.soft, 0);
    EXPECT_EQ(e.interrupt.nr, vector);
    CpuState back;
    EventsToState(e, back);
    EXPECT_EQ(back.events, s.events);
  }
}

TEST(KvmCpuid, ModelFilteredBySupportKeepsPlatformBits) {
  CpuFeatures f;
  f.fpu_sse = true;
  f.x2apic = true;
  f.tsc_deadline = true;
  auto model = BuildGuestCpuid(f, nullptr);
  const kvm_cpuid_entry2* leaf0 = FindCpuidEntry(model, 0, 0);
  ASSERT_NE(leaf0, nullptr);
  EXPECT_EQ(leaf0->ebx, 0x756e6547u);  // "Genu"
  const kvm_cpuid_entry2* leaf7 = FindCpuidEntry(model, 7, 0);
  ASSERT_NE(leaf7, nullptr);
  EXPECT_TRUE(leaf7->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
  ASSERT_NE(FindCpuidEntry(model, 0x80000008, 0), nullptr);

  // A host that supports nothing but leaf 1 EDX bit 0 (FPU).
  kvm_cpuid_entry2 s1{};
  s1.function = 1;
  s1.edx = 1;
  std::vector<kvm_cpuid_entry2> supported = {s1};
  auto filtered = BuildGuestCpuid(f, &supported);
  const kvm_cpuid_entry2* leaf1 = FindCpuidEntry(filtered, 1, 0);
  ASSERT_NE(leaf1, nullptr);
  EXPECT_EQ(leaf1->edx, 1u | (1u << 9)) << "FPU from KVM, APIC from our board";
  EXPECT_EQ(leaf1->ecx, (1u << 21) | (1u << 24)) << "x2APIC and TSC-deadline are ours";
  EXPECT_EQ(leaf1->eax, kProcessorSignature);
  EXPECT_EQ(FindCpuidEntry(filtered, 7, 0)->ebx, 0u);
  EXPECT_EQ(FindCpuidEntry(filtered, 0x80000001, 0)->edx, 0u);
}

TEST(KvmMsrs, EveryStateMsrHasAField) {
  MsrState m;
  for (uint32_t index : StateMsrIndices()) {
    if (index == kMsrTsc) {
      EXPECT_EQ(MsrStateField(m, index), nullptr);
      continue;
    }
    uint64_t* field = MsrStateField(m, index);
    ASSERT_NE(field, nullptr) << MsrName(index);
    *field = index;  // Distinct fields: no two indices share one.
  }
  for (uint32_t index : StateMsrIndices()) {
    if (index != kMsrTsc) {
      EXPECT_EQ(*MsrStateField(m, index), index) << MsrName(index);
    }
  }
  EXPECT_EQ(MsrName(0x201), "MTRRphysMask0");
  EXPECT_FALSE(MsrIsEmulatable(0xc0000082));  // LSTAR: the hardware uses it.
  EXPECT_TRUE(MsrIsEmulatable(0x2ff));
}

TEST(KvmMsrs, ShadowFollowsTheSdmRules) {
  MsrState m;
  EXPECT_FALSE(WriteShadowMsr(m, 0xfe, 0)) << "MTRRcap is read-only";
  EXPECT_TRUE(WriteShadowMsr(m, 0x3a, 5));
  EXPECT_FALSE(WriteShadowMsr(m, 0x3a, 0)) << "FEATURE_CONTROL is locked";
  EXPECT_TRUE(WriteShadowMsr(m, 0x2ff, 0xc06));
  EXPECT_EQ(ReadShadowMsr(m, 0x2ff), 0xc06u);
  EXPECT_EQ(ReadShadowMsr(m, 0x12345), std::nullopt);
}

TEST(KvmReport, DisassemblesAndLocates) {
  const uint8_t pxor[] = {0x66, 0x0f, 0xef, 0xc9, 0xf4};
  size_t length = 0;
  EXPECT_EQ(DisassembleOne(pxor, 0x100000, 64, &length), "pxor xmm1, xmm1");
  EXPECT_EQ(length, 4u);
  const uint8_t out16[] = {0xee};
  EXPECT_EQ(DisassembleOne(out16, 0x1000, 16), "out dx, al");
  EXPECT_EQ(DisassembleOne({}, 0, 64), "(instruction bytes unavailable)");

  CpuState s;
  s.Reset();
  s.rip = 0x1234;
  s.seg[kCs].base = 0x10000;
  EXPECT_EQ(CodeBits(s), 16);
  EXPECT_EQ(CodeLinearAddress(s), 0x11234u);
  const uint8_t with_tail[] = {0xee, 0xf4, 0x00};
  std::string report = FormatFailureReport("KVM_EXIT_INTERNAL_ERROR, suberror 1", s, with_tail);
  EXPECT_NE(report.find("out dx, al  [ee]"), std::string::npos) << report;
  EXPECT_NE(report.find("16-bit code, CPL 0"), std::string::npos) << report;
}

}  // namespace
}  // namespace x86vm
