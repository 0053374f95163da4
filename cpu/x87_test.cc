// The x87 FPU in the interpreter. Differential tests run the same instruction
// bytes in the guest (32-bit flat protected mode) and natively on this x86-64
// host, whose x87 unit is the oracle: memory operands are [ebx + disp32],
// which encodes [rbx + disp32] in 64-bit mode, so one byte string serves
// both. Guest-only tests cover what the host cannot show safely: #NM, #MF,
// unmasked responses, the last-instruction pointers, real-mode images and
// restartable faults.
#include "cpu/x87.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "cpu/cpuid.h"
#include "cpu/decoder.h"
#include "cpu/fault.h"
#include "cpu/softfloat/float80.h"
#include "cpu/softfloat/float80_convert.h"
#include "cpu/softfloat/test_util.h"
#include "cpu/test_machine.h"

namespace x86vm {
namespace {

using softfloat::Float80;
using softfloat::testing::Hex;
using softfloat::testing::Operands;

// ---- Code emission --------------------------------------------------------------

struct Code {
  std::vector<uint8_t> b;
  Code& operator()(std::initializer_list<uint8_t> bytes) {
    b.insert(b.end(), bytes);
    return *this;
  }
  // `op` followed by ModRM (mod = 10, rm = EBX) and a 32-bit displacement.
  Code& M(std::initializer_list<uint8_t> op, int digit, uint32_t disp) {
    b.insert(b.end(), op);
    b.push_back(static_cast<uint8_t>(0x83 | (digit << 3)));
    for (int k = 0; k < 4; ++k) b.push_back(static_cast<uint8_t>(disp >> (8 * k)));
    return *this;
  }
  Code& Fninit() { return (*this)({0xDB, 0xE3}); }
  // FNINIT with all eight physical registers zeroed first, so that empty
  // registers hold the same bytes in the guest and on the host.
  Code& Clean() {
    Fninit();
    for (int k = 0; k < 8; ++k) (*this)({0xD9, 0xEE});
    return Fninit();
  }
  Code& Fldcw(uint32_t d) { return M({0xD9}, 5, d); }
  Code& FldT(uint32_t d) { return M({0xDB}, 5, d); }
  Code& FstpT(uint32_t d) { return M({0xDB}, 7, d); }
  Code& Fnstsw(uint32_t d) { return M({0xDD}, 7, d); }
  // pushf; pop eax; and eax, 0x8D5 (OF SF ZF AF PF CF); mov [d], ax.
  Code& StoreFlags(uint32_t d) {
    (*this)({0x9C, 0x58, 0x25, 0xD5, 0x08, 0x00, 0x00});
    return M({0x66, 0x89}, 0, d);
  }
};

// Data layout shared by guest and host (offsets from EBX).
constexpr uint32_t kA = 0x00;     // m80 operand a
constexpr uint32_t kB = 0x10;     // m80 operand b
constexpr uint32_t kCw = 0x20;    // control word
constexpr uint32_t kM32 = 0x30;   // m32fp / m32int
constexpr uint32_t kM64 = 0x38;   // m64fp / m64int
constexpr uint32_t kM16 = 0x40;   // m16int
constexpr uint32_t kBcd = 0x60;   // m80bcd
constexpr uint32_t kOut = 0x100;  // results: compared from here
constexpr uint32_t kOutEnd = 0x400;
constexpr uint32_t kScratch = 0x400;  // images (FSAVE, FXSAVE), compared selectively
constexpr uint32_t kDataBytes = 0x800;

using Data = std::vector<uint8_t>;

void PutF80(Data& d, uint32_t at, Float80 v) {
  std::memcpy(&d[at], &v.significand, 8);
  std::memcpy(&d[at + 8], &v.sign_exponent, 2);
}
template <typename T>
void Put(Data& d, uint32_t at, T v) {
  std::memcpy(&d[at], &v, sizeof(T));
}
template <typename T>
T Get(const Data& d, uint32_t at) {
  T v;
  std::memcpy(&v, &d[at], sizeof(T));
  return v;
}
Float80 GetF80(const Data& d, uint32_t at) {
  Float80 v;
  std::memcpy(&v.significand, &d[at], 8);
  std::memcpy(&v.sign_exponent, &d[at + 8], 2);
  return v;
}

std::string HexWord(uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04x", v);
  return buf;
}

std::string HexBytes(const Data& d, uint32_t from, uint32_t to) {
  std::string s;
  static const char* kDigits = "0123456789abcdef";
  for (uint32_t k = from; k < to; ++k) {
    s += kDigits[d[k] >> 4];
    s += kDigits[d[k] & 15];
    if ((k - from) % 16 == 15) s += ' ';
  }
  return s;
}

// ---- The host oracle ------------------------------------------------------------------

// Runs `code` natively with RBX = data (x86-64 System V: RDI is the argument).
// The code starts with FNINIT and leaves no unmasked exception pending.
Data RunOnHost(const Code& code, Data data) {
  static uint8_t* page = [] {
    void* p = mmap(nullptr, 1 << 16, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
  }();
  if (page == nullptr) return {};
  std::vector<uint8_t> bytes = {0x53, 0x48, 0x89, 0xFB};  // push rbx; mov rbx, rdi
  bytes.insert(bytes.end(), code.b.begin(), code.b.end());
  // fninit (the ABI wants the default control word back); pop rbx; ret
  bytes.insert(bytes.end(), {0xDB, 0xE3, 0x5B, 0xC3});
  std::memcpy(page, bytes.data(), bytes.size());
  __builtin___clear_cache(reinterpret_cast<char*>(page),
                          reinterpret_cast<char*>(page + bytes.size()));
  auto* fn = reinterpret_cast<void (*)(uint8_t*)>(page);
  alignas(64) static uint8_t buffer[kDataBytes];  // FXSAVE wants 16-byte alignment.
  std::memcpy(buffer, data.data(), kDataBytes);
  fn(buffer);
  std::memcpy(data.data(), buffer, kDataBytes);
  return data;
}

// ---- The guest ---------------------------------------------------------------------------

constexpr uint64_t kCodeAddr = 0x1000;
constexpr uint64_t kDataAddr = 0x20000;
constexpr uint64_t kGdtAddr = 0x500;
constexpr uint64_t kVectorAddr = 0x600;  // The exception stubs store their vector here.
constexpr uint64_t kIdtAddr = 0x800;
constexpr uint64_t kStubAddr = 0x3000;
constexpr uint64_t kStackTop = 0x9000;
constexpr uint8_t kNoException = 0xFF;

struct GuestRun {
  Data data;
  int vector = kNoException;  // Exception taken (the run then halted in its stub).
  CpuState state;
  uint32_t fault_eip = 0;   // Pushed EIP of the exception.
  uint32_t error_code = 0;  // For #GP.
};

// A 32-bit flat protected-mode machine whose IDT sends every exception to a
// stub that records the vector and halts.
class Guest {
 public:
  Guest() {
    // GDT: null, 0x08 flat code, 0x10 flat data.
    uint64_t gdt[3] = {0, 0x00CF9A000000FFFFull, 0x00CF92000000FFFFull};
    std::vector<uint8_t> g(sizeof(gdt));
    std::memcpy(g.data(), gdt, sizeof(gdt));
    m_.Load(kGdtAddr, g);
    for (uint32_t v = 0; v < 32; ++v) {
      uint32_t stub = static_cast<uint32_t>(kStubAddr + v * 16);
      uint32_t lo = (0x08u << 16) | (stub & 0xFFFF);
      uint32_t hi = (stub & 0xFFFF0000u) | 0x8E00;
      m_.Write64(kIdtAddr + v * 8, (uint64_t{hi} << 32) | lo);
      // mov byte [kVectorAddr], v; hlt
      m_.Load(stub,
              {0xC6, 0x05, static_cast<uint8_t>(kVectorAddr),
               static_cast<uint8_t>(kVectorAddr >> 8), 0x00, 0x00, static_cast<uint8_t>(v), 0xF4});
    }
  }

  // Runs `code` (then HLT) with EBX = data. `prepare` may adjust the state.
  template <typename F>
  GuestRun Run(const Code& code, const Data& data, F prepare) {
    std::vector<uint8_t> bytes = code.b;
    bytes.push_back(0xF4);
    m_.Load(kCodeAddr, bytes);
    m_.Load(kDataAddr, data);
    m_.Load(kVectorAddr, {kNoException});
    CpuState s;
    s.Reset();
    s.cr0 = cr0::kPe | cr0::kEt | cr0::kNe | cr0::kMp;
    s.cr4 = cr4::kOsfxsr | cr4::kOsxmmexcpt;
    Segment code_seg{0x08, 0, 0xFFFFFFFF,
                     0xB | seg_attr::kS | seg_attr::kP | seg_attr::kDb | seg_attr::kG};
    Segment data_seg{0x10, 0, 0xFFFFFFFF,
                     0x3 | seg_attr::kS | seg_attr::kP | seg_attr::kDb | seg_attr::kG};
    s.seg[kCs] = code_seg;
    for (int r : {kDs, kEs, kSs, kFs, kGs}) s.seg[r] = data_seg;
    s.gdtr = {kGdtAddr, 0x17};
    s.idtr = {kIdtAddr, 32 * 8 - 1};
    s.rip = kCodeAddr;
    s.gpr[kRsp] = kStackTop;
    s.gpr[kRbx] = kDataAddr;
    prepare(s);
    m_.SetState(s);
    GuestRun r;
    EXPECT_EQ(m_.RunToHalt(), StopReason::kHalt);
    r.state = m_.State();
    r.data.resize(data.size());
    std::memcpy(r.data.data(), m_.memory().HostRange(kDataAddr, data.size()), data.size());
    r.vector = *m_.memory().HostRange(kVectorAddr, 1);
    if (r.vector != kNoException) {
      uint64_t sp = r.state.gpr[kRsp];
      bool has_error = r.vector == kGp || r.vector == kPf || r.vector == kSsFault;
      uint64_t frame = m_.Read64(sp);
      if (has_error) {
        r.error_code = static_cast<uint32_t>(frame);
        r.fault_eip = static_cast<uint32_t>(frame >> 32);
      } else {
        r.fault_eip = static_cast<uint32_t>(frame);
      }
    }
    return r;
  }
  GuestRun Run(const Code& code, const Data& data) {
    return Run(code, data, [](CpuState&) {});
  }

  TestMachine& machine() { return m_; }

 private:
  TestMachine m_;
};

Data NewData() { return Data(kDataBytes, 0); }

// A random control word with every exception masked.
uint16_t RandomMaskedCw(Operands& ops) {
  return static_cast<uint16_t>(0x7F | (ops.Range(0, 3) << 8) | (ops.Range(0, 3) << 10));
}

// Occasionally an encoding the x87 rejects (unnormal, pseudo-infinity).
Float80 RandomF80(Operands& ops, int near_exp = -1) {
  if (ops.OneIn(40)) {
    return Float80::Make(ops.OneIn(2), static_cast<uint16_t>(ops.Range(1, 0x7FFF)),
                         ops.Bits() >> 1);
  }
  return ops.F80(near_exp);
}

// Compares the result region of guest and host; returns a failure message.
::testing::AssertionResult SameResults(const std::string& what, const Data& guest, const Data& host,
                                       uint32_t from = kOut, uint32_t to = kOutEnd) {
  if (host.empty()) return ::testing::AssertionFailure() << "no executable memory for the host";
  for (uint32_t k = from; k < to; ++k) {
    if (guest[k] != host[k]) {
      return ::testing::AssertionFailure()
             << what << ": first difference at +" << k - from << "\n  guest "
             << HexBytes(guest, from, std::min(to, from + 0x40)) << "\n  host  "
             << HexBytes(host, from, std::min(to, from + 0x40));
    }
  }
  return ::testing::AssertionSuccess();
}

// ---- Differential tests -------------------------------------------------------------------

struct Form {
  const char* name;
  std::initializer_list<uint8_t> op;  // Register form: full bytes; memory form: opcode.
  int digit;                          // -1: register form.
  uint32_t mem;                       // Memory operand offset.
};

// Arithmetic in every operand form with random operands, rounding and
// precision: ST(0), ST(1) and FSW after the instruction.
TEST(X87DiffTest, ArithmeticAllForms) {
  const Form forms[] = {
      {"fadd st0,st1", {0xD8, 0xC1}, -1, 0},  {"fmul st0,st1", {0xD8, 0xC9}, -1, 0},
      {"fsub st0,st1", {0xD8, 0xE1}, -1, 0},  {"fsubr st0,st1", {0xD8, 0xE9}, -1, 0},
      {"fdiv st0,st1", {0xD8, 0xF1}, -1, 0},  {"fdivr st0,st1", {0xD8, 0xF9}, -1, 0},
      {"fadd st1,st0", {0xDC, 0xC1}, -1, 0},  {"fmul st1,st0", {0xDC, 0xC9}, -1, 0},
      {"fsubr st1,st0", {0xDC, 0xE1}, -1, 0}, {"fsub st1,st0", {0xDC, 0xE9}, -1, 0},
      {"fdivr st1,st0", {0xDC, 0xF1}, -1, 0}, {"fdiv st1,st0", {0xDC, 0xF9}, -1, 0},
      {"faddp", {0xDE, 0xC1}, -1, 0},         {"fmulp", {0xDE, 0xC9}, -1, 0},
      {"fsubrp", {0xDE, 0xE1}, -1, 0},        {"fsubp", {0xDE, 0xE9}, -1, 0},
      {"fdivrp", {0xDE, 0xF1}, -1, 0},        {"fdivp", {0xDE, 0xF9}, -1, 0},
      {"fadd m32", {0xD8}, 0, kM32},          {"fsubr m32", {0xD8}, 5, kM32},
      {"fdiv m32", {0xD8}, 6, kM32},          {"fmul m64", {0xDC}, 1, kM64},
      {"fsub m64", {0xDC}, 4, kM64},          {"fdivr m64", {0xDC}, 7, kM64},
      {"fiadd m16", {0xDE}, 0, kM16},         {"fisubr m16", {0xDE}, 5, kM16},
      {"fimul m32int", {0xDA}, 1, kM32},      {"fidiv m32int", {0xDA}, 6, kM32},
      {"fisub m32int", {0xDA}, 4, kM32},      {"fidivr m16", {0xDE}, 7, kM16},
  };
  Guest guest;
  Operands ops(87);
  for (const Form& f : forms) {
    for (int n = 0; n < 400; ++n) {
      Data d = NewData();
      Float80 a = RandomF80(ops), b = RandomF80(ops, a.biased_exponent());
      PutF80(d, kA, a);
      PutF80(d, kB, b);
      Put<uint16_t>(d, kCw, RandomMaskedCw(ops));
      bool ints = f.mem == kM16 || (f.op.size() == 1 && *f.op.begin() == 0xDA);
      if (ints) {
        Put<uint32_t>(d, kM32,
                      static_cast<uint32_t>(ops.OneIn(2) ? ops.Range(-300, 300) : ops.Bits()));
        Put<uint16_t>(d, kM16, static_cast<uint16_t>(ops.Bits()));
      } else {
        Put<uint32_t>(d, kM32, ops.F32());
        Put<uint64_t>(d, kM64, ops.F64());
      }
      Code c;
      c.Clean().Fldcw(kCw).FldT(kB).FldT(kA);
      if (f.digit < 0) {
        c(f.op);
      } else {
        c.M(f.op, f.digit, f.mem);
      }
      c.Fnstsw(kOut).FstpT(kOut + 2).FstpT(kOut + 12).Fnstsw(kOut + 22);
      GuestRun g = guest.Run(c, d);
      ASSERT_EQ(g.vector, kNoException) << f.name;
      ASSERT_TRUE(SameResults(std::string(f.name) + " a=" + Hex(a) + " b=" + Hex(b) +
                                  " cw=" + HexWord(Get<uint16_t>(d, kCw)),
                              g.data, RunOnHost(c, d)));
    }
  }
}

// Comparisons: FSW condition codes, EFLAGS for FCOMI, pops, IE on NaNs.
TEST(X87DiffTest, Comparisons) {
  const Form forms[] = {
      {"fcom st1", {0xD8, 0xD1}, -1, 0},    {"fcomp st1", {0xD8, 0xD9}, -1, 0},
      {"fcompp", {0xDE, 0xD9}, -1, 0},      {"fucom st1", {0xDD, 0xE1}, -1, 0},
      {"fucomp st1", {0xDD, 0xE9}, -1, 0},  {"fucompp", {0xDA, 0xE9}, -1, 0},
      {"fcomi", {0xDB, 0xF1}, -1, 0},       {"fcomip", {0xDF, 0xF1}, -1, 0},
      {"fucomi", {0xDB, 0xE9}, -1, 0},      {"fucomip", {0xDF, 0xE9}, -1, 0},
      {"ftst", {0xD9, 0xE4}, -1, 0},        {"fxam", {0xD9, 0xE5}, -1, 0},
      {"fcom m32", {0xD8}, 2, kM32},        {"fcomp m64", {0xDC}, 3, kM64},
      {"ficom m16", {0xDE}, 2, kM16},       {"ficomp m32", {0xDA}, 3, kM32},
      {"fcom2 alias", {0xDC, 0xD1}, -1, 0}, {"fcomp5 alias", {0xDE, 0xD1}, -1, 0},
  };
  Guest guest;
  Operands ops(31);
  for (const Form& f : forms) {
    for (int n = 0; n < 300; ++n) {
      Data d = NewData();
      Float80 a = RandomF80(ops), b = ops.OneIn(4) ? a : RandomF80(ops, a.biased_exponent());
      PutF80(d, kA, a);
      PutF80(d, kB, b);
      bool ints = f.mem == kM16 || (f.op.size() == 1 && *f.op.begin() == 0xDA);
      if (ints) {
        Put<uint32_t>(d, kM32, static_cast<uint32_t>(ops.Range(-5, 5)));
        Put<uint16_t>(d, kM16, static_cast<uint16_t>(ops.Range(-5, 5)));
      } else {
        Put<uint32_t>(d, kM32, ops.F32());
        Put<uint64_t>(d, kM64, ops.F64());
      }
      Code c;
      c.Clean().FldT(kB).FldT(kA)({0x9E});  // sahf: known arithmetic flags
      if (f.digit < 0) {
        c(f.op);
      } else {
        c.M(f.op, f.digit, f.mem);
      }
      c.StoreFlags(kOut).Fnstsw(kOut + 2).FstpT(kOut + 4).FstpT(kOut + 14).Fnstsw(kOut + 24);
      GuestRun g = guest.Run(c, d, [](CpuState& s) { s.gpr[kRax] = 0; });
      ASSERT_EQ(g.vector, kNoException) << f.name;
      // The host runs with its own RAX: SAHF loads AH, so clear it first there too.
      Code hc;
      hc({0x31, 0xC0});  // xor eax, eax
      hc.b.insert(hc.b.end(), c.b.begin(), c.b.end());
      ASSERT_TRUE(SameResults(std::string(f.name) + " a=" + Hex(a) + " b=" + Hex(b), g.data,
                              RunOnHost(hc, d)));
    }
  }
}

// Loads and stores of every memory format, including integer and BCD.
TEST(X87DiffTest, LoadsAndStores) {
  Guest guest;
  Operands ops(5);
  struct Case {
    const char* name;
    std::initializer_list<uint8_t> op;
    int digit;
    uint32_t mem;
    bool load;  // Else a store of ST(0) = a.
  };
  const Case cases[] = {
      {"fld m32", {0xD9}, 0, kM32, true},          {"fld m64", {0xDD}, 0, kM64, true},
      {"fild m16", {0xDF}, 0, kM16, true},         {"fild m32", {0xDB}, 0, kM32, true},
      {"fild m64", {0xDF}, 5, kM64, true},         {"fbld", {0xDF}, 4, kBcd, true},
      {"fst m32", {0xD9}, 2, kOut + 30, false},    {"fstp m64", {0xDD}, 3, kOut + 30, false},
      {"fist m16", {0xDF}, 2, kOut + 30, false},   {"fistp m32", {0xDB}, 3, kOut + 30, false},
      {"fistp m64", {0xDF}, 7, kOut + 30, false},  {"fisttp m16", {0xDF}, 1, kOut + 30, false},
      {"fisttp m32", {0xDB}, 1, kOut + 30, false}, {"fisttp m64", {0xDD}, 1, kOut + 30, false},
      {"fbstp", {0xDF}, 6, kOut + 30, false},      {"fstp m80", {0xDB}, 7, kOut + 30, false},
  };
  for (const Case& k : cases) {
    for (int n = 0; n < 400; ++n) {
      Data d = NewData();
      // Integers and BCD want values of moderate magnitude to be interesting.
      int near = ops.OneIn(2) ? static_cast<int>(0x3FFF + ops.Range(-2, 66)) : -1;
      Float80 a = RandomF80(ops, near);
      PutF80(d, kA, a);
      Put<uint16_t>(d, kCw, RandomMaskedCw(ops));
      Put<uint32_t>(d, kM32, ops.OneIn(2) ? ops.F32() : static_cast<uint32_t>(ops.Bits()));
      Put<uint64_t>(d, kM64, ops.OneIn(2) ? ops.F64() : ops.Bits() >> ops.Range(0, 63));
      Put<uint16_t>(d, kM16, static_cast<uint16_t>(ops.Bits()));
      for (int digit = 0; digit < 9; ++digit) {
        d[kBcd + digit] = static_cast<uint8_t>(ops.Range(0, 9) | (ops.Range(0, 9) << 4));
      }
      d[kBcd + 9] = ops.OneIn(2) ? 0x80 : 0;
      Code c;
      c.Clean().Fldcw(kCw);
      if (k.load) {
        c.M(k.op, k.digit, k.mem).Fnstsw(kOut).FstpT(kOut + 2);
      } else {
        c.FldT(kA).M(k.op, k.digit, k.mem).Fnstsw(kOut).FstpT(kOut + 2);
      }
      c.Fnstsw(kOut + 12);
      GuestRun g = guest.Run(c, d);
      ASSERT_EQ(g.vector, kNoException) << k.name;
      ASSERT_TRUE(SameResults(
          std::string(k.name) + " a=" + Hex(a) + " cw=" + HexWord(Get<uint16_t>(d, kCw)), g.data,
          RunOnHost(c, d)));
    }
  }
}

// One- and two-operand instructions on ST(0)/ST(1) that are exact by
// definition: FSQRT, FRNDINT, FCHS, FABS, FXTRACT, FSCALE, FPREM, FPREM1.
TEST(X87DiffTest, ExactOperations) {
  const Form forms[] = {
      {"fsqrt", {0xD9, 0xFA}, -1, 0},   {"frndint", {0xD9, 0xFC}, -1, 0},
      {"fchs", {0xD9, 0xE0}, -1, 0},    {"fabs", {0xD9, 0xE1}, -1, 0},
      {"fxtract", {0xD9, 0xF4}, -1, 0}, {"fscale", {0xD9, 0xFD}, -1, 0},
      {"fprem", {0xD9, 0xF8}, -1, 0},   {"fprem1", {0xD9, 0xF5}, -1, 0},
  };
  Guest guest;
  Operands ops(1234);
  for (const Form& f : forms) {
    for (int n = 0; n < 500; ++n) {
      Data d = NewData();
      Float80 a = RandomF80(ops);
      Float80 b = std::string(f.name) == "fscale"
                      ? softfloat::F80FromInt(ops.Range(-70000, 70000) >> ops.Range(0, 16))
                      : RandomF80(ops, a.biased_exponent());
      PutF80(d, kA, a);
      PutF80(d, kB, b);
      Put<uint16_t>(d, kCw, RandomMaskedCw(ops));
      Code c;
      c.Clean().Fldcw(kCw).FldT(kB).FldT(kA)(f.op);
      c.Fnstsw(kOut).FstpT(kOut + 2).FstpT(kOut + 12).FstpT(kOut + 22).Fnstsw(kOut + 32);
      GuestRun g = guest.Run(c, d);
      ASSERT_EQ(g.vector, kNoException) << f.name;
      ASSERT_TRUE(SameResults(std::string(f.name) + " a=" + Hex(a) + " b=" + Hex(b) +
                                  " cw=" + HexWord(Get<uint16_t>(d, kCw)),
                              g.data, RunOnHost(c, d)));
    }
  }
}

// Stack handling: overflow and underflow (masked), FXCH, FFREE(P), FINCSTP,
// FDECSTP, FLD/FST ST(i), FCMOVcc, constants in each rounding mode, and the
// tag word as FNSTENV and FNSAVE store it (pointer fields excluded: they hold
// addresses that differ between guest and host, but FOP is compared).
TEST(X87DiffTest, StackTagsAndImages) {
  Guest guest;
  Operands ops(77);
  // Instructions a random program is made of (each at most 2 bytes).
  const std::vector<std::vector<uint8_t>> pool = {
      {0xD9, 0xE8}, {0xD9, 0xEE}, {0xD9, 0xEB}, {0xD9, 0xE9}, {0xD9, 0xEA}, {0xD9, 0xEC},
      {0xD9, 0xED}, {0xD9, 0xC0}, {0xD9, 0xC2}, {0xD9, 0xC9}, {0xD9, 0xCB}, {0xDD, 0xC1},
      {0xDD, 0xC3}, {0xDF, 0xC1}, {0xD9, 0xF7}, {0xD9, 0xF6}, {0xDD, 0xD2}, {0xDD, 0xD9},
      {0xD9, 0xD9}, {0xDF, 0xD1}, {0xDD, 0xC9}, {0xDA, 0xC1}, {0xDA, 0xC9}, {0xDA, 0xD1},
      {0xDA, 0xD9}, {0xDB, 0xC1}, {0xDB, 0xC9}, {0xDB, 0xD1}, {0xDB, 0xD9}, {0xD9, 0xE0},
      {0xD9, 0xD0}, {0xDE, 0xC1}, {0xD8, 0xC2}, {0xD9, 0xE5}, {0xDB, 0xE2}, {0xDB, 0xF1},
      {0xDF, 0xE9}, {0xD9, 0xE4}, {0xD9, 0xF8}, {0xD9, 0xFD}, {0xD9, 0xFA}, {0xDE, 0xD9},
      {0xD9, 0xF4}, {0xD9, 0xFC}, {0xDC, 0xC9}, {0xDE, 0xF9}, {0xD9, 0xE1}, {0xDF, 0xC0},
      {0xDD, 0xE2}, {0xDA, 0xE9}, {0xDC, 0xD2}, {0xDE, 0xD2},
  };
  for (int n = 0; n < 3000; ++n) {
    Data d = NewData();
    PutF80(d, kA, RandomF80(ops));
    Put<uint16_t>(d, kCw, RandomMaskedCw(ops));
    Code c;
    c.Clean().Fldcw(kCw)({0xB4, static_cast<uint8_t>(ops.Bits()), 0x9E});  // mov ah, r; sahf
    int count = static_cast<int>(ops.Range(1, 14));
    std::string program;
    for (int k = 0; k < count; ++k) {
      if (ops.OneIn(6)) {
        c.FldT(kA);
        program += "fld-m80 ";
        continue;
      }
      const auto& insn = pool[ops.Range(0, static_cast<int64_t>(pool.size()) - 1)];
      c.b.insert(c.b.end(), insn.begin(), insn.end());
      program += HexBytes(insn, 0, static_cast<uint32_t>(insn.size())) + " ";
    }
    c.Fnstsw(kOut);
    c.M({0xD9}, 6, kScratch);         // fnstenv
    c.M({0xDD}, 6, kScratch + 0x40);  // fnsave
    c.Fnstsw(kOut + 2);
    GuestRun g = guest.Run(c, d);
    ASSERT_EQ(g.vector, kNoException) << program;
    Data h = RunOnHost(c, d);
    ASSERT_TRUE(SameResults("fsw " + program, g.data, h, kOut, kOut + 4));
    // FNSTENV: FCW, FSW, FTW (12 bytes) and FOP (bytes 18-19).
    ASSERT_TRUE(SameResults("fnstenv " + program, g.data, h, kScratch, kScratch + 12));
    ASSERT_TRUE(SameResults("fnstenv fop " + program, g.data, h, kScratch + 18, kScratch + 20));
    // FNSAVE: the environment as above and the eight registers.
    ASSERT_TRUE(SameResults("fnsave " + program, g.data, h, kScratch + 0x40, kScratch + 0x4C));
    ASSERT_TRUE(SameResults("fnsave regs " + program, g.data, h, kScratch + 0x40 + 28,
                            kScratch + 0x40 + 108));
  }
}

// Unmasked exceptions, on the host too: after the instruction only
// no-wait instructions run (FNSTSW, FNSAVE, then FNINIT), so the pending
// exception is never delivered there. Shows what is written or left alone,
// pops, ES/B, wrapped exponents and FOP (recorded only for unmasked
// exceptions).
TEST(X87DiffTest, UnmaskedResponses) {
  const Form forms[] = {
      {"fadd st0,st1", {0xD8, 0xC1}, -1, 0}, {"fmulp", {0xDE, 0xC9}, -1, 0},
      {"fdiv st1,st0", {0xDC, 0xF9}, -1, 0}, {"fdivrp", {0xDE, 0xF1}, -1, 0},
      {"fsub m32", {0xD8}, 4, kM32},         {"fdiv m64", {0xDC}, 6, kM64},
      {"fidivr m16", {0xDE}, 7, kM16},       {"fcom st1", {0xD8, 0xD1}, -1, 0},
      {"fucomip", {0xDF, 0xE9}, -1, 0},      {"fcomp m32", {0xD8}, 3, kM32},
      {"fsqrt", {0xD9, 0xFA}, -1, 0},        {"frndint", {0xD9, 0xFC}, -1, 0},
      {"fscale", {0xD9, 0xFD}, -1, 0},       {"fxtract", {0xD9, 0xF4}, -1, 0},
      {"fprem1", {0xD9, 0xF5}, -1, 0},       {"fld m32", {0xD9}, 0, kM32},
      {"fld m64", {0xDD}, 0, kM64},          {"fst m32", {0xD9}, 2, kOut + 0x30},
      {"fstp m64", {0xDD}, 3, kOut + 0x30},  {"fistp m16", {0xDF}, 3, kOut + 0x30},
      {"fist m32", {0xDB}, 2, kOut + 0x30},  {"fisttp m64", {0xDD}, 1, kOut + 0x30},
      {"fbstp", {0xDF}, 6, kOut + 0x30},     {"fld st3", {0xD9, 0xC3}, -1, 0},
      {"fxch st2", {0xD9, 0xCA}, -1, 0},     {"fld1", {0xD9, 0xE8}, -1, 0},
      {"ftst", {0xD9, 0xE4}, -1, 0},         {"fchs", {0xD9, 0xE0}, -1, 0},
      {"fcomi st3", {0xDB, 0xF3}, -1, 0},    {"fcompp", {0xDE, 0xD9}, -1, 0},
      {"ficomp m16", {0xDE}, 3, kM16},       {"fucomp st5", {0xDD, 0xED}, -1, 0},
  };
  Guest guest;
  Operands ops(404);
  for (const Form& f : forms) {
    for (int n = 0; n < 300; ++n) {
      Data d = NewData();
      int near = ops.OneIn(3) ? static_cast<int>(0x3FFF + ops.Range(-2, 66)) : -1;
      Float80 a = RandomF80(ops, near), b = RandomF80(ops, a.biased_exponent());
      PutF80(d, kA, a);
      PutF80(d, kB, b);
      // Random masks, rounding and precision.
      Put<uint16_t>(d, kCw,
                    static_cast<uint16_t>(0x40 | (ops.Bits() & 0x3F) | (ops.Range(0, 3) << 8) |
                                          (ops.Range(0, 3) << 10)));
      Put<uint32_t>(d, kM32, ops.F32());
      Put<uint64_t>(d, kM64, ops.F64());
      Put<uint16_t>(d, kM16, static_cast<uint16_t>(ops.Range(-3, 3)));
      Code c;
      c.Clean();
      int depth = static_cast<int>(ops.Range(0, 8));  // 0..8 registers in use
      std::string loads;
      for (int k = 0; k < depth; ++k) {
        bool use_a = ops.OneIn(2);
        c.FldT(use_a ? kA : kB);
        loads += use_a ? 'a' : 'b';
      }
      c.Fldcw(kCw)({0x31, 0xC0});  // xor eax, eax: known EFLAGS
      if (f.digit < 0) {
        c(f.op);
      } else {
        c.M(f.op, f.digit, f.mem);
      }
      c.Fnstsw(kOut).M({0xDD}, 6, kScratch).StoreFlags(kOut + 2);  // fnstsw; fnsave
      GuestRun g = guest.Run(c, d);
      ASSERT_EQ(g.vector, kNoException) << f.name;
      Data h = RunOnHost(c, d);
      std::string what = std::string(f.name) + " a=" + Hex(a) + " b=" + Hex(b) + " loads=" + loads +
                         " cw=" + HexWord(Get<uint16_t>(d, kCw));
      ASSERT_TRUE(SameResults(what, g.data, h, kOut, kOut + 0x40));
      ASSERT_TRUE(SameResults("fnsave env " + what, g.data, h, kScratch, kScratch + 12));
      ASSERT_TRUE(SameResults("fnsave fop " + what, g.data, h, kScratch + 18, kScratch + 20));
      ASSERT_TRUE(SameResults("fnsave regs " + what, g.data, h, kScratch + 28, kScratch + 108));
    }
  }
}

// Corner cases where Intel hardware does something the SDM does not spell
// out, each pinned against the host: ST(0), ST(1), FSW and FOP afterwards.
TEST(X87DiffTest, MeasuredCornerCases) {
  struct Case {
    const char* name;
    uint16_t cw;
    Float80 st0, st1;
    std::initializer_list<uint8_t> op;  // Register form, or D9 /0 [kM32] for loads.
    uint32_t m32 = 0;
  };
  const Float80 den = Float80::Make(false, 0, 0x144b8ad1a190ull);
  const Float80 one = softfloat::kFloat80One;
  const Float80 inf = softfloat::kFloat80Infinity;
  const Float80 huge_n = Float80::Make(false, 0x400E, 0xA028000000000000ull);  // 41000
  const Float80 tiny_n = Float80::Make(true, 0x400F, 0x88B8000000000000ull);   // -70000
  const Case cases[] = {
      {"fscale den * 2^0, UE unmasked", 0x0266, den, softfloat::kFloat80Zero, {0xD9, 0xFD}},
      {"fscale den * 2^1, UE unmasked", 0x0266, den, one, {0xD9, 0xFD}},
      {"fscale beyond the overflow wrap, RC down", 0x0772, one, huge_n, {0xD9, 0xFD}},
      {"fscale beyond the underflow wrap, RC up", 0x0B6F, one, tiny_n, {0xD9, 0xFD}},
      {"fprem den rem inf, UE unmasked", 0x0266, den, inf, {0xD9, 0xF8}},
      {"fprem1 den rem 1, UE unmasked", 0x0266, den, one, {0xD9, 0xF5}},
      {"fst m32 of a tiny value, UE unmasked", 0x036F, Float80::Make(false, 0x05B7, 1ull << 63),
       one, {0xD9, 0x93, 0x30, 0x00, 0x00, 0x00}},
      {"fld m32 denormal, DE unmasked", 0x037D, one, one, {0xD9, 0x83, 0x30, 0x00, 0x00, 0x00},
       0x00000001},
      {"fld m32 SNaN, IE unmasked", 0x037E, one, one, {0xD9, 0x83, 0x30, 0x00, 0x00, 0x00},
       0x7F800001},
      {"fcom QNaN, IE unmasked: unordered, no pop", 0x037E, one, softfloat::kFloat80Indefinite,
       {0xD8, 0xD9}},
      {"fld st(1) empty onto a full stack", 0x037F, one, one, {0xD9, 0xF7, 0xD9, 0xC1}},
      {"fstp1 with ST(0) empty", 0x037F, one, one, {0xDD, 0xC0, 0xD9, 0xDA}},
  };
  Guest guest;
  for (const Case& k : cases) {
    Data d = NewData();
    PutF80(d, kA, k.st0);
    PutF80(d, kB, k.st1);
    Put<uint16_t>(d, kCw, k.cw);
    Put<uint32_t>(d, kM32, k.m32);
    Code c;
    c.Clean().FldT(kB).FldT(kA).Fldcw(kCw)(k.op);
    c.Fnstsw(kOut).M({0xDD}, 6, kScratch);  // fnstsw; fnsave
    GuestRun g = guest.Run(c, d);
    ASSERT_EQ(g.vector, kNoException) << k.name;
    Data h = RunOnHost(c, d);
    EXPECT_TRUE(SameResults(k.name, g.data, h, kOut, kOut + 0x40));
    EXPECT_TRUE(SameResults(std::string(k.name) + " (env)", g.data, h, kScratch, kScratch + 12));
    EXPECT_TRUE(SameResults(std::string(k.name) + " (fop)", g.data, h, kScratch + 18,
                            kScratch + 20));
    EXPECT_TRUE(SameResults(std::string(k.name) + " (registers)", g.data, h, kScratch + 28,
                            kScratch + 108));
  }
}

// FXSAVE: control/status/abridged tags/FOP, MXCSR and its mask, and the
// register slots in stack order; FXRSTOR of that image.
TEST(X87DiffTest, FxsaveImage) {
  Guest guest;
  Operands ops(9);
  for (int n = 0; n < 200; ++n) {
    Data d = NewData();
    PutF80(d, kA, RandomF80(ops));
    Put<uint16_t>(d, kCw, RandomMaskedCw(ops));
    Code c;
    c.Clean().Fldcw(kCw);
    int pushes = static_cast<int>(ops.Range(0, 8));
    for (int k = 0; k < pushes; ++k) c.FldT(kA)({0xD9, 0xE0});  // fld; fchs
    if (ops.OneIn(2)) c({0xDD, 0xC2});                          // ffree st2
    c.M({0x0F, 0xAE}, 0, kScratch);                             // fxsave
    c.Fninit().M({0x0F, 0xAE}, 1, kScratch);                    // fxrstor
    c.Fnstsw(kOut).M({0xD9}, 7, kOut + 2).FstpT(kOut + 4).FstpT(kOut + 14);
    c.M({0xD9}, 6, kOut + 0x40);  // fnstenv: tags after the restore
    GuestRun g = guest.Run(c, d);
    ASSERT_EQ(g.vector, kNoException);
    Data h = RunOnHost(c, d);
    ASSERT_TRUE(SameResults("fxsave header", g.data, h, kScratch, kScratch + 8));
    ASSERT_TRUE(SameResults("fxsave mxcsr", g.data, h, kScratch + 24, kScratch + 32));
    for (int r = 0; r < 8; ++r) {
      ASSERT_TRUE(SameResults("fxsave st" + std::to_string(r), g.data, h, kScratch + 32 + 16 * r,
                              kScratch + 42 + 16 * r));
    }
    ASSERT_TRUE(SameResults("after fxrstor", g.data, h, kOut, kOut + 24));
    ASSERT_TRUE(SameResults("tags after fxrstor", g.data, h, kOut + 0x40, kOut + 0x4C));
  }
}

// Transcendentals are not bit-exact on hardware (SDM Vol. 1 8.3.10): the
// results must agree within a few ulps and the status word apart from C1.
TEST(X87DiffTest, TranscendentalsWithinUlps) {
  const Form forms[] = {
      {"f2xm1", {0xD9, 0xF0}, -1, 0},   {"fyl2x", {0xD9, 0xF1}, -1, 0},
      {"fyl2xp1", {0xD9, 0xF9}, -1, 0}, {"fpatan", {0xD9, 0xF3}, -1, 0},
      {"fsin", {0xD9, 0xFE}, -1, 0},    {"fcos", {0xD9, 0xFF}, -1, 0},
      {"fptan", {0xD9, 0xF2}, -1, 0},   {"fsincos", {0xD9, 0xFB}, -1, 0},
  };
  Guest guest;
  Operands ops(2718);
  for (const Form& f : forms) {
    for (int n = 0; n < 100; ++n) {
      Data d = NewData();
      // |x| in [2^-20, 0.25]: inside every domain, away from argument-reduction trouble.
      Float80 a =
          Float80::Make(ops.OneIn(2) && std::string(f.name) != "fyl2x",
                        static_cast<uint16_t>(0x3FFF - ops.Range(2, 20)), ops.Significand());
      Float80 b = Float80::Make(ops.OneIn(2), static_cast<uint16_t>(0x3FFF + ops.Range(-3, 3)),
                                ops.Significand());
      PutF80(d, kA, a);
      PutF80(d, kB, b);
      Code c;
      c.Clean().FldT(kB).FldT(kA)(f.op);
      c.Fnstsw(kOut).FstpT(kOut + 2).FstpT(kOut + 12);
      GuestRun g = guest.Run(c, d);
      ASSERT_EQ(g.vector, kNoException) << f.name;
      Data h = RunOnHost(c, d);
      ASSERT_FALSE(h.empty());
      std::string what = std::string(f.name) + " a=" + Hex(a) + " b=" + Hex(b);
      EXPECT_EQ(Get<uint16_t>(g.data, kOut) & ~x87::sw::kC1, Get<uint16_t>(h, kOut) & ~x87::sw::kC1)
          << what;
      for (uint32_t at : {kOut + 2, kOut + 12}) {
        Float80 gv = GetF80(g.data, at), hv = GetF80(h, at);
        EXPECT_EQ(gv.sign_exponent, hv.sign_exponent) << what;
        uint64_t diff = gv.significand > hv.significand ? gv.significand - hv.significand
                                                        : hv.significand - gv.significand;
        EXPECT_LE(diff, 4u) << what << " guest " << Hex(gv) << " host " << Hex(hv);
      }
    }
  }
}

// ---- Guest-only behaviour ---------------------------------------------------------------------

// CR0.EM/TS/MP and #NM (SDM Vol. 3 Table 2-2).
TEST(X87Test, DeviceNotAvailable) {
  Guest guest;
  Code fld1;
  fld1({0xD9, 0xE8});
  GuestRun r = guest.Run(fld1, NewData(), [](CpuState& s) { s.cr0 |= cr0::kTs; });
  EXPECT_EQ(r.vector, kNm);
  EXPECT_EQ(r.fault_eip, kCodeAddr);
  r = guest.Run(fld1, NewData(), [](CpuState& s) { s.cr0 |= cr0::kEm; });
  EXPECT_EQ(r.vector, kNm);
  Code fninit;
  fninit.Fninit();
  r = guest.Run(fninit, NewData(), [](CpuState& s) { s.cr0 |= cr0::kTs; });
  EXPECT_EQ(r.vector, kNm) << "FNINIT is an x87 instruction too";
  // WAIT: #NM only for MP and TS together; EM does not matter.
  Code wait;
  wait({0x9B});
  r = guest.Run(wait, NewData(), [](CpuState& s) { s.cr0 |= cr0::kTs; });
  EXPECT_EQ(r.vector, kNm);
  r = guest.Run(wait, NewData(), [](CpuState& s) { s.cr0 = (s.cr0 | cr0::kTs) & ~cr0::kMp; });
  EXPECT_EQ(r.vector, kNoException);
  r = guest.Run(wait, NewData(), [](CpuState& s) { s.cr0 |= cr0::kEm; });
  EXPECT_EQ(r.vector, kNoException);
  // FXSAVE: #NM for TS or EM (no #UD for EM, unlike SSE arithmetic).
  Code fxsave;
  fxsave.M({0x0F, 0xAE}, 0, kScratch);
  r = guest.Run(fxsave, NewData(), [](CpuState& s) { s.cr0 |= cr0::kEm; });
  EXPECT_EQ(r.vector, kNm);
  // A reserved escape encoding is #NM before #UD.
  Code reserved;
  reserved({0xD9, 0xD1});
  r = guest.Run(reserved, NewData(), [](CpuState& s) { s.cr0 |= cr0::kTs; });
  EXPECT_EQ(r.vector, kNm);
  r = guest.Run(reserved, NewData());
  EXPECT_EQ(r.vector, kUd);
}

// An unmasked exception leaves the destination alone, sets ES and B, and is
// reported at the next waiting x87 instruction as #MF with CR0.NE = 1
// (SDM Vol. 1 8.6, 8.7).
TEST(X87Test, UnmaskedExceptionIsDeferredToNextWaitingInstruction) {
  Guest guest;
  Data d = NewData();
  Put<uint16_t>(d, kCw, 0x037B);  // ZE unmasked
  Code c;
  c.Fninit().Fldcw(kCw)({0xD9, 0xE8, 0xD9, 0xEE});  // fld1; fldz
  uint32_t fdiv_at = static_cast<uint32_t>(kCodeAddr + c.b.size());
  c({0xDE, 0xF9});  // fdivp st1, st0: 1/0
  c.Fnstsw(kOut);   // no-wait: no #MF
  c({0xDF, 0xE0});  // fnstsw ax: no #MF
  uint32_t wait_at = static_cast<uint32_t>(kCodeAddr + c.b.size());
  c({0xD9, 0xE8});  // fld1: #MF
  GuestRun r = guest.Run(c, d);
  EXPECT_EQ(r.vector, kMf);
  EXPECT_EQ(r.fault_eip, wait_at);
  uint16_t fsw = Get<uint16_t>(r.data, kOut);
  EXPECT_EQ(fsw & 0xFF, x87::sw::kZe | x87::sw::kEs);
  EXPECT_TRUE(fsw & x87::sw::kB);
  EXPECT_EQ((fsw >> 11) & 7, 6) << "no pop: TOP still 6";
  EXPECT_EQ(r.state.gpr[kRax] & 0xFFFF, fsw);
  // ST(1) = 1.0 and ST(0) = 0.0 are untouched; FIP/FOP name the FDIVP.
  x87::Stack st(r.state.x87);
  EXPECT_EQ(st.St(0), softfloat::kFloat80Zero);
  EXPECT_EQ(st.St(1), softfloat::kFloat80One);
  EXPECT_EQ(r.state.x87.fip, fdiv_at);
  EXPECT_EQ(r.state.x87.fcs, 0x08);
  EXPECT_EQ(r.state.x87.fop, 0x6F9);

  // FNCLEX clears it; FWAIT then passes.
  Code clex = c;
  clex.b.resize(wait_at - kCodeAddr);
  clex({0xDB, 0xE2, 0x9B, 0xD9, 0xE8});
  r = guest.Run(clex, d);
  EXPECT_EQ(r.vector, kNoException);
  EXPECT_EQ(r.state.x87.fsw & 0xFF, 0);

  // CR0.NE = 0: no #MF (the PC's FERR#/IRQ 13 path is not modelled).
  r = guest.Run(c, d, [](CpuState& s) { s.cr0 &= ~cr0::kNe; });
  EXPECT_EQ(r.vector, kNoException);
}

// FLDCW that unmasks an already-set flag makes it pending (#MF at FWAIT).
TEST(X87Test, FldcwUnmaskingAPendingFlag) {
  Guest guest;
  Data d = NewData();
  Put<uint16_t>(d, kCw, 0x037B);
  Code c;
  c.Fninit()({0xD9, 0xE8, 0xD9, 0xEE, 0xDE, 0xF9});  // masked 1/0: ZE set, no ES
  c.Fnstsw(kOut).Fldcw(kCw).Fnstsw(kOut + 2)({0x9B});
  GuestRun r = guest.Run(c, d);
  EXPECT_EQ(Get<uint16_t>(r.data, kOut) & 0xFF, x87::sw::kZe);
  EXPECT_EQ(Get<uint16_t>(r.data, kOut + 2) & 0xFF, x87::sw::kZe | x87::sw::kEs);
  EXPECT_EQ(r.vector, kMf);
}

// Unmasked stack overflow: nothing pushed, TOP unchanged; IE, SF, C1 = 1.
TEST(X87Test, UnmaskedStackOverflowChangesNothing) {
  Guest guest;
  Data d = NewData();
  Put<uint16_t>(d, kCw, 0x037E);  // IE unmasked
  Code c;
  c.Fninit().Fldcw(kCw);
  for (int k = 0; k < 9; ++k) c({0xD9, 0xE8});
  c.Fnstsw(kOut);
  GuestRun r = guest.Run(c, d);
  EXPECT_EQ(r.vector, kNoException);
  uint16_t fsw = Get<uint16_t>(r.data, kOut);
  EXPECT_EQ(fsw & 0xFF, x87::sw::kIe | x87::sw::kSf | x87::sw::kEs);
  EXPECT_TRUE(fsw & x87::sw::kC1);
  EXPECT_EQ((fsw >> 11) & 7, 0);
  EXPECT_EQ(r.state.x87.ftw, 0x0000);  // eight valid 1.0s
}

// Unmasked overflow: a memory destination is left unchanged (no PE, C1 = 0);
// a register destination gets the exponent-wrapped result (SDM Vol. 1 8.5.4).
TEST(X87Test, UnmaskedOverflowStoreAndRegister) {
  Guest guest;
  Data d = NewData();
  Put<uint16_t>(d, kCw, 0x0377);  // OE unmasked
  PutF80(d, kA, Float80::Make(false, 0x7FFE, 0xFFFFFFFFFFFFFFFFull));
  Put<uint32_t>(d, kOut + 4, 0x12345678);
  Code c;
  c.Fninit().Fldcw(kCw).FldT(kA).M({0xD9}, 2, kOut + 4).Fnstsw(kOut);  // fst m32: overflow
  GuestRun r = guest.Run(c, d);
  EXPECT_EQ(r.vector, kNoException);
  EXPECT_EQ(Get<uint32_t>(r.data, kOut + 4), 0x12345678u);
  uint16_t fsw = Get<uint16_t>(r.data, kOut);
  EXPECT_EQ(fsw & 0xFF, x87::sw::kOe | x87::sw::kEs);
  EXPECT_FALSE(fsw & x87::sw::kC1);

  Code m;
  m.Fninit().Fldcw(kCw).FldT(kA)({0xD8, 0xC8}).Fnstsw(kOut);  // fmul st0, st0
  r = guest.Run(m, d);
  x87::Stack st(r.state.x87);
  Float80 v = st.St(0);
  EXPECT_EQ(v.biased_exponent(), 0x7FFE * 2 - 0x3FFF + 1 - 0x6000) << Hex(v);
  EXPECT_TRUE(Get<uint16_t>(r.data, kOut) & x87::sw::kOe);
}

// FOP, FCS:FIP and FDS:FDP follow the last non-control instruction.
TEST(X87Test, LastInstructionPointers) {
  Guest guest;
  Data d = NewData();
  Put<uint32_t>(d, kM32, 0x3F800000);  // 1.0f
  Code c;
  c.Fninit();
  uint32_t fadd_at = static_cast<uint32_t>(kCodeAddr + c.b.size());
  c({0xD9, 0xEE}).M({0xD8}, 0, kM32);     // fldz; fadd dword [ebx+kM32]
  c.Fnstsw(kOut).M({0xD9}, 7, kOut + 2);  // control instructions: no update
  GuestRun r = guest.Run(c, d);
  EXPECT_EQ(r.state.x87.fip, fadd_at + 2);
  EXPECT_EQ(r.state.x87.fop, 0) << "FOP only on unmasked exceptions by default";
  EXPECT_EQ(r.state.x87.fdp, kDataAddr + kM32);
  EXPECT_EQ(r.state.x87.fds, 0x10);
  // IA32_MISC_ENABLE bit 2, the fopcode compatibility mode (SDM Vol. 1 8.1.9.1).
  auto compat = [](CpuState& s) { s.msr.misc_enable |= 4; };
  r = guest.Run(c, d, compat);
  EXPECT_EQ(r.state.x87.fop, 0x083);  // D8 /0 with ModRM 0x83
  // FNINIT clears them.
  Code init = c;
  init.Fninit();
  r = guest.Run(init, d, compat);
  EXPECT_EQ(r.state.x87.fip, 0u);
  EXPECT_EQ(r.state.x87.fop, 0);
  EXPECT_EQ(r.state.x87.fdp, 0u);
}

// A store that faults leaves the FPU as it was, so the instruction restarts
// cleanly: FSTP past the ES limit raises #GP(0) without popping.
TEST(X87Test, FaultingStoreIsRestartable) {
  Guest guest;
  Code c;
  c.Fninit()({0xD9, 0xE8, 0xD9, 0xEB});  // fld1; fldpi
  uint32_t fstp_at = static_cast<uint32_t>(kCodeAddr + c.b.size());
  c({0x26}).M({0xDD}, 3, 0x1000);  // fstp qword es:[ebx+0x1000]
  GuestRun r = guest.Run(c, NewData(), [](CpuState& s) { s.seg[kEs].limit = kDataAddr + 0xFFF; });
  EXPECT_EQ(r.vector, kGp);
  EXPECT_EQ(r.error_code, 0u);
  EXPECT_EQ(r.fault_eip, fstp_at);
  EXPECT_EQ((r.state.x87.fsw >> 11) & 7, 6);
  x87::Stack st(r.state.x87);
  EXPECT_EQ(st.St(0).biased_exponent(), 0x4000);  // pi still there
  EXPECT_EQ(r.state.x87.fip, fstp_at - 2) << "FIP still names FLDPI";
}

// FXSAVE/FXRSTOR alignment and MXCSR checks; LDMXCSR reserved bits.
TEST(X87Test, FxsaveChecks) {
  Guest guest;
  Code mis;
  mis.M({0x0F, 0xAE}, 0, kScratch + 8);
  EXPECT_EQ(guest.Run(mis, NewData()).vector, kGp);
  Data d = NewData();
  Put<uint32_t>(d, kScratch + 24, 0x10000);  // reserved MXCSR bit
  Code rst;
  rst.M({0x0F, 0xAE}, 1, kScratch);
  GuestRun r = guest.Run(rst, d);
  EXPECT_EQ(r.vector, kGp);
  Put<uint32_t>(d, kM32, 0x10000);
  Code ld;
  ld.M({0x0F, 0xAE}, 2, kM32);
  EXPECT_EQ(guest.Run(ld, d).vector, kGp);
  // A round trip through FXSAVE restores MXCSR and the XMM registers.
  Code trip;
  trip.M({0x0F, 0xAE}, 0, kScratch).M({0x0F, 0xAE}, 1, kScratch);
  r = guest.Run(trip, NewData(), [](CpuState& s) {
    s.mxcsr = 0x7F80;
    s.xmm[3] = {0x1122334455667788ull, 0x99AABBCCDDEEFF00ull};
  });
  EXPECT_EQ(r.vector, kNoException);
  EXPECT_EQ(r.state.mxcsr, 0x7F80u);
  EXPECT_EQ(r.state.xmm[3].lo, 0x1122334455667788ull);
  EXPECT_EQ(Get<uint32_t>(r.data, kScratch + 28), x87::kMxcsrMask);
}

// FSAVE/FRSTOR with a 16-bit operand size (66 prefix): the 94-byte image.
TEST(X87Test, SixteenBitSaveImageRoundTrip) {
  Guest guest;
  Data d = NewData();
  Code c;
  c.Fninit()({0xD9, 0xE8, 0xD9, 0xEB, 0xD9, 0xEE});  // fld1; fldpi; fldz
  c({0x66}).M({0xDD}, 6, kScratch);                  // fnsave (16-bit)
  c.Fnstsw(kOut);
  c({0x66}).M({0xDD}, 4, kScratch);  // frstor (16-bit)
  c.Fnstsw(kOut + 2).FstpT(kOut + 4).FstpT(kOut + 14).FstpT(kOut + 24);
  GuestRun r = guest.Run(c, d);
  EXPECT_EQ(r.vector, kNoException);
  EXPECT_EQ(Get<uint16_t>(r.data, kScratch), 0x037F);                 // FCW
  EXPECT_EQ(Get<uint16_t>(r.data, kScratch + 2), 5 << 11);            // FSW: TOP = 5
  EXPECT_EQ(Get<uint16_t>(r.data, kScratch + 4), 0x07FF);             // tags: R5 zero, R6/R7 valid
  EXPECT_EQ(Get<uint16_t>(r.data, kScratch + 8), 0x08);               // FCS
  EXPECT_EQ(GetF80(r.data, kScratch + 14), softfloat::kFloat80Zero);  // ST(0)
  EXPECT_EQ(Get<uint16_t>(r.data, kOut), 0);                          // FNSAVE reinitialised
  EXPECT_EQ(Get<uint16_t>(r.data, kOut + 2), 5 << 11);
  EXPECT_EQ(GetF80(r.data, kOut + 4), softfloat::kFloat80Zero);
  EXPECT_EQ(GetF80(r.data, kOut + 24), softfloat::kFloat80One);
}

// Real mode stores linear pointers: the 14-byte and 28-byte real-mode
// environments (SDM Vol. 1 Figures 8-10, 8-12), and FLDENV reads them back.
TEST(X87Test, RealModeEnvironmentLayouts) {
  TestMachine m;
  // At 0100:0010 (linear 0x1010): fninit; fld dword [0x20]; fnstenv [0x40];
  // fnstenv o32 [0x60]; fldenv [0x40]; fnstenv [0x80]; hlt. DS = 0x0200.
  std::vector<uint8_t> code = {0xDB, 0xE3, 0xD9, 0x06, 0x20, 0x00, 0xD9, 0x36,
                               0x40, 0x00, 0x66, 0xD9, 0x36, 0x60, 0x00, 0xD9,
                               0x26, 0x40, 0x00, 0xD9, 0x36, 0x80, 0x00, 0xF4};
  m.Load(0x1010, code);
  m.Load(0x2020, {0x00, 0x00, 0x80, 0x3F});  // 1.0f at DS:0x20
  m.StartReal(0x10);
  CpuState s = m.State();
  s.seg[kCs].selector = 0x100;
  s.seg[kCs].base = 0x1000;
  s.seg[kDs].selector = 0x200;
  s.seg[kDs].base = 0x2000;
  s.msr.misc_enable |= 4;  // FOP for every instruction (fopcode compatibility mode)
  m.SetState(s);
  ASSERT_EQ(m.RunToHalt(), StopReason::kHalt);
  auto word = [&](uint64_t a) {
    uint16_t v;
    std::memcpy(&v, m.memory().HostRange(a, 2), 2);
    return v;
  };
  auto dword = [&](uint64_t a) {
    uint32_t v;
    std::memcpy(&v, m.memory().HostRange(a, 4), 4);
    return v;
  };
  // 16-bit: FIP linear 0x01012 (the FLD), FOP D9 06 -> 0x106, FDP linear 0x02020.
  EXPECT_EQ(word(0x2040), 0x037F);
  EXPECT_EQ(word(0x2042), 7 << 11);
  EXPECT_EQ(word(0x2044), 0x3FFF);
  EXPECT_EQ(word(0x2046), 0x1012);
  EXPECT_EQ(word(0x2048), 0x0000 | 0x106);
  EXPECT_EQ(word(0x204A), 0x2020);
  EXPECT_EQ(word(0x204C), 0x0000);
  // 32-bit real-mode layout.
  EXPECT_EQ(dword(0x206C), 0xFFFF1012u);
  EXPECT_EQ(dword(0x2070), 0x106u);
  EXPECT_EQ(dword(0x2074), 0xFFFF2020u);
  EXPECT_EQ(dword(0x2078), 0u);
  // FLDENV of the 16-bit image, stored again: the same bytes.
  for (int k = 0; k < 14; k += 2) EXPECT_EQ(word(0x2080 + k), word(0x2040 + k)) << k;
}

// The CPUID model advertises the FPU.
TEST(X87Test, CpuidHasFpu) {
  CpuState s;
  CpuFeatures f;
  f.fpu_sse = false;
  EXPECT_TRUE(Cpuid(f, s, 1, 0)[3] & 1u);
}

// Unit checks of the helpers in x87.h.
TEST(X87HelpersTest, TagsOfEachClass) {
  EXPECT_EQ(x87::TagOf(softfloat::kFloat80Zero), x87::Tag::kZero);
  EXPECT_EQ(x87::TagOf(softfloat::kFloat80One), x87::Tag::kValid);
  EXPECT_EQ(x87::TagOf(softfloat::kFloat80Infinity), x87::Tag::kSpecial);
  EXPECT_EQ(x87::TagOf(softfloat::kFloat80Indefinite), x87::Tag::kSpecial);
  EXPECT_EQ(x87::TagOf(Float80::Make(false, 0, 1)), x87::Tag::kSpecial);       // denormal
  EXPECT_EQ(x87::TagOf(Float80::Make(false, 0x3FFF, 1)), x87::Tag::kSpecial);  // unnormal
  EXPECT_EQ(x87::AbridgedTags(0xFFFF), 0);
  EXPECT_EQ(x87::AbridgedTags(0x3FFC), 0x81);
  EXPECT_EQ(x87::SummarizedStatusWord(0x0004, 0x037B), 0x8084);
  EXPECT_EQ(x87::SummarizedStatusWord(0x8084, 0x037F), 0x0004);
}

// FXSAVE64 (REX.W) stores 64-bit FIP and FDP; the legacy layout stores
// 32-bit offsets with their selectors (SDM Vol. 2 FXSAVE, Tables 3-53/3-56).
TEST(X87HelpersTest, FxsaveLayouts) {
  CpuState s;
  s.x87.fip = 0x123456789Aull;
  s.x87.fdp = 0xFEDCBA9876ull;
  s.x87.fcs = 0x33;
  s.x87.fds = 0x2B;
  s.x87.fop = 0x5C2;
  std::array<uint8_t, x87::kFxsaveSize> img{};
  x87::StoreFxsaveImage(s, true, 16, img);
  uint64_t v;
  std::memcpy(&v, &img[8], 8);
  EXPECT_EQ(v, 0x123456789Aull);
  std::memcpy(&v, &img[16], 8);
  EXPECT_EQ(v, 0xFEDCBA9876ull);
  CpuState back;
  x87::LoadFxsaveImage(back, true, 16, img);
  EXPECT_EQ(back.x87.fip, s.x87.fip);
  EXPECT_EQ(back.x87.fdp, s.x87.fdp);
  EXPECT_EQ(back.x87.fop, 0x5C2);
  img.fill(0);
  x87::StoreFxsaveImage(s, false, 8, img);
  uint32_t w;
  std::memcpy(&w, &img[8], 4);
  EXPECT_EQ(w, 0x3456789Au);
  EXPECT_EQ(img[12], 0x33);
  std::memcpy(&w, &img[16], 4);
  EXPECT_EQ(w, 0xDCBA9876u);
  EXPECT_EQ(img[20], 0x2B);
}

// Every register form of D8-DF decodes to its SDM row; the holes are the
// reserved rows (#NM before #UD).
TEST(X87DecodeTest, RegisterFormsFollowTheOpcodeMap) {
  const OpcodeTable& table = OpcodeTable::Get();
  auto mnemonic = [&](uint8_t esc, uint8_t modrm) {
    uint8_t bytes[15] = {esc, modrm};  // then SIB/displacement bytes of zero
    Insn insn;
    EXPECT_EQ(Decode(table, CodeMode::k32, bytes, sizeof(bytes), insn), DecodeStatus::kOk);
    return insn.row == nullptr ? std::string("#UD") : std::string(insn.row->mnemonic);
  };
  EXPECT_EQ(mnemonic(0xD8, 0xC3), "FADD");
  EXPECT_EQ(mnemonic(0xDC, 0xE1), "FSUBR");  // DC E0+i: FSUBR ST(i), ST(0)
  EXPECT_EQ(mnemonic(0xDC, 0xE9), "FSUB");
  EXPECT_EQ(mnemonic(0xDE, 0xF9), "FDIVP");
  EXPECT_EQ(mnemonic(0xDE, 0xD9), "FCOMPP");
  EXPECT_EQ(mnemonic(0xDE, 0xD8), "(reserved)");
  EXPECT_EQ(mnemonic(0xDA, 0xE9), "FUCOMPP");
  EXPECT_EQ(mnemonic(0xDA, 0xE8), "(reserved)");
  EXPECT_EQ(mnemonic(0xD9, 0xEE), "FLDZ");
  EXPECT_EQ(mnemonic(0xD9, 0xE2), "(reserved)");
  EXPECT_EQ(mnemonic(0xD9, 0xEF), "(reserved)");
  EXPECT_EQ(mnemonic(0xDB, 0xE3), "FNINIT");
  EXPECT_EQ(mnemonic(0xDB, 0xE5), "(reserved)");
  EXPECT_EQ(mnemonic(0xDB, 0xF7), "FCOMI");
  EXPECT_EQ(mnemonic(0xDB, 0xF8), "(reserved)");
  EXPECT_EQ(mnemonic(0xDF, 0xE0), "FNSTSW");
  EXPECT_EQ(mnemonic(0xDF, 0xE1), "(reserved)");
  EXPECT_EQ(mnemonic(0xDF, 0xF0), "FCOMIP");
  EXPECT_EQ(mnemonic(0xDF, 0xF8), "(reserved)");
  EXPECT_EQ(mnemonic(0xDD, 0xF0), "(reserved)");
  // Memory forms take the /digit row; D9 /1 and DB /4, /6 have none.
  EXPECT_EQ(mnemonic(0xD9, 0x08), "(reserved)");
  EXPECT_EQ(mnemonic(0xDB, 0x20), "(reserved)");
  EXPECT_EQ(mnemonic(0xDD, 0x38), "FNSTSW");
  // Every byte of the escape space has a row.
  for (int esc = 0xD8; esc <= 0xDF; ++esc) {
    for (int modrm = 0; modrm < 256; ++modrm) {
      EXPECT_NE(mnemonic(static_cast<uint8_t>(esc), static_cast<uint8_t>(modrm)), "#UD")
          << esc << " " << modrm;
    }
  }
}

}  // namespace
}  // namespace x86vm
