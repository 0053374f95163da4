// Control registers, MSRs, CPUID and event delivery driven directly on the
// execution core.
#include <gtest/gtest.h>

#include "cpu/cpu.h"
#include "cpu/test_machine.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "machine/guest_memory.h"

namespace x86vm {
namespace {

class CoreFixture : public ::testing::Test {
 protected:
  CoreFixture()
      : memory_(std::move(GuestMemory::Create(4 << 20).value())), mmio_("mmio"), pio_("pio"),
        clock_(VirtualClock::Mode::kDeterministic),
        cpu_(CpuEnvironment{memory_.get(), &mmio_, &pio_, &irq_, &clock_, nullptr}) {}
  std::unique_ptr<GuestMemory> memory_;
  Bus mmio_, pio_;
  VirtualClock clock_;
  FakeInterruptController irq_;
  Cpu cpu_;
};

TEST_F(CoreFixture, Cr0Checks) {
  EXPECT_EQ(cpu_.SetCr0(cr0::kPg).vector, kGp);  // PG without PE.
  EXPECT_EQ(cpu_.SetCr0(cr0::kPe | cr0::kNw).vector, kGp);  // NW without CD.
  EXPECT_EQ(cpu_.SetCr0(1ull << 32).vector, kGp);
  ASSERT_TRUE(cpu_.SetCr0(cr0::kPe).ok());
  EXPECT_TRUE(cpu_.s.cr0 & cr0::kEt);  // ET is hardwired.
  // Long mode activation needs PAE.
  ASSERT_TRUE(cpu_.SetEfer(efer::kLme).ok());
  EXPECT_EQ(cpu_.SetCr0(cr0::kPe | cr0::kPg).vector, kGp);
  ASSERT_TRUE(cpu_.SetCr4(cr4::kPae).ok());
  ASSERT_TRUE(cpu_.SetCr0(cr0::kPe | cr0::kPg).ok());
  EXPECT_TRUE(cpu_.s.efer & efer::kLma);
  // LME cannot change while paging is on; PAE cannot be cleared in long mode.
  EXPECT_EQ(cpu_.SetEfer(0).vector, kGp);
  EXPECT_EQ(cpu_.SetCr4(0).vector, kGp);
  EXPECT_EQ(cpu_.SetCr4(cr4::kPae | cr4::kLa57).vector, kGp);  // Not supported.
}

TEST_F(CoreFixture, MsrsRoundTripAndUnknownIsGp) {
  ASSERT_TRUE(cpu_.WriteMsr(0xc0000082, 0xffffffff81000000ull).ok());
  uint64_t v;
  ASSERT_TRUE(cpu_.ReadMsr(0xc0000082, v).ok());
  EXPECT_EQ(v, 0xffffffff81000000ull);
  EXPECT_EQ(cpu_.WriteMsr(0xc0000082, 0x0000800000000000ull).vector, kGp);  // Non-canonical.
  EXPECT_EQ(cpu_.ReadMsr(0x12345678, v).vector, kGp);
  ASSERT_TRUE(cpu_.WriteMsr(0x277, 0x0606060606060606ull).ok());
  EXPECT_EQ(cpu_.s.msr.pat, 0x0606060606060606ull);
  ASSERT_TRUE(cpu_.WriteMsr(0xc0000100, 0x1234000).ok());
  EXPECT_EQ(cpu_.s.seg[kFs].base, 0x1234000u);
  // The TSC follows virtual time and can be written.
  ASSERT_TRUE(cpu_.WriteMsr(0x10, 1000000).ok());
  clock_.AddInstructions(500);
  ASSERT_TRUE(cpu_.ReadMsr(0x10, v).ok());
  EXPECT_EQ(v, 1000500u);
}

TEST_F(CoreFixture, PlatformMsrsGoToThePlatform) {
  struct Apic : CpuPlatform {
    MsrAccess ReadMsr(uint32_t index, uint64_t& value) override {
      if (index != 0x1b) return MsrAccess::kNotMine;
      value = 0xfee00d00;
      return MsrAccess::kOk;
    }
    MsrAccess WriteMsr(uint32_t index, uint64_t) override {
      return index == 0x1b ? MsrAccess::kGp : MsrAccess::kNotMine;
    }
  } apic;
  Cpu cpu(CpuEnvironment{memory_.get(), &mmio_, &pio_, &irq_, &clock_, &apic});
  uint64_t v;
  ASSERT_TRUE(cpu.ReadMsr(0x1b, v).ok());
  EXPECT_EQ(v, 0xfee00d00u);
  EXPECT_EQ(cpu.WriteMsr(0x1b, 0).vector, kGp);
}

TEST(CpuidTest, CoherentIntelModel) {
  CpuState s;
  CpuFeatures f;
  CpuidResult r0 = Cpuid(f, s, 0, 0);
  EXPECT_EQ(r0[1], 0x756e6547u);  // "Genu"
  EXPECT_EQ(r0[3], 0x49656e69u);  // "ineI"
  EXPECT_EQ(r0[2], 0x6c65746eu);  // "ntel"
  CpuidResult r1 = Cpuid(f, s, 1, 0);
  EXPECT_EQ(r1[0], kProcessorSignature);
  EXPECT_TRUE(r1[3] & (1u << 6));   // PAE
  EXPECT_TRUE(r1[3] & (1u << 25));  // SSE (exec_sse_*.cc), on by default.
  f.fpu_sse = false;
  EXPECT_FALSE(Cpuid(f, s, 1, 0)[3] & (1u << 25));
  f.fpu_sse = true;
  CpuidResult e1 = Cpuid(f, s, 0x80000001, 0);
  EXPECT_TRUE(e1[3] & (1u << 29));  // LM
  EXPECT_TRUE(e1[3] & (1u << 20));  // NX
  EXPECT_EQ(Cpuid(f, s, 0x80000008, 0)[0] & 0xff, static_cast<uint32_t>(kPhysAddrBits));
  EXPECT_EQ(Cpuid(f, s, 0x80000000, 0)[0], 0x80000008u);
}

TEST(CpuEventsTest, NmiWakesHaltAndIsBlockedUntilIret) {
  TestMachine m;
  // IVT[2] -> 0:0x2000: inc si; hlt (no IRET, so NMIs stay blocked).
  m.Load(0x8, {0x00, 0x20, 0x00, 0x00});
  m.Load(0x2000, {0x46, 0xf4});
  m.Load(0x1000, {0xfa, 0xf4});  // cli; hlt
  m.StartReal(0x1000);
  EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);
  m.irq().RaiseNmi();
  EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);
  EXPECT_EQ(m.State().gpr[kRsi], 1u);
  m.irq().RaiseNmi();  // Blocked: no IRET since the first one.
  EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);
  EXPECT_EQ(m.State().gpr[kRsi], 1u);
  EXPECT_TRUE(m.State().events.nmi_pending);
}

TEST(CpuEventsTest, DmaWriteInvalidatesDecodedCode) {
  TestMachine m;
  // 0x1000: mov al, 0x11; hlt. It is also the NMI handler (IVT[2]).
  m.Load(0x8, {0x00, 0x10, 0x00, 0x00});
  m.Load(0x1000, {0xb0, 0x11, 0xf4});
  m.StartReal(0x1000);
  EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);
  EXPECT_EQ(m.State().gpr[kRax] & 0xff, 0x11u);
  // A device rewrites the immediate behind the CPU's back.
  m.Load(0x1001, {0x22});
  m.cpu().InvalidateCode(0x1001, 1);
  m.irq().RaiseNmi();
  EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);
  EXPECT_EQ(m.State().gpr[kRax] & 0xff, 0x22u);
}

TEST(CpuEventsTest, A20GateMasksBit20) {
  TestMachine m;
  FunctionBusTarget gate([](uint64_t, size_t) -> uint64_t { return 0; },
                         [&](uint64_t, size_t, uint64_t v) { m.memory().SetA20(v & 2); });
  ASSERT_TRUE(m.pio().Register(0x92, 1, &gate, "a20").has_value());
  // mov ax,0xffff; mov es,ax; mov byte [es:0x7f10],0x22 (0x107f00);
  // mov al,0; out 0x92,al; mov byte [es:0x7f10],0x33 (now 0x7f00); hlt
  m.Load(0x1000, {0xb8, 0xff, 0xff, 0x8e, 0xc0, 0x26, 0xc6, 0x06, 0x10, 0x7f, 0x22, 0xb0, 0x00,
                  0xe6, 0x92, 0x26, 0xc6, 0x06, 0x10, 0x7f, 0x33, 0xf4});
  m.StartReal(0x1000);
  EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);
  EXPECT_EQ(m.Read64(0x107f00) & 0xff, 0x22u);
  EXPECT_EQ(m.Read64(0x7f00) & 0xff, 0x33u);
}

TEST(CpuEventsTest, MemoryMapChangeRevokesCachedWritePermission) {
  TestMachine m;
  FunctionBusTarget pam([](uint64_t, size_t) -> uint64_t { return 0; },
                        [&](uint64_t, size_t, uint64_t v) {
                          m.memory().SetBiosShadowReadOnly(v != 0);
                          m.cpu().MemoryMapChanged();
                        });
  ASSERT_TRUE(m.pio().Register(0x90, 1, &pam, "pam").has_value());
  // mov ax,0xe000; mov ds,ax; mov byte [0],1; mov al,1; out 0x90,al;
  // mov byte [0],2; hlt
  m.Load(0x1000, {0xb8, 0x00, 0xe0, 0x8e, 0xd8, 0xc6, 0x06, 0x00, 0x00, 0x01, 0xb0, 0x01,
                  0xe6, 0x90, 0xc6, 0x06, 0x00, 0x00, 0x02, 0xf4});
  m.StartReal(0x1000);
  EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);
  EXPECT_EQ(m.Read64(0xe0000) & 0xff, 1u);  // The write after write-protection was dropped.
}

TEST(CpuEventsTest, KickStopsRun) {
  TestMachine m;
  m.Load(0x1000, {0xeb, 0xfe});  // jmp $
  m.StartReal(0x1000);
  m.cpu().Kick();
  EXPECT_EQ(m.RunToHalt(), StopReason::kKicked);
  EXPECT_EQ(m.RunToHalt(1000), StopReason::kDeadline);
  EXPECT_GE(m.cpu().instructions_retired(), 1000u);
}

}  // namespace
}  // namespace x86vm
