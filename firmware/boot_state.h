// CPU entry states for the boot paths that skip firmware.
#ifndef X86VM_FIRMWARE_BOOT_STATE_H_
#define X86VM_FIRMWARE_BOOT_STATE_H_

#include "cpu/cpu_state.h"
#include "firmware/linux_boot.h"

namespace x86vm {

// The Linux 32-bit boot protocol entry (boot.rst): protected mode, paging
// off, interrupts off, flat CS/DS/ES/SS from the loader's GDT, ESI pointing
// at boot_params.
CpuState LinuxEntryState(const LinuxEntry& entry);

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_BOOT_STATE_H_
