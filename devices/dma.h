// Guest-physical memory as a DMA engine sees it (fw_cfg DMA, IDE bus master,
// virtio queues). Addresses come from the guest, so every access is checked
// and may fail; a failed access is reported to the guest, never a crash.
#ifndef X86VM_DEVICES_DMA_H_
#define X86VM_DEVICES_DMA_H_

#include <cstdint>
#include <span>

namespace x86vm {

class DmaMemory {
 public:
  virtual ~DmaMemory() = default;
  // Copies guest RAM at [gpa, gpa + data.size()) into data. False when any
  // part of the range is not RAM.
  virtual bool ReadPhysical(uint64_t gpa, std::span<uint8_t> data) = 0;
  // Copies data into guest RAM; ROM and unbacked ranges are refused.
  virtual bool WritePhysical(uint64_t gpa, std::span<const uint8_t> data) = 0;
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_DMA_H_
