// A decoded instruction: everything the handler needs, computed once by the
// decoder and kept in the decoded-instruction cache.
#ifndef X86VM_CPU_INSN_H_
#define X86VM_CPU_INSN_H_

#include <cstdint>

#include "cpu/fault.h"

namespace x86vm {

class Cpu;
struct Insn;
struct OpcodeRow;

// Executes one decoded instruction. On success the handler has updated the
// architectural state (including RIP through Cpu::next_rip); on a fault it has
// changed nothing visible except as the SDM allows (string progress).
using Handler = Fault (*)(Cpu&, const Insn&);

// "No register" in Insn::base / Insn::index.
inline constexpr uint8_t kNoReg = 0xff;

// Prefix and encoding facts a handler may need.
namespace insn_flags {
inline constexpr uint8_t kLock = 1u << 0;
inline constexpr uint8_t kRex = 1u << 1;         // Any REX prefix (byte regs SPL..DIL).
inline constexpr uint8_t kRipRelative = 1u << 2; // disp is relative to the next RIP.
inline constexpr uint8_t kSegOverride = 1u << 3;
inline constexpr uint8_t kRexW = 1u << 4;
inline constexpr uint8_t kOpsizePrefix = 1u << 5;  // 66 present.
// Set by the decoded-instruction cache, not the decoder: the next Insn in
// memory is this one's fall-through successor (Cpu::DispatchFast chains).
inline constexpr uint8_t kChained = 1u << 7;
// Set by ElideDeadFlags: this instruction leaves the status flags stale
// (they are dead), so it must run on into its chained successor without a
// stop in between; the careful loops run FullFlagsHandler instead.
inline constexpr uint8_t kFlagsDead = 1u << 6;
}  // namespace insn_flags

// The REP prefix in effect (F3 = REP/REPE, F2 = REPNE), or none.
enum class Rep : uint8_t { kNone = 0, kRepe = 1, kRepne = 2 };

struct Insn {
  Handler handler = nullptr;
  // Set with `run` (see below): what Cpu::DispatchFast calls to run the
  // straight run from here (ThreadedFor(const Insn&): the plain handler for
  // the last one of a run, which returns to the loop).
  Handler threaded = nullptr;
  const OpcodeRow* row = nullptr;  // Where this came from (mnemonic, operands).
  uint64_t imm = 0;   // First immediate, sign-extended from its encoded width.
  uint64_t disp = 0;  // Displacement (sign-extended) or moffs (zero-extended).
  uint16_t imm2 = 0;  // Second immediate: ENTER's Ib, a far pointer's selector.
  uint8_t length = 0;    // Bytes, 1..15.
  uint8_t opsize = 4;    // Operand size in bytes: 2, 4 or 8.
  uint8_t addrsize = 4;  // Address size in bytes: 2, 4 or 8.
  uint8_t mod = 3;       // ModRM.mod; 3 means the E operand is a register.
  uint8_t reg = 0;       // ModRM.reg + REX.R, or the opcode's register (Z forms) + REX.B.
  uint8_t rm = 0;        // ModRM.rm + REX.B (register form).
  uint8_t base = kNoReg;   // Memory form: base register.
  uint8_t index = kNoReg;  // Memory form: index register.
  uint8_t scale = 0;       // Memory form: index shift, 0..3.
  uint8_t seg = 3;         // Effective segment for the memory operand (SegReg).
  uint8_t flags = 0;       // insn_flags.
  Rep rep = Rep::kNone;
  uint8_t opcode = 0;    // The opcode byte within its map.
  uint8_t modrm = 0;     // The raw ModRM byte (x87 escapes use it).
  // Set by the decoded-instruction cache. A straight instruction is chained
  // (insn_flags::kChained) and run by a handler that cannot branch or read
  // RIP, next_rip or the retired count (RunsStraight). Most touch registers
  // and flags only; a few access memory or XMM registers
  // (RunsStraightToFault) and so may fault or ask the loop to stop: an SSE
  // form ends its run (`ends_run`), a memory form stops it only when that
  // happens (`chains_itself`), and DispatchFast checks for both after the
  // run. `run` counts the
  // straight instructions from this one on up to the end of its run (this
  // one included; 0 when this one is not straight), which
  // Cpu::DispatchFast runs back to back without per-instruction bookkeeping.
  uint16_t run = 0;
  // The bytes of those `run` instructions: how far a straight run moves RIP.
  uint16_t run_bytes = 0;
  bool ends_run = false;
  // A memory form inside runs (PUSH/POP too): it may fault or ask for a
  // stop, so it is its own `threaded` and chains to its successor itself
  // (exec_fast.cc: Next, Fallback); a fault or a stop ends the run there
  // (Cpu::run_stop).
  bool chains_itself = false;
  // The handler is one of exec_fast*.cc's specialized forms, which read and
  // write status flags through Cpu's lazy flags (Cpu::lf_pending), or a
  // generic one that leaves them alone (LeavesStatusFlagsAlone); any other
  // needs them materialized first.
  bool lazy_flags_ok = false;

  bool is_mem() const { return mod != 3; }
  bool has(uint8_t f) const { return (flags & f) != 0; }
};

}  // namespace x86vm

#endif  // X86VM_CPU_INSN_H_
