// Known answers through InterpreterEngine: the same facts the oracle tests
// check on the hardware (KVM ring 3) and Unicorn, so the machine around the
// interpreter is shown to be the one each oracle builds.
#include "tests/difftest/interpreter_engine.h"

#include <gtest/gtest.h>

#include <chrono>

#include "tests/difftest/oracle_test_util.h"

namespace x86vm::difftest {
namespace {

class InterpreterEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = InterpreterEngine::Create();
    ASSERT_TRUE(e.has_value()) << e.error().message;
    engine_ = std::move(*e);
  }
  DiffOutcome Run(const DiffCase& c) {
    auto r = engine_->Run(c);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? *r : DiffOutcome{};
  }
  std::unique_ptr<InterpreterEngine> engine_;
};

TEST_F(InterpreterEngineTest, AddSetsResultAndFlags) {
  DiffCase c = BlankCase(DiffMode::kLong64, {0x48, 0x01, 0xd8});  // add rax, rbx
  c.regs.gpr[kDRax] = 5;
  c.regs.gpr[kDRbx] = 7;
  DiffOutcome o = Run(c);
  EXPECT_FALSE(o.exception.has_value());
  EXPECT_EQ(o.regs.gpr[kDRax], 12u);
  EXPECT_EQ(o.regs.rflags & dflags::kStatus, dflags::kPf);
  EXPECT_EQ(o.regs.rip, c.code_end());
  EXPECT_EQ(o.regs.gpr[kDRsp], c.regs.gpr[kDRsp]);
}

TEST_F(InterpreterEngineTest, DivideByZeroIsDeAtTheInstruction) {
  for (DiffMode mode : {DiffMode::kLong64, DiffMode::kProt32, DiffMode::kReal16}) {
    // nop; div ecx/cx (rex.w in 64-bit mode) twice: no #DF carried over.
    std::vector<uint8_t> code = mode == DiffMode::kLong64 ? std::vector<uint8_t>{0x90, 0x48, 0xf7, 0xf1}
                                                          : std::vector<uint8_t>{0x90, 0xf7, 0xf1};
    for (int round = 0; round < 2; ++round) {
      DiffCase c = BlankCase(mode, code);
      c.regs.gpr[kDRax] = 42;
      c.pages[2].bytes.assign(kDiffPageBytes, 0x5a);  // The stack page: no frame may land there.
      DiffOutcome o = Run(c);
      ASSERT_TRUE(o.exception.has_value()) << ModeName(mode);
      EXPECT_EQ(o.exception->vector, 0) << ModeName(mode);
      EXPECT_EQ(o.regs.rip, c.regs.rip + 1) << ModeName(mode);
      EXPECT_EQ(o.regs.gpr[kDRax], 42u) << ModeName(mode);
      EXPECT_EQ(o.regs.gpr[kDRsp], c.regs.gpr[kDRsp]) << ModeName(mode);
      EXPECT_EQ(o.pages[2].bytes, c.pages[2].bytes) << ModeName(mode);
    }
    // The machine is ready for the next case: inc rax / inc eax / inc ax.
    DiffCase add = BlankCase(
        mode, mode == DiffMode::kLong64 ? std::vector<uint8_t>{0x48, 0xff, 0xc0} : std::vector<uint8_t>{0x40});
    EXPECT_EQ(Run(add).regs.gpr[kDRax] & 0xffff, 1u) << ModeName(mode);
  }
}

TEST_F(InterpreterEngineTest, PageFaultsReportAddressAndErrorCode) {
  // mov rax, [0x500000]: nothing mapped there.
  DiffCase c = BlankCase(DiffMode::kLong64, {0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x50, 0x00});
  DiffOutcome o = Run(c);
  ASSERT_TRUE(o.exception.has_value());
  EXPECT_EQ(o.exception->vector, 14);
  EXPECT_EQ(o.exception->cr2, 0x500000u);
  EXPECT_EQ(o.exception->error_code, 4u);  // User read of a not-present page.
  // mov [0x600000], rax on a read-only page: present, write, user.
  DiffCase w = BlankCase(DiffMode::kLong64, {0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00});
  w.pages[0].writable = false;
  o = Run(w);
  ASSERT_TRUE(o.exception.has_value());
  EXPECT_EQ(o.exception->vector, 14);
  EXPECT_EQ(o.exception->error_code, 7u);
  EXPECT_EQ(o.exception->cr2, 0x600000u);
  // The system area is supervisor-only: present, user read.
  DiffCase s = BlankCase(DiffMode::kLong64, {0x48, 0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00});
  o = Run(s);
  ASSERT_TRUE(o.exception.has_value());
  EXPECT_EQ(o.exception->error_code, 5u);
  EXPECT_EQ(o.exception->cr2, 0x1000u);
}

TEST_F(InterpreterEngineTest, Prot32AccessOutsideThePagesIsPageFault) {
  // inc eax; mov eax, [0x500000]: #PF at the second instruction, CR2 named.
  DiffCase c = BlankCase(DiffMode::kProt32, {0x40, 0xa1, 0x00, 0x00, 0x50, 0x00});
  DiffOutcome o = Run(c);
  ASSERT_TRUE(o.exception.has_value());
  EXPECT_EQ(o.exception->vector, 14);
  EXPECT_EQ(o.exception->cr2, 0x500000u);
  EXPECT_EQ(o.regs.rip, c.regs.rip + 1);
  EXPECT_EQ(o.regs.gpr[kDRax], 1u);
  // A write to the code page (read-only, CR0.WP) faults too.
  DiffCase w = BlankCase(DiffMode::kProt32, {0xa3, 0x00, 0x00, 0x40, 0x00});  // mov [0x400000], eax
  o = Run(w);
  ASSERT_TRUE(o.exception.has_value());
  EXPECT_EQ(o.exception->vector, 14);
  EXPECT_EQ(o.exception->cr2, 0x400000u);
  EXPECT_EQ(o.exception->error_code, 3u);  // Supervisor write, present.
}

TEST_F(InterpreterEngineTest, MemoryAndStack) {
  // push rax; mov [0x600010], rbx
  DiffCase c = BlankCase(DiffMode::kLong64, {0x50, 0x48, 0x89, 0x1c, 0x25, 0x10, 0x00, 0x60, 0x00});
  c.regs.gpr[kDRax] = 0x1122334455667788ull;
  c.regs.gpr[kDRbx] = 0xa5a5;
  DiffOutcome o = Run(c);
  EXPECT_EQ(o.regs.gpr[kDRsp], c.regs.gpr[kDRsp] - 8);
  EXPECT_EQ(ReadMem<uint64_t>(o, c.regs.gpr[kDRsp] - 8), 0x1122334455667788ull);
  EXPECT_EQ(ReadMem<uint64_t>(o, 0x600010), 0xa5a5u);
}

TEST_F(InterpreterEngineTest, RealModeSixteenBitAddressing) {
  // mov bx, 0x4000; mov si, 0x10; mov word [bx+si], 0x1234; push bx
  DiffCase c = BlankCase(DiffMode::kReal16, {0xbb, 0x00, 0x40, 0xbe, 0x10, 0x00, 0xc7, 0x00, 0x34, 0x12, 0x53});
  DiffOutcome o = Run(c);
  EXPECT_FALSE(o.exception.has_value());
  EXPECT_EQ(ReadMem<uint16_t>(o, 0x4010), 0x1234u);
  EXPECT_EQ(o.regs.gpr[kDRsp], c.regs.gpr[kDRsp] - 2);
  EXPECT_EQ(ReadMem<uint16_t>(o, c.regs.gpr[kDRsp] - 2), 0x4000u);
  EXPECT_EQ(o.regs.rip, c.code_end());
}

TEST_F(InterpreterEngineTest, BcdAdjustInLegacyModes) {
  for (DiffMode mode : {DiffMode::kReal16, DiffMode::kProt32}) {
    DiffOutcome o = Run(BlankCase(mode, {0xb0, 0x09, 0x04, 0x08, 0x27}));  // mov al, 9; add al, 8; daa
    EXPECT_EQ(o.regs.gpr[kDRax] & 0xff, 0x17u) << ModeName(mode);
    EXPECT_FALSE(o.exception.has_value());
  }
}

TEST_F(InterpreterEngineTest, Int3IsATrapAfterTheInstruction) {
  for (DiffMode mode : {DiffMode::kLong64, DiffMode::kProt32, DiffMode::kReal16}) {
    DiffCase c = BlankCase(mode, {0x90, 0xcc, 0x90});
    DiffOutcome o = Run(c);
    ASSERT_TRUE(o.exception.has_value()) << ModeName(mode);
    EXPECT_EQ(o.exception->vector, 3) << ModeName(mode);
    EXPECT_EQ(o.regs.rip, c.regs.rip + 2) << ModeName(mode);
    EXPECT_EQ(o.regs.gpr[kDRsp], c.regs.gpr[kDRsp]) << ModeName(mode);
  }
}

// INT n through a gate with DPL 0 at CPL 3 is #GP(vector * 8 + 2) (SDM
// Vol. 3 6.12.1.1). (The host KVM oracle reports #UD here: not compared.)
TEST_F(InterpreterEngineTest, IntThroughAKernelGateIsGp) {
  DiffCase c = BlankCase(DiffMode::kLong64, {0xcd, 0x80});
  DiffOutcome o = Run(c);
  ASSERT_TRUE(o.exception.has_value());
  EXPECT_EQ(o.exception->vector, 13);
  EXPECT_EQ(o.exception->error_code, 0x80u * 8 + 2);
  EXPECT_EQ(o.regs.rip, c.regs.rip);
}

TEST_F(InterpreterEngineTest, XmmAndMxcsrGoInAndOut) {
  for (DiffMode mode : {DiffMode::kLong64, DiffMode::kProt32, DiffMode::kReal16}) {
    // paddd xmm0, xmm1; divps xmm2, xmm3 (1/0: ZE flag).
    DiffCase c = BlankCase(mode, {0x66, 0x0f, 0xfe, 0xc1, 0x0f, 0x5e, 0xd3});
    c.regs.xmm[0] = {1, 2};
    c.regs.xmm[1] = {10, 20};
    c.regs.xmm[2] = {0x3f8000003f800000ull, 0x3f8000003f800000ull};
    c.regs.xmm[7] = {0xdead, 0xbeef};
    c.regs.mxcsr = 0x3f80;
    DiffOutcome o = Run(c);
    EXPECT_FALSE(o.exception.has_value()) << ModeName(mode);
    EXPECT_EQ(o.regs.xmm[0], (DiffXmm{11, 22})) << ModeName(mode);
    EXPECT_EQ(o.regs.xmm[2].lo, 0x7f8000007f800000ull) << ModeName(mode);
    EXPECT_EQ(o.regs.xmm[7], (DiffXmm{0xdead, 0xbeef})) << ModeName(mode);
    EXPECT_EQ(o.regs.mxcsr, 0x3f80u | 0x4u) << ModeName(mode);
  }
}

TEST_F(InterpreterEngineTest, RefusesPagesOutsideTheModesRange) {
  DiffCase c = BlankCase(DiffMode::kLong64, {0x90});
  c.pages[0].vaddr = 0x3000;  // The system area.
  EXPECT_FALSE(engine_->Run(c).has_value());
  DiffCase r = BlankCase(DiffMode::kReal16, {0x90});
  r.pages[0].vaddr = 0xf0000;
  EXPECT_FALSE(engine_->Run(r).has_value());
}

// Many different page addresses use up the engine's frames; it starts over
// and every case still sees its own pages.
TEST_F(InterpreterEngineTest, ManyLayoutsRecycleFrames) {
  for (uint64_t i = 0; i < 1400; ++i) {
    DiffCase c =
        BlankCase(DiffMode::kLong64, {0x48, 0x89, 0x06, 0x48, 0x8b, 0x5e, 0x08});  // mov [rsi], rax; mov rbx, [rsi+8]
    for (DiffPage& p : c.pages) p.vaddr += (i + 1) << 24;
    c.regs.gpr[kDRsp] += (i + 1) << 24;
    c.regs.gpr[kDRsi] = c.pages[1].vaddr + 0x10;
    c.regs.gpr[kDRax] = i;
    c.pages[1].bytes[0x18] = static_cast<uint8_t>(i);
    DiffOutcome o = Run(c);
    ASSERT_FALSE(o.exception.has_value()) << i;
    ASSERT_EQ(ReadMem<uint64_t>(o, c.pages[1].vaddr + 0x10), i);
    ASSERT_EQ(o.regs.gpr[kDRbx], i & 0xff);
  }
}

TEST_F(InterpreterEngineTest, TensOfThousandsOfCasesPerSecond) {
  DiffCase c = BlankCase(DiffMode::kLong64, {0x48, 0x01, 0xd8, 0x66, 0x0f, 0xfe, 0xc1});
  const int n = 5000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    c.regs.gpr[kDRax] = static_cast<uint64_t>(i);
    auto r = engine_->Run(c);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r->regs.gpr[kDRax], static_cast<uint64_t>(i));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("interp_cases_per_second", static_cast<int>(n / s));
  printf("interp: %.0f cases/s\n", n / s);
}

}  // namespace
}  // namespace x86vm::difftest
