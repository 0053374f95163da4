// The board described for the ACPI table generator: the same constants the
// wiring in pc.cc uses, so the tables always match the machine.
#ifndef X86VM_MACHINE_PC_ACPI_H_
#define X86VM_MACHINE_PC_ACPI_H_

#include "firmware/acpi/acpi_machine.h"

namespace x86vm {

// The ACPI view of a PcMachine with `cpus` processors.
AcpiMachine DescribePcForAcpi(int cpus = 1);

}  // namespace x86vm

#endif  // X86VM_MACHINE_PC_ACPI_H_
