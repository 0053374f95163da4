#include "accel/kvm/kvm_msrs.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace x86vm {
namespace {

// MSR numbers (SDM Vol. 4 Table 2-2).
constexpr uint32_t kFeatureControl = 0x3a;
constexpr uint32_t kTscAdjust = 0x3b;
constexpr uint32_t kSpecCtrl = 0x48;
constexpr uint32_t kBiosSignId = 0x8b;
constexpr uint32_t kMtrrCap = 0xfe;
constexpr uint32_t kSysenterCs = 0x174;
constexpr uint32_t kSysenterEsp = 0x175;
constexpr uint32_t kSysenterEip = 0x176;
constexpr uint32_t kMcgStatus = 0x17a;
constexpr uint32_t kMiscEnable = 0x1a0;
constexpr uint32_t kMtrrPhysBase0 = 0x200;
constexpr uint32_t kPat = 0x277;
constexpr uint32_t kMtrrDefType = 0x2ff;
constexpr uint32_t kXss = 0xda0;
constexpr uint32_t kStar = 0xc0000081;
constexpr uint32_t kLstar = 0xc0000082;
constexpr uint32_t kCstar = 0xc0000083;
constexpr uint32_t kSfmask = 0xc0000084;
constexpr uint32_t kKernelGsBase = 0xc0000102;
constexpr uint32_t kTscAux = 0xc0000103;

// The fixed-range MTRRs in MsrState::mtrr_fixed order.
constexpr uint32_t kFixedMtrrs[11] = {0x250, 0x258, 0x259, 0x268, 0x269, 0x26a,
                                      0x26b, 0x26c, 0x26d, 0x26e, 0x26f};

int FixedMtrrIndex(uint32_t index) {
  for (int i = 0; i < 11; ++i) {
    if (kFixedMtrrs[i] == index) return i;
  }
  return -1;
}

// A kvm_msrs with room for `n` entries (the struct ends in a flexible array).
class MsrBuffer {
 public:
  explicit MsrBuffer(size_t n)
      : words_((sizeof(kvm_msrs) + n * sizeof(kvm_msr_entry) + 7) / 8, 0) {
    get()->nmsrs = static_cast<uint32_t>(n);
  }
  kvm_msrs* get() { return reinterpret_cast<kvm_msrs*>(words_.data()); }
  kvm_msr_entry& entry(size_t i) { return get()->entries[i]; }

 private:
  std::vector<uint64_t> words_;
};

}  // namespace

const std::vector<uint32_t>& StateMsrIndices() {
  static const std::vector<uint32_t> indices = [] {
    std::vector<uint32_t> v = {kStar,      kLstar,       kCstar,       kSfmask,    kKernelGsBase,
                               kSysenterCs, kSysenterEsp, kSysenterEip, kMsrTsc,    kTscAux,
                               kPat,       kMiscEnable,  kFeatureControl, kMtrrCap, kMtrrDefType,
                               kSpecCtrl,  kTscAdjust,   kMcgStatus,   kBiosSignId, kXss};
    for (uint32_t m : kFixedMtrrs) v.push_back(m);
    for (uint32_t i = 0; i < 16; ++i) v.push_back(kMtrrPhysBase0 + i);
    return v;
  }();
  return indices;
}

uint64_t* MsrStateField(MsrState& m, uint32_t index) {
  int fixed = FixedMtrrIndex(index);
  if (fixed >= 0) return &m.mtrr_fixed[static_cast<size_t>(fixed)];
  if (index >= kMtrrPhysBase0 && index < kMtrrPhysBase0 + 16) {
    return &m.mtrr_var[index - kMtrrPhysBase0];
  }
  switch (index) {
    case kStar: return &m.star;
    case kLstar: return &m.lstar;
    case kCstar: return &m.cstar;
    case kSfmask: return &m.sfmask;
    case kKernelGsBase: return &m.kernel_gs_base;
    case kSysenterCs: return &m.sysenter_cs;
    case kSysenterEsp: return &m.sysenter_esp;
    case kSysenterEip: return &m.sysenter_eip;
    case kTscAux: return &m.tsc_aux;
    case kPat: return &m.pat;
    case kMiscEnable: return &m.misc_enable;
    case kFeatureControl: return &m.feature_control;
    case kMtrrCap: return &m.mtrr_cap;
    case kMtrrDefType: return &m.mtrr_def_type;
    case kSpecCtrl: return &m.spec_ctrl;
    case kTscAdjust: return &m.tsc_adjust;
    case kMcgStatus: return &m.mcg_status;
    case kBiosSignId: return &m.ucode_rev;
    case kXss: return &m.xss;
    default: return nullptr;
  }
}

bool MsrIsEmulatable(uint32_t index) {
  switch (index) {
    case kStar:
    case kLstar:
    case kCstar:
    case kSfmask:
    case kKernelGsBase:
    case kSysenterCs:
    case kSysenterEsp:
    case kSysenterEip:
    case kMsrTsc:
    case kTscAux:
      return false;
    default: {
      MsrState scratch;
      return MsrStateField(scratch, index) != nullptr;
    }
  }
}

std::string MsrName(uint32_t index) {
  int fixed = FixedMtrrIndex(index);
  if (fixed >= 0) return fmt::format("MTRRfix({:#x})", index);
  if (index >= kMtrrPhysBase0 && index < kMtrrPhysBase0 + 16) {
    uint32_t n = index - kMtrrPhysBase0;
    return fmt::format("MTRRphys{}{}", n % 2 ? "Mask" : "Base", n / 2);
  }
  switch (index) {
    case kStar: return "STAR";
    case kLstar: return "LSTAR";
    case kCstar: return "CSTAR";
    case kSfmask: return "SFMASK";
    case kKernelGsBase: return "KERNEL_GS_BASE";
    case kSysenterCs: return "SYSENTER_CS";
    case kSysenterEsp: return "SYSENTER_ESP";
    case kSysenterEip: return "SYSENTER_EIP";
    case kMsrTsc: return "TSC";
    case kTscAux: return "TSC_AUX";
    case kPat: return "PAT";
    case kMiscEnable: return "MISC_ENABLE";
    case kFeatureControl: return "FEATURE_CONTROL";
    case kMtrrCap: return "MTRRcap";
    case kMtrrDefType: return "MTRRdefType";
    case kSpecCtrl: return "SPEC_CTRL";
    case kTscAdjust: return "TSC_ADJUST";
    case kMcgStatus: return "MCG_STATUS";
    case kBiosSignId: return "BIOS_SIGN_ID";
    case kXss: return "XSS";
    default: return fmt::format("MSR {:#x}", index);
  }
}

std::optional<uint64_t> ReadShadowMsr(const MsrState& shadow, uint32_t index) {
  MsrState copy = shadow;
  uint64_t* field = MsrStateField(copy, index);
  if (field == nullptr) return std::nullopt;
  return *field;
}

bool WriteShadowMsr(MsrState& shadow, uint32_t index, uint64_t value) {
  if (index == kMtrrCap) return false;
  if (index == kFeatureControl && (shadow.feature_control & 1)) return false;
  if (index == kBiosSignId) return true;  // Writes trigger a microcode read; ignored.
  uint64_t* field = MsrStateField(shadow, index);
  if (field == nullptr) return false;
  *field = value;
  return true;
}

void KvmMsrTransfer::Probe(int vcpu_fd) {
  moved_.clear();
  refused_.clear();
  for (uint32_t index : StateMsrIndices()) {
    (ReadOne(vcpu_fd, index) ? moved_ : refused_).push_back(index);
  }
}

bool KvmMsrTransfer::Moves(uint32_t index) const {
  return std::find(moved_.begin(), moved_.end(), index) != moved_.end();
}

std::vector<uint32_t> KvmMsrTransfer::TrappedIndices() const {
  std::vector<uint32_t> trapped;
  for (uint32_t index : refused_) {
    if (MsrIsEmulatable(index)) trapped.push_back(index);
  }
  return trapped;
}

std::optional<uint64_t> KvmMsrTransfer::ReadOne(int vcpu_fd, uint32_t index) {
  MsrBuffer buf(1);
  buf.entry(0).index = index;
  if (ioctl(vcpu_fd, KVM_GET_MSRS, buf.get()) != 1) return std::nullopt;
  return buf.entry(0).data;
}

Result<> KvmMsrTransfer::Get(int vcpu_fd, MsrState& msrs, uint64_t& tsc) const {
  if (moved_.empty()) return {};
  MsrBuffer buf(moved_.size());
  for (size_t i = 0; i < moved_.size(); ++i) buf.entry(i).index = moved_[i];
  int n = ioctl(vcpu_fd, KVM_GET_MSRS, buf.get());
  if (n != static_cast<int>(moved_.size())) {
    return Fail("KVM: KVM_GET_MSRS stopped at {} of {} ({})",
                n < 0 ? std::string(std::strerror(errno))
                      : MsrName(moved_[static_cast<size_t>(n)]),
                moved_.size(), n < 0 ? "error" : "refused");
  }
  for (size_t i = 0; i < moved_.size(); ++i) {
    if (moved_[i] == kMsrTsc) {
      tsc = buf.entry(i).data;
    } else if (uint64_t* field = MsrStateField(msrs, moved_[i])) {
      *field = buf.entry(i).data;
    }
  }
  return {};
}

Result<> KvmMsrTransfer::Set(int vcpu_fd, const MsrState& msrs, uint64_t tsc,
                             std::vector<uint32_t>* skipped) const {
  MsrState copy = msrs;
  std::vector<uint32_t> todo;
  for (uint32_t index : moved_) {
    if (index != kMtrrCap) todo.push_back(index);  // Read-only in KVM too.
  }
  // KVM_SET_MSRS stops at the first entry it refuses and returns how many it
  // wrote: skip that one and carry on with the rest.
  size_t start = 0;
  while (start < todo.size()) {
    size_t n = todo.size() - start;
    MsrBuffer buf(n);
    for (size_t i = 0; i < n; ++i) {
      uint32_t index = todo[start + i];
      buf.entry(i).index = index;
      buf.entry(i).data = index == kMsrTsc ? tsc : *MsrStateField(copy, index);
    }
    int written = ioctl(vcpu_fd, KVM_SET_MSRS, buf.get());
    if (written < 0) return Fail("KVM: KVM_SET_MSRS failed: {}", std::strerror(errno));
    start += static_cast<size_t>(written);
    if (start < todo.size()) {
      if (skipped != nullptr) skipped->push_back(todo[start]);
      ++start;
    }
  }
  return {};
}

}  // namespace x86vm
