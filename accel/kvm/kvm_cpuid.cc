#include "accel/kvm/kvm_cpuid.h"

#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace x86vm {
namespace {

// Leaves whose ECX input selects a sub-leaf (SDM Vol. 2 "CPUID").
bool HasSubleaves(uint32_t function) {
  switch (function) {
    case 4: case 7: case 0xb: case 0xd: case 0xf: case 0x10: case 0x12: case 0x14:
    case 0x17: case 0x18: case 0x1d: case 0x1e: case 0x1f: case 0x20:
      return true;
    default:
      return false;
  }
}

// CPUID.1 bits the board's local APIC provides (SDM Vol. 2 Table 3-10/3-11).
constexpr uint32_t kLeaf1EdxApic = 1u << 9;
constexpr uint32_t kLeaf1EcxX2Apic = 1u << 21;
constexpr uint32_t kLeaf1EcxTscDeadline = 1u << 24;
// CPUID.1:ECX.OSXSAVE mirrors CR4 and is maintained by KVM.
constexpr uint32_t kLeaf1EcxOsxsave = 1u << 27;

// A kvm_cpuid2 with room for `n` entries (the struct ends in a flexible array).
class CpuidBuffer {
 public:
  explicit CpuidBuffer(size_t n)
      : words_((sizeof(kvm_cpuid2) + n * sizeof(kvm_cpuid_entry2) + 7) / 8, 0) {
    get()->nent = static_cast<uint32_t>(n);
  }
  kvm_cpuid2* get() { return reinterpret_cast<kvm_cpuid2*>(words_.data()); }

 private:
  std::vector<uint64_t> words_;
};

}  // namespace

Result<std::vector<kvm_cpuid_entry2>> GetSupportedCpuid(int kvm_fd) {
  // E2BIG means the array was too small (api.rst 4.46).
  for (size_t n = 128; n <= 4096; n *= 2) {
    CpuidBuffer buf(n);
    if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, buf.get()) == 0) {
      kvm_cpuid2* c = buf.get();
      return std::vector<kvm_cpuid_entry2>(c->entries, c->entries + c->nent);
    }
    if (errno != E2BIG) {
      return Fail("KVM: KVM_GET_SUPPORTED_CPUID failed: {}", std::strerror(errno));
    }
  }
  return Fail("KVM: KVM_GET_SUPPORTED_CPUID wants more than 4096 entries");
}

const kvm_cpuid_entry2* FindCpuidEntry(const std::vector<kvm_cpuid_entry2>& entries,
                                       uint32_t function, uint32_t index) {
  for (const kvm_cpuid_entry2& e : entries) {
    if (e.function != function) continue;
    if ((e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e.index != index) continue;
    return &e;
  }
  return nullptr;
}

std::vector<kvm_cpuid_entry2> BuildGuestCpuid(const CpuFeatures& features,
                                              const std::vector<kvm_cpuid_entry2>* supported) {
  CpuState reset_state;
  reset_state.Reset();
  auto model = [&](uint32_t function, uint32_t index) {
    return Cpuid(features, reset_state, function, index);
  };
  std::vector<kvm_cpuid_entry2> out;
  auto add = [&](uint32_t function, uint32_t index) {
    CpuidResult r = model(function, index);
    kvm_cpuid_entry2 e{};
    e.function = function;
    e.index = index;
    e.flags = HasSubleaves(function) ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
    e.eax = r[0];
    e.ebx = r[1];
    e.ecx = r[2];
    e.edx = r[3];
    out.push_back(e);
  };
  uint32_t max_basic = model(0, 0)[0];
  for (uint32_t f = 0; f <= max_basic; ++f) {
    add(f, 0);
    if (f == 0xd) add(f, 1);
  }
  uint32_t max_extended = model(0x80000000, 0)[0];
  for (uint32_t f = 0x80000000; f <= max_extended; ++f) add(f, 0);

  if (supported == nullptr) return out;
  for (kvm_cpuid_entry2& e : out) {
    const kvm_cpuid_entry2* s = FindCpuidEntry(*supported, e.function, e.index);
    kvm_cpuid_entry2 none{};
    if (s == nullptr) s = &none;
    switch (e.function) {
      case 1:
        e.ecx &= s->ecx | kLeaf1EcxX2Apic | kLeaf1EcxTscDeadline;
        e.ecx &= ~kLeaf1EcxOsxsave;
        e.edx &= s->edx | kLeaf1EdxApic;
        break;
      case 7:
      case 0xd:
      case 0x80000001:
      case 0x80000007:
        e.eax = e.function == 0xd ? (e.eax & s->eax) : e.eax;
        e.ebx &= s->ebx;
        e.ecx &= s->ecx;
        e.edx &= s->edx;
        break;
      case 0x80000008: {
        // EAX[7:0] physical and [15:8] linear address bits: never promise
        // more than the host's page tables can map.
        uint32_t phys = std::min(e.eax & 0xff, s->eax & 0xff);
        uint32_t linear = std::min((e.eax >> 8) & 0xff, (s->eax >> 8) & 0xff);
        if (s == &none) {
          phys = e.eax & 0xff;
          linear = (e.eax >> 8) & 0xff;
        }
        e.eax = (e.eax & ~0xffffu) | phys | (linear << 8);
        break;
      }
      default:
        break;
    }
  }
  return out;
}

Result<> SetGuestCpuid(int vcpu_fd, const std::vector<kvm_cpuid_entry2>& entries) {
  CpuidBuffer buf(entries.size());
  std::copy(entries.begin(), entries.end(), buf.get()->entries);
  if (ioctl(vcpu_fd, KVM_SET_CPUID2, buf.get()) < 0) {
    return Fail("KVM: KVM_SET_CPUID2 ({} leaves) failed: {}", entries.size(),
                std::strerror(errno));
  }
  return {};
}

}  // namespace x86vm
