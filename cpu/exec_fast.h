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

}  // namespace x86vm

#endif  // X86VM_CPU_EXEC_FAST_H_
