// The interpreter's per-instruction observation hook, for execution traces
// (--trace; QEMU's -d in_asm,cpu, Bochs's trace). The interpreter only calls
// it; formatting lives elsewhere (cpu/trace.h) so Capstone stays out of the
// engine. Cpu::Run takes a separate instantiation of its dispatch loop while
// a tracer is installed, so the untraced loop pays nothing.
#ifndef X86VM_CPU_TRACE_HOOK_H_
#define X86VM_CPU_TRACE_HOOK_H_

#include <cstdint>

#include "cpu/cpu_state.h"

namespace x86vm {

// The instruction about to execute, already fetched and decoded.
struct TracedInstruction {
  uint64_t rip = 0;     // Offset in CS (the full RIP in 64-bit mode).
  uint64_t linear = 0;  // CS.base + RIP (equal to RIP in 64-bit mode).
  int code_bits = 16;   // 16, 32 or 64: the mode it was decoded in.
  uint8_t length = 0;   // Bytes in `bytes`, 1..15.
  uint8_t bytes[15] = {};
};

// How an event reached the CPU (mirrors the interpreter's own event kinds).
enum class TracedEventKind : uint8_t {
  kException,      // Fault, trap or abort raised by the processor.
  kExternal,       // INTR from the interrupt controller.
  kNmi,            // NMI.
  kSoftware,       // INT n.
  kSoftException,  // INT3, INTO.
  kIcebp,          // INT1.
};

// An event about to be delivered through the IVT/IDT.
struct TracedEvent {
  uint8_t vector = 0;
  TracedEventKind kind = TracedEventKind::kException;
  bool has_error_code = false;
  uint32_t error_code = 0;
  uint64_t cr2 = 0;  // The faulting linear address, for #PF (CR2 is loaded at delivery).
};

// What the tracer wants done with the instruction it was shown.
enum class TraceAction : uint8_t {
  kIgnore,   // Run it; no AfterInstruction call.
  kObserve,  // Run it and call AfterInstruction once it retires.
  kDetach,   // Run it and uninstall the tracer (the loop returns to full speed).
};

// Receives the instruction stream of one CPU. Called on the CPU's thread,
// inside Vcpu::Run; must not change the CPU state it is shown.
class InstructionTracer {
 public:
  virtual ~InstructionTracer() = default;
  // Before an instruction runs (after fetch, decode and instruction
  // breakpoints), with the state it starts from.
  virtual TraceAction BeforeInstruction(const TracedInstruction& insn, const CpuState& state) = 0;
  // After an instruction shown with kObserve retired. Not called when it
  // faulted: OnEvent follows instead, with the state the fault left.
  virtual void AfterInstruction(const CpuState& state) = 0;
  // An event is about to be delivered, from the state before delivery (RIP
  // is the faulting or interrupted instruction). Every attempt is reported,
  // so a fault during delivery and the #DF that follows each appear.
  virtual void OnEvent(const TracedEvent& event, const CpuState& state) = 0;
  // A triple fault shut the processor down (SDM Vol. 3 6.15, "Interrupt 8").
  virtual void OnShutdown(const CpuState& state) = 0;
};

}  // namespace x86vm

#endif  // X86VM_CPU_TRACE_HOOK_H_
