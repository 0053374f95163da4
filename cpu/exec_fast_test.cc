// The specialized handlers of exec_fast.cc against the generic ones they
// replace: each instruction runs from the same random 64-bit-mode states on
// two CPUs, one with the decoder's generic handler and one with
// SpecializeHandler's, and the results (fault, every register, RIP, CR2,
// and guest memory) must be identical. Memory operands hit mapped RAM, a
// page boundary (the slow path), and a not-present page (#PF).
#include "cpu/exec_fast.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cpu/cpu.h"
#include "cpu/test_machine.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "machine/guest_memory.h"

namespace x86vm {
namespace {

constexpr uint64_t kPml4 = 0x10000, kPdpt = 0x11000, kPd = 0x12000, kPt = 0x13000;
// Data lives in a 4 KiB-paged 2 MiB region at 2 MiB; its last page is not
// present.
constexpr uint64_t kData = 0x200000;
constexpr uint64_t kDataBytes = 0x4000;
constexpr uint64_t kMissing = kData + kDataBytes;  // Not present.

// One CPU in 64-bit mode at CPL 0 with its own RAM.
class LongModeCpu {
 public:
  LongModeCpu() : mmio_("mmio"), pio_("pio"), clock_(VirtualClock::Mode::kDeterministic) {
    memory_ = std::move(GuestMemory::Create(8 << 20).value());
    Write64(kPml4, kPdpt | 3);
    Write64(kPdpt, kPd | 3);
    for (uint64_t i = 0; i < 4; ++i) {
      if (i == 1) continue;
      Write64(kPd + 8 * i, (i << 21) | 0x83);  // 2 MiB pages.
    }
    Write64(kPd + 8, kPt | 3);  // 2-4 MiB in 4 KiB pages.
    for (uint64_t p = 0; p < 512; ++p) {
      uint64_t pa = kData + (p << 12);
      Write64(kPt + 8 * p, pa >= kMissing ? 0 : (pa | 3));
    }
    CpuEnvironment env{memory_.get(), &mmio_, &pio_, &irq_, &clock_, nullptr};
    cpu_ = std::make_unique<Cpu>(env);
  }

  void Write64(uint64_t gpa, uint64_t v) { std::memcpy(memory_->HostRange(gpa, 8), &v, 8); }
  uint8_t* Data() { return memory_->HostRange(kData, kDataBytes); }
  Cpu& cpu() { return *cpu_; }

  // A 64-bit-mode state with the given registers and flags.
  static CpuState State(const std::array<uint64_t, 16>& gpr, uint64_t rflags, uint64_t rip) {
    CpuState s;
    s.Reset();
    const uint32_t data = 0x3 | seg_attr::kS | seg_attr::kP | seg_attr::kDb | seg_attr::kG;
    for (int r : {kEs, kSs, kDs, kFs, kGs}) s.seg[r] = Segment{0x10, 0, 0xffffffff, data};
    s.seg[kFs].base = 0x1000;  // FS overrides add a base in 64-bit mode.
    s.seg[kCs] = Segment{0x08, 0, 0xffffffff, 0xb | seg_attr::kS | seg_attr::kP | seg_attr::kL | seg_attr::kG};
    s.cr0 = cr0::kPe | cr0::kEt | cr0::kNe | cr0::kWp | cr0::kPg;
    s.cr4 = cr4::kPae;
    s.cr3 = kPml4;
    s.efer = efer::kLme | efer::kLma;
    for (int r = 0; r < 16; ++r) s.gpr[r] = gpr[r];
    s.rflags = rflags;
    s.rip = rip;
    return s;
  }

  // Runs `handler` for `insn` from `state`; the TLB is kept from earlier
  // runs (a warm TLB is what sends the specialized forms down their fast
  // path).
  Fault Run(Handler handler, const Insn& insn, const CpuState& state) {
    Cpu& c = *cpu_;
    if (!started_) {
      c.s = state;
      c.StateChanged();
      started_ = true;
    }
    c.s = state;
    c.fault_address = 0;
    c.next_rip = state.rip + insn.length;
    Fault f = handler(c, insn);
    c.MaterializeFlags();  // As DispatchFast does before anyone reads them.
    return f;
  }

 private:
  std::unique_ptr<GuestMemory> memory_;
  Bus mmio_;
  Bus pio_;
  VirtualClock clock_;
  FakeInterruptController irq_;
  std::unique_ptr<Cpu> cpu_;
  bool started_ = false;
};

struct Case {
  const char* name;
  std::vector<uint8_t> bytes;
};

// Instructions with a specialized form (see exec_fast.cc). Base registers
// are RBX and RSP, the index register RCX; RIP-relative operands reach the
// data area because the test places RIP just below it.
const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"add rax, rbx", {0x48, 0x01, 0xd8}},
      {"add eax, ebx", {0x01, 0xd8}},
      {"or rdx, rsi", {0x48, 0x09, 0xf2}},
      {"adc rax, rdx", {0x48, 0x11, 0xd0}},
      {"sbb esi, edi", {0x19, 0xfe}},
      {"and rax, rdx", {0x48, 0x21, 0xd0}},
      {"sub rax, rcx", {0x48, 0x29, 0xc8}},
      {"xor eax, eax", {0x31, 0xc0}},
      {"cmp rax, rdx", {0x48, 0x39, 0xd0}},
      {"add rax, rdx (03)", {0x48, 0x03, 0xc2}},
      {"sub edx, esi (2b)", {0x2b, 0xd6}},
      {"cmp rdx, rax (3b)", {0x48, 0x3b, 0xd0}},
      {"add [rbx], rax", {0x48, 0x01, 0x03}},
      {"sub [rbx+8], edx", {0x29, 0x53, 0x08}},
      {"adc [rbx+rcx*8], rdx", {0x48, 0x11, 0x14, 0xcb}},
      {"cmp [rbx], rax", {0x48, 0x39, 0x03}},
      {"add rax, [rbx+16]", {0x48, 0x03, 0x43, 0x10}},
      {"xor edx, [rbx+rcx*4+4]", {0x33, 0x54, 0x8b, 0x04}},
      {"cmp rax, [rip+0x100]", {0x48, 0x3b, 0x05, 0x00, 0x01, 0x00, 0x00}},
      {"add rax, fs:[rbx]", {0x64, 0x48, 0x03, 0x03}},
      {"add rax, 5", {0x48, 0x83, 0xc0, 0x05}},
      {"sub rcx, 0x12345678", {0x48, 0x81, 0xe9, 0x78, 0x56, 0x34, 0x12}},
      {"cmp eax, -1", {0x83, 0xf8, 0xff}},
      {"and esi, 0xff00", {0x81, 0xe6, 0x00, 0xff, 0x00, 0x00}},
      {"adc rdx, 0", {0x48, 0x83, 0xd2, 0x00}},
      {"cmp qword [rbx], 0", {0x48, 0x83, 0x3b, 0x00}},
      {"add dword [rbx+rcx*8], 1", {0x83, 0x04, 0xcb, 0x01}},
      {"sbb qword [rbx], -2", {0x48, 0x83, 0x1b, 0xfe}},
      {"test rax, rdx", {0x48, 0x85, 0xd0}},
      {"test eax, eax", {0x85, 0xc0}},
      {"test [rbx], rax", {0x48, 0x85, 0x03}},
      {"test edx, 0x10", {0xf7, 0xc2, 0x10, 0x00, 0x00, 0x00}},
      {"test qword [rbx], 0x10", {0x48, 0xf7, 0x03, 0x10, 0x00, 0x00, 0x00}},
      {"mov rbx, rax", {0x48, 0x89, 0xc3}},
      {"mov ebx, eax", {0x89, 0xc3}},
      {"mov rax, rdx (8b)", {0x48, 0x8b, 0xc2}},
      {"mov rax, [rbx]", {0x48, 0x8b, 0x03}},
      {"mov eax, [rbx+4]", {0x8b, 0x43, 0x04}},
      {"mov rdx, [rbx+rcx*8+8]", {0x48, 0x8b, 0x54, 0xcb, 0x08}},
      {"mov rax, [rip+0x80]", {0x48, 0x8b, 0x05, 0x80, 0x00, 0x00, 0x00}},
      {"mov [rbx], rax", {0x48, 0x89, 0x03}},
      {"mov [rbx+rcx*4], edx", {0x89, 0x14, 0x8b}},
      {"mov [rsp+8], rdx", {0x48, 0x89, 0x54, 0x24, 0x08}},
      {"mov qword [rbx], -5", {0x48, 0xc7, 0x03, 0xfb, 0xff, 0xff, 0xff}},
      {"mov dword [rbx+8], 7", {0xc7, 0x43, 0x08, 0x07, 0x00, 0x00, 0x00}},
      {"movzx eax, ah", {0x0f, 0xb6, 0xc4}},
      {"movzx eax, sil", {0x40, 0x0f, 0xb6, 0xc6}},
      {"movzx rax, byte [rbx]", {0x48, 0x0f, 0xb6, 0x03}},
      {"movzx edx, word [rbx+rcx*2]", {0x0f, 0xb7, 0x14, 0x4b}},
      {"movsx rax, al", {0x48, 0x0f, 0xbe, 0xc0}},
      {"movsx eax, word [rbx]", {0x0f, 0xbf, 0x03}},
      {"movsxd rax, ebx", {0x48, 0x63, 0xc3}},
      {"movsxd rdx, [rbx+4]", {0x48, 0x63, 0x53, 0x04}},
      {"lea rax, [rbx+rcx*4]", {0x48, 0x8d, 0x04, 0x8b}},
      {"lea eax, [rbx+8]", {0x8d, 0x43, 0x08}},
      {"lea rax, [rip+0x10]", {0x48, 0x8d, 0x05, 0x10, 0x00, 0x00, 0x00}},
      {"lea r12, [rax*8]", {0x4c, 0x8d, 0x24, 0xc5, 0x00, 0x00, 0x00, 0x00}},
      {"lea eax, [rcx*4+0x10]", {0x8d, 0x04, 0x8d, 0x10, 0x00, 0x00, 0x00}},
      {"shl rax, 3", {0x48, 0xc1, 0xe0, 0x03}},
      {"shr eax, 31", {0xc1, 0xe8, 0x1f}},
      {"sar rax, 63", {0x48, 0xc1, 0xf8, 0x3f}},
      {"rol rdx, 7", {0x48, 0xc1, 0xc2, 0x07}},
      {"ror eax, 0", {0xc1, 0xc8, 0x00}},
      {"shl edx, 33 (masked)", {0xc1, 0xe2, 0x21}},
      {"sar edi, 0x40 (masked to 0)", {0xc1, 0xff, 0x40}},
      {"shr rax, 0x40 (masked to 0)", {0x48, 0xc1, 0xe8, 0x40}},
      {"imul rax, rbx", {0x48, 0x0f, 0xaf, 0xc3}},
      {"imul edx, esi", {0x0f, 0xaf, 0xd6}},
      {"inc rax", {0x48, 0xff, 0xc0}},
      {"dec eax", {0xff, 0xc8}},
      {"push rbx", {0x53}},
      {"push r12", {0x41, 0x54}},
      {"pop rdx", {0x5a}},
      {"pop rsp", {0x5c}},
      {"jmp +0x10", {0xeb, 0x10}},
      {"jz +5", {0x74, 0x05}},
      {"jnz rel32", {0x0f, 0x85, 0x00, 0x01, 0x00, 0x00}},
      {"jl -2", {0x7c, 0xfe}},
      {"jbe +0x7f", {0x76, 0x7f}},
      {"call rel32", {0xe8, 0x00, 0x10, 0x00, 0x00}},
      {"ret", {0xc3}},
      {"add al, bl", {0x00, 0xd8}},
      {"sub ah, dh", {0x28, 0xf4}},
      {"xor sil, dil", {0x40, 0x30, 0xfe}},
      {"cmp bh, al (3a)", {0x3a, 0xf8}},
      {"adc [rbx], ch", {0x10, 0x2b}},
      {"and dl, [rbx+rcx]", {0x22, 0x14, 0x0b}},
      {"cmp byte [rbx], 7", {0x80, 0x3b, 0x07}},
      {"or ah, 0x81", {0x80, 0xcc, 0x81}},
      {"sbb byte [rip+0x20], 1", {0x80, 0x1d, 0x20, 0x00, 0x00, 0x00, 0x01}},
      {"test byte [rbx+4], 0x40", {0xf6, 0x43, 0x04, 0x40}},
      {"test bh, 1", {0xf6, 0xc7, 0x01}},
      {"test [rbx], dh", {0x84, 0x33}},
      {"test cl, al", {0x84, 0xc1}},
      {"add al, 0x7f", {0x04, 0x7f}},
      {"cmp eax, 0x1000", {0x3d, 0x00, 0x10, 0x00, 0x00}},
      {"sub rax, -8 (2d)", {0x48, 0x2d, 0xf8, 0xff, 0xff, 0xff}},
      {"sbb eax, 3 (1d)", {0x1d, 0x03, 0x00, 0x00, 0x00}},
      {"test al, 1", {0xa8, 0x01}},
      {"test rax, 0x80 (a9)", {0x48, 0xa9, 0x80, 0x00, 0x00, 0x00}},
      {"mov [rbx], ah", {0x88, 0x23}},
      {"mov bl, [rbx+rcx*2]", {0x8a, 0x1c, 0x4b}},
      {"mov dh, al", {0x88, 0xc6}},
      {"mov r9b, [rbx]", {0x44, 0x8a, 0x0b}},
      {"mov byte [rbx+3], 0x55", {0xc6, 0x43, 0x03, 0x55}},
      {"cmovae rdx, r14", {0x49, 0x0f, 0x43, 0xd6}},
      {"cmovz eax, ebx", {0x0f, 0x44, 0xc3}},
      {"cmovg esi, [rbx]", {0x0f, 0x4f, 0x33}},
      {"cmovbe rax, [rbx+rcx*8]", {0x48, 0x0f, 0x46, 0x04, 0xcb}},
      {"setb sil", {0x40, 0x0f, 0x92, 0xc6}},
      {"setnz ah", {0x0f, 0x95, 0xc4}},
      {"setle dl", {0x0f, 0x9e, 0xc2}},
      // SSE (exec_fast_sse.cc).
      {"paddd xmm1, xmm2", {0x66, 0x0f, 0xfe, 0xca}},
      {"psubd xmm3, xmm4", {0x66, 0x0f, 0xfa, 0xdc}},
      {"paddq xmm0, xmm7", {0x66, 0x0f, 0xd4, 0xc7}},
      {"psubq xmm9, xmm1", {0x66, 0x44, 0x0f, 0xfb, 0xc9}},
      {"pxor xmm12, xmm13", {0x66, 0x45, 0x0f, 0xef, 0xe5}},
      {"xorps xmm0, xmm1", {0x0f, 0x57, 0xc1}},
      {"por xmm1, xmm2", {0x66, 0x0f, 0xeb, 0xca}},
      {"pand xmm2, xmm3", {0x66, 0x0f, 0xdb, 0xd3}},
      {"pandn xmm4, xmm5", {0x66, 0x0f, 0xdf, 0xe5}},
      {"punpckldq xmm0, xmm1", {0x66, 0x0f, 0x62, 0xc1}},
      {"punpckhdq xmm2, xmm3", {0x66, 0x0f, 0x6a, 0xd3}},
      {"punpcklqdq xmm4, xmm5", {0x66, 0x0f, 0x6c, 0xe5}},
      {"punpckhqdq xmm6, xmm7", {0x66, 0x0f, 0x6d, 0xf7}},
      {"pshufb xmm0, xmm1", {0x66, 0x0f, 0x38, 0x00, 0xc1}},
      {"pshufb xmm10, xmm10", {0x66, 0x45, 0x0f, 0x38, 0x00, 0xd2}},
      {"movdqa xmm1, xmm2", {0x66, 0x0f, 0x6f, 0xca}},
      {"movdqu xmm3, xmm4", {0xf3, 0x0f, 0x6f, 0xdc}},
      {"movaps xmm5, xmm6", {0x0f, 0x28, 0xee}},
      {"movups xmm7, xmm8", {0x41, 0x0f, 0x10, 0xf8}},
      {"pshufd xmm1, xmm2, 0x1b", {0x66, 0x0f, 0x70, 0xca, 0x1b}},
      {"pshufd xmm3, xmm3, 0xe4", {0x66, 0x0f, 0x70, 0xdb, 0xe4}},
      {"psrld xmm3, 7", {0x66, 0x0f, 0x72, 0xd3, 0x07}},
      {"pslld xmm4, 25", {0x66, 0x0f, 0x72, 0xf4, 0x19}},
      {"psrld xmm3, 40", {0x66, 0x0f, 0x72, 0xd3, 0x28}},
      {"psrlq xmm5, 33", {0x66, 0x0f, 0x73, 0xd5, 0x21}},
      {"psllq xmm6, 64", {0x66, 0x0f, 0x73, 0xf6, 0x40}},
      {"movd xmm0, eax", {0x66, 0x0f, 0x6e, 0xc0}},
      {"movd xmm1, [rbx]", {0x66, 0x0f, 0x6e, 0x0b}},
      {"movd xmm2, [rbx+rcx*4+8]", {0x66, 0x0f, 0x6e, 0x54, 0x8b, 0x08}},
  };
  return cases;
}

class ExecFastTest : public ::testing::TestWithParam<size_t> {};

TEST_P(ExecFastTest, SpecializedMatchesGeneric) {
  const Case& c = Cases()[GetParam()];
  Insn insn;
  ASSERT_EQ(Decode(OpcodeTable::Get(), CodeMode::k64, c.bytes.data(), c.bytes.size(), insn),
            DecodeStatus::kOk)
      << c.name;
  ASSERT_EQ(insn.length, c.bytes.size()) << c.name;
  Handler fast = SpecializeHandler(insn, CodeMode::k64);
  ASSERT_NE(fast, insn.handler) << c.name << ": no specialized form";

  LongModeCpu generic_cpu, fast_cpu;
  std::mt19937_64 rng(GetParam() * 7919 + 1);
  for (int iter = 0; iter < 400; ++iter) {
    std::array<uint64_t, 16> gpr;
    for (uint64_t& r : gpr) r = rng();
    // Small registers sometimes: zero results, carries and counts of 0.
    for (uint64_t& r : gpr) {
      if (rng() % 4 == 0) r &= 0xff;
    }
    // Base (RBX, RSP) and index (RCX) registers: mostly well inside the
    // data area, sometimes at a page end (page-crossing accesses take the
    // slow path) or in the not-present page (#PF).
    auto pick_address = [&]() -> uint64_t {
      switch (rng() % 8) {
        case 0: return kData + 0x1000 - 4;
        case 1: return kMissing + (rng() % 64);
        default: return kData + 0x100 + (rng() % 0x2c00);
      }
    };
    gpr[kRbx] = pick_address();
    gpr[kRsp] = pick_address();
    gpr[kRcx] = rng() % 64;
    uint64_t rflags = flags::kFixed1 | flags::kIf | (rng() & flags::kStatus);
    // RIP just below the data area, so RIP-relative operands land in it; or
    // next to the top of the canonical lower half, so branches can leave it.
    uint64_t rip = rng() % 16 == 0 ? 0x00007fffffffff80ull : kData - 0x40;
    CpuState state = LongModeCpu::State(gpr, rflags, rip);
    // SSE: random XMM registers; usually usable, sometimes #UD (CR4.OSFXSR
    // clear, CR0.EM set) or #NM (CR0.TS set).
    for (Xmm& x : state.xmm) x = Xmm{rng(), rng()};
    switch (rng() % 8) {
      case 0: break;
      case 1: state.cr4 |= cr4::kOsfxsr; state.cr0 |= cr0::kTs; break;
      case 2: state.cr4 |= cr4::kOsfxsr; state.cr0 |= cr0::kEm; break;
      default: state.cr4 |= cr4::kOsfxsr; break;
    }
    std::vector<uint8_t> memory(kDataBytes);
    for (uint8_t& b : memory) b = static_cast<uint8_t>(rng());
    std::memcpy(generic_cpu.Data(), memory.data(), kDataBytes);
    std::memcpy(fast_cpu.Data(), memory.data(), kDataBytes);

    Fault g = generic_cpu.Run(insn.handler, insn, state);
    Fault f = fast_cpu.Run(fast, insn, state);
    std::string where = std::string(c.name) + " iteration " + std::to_string(iter);
    ASSERT_EQ(g.vector, f.vector) << where;
    ASSERT_EQ(g.has_error_code, f.has_error_code) << where;
    ASSERT_EQ(g.error_code, f.error_code) << where;
    ASSERT_EQ(generic_cpu.cpu().fault_address, fast_cpu.cpu().fault_address) << where;
    ASSERT_EQ(generic_cpu.cpu().next_rip, fast_cpu.cpu().next_rip) << where;
    for (int r = 0; r < 16; ++r) ASSERT_EQ(generic_cpu.cpu().s.gpr[r], fast_cpu.cpu().s.gpr[r]) << where << " r" << r;
    ASSERT_EQ(generic_cpu.cpu().s.rflags, fast_cpu.cpu().s.rflags) << where;
    ASSERT_TRUE(generic_cpu.cpu().s == fast_cpu.cpu().s) << where;
    ASSERT_EQ(std::memcmp(generic_cpu.Data(), fast_cpu.Data(), kDataBytes), 0) << where;
  }
}

INSTANTIATE_TEST_SUITE_P(AllCases, ExecFastTest, ::testing::Range<size_t>(0, Cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           std::string n = Cases()[info.param].name;
                           std::string out;
                           for (char ch : n) out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           return out + "_" + std::to_string(info.param);
                         });

// Forms that must stay generic: 16-bit operands, a LOCK prefix, 32-bit
// addresses, and anything outside 64-bit mode for memory operands.
TEST(ExecFastPick, LeavesOtherFormsGeneric) {
  struct Generic {
    std::vector<uint8_t> bytes;
    CodeMode mode;
  };
  const std::vector<Generic> cases = {
      {{0x66, 0x01, 0xd8}, CodeMode::k64},        // add ax, bx
      {{0xf0, 0x48, 0x01, 0x03}, CodeMode::k64},  // lock add [rbx], rax
      {{0x67, 0x48, 0x8b, 0x03}, CodeMode::k64},  // mov rax, [ebx]
      {{0x8b, 0x03}, CodeMode::k32},              // mov eax, [ebx] in 32-bit code
      {{0x48, 0x8b, 0x04, 0x25, 0, 0x10, 0, 0}, CodeMode::k64},  // mov rax, [0x1000] (no base)
      {{0x48, 0xd1, 0xd0}, CodeMode::k64},        // rcl rax, 1
  };
  for (const Generic& g : cases) {
    Insn insn;
    ASSERT_EQ(Decode(OpcodeTable::Get(), g.mode, g.bytes.data(), g.bytes.size(), insn), DecodeStatus::kOk);
    EXPECT_EQ(SpecializeHandler(insn, g.mode), insn.handler) << "first byte " << int(g.bytes[0]);
  }
}

// Straight runs (Insn::run) contain handlers that touch registers and
// flags (RunsStraight) and, each ending a run, memory forms addressed
// through registers and PUSH/POP (RunsStraightToFault). Branches,
// RIP-relative operands and generic handlers stay out.
TEST(ExecFastPick, RunsStraightOnlyForRegisterAndRegisterAddressedForms) {
  enum Kind { kNo, kStraight, kToFault };
  struct Form {
    std::vector<uint8_t> bytes;
    Kind kind;
  };
  const std::vector<Form> forms = {
      {{0x48, 0x01, 0xd8}, kStraight},                    // add rax, rbx
      {{0x48, 0x11, 0xce}, kStraight},                    // adc rsi, rcx
      {{0x49, 0x0f, 0xaf, 0xc0}, kStraight},              // imul rax, r8
      {{0x49, 0x0f, 0x43, 0xd6}, kStraight},              // cmovae rdx, r14
      {{0x40, 0x0f, 0x92, 0xc6}, kStraight},              // setb sil
      {{0x4c, 0x8d, 0x24, 0xc5, 0, 0, 0, 0}, kStraight},  // lea r12, [rax*8]
      {{0x48, 0x8d, 0x04, 0x0b}, kStraight},              // lea rax, [rbx+rcx]
      {{0x48, 0x63, 0xc7}, kStraight},                    // movsxd rax, edi
      {{0x48, 0x8b, 0x03}, kToFault},                     // mov rax, [rbx]
      {{0x48, 0x03, 0x03}, kToFault},                     // add rax, [rbx]
      {{0x48, 0x89, 0x04, 0xcb}, kToFault},               // mov [rbx+rcx*8], rax
      {{0x48, 0x83, 0x03, 0x01}, kToFault},               // add qword [rbx], 1
      {{0x0f, 0xb6, 0x43, 0x01}, kToFault},               // movzx eax, byte [rbx+1]
      {{0x50}, kToFault},                                 // push rax
      {{0x5b}, kToFault},                                 // pop rbx
      {{0x48, 0x8d, 0x05, 0x10, 0, 0, 0}, kNo},           // lea rax, [rip+0x10]
      {{0x48, 0x8b, 0x05, 0x10, 0, 0, 0}, kNo},           // mov rax, [rip+0x10]
      {{0x48, 0x8b, 0x04, 0x25, 0, 0x10, 0, 0}, kNo},     // mov rax, [0x1000] (no base)
      {{0x67, 0x48, 0x8b, 0x03}, kNo},                    // mov rax, [ebx]
      {{0xf0, 0x48, 0x01, 0x03}, kNo},                    // lock add [rbx], rax
      {{0x75, 0x10}, kNo},                                // jnz
      {{0xc3}, kNo},                                      // ret
      {{0x48, 0xd1, 0xd0}, kNo},                          // rcl rax, 1 (generic)
      {{0x48, 0xf7, 0xe1}, kNo},                          // mul rcx (generic)
      {{0x48, 0xf7, 0x23}, kNo},                          // mul qword [rbx] (generic)
  };
  for (const Form& f : forms) {
    Insn insn;
    ASSERT_EQ(Decode(OpcodeTable::Get(), CodeMode::k64, f.bytes.data(), f.bytes.size(), insn), DecodeStatus::kOk);
    const Handler decoded = insn.handler;
    insn.handler = SpecializeHandler(insn, CodeMode::k64);
    EXPECT_EQ(RunsStraight(insn.handler), f.kind == kStraight)
        << "bytes starting " << int(f.bytes[0]) << " " << int(f.bytes[1]);
    EXPECT_EQ(RunsStraightToFault(insn, decoded), f.kind == kToFault)
        << "bytes starting " << int(f.bytes[0]) << " " << int(f.bytes[1]);
  }
  // In 32-bit code nothing is specialized to a memory form.
  Insn insn;
  const uint8_t load[] = {0x8b, 0x03};  // mov eax, [ebx]
  ASSERT_EQ(Decode(OpcodeTable::Get(), CodeMode::k32, load, sizeof(load), insn), DecodeStatus::kOk);
  const Handler decoded = insn.handler;
  insn.handler = SpecializeHandler(insn, CodeMode::k32);
  EXPECT_FALSE(RunsStraightToFault(insn, decoded));
}

// ElideDeadFlags on short chained sequences (the last one just decoded):
// which instructions get a reduced-flag form and the kFlagsDead mark.
TEST(ExecFastPick, ElideDeadFlagsKeepsExactlyTheLiveFlags) {
  struct Case {
    const char* name;
    std::vector<std::vector<uint8_t>> code;
    std::vector<bool> reduced;  // Per instruction: given a reduced form.
  };
  const std::vector<Case> cases = {
      {"cmp; mov; cmovae; add: CMP computes CF only",
       {{0x4c, 0x39, 0xe9}, {0x49, 0x89, 0xcd}, {0x49, 0x0f, 0x43, 0xd6}, {0x48, 0x01, 0xf0}},
       {true, false, false, false}},
      {"add rax, [r12]; adc rsi, rcx: the load-ADD computes CF only",
       {{0x49, 0x03, 0x04, 0x24}, {0x48, 0x11, 0xce}},
       {true, false}},
      {"shr; add rax, [r12]; adc: the walk stops at the load",
       {{0x48, 0xc1, 0xe9, 0x20}, {0x49, 0x03, 0x04, 0x24}, {0x48, 0x11, 0xce}},
       {false, true, false}},
      {"sub; sete; add: SUB computes ZF only",
       {{0x49, 0x29, 0xd2}, {0x41, 0x0f, 0x94, 0xc3}, {0x4d, 0x01, 0xda}},
       {true, false, false}},
      {"cmp; setb; seto; add: CF and OF live, CMP stays whole",
       {{0x48, 0x39, 0xd8}, {0x0f, 0x92, 0xc0}, {0x0f, 0x90, 0xc3}, {0x48, 0x01, 0xf0}},
       {false, false, false, false}},
      {"add; mov rcx, [rdx]; add: a load between ends the walk",
       {{0x48, 0x01, 0xd8}, {0x48, 0x8b, 0x0a}, {0x48, 0x01, 0xfe}},
       {false, false, false}},
      {"add; add rcx, [rdx]: a memory form does not start a walk",
       {{0x48, 0x01, 0xd8}, {0x48, 0x03, 0x0a}},
       {false, false}},
      {"add; inc: ADD computes CF only (INC keeps it)",
       {{0x48, 0x01, 0xd8}, {0x48, 0xff, 0xc1}},
       {true, false}},
  };
  for (const Case& c : cases) {
    std::vector<Insn> insns(c.code.size());
    for (size_t k = 0; k < c.code.size(); ++k) {
      ASSERT_EQ(Decode(OpcodeTable::Get(), CodeMode::k64, c.code[k].data(), c.code[k].size(), insns[k]),
                DecodeStatus::kOk)
          << c.name << " #" << k;
      insns[k].handler = SpecializeHandler(insns[k], CodeMode::k64);
      if (k + 1 < c.code.size()) insns[k].flags |= insn_flags::kChained;
    }
    std::vector<Handler> full;
    for (const Insn& i : insns) full.push_back(i.handler);
    ElideDeadFlags(insns.data(), insns.size());
    for (size_t k = 0; k < insns.size(); ++k) {
      EXPECT_EQ(insns[k].handler != full[k], c.reduced[k]) << c.name << " #" << k;
      EXPECT_EQ(FullFlagsHandler(insns[k]), full[k]) << c.name << " #" << k;
      if (c.reduced[k]) {
        EXPECT_TRUE(insns[k].has(insn_flags::kFlagsDead)) << c.name << " #" << k;
      }
    }
    EXPECT_FALSE(insns.back().has(insn_flags::kFlagsDead)) << c.name;
  }
}

}  // namespace
}  // namespace x86vm
