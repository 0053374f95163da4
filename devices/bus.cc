#include "devices/bus.h"

#include <algorithm>

namespace x86vm {

uint64_t LoadLe(std::span<const uint8_t> data) {
  uint64_t value = 0;
  for (size_t i = 0; i < data.size() && i < 8; ++i) {
    value |= static_cast<uint64_t>(data[i]) << (8 * i);
  }
  return value;
}

void StoreLe(std::span<uint8_t> data, uint64_t value) {
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = i < 8 ? static_cast<uint8_t>(value >> (8 * i)) : 0;
  }
}

void FunctionBusTarget::Read(uint64_t offset, std::span<uint8_t> data) {
  StoreLe(data, read_(offset, data.size()));
}

void FunctionBusTarget::Write(uint64_t offset, std::span<const uint8_t> data) {
  write_(offset, data.size(), LoadLe(data));
}

Bus::Bus(std::string name) : name_(std::move(name)), log_(Logger(name_)) {}

Result<> Bus::Register(uint64_t base, uint64_t size, BusTarget* target,
                       std::string label) {
  if (size == 0 || base + size - 1 < base) {
    return Fail("{}: window '{}' at {:#x} has a bad size {:#x}", name_, label,
                base, size);
  }
  auto it = std::lower_bound(
      windows_.begin(), windows_.end(), base,
      [](const Window& w, uint64_t b) { return w.base < b; });
  // Only the neighbours on either side can overlap, since windows are disjoint.
  if (it != windows_.end() && it->base <= base + size - 1) {
    return Fail("{}: window '{}' at {:#x}+{:#x} overlaps '{}' at {:#x}", name_,
                label, base, size, it->label, it->base);
  }
  if (it != windows_.begin()) {
    const Window& prev = *(it - 1);
    if (prev.base + prev.size - 1 >= base) {
      return Fail("{}: window '{}' at {:#x}+{:#x} overlaps '{}' at {:#x}", name_,
                  label, base, size, prev.label, prev.base);
    }
  }
  windows_.insert(it, Window{base, size, target, std::move(label)});
  return {};
}

bool Bus::Unregister(uint64_t base) {
  auto it = std::find_if(windows_.begin(), windows_.end(),
                         [&](const Window& w) { return w.base == base; });
  if (it == windows_.end()) return false;
  windows_.erase(it);
  return true;
}

const Bus::Window* Bus::Find(uint64_t addr) const {
  auto it = std::upper_bound(
      windows_.begin(), windows_.end(), addr,
      [](uint64_t a, const Window& w) { return a < w.base; });
  if (it == windows_.begin()) return nullptr;
  const Window& w = *(it - 1);
  return addr - w.base < w.size ? &w : nullptr;
}

void Bus::Read(uint64_t addr, std::span<uint8_t> data) {
  const Window* w = Find(addr);
  if (w != nullptr && addr - w->base + data.size() <= w->size) {
    w->target->Read(addr - w->base, data);
    return;
  }
  if (w != nullptr || (data.size() > 1 && IsMapped(addr + data.size() - 1))) {
    // The access straddles a window edge: split it into bytes so each part
    // reaches whoever owns it.
    for (size_t i = 0; i < data.size(); ++i) Read(addr + i, data.subspan(i, 1));
    return;
  }
  std::fill(data.begin(), data.end(), 0xff);
  if (unmapped_read_log_.Allow()) {
    log_->info("unmapped read at {:#x}, {} bytes (event {})", addr, data.size(),
               unmapped_read_log_.events());
  }
}

void Bus::Write(uint64_t addr, std::span<const uint8_t> data) {
  const Window* w = Find(addr);
  if (w != nullptr && addr - w->base + data.size() <= w->size) {
    w->target->Write(addr - w->base, data);
    return;
  }
  if (w != nullptr || (data.size() > 1 && IsMapped(addr + data.size() - 1))) {
    for (size_t i = 0; i < data.size(); ++i) Write(addr + i, data.subspan(i, 1));
    return;
  }
  if (unmapped_write_log_.Allow()) {
    log_->info("unmapped write at {:#x}, {} bytes, value {:#x} (event {})", addr,
               data.size(), LoadLe(data), unmapped_write_log_.events());
  }
}

uint64_t Bus::ReadValue(uint64_t addr, size_t size) {
  uint8_t buf[8];
  Read(addr, std::span<uint8_t>(buf, size));
  return LoadLe(std::span<const uint8_t>(buf, size));
}

void Bus::WriteValue(uint64_t addr, size_t size, uint64_t value) {
  uint8_t buf[8];
  StoreLe(std::span<uint8_t>(buf, size), value);
  Write(addr, std::span<const uint8_t>(buf, size));
}

}  // namespace x86vm
