#include "tests/difftest/directed_cases.h"

#include <cstdio>
#include <cstring>
#include <random>
#include <span>

namespace x86vm::difftest {
namespace {

using Bytes = std::vector<uint8_t>;

void Put(Bytes& b, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// Builds snippet code for one mode: [rSI] is the first data page (its first
// 64 bytes hold values chosen by DirectedCase), [rDI] 0x100 bytes further.
class Asm {
 public:
  explicit Asm(DiffMode mode) : mode_(mode), data_(LayoutFor(mode).data_addr) {}
  bool is16() const { return mode_ == DiffMode::kReal16; }
  bool is64() const { return mode_ == DiffMode::kLong64; }
  uint64_t data() const { return data_; }

  Asm& B(std::initializer_list<uint8_t> bytes) {
    code_.insert(code_.end(), bytes);
    return *this;
  }
  // MOV r, imm with the mode's natural width (r < 8).
  Asm& MovImm(int r, uint64_t v) {
    if (is64()) {
      B({0x48, 0xc7, static_cast<uint8_t>(0xc0 | r)});
      Put(code_, v, 4);
    } else {
      code_.push_back(static_cast<uint8_t>(0xb8 + r));
      Put(code_, v, is16() ? 2 : 4);
    }
    return *this;
  }
  Asm& SetupSiDi() { return MovImm(6, data_).MovImm(7, data_ + 0x100); }
  // ModRM for [rSI + disp8] with `reg` (16-bit: rm = 100 is [SI]).
  Asm& MemSi(int reg, int8_t disp = 0) {
    code_.push_back(static_cast<uint8_t>(0x40 | (reg << 3) | (is16() ? 4 : 6)));
    code_.push_back(static_cast<uint8_t>(disp));
    return *this;
  }
  // An instruction whose last bytes are a ModRM for [rSI + disp8].
  Asm& OpSi(std::initializer_list<uint8_t> op, int reg, int8_t disp = 0) { return B(op).MemSi(reg, disp); }
  Bytes take() { return std::move(code_); }

 private:
  DiffMode mode_;
  uint64_t data_;
  Bytes code_;
};

void AddBranches(DiffMode mode, std::vector<Snippet>& out) {
  const bool is64 = mode == DiffMode::kLong64;
  auto add = [&](std::string name, Bytes code, uint64_t undef = 0) {
    out.push_back(Snippet{std::move(name), mode, std::move(code), undef});
  };
  // The skipped filler is NOT eAX (F7 D0): it would change RAX if run.
  // CALL rel; JMP over; RET (and RET imm16).
  add("call rel / ret",
      is64 || mode == DiffMode::kProt32 ? Bytes{0xe8, 2, 0, 0, 0, 0xeb, 1, 0xc3} : Bytes{0xe8, 2, 0, 0xeb, 1, 0xc3});
  add("call rel / ret imm", mode == DiffMode::kReal16 ? Bytes{0xe8, 2, 0, 0xeb, 3, 0xc2, 2, 0}
                                                      : Bytes{0xe8, 2, 0, 0, 0, 0xeb, 3, 0xc2, 8, 0});
  if (is64) {
    // lea rax, [rip+4]; call rax; jmp +1; ret
    add("call r/m / ret", {0x48, 0x8d, 0x05, 4, 0, 0, 0, 0xff, 0xd0, 0xeb, 1, 0xc3});
    // lea rax, [rip+4]; jmp rax; not eax
    add("jmp r/m", {0x48, 0x8d, 0x05, 4, 0, 0, 0, 0xff, 0xe0, 0xf7, 0xd0});
  } else {
    const uint64_t code = LayoutFor(mode).code_addr;
    Bytes c;
    if (mode == DiffMode::kReal16) {
      c = {0xb8};
      Put(c, code + 3 + 2 + 2, 2);  // mov ax, target
    } else {
      c = {0xb8};
      Put(c, code + 5 + 2 + 2, 4);
    }
    Bytes call = c;
    call.insert(call.end(), {0xff, 0xd0, 0xeb, 1, 0xc3});
    add("call r/m / ret", call);
    c.insert(c.end(), {0xff, 0xe0, 0xf7, 0xd0});
    add("jmp r/m", c);
  }
  add("jmp rel", mode == DiffMode::kReal16 ? Bytes{0xe9, 2, 0, 0xf7, 0xd0} : Bytes{0xe9, 2, 0, 0, 0, 0xf7, 0xd0});
  add("jmp rel8", {0xeb, 2, 0xf7, 0xd0});
  for (int cc = 0; cc < 16; ++cc) {
    Bytes j = {0x0f, static_cast<uint8_t>(0x80 + cc), 2, 0};
    if (mode != DiffMode::kReal16) j.insert(j.end(), {0, 0});
    j.insert(j.end(), {0xf7, 0xd0});
    add("jcc rel " + std::to_string(cc), j);
    add("jcc rel8 " + std::to_string(cc), {static_cast<uint8_t>(0x70 + cc), 2, 0xf7, 0xd0});
  }
  // mov ecx, 5; add eax, ecx; loop -4 (and the E/NE forms over a CMP).
  add("loop", {0xb9, 5, 0, 0, 0, 0x01, 0xc8, 0xe2, 0xfc});
  if (mode == DiffMode::kReal16) out.back().code = {0x66, 0xb9, 5, 0, 0, 0, 0x66, 0x01, 0xc8, 0xe2, 0xfb};
  add("loope", {0xb9, 5, 0, 0, 0, 0x39, 0xc3, 0xe1, 0xfc});
  add("loopne", {0xb9, 5, 0, 0, 0, 0x39, 0xc3, 0xe0, 0xfc});
  if (mode == DiffMode::kReal16) {
    out[out.size() - 2].code = {0x66, 0xb9, 5, 0, 0, 0, 0x39, 0xc3, 0xe1, 0xfc};
    out.back().code = {0x66, 0xb9, 5, 0, 0, 0, 0x39, 0xc3, 0xe0, 0xfc};
  }
  add("jrcxz", {0xe3, 2, 0xf7, 0xd0});
  add("jrcxz zero", {0x31, 0xc9, 0xe3, 2, 0xf7, 0xd0});
  add("loop 67h", {0x67, 0xe2, 0x00});
}

void AddStackAndMoves(DiffMode mode, std::vector<Snippet>& out) {
  const bool is64 = mode == DiffMode::kLong64;
  auto add = [&](std::string name, Bytes code, uint64_t undef = 0) {
    out.push_back(Snippet{std::move(name), mode, std::move(code), undef});
  };
  const Bytes mov_bp_sp = is64 ? Bytes{0x48, 0x89, 0xe5} : Bytes{0x89, 0xe5};
  for (auto [size, level] : {std::pair{16, 0}, {8, 1}, {4, 3}, {0, 5}}) {
    Bytes c = mov_bp_sp;
    c.insert(c.end(), {0xc8, static_cast<uint8_t>(size), 0, static_cast<uint8_t>(level), 0xc9});
    add("enter/leave " + std::to_string(level), c);
    Bytes c16 = mov_bp_sp;
    c16.insert(c16.end(), {0x66, 0xc8, static_cast<uint8_t>(size), 0, static_cast<uint8_t>(level), 0x66, 0xc9});
    add("enter/leave 66h " + std::to_string(level), c16);
  }
  {
    Asm a(mode);
    a.MovImm(3, a.data()).B({0xd7});  // xlat
    add("xlat", a.take());
  }
  {
    // MOV AL/eAX <-> moffs (A0-A3).
    const uint64_t at = LayoutFor(mode).data_addr + 0x18;
    const int w = is64 ? 8 : mode == DiffMode::kReal16 ? 2 : 4;
    for (uint8_t op : {0xa0, 0xa1, 0xa2, 0xa3}) {
      Bytes c = {op};
      Put(c, at, w);
      add("mov moffs " + std::to_string(op), c);
      Bytes c66 = {0x66, op};
      Put(c66, at, w);
      add("mov moffs 66h " + std::to_string(op), c66);
      if (is64) {
        Bytes w64 = {0x48, op};
        Put(w64, at, 8);
        add("mov moffs rex.w " + std::to_string(op), w64);
      }
    }
  }
  for (int r = 0; r < 8; ++r) add("mov r8, imm " + std::to_string(r), {static_cast<uint8_t>(0xb0 + r), 0x5a});
  if (is64) add("mov r8b, imm", {0x41, 0xb3, 0xa5});
  for (int r = 1; r < 8; ++r) add("xchg eAX, r " + std::to_string(r), {static_cast<uint8_t>(0x90 + r)});
  add("xchg 66h", {0x66, 0x93});
  if (is64) add("xchg r8, rax", {0x49, 0x90});
  if (is64) {
    // F6/F7 /1: TEST on the hardware (Unicorn raises #UD).
    add("test Eb,Ib /1", {0xf6, 0xc8, 0x3c}, dflags::kAf);
    add("test Ev,Iz /1", {0xf7, 0xcb, 0x78, 0x56, 0x34, 0x12}, dflags::kAf);
  }
  {
    Asm a(mode);
    a.SetupSiDi();
    Bytes base = a.take();
    auto with = [&](Bytes tail) {
      Bytes c = base;
      c.insert(c.end(), tail.begin(), tail.end());
      return c;
    };
    const uint8_t si = mode == DiffMode::kReal16 ? 0x0c : 0x0e;  // ModRM reg=1, rm=[rSI].
    add("cmpxchg8b", with({0x0f, 0xc7, si}));
    // Make it equal first: mov [rsi], eax; mov [rsi+4], edx.
    add("cmpxchg8b equal",
        with(mode == DiffMode::kReal16 ? Bytes{0x66, 0x89, 0x04, 0x66, 0x89, 0x54, 0x04, 0x0f, 0xc7, si}
                                       : Bytes{0x89, 0x06, 0x89, 0x56, 0x04, 0x0f, 0xc7, si}));
    if (is64) {
      add("cmpxchg16b", with({0x48, 0x0f, 0xc7, 0x0e}));
      add("cmpxchg16b equal", with({0x48, 0x89, 0x06, 0x48, 0x89, 0x56, 0x08, 0xf0, 0x48, 0x0f, 0xc7, 0x0e}));
      add("cmpxchg16b misaligned", with({0x48, 0xff, 0xc6, 0x48, 0x0f, 0xc7, 0x0e}));
      add("movnti", with({0x48, 0x0f, 0xc3, 0x06}));
      add("clflush", with({0x0f, 0xae, 0x3e}));
    }
    add("fences", {0x0f, 0xae, 0xe8, 0x0f, 0xae, 0xf0, 0x0f, 0xae, 0xf8});
    add("nop Ev", mode == DiffMode::kReal16 ? Bytes{0x0f, 0x1f, 0x00, 0x0f, 0x1f, 0x40, 0x00}
                                            : Bytes{0x0f, 0x1f, 0x00, 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x0f, 0x18, 0x06});
  }
  add("ud2", {0x90, 0x0f, 0x0b});
  add("int3", {0x90, 0xcc, 0x90});
  if (is64) {
    // CPL 3: privileged or IOPL-sensitive instructions raise #GP.
    // Not INT n through a DPL-0 gate: this host's KVM reports #UD for it,
    // not #GP (interpreter_engine_test checks the #GP).
    add("hlt at cpl 3", {0xf4, 0x90});
    add("cli at cpl 3", {0xfa});
    add("in at cpl 3", {0xe4, 0x60});
    add("out dx at cpl 3", {0x66, 0xba, 0x60, 0x00, 0xee});
    add("mov cr0 at cpl 3", {0x0f, 0x20, 0xc0});
    add("wrmsr at cpl 3", {0x0f, 0x30});
    add("lgdt at cpl 3", {0x0f, 0x01, 0x14, 0x25, 0, 0, 0x60, 0});
    add("invalid in 64-bit: push es", {0x06});
    add("invalid in 64-bit: aaa", {0x37});
    add("invalid in 64-bit: into", {0xce});
  } else {
    add("pusha/popa", {0x60, 0x61});
    add("pusha/popa 66h", {0x66, 0x60, 0x66, 0x61});
    for (int r = 0; r < 8; ++r) {
      if (r == 4) continue;  // ESP.
      add("inc r " + std::to_string(r), {static_cast<uint8_t>(0x40 + r)});
      add("dec r " + std::to_string(r), {static_cast<uint8_t>(0x48 + r)});
    }
    for (int d = 0; d < 8; ++d) {
      add("82 /" + std::to_string(d), {0x82, static_cast<uint8_t>(0xc0 | (d << 3) | 3), 0x81}, dflags::kAf);
    }
    add("salc", {0xd6});
    add("into (OF=1)", {0xb0, 0x7f, 0x04, 0x01, 0xce});
    add("into (OF=0)", {0x30, 0xc0, 0xce});
    {
      Asm a(mode);
      // bound eax, [rsi]: the bounds pair is random data, so some raise #BR.
      a.SetupSiDi();
      a.OpSi({0x62}, 0, 0);
      add("bound", a.take());
    }
    // Selector values differ between engines in prot32 (Unicorn keeps 0).
    if (mode == DiffMode::kReal16) add("push/pop seg", {0x1e, 0x06, 0x07, 0x1f});
  }
}

// SSE moves the templates do not generate.
void AddSseMoves(DiffMode mode, std::vector<Snippet>& out) {
  Asm base(mode);
  base.SetupSiDi();
  const Bytes setup = base.take();
  auto add = [&](std::string name, Bytes op) {
    Bytes c = setup;
    c.insert(c.end(), op.begin(), op.end());
    Snippet sn{std::move(name), mode, std::move(c), 0};
    sn.sse = true;
    out.push_back(std::move(sn));
  };
  auto mem = [&](std::initializer_list<uint8_t> op, int reg, int8_t disp) {
    Asm a(mode);
    a.OpSi(op, reg, disp);
    return a.take();
  };
  add("movups load", mem({0x0f, 0x10}, 1, 3));
  add("movupd load", mem({0x66, 0x0f, 0x10}, 2, 5));
  add("movups store", mem({0x0f, 0x11}, 3, 7));
  add("movupd store", mem({0x66, 0x0f, 0x11}, 4, 9));
  add("movss store", mem({0xf3, 0x0f, 0x11}, 1, 2));
  add("movsd store", mem({0xf2, 0x0f, 0x11}, 5, 11));
  add("movss load", mem({0xf3, 0x0f, 0x10}, 1, 2));
  add("movsd load", mem({0xf2, 0x0f, 0x10}, 5, 11));
  add("movss reg", {0xf3, 0x0f, 0x10, 0xca});
  add("movsd reg", {0xf2, 0x0f, 0x10, 0xca});
  add("movups reg", {0x0f, 0x10, 0xca, 0x0f, 0x11, 0xd3});
  add("movlps load", mem({0x0f, 0x12}, 1, 8));
  add("movhlps", {0x0f, 0x12, 0xca});
  add("movlpd load", mem({0x66, 0x0f, 0x12}, 1, 8));
  add("movlps store", mem({0x0f, 0x13}, 2, 16));
  add("movlpd store", mem({0x66, 0x0f, 0x13}, 2, 24));
  add("movhps load", mem({0x0f, 0x16}, 3, 8));
  add("movlhps", {0x0f, 0x16, 0xca});
  add("movhpd load", mem({0x66, 0x0f, 0x16}, 3, 8));
  add("movhps store", mem({0x0f, 0x17}, 4, 16));
  add("movhpd store", mem({0x66, 0x0f, 0x17}, 4, 24));
  add("movapd reg", {0x66, 0x0f, 0x28, 0xca});
  add("movaps store", mem({0x0f, 0x29}, 1, 16));
  add("movapd store", mem({0x66, 0x0f, 0x29}, 1, 32));
  // Unicorn does not check alignment (README.md).
  if (mode == DiffMode::kLong64) add("movaps store misaligned", mem({0x0f, 0x29}, 1, 8));
  add("movntps", mem({0x0f, 0x2b}, 2, 32));
  add("movntpd", mem({0x66, 0x0f, 0x2b}, 2, 48));
  add("movntdq", mem({0x66, 0x0f, 0xe7}, 2, 48));
  add("hsubpd", {0x66, 0x0f, 0x7d, 0xca});
  add("hsubps", {0xf2, 0x0f, 0x7d, 0xca});
  add("haddpd", {0x66, 0x0f, 0x7c, 0xca});
}

// MMX: load mm0/mm1 from the data, operate, store mm0 and EMMS.
void AddMmx(std::vector<Snippet>& out) {
  const DiffMode mode = DiffMode::kLong64;
  Asm base(mode);
  base.SetupSiDi();
  base.OpSi({0x0f, 0x6f}, 0, 0).OpSi({0x0f, 0x6f}, 1, 8);  // movq mm0, [rsi]; movq mm1, [rsi+8]
  const Bytes setup = base.take();
  const Bytes tail = {0x0f, 0x7f, 0x46, 0x10, 0x0f, 0x7e, 0xc0, 0x0f, 0x77};  // movq [rsi+16], mm0; movd eax, mm0; emms
  auto add = [&](std::string name, Bytes op, uint64_t undef = 0) {
    Bytes c = setup;
    c.insert(c.end(), op.begin(), op.end());
    c.insert(c.end(), tail.begin(), tail.end());
    out.push_back(Snippet{std::move(name), mode, std::move(c), undef, true});
  };
  static constexpr uint8_t kBinary[] = {
      0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x74, 0x75, 0x76, 0xd1, 0xd2, 0xd3, 0xd4,
      0xd5, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe8, 0xe9, 0xea, 0xeb,
      0xec, 0xed, 0xee, 0xef, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe};
  for (uint8_t op : kBinary) {
    char name[32];
    snprintf(name, sizeof(name), "mmx 0f %02x", op);
    add(name, {0x0f, op, 0xc1});
    add(std::string(name) + " mem", {0x0f, op, 0x46, 0x08});
  }
  static constexpr uint8_t kSsse3[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                       0x08, 0x09, 0x0a, 0x0b, 0x1c, 0x1d, 0x1e};
  for (uint8_t op : kSsse3) {
    char name[32];
    snprintf(name, sizeof(name), "mmx 0f 38 %02x", op);
    add(name, {0x0f, 0x38, op, 0xc1});
  }
  for (uint8_t imm : {0x00, 0x03, 0x07, 0x0c}) add("mmx palignr " + std::to_string(imm), {0x0f, 0x3a, 0x0f, 0xc1, imm});
  for (auto [op, d] :
       {std::pair{0x71, 2}, {0x71, 4}, {0x71, 6}, {0x72, 2}, {0x72, 4}, {0x72, 6}, {0x73, 2}, {0x73, 6}}) {
    for (uint8_t imm : {0x01, 0x07, 0x10, 0x21}) {
      char name[40];
      snprintf(name, sizeof(name), "mmx 0f %02x /%d %d", op, d, imm);
      add(name, {0x0f, static_cast<uint8_t>(op), static_cast<uint8_t>(0xc0 | (d << 3)), imm});
    }
  }
  add("mmx pshufw", {0x0f, 0x70, 0xc1, 0x1b});
  add("mmx pinsrw", {0x0f, 0xc4, 0xc3, 0x02});
  add("mmx pextrw", {0x0f, 0xc5, 0xd8, 0x03});
  add("mmx pmovmskb", {0x0f, 0xd7, 0xd8});
  add("mmx movd mm, r", {0x0f, 0x6e, 0xc3});
  add("mmx movq mm, r64", {0x48, 0x0f, 0x6e, 0xc3});
  add("mmx movq r64, mm", {0x48, 0x0f, 0x7e, 0xcb});
  add("mmx movq mm, mm", {0x0f, 0x6f, 0xc1});
  add("mmx movq2dq", {0xf3, 0x0f, 0xd6, 0xd0});
  add("mmx movdq2q", {0xf2, 0x0f, 0xd6, 0xc2});
  add("mmx cvtpi2ps", {0x0f, 0x2a, 0xd1});
  add("mmx cvtpi2pd", {0x66, 0x0f, 0x2a, 0xd1});
  add("mmx cvtps2pi", {0x0f, 0x2d, 0xc2});
  add("mmx cvttps2pi", {0x0f, 0x2c, 0xc2});
  add("mmx cvtpd2pi", {0x66, 0x0f, 0x2d, 0xc2});
  add("mmx cvttpd2pi", {0x66, 0x0f, 0x2c, 0xc2});
  add("mmx movntq", {0x0f, 0xe7, 0x4e, 0x20});
  add("mmx maskmovq", {0x0f, 0xf7, 0xc1});
}

// x87: FNINIT, optionally a control word, two loads, an operation, the
// result stored as an 80-bit value and FNSTSW AX with the condition codes
// the operation leaves undefined cleared (AND AX, mask).
void AddX87(std::vector<Snippet>& out) {
  const DiffMode mode = DiffMode::kLong64;
  struct Op {
    const char* name;
    Bytes code;
    uint16_t fsw_mask;  // FSW bits compared.
  };
  constexpr uint16_t kArith = 0xbaff;  // C0, C2, C3 undefined (SDM Vol. 1 8.1.3.1).
  constexpr uint16_t kAll = 0xffff;
  const Op ops[] = {
      {"faddp", {0xde, 0xc1}, kArith},
      {"fsubp", {0xde, 0xe9}, kArith},
      {"fsubrp", {0xde, 0xe1}, kArith},
      {"fmulp", {0xde, 0xc9}, kArith},
      {"fdivp", {0xde, 0xf9}, kArith},
      {"fdivrp", {0xde, 0xf1}, kArith},
      {"fadd st0,st1", {0xd8, 0xc1}, kArith},
      {"fsub st0,st1", {0xd8, 0xe1}, kArith},
      {"fmul st0,st1", {0xd8, 0xc9}, kArith},
      {"fdiv st0,st1", {0xd8, 0xf1}, kArith},
      {"fadd m64", {0xdc, 0x46, 0x08}, kArith},
      {"fmul m32", {0xd8, 0x4e, 0x08}, kArith},
      {"fdivr m64", {0xdc, 0x7e, 0x08}, kArith},
      {"fsub m32", {0xd8, 0x66, 0x08}, kArith},
      {"fiadd m32", {0xda, 0x46, 0x08}, kArith},
      {"fimul m16", {0xde, 0x4e, 0x08}, kArith},
      {"fisub m32", {0xda, 0x66, 0x08}, kArith},
      {"fidiv m16", {0xde, 0x76, 0x08}, kArith},
      {"fsqrt", {0xd9, 0xfa}, kArith},
      {"fabs", {0xd9, 0xe1}, kArith},
      {"fchs", {0xd9, 0xe0}, kArith},
      {"frndint", {0xd9, 0xfc}, kArith},
      {"fscale", {0xd9, 0xfd}, kArith},
      {"fxtract", {0xd9, 0xf4}, kArith},
      {"fprem", {0xd9, 0xf8}, kAll},
      {"fprem1", {0xd9, 0xf5}, kAll},
      {"fcom", {0xd8, 0xd1}, kAll},
      {"fcomp", {0xd8, 0xd9}, kAll},
      {"fucom", {0xdd, 0xe1}, kAll},
      {"fcom m64", {0xdc, 0x56, 0x08}, kAll},
      {"ficom m32", {0xda, 0x56, 0x08}, kAll},
      {"ftst", {0xd9, 0xe4}, kAll},
      {"fxam", {0xd9, 0xe5}, kAll},
      {"fxch", {0xd9, 0xc9}, kArith},
      {"fld1", {0xd9, 0xe8}, kArith},
      {"fldl2t", {0xd9, 0xe9}, kArith},
      {"fldl2e", {0xd9, 0xea}, kArith},
      {"fldpi", {0xd9, 0xeb}, kArith},
      {"fldlg2", {0xd9, 0xec}, kArith},
      {"fldln2", {0xd9, 0xed}, kArith},
      {"fldz", {0xd9, 0xee}, kArith},
      {"fld st1", {0xd9, 0xc1}, kArith},
      {"fincstp/fdecstp", {0xd9, 0xf7, 0xd9, 0xf6}, kArith},
      {"ffree st1", {0xdd, 0xc1}, kArith},
      {"fcmovb", {0xda, 0xc1}, kArith},
      {"fcmovnbe", {0xdb, 0xd1}, kArith},
      {"fst m32", {0xd9, 0x56, 0x20}, kArith},
      {"fst m64", {0xdd, 0x56, 0x20}, kArith},
      {"fist m16", {0xdf, 0x56, 0x20}, kArith},
      {"fistp m32", {0xdb, 0x5e, 0x20, 0xd9, 0xee}, kArith},
      {"fistp m64", {0xdf, 0x7e, 0x20, 0xd9, 0xee}, kArith},
      {"fisttp m32", {0xdb, 0x4e, 0x20, 0xd9, 0xee}, kArith},
      {"fisttp m64", {0xdd, 0x4e, 0x20, 0xd9, 0xee}, kArith},
      {"fbstp", {0xdf, 0x76, 0x20, 0xd9, 0xee}, kArith},
      {"fild m16", {0xdf, 0x46, 0x08}, kArith},
      {"fild m32", {0xdb, 0x46, 0x08}, kArith},
      {"fild m64", {0xdf, 0x6e, 0x08}, kArith},
      {"fld m80", {0xdb, 0x6e, 0x08}, kArith},
      {"fadd m32", {0xd8, 0x46, 0x08}, kArith},
      {"fsubr m32", {0xd8, 0x6e, 0x08}, kArith},
      {"fdiv m32", {0xd8, 0x76, 0x08}, kArith},
      {"fdivr m32", {0xd8, 0x7e, 0x08}, kArith},
      {"fcom m32", {0xd8, 0x56, 0x08}, kAll},
      {"fcomp m32", {0xd8, 0x5e, 0x08}, kAll},
      {"fcomp m64", {0xdc, 0x5e, 0x08}, kAll},
      {"fmul m64", {0xdc, 0x4e, 0x08}, kArith},
      {"fsub m64", {0xdc, 0x66, 0x08}, kArith},
      {"fsubr m64", {0xdc, 0x6e, 0x08}, kArith},
      {"fdiv m64", {0xdc, 0x76, 0x08}, kArith},
      {"fsubr st0,st1", {0xd8, 0xe9}, kArith},
      {"fdivr st0,st1", {0xd8, 0xf9}, kArith},
      {"fadd st1,st0", {0xdc, 0xc1}, kArith},
      {"fmul st1,st0", {0xdc, 0xc9}, kArith},
      {"fsubr st1,st0", {0xdc, 0xe1}, kArith},
      {"fsub st1,st0", {0xdc, 0xe9}, kArith},
      {"fdivr st1,st0", {0xdc, 0xf1}, kArith},
      {"fdiv st1,st0", {0xdc, 0xf9}, kArith},
      {"fcompp", {0xde, 0xd9}, kAll},
      {"fucompp", {0xda, 0xe9}, kAll},
      {"fucomp", {0xdd, 0xe9}, kAll},
      {"fimul m32", {0xda, 0x4e, 0x08}, kArith},
      {"fisubr m32", {0xda, 0x6e, 0x08}, kArith},
      {"fidiv m32", {0xda, 0x76, 0x08}, kArith},
      {"fidivr m32", {0xda, 0x7e, 0x08}, kArith},
      {"ficomp m32", {0xda, 0x5e, 0x08}, kAll},
      {"fiadd m16", {0xde, 0x46, 0x08}, kArith},
      {"ficom m16", {0xde, 0x56, 0x08}, kAll},
      {"ficomp m16", {0xde, 0x5e, 0x08}, kAll},
      {"fisub m16", {0xde, 0x66, 0x08}, kArith},
      {"fisubr m16", {0xde, 0x6e, 0x08}, kArith},
      {"fidivr m16", {0xde, 0x7e, 0x08}, kArith},
      {"fld m32", {0xd9, 0x46, 0x08}, kArith},
      {"fstp m32", {0xd9, 0x5e, 0x20, 0xd9, 0xee}, kArith},
      {"fstp m64", {0xdd, 0x5e, 0x20, 0xd9, 0xee}, kArith},
      {"fist m32", {0xdb, 0x56, 0x20}, kArith},
      {"fistp m16", {0xdf, 0x5e, 0x20, 0xd9, 0xee}, kArith},
      {"fisttp m16", {0xdf, 0x4e, 0x20, 0xd9, 0xee}, kArith},
      {"fbld", {0xdf, 0x66, 0x08}, kArith},
      {"fst st1", {0xdd, 0xd1}, kArith},
      {"fstp st1", {0xdd, 0xd9}, kArith},
      {"ffreep st1", {0xdf, 0xc1}, kArith},
      {"fnop", {0xd9, 0xd0}, kArith},
      {"fnclex", {0xdb, 0xe2}, kArith},
      {"fnstcw", {0xd9, 0x7e, 0x20}, kArith},
      {"fnstsw m16", {0xdd, 0x7e, 0x20}, kAll},
      {"fcmove", {0xda, 0xc9}, kArith},
      {"fcmovbe", {0xda, 0xd1}, kArith},
      {"fcmovu", {0xda, 0xd9}, kArith},
      {"fcmovnb", {0xdb, 0xc1}, kArith},
      {"fcmovne", {0xdb, 0xc9}, kArith},
      {"fcmovnu", {0xdb, 0xd9}, kArith},
  };
  // FLAGS-setting compares: the result is in RFLAGS (ZF PF CF; others 0).
  const Op flag_ops[] = {
      {"fcomi", {0xdb, 0xf1}, kArith},
      {"fucomi", {0xdb, 0xe9}, kArith},
      {"fcomip", {0xdf, 0xf1}, kArith},
      {"fucomip", {0xdf, 0xe9}, kArith},
  };
  // Control words: default, round down/up/zero, double and single precision.
  const uint16_t kControl[] = {0x037f, 0x077f, 0x0b7f, 0x0f7f, 0x027f, 0x007f};
  for (int kind = 0; kind < 2; ++kind) {
    for (const Op& op : kind == 0 ? std::span<const Op>(ops) : std::span<const Op>(flag_ops)) {
      for (uint16_t cw : kControl) {
        Asm a(mode);
        a.SetupSiDi();
        a.B({0xdb, 0xe3});  // fninit
        if (cw != 0x037f) {
          a.B({0x66, 0xc7, 0x46, 0x38});  // mov word [rsi+0x38], cw
          a.B({static_cast<uint8_t>(cw), static_cast<uint8_t>(cw >> 8)});
          a.B({0xd9, 0x6e, 0x38});  // fldcw [rsi+0x38]
        }
        a.B({0xdd, 0x06});        // fld qword [rsi]
        a.B({0xdb, 0x6e, 0x10});  // fld tword [rsi+0x10]
        Bytes c = a.take();
        c.insert(c.end(), op.code.begin(), op.code.end());
        const Bytes tail = {0xdb,
                            0x7e,
                            0x28,  // fstp tword [rsi+0x28]
                            0xdf,
                            0xe0,  // fnstsw ax
                            0x66,
                            0x25,
                            static_cast<uint8_t>(op.fsw_mask),
                            static_cast<uint8_t>(op.fsw_mask >> 8),
                            0xdb,
                            0xe3};  // fninit (leave the FPU clean)
        c.insert(c.end(), tail.begin(), tail.end());
        char name[64];
        snprintf(name, sizeof(name), "x87 %s cw %04x", op.name, cw);
        // AND defines the status flags after FNSTSW; FCOMI's flags are
        // overwritten by it, so they are saved with SETcc first.
        if (kind == 1) {
          const Bytes save = {0x0f, 0x94, 0xc3, 0x0f, 0x9a, 0xc7, 0x0f, 0x92, 0xc1};  // setz bl; setp bh; setb cl
          c.insert(c.end() - static_cast<long>(tail.size()) + 3, save.begin(), save.end());
        }
        out.push_back(Snippet{name, mode, std::move(c), dflags::kAf, true});  // AF: after AND.
      }
    }
  }
}

// Privileged and I/O instructions at CPL 3, and unprivileged system odds and
// ends. Not compared against KVM here: anything that depends on descriptor
// tables, MSRs or CR4. This host's ring 3 runs under the host's own GDT and
// MSRs (MOV r, DS reads 0x30, CS 0x33; SYSCALL reaches the host; LAR/LSL/
// VERR/VERW, far transfers and segment loads see the host's descriptors),
// whatever the oracle's guest tables say (README.md).
void AddSystem64(std::vector<Snippet>& out) {
  const DiffMode mode = DiffMode::kLong64;
  auto add = [&](std::string name, Bytes code, uint64_t undef = 0) {
    out.push_back(Snippet{std::move(name), mode, std::move(code), undef});
  };
  Asm base(mode);
  base.SetupSiDi();
  const Bytes setup = base.take();
  auto with = [&](Bytes tail) {
    Bytes c = setup;
    c.insert(c.end(), tail.begin(), tail.end());
    return c;
  };
  // A null selector needs no descriptor: LGS loads it, LSS raises #GP(0).
  add("lgs null", with({0xc7, 0x06, 0x44, 0x33, 0x22, 0x11, 0x66, 0xc7, 0x46, 0x04, 0x00, 0x00, 0x0f, 0xb5, 0x1e}));
  add("lss null", with({0xc7, 0x06, 0x44, 0x33, 0x22, 0x11, 0x66, 0xc7, 0x46, 0x04, 0x00, 0x00, 0x0f, 0xb2, 0x26}));
  // Privileged or I/O instructions at CPL 3 (#GP(0)), or #UD.
  add("sti at cpl 3", {0xfb});
  add("ins at cpl 3", with({0x66, 0xba, 0x60, 0x00, 0x6c}));
  add("outs at cpl 3", with({0x66, 0xba, 0x60, 0x00, 0x6f}));
  add("in dx at cpl 3", {0x66, 0xba, 0x60, 0x00, 0xed});
  add("out imm at cpl 3", {0xe7, 0x60});
  add("lldt at cpl 3", {0x0f, 0x00, 0xd0});
  add("ltr at cpl 3", {0x0f, 0x00, 0xd8});
  add("lidt at cpl 3", {0x0f, 0x01, 0x1e});
  add("lmsw at cpl 3", {0x0f, 0x01, 0xf0});
  add("invlpg at cpl 3", with({0x0f, 0x01, 0x3e}));
  add("clts at cpl 3", {0x0f, 0x06});
  add("invd at cpl 3", {0x0f, 0x08});
  add("wbinvd at cpl 3", {0x0f, 0x09});
  add("mov dr7 at cpl 3", {0x0f, 0x21, 0xf8});
  add("mov to cr3 at cpl 3", {0x0f, 0x22, 0xd8});
  add("mov to dr0 at cpl 3", {0x0f, 0x23, 0xc0});
  add("rdmsr at cpl 3", {0x0f, 0x32});
  add("swapgs at cpl 3", {0x0f, 0x01, 0xf8});
  add("sysexit at cpl 3", {0x0f, 0x35});
  add("clac at cpl 3", {0x0f, 0x01, 0xca});
  add("wait", {0x9b});
  add("seto", {0x0f, 0x90, 0xc0, 0x0f, 0x90, 0xc3});
  add("hint nops", {0x0f, 0x0d, 0x00, 0x0f, 0x19, 0xc0, 0x0f, 0x1a, 0xc0, 0x0f, 0x1b,
                    0xc0, 0x0f, 0x1c, 0xc0, 0x0f, 0x1d, 0xc0, 0x0f, 0x1e, 0xc0});
  // LDMXCSR/STMXCSR with valid values and with a reserved bit (#GP).
  add("ldmxcsr/stmxcsr",
      with({0xc7, 0x46, 0x40, 0x80, 0x3f, 0x00, 0x00, 0x0f, 0xae, 0x56, 0x40, 0x0f, 0xae, 0x5e, 0x44}));
  add("stmxcsr", with({0x0f, 0xae, 0x5e, 0x44}));
  for (uint8_t imm : {0x00, 0x01, 0x10, 0x11}) {
    Snippet sn{"pclmulqdq " + std::to_string(imm), mode, {0x66, 0x0f, 0x3a, 0x44, 0xc1, imm}};
    sn.sse = true;
    out.push_back(sn);
  }
  Snippet mask{"maskmovdqu", mode, with({0x66, 0x0f, 0xf7, 0xc1})};
  mask.sse = true;
  out.push_back(mask);
}

// Far transfers and segment pushes in real mode, where selector 0 is the
// only one in use and Unicorn agrees on the values.
void AddReal16Far(std::vector<Snippet>& out) {
  const DiffMode mode = DiffMode::kReal16;
  const uint64_t code = LayoutFor(mode).code_addr;
  auto add = [&](std::string name, Bytes c) { out.push_back(Snippet{std::move(name), mode, std::move(c), 0}); };
  auto lo = [&](uint64_t v) { return static_cast<uint8_t>(v); };
  auto hi = [&](uint64_t v) { return static_cast<uint8_t>(v >> 8); };
  // call far 0000:target; jmp +1; retf
  add("callf ptr / retf", {0x9a, lo(code + 7), hi(code + 7), 0, 0, 0xeb, 1, 0xcb});
  add("callf ptr / retf imm", {0x9a, lo(code + 7), hi(code + 7), 0, 0, 0xeb, 3, 0xca, 4, 0});
  add("jmpf ptr", {0xea, lo(code + 7), hi(code + 7), 0, 0, 0xf7, 0xd0});
  // push cs; push target; retf
  add("push cs / retf", {0x0e, 0x68, lo(code + 7), hi(code + 7), 0xcb, 0xf7, 0xd0});
  // pushf; push cs; push target; iret
  add("iret", {0x9c, 0x0e, 0x68, lo(code + 8), hi(code + 8), 0xcf, 0xf7, 0xd0});
  add("push/pop ss", {0x16, 0x17, 0x90});
  add("int 0x21", {0x90, 0xcd, 0x21, 0x90});
  add("push/pop fs gs", {0x0f, 0xa0, 0x0f, 0xa8, 0x0f, 0xa9, 0x0f, 0xa1});
  add("mov sreg", {0x8c, 0xd8, 0x8e, 0xc0, 0x8c, 0xe3, 0x8e, 0xe8});
  {
    Asm a(mode);
    a.SetupSiDi();
    // mov word [si], 0x1234; mov word [si+2], 0; les ax, [si]; lds bx, [si]
    a.B({0xc7, 0x04, 0x34, 0x12, 0xc7, 0x44, 0x02, 0, 0, 0xc4, 0x04, 0xc5, 0x1c});
    add("les/lds", a.take());
  }
}

}  // namespace

std::vector<Snippet> DirectedSnippets(DiffMode mode) {
  std::vector<Snippet> out;
  AddBranches(mode, out);
  AddStackAndMoves(mode, out);
  AddSseMoves(mode, out);
  if (mode == DiffMode::kLong64) {
    AddMmx(out);
    AddX87(out);
    AddSystem64(out);
  }
  if (mode == DiffMode::kReal16) AddReal16Far(out);
  if (mode == DiffMode::kProt32) {
    out.push_back(Snippet{"arpl", mode, {0x63, 0xd8}, 0});
    out.push_back(Snippet{"inc esp/dec esp", mode, {0x44, 0x4c}, 0});
  }
  return out;
}

DiffCase DirectedCase(CaseGenerator& gen, const Snippet& s) {
  DiffCase c = gen.Next();
  c.code = s.code;
  c.undefined_flags = s.undefined_flags;
  c.undefined_flags_at.clear();
  c.undefined_gprs = 0;
  c.note = s.name;
  // The first 64 bytes of the first data page: values worth computing on
  // (x87/SSE operands), drawn from the case's own random state.
  std::mt19937_64 rng(c.regs.gpr[0] ^ (c.regs.gpr[1] << 1) ^ c.pages[0].bytes[100]);
  static constexpr uint64_t kDoubles[] = {
      0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
      0x4008000000000000ull, 0x7fefffffffffffffull, 0x0000000000000001ull, 0x7ff0000000000000ull,
      0xfff0000000000000ull, 0x7ff8000000000000ull, 0x7ff0000000000001ull, 0x3fd5555555555555ull,
      0x43e0000000000000ull, 0xc1e0000000000000ull, 0x400921fb54442d18ull, 0x3ff8000000000000ull};
  uint8_t* d = c.pages[0].bytes.data();
  for (int slot = 0; slot < 8; ++slot) {
    uint64_t v = rng();
    if (rng() % 3 != 0) v = kDoubles[rng() % std::size(kDoubles)];
    if (rng() % 4 == 0) v = (rng() % 2000) - 1000;  // Small integers (FILD, FIADD).
    memcpy(d + 8 * slot, &v, 8);
  }
  // An 80-bit value at +0x10 built from a double: sign/exponent rebased,
  // explicit integer bit set (unnormals are rare on purpose).
  if (rng() % 4 != 0) {
    uint64_t dbl;
    memcpy(&dbl, d + 8 * (rng() % 8), 8);
    const uint64_t exp = (dbl >> 52) & 0x7ff;
    uint64_t mant = (dbl & 0xfffffffffffffull) << 11;
    uint16_t se = static_cast<uint16_t>((dbl >> 63) << 15);
    if (exp == 0x7ff) {
      se |= 0x7fff;
      mant |= 1ull << 63;
    } else if (exp != 0) {
      se |= static_cast<uint16_t>(exp - 1023 + 16383);
      mant |= 1ull << 63;
    }
    memcpy(d + 0x10, &mant, 8);
    memcpy(d + 0x18, &se, 2);
  }
  return c;
}

}  // namespace x86vm::difftest
