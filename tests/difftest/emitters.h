// The template emitters (emitters.cc), one per instruction shape; the table
// in templates.cc names which one each template uses.
#ifndef X86VM_TESTS_DIFFTEST_EMITTERS_H_
#define X86VM_TESTS_DIFFTEST_EMITTERS_H_

#include "tests/difftest/templates.h"

namespace x86vm::difftest {

// "Ev, Gv" / "Gv, Ev" forms (ADD, MOV, XCHG, TEST, CMPXCHG, XADD, BSF...).
void EmitModrm(GenCtx& g, const Template& t);
// Group 1 with an immediate: 80 /d ib, 81 /d iz, 83 /d ib (sign-extended);
// also C6/C7 /0 (MOV) and F6/F7 /0 (TEST) with t.form = 1 (no 83 form).
void EmitGroupImm(GenCtx& g, const Template& t);
// AL/eAX, imm (04/05, 0C/0D, A8/A9...).
void EmitAccImm(GenCtx& g, const Template& t);
// Unary r/m: NOT/NEG (F6/F7 /2,/3), INC/DEC (FE/FF /0,/1), one-operand MUL/IMUL.
void EmitUnary(GenCtx& g, const Template& t);
// Shifts and rotates (SDM Vol. 2 "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR").
// t.digit is the /digit; t.form: 0 = by imm8 (C0/C1), 1 = by 1 (D0/D1),
// 2 = by CL (D2/D3).
void EmitShift(GenCtx& g, const Template& t);
// SHLD/SHRD (0F A4/A5, 0F AC/AD). t.form: 0 = imm8, 2 = CL.
void EmitShiftDouble(GenCtx& g, const Template& t);
// DIV/IDIV (F6/F7 /6,/7) with operands set up so the quotient fits, or, when
// faults are allowed, now and then a zero divisor (#DE).
void EmitDivide(GenCtx& g, const Template& t);
// IMUL Gv, Ev (0F AF) and IMUL Gv, Ev, Iz/Ib (69/6B).
void EmitImul(GenCtx& g, const Template& t);
// BT/BTS/BTR/BTC with a register bit offset (0F A3/AB/B3/BB). With a memory
// operand the offset addresses a bit string (SDM Vol. 2 BT): kept inside the data.
void EmitBitTestReg(GenCtx& g, const Template& t);
// BT/BTS/BTR/BTC r/m, imm8 (0F BA /4../7).
void EmitBitTestImm(GenCtx& g, const Template& t);
// BSF/BSR (t.form 1: a zero source leaves the destination undefined on
// Intel, so the source is made non-zero, or the destination is overwritten
// right after) and TZCNT/LZCNT/POPCNT (always defined).
void EmitBitScan(GenCtx& g, const Template& t);
// CMPXCHG (0F B0/B1): half the time RAX is made equal to the destination.
void EmitCmpxchg(GenCtx& g, const Template& t);
// BSWAP r32/r64 (0F C8+r). 16-bit BSWAP is undefined and not generated.
void EmitBswap(GenCtx& g, const Template& t);
// SETcc r/m8 (0F 90+cc), CMOVcc (0F 40+cc), Jcc rel8 (70+cc) over a filler.
void EmitCondition(GenCtx& g, const Template& t);
// String instructions (SDM Vol. 2 MOVS/CMPS/STOS/LODS/SCAS) with REP/REPE/REPNE
// (t.form 1 = F3, 2 = F2) and small counts, addresses inside the data pages.
void EmitString(GenCtx& g, const Template& t);
// LEA in every addressing form: either a real data address with its setup or
// random registers as they are (LEA never touches memory).
void EmitLea(GenCtx& g, const Template& t);
// PUSH/POP in their forms. t.form: 0 push r, 1 pop r, 2 push imm8, 3 push
// imm, 4 push r/m, 5 pop r/m, 6 PUSHF, 7 POPF (of a pushed immediate with TF
// clear, so no single-step trap).
void EmitStack(GenCtx& g, const Template& t);
// Fixed encodings without operands (CBW/CWD families, CLC/STC/CMC/CLD/STD,
// LAHF/SAHF, XCHG eAX,r, BCD adjustments). t.form 1: sized by 66h/REX.W.
void EmitFixed(GenCtx& g, const Template& t);
// AAM/AAD imm8 (D4/D5). AAM 0 raises #DE.
void EmitAsciiAdjustImm(GenCtx& g, const Template& t);
// MOVBE Gv, Mv / Mv, Gv (0F 38 F0/F1): memory operand only.
void EmitMovbe(GenCtx& g, const Template& t);
// CRC32 Gd/Gq, Eb (F2 0F 38 F0) and Gd/Gq, Ev (F2 0F 38 F1).
void EmitCrc32(GenCtx& g, const Template& t);
// XMM/GPR roles (t.form): 0 = V, W (xmm reg, xmm/mem); 1 = G, U (gpr dest,
// xmm register: MOVMSKPS, PMOVMSKB, PEXTRW C5); 2 = G, W (gpr dest, xmm/mem:
// CVTTSS2SI...); 3 = V, E (xmm dest, gpr/mem: CVTSI2SS, MOVD 6E, PINSR*);
// 4 = E, V (gpr/mem dest, xmm: MOVD 7E, PEXTR*, EXTRACTPS); 5 = W, V (xmm/mem
// dest: MOVDQA/MOVUPS stores).
void EmitSse(GenCtx& g, const Template& t);
// PSRLW/PSRAW/PSLLW... by imm8 (66 0F 71/72/73 /digit ib), register only.
void EmitSseShiftImm(GenCtx& g, const Template& t);

}  // namespace x86vm::difftest

#endif  // X86VM_TESTS_DIFFTEST_EMITTERS_H_
