#include "accel/kvm/kvm_vm.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "base/log.h"

namespace x86vm {
namespace {

// The API version every KVM since Linux 2.6.22 reports (Documentation/virt/kvm/api.rst 4.1).
constexpr int kKvmApiVersion = 12;

// Capabilities without which this engine cannot work correctly.
struct RequiredCap {
  int cap;
  const char* name;
  const char* why;
};
constexpr RequiredCap kRequiredCaps[] = {
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest RAM is our own mapping"},
    {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR", "real mode on VMX"},
    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "KVM_SET_CPUID2"},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "Kick() and deadlines"},
    {KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM", "ROM regions"},
    {KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS", "pending events in CpuState"},
    {KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE", "the halted state"},
    {KVM_CAP_DEBUGREGS, "KVM_CAP_DEBUGREGS", "DR0-DR7 in CpuState"},
    {KVM_CAP_X86_USER_SPACE_MSR, "KVM_CAP_X86_USER_SPACE_MSR", "APIC MSRs reach our local APIC"},
    {KVM_CAP_X86_MSR_FILTER, "KVM_CAP_X86_MSR_FILTER", "APIC MSRs reach our local APIC"},
};

// MSRs the platform (our local APIC) owns: IA32_APIC_BASE, IA32_TSC_DEADLINE
// and the x2APIC range (SDM Vol. 4 2.1). KVM ignores filters over the x2APIC
// range on recent kernels; those accesses reach us through
// KVM_MSR_EXIT_REASON_INVAL instead, because KVM has no APIC to give them to.
constexpr uint32_t kApicBaseMsr = 0x1b;
constexpr uint32_t kTscDeadlineMsr = 0x6e0;
constexpr uint32_t kX2ApicFirst = 0x800;
constexpr uint32_t kX2ApicLast = 0x8ff;

// One filter range covers a 4096-MSR block (512 bitmap bytes).
constexpr uint32_t kFilterBlockMsrs = 0x1000;

}  // namespace

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.release();
  }
  return *this;
}

Result<std::unique_ptr<KvmVm>> KvmVm::Create(GuestMemory& memory) {
  auto vm = std::unique_ptr<KvmVm>(new KvmVm(memory));
  if (auto r = vm->Init(); !r) return std::unexpected(r.error());
  return vm;
}

KvmVm::~KvmVm() = default;

Result<> KvmVm::Init() {
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return Fail("KVM: cannot open /dev/kvm: {}", std::strerror(errno));
  kvm_fd_ = UniqueFd(fd);
  int version = ioctl(kvm_fd(), KVM_GET_API_VERSION, 0);
  if (version != kKvmApiVersion) {
    return Fail("KVM: /dev/kvm reports API version {}, this engine needs {}", version,
                kKvmApiVersion);
  }
  for (const RequiredCap& c : kRequiredCaps) {
    if (ioctl(kvm_fd(), KVM_CHECK_EXTENSION, c.cap) <= 0) {
      return Fail("KVM: the host lacks {} (needed for {})", c.name, c.why);
    }
  }
  int slots = ioctl(kvm_fd(), KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
  max_slots_ = slots > 0 ? static_cast<uint32_t>(slots) : 32;
  caps_.xsave = ioctl(kvm_fd(), KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
  caps_.xcrs = ioctl(kvm_fd(), KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
  caps_.tsc_control = ioctl(kvm_fd(), KVM_CHECK_EXTENSION, KVM_CAP_TSC_CONTROL) > 0;
  caps_.internal_error_data =
      ioctl(kvm_fd(), KVM_CHECK_EXTENSION, KVM_CAP_INTERNAL_ERROR_DATA) > 0;

  int mmap_bytes = ioctl(kvm_fd(), KVM_GET_VCPU_MMAP_SIZE, 0);
  if (mmap_bytes < static_cast<int>(sizeof(kvm_run))) {
    return Fail("KVM: KVM_GET_VCPU_MMAP_SIZE failed: {}", std::strerror(errno));
  }
  vcpu_mmap_bytes_ = static_cast<size_t>(mmap_bytes);

  fd = ioctl(kvm_fd(), KVM_CREATE_VM, 0);
  if (fd < 0) return Fail("KVM: KVM_CREATE_VM failed: {}", std::strerror(errno));
  vm_fd_ = UniqueFd(fd);

  if (auto r = PlaceTss(); !r) return r;

  // Every MSR access KVM cannot complete comes to us (and is answered with
  // #GP unless the platform owns it), as do the filtered ones below.
  kvm_enable_cap cap{};
  cap.cap = KVM_CAP_X86_USER_SPACE_MSR;
  cap.args[0] = KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN |
                KVM_MSR_EXIT_REASON_INVAL;
  if (ioctl(vm_fd(), KVM_ENABLE_CAP, &cap) < 0) {
    return Fail("KVM: enabling KVM_CAP_X86_USER_SPACE_MSR failed: {}", std::strerror(errno));
  }
  if (auto r = SetMsrFilter({}); !r) return r;
  return SyncSlots();
}

Result<> KvmVm::PlaceTss() {
  // The TSS pages and the identity-map page must not overlap a slot. Keep
  // QEMU's address unless a ROM (a BIOS larger than 256 KiB) covers it; then
  // use the pages right below the lowest ROM in the PCI hole.
  uint64_t identity = kDefaultTssAddress - kIdentityMapBytes;
  auto overlaps = [&](uint64_t start, uint64_t end) {
    for (const GuestMemory::Region& r : memory_.regions()) {
      if (start < r.gpa + r.size_bytes && r.gpa < end) return true;
    }
    return false;
  };
  if (overlaps(identity, kDefaultTssAddress + kTssBytes)) {
    uint64_t lowest_rom = GuestMemory::k4GiB;
    for (const GuestMemory::Region& r : memory_.regions()) {
      if (r.gpa >= GuestMemory::kPciHoleStart && r.gpa < GuestMemory::k4GiB) {
        lowest_rom = std::min(lowest_rom, r.gpa);
      }
    }
    identity = lowest_rom - kTssBytes - kIdentityMapBytes;
    if (overlaps(identity, lowest_rom)) {
      return Fail("KVM: no room for the real-mode TSS below the ROM at {:#x}", lowest_rom);
    }
  }
  tss_address_ = identity + kIdentityMapBytes;
  // KVM_SET_IDENTITY_MAP_ADDR must come before the first vCPU exists.
  if (ioctl(vm_fd(), KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
    uint64_t addr = identity;
    if (ioctl(vm_fd(), KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0) {
      return Fail("KVM: KVM_SET_IDENTITY_MAP_ADDR({:#x}) failed: {}", addr, std::strerror(errno));
    }
  }
  if (ioctl(vm_fd(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(tss_address_)) < 0) {
    return Fail("KVM: KVM_SET_TSS_ADDR({:#x}) failed: {}", tss_address_, std::strerror(errno));
  }
  return {};
}

Result<> KvmVm::SetSlot(const Slot& slot, bool remove) {
  kvm_userspace_memory_region region{};
  region.slot = slot.id;
  region.flags = slot.read_only && !remove ? KVM_MEM_READONLY : 0;
  region.guest_phys_addr = slot.gpa;
  region.memory_size = remove ? 0 : slot.size_bytes;
  region.userspace_addr = reinterpret_cast<uint64_t>(slot.host);
  if (ioctl(vm_fd(), KVM_SET_USER_MEMORY_REGION, &region) < 0) {
    return Fail("KVM: {} memory slot {} at {:#x}+{:#x} failed: {}", remove ? "removing" : "adding",
                slot.id, slot.gpa, slot.size_bytes, std::strerror(errno));
  }
  return {};
}

Result<> KvmVm::SyncSlots() {
  const std::vector<GuestMemory::Region>& regions = memory_.regions();
  auto same = [](const Slot& s, const GuestMemory::Region& r) {
    return s.gpa == r.gpa && s.size_bytes == r.size_bytes && s.host == r.host &&
           s.read_only == r.read_only;
  };
  if (slots_.size() == regions.size() &&
      std::equal(slots_.begin(), slots_.end(), regions.begin(), same)) {
    return {};
  }
  // Remove slots that no longer match a region exactly (KVM cannot change a
  // slot's READONLY flag in place: delete and re-create, api.rst 4.35).
  std::vector<Slot> kept;
  for (const Slot& s : slots_) {
    bool found = std::any_of(regions.begin(), regions.end(),
                             [&](const GuestMemory::Region& r) { return same(s, r); });
    if (found) {
      kept.push_back(s);
      continue;
    }
    if (auto r = SetSlot(s, /*remove=*/true); !r) return r;
    free_slot_ids_.push_back(s.id);
  }
  for (const GuestMemory::Region& r : regions) {
    bool found = std::any_of(kept.begin(), kept.end(), [&](const Slot& s) { return same(s, r); });
    if (found) continue;
    uint32_t id;
    if (!free_slot_ids_.empty()) {
      id = free_slot_ids_.back();
      free_slot_ids_.pop_back();
    } else {
      if (next_slot_id_ >= max_slots_) return Fail("KVM: more than {} memory slots", max_slots_);
      id = next_slot_id_++;
    }
    Slot s{id, r.gpa, r.size_bytes, r.host, r.read_only};
    if (auto res = SetSlot(s, /*remove=*/false); !res) return res;
    kept.push_back(s);
  }
  std::sort(kept.begin(), kept.end(), [](const Slot& a, const Slot& b) { return a.gpa < b.gpa; });
  slots_ = std::move(kept);
  return {};
}

bool KvmVm::IsReadOnly(uint64_t gpa) const {
  for (const Slot& s : slots_) {
    if (gpa >= s.gpa && gpa - s.gpa < s.size_bytes) return s.read_only;
  }
  return false;
}

Result<> KvmVm::SetMsrFilter(const std::vector<uint32_t>& trapped) {
  // A set bit allows KVM to handle the MSR; a clear bit sends the access to
  // userspace with KVM_MSR_EXIT_REASON_FILTER (api.rst "KVM_X86_SET_MSR_FILTER").
  std::map<uint32_t, std::vector<uint8_t>> blocks;
  auto deny = [&](uint32_t msr) {
    auto [it, inserted] = blocks.try_emplace(msr / kFilterBlockMsrs);
    if (inserted) it->second.assign(kFilterBlockMsrs / 8, 0xff);
    uint32_t bit = msr % kFilterBlockMsrs;
    it->second[bit / 8] &= static_cast<uint8_t>(~(1u << (bit % 8)));
  };
  deny(kApicBaseMsr);
  deny(kTscDeadlineMsr);
  for (uint32_t m = kX2ApicFirst; m <= kX2ApicLast; ++m) deny(m);
  for (uint32_t m : trapped) deny(m);
  if (blocks.size() > KVM_MSR_FILTER_MAX_RANGES) {
    return Fail("KVM: {} MSR filter ranges needed, KVM allows {}", blocks.size(),
                KVM_MSR_FILTER_MAX_RANGES);
  }
  kvm_msr_filter filter{};
  filter.flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
  size_t i = 0;
  for (auto& [block, bitmap] : blocks) {
    kvm_msr_filter_range& range = filter.ranges[i++];
    range.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE;
    range.nmsrs = kFilterBlockMsrs;
    range.base = block * kFilterBlockMsrs;
    range.bitmap = bitmap.data();
  }
  if (ioctl(vm_fd(), KVM_X86_SET_MSR_FILTER, &filter) < 0) {
    return Fail("KVM: KVM_X86_SET_MSR_FILTER failed: {}", std::strerror(errno));
  }
  return {};
}

}  // namespace x86vm
