// The interpreter engine behind accel/vcpu.h: runs the Cpu core in slices
// against the virtual clock.
#ifndef X86VM_CPU_INTERPRETER_H_
#define X86VM_CPU_INTERPRETER_H_

#include <cstdint>
#include <memory>

#include "accel/vcpu.h"
#include "cpu/cpuid.h"
#include "cpu/platform.h"
#include "cpu/trace_hook.h"

namespace x86vm {

class Cpu;

class Interpreter final : public Vcpu {
 public:
  // `env` must outlive the interpreter; `features` selects the CPUID model.
  explicit Interpreter(const CpuEnvironment& env, CpuFeatures features = {});
  ~Interpreter() override;

  const char* engine_name() const override { return "interp"; }
  RunResult Run(uint64_t deadline_ns) override;
  Result<> GetState(CpuState& state) override;
  // Also drops decoded code: memory may have changed with the state.
  Result<> SetState(const CpuState& state) override;
  void Kick() override;
  uint64_t instructions_retired() const override;

  // Power-on reset of the architectural state (SDM Vol. 3 9.1).
  void Reset();
  // Drops decoded instructions overlapping a write the CPU did not make
  // (DMA); wire it to GuestMemory::set_write_observer.
  void InvalidateCode(uint64_t gpa, uint64_t size);
  // Must be called when guest-physical regions change their backing or
  // read-only status (PAM shadowing, ROM mapping): the TLB caches host
  // pointers and write permission per page. Safe to call from a device
  // callback inside Run().
  void MemoryMapChanged();
  // Installs an execution tracer called around every instruction and event
  // (nullptr removes it). It must outlive its installation. Without one the
  // dispatch loop runs at full speed.
  void SetTracer(InstructionTracer* tracer);

 private:
  std::unique_ptr<Cpu> cpu_;
  VirtualClock* clock_;
  InstructionTracer* tracer_ = nullptr;
};

}  // namespace x86vm

#endif  // X86VM_CPU_INTERPRETER_H_
