// The run loop, written once against the Vcpu interface: runs the CPU up to
// the next timer deadline, fires timers, feeds host input to COM1, idles a
// halted CPU, and turns guest requests (exit port, S5, reset, triple fault)
// into the emulator's exit status.
#ifndef X86VM_MACHINE_RUN_LOOP_H_
#define X86VM_MACHINE_RUN_LOOP_H_

#include <cstdint>
#include <functional>

#include "accel/vcpu.h"
#include "devices/uart16550.h"
#include "machine/pc.h"

namespace x86vm {

struct RunLoopOptions {
  // Exit instead of resetting on a reset request or triple fault.
  bool no_reboot = false;
  // Host input for COM1 (null: none).
  SerialSource* serial_input = nullptr;
  // How often the loop comes back to poll host input when no timer is due.
  uint64_t poll_interval_ns = 2'000'000;
  // Called after a system reset so the caller can reload firmware/kernel
  // images into memory and set the CPU's entry state.
  std::function<Result<>(PcMachine&, Vcpu&)> after_reset;
};

// Why RunMachine ended, with the process exit status.
struct RunOutcome {
  int exit_status = 0;
  std::string message;  // For the user when the end was not requested by the guest.
};

// Runs until the guest powers off, writes the exit port, the user quits, or
// the machine cannot continue.
RunOutcome RunMachine(PcMachine& machine, Vcpu& vcpu, const RunLoopOptions& options);

}  // namespace x86vm

#endif  // X86VM_MACHINE_RUN_LOOP_H_
