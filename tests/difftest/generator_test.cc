// The encoder and the case generator, checked without any engine: known
// encodings byte for byte, every template decodable by Capstone in every
// mode, determinism, and the SDM undefined-flag masks of a few templates.
#include <capstone/capstone.h>
#include <gtest/gtest.h>

#include "tests/difftest/case_generator.h"
#include "tests/difftest/disasm.h"
#include "tests/difftest/encoder.h"

namespace x86vm::difftest {
namespace {

std::vector<uint8_t> Enc(DiffMode mode, const InsnSpec& s, uint64_t addr = 0x400000) {
  std::vector<uint8_t> out;
  Encode(mode, addr, s, out);
  return out;
}

InsnSpec ModRm(std::vector<uint8_t> op, int reg, RmOperand rm, bool w = false) {
  InsnSpec s;
  s.opcode = std::move(op);
  s.has_modrm = true;
  s.reg = reg;
  s.rm = rm;
  s.rex_w = w;
  return s;
}

TEST(EncoderTest, RegisterForms) {
  EXPECT_EQ(Enc(DiffMode::kLong64, ModRm({0x01}, kDRbx, RmOperand::Reg(kDRax), true)),
            (std::vector<uint8_t>{0x48, 0x01, 0xd8}));  // add rax, rbx
  EXPECT_EQ(Enc(DiffMode::kLong64, ModRm({0x01}, kDR9, RmOperand::Reg(kDR12), true)),
            (std::vector<uint8_t>{0x4d, 0x01, 0xcc}));  // add r12, r9
  EXPECT_EQ(Enc(DiffMode::kProt32, ModRm({0x01}, kDRbx, RmOperand::Reg(kDRax))),
            (std::vector<uint8_t>{0x01, 0xd8}));  // add eax, ebx
  InsnSpec spl = ModRm({0x88}, kDRsp, RmOperand::Reg(kDRax));
  spl.force_rex = true;
  EXPECT_EQ(Enc(DiffMode::kLong64, spl), (std::vector<uint8_t>{0x40, 0x88, 0xe0}));  // mov al, spl
}

TEST(EncoderTest, MemoryForms) {
  MemOperand m;
  m.base = kDRbp;  // [rbp] needs mod 01 with disp8 0.
  EXPECT_EQ(Enc(DiffMode::kLong64, ModRm({0x8b}, kDRax, RmOperand::Mem(m))),
            (std::vector<uint8_t>{0x8b, 0x45, 0x00}));
  m.base = kDR12;  // [r12] needs a SIB byte.
  EXPECT_EQ(Enc(DiffMode::kLong64, ModRm({0x8b}, kDRax, RmOperand::Mem(m))),
            (std::vector<uint8_t>{0x41, 0x8b, 0x04, 0x24}));
  m.base = kDRbx;
  m.index = kDR9;
  m.scale = 8;
  m.disp = 0x80;  // Does not fit in disp8.
  EXPECT_EQ(Enc(DiffMode::kLong64, ModRm({0x8b}, kDRax, RmOperand::Mem(m))),
            (std::vector<uint8_t>{0x42, 0x8b, 0x84, 0xcb, 0x80, 0x00, 0x00, 0x00}));
  MemOperand abs;
  abs.disp = 0x600000;
  abs.use_sib_no_base = true;
  EXPECT_EQ(Enc(DiffMode::kLong64, ModRm({0x8b}, kDRax, RmOperand::Mem(abs))),
            (std::vector<uint8_t>{0x8b, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00}));
  abs.use_sib_no_base = false;
  EXPECT_EQ(Enc(DiffMode::kProt32, ModRm({0x8b}, kDRax, RmOperand::Mem(abs))),
            (std::vector<uint8_t>{0x8b, 0x05, 0x00, 0x00, 0x60, 0x00}));
  MemOperand rip;
  rip.rip_relative = true;
  rip.disp = 0x400010;  // Target; the instruction ends at 0x400007 (+1 imm8).
  InsnSpec s = ModRm({0xc1}, 4, RmOperand::Mem(rip));
  s.imm = 3;
  s.imm_bytes = 1;
  EXPECT_EQ(Enc(DiffMode::kLong64, s), (std::vector<uint8_t>{0xc1, 0x25, 0x09, 0x00, 0x00, 0x00, 0x03}));
  MemOperand m16;
  m16.addr16 = true;
  m16.rm16 = 2;  // [bp+si]
  m16.disp = -2;
  EXPECT_EQ(Enc(DiffMode::kReal16, ModRm({0x8b}, kDRax, RmOperand::Mem(m16))),
            (std::vector<uint8_t>{0x8b, 0x42, 0xfe}));
  m16.rm16 = 6;  // [bp] has no mod-00 form.
  m16.disp = 0;
  EXPECT_EQ(Enc(DiffMode::kReal16, ModRm({0x8b}, kDRax, RmOperand::Mem(m16))),
            (std::vector<uint8_t>{0x8b, 0x46, 0x00}));
}

TEST(EncoderTest, OpcodeRegisterAndImmediates) {
  InsnSpec s;
  s.opcode = {0xb8};
  s.opcode_reg = kDR10;
  s.rex_w = true;
  s.imm = 0x1122334455667788ull;
  s.imm_bytes = 8;
  EXPECT_EQ(Enc(DiffMode::kLong64, s),
            (std::vector<uint8_t>{0x49, 0xba, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11}));
}

// Every byte of every generated case decodes, in every mode.
TEST(GeneratorTest, EveryTemplateDecodes) {
  for (DiffMode mode : {DiffMode::kReal16, DiffMode::kProt32, DiffMode::kLong64}) {
    GenOptions options;
    options.mode = mode;
    options.misaligned_sse = true;
    CaseGenerator gen(7, options);
    const std::vector<std::string> names = gen.TemplateNames();
    EXPECT_GT(names.size(), mode == DiffMode::kLong64 ? 300u : 250u);
    std::string failures;
    for (const std::string& name : names) {
      for (int i = 0; i < 20; ++i) {
        DiffCase c = gen.ForTemplate(name);
        ASSERT_FALSE(c.code.empty()) << name;
        ASSERT_EQ(c.undefined_flags_at.size(), c.code.size()) << name;
        const std::string listing = Disassemble(mode, c.regs.rip, c.code);
        const size_t bad = listing.find("(bad)");
        // Capstone 4.0.2 cannot decode SSE with a mandatory 66/F2/F3 prefix in
        // 16-bit mode (it takes 66 as the operand-size toggle),
        // also behind a 67 prefix; Unicorn runs
        // those cases (UnicornOracleTest.RunsGeneratedLegacyCases).
        if (bad != std::string::npos && mode == DiffMode::kReal16) {
          const size_t line = listing.rfind('\n', bad);
          const std::string head = listing.substr(line == std::string::npos ? 0 : line, bad - line);
          if (head.find(": 66 ") != std::string::npos || head.find(": 67 ") != std::string::npos ||
              head.find(": f2 ") != std::string::npos || head.find(": f3 ") != std::string::npos) {
            continue;
          }
        }
        if (bad != std::string::npos) {
          failures += std::string(ModeName(mode)) + " " + name + "\n" + listing;
          break;
        }
      }
    }
    EXPECT_TRUE(failures.empty()) << failures;
  }
}

TEST(GeneratorTest, SameSeedSameCases) {
  GenOptions options;
  CaseGenerator a(99, options);
  CaseGenerator b(99, options);
  for (int i = 0; i < 200; ++i) {
    DiffCase x = a.Next();
    DiffCase y = b.Next();
    ASSERT_EQ(x.code, y.code);
    ASSERT_EQ(x.regs, y.regs);
    ASSERT_EQ(x.undefined_flags, y.undefined_flags);
  }
}

TEST(GeneratorTest, UndefinedFlagsFollowTheSdm) {
  GenOptions options;
  CaseGenerator gen(3, options);
  // Logic ops leave AF undefined; MUL defines only CF/OF; BSF only ZF;
  // DIV defines nothing; ADD and POPCNT define everything.
  EXPECT_EQ(gen.ForTemplate("and Ev,Gv").undefined_flags, dflags::kAf);
  EXPECT_EQ(gen.ForTemplate("mul Ev").undefined_flags, dflags::kSf | dflags::kZf | dflags::kAf | dflags::kPf);
  EXPECT_EQ(gen.ForTemplate("bsf Gv,Ev").undefined_flags, dflags::kStatus & ~dflags::kZf);
  EXPECT_EQ(gen.ForTemplate("add Ev,Gv").undefined_flags, 0u);
  EXPECT_EQ(gen.ForTemplate("popcnt Gv,Ev").undefined_flags, 0u);
  for (int i = 0; i < 50; ++i) {
    DiffCase c = gen.ForTemplate("div Ev");
    // Either the case raised nothing and every flag is undefined, or the
    // divisor was zero; in both cases the mask after DIV is all six flags.
    EXPECT_EQ(c.undefined_flags, dflags::kStatus);
  }
  // A one-bit shift defines OF; a multi-bit one does not (SDM SAL/SAR/SHL/SHR).
  bool saw_one = false, saw_multi = false;
  for (int i = 0; i < 200; ++i) {
    DiffCase c = gen.ForTemplate("shl Ev,Ib");
    const uint8_t count = c.code.back();
    // Counts whose 5- and 6-bit masks agree, so the operand size does not matter.
    if ((count & 0x1f) != (count & 0x3f)) continue;
    const int masked = count & 0x1f;
    if (masked == 1) {
      saw_one = true;
      EXPECT_EQ(c.undefined_flags & dflags::kOf, 0u);
    } else if (masked > 1) {
      saw_multi = true;
      EXPECT_NE(c.undefined_flags & dflags::kOf, 0u);
    }
  }
  EXPECT_TRUE(saw_one);
  EXPECT_TRUE(saw_multi);
}

}  // namespace
}  // namespace x86vm::difftest
