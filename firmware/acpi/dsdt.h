// The DSDT's AML for the machine: processors, the PCI root bus with its
// interrupt routing (_PRT and the PIRQ link devices), the ISA devices behind
// the PIIX3 and the \_S5 sleep object.
#ifndef X86VM_FIRMWARE_ACPI_DSDT_H_
#define X86VM_FIRMWARE_ACPI_DSDT_H_

#include <cstdint>
#include <vector>

#include "firmware/acpi/acpi_machine.h"

namespace x86vm {

// The DSDT body: the AML that follows the 36-byte table header.
std::vector<uint8_t> BuildDsdtAml(const AcpiMachine& machine);

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_ACPI_DSDT_H_
