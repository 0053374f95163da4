// MMX/SSE-SSE4.2 in the interpreter, checked against the host CPU: the same
// instruction bytes run in a 64-bit guest and natively (through a small
// trampoline in executable memory), from the same random registers, MXCSR
// and memory, and every architectural result is compared. Then the CR0/CR4
// rules, alignment, #XM/#UD, the MMX/x87 interplay, and XSAVE.
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cpu/fault.h"
#include "cpu/test_machine.h"

// ---- The host side ------------------------------------------------------------

namespace x86vm {
namespace {

// Registers in and out of the host run. `fx` is an FXSAVE64 image (x87/MMX,
// MXCSR, XMM0-15).
struct alignas(64) HostRegs {
  uint64_t gpr[16];
  uint64_t rflags;
  uint64_t pad;
  alignas(16) uint8_t fx[512];
};
static_assert(offsetof(HostRegs, rflags) == 128);
static_assert(offsetof(HostRegs, fx) == 144);

}  // namespace
}  // namespace x86vm

extern "C" void x86vm_sse_test_host_run(x86vm::HostRegs* regs, const uint8_t* code);

// Loads every register from `regs`, calls `code` (which ends in RET), and
// stores every register back; the host's own FPU state is kept aside.
asm(R"(
  .text
  .globl x86vm_sse_test_host_run
  .hidden x86vm_sse_test_host_run
  .type x86vm_sse_test_host_run, @function
x86vm_sse_test_host_run:
  push %rbx
  push %rbp
  push %r12
  push %r13
  push %r14
  push %r15
  fxsave64 x86vm_sse_host_fx(%rip)
  mov %rdi, x86vm_sse_host_regs(%rip)
  mov %rsi, x86vm_sse_host_code(%rip)
  fxrstor64 144(%rdi)
  pushq 128(%rdi)
  popfq
  mov 0(%rdi), %rax
  mov 8(%rdi), %rcx
  mov 16(%rdi), %rdx
  mov 24(%rdi), %rbx
  mov 40(%rdi), %rbp
  mov 48(%rdi), %rsi
  mov 64(%rdi), %r8
  mov 72(%rdi), %r9
  mov 80(%rdi), %r10
  mov 88(%rdi), %r11
  mov 96(%rdi), %r12
  mov 104(%rdi), %r13
  mov 112(%rdi), %r14
  mov 120(%rdi), %r15
  mov 56(%rdi), %rdi
  call *x86vm_sse_host_code(%rip)
  push %rdi
  mov x86vm_sse_host_regs(%rip), %rdi
  mov %rax, 0(%rdi)
  mov %rcx, 8(%rdi)
  mov %rdx, 16(%rdi)
  mov %rbx, 24(%rdi)
  mov %rbp, 40(%rdi)
  mov %rsi, 48(%rdi)
  mov %r8, 64(%rdi)
  mov %r9, 72(%rdi)
  mov %r10, 80(%rdi)
  mov %r11, 88(%rdi)
  mov %r12, 96(%rdi)
  mov %r13, 104(%rdi)
  mov %r14, 112(%rdi)
  mov %r15, 120(%rdi)
  pop %rax
  mov %rax, 56(%rdi)
  pushfq
  pop %rax
  mov %rax, 128(%rdi)
  fxsave64 144(%rdi)
  fxrstor64 x86vm_sse_host_fx(%rip)
  pop %r15
  pop %r14
  pop %r13
  pop %r12
  pop %rbp
  pop %rbx
  ret
  .size x86vm_sse_test_host_run, .-x86vm_sse_test_host_run
  .bss
  .balign 64
x86vm_sse_host_fx: .skip 512
x86vm_sse_host_regs: .skip 8
x86vm_sse_host_code: .skip 8
  .text
)");

namespace x86vm {
namespace {

// The trap number of a SIGFPE taken by the instruction under test (19 for
// #XM), and where to resume: the RET after it, so the trampoline still
// stores every register (the kernel restores the FPU state the fault left).
volatile sig_atomic_t g_host_trap = -1;
uint64_t g_resume_rip = 0;

void OnSigfpe(int, siginfo_t*, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  g_host_trap = static_cast<sig_atomic_t>(uc->uc_mcontext.gregs[REG_TRAPNO]);
  uc->uc_mcontext.gregs[REG_RIP] = static_cast<greg_t>(g_resume_rip);
}

// Executable memory for the instruction under test.
class HostCode {
 public:
  HostCode() {
    mem_ = static_cast<uint8_t*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  }
  ~HostCode() { munmap(mem_, 4096); }
  bool ok() const { return mem_ != MAP_FAILED; }
  // Runs `bytes` followed by RET; returns the trap number of a SIMD
  // floating-point exception it raised, or -1.
  int Run(const std::vector<uint8_t>& bytes, HostRegs& regs) {
    std::memcpy(mem_, bytes.data(), bytes.size());
    mem_[bytes.size()] = 0xc3;
    g_host_trap = -1;
    g_resume_rip = reinterpret_cast<uint64_t>(mem_ + bytes.size());
    x86vm_sse_test_host_run(&regs, mem_);
    return g_host_trap;
  }

 private:
  uint8_t* mem_;
};

// ---- The guest side ------------------------------------------------------------

constexpr uint64_t kGdt = 0x500;
constexpr uint64_t kPml4 = 0x1000;
constexpr uint64_t kPdpt = 0x2000;
constexpr uint64_t kIdt = 0x3000;
// 8 bytes per vector: push rax; mov al, v; out 0xe9, al; pop rax; hlt.
constexpr uint64_t kVectors = 0x4000;
constexpr uint64_t kStack = 0x8000;
constexpr uint64_t kCode = 0x10000;
constexpr uint64_t kData = 0x20000;
constexpr uint64_t kDataBytes = 64;

// A 64-bit flat machine (identity-mapped with one 1 GiB page) whose exception
// handlers report the vector on port 0xE9 and halt.
class LongModeMachine {
 public:
  LongModeMachine() {
    m_.Write64(kGdt + 8, 0x00209a0000000000ull);   // 0x08: 64-bit code
    m_.Write64(kGdt + 16, 0x00cf92000000ffffull);  // 0x10: data
    m_.Write64(kPml4, kPdpt | 3);
    m_.Write64(kPdpt, 0x83);  // 1 GiB page at 0, present, writable
    for (int v = 0; v < 32; ++v) {
      uint64_t handler = kVectors + 8 * v;
      m_.Load(handler, {0x50, 0xb0, static_cast<uint8_t>(v), 0xe6, 0xe9, 0x58, 0xf4});
      uint64_t lo = (handler & 0xffff) | (0x08ull << 16) | (0x8eull << 40) |
                    ((handler >> 16 & 0xffff) << 48);
      m_.Write64(kIdt + 16 * v, lo);
      m_.Write64(kIdt + 16 * v + 8, handler >> 32);
    }
  }

  // The state every run starts from.
  CpuState BaseState() const {
    CpuState s;
    s.Reset();
    s.cr0 = cr0::kPe | cr0::kMp | cr0::kEt | cr0::kNe | cr0::kWp | cr0::kPg;
    s.cr4 = cr4::kPae | cr4::kOsfxsr | cr4::kOsxmmexcpt;
    s.cr3 = kPml4;
    s.efer = efer::kLme | efer::kLma;
    Segment code{0x08, 0, 0xffffffff,
                 seg_attr::kP | seg_attr::kS | seg_attr::kCode | seg_attr::kWritable |
                     seg_attr::kAccessed | seg_attr::kL | seg_attr::kG};
    Segment data{0x10, 0, 0xffffffff,
                 seg_attr::kP | seg_attr::kS | seg_attr::kWritable | seg_attr::kAccessed |
                     seg_attr::kDb | seg_attr::kG};
    s.seg[kCs] = code;
    for (int r : {kSs, kDs, kEs, kFs, kGs}) s.seg[r] = data;
    s.seg[kTr] = Segment{0x18, 0, 0x67, seg_attr::kP | 0xb};
    s.seg[kLdtr] = Segment{0, 0, 0, seg_attr::kUnusable};
    s.gdtr = {kGdt, 23};
    s.idtr = {kIdt, 32 * 16 - 1};
    s.rip = kCode;
    s.gpr[kRsp] = kStack;
    s.rflags = flags::kFixed1;
    return s;
  }

  // Runs `bytes` then HLT from `s`; returns the exception vector raised, or -1.
  int Run(const std::vector<uint8_t>& bytes, CpuState& s) {
    std::vector<uint8_t> code = bytes;
    code.push_back(0xf4);
    m_.Load(kCode, code);
    s.rip = kCode;
    s.halted = false;
    m_.SetState(s);
    size_t before = m_.out().size();
    m_.RunToHalt();
    s = m_.State();
    if (m_.out().size() == before) return -1;
    return static_cast<uint8_t>(m_.out()[before]);
  }

  TestMachine& machine() { return m_; }
  uint8_t* data() { return m_.memory().HostRange(kData, kDataBytes); }

 private:
  TestMachine m_;
};

// ---- Instruction forms -------------------------------------------------------------

// What a ModRM field names.
enum class Kind : uint8_t { kXmm, kMmx, kGpr, kDigit };
// Which ModRM forms exist.
enum class Forms : uint8_t { kBoth, kRegOnly, kMemOnly };

struct Form {
  const char* name;
  uint8_t prefix;  // 0, 0x66, 0xF2, 0xF3
  uint8_t map;     // 1: 0F, 2: 0F 38, 3: 0F 3A
  uint8_t opcode;
  Kind reg;        // ModRM.reg
  Kind rm;         // ModRM.rm (register form)
  Forms forms = Forms::kBoth;
  bool imm = false;
  bool rexw = false;    // REX.W selects another operand size: try both.
  int8_t digit = -1;    // Kind::kDigit: ModRM.reg value.
  bool prefix66 = false;  // An extra 66 before a mandatory F2 (CRC32 r/m16).
};

constexpr Kind X = Kind::kXmm, M = Kind::kMmx, G = Kind::kGpr, D = Kind::kDigit;
constexpr Forms kReg = Forms::kRegOnly, kMem = Forms::kMemOnly, kAll = Forms::kBoth;

// MMX (NP) and SSE2 (66) forms of one integer opcode.
#define MMX_XMM(name, map, op) \
  {name " mm", 0, map, op, M, M}, {name " xmm", 0x66, map, op, X, X}
// PS/PD/SS/SD forms.
#define FP4(name, op)                                                                       \
  {name "ps", 0, 1, op, X, X}, {name "pd", 0x66, 1, op, X, X}, {name "ss", 0xf3, 1, op, X, X}, \
      {name "sd", 0xf2, 1, op, X, X}

const Form kForms[] = {
    {"movups", 0, 1, 0x10, X, X}, {"movupd", 0x66, 1, 0x10, X, X},
    {"movss", 0xf3, 1, 0x10, X, X}, {"movsd", 0xf2, 1, 0x10, X, X},
    {"movups st", 0, 1, 0x11, X, X}, {"movupd st", 0x66, 1, 0x11, X, X},
    {"movss st", 0xf3, 1, 0x11, X, X}, {"movsd st", 0xf2, 1, 0x11, X, X},
    {"movlps/movhlps", 0, 1, 0x12, X, X}, {"movlpd", 0x66, 1, 0x12, X, X, kMem},
    {"movsldup", 0xf3, 1, 0x12, X, X}, {"movddup", 0xf2, 1, 0x12, X, X},
    {"movlps st", 0, 1, 0x13, X, X, kMem}, {"movlpd st", 0x66, 1, 0x13, X, X, kMem},
    {"unpcklps", 0, 1, 0x14, X, X}, {"unpcklpd", 0x66, 1, 0x14, X, X},
    {"unpckhps", 0, 1, 0x15, X, X}, {"unpckhpd", 0x66, 1, 0x15, X, X},
    {"movhps/movlhps", 0, 1, 0x16, X, X}, {"movhpd", 0x66, 1, 0x16, X, X, kMem},
    {"movshdup", 0xf3, 1, 0x16, X, X},
    {"movhps st", 0, 1, 0x17, X, X, kMem}, {"movhpd st", 0x66, 1, 0x17, X, X, kMem},
    {"movaps", 0, 1, 0x28, X, X}, {"movapd", 0x66, 1, 0x28, X, X},
    {"movaps st", 0, 1, 0x29, X, X}, {"movapd st", 0x66, 1, 0x29, X, X},
    {"cvtpi2ps", 0, 1, 0x2a, X, M}, {"cvtpi2pd", 0x66, 1, 0x2a, X, M},
    {"cvtsi2ss", 0xf3, 1, 0x2a, X, G, kAll, false, true},
    {"cvtsi2sd", 0xf2, 1, 0x2a, X, G, kAll, false, true},
    {"movntps", 0, 1, 0x2b, X, X, kMem}, {"movntpd", 0x66, 1, 0x2b, X, X, kMem},
    {"cvttps2pi", 0, 1, 0x2c, M, X}, {"cvttpd2pi", 0x66, 1, 0x2c, M, X},
    {"cvttss2si", 0xf3, 1, 0x2c, G, X, kAll, false, true},
    {"cvttsd2si", 0xf2, 1, 0x2c, G, X, kAll, false, true},
    {"cvtps2pi", 0, 1, 0x2d, M, X}, {"cvtpd2pi", 0x66, 1, 0x2d, M, X},
    {"cvtss2si", 0xf3, 1, 0x2d, G, X, kAll, false, true},
    {"cvtsd2si", 0xf2, 1, 0x2d, G, X, kAll, false, true},
    {"ucomiss", 0, 1, 0x2e, X, X}, {"ucomisd", 0x66, 1, 0x2e, X, X},
    {"comiss", 0, 1, 0x2f, X, X}, {"comisd", 0x66, 1, 0x2f, X, X},
    {"movmskps", 0, 1, 0x50, G, X, kReg}, {"movmskpd", 0x66, 1, 0x50, G, X, kReg},
    FP4("sqrt", 0x51),
    {"andps", 0, 1, 0x54, X, X}, {"andpd", 0x66, 1, 0x54, X, X},
    {"andnps", 0, 1, 0x55, X, X}, {"andnpd", 0x66, 1, 0x55, X, X},
    {"orps", 0, 1, 0x56, X, X}, {"orpd", 0x66, 1, 0x56, X, X},
    {"xorps", 0, 1, 0x57, X, X}, {"xorpd", 0x66, 1, 0x57, X, X},
    FP4("add", 0x58), FP4("mul", 0x59),
    {"cvtps2pd", 0, 1, 0x5a, X, X}, {"cvtpd2ps", 0x66, 1, 0x5a, X, X},
    {"cvtss2sd", 0xf3, 1, 0x5a, X, X}, {"cvtsd2ss", 0xf2, 1, 0x5a, X, X},
    {"cvtdq2ps", 0, 1, 0x5b, X, X}, {"cvtps2dq", 0x66, 1, 0x5b, X, X},
    {"cvttps2dq", 0xf3, 1, 0x5b, X, X},
    FP4("sub", 0x5c), FP4("min", 0x5d), FP4("div", 0x5e), FP4("max", 0x5f),
    MMX_XMM("punpcklbw", 1, 0x60), MMX_XMM("punpcklwd", 1, 0x61),
    MMX_XMM("punpckldq", 1, 0x62), MMX_XMM("packsswb", 1, 0x63),
    MMX_XMM("pcmpgtb", 1, 0x64), MMX_XMM("pcmpgtw", 1, 0x65), MMX_XMM("pcmpgtd", 1, 0x66),
    MMX_XMM("packuswb", 1, 0x67), MMX_XMM("punpckhbw", 1, 0x68),
    MMX_XMM("punpckhwd", 1, 0x69), MMX_XMM("punpckhdq", 1, 0x6a),
    MMX_XMM("packssdw", 1, 0x6b),
    {"punpcklqdq", 0x66, 1, 0x6c, X, X}, {"punpckhqdq", 0x66, 1, 0x6d, X, X},
    {"movd mm,r", 0, 1, 0x6e, M, G, kAll, false, true},
    {"movd xmm,r", 0x66, 1, 0x6e, X, G, kAll, false, true},
    {"movq mm", 0, 1, 0x6f, M, M}, {"movdqa", 0x66, 1, 0x6f, X, X},
    {"movdqu", 0xf3, 1, 0x6f, X, X},
    {"pshufw", 0, 1, 0x70, M, M, kAll, true}, {"pshufd", 0x66, 1, 0x70, X, X, kAll, true},
    {"pshufhw", 0xf3, 1, 0x70, X, X, kAll, true}, {"pshuflw", 0xf2, 1, 0x70, X, X, kAll, true},
    {"psrlw mm,i", 0, 1, 0x71, D, M, kReg, true, false, 2},
    {"psrlw xmm,i", 0x66, 1, 0x71, D, X, kReg, true, false, 2},
    {"psraw mm,i", 0, 1, 0x71, D, M, kReg, true, false, 4},
    {"psraw xmm,i", 0x66, 1, 0x71, D, X, kReg, true, false, 4},
    {"psllw mm,i", 0, 1, 0x71, D, M, kReg, true, false, 6},
    {"psllw xmm,i", 0x66, 1, 0x71, D, X, kReg, true, false, 6},
    {"psrld mm,i", 0, 1, 0x72, D, M, kReg, true, false, 2},
    {"psrld xmm,i", 0x66, 1, 0x72, D, X, kReg, true, false, 2},
    {"psrad mm,i", 0, 1, 0x72, D, M, kReg, true, false, 4},
    {"psrad xmm,i", 0x66, 1, 0x72, D, X, kReg, true, false, 4},
    {"pslld mm,i", 0, 1, 0x72, D, M, kReg, true, false, 6},
    {"pslld xmm,i", 0x66, 1, 0x72, D, X, kReg, true, false, 6},
    {"psrlq mm,i", 0, 1, 0x73, D, M, kReg, true, false, 2},
    {"psrlq xmm,i", 0x66, 1, 0x73, D, X, kReg, true, false, 2},
    {"psrldq", 0x66, 1, 0x73, D, X, kReg, true, false, 3},
    {"psllq mm,i", 0, 1, 0x73, D, M, kReg, true, false, 6},
    {"psllq xmm,i", 0x66, 1, 0x73, D, X, kReg, true, false, 6},
    {"pslldq", 0x66, 1, 0x73, D, X, kReg, true, false, 7},
    MMX_XMM("pcmpeqb", 1, 0x74), MMX_XMM("pcmpeqw", 1, 0x75), MMX_XMM("pcmpeqd", 1, 0x76),
    {"haddpd", 0x66, 1, 0x7c, X, X}, {"haddps", 0xf2, 1, 0x7c, X, X},
    {"hsubpd", 0x66, 1, 0x7d, X, X}, {"hsubps", 0xf2, 1, 0x7d, X, X},
    {"movd r,mm", 0, 1, 0x7e, M, G, kAll, false, true},
    {"movd r,xmm", 0x66, 1, 0x7e, X, G, kAll, false, true},
    {"movq xmm,xmm/m64", 0xf3, 1, 0x7e, X, X},
    {"movq mm st", 0, 1, 0x7f, M, M}, {"movdqa st", 0x66, 1, 0x7f, X, X},
    {"movdqu st", 0xf3, 1, 0x7f, X, X},
    {"cmpps", 0, 1, 0xc2, X, X, kAll, true}, {"cmppd", 0x66, 1, 0xc2, X, X, kAll, true},
    {"cmpss", 0xf3, 1, 0xc2, X, X, kAll, true}, {"cmpsd", 0xf2, 1, 0xc2, X, X, kAll, true},
    {"pinsrw mm", 0, 1, 0xc4, M, G, kAll, true}, {"pinsrw xmm", 0x66, 1, 0xc4, X, G, kAll, true},
    {"pextrw mm", 0, 1, 0xc5, G, M, kReg, true}, {"pextrw xmm", 0x66, 1, 0xc5, G, X, kReg, true},
    {"shufps", 0, 1, 0xc6, X, X, kAll, true}, {"shufpd", 0x66, 1, 0xc6, X, X, kAll, true},
    {"addsubpd", 0x66, 1, 0xd0, X, X}, {"addsubps", 0xf2, 1, 0xd0, X, X},
    MMX_XMM("psrlw", 1, 0xd1), MMX_XMM("psrld", 1, 0xd2), MMX_XMM("psrlq", 1, 0xd3),
    MMX_XMM("paddq", 1, 0xd4), MMX_XMM("pmullw", 1, 0xd5),
    {"movq xmm/m64 st", 0x66, 1, 0xd6, X, X},
    {"movq2dq", 0xf3, 1, 0xd6, X, M, kReg}, {"movdq2q", 0xf2, 1, 0xd6, M, X, kReg},
    {"pmovmskb mm", 0, 1, 0xd7, G, M, kReg}, {"pmovmskb xmm", 0x66, 1, 0xd7, G, X, kReg},
    MMX_XMM("psubusb", 1, 0xd8), MMX_XMM("psubusw", 1, 0xd9), MMX_XMM("pminub", 1, 0xda),
    MMX_XMM("pand", 1, 0xdb), MMX_XMM("paddusb", 1, 0xdc), MMX_XMM("paddusw", 1, 0xdd),
    MMX_XMM("pmaxub", 1, 0xde), MMX_XMM("pandn", 1, 0xdf), MMX_XMM("pavgb", 1, 0xe0),
    MMX_XMM("psraw", 1, 0xe1), MMX_XMM("psrad", 1, 0xe2), MMX_XMM("pavgw", 1, 0xe3),
    MMX_XMM("pmulhuw", 1, 0xe4), MMX_XMM("pmulhw", 1, 0xe5),
    {"cvttpd2dq", 0x66, 1, 0xe6, X, X}, {"cvtdq2pd", 0xf3, 1, 0xe6, X, X},
    {"cvtpd2dq", 0xf2, 1, 0xe6, X, X},
    {"movntq", 0, 1, 0xe7, M, M, kMem}, {"movntdq", 0x66, 1, 0xe7, X, X, kMem},
    MMX_XMM("psubsb", 1, 0xe8), MMX_XMM("psubsw", 1, 0xe9), MMX_XMM("pminsw", 1, 0xea),
    MMX_XMM("por", 1, 0xeb), MMX_XMM("paddsb", 1, 0xec), MMX_XMM("paddsw", 1, 0xed),
    MMX_XMM("pmaxsw", 1, 0xee), MMX_XMM("pxor", 1, 0xef),
    {"lddqu", 0xf2, 1, 0xf0, X, X, kMem},
    MMX_XMM("psllw", 1, 0xf1), MMX_XMM("pslld", 1, 0xf2), MMX_XMM("psllq", 1, 0xf3),
    MMX_XMM("pmuludq", 1, 0xf4), MMX_XMM("pmaddwd", 1, 0xf5), MMX_XMM("psadbw", 1, 0xf6),
    {"maskmovq", 0, 1, 0xf7, M, M, kReg}, {"maskmovdqu", 0x66, 1, 0xf7, X, X, kReg},
    MMX_XMM("psubb", 1, 0xf8), MMX_XMM("psubw", 1, 0xf9), MMX_XMM("psubd", 1, 0xfa),
    MMX_XMM("psubq", 1, 0xfb), MMX_XMM("paddb", 1, 0xfc), MMX_XMM("paddw", 1, 0xfd),
    MMX_XMM("paddd", 1, 0xfe),
    // 0F 38.
    MMX_XMM("pshufb", 2, 0x00), MMX_XMM("phaddw", 2, 0x01), MMX_XMM("phaddd", 2, 0x02),
    MMX_XMM("phaddsw", 2, 0x03), MMX_XMM("pmaddubsw", 2, 0x04), MMX_XMM("phsubw", 2, 0x05),
    MMX_XMM("phsubd", 2, 0x06), MMX_XMM("phsubsw", 2, 0x07), MMX_XMM("psignb", 2, 0x08),
    MMX_XMM("psignw", 2, 0x09), MMX_XMM("psignd", 2, 0x0a), MMX_XMM("pmulhrsw", 2, 0x0b),
    {"pblendvb", 0x66, 2, 0x10, X, X}, {"blendvps", 0x66, 2, 0x14, X, X},
    {"blendvpd", 0x66, 2, 0x15, X, X}, {"ptest", 0x66, 2, 0x17, X, X},
    MMX_XMM("pabsb", 2, 0x1c), MMX_XMM("pabsw", 2, 0x1d), MMX_XMM("pabsd", 2, 0x1e),
    {"pmovsxbw", 0x66, 2, 0x20, X, X}, {"pmovsxbd", 0x66, 2, 0x21, X, X},
    {"pmovsxbq", 0x66, 2, 0x22, X, X}, {"pmovsxwd", 0x66, 2, 0x23, X, X},
    {"pmovsxwq", 0x66, 2, 0x24, X, X}, {"pmovsxdq", 0x66, 2, 0x25, X, X},
    {"pmuldq", 0x66, 2, 0x28, X, X}, {"pcmpeqq", 0x66, 2, 0x29, X, X},
    {"movntdqa", 0x66, 2, 0x2a, X, X, kMem}, {"packusdw", 0x66, 2, 0x2b, X, X},
    {"pmovzxbw", 0x66, 2, 0x30, X, X}, {"pmovzxbd", 0x66, 2, 0x31, X, X},
    {"pmovzxbq", 0x66, 2, 0x32, X, X}, {"pmovzxwd", 0x66, 2, 0x33, X, X},
    {"pmovzxwq", 0x66, 2, 0x34, X, X}, {"pmovzxdq", 0x66, 2, 0x35, X, X},
    {"pcmpgtq", 0x66, 2, 0x37, X, X}, {"pminsb", 0x66, 2, 0x38, X, X},
    {"pminsd", 0x66, 2, 0x39, X, X}, {"pminuw", 0x66, 2, 0x3a, X, X},
    {"pminud", 0x66, 2, 0x3b, X, X}, {"pmaxsb", 0x66, 2, 0x3c, X, X},
    {"pmaxsd", 0x66, 2, 0x3d, X, X}, {"pmaxuw", 0x66, 2, 0x3e, X, X},
    {"pmaxud", 0x66, 2, 0x3f, X, X}, {"pmulld", 0x66, 2, 0x40, X, X},
    {"phminposuw", 0x66, 2, 0x41, X, X},
    {"crc32 r,r/m8", 0xf2, 2, 0xf0, G, G, kAll, false, true},
    {"crc32 r,r/m", 0xf2, 2, 0xf1, G, G, kAll, false, true},
    {"crc32 r,r/m16", 0xf2, 2, 0xf1, G, G, kAll, false, false, -1, true},
    // 0F 3A.
    {"roundps", 0x66, 3, 0x08, X, X, kAll, true}, {"roundpd", 0x66, 3, 0x09, X, X, kAll, true},
    {"roundss", 0x66, 3, 0x0a, X, X, kAll, true}, {"roundsd", 0x66, 3, 0x0b, X, X, kAll, true},
    {"blendps", 0x66, 3, 0x0c, X, X, kAll, true}, {"blendpd", 0x66, 3, 0x0d, X, X, kAll, true},
    {"pblendw", 0x66, 3, 0x0e, X, X, kAll, true},
    {"palignr mm", 0, 3, 0x0f, M, M, kAll, true}, {"palignr xmm", 0x66, 3, 0x0f, X, X, kAll, true},
    {"pextrb", 0x66, 3, 0x14, X, G, kAll, true}, {"pextrw r/m", 0x66, 3, 0x15, X, G, kAll, true},
    {"pextrd/q", 0x66, 3, 0x16, X, G, kAll, true, true},
    {"extractps", 0x66, 3, 0x17, X, G, kAll, true},
    {"pinsrb", 0x66, 3, 0x20, X, G, kAll, true}, {"insertps", 0x66, 3, 0x21, X, X, kAll, true},
    {"pinsrd/q", 0x66, 3, 0x22, X, G, kAll, true, true},
    {"dpps", 0x66, 3, 0x40, X, X, kAll, true}, {"dppd", 0x66, 3, 0x41, X, X, kAll, true},
    {"mpsadbw", 0x66, 3, 0x42, X, X, kAll, true},
    {"pclmulqdq", 0x66, 3, 0x44, X, X, kAll, true},
    {"pcmpestrm", 0x66, 3, 0x60, X, X, kAll, true, true},
    {"pcmpestri", 0x66, 3, 0x61, X, X, kAll, true, true},
    {"pcmpistrm", 0x66, 3, 0x62, X, X, kAll, true},
    {"pcmpistri", 0x66, 3, 0x63, X, X, kAll, true},
};

#undef MMX_XMM
#undef FP4

// General registers an operand may name: not RSP, and not RSI/RDI, which
// point at the data (memory operands are [rsi]; MASKMOV* writes [rdi]).
constexpr int kOperandGprs[] = {kRax, kRcx, kRdx, kRbx, kRbp, kR8,  kR9,
                                kR10, kR11, kR12, kR13, kR14, kR15};

// One encoded instance of a form.
struct Instance {
  std::vector<uint8_t> bytes;
  bool mem = false;
};

Instance Encode(const Form& f, int reg, int rm, bool mem, bool rexw, uint8_t imm) {
  Instance in;
  in.mem = mem;
  std::vector<uint8_t>& b = in.bytes;
  if (f.prefix66) b.push_back(0x66);
  if (f.prefix) b.push_back(f.prefix);
  int reg_field = f.reg == D ? f.digit : reg;
  uint8_t rex = 0x40;
  if (rexw) rex |= 8;
  if (reg_field & 8) rex |= 4;
  if (!mem && (rm & 8)) rex |= 1;
  if (rex != 0x40) b.push_back(rex);
  b.push_back(0x0f);
  if (f.map == 2) b.push_back(0x38);
  if (f.map == 3) b.push_back(0x3a);
  b.push_back(f.opcode);
  if (mem) {
    b.push_back(static_cast<uint8_t>(((reg_field & 7) << 3) | 6));  // [rsi]
  } else {
    b.push_back(static_cast<uint8_t>(0xc0 | ((reg_field & 7) << 3) | (rm & 7)));
  }
  if (f.imm) b.push_back(imm);
  return in;
}

// ---- Random inputs -------------------------------------------------------------------

// Singles and doubles worth hitting: zeros, denormals, the extremes, NaNs,
// infinities, exact and inexact values, integer-conversion boundaries.
constexpr uint32_t kF32[] = {
    0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff, 0xff7fffff,
    0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0x7fa00000, 0x3f800000,
    0xbf800000, 0x3fc00000, 0x40000000, 0x3f000000, 0xbf400000, 0x4f000000, 0xcf000000,
    0x4effffff, 0x5f000000, 0xdf000000, 0x3eaaaaab, 0x40490fdb, 0x00400000, 0x4b800001,
};
constexpr uint64_t kF64[] = {
    0x0000000000000000, 0x8000000000000000, 0x0000000000000001, 0x800fffffffffffff,
    0x0010000000000000, 0x7fefffffffffffff, 0x7ff0000000000000, 0xfff0000000000000,
    0x7ff8000000000000, 0xfff8000000000000, 0x7ff0000000000001, 0x7ff4000000000000,
    0x3ff0000000000000, 0xbff0000000000000, 0x3ff8000000000000, 0x41dfffffffc00000,
    0xc1e0000000000000, 0x41e0000000000000, 0x43e0000000000000, 0xc3e0000000000000,
    0x3fd5555555555555, 0x400921fb54442d18, 0x3810000000000000, 0x47efffffe0000000,
    0x3ff0000000000001, 0x36a0000000000000,
};

class Inputs {
 public:
  explicit Inputs(uint32_t seed) : rng_(seed) {}

  uint64_t U64() { return rng_(); }
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(rng_() % n); }

  // A quadword of mixed content for a vector lane.
  uint64_t Lane() {
    switch (Below(6)) {
      case 0: return U64();
      case 1: return kF32[Below(std::size(kF32))] | uint64_t{kF32[Below(std::size(kF32))]} << 32;
      case 2: return kF64[Below(std::size(kF64))];
      case 3: {  // Small integers in every lane width.
        uint64_t v = 0;
        for (int b = 0; b < 8; ++b) v |= uint64_t{static_cast<uint8_t>(Below(5) - 2)} << (8 * b);
        return v;
      }
      case 4: {  // Text, for the string compares.
        uint64_t v = 0;
        for (int b = 0; b < 8; ++b) {
          uint8_t ch = Below(8) == 0 ? 0 : static_cast<uint8_t>('a' + Below(6));
          v |= uint64_t{ch} << (8 * b);
        }
        return v;
      }
      default: {  // Random floats near 1 with few significand bits.
        uint32_t f1 = 0x3f800000 + (Below(64) << 17) - (Below(2) << 31);
        uint32_t f2 = 0x40000000 + (Below(64) << 17);
        return f1 | uint64_t{f2} << 32;
      }
    }
  }
  // A general register: random, small, or a float's bits.
  uint64_t Gpr() {
    switch (Below(4)) {
      case 0: return U64();
      case 1: return static_cast<uint64_t>(static_cast<int64_t>(Below(41)) - 20);
      case 2: return kF32[Below(std::size(kF32))];
      default: return U64() >> Below(64);
    }
  }
  // MXCSR with every exception masked, random rounding, DAZ, FTZ and flags.
  uint32_t Mxcsr() {
    return 0x1f80 | (Below(4) << 13) | (Below(2) << 15) | (Below(2) << 6) | Below(64);
  }
  // Any valid MXCSR: random masks too, mostly few flags already set.
  uint32_t AnyMxcsr() {
    uint32_t v = static_cast<uint32_t>(U64() & 0xffc0);
    return Below(2) ? v : v | Below(64);
  }

 private:
  std::mt19937_64 rng_;
};

// The host's and the guest's view of the same starting point.
struct Start {
  HostRegs host;
  uint8_t data[kDataBytes];
};

void RandomStart(Inputs& in, Start& st) {
  std::memset(&st.host, 0, sizeof(st.host));
  for (int r = 0; r < 16; ++r) st.host.gpr[r] = in.Gpr();
  st.host.rflags = flags::kFixed1 | (in.U64() & 0x8d5);
  uint8_t* fx = st.host.fx;
  uint16_t fcw = 0x037f;
  std::memcpy(fx + 0, &fcw, 2);  // FSW 0 (TOP 0), every tag empty.
  uint32_t mxcsr = in.Mxcsr(), mask = 0xffff;
  std::memcpy(fx + 24, &mxcsr, 4);
  std::memcpy(fx + 28, &mask, 4);
  for (int k = 0; k < 8; ++k) {
    uint64_t sig = in.Lane();
    uint16_t exp = static_cast<uint16_t>(in.U64());
    std::memcpy(fx + 32 + 16 * k, &sig, 8);
    std::memcpy(fx + 40 + 16 * k, &exp, 2);
  }
  for (int r = 0; r < 16; ++r) {
    uint64_t lo = in.Lane(), hi = in.Lane();
    std::memcpy(fx + 160 + 16 * r, &lo, 8);
    std::memcpy(fx + 168 + 16 * r, &hi, 8);
  }
  for (size_t b = 0; b < kDataBytes; b += 8) {
    uint64_t v = in.Lane();
    std::memcpy(st.data + b, &v, 8);
  }
}

// The guest state for a start (RSI/RDI point at the guest's data).
CpuState GuestState(const LongModeMachine& m, const Start& st) {
  CpuState s = m.BaseState();
  for (int r = 0; r < 16; ++r) {
    if (r != kRsp) s.gpr[r] = st.host.gpr[r];
  }
  s.gpr[kRsi] = kData;
  s.gpr[kRdi] = kData;
  s.rflags = st.host.rflags;
  const uint8_t* fx = st.host.fx;
  std::memcpy(&s.x87.fcw, fx + 0, 2);
  std::memcpy(&s.x87.fsw, fx + 2, 2);
  s.x87.ftw = 0xffff;
  std::memcpy(&s.mxcsr, fx + 24, 4);
  for (int k = 0; k < 8; ++k) std::memcpy(s.x87.st[k].data(), fx + 32 + 16 * k, 10);
  for (int r = 0; r < 16; ++r) {
    std::memcpy(&s.xmm[r].lo, fx + 160 + 16 * r, 8);
    std::memcpy(&s.xmm[r].hi, fx + 168 + 16 * r, 8);
  }
  return s;
}

// Everything compared after a run.
struct Outcome {
  uint64_t gpr[16];
  uint64_t rflags;
  uint32_t mxcsr;
  uint16_t fsw;
  uint8_t abridged_tags;
  uint8_t st[8][10];  // Physical registers.
  uint64_t xmm[16][2];
  uint8_t data[kDataBytes];
  bool operator==(const Outcome&) const = default;
};

Outcome FromHost(const HostRegs& r, const uint8_t* data, uint64_t data_base) {
  Outcome o{};
  for (int n = 0; n < 16; ++n) o.gpr[n] = r.gpr[n];
  o.gpr[kRsp] = 0;
  o.gpr[kRsi] -= data_base;
  o.gpr[kRdi] -= data_base;
  o.rflags = r.rflags & 0x8d5;
  std::memcpy(&o.mxcsr, r.fx + 24, 4);
  std::memcpy(&o.fsw, r.fx + 2, 2);
  o.abridged_tags = r.fx[4];
  int top = (o.fsw >> 11) & 7;
  for (int k = 0; k < 8; ++k) std::memcpy(o.st[(top + k) & 7], r.fx + 32 + 16 * k, 10);
  for (int n = 0; n < 16; ++n) {
    std::memcpy(&o.xmm[n][0], r.fx + 160 + 16 * n, 8);
    std::memcpy(&o.xmm[n][1], r.fx + 168 + 16 * n, 8);
  }
  std::memcpy(o.data, data, kDataBytes);
  return o;
}

Outcome FromGuest(const CpuState& s, const uint8_t* data) {
  Outcome o{};
  for (int n = 0; n < 16; ++n) o.gpr[n] = s.gpr[n];
  o.gpr[kRsp] = 0;
  o.gpr[kRsi] -= kData;
  o.gpr[kRdi] -= kData;
  o.rflags = s.rflags & 0x8d5;
  o.mxcsr = s.mxcsr;
  o.fsw = s.x87.fsw;
  for (int j = 0; j < 8; ++j) {
    if (((s.x87.ftw >> (2 * j)) & 3) != 3) o.abridged_tags |= static_cast<uint8_t>(1u << j);
  }
  for (int k = 0; k < 8; ++k) std::memcpy(o.st[k], s.x87.st[k].data(), 10);
  for (int n = 0; n < 16; ++n) {
    o.xmm[n][0] = s.xmm[n].lo;
    o.xmm[n][1] = s.xmm[n].hi;
  }
  std::memcpy(o.data, data, kDataBytes);
  return o;
}

std::string Hex(const std::vector<uint8_t>& bytes) {
  std::string s;
  for (uint8_t b : bytes) s += fmt::format("{:02x} ", b);
  return s;
}

// Lists the fields that differ.
std::string Diff(const Outcome& host, const Outcome& guest) {
  std::string d;
  for (int n = 0; n < 16; ++n) {
    if (host.gpr[n] != guest.gpr[n]) {
      d += fmt::format("  gpr{}: host {:#x} guest {:#x}\n", n, host.gpr[n], guest.gpr[n]);
    }
  }
  if (host.rflags != guest.rflags) {
    d += fmt::format("  rflags: host {:#x} guest {:#x}\n", host.rflags, guest.rflags);
  }
  if (host.mxcsr != guest.mxcsr) {
    d += fmt::format("  mxcsr: host {:#x} guest {:#x}\n", host.mxcsr, guest.mxcsr);
  }
  if (host.fsw != guest.fsw) d += fmt::format("  fsw: host {:#x} guest {:#x}\n", host.fsw, guest.fsw);
  if (host.abridged_tags != guest.abridged_tags) {
    d += fmt::format("  tags: host {:#x} guest {:#x}\n", host.abridged_tags, guest.abridged_tags);
  }
  for (int k = 0; k < 8; ++k) {
    if (std::memcmp(host.st[k], guest.st[k], 10) != 0) d += fmt::format("  st/mm{} differs\n", k);
  }
  for (int n = 0; n < 16; ++n) {
    if (host.xmm[n][0] != guest.xmm[n][0] || host.xmm[n][1] != guest.xmm[n][1]) {
      d += fmt::format("  xmm{}: host {:016x}{:016x} guest {:016x}{:016x}\n", n, host.xmm[n][1],
                       host.xmm[n][0], guest.xmm[n][1], guest.xmm[n][0]);
    }
  }
  for (size_t b = 0; b < kDataBytes; b += 8) {
    uint64_t h, g;
    std::memcpy(&h, host.data + b, 8);
    std::memcpy(&g, guest.data + b, 8);
    if (h != g) d += fmt::format("  data+{}: host {:#x} guest {:#x}\n", b, h, g);
  }
  return d;
}

// Registers named by a form's operands for one random instance.
int PickReg(Inputs& in, Kind k) {
  switch (k) {
    case Kind::kXmm: return static_cast<int>(in.Below(16));
    case Kind::kMmx: return static_cast<int>(in.Below(8));
    case Kind::kGpr: return kOperandGprs[in.Below(std::size(kOperandGprs))];
    case Kind::kDigit: return 0;
  }
  return 0;
}

// The starting XMM registers and data, for failure messages.
std::string DescribeStart(const Start& st) {
  std::string d = "  inputs:";
  for (int n = 0; n < 16; ++n) {
    uint64_t lo, hi;
    std::memcpy(&lo, st.host.fx + 160 + 16 * n, 8);
    std::memcpy(&hi, st.host.fx + 168 + 16 * n, 8);
    d += fmt::format(" xmm{}={:016x}{:016x}", n, hi, lo);
  }
  uint64_t m0, m1;
  std::memcpy(&m0, st.data, 8);
  std::memcpy(&m1, st.data + 8, 8);
  return d + fmt::format(" mem={:016x}{:016x}\n", m1, m0);
}

class SseHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(code_.ok());
    struct sigaction sa {};
    sa.sa_sigaction = OnSigfpe;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGFPE, &sa, &old_sigfpe_);
  }
  void TearDown() override { sigaction(SIGFPE, &old_sigfpe_, nullptr); }

  // Runs one instance on both sides from `st`; records a failure (once per
  // form) when they disagree.
  bool Compare(const Form& f, const Instance& inst, const Start& st) {
    HostRegs host = st.host;
    alignas(64) uint8_t host_data[kDataBytes];
    std::memcpy(host_data, st.data, kDataBytes);
    uint64_t base = reinterpret_cast<uint64_t>(host_data);
    host.gpr[kRsi] = base;
    host.gpr[kRdi] = base;
    int trap = code_.Run(inst.bytes, host);

    CpuState s = GuestState(m_, st);
    std::memcpy(m_.data(), st.data, kDataBytes);
    int vector = m_.Run(inst.bytes, s);
    if (vector != trap) {
      ADD_FAILURE() << f.name << " [" << Hex(inst.bytes) << "] mxcsr in "
                    << fmt::format("{:#x}", GuestState(m_, st).mxcsr) << ": guest vector "
                    << vector << ", host " << trap;
      return false;
    }
    Outcome h = FromHost(host, host_data, base), g = FromGuest(s, m_.data());
    if (h == g) return true;
    ADD_FAILURE() << f.name << " [" << Hex(inst.bytes) << "] mxcsr in "
                  << fmt::format("{:#x}", GuestState(m_, st).mxcsr) << "\n"
                  << Diff(h, g) << DescribeStart(st);
    return false;
  }

  // `count` random instances of a form; immediates cover 0-255 when `all_imm`.
  void Fuzz(const Form& f, int count, uint32_t seed) {
    Inputs in(seed);
    int failures = 0;
    for (int n = 0; n < count && failures < 3; ++n) {
      Start st;
      RandomStart(in, st);
      if (unmasked_) {
        uint32_t mxcsr = in.AnyMxcsr();
        std::memcpy(st.host.fx + 24, &mxcsr, 4);
      }
      bool mem = f.forms == Forms::kMemOnly || (f.forms == Forms::kBoth && in.Below(2));
      bool rexw = f.rexw && in.Below(2);
      int reg = PickReg(in, f.reg), rm = PickReg(in, f.rm);
      uint8_t imm = static_cast<uint8_t>(f.imm ? n : 0);
      if (f.opcode >= 0x60 && f.opcode <= 0x63 && f.map == 3 && in.Below(2)) {
        // PCMPESTRx: lengths in and around 0..16.
        st.host.gpr[kRax] = static_cast<uint64_t>(static_cast<int64_t>(in.Below(41)) - 20);
        st.host.gpr[kRdx] = static_cast<uint64_t>(static_cast<int64_t>(in.Below(41)) - 20);
      }
      if (!Compare(f, Encode(f, reg, rm, mem, rexw, imm), st)) ++failures;
    }
  }

  HostCode code_;
  LongModeMachine m_;
  struct sigaction old_sigfpe_ {};
  bool unmasked_ = false;  // Fuzz with random MXCSR masks.
};

TEST_F(SseHostTest, EveryFormMatchesTheHost) {
  uint32_t seed = 1;
  for (const Form& f : kForms) {
    SCOPED_TRACE(f.name);
    // Immediate forms get every imm8 value at least twice.
    Fuzz(f, f.imm ? 512 : 400, seed++);
  }
}

// The same with exceptions unmasked at random: #XM on both sides or on
// neither, with the same MXCSR flags and an unchanged destination (SDM Vol. 1
// 11.5.2: which flags an unmasked exception in one lane leaves).
TEST_F(SseHostTest, UnmaskedExceptionsMatchTheHost) {
  unmasked_ = true;
  uint32_t seed = 1000;
  for (const Form& f : kForms) {
    SCOPED_TRACE(f.name);
    Fuzz(f, f.imm ? 256 : 200, seed++);
  }
}

// RCPPS/RCPSS/RSQRTPS/RSQRTSS are approximations (SDM Vol. 2 RCPPS: relative
// error <= 1.5 * 2^-12) that Intel computes from its own tables; check the
// bound against the host's result instead of the bits.
TEST_F(SseHostTest, ReciprocalApproximationsAreWithinTheBound) {
  const Form forms[] = {{"rsqrtps", 0, 1, 0x52, X, X}, {"rsqrtss", 0xf3, 1, 0x52, X, X},
                        {"rcpps", 0, 1, 0x53, X, X}, {"rcpss", 0xf3, 1, 0x53, X, X}};
  Inputs in(99);
  for (const Form& f : forms) {
    for (int n = 0; n < 200; ++n) {
      Start st;
      RandomStart(in, st);
      int reg = PickReg(in, X), rm = PickReg(in, X);
      Instance inst = Encode(f, reg, rm, false, false, 0);
      HostRegs host = st.host;
      code_.Run(inst.bytes, host);
      CpuState s = GuestState(m_, st);
      ASSERT_EQ(m_.Run(inst.bytes, s), -1);
      int lanes = (f.prefix == 0xf3) ? 1 : 4;
      for (int l = 0; l < 4; ++l) {
        uint32_t h, g = static_cast<uint32_t>((l < 2 ? s.xmm[reg].lo : s.xmm[reg].hi) >> (32 * (l & 1)));
        std::memcpy(&h, host.fx + 160 + 16 * reg + 4 * l, 4);
        if (l >= lanes) {
          EXPECT_EQ(h, g) << f.name << " lane " << l << " must be kept";
          continue;
        }
        float hf, gf;
        std::memcpy(&hf, &h, 4);
        std::memcpy(&gf, &g, 4);
        if (hf != hf) {
          EXPECT_NE(gf, gf) << f.name << fmt::format(" {:#x} vs {:#x}", h, g);
        } else if (hf == 0 || __builtin_isinf(hf)) {
          EXPECT_EQ(h, g) << f.name;
        } else {
          double rel = (static_cast<double>(gf) - hf) / hf;
          EXPECT_LE(rel < 0 ? -rel : rel, 3.0 / 4096) << f.name << fmt::format(" {:#x} vs {:#x}", h, g);
        }
      }
    }
  }
}

// EMMS empties every tag and changes nothing else; an MMX instruction before
// it made TOP 0 and every tag valid (SDM Vol. 1 9.5.1).
TEST_F(SseHostTest, EmmsAndTheMmxTransition) {
  Inputs in(7);
  const Form paddb{"paddb mm", 0, 1, 0xfc, M, M};
  for (int n = 0; n < 50; ++n) {
    Start st;
    RandomStart(in, st);
    uint16_t fsw = static_cast<uint16_t>(in.Below(8) << 11);  // Some TOP.
    std::memcpy(st.host.fx + 2, &fsw, 2);
    st.host.fx[4] = static_cast<uint8_t>(in.Below(256));  // Some tags.
    // Make tagged registers valid numbers so the abridged tags round-trip.
    for (int k = 0; k < 8; ++k) st.host.fx[32 + 16 * k + 7] |= 0x80;
    Instance inst = Encode(paddb, 1, 2, false, false, 0);
    inst.bytes.insert(inst.bytes.end(), {0x0f, 0x77});  // EMMS
    HostRegs host = st.host;
    code_.Run(inst.bytes, host);
    CpuState s = GuestState(m_, st);
    s.x87.fsw = fsw;
    s.x87.ftw = 0;
    for (int j = 0; j < 8; ++j) {
      if (!((st.host.fx[4] >> j) & 1)) s.x87.ftw |= static_cast<uint16_t>(3u << (2 * j));
    }
    // The guest's registers are physical; the image's slots are ST(i).
    int top = fsw >> 11;
    for (int k = 0; k < 8; ++k) std::memcpy(s.x87.st[(top + k) & 7].data(), st.host.fx + 32 + 16 * k, 10);
    std::memcpy(m_.data(), st.data, kDataBytes);
    ASSERT_EQ(m_.Run(inst.bytes, s), -1);
    EXPECT_EQ(s.x87.ftw, 0xffff);
    EXPECT_EQ(s.x87.fsw, host.fx[2] | (host.fx[3] << 8));
    EXPECT_EQ(host.fx[4], 0);
    // MM1 = physical register 1, exponent all ones after the write.
    EXPECT_EQ(std::memcmp(s.x87.st[1].data(), host.fx + 32 + 16, 10), 0);
    EXPECT_EQ(s.x87.st[1][8], 0xff);
    EXPECT_EQ(s.x87.st[1][9], 0xff);
  }
}

// ---- Faults (guest only) -------------------------------------------------------------

class SseFaultTest : public ::testing::Test {
 protected:
  // Runs `bytes` from the base state changed by `setup`; returns the vector.
  template <typename F>
  int Run(const std::vector<uint8_t>& bytes, F setup) {
    s_ = m_.BaseState();
    s_.gpr[kRsi] = kData;
    s_.gpr[kRdi] = kData;
    setup(s_);
    return m_.Run(bytes, s_);
  }
  int Run(const std::vector<uint8_t>& bytes) {
    return Run(bytes, [](CpuState&) {});
  }

  LongModeMachine m_;
  CpuState s_;
};

const std::vector<uint8_t> kAddpsXmm0Xmm1 = {0x0f, 0x58, 0xc1};
const std::vector<uint8_t> kPaddbMm0Mm1 = {0x0f, 0xfc, 0xc1};
const std::vector<uint8_t> kEmms = {0x0f, 0x77};

TEST_F(SseFaultTest, ControlRegisterRules) {
  // SSE: #UD with CR0.EM or without CR4.OSFXSR, then #NM with CR0.TS.
  EXPECT_EQ(Run(kAddpsXmm0Xmm1), -1);
  EXPECT_EQ(Run(kAddpsXmm0Xmm1, [](CpuState& s) { s.cr0 |= cr0::kEm; }), kUd);
  EXPECT_EQ(Run(kAddpsXmm0Xmm1, [](CpuState& s) { s.cr4 &= ~cr4::kOsfxsr; }), kUd);
  EXPECT_EQ(Run(kAddpsXmm0Xmm1, [](CpuState& s) { s.cr0 |= cr0::kTs; }), kNm);
  EXPECT_EQ(Run(kAddpsXmm0Xmm1, [](CpuState& s) { s.cr0 |= cr0::kTs | cr0::kEm; }), kUd);
  // MMX: #UD with EM, #NM with TS, no OSFXSR needed.
  EXPECT_EQ(Run(kPaddbMm0Mm1, [](CpuState& s) { s.cr4 &= ~cr4::kOsfxsr; }), -1);
  EXPECT_EQ(Run(kPaddbMm0Mm1, [](CpuState& s) { s.cr0 |= cr0::kEm; }), kUd);
  EXPECT_EQ(Run(kPaddbMm0Mm1, [](CpuState& s) { s.cr0 |= cr0::kTs; }), kNm);
  EXPECT_EQ(Run(kEmms, [](CpuState& s) { s.cr0 |= cr0::kTs; }), kNm);
  // A pending x87 exception (FSW.ES with CR0.NE) is #MF before an MMX
  // instruction, and changes nothing.
  EXPECT_EQ(Run(kPaddbMm0Mm1, [](CpuState& s) { s.x87.fsw = 0x3881; }), kMf);
  EXPECT_EQ(s_.x87.fsw, 0x3881);
  EXPECT_EQ(s_.x87.ftw, 0xffff);
  // SSE does not care about the x87.
  EXPECT_EQ(Run(kAddpsXmm0Xmm1, [](CpuState& s) { s.x87.fsw = 0x3881; }), -1);
}

TEST_F(SseFaultTest, AlignmentOfLegacySseMemoryOperands) {
  const std::vector<uint8_t> movaps = {0x0f, 0x28, 0x06};          // movaps xmm0, [rsi]
  const std::vector<uint8_t> movups = {0x0f, 0x10, 0x06};          // movups xmm0, [rsi]
  const std::vector<uint8_t> addps = {0x0f, 0x58, 0x06};           // addps xmm0, [rsi]
  const std::vector<uint8_t> addss = {0xf3, 0x0f, 0x58, 0x06};     // addss xmm0, [rsi]
  const std::vector<uint8_t> movdqa_st = {0x66, 0x0f, 0x7f, 0x06};  // movdqa [rsi], xmm0
  const std::vector<uint8_t> pcmpistri = {0x66, 0x0f, 0x3a, 0x63, 0x06, 0x00};
  const std::vector<uint8_t> lddqu = {0xf2, 0x0f, 0xf0, 0x06};
  auto misaligned = [](CpuState& s) { s.gpr[kRsi] = kData + 8; };
  EXPECT_EQ(Run(movaps, misaligned), kGp);
  EXPECT_EQ(Run(addps, misaligned), kGp);
  EXPECT_EQ(Run(movdqa_st, misaligned), kGp);
  EXPECT_EQ(Run(movups, misaligned), -1);
  EXPECT_EQ(Run(addss, [](CpuState& s) { s.gpr[kRsi] = kData + 3; }), -1);
  EXPECT_EQ(Run(pcmpistri, misaligned), -1);
  EXPECT_EQ(Run(lddqu, misaligned), -1);
  // The check is on the linear address: an FS base can misalign it.
  const std::vector<uint8_t> movaps_fs = {0x64, 0x0f, 0x28, 0x06};
  EXPECT_EQ(Run(movaps_fs, [](CpuState& s) { s.seg[kFs].base = 4; }), kGp);
  EXPECT_EQ(Run(movaps_fs, [](CpuState& s) { s.seg[kFs].base = 16; }), -1);
}

// An unmasked exception: #XM with CR4.OSXMMEXCPT, else #UD; MXCSR gets the
// flags, the destination keeps its value (SDM Vol. 1 11.5.2.2).
TEST_F(SseFaultTest, UnmaskedExceptions) {
  auto divide_by_zero = [](CpuState& s) {
    s.mxcsr = 0x1f80 & ~(1u << 9);  // ZM clear
    s.xmm[0] = Xmm{0x3f800000, 0x12345678};
    s.xmm[1] = Xmm{0, 0};
  };
  const std::vector<uint8_t> divss = {0xf3, 0x0f, 0x5e, 0xc1};
  EXPECT_EQ(Run(divss, divide_by_zero), kXm);
  EXPECT_EQ(s_.mxcsr & 0x3f, 0x04u);
  EXPECT_EQ(s_.xmm[0].lo, 0x3f800000u);
  EXPECT_EQ(Run(divss, [&](CpuState& s) {
              divide_by_zero(s);
              s.cr4 &= ~cr4::kOsxmmexcpt;
            }),
            kUd);
  EXPECT_EQ(s_.mxcsr & 0x3f, 0x04u);
  // Masked: the result is written.
  EXPECT_EQ(Run(divss, [&](CpuState& s) {
              divide_by_zero(s);
              s.mxcsr = 0x1f80;
            }),
            -1);
  EXPECT_EQ(s_.xmm[0].lo, 0x7f800000u);
  // Packed: an unmasked pre-computation exception in one lane reports only
  // the pre-computation flags, even when another lane is inexact.
  const std::vector<uint8_t> divps = {0x0f, 0x5e, 0xc1};
  EXPECT_EQ(Run(divps, [&](CpuState& s) {
              s.mxcsr = 0x1f80 & ~(1u << 9);
              s.xmm[0] = Xmm{0x3f800000ull | (0x3f800000ull << 32), 0};
              s.xmm[1] = Xmm{0x40400000ull << 32, 0x3f800000ull | (0x3f800000ull << 32)};
            }),
            kXm);
  EXPECT_EQ(s_.mxcsr & 0x3f, 0x04u);
  // Only a post-computation exception unmasked (PE): every flag is set.
  EXPECT_EQ(Run(divps, [&](CpuState& s) {
              s.mxcsr = 0x1f80 & ~(1u << 12);  // PM clear
              s.xmm[0] = Xmm{0x3f800000ull | (0x3f800000ull << 32), 0};
              s.xmm[1] = Xmm{0x40400000ull << 32, 0x3f800000ull | (0x3f800000ull << 32)};
            }),
            kXm);
  EXPECT_EQ(s_.mxcsr & 0x3f, 0x24u);
  // COMISS with an unmasked invalid leaves EFLAGS alone.
  const std::vector<uint8_t> comiss = {0x0f, 0x2f, 0xc1};
  EXPECT_EQ(Run(comiss, [&](CpuState& s) {
              s.mxcsr = 0x1f80 & ~(1u << 7);  // IM clear
              s.xmm[0] = Xmm{0x7fc00000, 0};
              s.rflags = flags::kFixed1;
            }),
            kXm);
  EXPECT_EQ(s_.mxcsr & 0x3f, 0x01u);
}

TEST_F(SseFaultTest, MaskmovqTouchesOnlySelectedBytes) {
  const std::vector<uint8_t> maskmovq = {0x0f, 0xf7, 0xc1};  // maskmovq mm0, mm1
  std::memset(m_.data(), 0xaa, kDataBytes);
  EXPECT_EQ(Run(maskmovq, [](CpuState& s) {
              for (int b = 0; b < 8; ++b) s.x87.st[0][b] = static_cast<uint8_t>(b + 1);
              for (int b = 0; b < 8; ++b) s.x87.st[1][b] = (b & 1) ? 0x80 : 0x7f;
              s.gpr[kRdi] = kData + 3;
            }),
            -1);
  const uint8_t* d = m_.data();
  EXPECT_EQ(d[3], 0xaa);
  EXPECT_EQ(d[4], 2);
  EXPECT_EQ(d[5], 0xaa);
  EXPECT_EQ(d[6], 4);
  EXPECT_EQ(d[10], 8);
}

TEST_F(SseFaultTest, RowsThatDoNotExistAreUd) {
  // PSRLDQ has no MMX form; MOVMSKPS has no memory form; F3 0F 28 is not
  // MOVAPS; an SSE4.1 op needs its 66 prefix; LOCK is never allowed.
  EXPECT_EQ(Run({0x0f, 0x73, 0xd8, 0x01}), kUd);
  EXPECT_EQ(Run({0x0f, 0x50, 0x06}), kUd);
  EXPECT_EQ(Run({0xf3, 0x0f, 0x28, 0xc1}), kUd);
  EXPECT_EQ(Run({0x0f, 0x38, 0x40, 0xc1}), kUd);
  EXPECT_EQ(Run({0xf0, 0x0f, 0x58, 0x06}), kUd);
}

// The fences ignore ModRM.rm; the prefetches and CLFLUSH are no-ops.
TEST_F(SseFaultTest, FencesPrefetchesAndFlushesAreNoOps) {
  for (uint8_t modrm : {0xe8, 0xe9, 0xef, 0xf0, 0xf5, 0xf8, 0xff}) {
    EXPECT_EQ(Run({0x0f, 0xae, modrm}), -1) << fmt::format("0F AE {:02X}", modrm);
  }
  EXPECT_EQ(Run({0x0f, 0xae, 0x3e}), -1);        // clflush [rsi]
  EXPECT_EQ(Run({0x0f, 0x18, 0x0e}), -1);        // prefetcht0 [rsi]
  EXPECT_EQ(Run({0x0f, 0xc3, 0x06}), -1);        // movnti [rsi], eax
  EXPECT_EQ(Run({0x66, 0x0f, 0xae, 0x3e}), kUd);  // CLFLUSHOPT is not offered
}

// ---- XSAVE ----------------------------------------------------------------------------

TEST_F(SseFaultTest, XgetbvXsetbvAndCpuid) {
  const std::vector<uint8_t> xgetbv = {0x0f, 0x01, 0xd0};
  const std::vector<uint8_t> xsetbv = {0x0f, 0x01, 0xd1};
  EXPECT_EQ(Run(xgetbv), kUd) << "CR4.OSXSAVE clear";
  auto osxsave = [](CpuState& s) { s.cr4 |= cr4::kOsxsave; };
  EXPECT_EQ(Run(xgetbv, [&](CpuState& s) {
              osxsave(s);
              s.gpr[kRcx] = 0;
            }),
            -1);
  EXPECT_EQ(s_.gpr[kRax], 1u);
  EXPECT_EQ(s_.gpr[kRdx], 0u);
  EXPECT_EQ(Run(xgetbv, [&](CpuState& s) {
              osxsave(s);
              s.gpr[kRcx] = 1;
            }),
            kGp);
  EXPECT_EQ(Run(xsetbv, [&](CpuState& s) {
              osxsave(s);
              s.gpr[kRcx] = 0;
              s.gpr[kRax] = 3;
              s.gpr[kRdx] = 0;
            }),
            -1);
  EXPECT_EQ(s_.xcr0, 3u);
  for (uint64_t bad : {0ull, 2ull, 7ull, 1ull << 32}) {
    EXPECT_EQ(Run(xsetbv, [&](CpuState& s) {
                osxsave(s);
                s.gpr[kRcx] = 0;
                s.gpr[kRax] = bad & 0xffffffff;
                s.gpr[kRdx] = bad >> 32;
              }),
              kGp)
        << bad;
  }
  CpuFeatures f;
  CpuState s = m_.BaseState();
  EXPECT_FALSE(Cpuid(f, s, 1, 0)[2] & (1u << 27));
  s.cr4 |= cr4::kOsxsave;
  CpuidResult r1 = Cpuid(f, s, 1, 0);
  EXPECT_TRUE(r1[2] & (1u << 27));
  EXPECT_TRUE(r1[2] & (1u << 26));
  EXPECT_EQ(r1[3] & 0x07800000u, 0x07800000u);  // MMX FXSR SSE SSE2
  EXPECT_EQ(r1[2] & 0x00180203u, 0x00180203u);  // SSE3 PCLMUL SSSE3 SSE4.1 SSE4.2
  EXPECT_EQ(Cpuid(f, s, 0xd, 0)[0], 3u);
  EXPECT_EQ(Cpuid(f, s, 0xd, 0)[2], 576u);
  EXPECT_EQ(Cpuid(f, s, 0xd, 1)[0], 0u);  // No XSAVEOPT/XSAVEC/XGETBV1/XSAVES.
}

// The XSAVE legacy region equals the host's for the same state (restricted
// to x87 | SSE with EDX:EAX = 3), and XRSTOR brings it back; init
// components come back in their initial state.
TEST_F(SseHostTest, XsaveMatchesTheHostAndRestores) {
  Inputs in(11);
  for (int n = 0; n < 20; ++n) {
    Start st;
    RandomStart(in, st);
    for (int k = 0; k < 8; ++k) st.host.fx[32 + 16 * k + 7] |= 0x80;
    st.host.fx[4] = static_cast<uint8_t>(in.Below(256));
    st.host.gpr[kRax] = 3;
    st.host.gpr[kRdx] = 0;
    // xsave64 [rsi]: REX.W 0F AE /4. The data buffer is 64 bytes; use a
    // bigger one on each side.
    alignas(64) static uint8_t host_area[1024];
    std::memset(host_area, 0x5a, sizeof(host_area));
    HostRegs host = st.host;
    host.gpr[kRsi] = reinterpret_cast<uint64_t>(host_area);
    const std::vector<uint8_t> xsave = {0x48, 0x0f, 0xae, 0x26};
    code_.Run(xsave, host);

    CpuState s = GuestState(m_, st);
    s.cr4 |= cr4::kOsxsave;
    s.xcr0 = 3;
    s.gpr[kRsi] = 0x30000;
    s.x87.ftw = 0;
    for (int j = 0; j < 8; ++j) {
      if (!((st.host.fx[4] >> j) & 1)) s.x87.ftw |= static_cast<uint16_t>(3u << (2 * j));
    }
    uint8_t* guest_area = m_.machine().memory().HostRange(0x30000, 1024);
    std::memset(guest_area, 0x5a, 1024);
    ASSERT_EQ(m_.Run(xsave, s), -1);
    // Bytes 0-415 are the legacy state (464-511 untouched on both).
    EXPECT_EQ(std::memcmp(host_area, guest_area, 416), 0) << "image " << n;
    EXPECT_EQ(std::memcmp(host_area + 464, guest_area + 464, 48), 0);
    uint64_t bv;
    std::memcpy(&bv, guest_area + 512, 8);
    EXPECT_EQ(bv & ~3ull, 0x5a5a5a5a5a5a5a58ull);
    EXPECT_EQ(bv & 3, 3u);

    // XRSTOR64 from the image into a scrambled state gives the state back.
    CpuState saved = s;
    CpuState t = GuestState(m_, st);
    t.cr4 |= cr4::kOsxsave;
    t.xcr0 = 3;
    t.gpr[kRsi] = 0x30000;
    t.gpr[kRax] = 3;
    t.gpr[kRdx] = 0;
    for (auto& x : t.xmm) x = Xmm{1, 2};
    t.mxcsr = 0x1f80;
    // A real header: XSTATE_BV = 3, the rest zero (XSAVE left it alone).
    std::memset(guest_area + 512, 0, 64);
    guest_area[512] = 3;
    const std::vector<uint8_t> xrstor = {0x48, 0x0f, 0xae, 0x2e};
    ASSERT_EQ(m_.Run(xrstor, t), -1);
    EXPECT_EQ(t.xmm, saved.xmm);
    EXPECT_EQ(t.mxcsr, saved.mxcsr);
    EXPECT_EQ(t.x87.fsw, saved.x87.fsw);
    EXPECT_EQ(t.x87.fcw, saved.x87.fcw);
    // XSTATE_BV = 0: both components initialized, MXCSR still loaded.
    std::memset(guest_area + 512, 0, 8);
    t.x87.fcw = 0x7f;
    ASSERT_EQ(m_.Run(xrstor, t), -1);
    EXPECT_EQ(t.xmm[5], Xmm{});
    EXPECT_EQ(t.x87.fcw, 0x37f);
    EXPECT_EQ(t.x87.ftw, 0xffff);
    EXPECT_EQ(t.mxcsr, saved.mxcsr);
    // A compacted header is #GP(0).
    guest_area[527] = 0x80;
    EXPECT_EQ(m_.Run(xrstor, t), kGp);
  }
}

// FXSAVE (exec_x87_env.cc) writes what the host writes, in both formats;
// LDMXCSR and FXRSTOR refuse reserved MXCSR bits with #GP(0).
TEST_F(SseHostTest, FxsaveMatchesTheHost) {
  Inputs in(12);
  for (int n = 0; n < 20; ++n) {
    Start st;
    RandomStart(in, st);
    for (int k = 0; k < 8; ++k) st.host.fx[32 + 16 * k + 7] |= 0x80;
    st.host.fx[4] = static_cast<uint8_t>(in.Below(256));
    bool rexw = n & 1;
    std::vector<uint8_t> fxsave = {0x0f, 0xae, 0x06};  // fxsave [rsi]
    if (rexw) fxsave.insert(fxsave.begin(), 0x48);
    alignas(64) static uint8_t host_area[512];
    std::memset(host_area, 0x5a, sizeof(host_area));
    HostRegs host = st.host;
    host.gpr[kRsi] = reinterpret_cast<uint64_t>(host_area);
    code_.Run(fxsave, host);

    CpuState s = GuestState(m_, st);
    s.gpr[kRsi] = 0x30000;
    s.x87.ftw = 0;
    for (int j = 0; j < 8; ++j) {
      if (!((st.host.fx[4] >> j) & 1)) s.x87.ftw |= static_cast<uint16_t>(3u << (2 * j));
    }
    uint8_t* guest_area = m_.machine().memory().HostRange(0x30000, 512);
    std::memset(guest_area, 0x5a, 512);
    ASSERT_EQ(m_.Run(fxsave, s), -1);
    EXPECT_EQ(std::memcmp(host_area, guest_area, 416), 0) << "image " << n;
    EXPECT_EQ(std::memcmp(host_area + 464, guest_area + 464, 48), 0);
  }
}

TEST_F(SseFaultTest, ReservedMxcsrBitsAreGp) {
  const std::vector<uint8_t> ldmxcsr = {0x0f, 0xae, 0x16};  // ldmxcsr [rsi]
  const std::vector<uint8_t> stmxcsr = {0x0f, 0xae, 0x1e};  // stmxcsr [rsi]
  const std::vector<uint8_t> fxrstor = {0x0f, 0xae, 0x0e};  // fxrstor [rsi]
  uint32_t v = 0x1f80 | (1u << 16);
  std::memcpy(m_.data(), &v, 4);
  EXPECT_EQ(Run(ldmxcsr), kGp);
  EXPECT_EQ(s_.mxcsr, 0x1f80u);
  v = 0xffff;
  std::memcpy(m_.data(), &v, 4);
  EXPECT_EQ(Run(ldmxcsr), -1);
  EXPECT_EQ(s_.mxcsr, 0xffffu);
  EXPECT_EQ(Run(stmxcsr, [](CpuState& s) { s.mxcsr = 0x3f80; }), -1);
  std::memcpy(&v, m_.data(), 4);
  EXPECT_EQ(v, 0x3f80u);
  EXPECT_EQ(Run(ldmxcsr, [](CpuState& s) { s.cr4 &= ~cr4::kOsfxsr; }), kUd);
  EXPECT_EQ(Run(ldmxcsr, [](CpuState& s) { s.cr0 |= cr0::kTs; }), kNm);
  // FXRSTOR: the MXCSR field at +24 (the image lives at 0x30000).
  uint8_t* area = m_.machine().memory().HostRange(0x30000, 512);
  std::memset(area, 0, 512);
  v = 0x1f80 | (1u << 31);
  std::memcpy(area + 24, &v, 4);
  EXPECT_EQ(Run(fxrstor, [](CpuState& s) { s.gpr[kRsi] = 0x30000; }), kGp);
  v = 0x1f80;
  std::memcpy(area + 24, &v, 4);
  EXPECT_EQ(Run(fxrstor, [](CpuState& s) { s.gpr[kRsi] = 0x30000; }), -1);
  EXPECT_EQ(Run(fxrstor, [](CpuState& s) { s.gpr[kRsi] = 0x30008; }), kGp) << "misaligned";
}

}  // namespace
}  // namespace x86vm
