// Decoder tests: every table row parses, and encodings decode to the right
// row, length, operand/address size, ModRM/SIB fields and immediates.
#include "cpu/decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cpu/cpu_state.h"
#include "cpu/handlers.h"

namespace x86vm {
namespace {

Insn DecodeOk(CodeMode mode, std::vector<uint8_t> bytes) {
  Insn insn;
  EXPECT_EQ(Decode(OpcodeTable::Get(), mode, bytes.data(), bytes.size(), insn), DecodeStatus::kOk);
  EXPECT_EQ(insn.length, bytes.size());
  return insn;
}

std::string Mnemonic(const Insn& i) { return i.row ? i.row->mnemonic : "(none)"; }

TEST(OpcodeTableTest, EveryRowParsesAndHasHandlers) {
  for (const OpcodeRow& row : DefaultOpcodeRows()) {
    RowInfo info;
    EXPECT_TRUE(ParseOpcodeRow(row, info)) << row.opcode << " " << row.mnemonic;
    for (Handler h : row.handlers) EXPECT_NE(h, nullptr) << row.opcode;
  }
  EXPECT_GT(OpcodeTable::Get().rows().size(), 300u);
}

TEST(OpcodeTableTest, ParsesSdmNotation) {
  const OpcodeRow row{"F3 0F BA /5", "X", "Ev,Ib", row_attr::kLockable, {}};
  RowInfo info;
  ASSERT_TRUE(ParseOpcodeRow(row, info));
  EXPECT_EQ(info.map, OpcodeMap::k0F);
  EXPECT_EQ(info.opcode, 0xBA);
  EXPECT_EQ(info.prefix, static_cast<int8_t>(0xF3));
  EXPECT_EQ(info.reg, 5);
  EXPECT_TRUE(info.needs_modrm);
  EXPECT_EQ(info.imm, RowInfo::Imm::kB);
  const OpcodeRow fadd{"D8 /0 mod=11", "FADD", "", 0, {}};
  ASSERT_TRUE(ParseOpcodeRow(fadd, info));
  EXPECT_TRUE(info.reg_only);
  EXPECT_EQ(info.reg, 0);
  const OpcodeRow bad{"0F GG", "X", "", 0, {}};
  EXPECT_FALSE(ParseOpcodeRow(bad, info));
  const OpcodeRow enter{"C8", "ENTER", "Iw,Ib", 0, {}};
  ASSERT_TRUE(ParseOpcodeRow(enter, info));
  EXPECT_EQ(info.imm, RowInfo::Imm::kWB);
  EXPECT_FALSE(info.needs_modrm);
}

TEST(DecoderTest, ModrmSibDisp32) {
  // add [rax + rcx*4 + 0x12345678], edx
  Insn i = DecodeOk(CodeMode::k64, {0x01, 0x94, 0x88, 0x78, 0x56, 0x34, 0x12});
  EXPECT_EQ(Mnemonic(i), "ADD");
  EXPECT_EQ(i.handler, &AddEvGv32);
  EXPECT_EQ(i.base, kRax);
  EXPECT_EQ(i.index, kRcx);
  EXPECT_EQ(i.scale, 2);
  EXPECT_EQ(i.disp, 0x12345678u);
  EXPECT_EQ(i.reg, kRdx);
  EXPECT_EQ(i.seg, kDs);
}

TEST(DecoderTest, RexExtendsRegistersAndWidth) {
  // mov r9, [r12 + r13*8 - 8]  (4F 8B 4C EC F8)
  Insn i = DecodeOk(CodeMode::k64, {0x4f, 0x8b, 0x4c, 0xec, 0xf8});
  EXPECT_EQ(i.opsize, 8);
  EXPECT_EQ(i.reg, kR9);
  EXPECT_EQ(i.base, kR12);
  EXPECT_EQ(i.index, kR13);
  EXPECT_EQ(i.disp, static_cast<uint64_t>(-8));
  // A REX before a legacy prefix is ignored (SDM Vol. 2 2.2.1): 48 66 01 C0.
  Insn j = DecodeOk(CodeMode::k64, {0x48, 0x66, 0x01, 0xc0});
  EXPECT_EQ(j.opsize, 2);
}

TEST(DecoderTest, RipRelativeAndStackDefaultSegment) {
  Insn i = DecodeOk(CodeMode::k64, {0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00});
  EXPECT_TRUE(i.has(insn_flags::kRipRelative));
  EXPECT_EQ(i.disp, 0x10u);
  Insn j = DecodeOk(CodeMode::k32, {0x8b, 0x45, 0x08});  // mov eax, [ebp+8]
  EXPECT_EQ(j.seg, kSs);
  EXPECT_FALSE(j.has(insn_flags::kRipRelative));
  Insn k = DecodeOk(CodeMode::k32, {0x8b, 0x05, 0x00, 0x10, 0x00, 0x00});  // [disp32]
  EXPECT_EQ(k.base, kNoReg);
  EXPECT_EQ(k.disp, 0x1000u);
}

TEST(DecoderTest, SixteenBitAddressing) {
  Insn i = DecodeOk(CodeMode::k16, {0x8b, 0x42, 0xfe});  // mov ax, [bp+si-2]
  EXPECT_EQ(i.opsize, 2);
  EXPECT_EQ(i.addrsize, 2);
  EXPECT_EQ(i.base, kRbp);
  EXPECT_EQ(i.index, kRsi);
  EXPECT_EQ(i.seg, kSs);
  Insn j = DecodeOk(CodeMode::k16, {0x26, 0x8b, 0x1e, 0x34, 0x12});  // mov bx, es:[0x1234]
  EXPECT_EQ(j.seg, kEs);
  EXPECT_EQ(j.base, kNoReg);
  EXPECT_EQ(j.disp, 0x1234u);
  Insn k = DecodeOk(CodeMode::k16, {0x66, 0x67, 0x8b, 0x04, 0x24});  // mov eax, [esp]
  EXPECT_EQ(k.opsize, 4);
  EXPECT_EQ(k.addrsize, 4);
  EXPECT_EQ(k.base, kRsp);
}

TEST(DecoderTest, ImmediatesAndOperandSizes) {
  Insn i = DecodeOk(CodeMode::k64, {0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8});  // mov rax, imm64
  EXPECT_EQ(i.imm, 0x0807060504030201u);
  Insn j = DecodeOk(CodeMode::k64, {0x48, 0x83, 0xc0, 0xff});  // add rax, -1
  EXPECT_EQ(j.imm, ~0ull);
  EXPECT_EQ(j.handler, &Grp1EvIb64);
  Insn k = DecodeOk(CodeMode::k64, {0x50});  // push rax: d64
  EXPECT_EQ(k.opsize, 8);
  Insn l = DecodeOk(CodeMode::k64, {0x66, 0xe8, 0, 0, 0, 0});  // call rel32: f64 ignores 66
  EXPECT_EQ(l.opsize, 8);
  EXPECT_EQ(l.length, 6);
  Insn m = DecodeOk(CodeMode::k32, {0xc8, 0x10, 0x00, 0x02});  // enter 16, 2
  EXPECT_EQ(m.imm, 16u);
  EXPECT_EQ(m.imm2, 2);
  Insn n = DecodeOk(CodeMode::k16, {0xea, 0x00, 0x7c, 0x00, 0x00});  // jmp 0000:7c00
  EXPECT_EQ(n.imm, 0x7c00u);
  EXPECT_EQ(n.imm2, 0);
  Insn o = DecodeOk(CodeMode::k64, {0xa1, 1, 2, 3, 4, 5, 6, 7, 8});  // mov eax, moffs64
  EXPECT_EQ(o.disp, 0x0807060504030201u);
  EXPECT_EQ(o.base, kNoReg);
}

TEST(DecoderTest, GroupsMandatoryPrefixesAndModes) {
  EXPECT_EQ(Mnemonic(DecodeOk(CodeMode::k64, {0x0f, 0x01, 0xf8})), "SWAPGS");
  EXPECT_EQ(Mnemonic(DecodeOk(CodeMode::k64, {0x0f, 0x01, 0x38})), "INVLPG");
  EXPECT_EQ(Mnemonic(DecodeOk(CodeMode::k64, {0xf3, 0x0f, 0xb8, 0xc1})), "POPCNT");
  EXPECT_EQ(Mnemonic(DecodeOk(CodeMode::k64, {0x0f, 0xbc, 0xc1})), "BSF");
  EXPECT_EQ(Mnemonic(DecodeOk(CodeMode::k64, {0xf3, 0x0f, 0xbc, 0xc1})), "TZCNT");
  EXPECT_EQ(Mnemonic(DecodeOk(CodeMode::k64, {0x63, 0xc1})), "MOVSXD");
  EXPECT_EQ(Mnemonic(DecodeOk(CodeMode::k32, {0x63, 0xc1})), "ARPL");
  EXPECT_EQ(Mnemonic(DecodeOk(CodeMode::k32, {0x80, 0x38, 0x01})), "CMP");
  EXPECT_EQ(Mnemonic(DecodeOk(CodeMode::k32, {0x40})), "INC");
  // i64 opcodes have no row in 64-bit mode: #UD.
  EXPECT_EQ(DecodeOk(CodeMode::k64, {0x06}).handler, &RaiseUd);
  // INVLPG with a register operand is #UD.
  EXPECT_EQ(DecodeOk(CodeMode::k64, {0x0f, 0x01, 0xff}).handler, &RaiseUd);
}

TEST(DecoderTest, LockRules) {
  EXPECT_EQ(DecodeOk(CodeMode::k32, {0xf0, 0x01, 0x08}).handler, &AddEvGv32);  // lock add [eax], ecx
  EXPECT_EQ(DecodeOk(CodeMode::k32, {0xf0, 0x01, 0xc8}).handler, &RaiseUd);   // register destination
  EXPECT_EQ(DecodeOk(CodeMode::k32, {0xf0, 0x8b, 0x08}).handler, &RaiseUd);   // mov is not lockable
  EXPECT_EQ(DecodeOk(CodeMode::k32, {0xf0, 0x80, 0x38, 1}).handler, &RaiseUd);  // cmp
}

TEST(DecoderTest, LengthLimitsAndShortInput) {
  std::vector<uint8_t> long_insn(14, 0x66);
  long_insn.push_back(0x90);
  long_insn.push_back(0x90);
  Insn insn;
  long_insn.erase(long_insn.end() - 1);
  // 14 prefixes + NOP = 15 bytes: allowed.
  EXPECT_EQ(Decode(OpcodeTable::Get(), CodeMode::k32, long_insn.data(), long_insn.size(), insn),
            DecodeStatus::kOk);
  long_insn.insert(long_insn.begin(), 0x66);
  EXPECT_EQ(Decode(OpcodeTable::Get(), CodeMode::k32, long_insn.data(), long_insn.size(), insn),
            DecodeStatus::kTooLong);
  uint8_t partial[] = {0x48, 0xb8, 1, 2};
  EXPECT_EQ(Decode(OpcodeTable::Get(), CodeMode::k64, partial, sizeof(partial), insn),
            DecodeStatus::kNeedMore);
}

}  // namespace
}  // namespace x86vm
