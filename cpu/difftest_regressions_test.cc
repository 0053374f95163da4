// Interpreter bugs found by the differential tests (tests/difftest: the
// interpreter against KVM at ring 3 and Unicorn), each pinned down with the
// reproducer the comparison printed and the answer of the oracle.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "cpu/fault.h"
#include "cpu/test_machine.h"

namespace x86vm {
namespace {

// A flat 32-bit protected-mode machine at CPL 0 (or 3) with paging: the
// first 4 MiB identity-mapped, user and writable, except a read-only page and
// a not-present page; every IDT vector leads to its own HLT at CPL 0, so the
// vector and the frame (error code on top) can be read after the run.
class PagedMachine {
 public:
  static constexpr uint32_t kGdt = 0x1000, kIdt = 0x2000, kStubs = 0x3000, kCode = 0x4000;
  static constexpr uint32_t kReadOnly = 0x5000, kNotPresent = 0x6000, kData = 0x7000, kStackTop = 0x9000;
  static constexpr uint32_t kPd = 0x10000, kPt = 0x11000, kTss = 0xa000, kStack0Top = 0xc000;

  PagedMachine() {
    // Null, ring-0 code and data, ring-3 code (0x1b) and data (0x23), a
    // 32-bit TSS (0x28) whose SS0:ESP0 takes exceptions from CPL 3.
    const uint64_t gdt[6] = {0,
                             0x00cf9b000000ffffull,
                             0x00cf93000000ffffull,
                             0x00cffb000000ffffull,
                             0x00cff3000000ffffull,
                             0x0000890000000067ull | (uint64_t{kTss} << 16)};
    std::memset(m_.memory().HostRange(kTss, 0x68), 0, 0x68);
    m_.Write64(kTss + 4, kStack0Top | (uint64_t{0x10} << 32));  // ESP0, SS0.
    std::memcpy(m_.memory().HostRange(kGdt, sizeof(gdt)), gdt, sizeof(gdt));
    for (uint32_t v = 0; v < 256; ++v) {
      const uint32_t handler = kStubs + v;
      // 32-bit interrupt gate (SDM Vol. 3 6.11).
      m_.Write64(kIdt + 8 * v,
                 (handler & 0xffff) | (uint64_t{0x08} << 16) | (0x8eull << 40) | (uint64_t{handler >> 16} << 48));
      m_.memory().HostRange(kStubs + v, 1)[0] = 0xf4;
    }
    auto* pd = reinterpret_cast<uint32_t*>(m_.memory().HostRange(kPd, 4096));
    auto* pt = reinterpret_cast<uint32_t*>(m_.memory().HostRange(kPt, 4096));
    std::memset(pd, 0, 4096);
    pd[0] = kPt | 3;
    for (uint32_t p = 0; p < 1024; ++p) pt[p] = (p << 12) | 7;
    pt[kReadOnly >> 12] = kReadOnly | 5;
    pd[0] |= 4;
    pt[kNotPresent >> 12] = 0;
  }

  // Runs `code` at kCode with `eax`; returns the vector taken, or -1 when
  // the HLT after the code was reached.
  int Run(std::vector<uint8_t> code, uint32_t eax = 0, int cpl = 0) {
    code.push_back(0xf4);
    m_.Load(kCode, code);
    CpuState s;
    s.Reset();
    const uint32_t dpl = static_cast<uint32_t>(cpl) << seg_attr::kDplShift;
    const uint32_t flat = seg_attr::kS | seg_attr::kP | seg_attr::kDb | seg_attr::kG | dpl;
    const Segment cs{static_cast<uint16_t>(cpl == 3 ? 0x1b : 0x08), 0, 0xffffffff, 0xb | flat};
    const Segment ds{static_cast<uint16_t>(cpl == 3 ? 0x23 : 0x10), 0, 0xffffffff, 0x3 | flat};
    s.seg[kTr] = Segment{0x28, kTss, 0x67, 0xb | seg_attr::kP};
    for (int r : {kEs, kSs, kDs, kFs, kGs}) s.seg[r] = ds;
    s.seg[kCs] = cs;
    s.gdtr = {kGdt, 6 * 8 - 1};
    s.idtr = {kIdt, 256 * 8 - 1};
    s.cr0 = cr0::kPe | cr0::kEt | cr0::kNe | cr0::kWp | cr0::kPg;
    s.cr3 = kPd;
    s.rip = kCode;
    s.gpr[kRsp] = kStackTop;
    s.gpr[kRax] = eax;
    m_.SetState(s);
    m_.RunToHalt();
    state_ = m_.State();
    const uint64_t at = state_.rip - 1;
    return at >= kStubs && at < kStubs + 256 ? static_cast<int>(at - kStubs) : -1;
  }
  // The error code on top of the exception frame.
  uint32_t error_code() { return static_cast<uint32_t>(m_.Read64(state_.gpr[kRsp])); }
  const CpuState& state() const { return state_; }
  uint32_t Read32(uint32_t gpa) { return static_cast<uint32_t>(m_.Read64(gpa)); }

 private:
  TestMachine m_;
  CpuState state_;
};

// Read-modify-write instructions read their memory operand with write
// intent: on a read-only or missing page the #PF reports a write (W = 1).
// Found as "sub word [mem], 0x7f" on a supervisor page: interp 0x5, KVM 0x7.
TEST(DifftestRegressions, ReadModifyWriteFaultsReportAWrite) {
  PagedMachine m;
  const std::vector<std::vector<uint8_t>> rmw = {
      {0x01, 0x05, 0x00, 0x50, 0x00, 0x00},              // add [0x5000], eax
      {0x83, 0x2d, 0x00, 0x50, 0x00, 0x00, 0x7f},        // sub dword [0x5000], 0x7f
      {0xff, 0x05, 0x00, 0x50, 0x00, 0x00},              // inc dword [0x5000]
      {0xf7, 0x1d, 0x00, 0x50, 0x00, 0x00},              // neg dword [0x5000]
      {0xd1, 0x25, 0x00, 0x50, 0x00, 0x00},              // shl dword [0x5000], 1
      {0x0f, 0xba, 0x2d, 0x00, 0x50, 0x00, 0x00, 0x03},  // bts dword [0x5000], 3
      {0x87, 0x05, 0x00, 0x50, 0x00, 0x00},              // xchg [0x5000], eax
      {0x0f, 0xc1, 0x05, 0x00, 0x50, 0x00, 0x00},        // xadd [0x5000], eax
  };
  for (const auto& code : rmw) {
    ASSERT_EQ(m.Run(code), kPf) << "opcode " << int{code[0]};
    EXPECT_EQ(m.error_code(), pf_error::kPresent | pf_error::kWrite) << "opcode " << int{code[0]};
    EXPECT_EQ(m.state().cr2, PagedMachine::kReadOnly);
  }
  // Not present: W = 1, P = 0.
  ASSERT_EQ(m.Run({0xff, 0x05, 0x00, 0x60, 0x00, 0x00}), kPf);  // inc dword [0x6000]
  EXPECT_EQ(m.error_code(), pf_error::kWrite);
  // Reads that do not write stay reads: CMP, TEST, BT.
  ASSERT_EQ(m.Run({0x39, 0x05, 0x00, 0x60, 0x00, 0x00}), kPf);  // cmp [0x6000], eax
  EXPECT_EQ(m.error_code(), 0u);
  ASSERT_EQ(m.Run({0x0f, 0xba, 0x25, 0x00, 0x60, 0x00, 0x00, 0x03}), kPf);  // bt dword [0x6000], 3
  EXPECT_EQ(m.error_code(), 0u);
  EXPECT_EQ(m.Run({0x39, 0x05, 0x00, 0x50, 0x00, 0x00}), -1);  // cmp [0x5000], eax: fine.
  // A writable page still works.
  EXPECT_EQ(m.Run({0x01, 0x05, 0x00, 0x70, 0x00, 0x00}, 5), -1);  // add [0x7000], eax
}

// XADD with the same register as both operands leaves the sum there
// (SDM Vol. 2 "XADD": SRC := DEST, then DEST := TEMP). Found as
// "xadd rdx, rdx" with rdx = 0x7fff: interp 0x7fff, KVM 0xfffe.
TEST(DifftestRegressions, XaddSameRegisterKeepsTheSum) {
  PagedMachine m;
  EXPECT_EQ(m.Run({0x0f, 0xc1, 0xc0}, 0x7fff), -1);  // xadd eax, eax
  EXPECT_EQ(m.state().gpr[kRax], 0xfffeu);
  EXPECT_EQ(m.Run({0x0f, 0xc0, 0xc0}, 0x1281), -1);  // xadd al, al
  EXPECT_EQ(m.state().gpr[kRax], 0x1202u);
  EXPECT_EQ(m.Run({0x0f, 0xc0, 0xe0}, 0x1281), -1);  // xadd al, ah: ah = 0x81, al = 0x93
  EXPECT_EQ(m.state().gpr[kRax], 0x8193u);
}

// AAS subtracts 6 from AX, borrowing from AH when AL < 6, then decrements
// AH (SDM Vol. 2 "AAS"). Found as "aas" with AX = 0x0100, AF = 1: interp
// 0x000a, Unicorn (QEMU, Bochs agree) 0xff0a.
TEST(DifftestRegressions, AasBorrowsFromAh) {
  TestMachine m;
  m.Load(0x1000, {0x3f, 0xf4});  // aas; hlt
  for (auto [ax, want] : {std::pair<uint16_t, uint16_t>{0x0100, 0xff0a}, {0x0103, 0xff0d}, {0x0209, 0x0103}}) {
    m.StartReal(0x1000);
    CpuState s = m.State();
    s.gpr[kRax] = ax;
    s.rflags |= flags::kAf;
    m.SetState(s);
    m.RunToHalt();
    EXPECT_EQ(m.State().gpr[kRax] & 0xffff, want) << std::hex << ax;
    EXPECT_TRUE(m.State().rflags & flags::kCf);
  }
}

// CMPS reads ES:rDI before DS:rSI, as the hardware does (the SDM leaves the
// order open): when both operands fault, CR2 names the destination. Found
// with rSI and rDI on missing pages: interp CR2 = rSI, KVM CR2 = rDI.
TEST(DifftestRegressions, CmpsReadsTheDestinationFirst) {
  PagedMachine m;
  // mov esi, 0x6000; mov edi, 0x400000 (outside the mapped 4 MiB); cmpsd
  ASSERT_EQ(m.Run({0xbe, 0x00, 0x60, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x40, 0x00, 0xa7}), kPf);
  EXPECT_EQ(m.state().cr2, 0x400000u);
  // mov esi, 0x400000; mov edi, 0x6000; cmpsb
  ASSERT_EQ(m.Run({0xbe, 0x00, 0x00, 0x40, 0x00, 0xbf, 0x00, 0x60, 0x00, 0x00, 0xa6}), kPf);
  EXPECT_EQ(m.state().cr2, 0x6000u);
}

// CLAC and STAC above CPL 0 raise #UD (SDM Vol. 2 "CLAC": "#UD If the CPL
// > 0"), not #GP. Found at CPL 3 against the hardware: interp #GP, KVM #UD.
TEST(DifftestRegressions, ClacStacAboveCpl0AreUd) {
  PagedMachine m;
  EXPECT_EQ(m.Run({0x0f, 0x01, 0xca}, 0, /*cpl=*/3), kUd);  // clac
  EXPECT_EQ(m.Run({0x0f, 0x01, 0xcb}, 0, /*cpl=*/3), kUd);  // stac
  EXPECT_EQ(m.Run({0x0f, 0x01, 0xcb}, 0, /*cpl=*/0), -1);
  EXPECT_TRUE(m.state().rflags & flags::kAc);
  // Other privileged instructions at CPL 3 stay #GP(0).
  EXPECT_EQ(m.Run({0x0f, 0x09}, 0, /*cpl=*/3), kGp);  // wbinvd
  EXPECT_EQ(m.error_code(), 0u);
}

}  // namespace
}  // namespace x86vm
