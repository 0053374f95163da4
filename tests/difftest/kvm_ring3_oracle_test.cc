// Known answers from the hardware through KvmRing3Oracle; skipped where
// /dev/kvm is missing or unusable.
#include "tests/difftest/kvm_ring3_oracle.h"

#include <gtest/gtest.h>

#include <chrono>

#include "tests/difftest/oracle_test_util.h"

namespace x86vm::difftest {
namespace {

class KvmRing3OracleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto oracle = KvmRing3Oracle::Create();
    if (!oracle) GTEST_SKIP() << "KVM ring-3 oracle unavailable: " << oracle.error().message;
    oracle_ = std::move(*oracle);
  }
  DiffOutcome Run(const DiffCase& c) {
    auto r = oracle_->Run(c);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? *r : DiffOutcome{};
  }
  std::unique_ptr<KvmRing3Oracle> oracle_;
};

TEST_F(KvmRing3OracleTest, AddSetsResultAndFlags) {
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

TEST_F(KvmRing3OracleTest, DivideByZeroIsDeAtTheInstruction) {
  DiffCase c = BlankCase(DiffMode::kLong64, {0x90, 0x48, 0xf7, 0xf1});  // nop; div rcx
  c.regs.gpr[kDRax] = 42;
  DiffOutcome o = Run(c);
  ASSERT_TRUE(o.exception.has_value());
  EXPECT_EQ(o.exception->vector, 0);
  EXPECT_EQ(o.regs.rip, c.regs.rip + 1);
  EXPECT_EQ(o.regs.gpr[kDRax], 42u);
  EXPECT_EQ(o.regs.gpr[kDRsp], c.regs.gpr[kDRsp]);
  // The VM is back at ring 3 for the next case.
  DiffCase add = BlankCase(DiffMode::kLong64, {0x48, 0xff, 0xc0});  // inc rax
  EXPECT_EQ(Run(add).regs.gpr[kDRax], 1u);
}

TEST_F(KvmRing3OracleTest, PageFaultsReportAddressAndErrorCode) {
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
}

TEST_F(KvmRing3OracleTest, MemoryAndStack) {
  // push rax; mov [0x600010], rbx
  DiffCase c = BlankCase(DiffMode::kLong64, {0x50, 0x48, 0x89, 0x1c, 0x25, 0x10, 0x00, 0x60, 0x00});
  c.regs.gpr[kDRax] = 0x1122334455667788ull;
  c.regs.gpr[kDRbx] = 0xa5a5;
  DiffOutcome o = Run(c);
  EXPECT_EQ(o.regs.gpr[kDRsp], c.regs.gpr[kDRsp] - 8);
  EXPECT_EQ(ReadMem<uint64_t>(o, c.regs.gpr[kDRsp] - 8), 0x1122334455667788ull);
  EXPECT_EQ(ReadMem<uint64_t>(o, 0x600010), 0xa5a5u);
}

TEST_F(KvmRing3OracleTest, XmmAndMxcsrGoInAndOut) {
  // paddd xmm0, xmm1; divps xmm2, xmm3 (1/0: ZE flag); stmxcsr is not needed.
  DiffCase c = BlankCase(DiffMode::kLong64, {0x66, 0x0f, 0xfe, 0xc1, 0x0f, 0x5e, 0xd3});
  c.regs.xmm[0] = {1, 2};
  c.regs.xmm[1] = {10, 20};
  c.regs.xmm[2] = {0x3f8000003f800000ull, 0x3f8000003f800000ull};
  c.regs.xmm[15] = {0xdead, 0xbeef};
  c.regs.mxcsr = 0x3f80;  // Round down, all masked.
  DiffOutcome o = Run(c);
  EXPECT_EQ(o.regs.xmm[0], (DiffXmm{11, 22}));
  EXPECT_EQ(o.regs.xmm[2].lo, 0x7f8000007f800000ull);  // +inf
  EXPECT_EQ(o.regs.xmm[15], (DiffXmm{0xdead, 0xbeef}));
  EXPECT_EQ(o.regs.mxcsr, 0x3f80u | 0x4u);  // ZE.
  // The SIMD state at a fault is the one before the faulting instruction.
  DiffCase f = BlankCase(DiffMode::kLong64, {0x66, 0x0f, 0xfe, 0xc1, 0x0f, 0x0b});  // paddd; ud2
  f.regs.xmm[0] = {1, 2};
  f.regs.xmm[1] = {10, 20};
  o = Run(f);
  ASSERT_TRUE(o.exception.has_value());
  EXPECT_EQ(o.exception->vector, 6);
  EXPECT_EQ(o.regs.xmm[0], (DiffXmm{11, 22}));
}

// prot32 cases are refused with an error (compatibility mode is emulated by
// this host's KVM, see kvm_ring3_oracle.h), not run wrongly.
TEST_F(KvmRing3OracleTest, RefusesLegacyModes) {
  EXPECT_FALSE(oracle_->Supports(DiffMode::kProt32));
  EXPECT_FALSE(oracle_->Run(BlankCase(DiffMode::kProt32, {0x90})).has_value());
  EXPECT_FALSE(oracle_->Run(BlankCase(DiffMode::kReal16, {0x90})).has_value());
}

TEST_F(KvmRing3OracleTest, ThousandsOfCasesPerSecond) {
  DiffCase c = BlankCase(DiffMode::kLong64, {0x48, 0x01, 0xd8, 0x66, 0x0f, 0xfe, 0xc1});
  const int n = 2000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    c.regs.gpr[kDRax] = static_cast<uint64_t>(i);
    auto r = oracle_->Run(c);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r->regs.gpr[kDRax], static_cast<uint64_t>(i));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("kvm_cases_per_second", static_cast<int>(n / s));
  printf("kvm-ring3: %.0f cases/s\n", n / s);
}

}  // namespace
}  // namespace x86vm::difftest
