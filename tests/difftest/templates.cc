// The instruction templates. Flag facts are from the SDM Vol. 2 instruction
// pages ("Flags Affected"); where Intel leaves a flag or a result undefined,
// the template says so and the comparison ignores it, whatever this AMD host
// happens to produce.
#include "tests/difftest/templates.h"

#include <deque>
#include <string>

#include "tests/difftest/emitters.h"

namespace x86vm::difftest {
namespace {

using dflags::kAf;
using dflags::kCf;
using dflags::kOf;
using dflags::kPf;
using dflags::kSf;
using dflags::kZf;
constexpr uint64_t kAll6 = dflags::kStatus;

// --- The table ---------------------------------------------------------------

// Builder for table rows.
struct T {
  Template t;
  T(const char* name, void (*emit)(GenCtx&, const Template&), std::initializer_list<uint8_t> op,
    uint8_t sizes = kSall) {
    t.name = name;
    t.modes = kModesAll;
    t.features = 0;
    t.emit = emit;
    t.nop = 0;
    for (uint8_t b : op) t.op[t.nop++] = b;
    t.sizes = sizes;
  }
  T& Digit(uint8_t d) { t.digit = d; return *this; }
  T& Form(uint8_t f) { t.form = f; return *this; }
  T& Pfx(uint8_t p) { t.pfx = p; return *this; }
  T& Modes(uint8_t m) { t.modes = m; return *this; }
  T& Feat(uint32_t f) { t.features = f; return *this; }
  T& Flags(uint64_t written, uint64_t undefined = 0, uint64_t read = 0) {
    t.written = written;
    t.undefined = undefined;
    t.read = read;
    return *this;
  }
  T& Mem(uint8_t bytes, uint8_t align) { t.msize = bytes; t.align = align; return *this; }
  T& Imm8(uint8_t mask = 0) { t.imm8 = true; t.digit = mask; return *this; }
  operator Template() const { return t; }  // NOLINT: table rows.
};

// An SSE row: prefix, opcode (after 0F), memory size and alignment.
T Sse(const char* name, uint8_t pfx, std::initializer_list<uint8_t> op, uint32_t feat, uint8_t msize = 16,
      uint8_t align = 16) {
  T row(name, EmitSse, op, 0);
  row.Pfx(pfx).Feat(feat).Mem(msize, align);
  return row;
}

std::vector<Template> BuildTable() {
  using namespace feature;
  std::vector<Template> v;
  // Integer ALU (SDM Vol. 2: ADD, ADC, SUB, SBB, CMP, AND, OR, XOR, TEST).
  struct Alu {
    const char* rm_reg;
    const char* reg_rm;
    const char* imm;
    const char* acc;
    uint8_t base;
    uint8_t digit;
    uint64_t undefined;
    uint64_t read;
  };
  static constexpr Alu kAlu[] = {
      {"add Ev,Gv", "add Gv,Ev", "add Ev,Iz", "add eAX,Iz", 0x00, 0, 0, 0},
      {"or Ev,Gv", "or Gv,Ev", "or Ev,Iz", "or eAX,Iz", 0x08, 1, kAf, 0},
      {"adc Ev,Gv", "adc Gv,Ev", "adc Ev,Iz", "adc eAX,Iz", 0x10, 2, 0, kCf},
      {"sbb Ev,Gv", "sbb Gv,Ev", "sbb Ev,Iz", "sbb eAX,Iz", 0x18, 3, 0, kCf},
      {"and Ev,Gv", "and Gv,Ev", "and Ev,Iz", "and eAX,Iz", 0x20, 4, kAf, 0},
      {"sub Ev,Gv", "sub Gv,Ev", "sub Ev,Iz", "sub eAX,Iz", 0x28, 5, 0, 0},
      {"xor Ev,Gv", "xor Gv,Ev", "xor Ev,Iz", "xor eAX,Iz", 0x30, 6, kAf, 0},
      {"cmp Ev,Gv", "cmp Gv,Ev", "cmp Ev,Iz", "cmp eAX,Iz", 0x38, 7, 0, 0},
  };
  for (const Alu& a : kAlu) {
    v.push_back(T(a.rm_reg, EmitModrm, {a.base}).Flags(kAll6, a.undefined, a.read));
    v.push_back(T(a.reg_rm, EmitModrm, {static_cast<uint8_t>(a.base + 2)}).Flags(kAll6, a.undefined, a.read));
    v.push_back(T(a.imm, EmitGroupImm, {0x80}).Digit(a.digit).Flags(kAll6, a.undefined, a.read));
    v.push_back(T(a.acc, EmitAccImm, {static_cast<uint8_t>(a.base + 4)}).Flags(kAll6, a.undefined, a.read));
  }
  v.push_back(T("test Ev,Gv", EmitModrm, {0x84}).Flags(kAll6, kAf));
  v.push_back(T("test Ev,Iz", EmitGroupImm, {0xf6}).Digit(0).Form(1).Flags(kAll6, kAf));
  v.push_back(T("test eAX,Iz", EmitAccImm, {0xa8}).Flags(kAll6, kAf));
  v.push_back(T("xchg Ev,Gv", EmitModrm, {0x86}));
  v.push_back(T("xchg eAX,r", EmitFixed, {0x90}, kSv).Form(2));
  v.push_back(T("mov Ev,Gv", EmitModrm, {0x88}));
  v.push_back(T("mov Gv,Ev", EmitModrm, {0x8a}));
  v.push_back(T("mov Ev,Iz", EmitGroupImm, {0xc6}).Digit(0).Form(1));
  v.push_back(T("movzx Gv,Eb", EmitModrm, {0x0f, 0xb6}, kSv));
  v.push_back(T("movzx Gv,Ew", EmitModrm, {0x0f, 0xb7}, kS32 | kS64));
  v.push_back(T("movsx Gv,Eb", EmitModrm, {0x0f, 0xbe}, kSv));
  v.push_back(T("movsx Gv,Ew", EmitModrm, {0x0f, 0xbf}, kS32 | kS64));
  v.push_back(T("movsxd Gq,Ed", EmitModrm, {0x63}, kS64).Modes(kModeLong64));
  v.push_back(T("not Ev", EmitUnary, {0xf6}).Digit(2));
  v.push_back(T("neg Ev", EmitUnary, {0xf6}).Digit(3).Flags(kAll6));
  v.push_back(T("inc Ev", EmitUnary, {0xfe}).Digit(0).Flags(kAll6 & ~kCf));
  v.push_back(T("dec Ev", EmitUnary, {0xfe}).Digit(1).Flags(kAll6 & ~kCf));
  v.push_back(T("inc r (40+r)", EmitFixed, {0x40}, kS16 | kS32).Form(2).Modes(kModesLegacy).Flags(kAll6 & ~kCf));

  // Shifts and rotates, in all three count forms.
  static constexpr const char* kShiftNames[8][3] = {
      {"rol Ev,Ib", "rol Ev,1", "rol Ev,CL"}, {"ror Ev,Ib", "ror Ev,1", "ror Ev,CL"},
      {"rcl Ev,Ib", "rcl Ev,1", "rcl Ev,CL"}, {"rcr Ev,Ib", "rcr Ev,1", "rcr Ev,CL"},
      {"shl Ev,Ib", "shl Ev,1", "shl Ev,CL"}, {"shr Ev,Ib", "shr Ev,1", "shr Ev,CL"},
      {"sal(/6) Ev,Ib", "sal(/6) Ev,1", "sal(/6) Ev,CL"}, {"sar Ev,Ib", "sar Ev,1", "sar Ev,CL"}};
  for (uint8_t d = 0; d < 8; ++d) {
    for (uint8_t form = 0; form < 3; ++form) {
      if (d == 6) continue;  // /6 is an undocumented SAL alias; AMD and Intel both run it, the SDM does not list it.
      v.push_back(T(kShiftNames[d][form], EmitShift, {0xc0}).Digit(d).Form(form).Flags(0, 0, (d == 2 || d == 3) ? kCf : 0));
    }
  }
  v.push_back(T("shld Ev,Gv,Ib", EmitShiftDouble, {0x0f, 0xa4}, kSv).Form(0));
  v.push_back(T("shld Ev,Gv,CL", EmitShiftDouble, {0x0f, 0xa5}, kSv).Form(2));
  v.push_back(T("shrd Ev,Gv,Ib", EmitShiftDouble, {0x0f, 0xac}, kSv).Form(0));
  v.push_back(T("shrd Ev,Gv,CL", EmitShiftDouble, {0x0f, 0xad}, kSv).Form(2));

  // Multiply and divide.
  v.push_back(T("mul Ev", EmitUnary, {0xf6}).Digit(4).Flags(kAll6, kSf | kZf | kAf | kPf));
  v.push_back(T("imul Ev", EmitUnary, {0xf6}).Digit(5).Flags(kAll6, kSf | kZf | kAf | kPf));
  v.push_back(T("imul Gv,Ev", EmitImul, {0x0f, 0xaf}, kSv).Flags(kAll6, kSf | kZf | kAf | kPf));
  v.push_back(T("imul Gv,Ev,Iz", EmitImul, {0x69}, kSv).Form(1).Flags(kAll6, kSf | kZf | kAf | kPf));
  v.push_back(T("imul Gv,Ev,Ib", EmitImul, {0x6b}, kSv).Form(2).Flags(kAll6, kSf | kZf | kAf | kPf));
  v.push_back(T("div Ev", EmitDivide, {0xf6}).Digit(6).Flags(kAll6, kAll6));
  v.push_back(T("idiv Ev", EmitDivide, {0xf6}).Digit(7).Flags(kAll6, kAll6));

  // Bit test and scan.
  static constexpr const char* kBtNames[4][2] = {
      {"bt Ev,Gv", "bt Ev,Ib"}, {"bts Ev,Gv", "bts Ev,Ib"}, {"btr Ev,Gv", "btr Ev,Ib"}, {"btc Ev,Gv", "btc Ev,Ib"}};
  for (uint8_t i = 0; i < 4; ++i) {
    const uint64_t w = kCf | kOf | kSf | kAf | kPf;  // ZF unaffected.
    v.push_back(T(kBtNames[i][0], EmitBitTestReg, {0x0f, static_cast<uint8_t>(0xa3 + 8 * i)}, kSv).Flags(w, w & ~kCf));
    v.push_back(T(kBtNames[i][1], EmitBitTestImm, {0x0f, 0xba}, kSv).Digit(4 + i).Flags(w, w & ~kCf));
  }
  v.push_back(T("bsf Gv,Ev", EmitBitScan, {0x0f, 0xbc}, kSv).Form(1).Flags(kAll6, kAll6 & ~kZf));
  v.push_back(T("bsr Gv,Ev", EmitBitScan, {0x0f, 0xbd}, kSv).Form(1).Flags(kAll6, kAll6 & ~kZf));
  v.push_back(T("tzcnt Gv,Ev", EmitBitScan, {0x0f, 0xbc}, kSv).Pfx(0xf3).Feat(kBmi1).Flags(kAll6, kOf | kSf | kAf | kPf));
  v.push_back(T("lzcnt Gv,Ev", EmitBitScan, {0x0f, 0xbd}, kSv).Pfx(0xf3).Feat(kLzcnt).Flags(kAll6, kOf | kSf | kAf | kPf));
  v.push_back(T("popcnt Gv,Ev", EmitBitScan, {0x0f, 0xb8}, kSv).Pfx(0xf3).Feat(kPopcnt).Flags(kAll6));

  // Exchange-and-operate, byte swap, MOVBE, CRC32.
  v.push_back(T("cmpxchg Ev,Gv", EmitCmpxchg, {0x0f, 0xb0}).Flags(kAll6));
  v.push_back(T("xadd Ev,Gv", EmitModrm, {0x0f, 0xc0}).Flags(kAll6));
  v.push_back(T("bswap r", EmitBswap, {0x0f, 0xc8}, kS32 | kS64));
  v.push_back(T("movbe Gv,Mv", EmitMovbe, {0x0f, 0x38, 0xf0}, kSv).Feat(kMovbe));
  v.push_back(T("movbe Mv,Gv", EmitMovbe, {0x0f, 0x38, 0xf1}, kSv).Feat(kMovbe));
  v.push_back(T("crc32 Gd,Eb", EmitCrc32, {0x0f, 0x38, 0xf0}, kS8).Feat(kSse42));
  v.push_back(T("crc32 Gd,Ev", EmitCrc32, {0x0f, 0x38, 0xf1}, kSv).Feat(kSse42));

  // Conditions.
  v.push_back(T("setcc Eb", EmitCondition, {0x0f, 0x90}).Form(0));
  v.push_back(T("cmovcc Gv,Ev", EmitCondition, {0x0f, 0x40}).Form(1));
  v.push_back(T("jcc rel8", EmitCondition, {0x70}).Form(2));

  // String operations.
  struct Str {
    const char* name;
    uint8_t op;
    uint8_t form;
    bool flags;
  };
  static constexpr Str kStr[] = {
      {"movs", 0xa4, 0, false},     {"rep movs", 0xa4, 1, false},  {"stos", 0xaa, 0, false},
      {"rep stos", 0xaa, 1, false}, {"lods", 0xac, 0, false},      {"rep lods", 0xac, 1, false},
      {"cmps", 0xa6, 0, true},      {"repe cmps", 0xa6, 1, true},  {"repne cmps", 0xa6, 2, true},
      {"scas", 0xae, 0, true},      {"repe scas", 0xae, 1, true},  {"repne scas", 0xae, 2, true}};
  for (const Str& s : kStr) {
    v.push_back(T(s.name, EmitString, {s.op}).Form(s.form).Flags(s.flags ? kAll6 : 0));
  }

  v.push_back(T("lea Gv,M", EmitLea, {0x8d}, kSv));

  static constexpr const char* kStackNames[8] = {"push r", "pop r", "push Ib", "push Iz",
                                                 "push Ev", "pop Ev", "pushf", "popf"};
  for (uint8_t i = 0; i < 8; ++i) v.push_back(T(kStackNames[i], EmitStack, {0}).Form(i));

  // Fixed encodings.
  v.push_back(T("cbw/cwde/cdqe", EmitFixed, {0x98}, kSv).Form(1));
  v.push_back(T("cwd/cdq/cqo", EmitFixed, {0x99}, kSv).Form(1));
  v.push_back(T("clc", EmitFixed, {0xf8}).Flags(kCf));
  v.push_back(T("stc", EmitFixed, {0xf9}).Flags(kCf));
  v.push_back(T("cmc", EmitFixed, {0xf5}).Flags(kCf, 0, kCf));
  v.push_back(T("cld", EmitFixed, {0xfc}));
  v.push_back(T("std", EmitFixed, {0xfd}));
  v.push_back(T("lahf", EmitFixed, {0x9f}).Flags(0, 0, kAll6 & ~kOf));
  v.push_back(T("sahf", EmitFixed, {0x9e}).Flags(kAll6 & ~kOf));
  // BCD (SDM Vol. 2 DAA/DAS/AAA/AAS/AAM/AAD); invalid in 64-bit mode.
  v.push_back(T("daa", EmitFixed, {0x27}).Modes(kModesLegacy).Flags(kAll6, kOf, kAf | kCf));
  v.push_back(T("das", EmitFixed, {0x2f}).Modes(kModesLegacy).Flags(kAll6, kOf, kAf | kCf));
  v.push_back(T("aaa", EmitFixed, {0x37}).Modes(kModesLegacy).Flags(kAll6, kOf | kSf | kZf | kPf, kAf));
  v.push_back(T("aas", EmitFixed, {0x3f}).Modes(kModesLegacy).Flags(kAll6, kOf | kSf | kZf | kPf, kAf));
  v.push_back(T("aam Ib", EmitAsciiAdjustImm, {0xd4}).Modes(kModesLegacy).Flags(kAll6, kOf | kAf | kCf));
  v.push_back(T("aad Ib", EmitAsciiAdjustImm, {0xd5}).Modes(kModesLegacy).Flags(kAll6, kOf | kAf | kCf));

  // SSE2 integer (66 0F xx /r).
  struct Op {
    const char* name;
    uint8_t op;
  };
  static constexpr Op kSse2Int[] = {
      {"paddb", 0xfc},     {"paddw", 0xfd},     {"paddd", 0xfe},     {"paddq", 0xd4},     {"psubb", 0xf8},
      {"psubw", 0xf9},     {"psubd", 0xfa},     {"psubq", 0xfb},     {"paddsb", 0xec},    {"paddsw", 0xed},
      {"paddusb", 0xdc},   {"paddusw", 0xdd},   {"psubsb", 0xe8},    {"psubsw", 0xe9},    {"psubusb", 0xd8},
      {"psubusw", 0xd9},   {"pmullw", 0xd5},    {"pmulhw", 0xe5},    {"pmulhuw", 0xe4},   {"pmuludq", 0xf4},
      {"pmaddwd", 0xf5},   {"pand", 0xdb},      {"pandn", 0xdf},     {"por", 0xeb},       {"pxor", 0xef},
      {"pcmpeqb", 0x74},   {"pcmpeqw", 0x75},   {"pcmpeqd", 0x76},   {"pcmpgtb", 0x64},   {"pcmpgtw", 0x65},
      {"pcmpgtd", 0x66},   {"packsswb", 0x63},  {"packssdw", 0x6b},  {"packuswb", 0x67},  {"punpcklbw", 0x60},
      {"punpcklwd", 0x61}, {"punpckldq", 0x62}, {"punpcklqdq", 0x6c}, {"punpckhbw", 0x68}, {"punpckhwd", 0x69},
      {"punpckhdq", 0x6a}, {"punpckhqdq", 0x6d}, {"pavgb", 0xe0},    {"pavgw", 0xe3},     {"pmaxub", 0xde},
      {"pminub", 0xda},    {"pmaxsw", 0xee},    {"pminsw", 0xea},    {"psadbw", 0xf6},    {"psllw", 0xf1},
      {"pslld", 0xf2},     {"psllq", 0xf3},     {"psrlw", 0xd1},     {"psrld", 0xd2},     {"psrlq", 0xd3},
      {"psraw", 0xe1},     {"psrad", 0xe2},     {"movdqa load", 0x6f}};
  for (const Op& o : kSse2Int) v.push_back(Sse(o.name, 0x66, {0x0f, o.op}, kSse2));
  v.push_back(Sse("movdqu load", 0xf3, {0x0f, 0x6f}, kSse2, 16, 0));
  v.push_back(Sse("movdqa store", 0x66, {0x0f, 0x7f}, kSse2).Form(5));
  v.push_back(Sse("movdqu store", 0xf3, {0x0f, 0x7f}, kSse2, 16, 0).Form(5));
  v.push_back(Sse("movq xmm,xmm/m64", 0xf3, {0x0f, 0x7e}, kSse2, 8, 0));
  v.push_back(Sse("movq xmm/m64,xmm", 0x66, {0x0f, 0xd6}, kSse2, 8, 0).Form(5));
  v.push_back(Sse("pshufd", 0x66, {0x0f, 0x70}, kSse2).Imm8());
  v.push_back(Sse("pshuflw", 0xf2, {0x0f, 0x70}, kSse2).Imm8());
  v.push_back(Sse("pshufhw", 0xf3, {0x0f, 0x70}, kSse2).Imm8());
  static constexpr struct {
    const char* name;
    uint8_t op;
    uint8_t digit;
  } kShiftImm[] = {{"psrlw imm", 0x71, 2}, {"psraw imm", 0x71, 4}, {"psllw imm", 0x71, 6}, {"psrld imm", 0x72, 2},
                   {"psrad imm", 0x72, 4}, {"pslld imm", 0x72, 6}, {"psrlq imm", 0x73, 2}, {"psrldq imm", 0x73, 3},
                   {"psllq imm", 0x73, 6}, {"pslldq imm", 0x73, 7}};
  for (const auto& s : kShiftImm) {
    v.push_back(T(s.name, EmitSseShiftImm, {0x0f, s.op}, 0).Pfx(0x66).Digit(s.digit).Feat(kSse2));
  }
  v.push_back(Sse("pmovmskb Gd,U", 0x66, {0x0f, 0xd7}, kSse2).Form(1));
  v.push_back(Sse("pextrw Gd,U,Ib", 0x66, {0x0f, 0xc5}, kSse2).Form(1).Imm8());
  v.push_back(Sse("pinsrw V,Ed,Ib", 0x66, {0x0f, 0xc4}, kSse2, 2, 0).Form(3).Imm8());
  v.push_back(Sse("movd/movq V,Ey", 0x66, {0x0f, 0x6e}, kSse2, 0, 0).Form(3));
  v.push_back(Sse("movd/movq Ey,V", 0x66, {0x0f, 0x7e}, kSse2, 0, 0).Form(4));
  for (Template& t : v) {
    if (t.emit == EmitSse && (t.form >= 1 && t.form <= 4)) t.sizes = kS32 | kS64;
  }

  // SSE/SSE2 floating point: ps/pd/ss/sd.
  struct FpOp {
    const char* name;
    uint8_t op;
    bool scalar_too;
  };
  static constexpr FpOp kFp[] = {{"add", 0x58, true}, {"mul", 0x59, true}, {"sub", 0x5c, true},
                                 {"min", 0x5d, true}, {"div", 0x5e, true}, {"max", 0x5f, true},
                                 {"sqrt", 0x51, true}, {"and", 0x54, false}, {"andn", 0x55, false},
                                 {"or", 0x56, false}, {"xor", 0x57, false}, {"unpckl", 0x14, false},
                                 {"unpckh", 0x15, false}};
  static std::deque<std::string> names;  // Storage for the generated names (stable addresses).
  auto name = [&](std::string n) {
    names.push_back(std::move(n));
    return names.back().c_str();
  };
  for (const FpOp& f : kFp) {
    v.push_back(Sse(name(std::string(f.name) + "ps"), 0, {0x0f, f.op}, kSse2));
    v.push_back(Sse(name(std::string(f.name) + "pd"), 0x66, {0x0f, f.op}, kSse2));
    if (f.scalar_too) {
      v.push_back(Sse(name(std::string(f.name) + "ss"), 0xf3, {0x0f, f.op}, kSse2, 4, 0));
      v.push_back(Sse(name(std::string(f.name) + "sd"), 0xf2, {0x0f, f.op}, kSse2, 8, 0));
    }
  }
  v.push_back(Sse("cmpps", 0, {0x0f, 0xc2}, kSse2).Imm8(7));
  v.push_back(Sse("cmppd", 0x66, {0x0f, 0xc2}, kSse2).Imm8(7));
  v.push_back(Sse("cmpss", 0xf3, {0x0f, 0xc2}, kSse2, 4, 0).Imm8(7));
  v.push_back(Sse("cmpsd", 0xf2, {0x0f, 0xc2}, kSse2, 8, 0).Imm8(7));
  v.push_back(Sse("shufps", 0, {0x0f, 0xc6}, kSse2).Imm8());
  v.push_back(Sse("shufpd", 0x66, {0x0f, 0xc6}, kSse2).Imm8());
  v.push_back(Sse("comiss", 0, {0x0f, 0x2f}, kSse2, 4, 0).Flags(kAll6));
  v.push_back(Sse("ucomiss", 0, {0x0f, 0x2e}, kSse2, 4, 0).Flags(kAll6));
  v.push_back(Sse("comisd", 0x66, {0x0f, 0x2f}, kSse2, 8, 0).Flags(kAll6));
  v.push_back(Sse("ucomisd", 0x66, {0x0f, 0x2e}, kSse2, 8, 0).Flags(kAll6));
  v.push_back(Sse("movaps load", 0, {0x0f, 0x28}, kSse2));
  v.push_back(Sse("movups load", 0, {0x0f, 0x10}, kSse2, 16, 0));
  v.push_back(Sse("movss load", 0xf3, {0x0f, 0x10}, kSse2, 4, 0));
  v.push_back(Sse("movsd load", 0xf2, {0x0f, 0x10}, kSse2, 8, 0));
  v.push_back(Sse("movss store", 0xf3, {0x0f, 0x11}, kSse2, 4, 0).Form(5));
  v.push_back(Sse("movmskps Gd,U", 0, {0x0f, 0x50}, kSse2).Form(1));
  v.push_back(Sse("movmskpd Gd,U", 0x66, {0x0f, 0x50}, kSse2).Form(1));
  v.push_back(Sse("cvtdq2ps", 0, {0x0f, 0x5b}, kSse2));
  v.push_back(Sse("cvtps2dq", 0x66, {0x0f, 0x5b}, kSse2));
  v.push_back(Sse("cvttps2dq", 0xf3, {0x0f, 0x5b}, kSse2));
  v.push_back(Sse("cvtps2pd", 0, {0x0f, 0x5a}, kSse2, 8, 0));
  v.push_back(Sse("cvtpd2ps", 0x66, {0x0f, 0x5a}, kSse2));
  v.push_back(Sse("cvtss2sd", 0xf3, {0x0f, 0x5a}, kSse2, 4, 0));
  v.push_back(Sse("cvtsd2ss", 0xf2, {0x0f, 0x5a}, kSse2, 8, 0));
  v.push_back(Sse("cvtdq2pd", 0xf3, {0x0f, 0xe6}, kSse2, 8, 0));
  v.push_back(Sse("cvtpd2dq", 0xf2, {0x0f, 0xe6}, kSse2));
  v.push_back(Sse("cvttpd2dq", 0x66, {0x0f, 0xe6}, kSse2));
  v.push_back(Sse("cvtsi2ss V,Ey", 0xf3, {0x0f, 0x2a}, kSse2, 0, 0).Form(3));
  v.push_back(Sse("cvtsi2sd V,Ey", 0xf2, {0x0f, 0x2a}, kSse2, 0, 0).Form(3));
  v.push_back(Sse("cvttss2si Gy,W", 0xf3, {0x0f, 0x2c}, kSse2, 4, 0).Form(2));
  v.push_back(Sse("cvtss2si Gy,W", 0xf3, {0x0f, 0x2d}, kSse2, 4, 0).Form(2));
  v.push_back(Sse("cvttsd2si Gy,W", 0xf2, {0x0f, 0x2c}, kSse2, 8, 0).Form(2));
  v.push_back(Sse("cvtsd2si Gy,W", 0xf2, {0x0f, 0x2d}, kSse2, 8, 0).Form(2));
  for (Template& t : v) {
    if (t.emit == EmitSse && (t.form >= 1 && t.form <= 4)) t.sizes = kS32 | kS64;
  }
  // SSE3.
  v.push_back(Sse("haddps", 0xf2, {0x0f, 0x7c}, kSse3));
  v.push_back(Sse("haddpd", 0x66, {0x0f, 0x7c}, kSse3));
  v.push_back(Sse("hsubps", 0xf2, {0x0f, 0x7d}, kSse3));
  v.push_back(Sse("addsubps", 0xf2, {0x0f, 0xd0}, kSse3));
  v.push_back(Sse("addsubpd", 0x66, {0x0f, 0xd0}, kSse3));
  v.push_back(Sse("movsldup", 0xf3, {0x0f, 0x12}, kSse3));
  v.push_back(Sse("movshdup", 0xf3, {0x0f, 0x16}, kSse3));
  v.push_back(Sse("movddup", 0xf2, {0x0f, 0x12}, kSse3, 8, 0));
  v.push_back(Sse("lddqu", 0xf2, {0x0f, 0xf0}, kSse3, 16, 0).Form(5));  // Memory source only.

  // SSSE3 (66 0F 38 xx).
  static constexpr Op kSsse3Ops[] = {{"pshufb", 0x00},   {"phaddw", 0x01},   {"phaddd", 0x02}, {"phaddsw", 0x03},
                                  {"pmaddubsw", 0x04}, {"phsubw", 0x05},   {"phsubd", 0x06}, {"phsubsw", 0x07},
                                  {"psignb", 0x08},   {"psignw", 0x09},   {"psignd", 0x0a}, {"pmulhrsw", 0x0b},
                                  {"pabsb", 0x1c},    {"pabsw", 0x1d},    {"pabsd", 0x1e}};
  for (const Op& o : kSsse3Ops) v.push_back(Sse(o.name, 0x66, {0x0f, 0x38, o.op}, kSsse3));
  v.push_back(Sse("palignr", 0x66, {0x0f, 0x3a, 0x0f}, kSsse3).Imm8());

  // SSE4.1.
  static constexpr Op kSse41Ops[] = {
      {"pblendvb", 0x10}, {"blendvps", 0x14}, {"blendvpd", 0x15}, {"pmuldq", 0x28},  {"pcmpeqq", 0x29},
      {"packusdw", 0x2b}, {"pminsb", 0x38},   {"pminsd", 0x39},   {"pminuw", 0x3a},  {"pminud", 0x3b},
      {"pmaxsb", 0x3c},   {"pmaxsd", 0x3d},   {"pmaxuw", 0x3e},   {"pmaxud", 0x3f},  {"pmulld", 0x40},
      {"phminposuw", 0x41}};
  for (const Op& o : kSse41Ops) v.push_back(Sse(o.name, 0x66, {0x0f, 0x38, o.op}, kSse41));
  v.push_back(Sse("ptest", 0x66, {0x0f, 0x38, 0x17}, kSse41).Flags(kAll6));
  static constexpr struct {
    const char* name;
    uint8_t op;
    uint8_t msize;
  } kPmov[] = {{"pmovsxbw", 0x20, 8}, {"pmovsxbd", 0x21, 4}, {"pmovsxbq", 0x22, 2}, {"pmovsxwd", 0x23, 8},
               {"pmovsxwq", 0x24, 4}, {"pmovsxdq", 0x25, 8}, {"pmovzxbw", 0x30, 8}, {"pmovzxbd", 0x31, 4},
               {"pmovzxbq", 0x32, 2}, {"pmovzxwd", 0x33, 8}, {"pmovzxwq", 0x34, 4}, {"pmovzxdq", 0x35, 8}};
  for (const auto& o : kPmov) v.push_back(Sse(o.name, 0x66, {0x0f, 0x38, o.op}, kSse41, o.msize, 0));
  v.push_back(Sse("movntdqa", 0x66, {0x0f, 0x38, 0x2a}, kSse41).Form(5));  // Memory source only.
  v.push_back(Sse("roundps", 0x66, {0x0f, 0x3a, 0x08}, kSse41).Imm8(15));
  v.push_back(Sse("roundpd", 0x66, {0x0f, 0x3a, 0x09}, kSse41).Imm8(15));
  v.push_back(Sse("roundss", 0x66, {0x0f, 0x3a, 0x0a}, kSse41, 4, 0).Imm8(15));
  v.push_back(Sse("roundsd", 0x66, {0x0f, 0x3a, 0x0b}, kSse41, 8, 0).Imm8(15));
  v.push_back(Sse("blendps", 0x66, {0x0f, 0x3a, 0x0c}, kSse41).Imm8(15));
  v.push_back(Sse("blendpd", 0x66, {0x0f, 0x3a, 0x0d}, kSse41).Imm8(3));
  v.push_back(Sse("pblendw", 0x66, {0x0f, 0x3a, 0x0e}, kSse41).Imm8());
  v.push_back(Sse("dpps", 0x66, {0x0f, 0x3a, 0x40}, kSse41).Imm8());
  v.push_back(Sse("dppd", 0x66, {0x0f, 0x3a, 0x41}, kSse41).Imm8(0x33));
  v.push_back(Sse("mpsadbw", 0x66, {0x0f, 0x3a, 0x42}, kSse41).Imm8(7));
  v.push_back(Sse("insertps", 0x66, {0x0f, 0x3a, 0x21}, kSse41, 4, 0).Imm8());
  v.push_back(Sse("pextrb Ed,V,Ib", 0x66, {0x0f, 0x3a, 0x14}, kSse41, 1, 0).Form(4).Imm8());
  v.push_back(Sse("pextrw Ed,V,Ib", 0x66, {0x0f, 0x3a, 0x15}, kSse41, 2, 0).Form(4).Imm8());
  v.push_back(Sse("pextrd/q Ey,V,Ib", 0x66, {0x0f, 0x3a, 0x16}, kSse41, 0, 0).Form(4).Imm8());
  v.push_back(Sse("extractps Ed,V,Ib", 0x66, {0x0f, 0x3a, 0x17}, kSse41, 4, 0).Form(4).Imm8());
  v.push_back(Sse("pinsrb V,Ed,Ib", 0x66, {0x0f, 0x3a, 0x20}, kSse41, 1, 0).Form(3).Imm8());
  v.push_back(Sse("pinsrd/q V,Ey,Ib", 0x66, {0x0f, 0x3a, 0x22}, kSse41, 0, 0).Form(3).Imm8());
  for (Template& t : v) {
    if (t.emit == EmitSse && (t.form >= 1 && t.form <= 4) && t.sizes == 0) {
      // PEXTRB/PEXTRW/EXTRACTPS/PINSRB take a 32-bit GPR; PEXTRD/PINSRD widen with REX.W.
      const bool widens = t.nop == 3 && (t.op[2] == 0x16 || t.op[2] == 0x22);
      t.sizes = widens ? (kS32 | kS64) : kS32;
    }
  }

  // SSE4.2.
  v.push_back(Sse("pcmpgtq", 0x66, {0x0f, 0x38, 0x37}, kSse42));
  v.push_back(Sse("pcmpestrm", 0x66, {0x0f, 0x3a, 0x60}, kSse42, 16, 0).Imm8(0x7f).Flags(kAll6));
  v.push_back(Sse("pcmpestri", 0x66, {0x0f, 0x3a, 0x61}, kSse42, 16, 0).Imm8(0x7f).Flags(kAll6));
  v.push_back(Sse("pcmpistrm", 0x66, {0x0f, 0x3a, 0x62}, kSse42, 16, 0).Imm8(0x7f).Flags(kAll6));
  v.push_back(Sse("pcmpistri", 0x66, {0x0f, 0x3a, 0x63}, kSse42, 16, 0).Imm8(0x7f).Flags(kAll6));
  return v;
}

}  // namespace

const std::vector<Template>& AllTemplates() {
  static const std::vector<Template> table = BuildTable();
  return table;
}

}  // namespace x86vm::difftest
