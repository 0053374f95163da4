// Execution traces for bring-up (x86vm --trace; QEMU's -d in_asm,cpu and
// Bochs's trace): one line per executed instruction with CS:RIP, the linear
// address, the bytes, Capstone's disassembly and the registers it changed,
// and a "---" line per exception or interrupt. Filtered by linear RIP
// ranges, a number of instructions to skip and a limit.
#ifndef X86VM_CPU_TRACE_H_
#define X86VM_CPU_TRACE_H_

#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "base/status.h"
#include "cpu/cpu_state.h"
#include "cpu/trace_hook.h"

namespace x86vm {

// Linear RIP addresses [start, end).
struct TraceRange {
  uint64_t start = 0;
  uint64_t end = 0;
};

// Which instructions a trace shows.
struct TraceFilter {
  // Only instructions whose linear RIP lies in one of these (empty: all).
  // Events are shown when the interrupted or faulting RIP does.
  std::vector<TraceRange> ranges;
  // In-range instructions passed over before the first line; lines are
  // numbered by this count, so a number read in one trace is a --trace-skip
  // for the next run.
  uint64_t skip = 0;
  // At most this many instruction lines; then the tracer detaches and the
  // CPU runs at full speed.
  std::optional<uint64_t> limit;
};

// The registers a trace line reports when they change: GPRs, RFLAGS,
// segment registers (selector and hidden part), CR0/2/3/4/8, EFER, GDTR,
// IDTR. RIP is the next line's address.
struct TracedRegisters {
  std::array<uint64_t, 16> gpr{};
  uint64_t rflags = 0;
  std::array<Segment, kNumSegRegs> seg{};
  uint64_t cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0, cr8 = 0, efer = 0;
  DescriptorTable gdtr, idtr;

  // Copies the reported subset of `s`.
  static TracedRegisters From(const CpuState& s);
};

// Appends " name=value" for every register that differs between `before`
// and `after` (register names for the width of `after`'s mode).
void AppendRegisterChanges(const TracedRegisters& before, const TracedRegisters& after,
                           fmt::memory_buffer& out);

// Disassembles one instruction with Capstone ("mov eax, dword ptr [ebx]");
// "(bad)" when Capstone does not know it. Keeps one handle per mode.
class Disassembler {
 public:
  Disassembler();
  ~Disassembler();
  Disassembler(const Disassembler&) = delete;
  Disassembler& operator=(const Disassembler&) = delete;
  // `address` (the RIP) resolves relative branch targets. The text stays
  // valid until the next call.
  std::string_view Disassemble(int code_bits, uint64_t address, const uint8_t* bytes,
                               size_t length);

 private:
  struct Handles;
  std::unique_ptr<Handles> handles_;
  std::string text_;
};

// Writes a trace to a file through a large buffer (flushed when full, on
// shutdown, on Flush() and on destruction).
//
// Line format (columns separated by spaces):
//   N CS:RIP LINEAR  BYTES  DISASSEMBLY  name=value...
//   --- exception 0x0e (#PF) error 0x0002 cr2=00001000 | name=value...
// where N counts in-range instructions from 0 and the name=value list
// holds the registers the instruction (or the delivery) changed.
class TraceWriter final : public InstructionTracer {
 public:
  // Creates (truncates) `path`.
  static Result<std::unique_ptr<TraceWriter>> Open(const std::string& path, TraceFilter filter);
  ~TraceWriter() override;

  TraceAction BeforeInstruction(const TracedInstruction& insn, const CpuState& state) override;
  void AfterInstruction(const CpuState& state) override;
  void OnEvent(const TracedEvent& event, const CpuState& state) override;
  void OnShutdown(const CpuState& state) override;

  // Writes everything buffered to the file.
  void Flush();
  // Instruction lines written so far.
  uint64_t instructions_written() const { return written_; }

 private:
  TraceWriter(std::FILE* file, TraceFilter filter);
  bool InRange(uint64_t linear) const;
  // Ends the open line with the registers changed since it was started.
  void CloseLine(const CpuState& state);

  std::FILE* file_;
  TraceFilter filter_;
  Disassembler disassembler_;
  fmt::memory_buffer buffer_;
  fmt::memory_buffer changes_;  // Scratch for CloseLine.
  bool line_open_ = false;
  bool event_line_ = false;  // The open line is an event's ("|" before the changes).
  bool detached_ = false;    // The limit was reached.
  TracedRegisters before_;  // State when the open line started.
  uint64_t seen_ = 0;       // In-range instructions so far.
  uint64_t written_ = 0;    // Instruction lines written.
  bool write_failed_ = false;
};

}  // namespace x86vm

#endif  // X86VM_CPU_TRACE_H_
