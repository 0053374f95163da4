// Small machine-code programs (assembled by nasm at build time) run in the
// interpreter against real RAM and the port bus.
#include <gtest/gtest.h>

#include "cpu/test_machine.h"

namespace x86vm {
namespace {

uint16_t Read16(TestMachine& m, uint64_t gpa) { return static_cast<uint16_t>(m.Read64(gpa)); }
uint32_t Read32(TestMachine& m, uint64_t gpa) { return static_cast<uint32_t>(m.Read64(gpa)); }

TEST(CpuProgramTest, RealMode) {
  TestMachine m;
  ASSERT_TRUE(m.LoadFile(0x1000, "cpu/testdata/real_mode.bin"));
  m.StartReal(0x1000);
  EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);
  EXPECT_EQ(m.out(), "Rhello");
  // `result` follows "hello" (aligned to 2) in the image.
  CpuState s = m.State();
  EXPECT_TRUE(s.halted);
  uint64_t result = 0;
  // Find the result block by its first value (55) after the code.
  for (uint64_t a = 0x1000; a < 0x1100; a += 2) {
    if (Read16(m, a) == 55 && Read16(m, a + 2) == 21) {
      result = a;
      break;
    }
  }
  ASSERT_NE(result, 0u);
  EXPECT_EQ(Read16(m, result + 4), 0x1234);
  EXPECT_EQ(Read16(m, result + 6), 1000);
  EXPECT_EQ(Read16(m, result + 8), 5);
  EXPECT_EQ(Read16(m, result + 10), 0x1111);
  EXPECT_EQ(Read16(m, result + 12), 0x2222);
  EXPECT_EQ(m.Read64(result + 14) & 0xff, 1u);
  EXPECT_EQ(Read32(m, result + 16), 1u);
}

TEST(CpuProgramTest, ProtectedAndLongModeWithExceptionsAndSyscall) {
  TestMachine m;
  ASSERT_TRUE(m.LoadFile(0x8000, "cpu/testdata/long_mode.bin"));
  m.StartReal(0x8000);
  EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);
  EXPECT_EQ(m.out(), "PLXS");
  EXPECT_EQ(Read32(m, 0x5000), 0x78563412u);
  EXPECT_EQ(m.Read64(0x5008), 0x123456789abcdef0ull);
  // Exception log: {vector, error code, CR2, CS} per entry.
  const uint64_t log = 0x5100;
  EXPECT_EQ(m.Read64(log + 0), 6u);    // #UD from UD2
  EXPECT_EQ(m.Read64(log + 32), 0u);   // #DE from DIV by zero
  EXPECT_EQ(m.Read64(log + 64), 14u);  // #PF: not present, read, supervisor
  EXPECT_EQ(m.Read64(log + 72), 0u);
  EXPECT_EQ(m.Read64(log + 80), 0x40000000u);
  EXPECT_EQ(m.Read64(log + 96), 13u);  // #GP(0): non-canonical
  EXPECT_EQ(m.Read64(log + 104), 0u);
  EXPECT_EQ(m.Read64(log + 128), 13u);  // #GP(0): OUT at CPL 3 with IOPL 0
  EXPECT_EQ(m.Read64(log + 152), 0x3bu);
  // SYSCALL from ring 3.
  EXPECT_EQ(m.Read64(0x5010), 42u);
  EXPECT_EQ(m.Read64(0x5020) & ~0x10000ull, 0x202u);
  EXPECT_EQ(Read16(m, 0x5028), 0x18);
  CpuState s = m.State();
  EXPECT_TRUE(s.long_mode_active());
  EXPECT_EQ(s.cpl(), 0);
}

TEST(CpuProgramTest, RealModeExceptionsRepRestartAndSelfModifyingCode) {
  TestMachine m;
  ASSERT_TRUE(m.LoadFile(0x1000, "cpu/testdata/rm_exceptions.bin"));
  m.StartReal(0x1000);
  EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);
  EXPECT_EQ(Read16(m, 0x600), 0xde);
  EXPECT_EQ(m.Read64(0x602) & 0xff, 0x42u);  // The patched immediate was seen.
  // #DE reports the DIV itself (a fault), here at 0x1000 + 0x21.
  uint16_t div_ip = Read16(m, 0x604);
  EXPECT_GT(div_ip, 0x1000);
  // #GP stopped REP STOSW at the limit with the progress in ECX/EDI and IP
  // still at the instruction, so IRET would restart it.
  EXPECT_EQ(Read32(m, 0x608), 4u);
  EXPECT_EQ(Read32(m, 0x60c), 0x10000u);
  EXPECT_EQ(Read16(m, 0xfffe), 0xabcd);
  CpuState s = m.State();
  EXPECT_EQ(s.gpr[kRcx] & 0xffffffff, 4u);
}

TEST(CpuProgramTest, HltWakesOnInterruptAndStiShadow) {
  TestMachine m;
  FunctionBusTarget raiser([](uint64_t, size_t) -> uint64_t { return 0; },
                           [&](uint64_t, size_t, uint64_t) { m.irq().Raise(0x20); });
  ASSERT_TRUE(m.pio().Register(0x80, 1, &raiser, "raise").has_value());
  ASSERT_TRUE(m.LoadFile(0x1000, "cpu/testdata/rm_interrupts.bin"));
  m.StartReal(0x1000);
  EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);  // HLT with IF = 1, nothing pending.
  EXPECT_TRUE(m.State().halted);
  m.irq().Raise(0x20);
  EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);
  EXPECT_EQ(m.irq().acks(), 2);
  EXPECT_EQ(Read16(m, 0x610), 1);
  EXPECT_EQ(Read16(m, 0x612), 1);  // One INC ran inside the STI shadow.
}

TEST(CpuProgramTest, SingleStepAndDebugRegisters) {
  TestMachine m;
  ASSERT_TRUE(m.LoadFile(0x1000, "cpu/testdata/rm_debug.bin"));
  m.StartReal(0x1000);
  EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);
  EXPECT_EQ(Read16(m, 0x602), 7);  // TF traps, including after the POPF clearing it.
  EXPECT_EQ(Read16(m, 0x604), 1);  // Instruction breakpoint, once.
  EXPECT_EQ(Read16(m, 0x606), 1);  // Data write breakpoint, once (not on the read).
  EXPECT_EQ(Read32(m, 0x610) & 0xf, 2u);  // DR6.B1.
  EXPECT_EQ(Read16(m, 0x614), Read16(m, 0x616));  // Trap: IP after the write.
}

TEST(CpuProgramTest, PagingAndVirtual8086) {
  TestMachine m;
  ASSERT_TRUE(m.LoadFile(0x8000, "cpu/testdata/pm_paging_v86.bin"));
  m.StartReal(0x8000);
  EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);
  EXPECT_EQ(Read32(m, 0x5400), 0x1111u);
  EXPECT_EQ(Read32(m, 0x5404), 0x2222u);  // INVLPG dropped the old translation.
  EXPECT_EQ(Read32(m, 0x5408), 0x21063u);  // Accessed and dirty set by the walker.
  // #PF: write to a read-only page (P|W), then a not-present read (0).
  EXPECT_EQ(Read32(m, 0x5000), 14u);
  EXPECT_EQ(Read32(m, 0x5004), 3u);
  EXPECT_EQ(Read32(m, 0x5008), 0x400008u);
  EXPECT_EQ(Read32(m, 0x500c), 14u);
  EXPECT_EQ(Read32(m, 0x5010), 0u);
  EXPECT_EQ(Read32(m, 0x5014), 0x401000u);
  // Virtual-8086 INT at IOPL 0 -> #GP(0) with the v86 frame on the ring-0 stack.
  EXPECT_EQ(Read32(m, 0x540c), 0u);
  EXPECT_EQ(Read32(m, 0x5410), 0x3003u);
  EXPECT_TRUE(Read32(m, 0x5414) & flags::kVm);
  EXPECT_EQ(Read32(m, 0x5418), 0x50u);
  EXPECT_EQ(Read32(m, 0x541c), 0x40u);
  EXPECT_EQ(Read16(m, 0x5420), 0x10);
}

TEST(CpuProgramTest, BulkStringOperations) {
  TestMachine m;
  ASSERT_TRUE(m.LoadFile(0x1000, "cpu/testdata/rm_strings.bin"));
  m.StartReal(0x1000);
  EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);
  for (uint64_t a = 0x2000; a <= 0x2064; ++a) ASSERT_EQ(m.Read64(a) & 0xff, 'A') << a;
  EXPECT_EQ(m.Read64(0x2065) & 0xff, 0u);
  for (uint64_t a = 0x2ff0; a < 0x3020; a += 4) ASSERT_EQ(Read32(m, a), 0x11223344u) << a;
  EXPECT_EQ(Read16(m, 0x600), 0x3020);
  EXPECT_EQ(Read16(m, 0x602), 0);
  EXPECT_EQ(Read32(m, 0x4000), 0x11223344u);
  EXPECT_EQ(Read16(m, 0x604), 0x2fff);
  for (uint64_t a = 0x5000; a < 0x5012; a += 2) ASSERT_EQ(Read16(m, a), 0x0201) << a;
  // Reference: the same copy done one dword at a time.
  uint8_t ref[16];
  for (int k = 0; k < 16; ++k) ref[k] = static_cast<uint8_t>(0x10 + k);
  for (int e = 0; e < 3; ++e) {
    uint8_t t[4];
    std::memcpy(t, ref + 4 * e, 4);
    std::memcpy(ref + 1 + 4 * e, t, 4);
  }
  for (int k = 0; k < 16; ++k) EXPECT_EQ(m.Read64(0x5100 + k) & 0xff, ref[k]) << k;
  // DF=1: STOSD down across a page, then overlapping and page-straddling
  // backward MOVS.
  for (uint64_t a = 0x5ff4; a < 0x600c; a += 4) ASSERT_EQ(Read32(m, a), 0xcafef00du) << a;
  EXPECT_EQ(Read32(m, 0x5ff0), 0u);
  EXPECT_EQ(Read32(m, 0x600c), 0u);
  EXPECT_EQ(Read16(m, 0x606), 0x5ff0);
  EXPECT_EQ(Read16(m, 0x7000), 1);
  for (int k = 0; k < 8; ++k) EXPECT_EQ(Read16(m, 0x7002 + 2 * k), k + 1) << k;
  for (int k = 0; k < 8; ++k) EXPECT_EQ(Read16(m, 0x7100 + 2 * k), 8) << k;
  for (int k = 0; k < 12; ++k) EXPECT_EQ(m.Read64(0x7ff6 + k) & 0xff, static_cast<uint64_t>(k)) << k;
  EXPECT_EQ(m.Read64(0x7ff5) & 0xff, 0u);
  EXPECT_EQ(m.Read64(0x8002) & 0xff, 0u);
}

TEST(CpuProgramTest, TripleFaultShutsDown) {
  TestMachine m;
  // lidt [0x500] with limit 0 at 0x500, then INT3: #GP, #DF, shutdown.
  m.Load(0x500, {0, 0, 0, 0, 0, 0});
  m.Load(0x1000, {0x0f, 0x01, 0x1e, 0x00, 0x05, 0xcc, 0xf4});
  m.StartReal(0x1000);
  EXPECT_EQ(m.RunToHalt(), StopReason::kShutdown);
}

TEST(CpuProgramTest, ProtectedModeFaultsRingsGatesAndTasks) {
  TestMachine m;
  ASSERT_TRUE(m.LoadFile(0x8000, "cpu/testdata/pm_faults.bin"));
  m.StartReal(0x8000);
  EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);
  // {vector, error, CS} entries.
  EXPECT_EQ(Read32(m, 0x5000), 13u);
  EXPECT_EQ(Read32(m, 0x5004), 0x1234u);  // #GP(selector): TI=1 with a null LDT
  EXPECT_EQ(Read32(m, 0x500c), 11u);
  EXPECT_EQ(Read32(m, 0x5010), 0x38u);    // #NP(selector)
  EXPECT_EQ(Read32(m, 0x5018), 13u);
  EXPECT_EQ(Read32(m, 0x501c), 0u);       // write to read-only data
  EXPECT_EQ(Read32(m, 0x5024), 13u);
  EXPECT_EQ(Read32(m, 0x5028), 0u);       // past the limit
  EXPECT_EQ(Read32(m, 0x5030), 17u);      // #AC(0) at CPL 3 with AM and AC
  EXPECT_EQ(Read32(m, 0x5034), 0u);
  EXPECT_EQ(Read32(m, 0x5038), 0x1bu);
  EXPECT_EQ(Read32(m, 0x503c), 0u);       // and nothing unexpected after it
  EXPECT_EQ(Read16(m, 0x5400), 0x1b);     // ring 3 CS
  EXPECT_EQ(Read32(m, 0x5404), 0x30u);    // INT 0x30 handler ran
  EXPECT_EQ(Read16(m, 0x5424), 0x10);     // on the TSS ring-0 stack
  EXPECT_EQ(Read16(m, 0x5408), 0x08);     // call gate reached ring 0
  EXPECT_EQ(Read32(m, 0x540c), 0x1bu);    // caller CS on the new stack
  EXPECT_EQ(Read16(m, 0x5410), 0x10);     // SS from TSS.SS0
  EXPECT_EQ(Read32(m, 0x5414), 0x7a5cu);  // task 2 ran
  EXPECT_EQ(Read16(m, 0x541c), 0x50);     // with TR = its TSS
  EXPECT_TRUE(Read32(m, 0x5420) & flags::kNt);
  EXPECT_EQ(Read16(m, 0x5418), 0x28);     // and IRET returned to task 1
}

}  // namespace
}  // namespace x86vm
