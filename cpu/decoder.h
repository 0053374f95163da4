// Instruction decoding (SDM Vol. 2 chapter 2): legacy prefixes, REX, the
// opcode maps through OpcodeTable, ModRM/SIB/displacement in 16-, 32- and
// 64-bit addressing (including RIP-relative), and immediates.
#ifndef X86VM_CPU_DECODER_H_
#define X86VM_CPU_DECODER_H_

#include <cstddef>
#include <cstdint>

#include "cpu/insn.h"
#include "cpu/opcode_table.h"

namespace x86vm {

// The code-segment mode an instruction is decoded in.
enum class CodeMode : uint8_t {
  k16 = 0,  // Real, virtual-8086, or a 16-bit protected-mode segment.
  k32 = 1,  // A 32-bit segment (CS.D = 1), or compatibility mode with D = 1.
  k64 = 2,  // 64-bit mode (EFER.LMA = 1 and CS.L = 1).
};

// Why decoding stopped.
enum class DecodeStatus {
  kOk,        // `insn` is complete.
  kNeedMore,  // The bytes ran out before the instruction ended: fetch more.
  kTooLong,   // Longer than 15 bytes: #GP(0) (SDM Vol. 2 2.3.11).
};

// Decodes one instruction from `bytes[0, avail)`. Invalid encodings decode
// successfully to a handler that raises #UD, so #UD keeps its priority
// relative to the instruction's own faults.
DecodeStatus Decode(const OpcodeTable& table, CodeMode mode, const uint8_t* bytes,
                    size_t avail, Insn& insn);

// The handler for opcodes with no row (or an invalid prefix combination).
Fault RaiseUd(Cpu& cpu, const Insn& insn);

}  // namespace x86vm

#endif  // X86VM_CPU_DECODER_H_
