#include "firmware/boot_state.h"

namespace x86vm {

CpuState LinuxEntryState(const LinuxEntry& entry) {
  CpuState s;
  s.Reset();
  constexpr uint32_t kFlat = seg_attr::kS | seg_attr::kP | seg_attr::kDb | seg_attr::kG;
  // Accessed code (execute/read) and data (read/write), as the descriptors
  // in the loader's GDT say once loaded.
  s.seg[kCs] = Segment{entry.code_selector, 0, 0xffffffff, 0xb | kFlat};
  for (SegReg r : {kDs, kEs, kSs, kFs, kGs}) {
    s.seg[r] = Segment{entry.data_selector, 0, 0xffffffff, 0x3 | kFlat};
  }
  s.gdtr = DescriptorTable{entry.gdt_base, entry.gdt_limit};
  s.idtr = DescriptorTable{0, 0};
  s.cr0 = cr0::kPe | cr0::kEt;
  s.rflags = flags::kFixed1;
  s.rip = entry.eip;
  s.gpr = {};
  s.gpr[kRsi] = entry.esi;
  return s;
}

CpuState Flat32EntryState(const Flat32Entry& entry) {
  CpuState s;
  s.Reset();
  constexpr uint32_t kFlat = seg_attr::kS | seg_attr::kP | seg_attr::kDb | seg_attr::kG;
  // The descriptors of AddFlat32Gdt as loaded: accessed execute/read code
  // and read/write data (SDM Vol. 3 3.4.5.1).
  s.seg[kCs] = Segment{entry.code_selector, 0, 0xffffffff, 0xb | kFlat};
  for (SegReg r : {kDs, kEs, kSs, kFs, kGs}) {
    s.seg[r] = Segment{entry.data_selector, 0, 0xffffffff, 0x3 | kFlat};
  }
  // Busy 32-bit TSS (type 11), byte-granular (SDM Vol. 3 7.2.2).
  s.seg[kTr] = Segment{entry.tss_selector, 0, 0x67, 0xb | seg_attr::kP};
  s.gdtr = DescriptorTable{entry.gdt_base, entry.gdt_limit};
  s.idtr = DescriptorTable{0, 0};
  s.cr0 = cr0::kPe | cr0::kEt;
  s.cr4 = 0;
  s.rflags = flags::kFixed1;
  s.rip = entry.eip;
  s.gpr = {};
  s.gpr[kRax] = entry.eax;
  s.gpr[kRbx] = entry.ebx;
  return s;
}

}  // namespace x86vm
