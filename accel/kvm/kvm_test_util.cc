#include "accel/kvm/kvm_test_util.h"

#include <cstring>
#include <fstream>
#include <iterator>

namespace x86vm::kvm_test {

std::string KvmUnavailableReason() {
  static const std::string reason = [] {
    MiniBoard board;
    auto vcpu = KvmVcpu::Create(board.env());
    return vcpu ? std::string() : vcpu.error().message;
  }();
  return reason;
}

void RecordingTarget::Read(uint64_t offset, std::span<uint8_t> data) {
  uint64_t v = read_value ? read_value(offset, data.size()) : 0;
  StoreLe(data, v);
  log.push_back({false, offset, data.size(), v});
}

void RecordingTarget::Write(uint64_t offset, std::span<const uint8_t> data) {
  log.push_back({true, offset, data.size(), LoadLe(data)});
}

std::vector<uint64_t> RecordingTarget::writes() const {
  std::vector<uint64_t> out;
  for (const Access& a : log) {
    if (a.write) out.push_back(a.value);
  }
  return out;
}

MiniBoard::MiniBoard(uint64_t ram_bytes, VirtualClock::Mode mode) : clock_(mode) {
  memory_ = std::move(GuestMemory::Create(ram_bytes).value());
}

CpuEnvironment MiniBoard::env(InterruptController* irq, CpuPlatform* platform) {
  CpuEnvironment e;
  e.memory = memory_.get();
  e.mmio = &mmio_;
  e.pio = &pio_;
  e.irq = irq;
  e.clock = &clock_;
  e.platform = platform;
  return e;
}

void MiniBoard::Load(uint64_t gpa, std::span<const uint8_t> bytes) {
  std::memcpy(memory_->HostRange(gpa, bytes.size()), bytes.data(), bytes.size());
}

std::vector<uint8_t> ReadGuest(const std::string& name) {
  std::ifstream f("accel/kvm/testdata/" + name + ".bin", std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)),
                              std::istreambuf_iterator<char>());
}

namespace {

void Put64(GuestMemory& m, uint64_t gpa, uint64_t v) { std::memcpy(m.HostRange(gpa, 8), &v, 8); }

}  // namespace

void BuildLongModeTables(GuestMemory& m) {
  using L = LongMode;
  // Page tables: PML4[0] -> PDPT[0] -> PD with 512 2 MiB pages (P RW US PS).
  Put64(m, L::kPml4, (L::kPml4 + 0x1000) | 7);
  Put64(m, L::kPml4 + 0x1000, (L::kPml4 + 0x2000) | 7);
  for (uint64_t i = 0; i < 512; ++i) Put64(m, L::kPml4 + 0x2000 + 8 * i, (i << 21) | 0x87);
  // GDT (SDM Vol. 3 3.4.5, 8.2.3).
  Put64(m, L::kGdt + 0x00, 0);
  Put64(m, L::kGdt + 0x08, 0x00af9b000000ffffull);
  Put64(m, L::kGdt + 0x10, 0x00cf93000000ffffull);
  Put64(m, L::kGdt + 0x18, 0x00cff3000000ffffull);
  Put64(m, L::kGdt + 0x20, 0x00affb000000ffffull);
  constexpr uint64_t kTssLimit = LongMode::kIoBitmap + 8192;  // The bitmap, then its 0xFF byte.
  Put64(m, L::kGdt + 0x28, kTssLimit | ((L::kTss & 0xffffff) << 16) | (0x89ull << 40) |
                               (((L::kTss >> 24) & 0xff) << 56));
  Put64(m, L::kGdt + 0x30, L::kTss >> 32);
  // IDT: 64-bit interrupt gates (SDM Vol. 3 6.14.1) to one HLT each.
  for (uint64_t v = 0; v < 256; ++v) {
    uint64_t handler = L::kStubs + v;
    Put64(m, L::kIdt + 16 * v,
          (handler & 0xffff) | (0x08ull << 16) | (0x8eull << 40) |
              (((handler >> 16) & 0xffff) << 48));
    Put64(m, L::kIdt + 16 * v + 8, handler >> 32);
    *m.HostRange(L::kStubs + v, 1) = 0xf4;
  }
  // TSS: RSP0 and an I/O permission bitmap (SDM Vol. 1 19.5.2) opening
  // only kUserPort..kUserPort+3 to CPL 3. (IOPL 3 would be simpler, but a
  // KVM that runs ring 3 natively may not let the guest have it.)
  std::memset(m.HostRange(L::kTss, 0x68), 0, 0x68);
  Put64(m, L::kTss + 4, L::kStack0Top);
  uint16_t iomap = L::kIoBitmap;
  std::memcpy(m.HostRange(L::kTss + 0x66, 2), &iomap, 2);
  uint8_t* bitmap = m.HostRange(L::kTss + L::kIoBitmap, 8192 + 1);
  std::memset(bitmap, 0xff, 8192 + 1);
  for (uint64_t port = L::kUserPort; port < L::kUserPort + 4; ++port) {
    bitmap[port / 8] &= static_cast<uint8_t>(~(1u << (port % 8)));
  }
}

CpuState LongModeState(uint64_t rip, int cpl) {
  using L = LongMode;
  CpuState s;
  s.Reset();
  s.gpr = {};
  s.cr0 = cr0::kPe | cr0::kMp | cr0::kEt | cr0::kNe | cr0::kWp | cr0::kPg;
  s.cr4 = cr4::kPae | cr4::kOsfxsr | cr4::kOsxmmexcpt;
  s.cr3 = L::kPml4;
  s.efer = efer::kLme | efer::kLma | efer::kSce;
  uint32_t code = 0xb | seg_attr::kS | seg_attr::kP | seg_attr::kL | seg_attr::kG;
  uint32_t data = 0x3 | seg_attr::kS | seg_attr::kP | seg_attr::kDb | seg_attr::kG;
  uint32_t dpl = static_cast<uint32_t>(cpl) << seg_attr::kDplShift;
  uint16_t rpl = static_cast<uint16_t>(cpl);
  s.seg[kCs] = Segment{static_cast<uint16_t>((cpl ? 0x20 : 0x08) | rpl), 0, 0xffffffff, code | dpl};
  Segment d{static_cast<uint16_t>((cpl ? 0x18 : 0x10) | rpl), 0, 0xffffffff, data | dpl};
  s.seg[kSs] = s.seg[kDs] = s.seg[kEs] = s.seg[kFs] = s.seg[kGs] = d;
  s.seg[kTr] = Segment{0x28, L::kTss, L::kIoBitmap + 8192, 0xb | seg_attr::kP};
  s.seg[kLdtr] = Segment{0, 0, 0, seg_attr::kUnusable};
  s.gdtr = DescriptorTable{L::kGdt, 0x37};
  s.idtr = DescriptorTable{L::kIdt, 0xfff};
  s.rip = rip;
  s.gpr[kRsp] = cpl ? L::kStack3Top : L::kStack0Top;
  s.rflags = flags::kFixed1;
  return s;
}

CpuState RealModeState(uint16_t ip) {
  CpuState s;
  s.Reset();
  s.seg[kCs] = Segment{0, 0, 0xffff, 0xb | seg_attr::kS | seg_attr::kP};
  s.rip = ip;
  s.gpr[kRsp] = 0x7000;
  return s;
}

uint64_t RingLoopChecksum(uint64_t iterations) {
  uint64_t x = 0x9e3779b97f4a7c15ull, sum = 0;
  for (uint64_t i = 0; i < iterations; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    sum += x;
  }
  return sum;
}

}  // namespace x86vm::kvm_test
