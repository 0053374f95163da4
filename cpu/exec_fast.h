// Decode-time specialization of the hottest handlers (exec_fast.cc).
#ifndef X86VM_CPU_EXEC_FAST_H_
#define X86VM_CPU_EXEC_FAST_H_

#include "cpu/decoder.h"
#include "cpu/insn.h"

namespace x86vm {

// The handler to run for a freshly decoded instruction: a specialized form
// of insn.handler for its operand form and code mode when one exists (same
// semantics, shorter path), else insn.handler itself.
Handler SpecializeHandler(const Insn& insn, CodeMode mode);

// Dead-flag elision on a page's decoded run: `insns[count - 1]` was just
// decoded as the chained fall-through successor of `insns[count - 2]`. When
// it overwrites every status flag without reading one, the instructions
// before it on the chained run whose flag outputs can no longer be read get
// flag-free handlers and the kFlagsDead mark (see Cpu::DispatchFast).
void ElideDeadFlags(Insn* insns, size_t count);

// The flag-computing handler for an Insn (insn.handler unless
// ElideDeadFlags gave it a flag-free form): what the careful dispatch loops
// run, since they may stop after any instruction.
Handler FullFlagsHandler(const Insn& insn);

// Whether a handler (as SpecializeHandler or ElideDeadFlags leave it) only
// reads and writes general registers and RFLAGS' status flags: it cannot
// fault, change RIP, read s.rip or memory, or request an exit from the
// dispatch loop. Such instructions qualify for Insn::run.
bool RunsStraight(Handler h);

// The handler that runs a straight run from an instruction run by `h` on
// (Insn::threaded), or nullptr when `h` is not straight (RunsStraight).
Handler ThreadedFor(Handler h);
// Insn::threaded for an instruction whose handler, ends_run, chains_itself
// and run are set: its plain handler when it chains itself or is the last
// of its run (it ends it, or `run` is 1), else ThreadedFor(insn.handler);
// nullptr when it is not straight.
Handler ThreadedFor(const Insn& insn);

// Whether a freshly specialized instruction (insn.handler from
// SpecializeHandler; `decoded` is the decoder's handler it replaced) is
// straight in the wider sense of Insn::chains_itself and Insn::ends_run: a
// 64-bit-mode memory form addressed through registers (not RIP), PUSH/POP
// r64, or an SSE form (IsSseForm). Such a handler and the generic one it
// falls back to cannot branch or read RIP, next_rip or the retired count,
// but may fault or request an exit (a write into decoded code, an MMIO
// access), which ends a straight run there.
bool RunsStraightToFault(const Insn& insn, Handler decoded);

// Whether a generic handler (the decoder's) leaves RFLAGS' status flags
// alone: it may run while the specialized ones before it left them lazy
// (Insn::lazy_flags_ok).
bool LeavesStatusFlagsAlone(Handler decoded);

// The SSE part of SpecializeHandler (exec_fast_sse.cc): a specialized form
// of insn.handler, or nullptr.
Handler PickSse(const Insn& insn, CodeMode mode);
// Whether `h` is one of PickSse's forms. Like the memory forms they may
// fault (#UD, #NM, or through the memory operand) but cannot branch or read
// RIP, next_rip or the retired count, so they end straight runs.
bool IsSseForm(Handler h);

}  // namespace x86vm

#endif  // X86VM_CPU_EXEC_FAST_H_
