// The builtin BIOS (--bios builtin) on the PC board: the trap port the
// guest half's interrupt stubs write to (firmware/bios/bios_abi.h), wired
// to the C++ services with this board's memory, ports, clock and IDE disks,
// and the board's part of POST (PCI setup, ACPI tables, e820).
#ifndef X86VM_MACHINE_BUILTIN_BIOS_H_
#define X86VM_MACHINE_BUILTIN_BIOS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "base/status.h"
#include "devices/bus.h"
#include "firmware/bios/bios_services.h"
#include "machine/pc.h"

namespace x86vm {

class BuiltinBios : public BusTarget {
 public:
  // PIRQA-D routing POST programs (PIIX3 PIRQRC at 01.0 60h-63h): the ISA
  // IRQs SeaBIOS uses, within the DSDT link devices' _PRS.
  static constexpr std::array<uint8_t, 4> kPirqIrqs = {10, 10, 11, 11};
  // First addresses POST gives PCI I/O and memory BARs.
  static constexpr uint32_t kPciIoStart = 0xc000;
  static constexpr uint32_t kPciMmioStart = 0xc0000000;

  // Builds the services for `machine` (its attached IDE disks become BIOS
  // drives 80h, 81h, ... in controller order) and registers the trap port.
  // `machine` must outlive the result, which unregisters the port when
  // destroyed. Errors: the trap port is taken.
  static Result<std::unique_ptr<BuiltinBios>> Attach(PcMachine& machine);
  ~BuiltinBios() override;
  BuiltinBios(const BuiltinBios&) = delete;
  BuiltinBios& operator=(const BuiltinBios&) = delete;

  // The trap port: reading returns bios_abi::kTrapSignature; a 32-bit write
  // is the address of a register frame to serve.
  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

  // The services (tests drive them directly).
  BiosServices& services() { return services_; }
  // The board's POST step, run by the services' POST: PCI (IDE timings,
  // PIRQ routing and ELCR, BARs, interrupt lines) and the ACPI tables with
  // the RSDP at 0xE0000, whose ranges the e820 map then reports.
  void BoardPost();

 private:
  BuiltinBios(PcMachine& machine, BiosEnvironment env);
  void SetUpPci();

  PcMachine& machine_;
  BiosServices services_;
  std::shared_ptr<spdlog::logger> log_;
  RateLimiter bad_write_log_;
};

}  // namespace x86vm

#endif  // X86VM_MACHINE_BUILTIN_BIOS_H_
