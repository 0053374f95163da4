// The KVM virtual machine: /dev/kvm, the VM file descriptor, capability
// checks, and the memory slots that map the same host memory GuestMemory
// uses. No in-kernel irqchip or PIT: every device stays in our model.
#ifndef X86VM_ACCEL_KVM_KVM_VM_H_
#define X86VM_ACCEL_KVM_KVM_VM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "machine/guest_memory.h"

namespace x86vm {

// A file descriptor closed on destruction.
class UniqueFd {
 public:
  // No descriptor.
  UniqueFd() = default;
  // Takes ownership of `fd`.
  explicit UniqueFd(int fd) : fd_(fd) {}
  // Closes the descriptor, if any.
  ~UniqueFd();
  // Moves ownership.
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  // Closes the current descriptor and takes `other`'s.
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  // The descriptor, or -1.
  int get() const { return fd_; }
  // Gives up ownership.
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// Optional KVM features, probed once when the VM is created.
struct KvmCapabilities {
  bool xsave = false;            // KVM_CAP_XSAVE (the vCPU still checks that it works).
  bool xcrs = false;             // KVM_GET/SET_XCRS.
  bool tsc_control = false;      // KVM_SET_TSC_KHZ can make the TSC run at 1 GHz.
  bool internal_error_data = false;  // Emulation failures carry instruction bytes.
  uint32_t tsc_khz = 0;          // The guest TSC rate (KVM_GET_TSC_KHZ), 0 if unknown.
};

class KvmVm {
 public:
  // The address of KVM's three-page real-mode TSS on VMX hosts (QEMU's
  // choice), with the one-page EPT identity map right below it. Both must lie
  // outside every memory slot; Create moves them below the lowest ROM in the
  // PCI hole when a large ROM covers this address.
  static constexpr uint64_t kDefaultTssAddress = 0xfffbd000;
  static constexpr uint64_t kTssBytes = 3 * 4096;
  static constexpr uint64_t kIdentityMapBytes = 4096;

  // Opens /dev/kvm, checks the API version (12) and the capabilities this
  // engine needs, creates the VM and maps `memory`'s regions as slots.
  // Fails with a message naming what is missing.
  static Result<std::unique_ptr<KvmVm>> Create(GuestMemory& memory);
  // Closes the VM (KVM drops the slots with it).
  ~KvmVm();
  KvmVm(const KvmVm&) = delete;
  KvmVm& operator=(const KvmVm&) = delete;

  // The /dev/kvm and VM descriptors.
  int kvm_fd() const { return kvm_fd_.get(); }
  int vm_fd() const { return vm_fd_.get(); }
  // Bytes to mmap from a vCPU descriptor for its kvm_run page(s).
  size_t vcpu_mmap_bytes() const { return vcpu_mmap_bytes_; }
  const KvmCapabilities& caps() const { return caps_; }
  // Where the TSS and identity map were placed.
  uint64_t tss_address() const { return tss_address_; }

  // Makes KVM's slots match memory.regions() again (ROMs added, the BIOS
  // shadow switched read-only by the chipset). Cheap when nothing changed:
  // one comparison per region.
  Result<> SyncSlots();
  // True when guest-physical `gpa` lies in a read-only slot (a write there
  // exits as MMIO and is dropped, like a write to ROM on a real board).
  bool IsReadOnly(uint64_t gpa) const;

  // Routes guest RDMSR/WRMSR of the given MSRs to userspace as
  // KVM_EXIT_X86_RDMSR/WRMSR (KVM_X86_SET_MSR_FILTER). The APIC MSRs are
  // always included.
  Result<> SetMsrFilter(const std::vector<uint32_t>& trapped);


 private:
  explicit KvmVm(GuestMemory& memory) : memory_(memory) {}
  Result<> Init();
  Result<> PlaceTss();
  struct Slot {
    uint32_t id;
    uint64_t gpa;
    uint64_t size_bytes;
    uint8_t* host;
    bool read_only;
  };
  Result<> SetSlot(const Slot& slot, bool remove);

  GuestMemory& memory_;
  UniqueFd kvm_fd_;
  UniqueFd vm_fd_;
  size_t vcpu_mmap_bytes_ = 0;
  KvmCapabilities caps_;
  uint64_t tss_address_ = kDefaultTssAddress;
  uint32_t max_slots_ = 0;
  std::vector<Slot> slots_;  // Sorted by gpa, as memory.regions().
  std::vector<uint32_t> free_slot_ids_;
  uint32_t next_slot_id_ = 0;
};

}  // namespace x86vm

#endif  // X86VM_ACCEL_KVM_KVM_VM_H_
