// CPU entry states for the boot paths that skip firmware.
#ifndef X86VM_FIRMWARE_BOOT_STATE_H_
#define X86VM_FIRMWARE_BOOT_STATE_H_

#include "cpu/cpu_state.h"
#include "firmware/flat32_boot.h"
#include "firmware/linux_boot.h"

namespace x86vm {

// The Linux 32-bit boot protocol entry (boot.rst): protected mode, paging
// off, interrupts off, flat CS/DS/ES/SS from the loader's GDT, ESI pointing
// at boot_params.
CpuState LinuxEntryState(const LinuxEntry& entry);

// The PVH and multiboot entry (Xen pvh.pandoc; multiboot 0.6.96 3.2):
// protected mode, paging off (CR0 = PE|ET, CR4 = 0), interrupts off, flat
// 32-bit CS and DS/ES/FS/GS/SS from the loader's GDT, TR a busy 32-bit TSS
// at 0 with limit 0x67, EAX and EBX from the loader, other GPRs 0.
CpuState Flat32EntryState(const Flat32Entry& entry);

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_BOOT_STATE_H_
