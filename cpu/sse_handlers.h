// Handlers of the MMX, SSE-SSE4.2, XSAVE and CRC32/PCLMULQDQ rows of
// opcode_table.cc (SDM Vol. 2 Appendix A, Tables ), included by
// handlers.h. Names follow the row notation: PaddbPqQq is PADDB Pq,Qq (the
// MMX form), PaddbVxWx the 66-prefixed XMM form. Families of identical shape
// are listed once (X-macros) and defined from the same lists in
// exec_sse_*.cc.
#ifndef X86VM_CPU_SSE_HANDLERS_H_
#define X86VM_CPU_SSE_HANDLERS_H_

#include "cpu/insn.h"

namespace x86vm {

// Integer operations with an MMX form (NP Pq,Qq) and an XMM form (66 Vx,Wx);
// the name is the cpu/simd function.
#define X86VM_SSE_INT_MMX_XMM(X)                                                        \
  X(Packsswb) X(Pcmpgtb) X(Pcmpgtw) X(Pcmpgtd) X(Packuswb) X(Punpckhbw) X(Punpckhwd)     \
  X(Punpckhdq) X(Packssdw) X(Pcmpeqb) X(Pcmpeqw) X(Pcmpeqd) X(Paddq) X(Pmullw)          \
  X(Psubusb) X(Psubusw) X(Pminub) X(Pand) X(Paddusb) X(Paddusw) X(Pmaxub) X(Pandn)      \
  X(Pavgb) X(Pavgw) X(Pmulhuw) X(Pmulhw) X(Psubsb) X(Psubsw) X(Pminsw) X(Por) X(Paddsb) \
  X(Paddsw) X(Pmaxsw) X(Pxor) X(Pmuludq) X(Pmaddwd) X(Psadbw) X(Psubb) X(Psubw)         \
  X(Psubd) X(Psubq) X(Paddb) X(Paddw) X(Paddd) X(Pshufb) X(Phaddw) X(Phaddd) X(Phaddsw) \
  X(Pmaddubsw) X(Phsubw) X(Phsubd) X(Phsubsw) X(Psignb) X(Psignw) X(Psignd) X(Pmulhrsw)

// The low-half unpacks: the MMX form reads only 32 bits of memory (Pq,Qd).
#define X86VM_SSE_INT_MMX_XMM_LOW(X) X(Punpcklbw) X(Punpcklwd) X(Punpckldq)

// Integer operations with only an XMM form (66 Vx,Wx). UNPCKLPS/PD and
// UNPCKHPS/PD use the punpck handlers; ANDPS & co. the logic ones.
#define X86VM_SSE_INT_XMM(X)                                                             \
  X(Punpcklqdq) X(Punpckhqdq) X(Pmuldq) X(Pcmpeqq) X(Packusdw) X(Pcmpgtq) X(Pminsb)      \
  X(Pminsd) X(Pminuw) X(Pminud) X(Pmaxsb) X(Pmaxsd) X(Pmaxuw) X(Pmaxud) X(Pmulld)

// One-operand integer operations with MMX and XMM forms.
#define X86VM_SSE_INT_UNARY(X) X(Pabsb) X(Pabsw) X(Pabsd)

// Per-lane shifts: by a register/memory count (Pq,Qq / Vx,Wx) and by an
// immediate (groups 12-14: Nq,Ib / Ux,Ib).
#define X86VM_SSE_SHIFTS(X) \
  X(Psrlw) X(Psrld) X(Psrlq) X(Psraw) X(Psrad) X(Psllw) X(Pslld) X(Psllq)

// PMOVSX/PMOVZX (SSE4.1): the op and the bytes read from memory.
#define X86VM_SSE_PMOVX(X)                                                               \
  X(Pmovsxbw, 8) X(Pmovsxbd, 4) X(Pmovsxbq, 2) X(Pmovsxwd, 8) X(Pmovsxwq, 4)             \
  X(Pmovsxdq, 8) X(Pmovzxbw, 8) X(Pmovzxbd, 4) X(Pmovzxbq, 2) X(Pmovzxwd, 8)             \
  X(Pmovzxwq, 4) X(Pmovzxdq, 8)

// Floating-point arithmetic with PS, PD, SS and SD forms (ADDPS ... MAXSD).
#define X86VM_SSE_FP_ARITH(X) X(Add) X(Sub) X(Mul) X(Div) X(Min) X(Max) X(Sqrt)

#define X86VM_SSE_DECLARE_MMX_XMM(op) \
  Fault op##PqQq(Cpu&, const Insn&);  \
  Fault op##VxWx(Cpu&, const Insn&);
#define X86VM_SSE_DECLARE_MMX_XMM_LOW(op) \
  Fault op##PqQd(Cpu&, const Insn&);      \
  Fault op##VxWx(Cpu&, const Insn&);
#define X86VM_SSE_DECLARE_XMM(op) Fault op##VxWx(Cpu&, const Insn&);
#define X86VM_SSE_DECLARE_SHIFT(op)   \
  Fault op##PqQq(Cpu&, const Insn&);  \
  Fault op##VxWx(Cpu&, const Insn&);  \
  Fault op##NqIb(Cpu&, const Insn&);  \
  Fault op##UxIb(Cpu&, const Insn&);
#define X86VM_SSE_DECLARE_PMOVX(op, bytes) Fault op##VxWx(Cpu&, const Insn&);
#define X86VM_SSE_DECLARE_FP(op)         \
  Fault op##psVxWx(Cpu&, const Insn&);   \
  Fault op##pdVxWx(Cpu&, const Insn&);   \
  Fault op##ssVxWx(Cpu&, const Insn&);   \
  Fault op##sdVxWx(Cpu&, const Insn&);

X86VM_SSE_INT_MMX_XMM(X86VM_SSE_DECLARE_MMX_XMM)
X86VM_SSE_INT_MMX_XMM_LOW(X86VM_SSE_DECLARE_MMX_XMM_LOW)
X86VM_SSE_INT_XMM(X86VM_SSE_DECLARE_XMM)
X86VM_SSE_INT_UNARY(X86VM_SSE_DECLARE_MMX_XMM)
X86VM_SSE_SHIFTS(X86VM_SSE_DECLARE_SHIFT)
X86VM_SSE_PMOVX(X86VM_SSE_DECLARE_PMOVX)
X86VM_SSE_FP_ARITH(X86VM_SSE_DECLARE_FP)

// exec_sse_int.cc: the rest of the integer instructions.
Fault PsrldqUxIb(Cpu&, const Insn&);
Fault PslldqUxIb(Cpu&, const Insn&);
Fault PhminposuwVxWx(Cpu&, const Insn&);
Fault PtestVxWx(Cpu&, const Insn&);
Fault MpsadbwVxWxIb(Cpu&, const Insn&);
Fault PclmulqdqVxWxIb(Cpu&, const Insn&);
Fault EmmsHandler(Cpu&, const Insn&);

// exec_sse_shuffle.cc: permutations, blends, inserts and extracts.
Fault PshufwPqQqIb(Cpu&, const Insn&);
Fault PshufdVxWxIb(Cpu&, const Insn&);
Fault PshufhwVxWxIb(Cpu&, const Insn&);
Fault PshuflwVxWxIb(Cpu&, const Insn&);
Fault PalignrPqQqIb(Cpu&, const Insn&);
Fault PalignrVxWxIb(Cpu&, const Insn&);
Fault ShufpsVxWxIb(Cpu&, const Insn&);
Fault ShufpdVxWxIb(Cpu&, const Insn&);
Fault BlendpsVxWxIb(Cpu&, const Insn&);
Fault BlendpdVxWxIb(Cpu&, const Insn&);
Fault PblendwVxWxIb(Cpu&, const Insn&);
Fault PblendvbVxWx(Cpu&, const Insn&);
Fault BlendvpsVxWx(Cpu&, const Insn&);
Fault BlendvpdVxWx(Cpu&, const Insn&);
Fault PextrwGdNqIb(Cpu&, const Insn&);
Fault PextrwGdUxIb(Cpu&, const Insn&);
Fault PextrwEwVxIb(Cpu&, const Insn&);
Fault PextrbEbVxIb(Cpu&, const Insn&);
Fault PextrdEyVxIb32(Cpu&, const Insn&);
Fault PextrdEyVxIb64(Cpu&, const Insn&);
Fault ExtractpsEdVxIb(Cpu&, const Insn&);
Fault PinsrwPqEwIb(Cpu&, const Insn&);
Fault PinsrwVxEwIb(Cpu&, const Insn&);
Fault PinsrbVxEbIb(Cpu&, const Insn&);
Fault PinsrdVxEyIb32(Cpu&, const Insn&);
Fault PinsrdVxEyIb64(Cpu&, const Insn&);
Fault InsertpsVxWxIb(Cpu&, const Insn&);

// exec_sse_move.cc: loads, stores and register moves.
Fault MovupsVxWx(Cpu&, const Insn&);
Fault MovupsWxVx(Cpu&, const Insn&);
Fault MovapsVxWx(Cpu&, const Insn&);
Fault MovapsWxVx(Cpu&, const Insn&);
Fault MovssVxWx(Cpu&, const Insn&);
Fault MovssWxVx(Cpu&, const Insn&);
Fault MovsdVxWx(Cpu&, const Insn&);
Fault MovsdWxVx(Cpu&, const Insn&);
Fault MovlpsVqMq(Cpu&, const Insn&);
Fault MovhlpsVqUq(Cpu&, const Insn&);
Fault MovlpsMqVq(Cpu&, const Insn&);
Fault MovhpsVqMq(Cpu&, const Insn&);
Fault MovlhpsVqUq(Cpu&, const Insn&);
Fault MovhpsMqVq(Cpu&, const Insn&);
Fault MovsldupVxWx(Cpu&, const Insn&);
Fault MovshdupVxWx(Cpu&, const Insn&);
Fault MovddupVxWx(Cpu&, const Insn&);
Fault MovmskpsGdUx(Cpu&, const Insn&);
Fault MovmskpdGdUx(Cpu&, const Insn&);
Fault PmovmskbGdNq(Cpu&, const Insn&);
Fault PmovmskbGdUx(Cpu&, const Insn&);
Fault MovdPdEy32(Cpu&, const Insn&);
Fault MovdPdEy64(Cpu&, const Insn&);
Fault MovdEyPd32(Cpu&, const Insn&);
Fault MovdEyPd64(Cpu&, const Insn&);
Fault MovdVyEy32(Cpu&, const Insn&);
Fault MovdVyEy64(Cpu&, const Insn&);
Fault MovdEyVy32(Cpu&, const Insn&);
Fault MovdEyVy64(Cpu&, const Insn&);
Fault MovqPqQq(Cpu&, const Insn&);
Fault MovqQqPq(Cpu&, const Insn&);
Fault MovqVxWq(Cpu&, const Insn&);
Fault MovqWqVx(Cpu&, const Insn&);
Fault Movq2dqVxNq(Cpu&, const Insn&);
Fault Movdq2qPqUx(Cpu&, const Insn&);
Fault MaskmovqPqNq(Cpu&, const Insn&);
Fault MaskmovdquVxUx(Cpu&, const Insn&);

// exec_sse_float.cc: floating-point arithmetic and compares.
Fault RcppsVxWx(Cpu&, const Insn&);
Fault RcpssVxWx(Cpu&, const Insn&);
Fault RsqrtpsVxWx(Cpu&, const Insn&);
Fault RsqrtssVxWx(Cpu&, const Insn&);
Fault CmppsVxWxIb(Cpu&, const Insn&);
Fault CmppdVxWxIb(Cpu&, const Insn&);
Fault CmpssVxWxIb(Cpu&, const Insn&);
Fault CmpsdVxWxIb(Cpu&, const Insn&);
Fault ComissVxWx(Cpu&, const Insn&);
Fault UcomissVxWx(Cpu&, const Insn&);
Fault ComisdVxWx(Cpu&, const Insn&);
Fault UcomisdVxWx(Cpu&, const Insn&);
Fault HaddpsVxWx(Cpu&, const Insn&);
Fault HsubpsVxWx(Cpu&, const Insn&);
Fault HaddpdVxWx(Cpu&, const Insn&);
Fault HsubpdVxWx(Cpu&, const Insn&);
Fault AddsubpsVxWx(Cpu&, const Insn&);
Fault AddsubpdVxWx(Cpu&, const Insn&);
Fault RoundpsVxWxIb(Cpu&, const Insn&);
Fault RoundpdVxWxIb(Cpu&, const Insn&);
Fault RoundssVxWxIb(Cpu&, const Insn&);
Fault RoundsdVxWxIb(Cpu&, const Insn&);
Fault DppsVxWxIb(Cpu&, const Insn&);
Fault DppdVxWxIb(Cpu&, const Insn&);

// exec_sse_convert.cc: conversions between integers, floats and doubles.
Fault Cvtpi2psVxQq(Cpu&, const Insn&);
Fault Cvtpi2pdVxQq(Cpu&, const Insn&);
Fault Cvtps2piPqWx(Cpu&, const Insn&);
Fault Cvttps2piPqWx(Cpu&, const Insn&);
Fault Cvtpd2piPqWx(Cpu&, const Insn&);
Fault Cvttpd2piPqWx(Cpu&, const Insn&);
Fault Cvtsi2ssVxEy32(Cpu&, const Insn&);
Fault Cvtsi2ssVxEy64(Cpu&, const Insn&);
Fault Cvtsi2sdVxEy32(Cpu&, const Insn&);
Fault Cvtsi2sdVxEy64(Cpu&, const Insn&);
Fault Cvtss2siGyWx32(Cpu&, const Insn&);
Fault Cvtss2siGyWx64(Cpu&, const Insn&);
Fault Cvttss2siGyWx32(Cpu&, const Insn&);
Fault Cvttss2siGyWx64(Cpu&, const Insn&);
Fault Cvtsd2siGyWx32(Cpu&, const Insn&);
Fault Cvtsd2siGyWx64(Cpu&, const Insn&);
Fault Cvttsd2siGyWx32(Cpu&, const Insn&);
Fault Cvttsd2siGyWx64(Cpu&, const Insn&);
Fault Cvtps2pdVxWx(Cpu&, const Insn&);
Fault Cvtpd2psVxWx(Cpu&, const Insn&);
Fault Cvtss2sdVxWx(Cpu&, const Insn&);
Fault Cvtsd2ssVxWx(Cpu&, const Insn&);
Fault Cvtdq2psVxWx(Cpu&, const Insn&);
Fault Cvtps2dqVxWx(Cpu&, const Insn&);
Fault Cvttps2dqVxWx(Cpu&, const Insn&);
Fault Cvtdq2pdVxWx(Cpu&, const Insn&);
Fault Cvtpd2dqVxWx(Cpu&, const Insn&);
Fault Cvttpd2dqVxWx(Cpu&, const Insn&);

// exec_sse_string.cc: SSE4.2 string compares and CRC32.
Fault PcmpestrmVxWxIb(Cpu&, const Insn&);
Fault PcmpestriVxWxIb(Cpu&, const Insn&);
Fault PcmpistrmVxWxIb(Cpu&, const Insn&);
Fault PcmpistriVxWxIb(Cpu&, const Insn&);
Fault Crc32GdEb(Cpu&, const Insn&);
Fault Crc32GdEy16(Cpu&, const Insn&);
Fault Crc32GdEy32(Cpu&, const Insn&);
Fault Crc32GdEy64(Cpu&, const Insn&);

// exec_sse_state.cc: XSAVE/XRSTOR and XCR0 (FXSAVE, FXRSTOR, LDMXCSR and
// STMXCSR are exec_x87_env.cc's).
Fault XsaveM(Cpu&, const Insn&);
Fault XrstorM(Cpu&, const Insn&);
Fault Xgetbv(Cpu&, const Insn&);
Fault Xsetbv(Cpu&, const Insn&);

}  // namespace x86vm

#endif  // X86VM_CPU_SSE_HANDLERS_H_
