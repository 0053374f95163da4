#include "devices/debug_ports.h"

#include <algorithm>

namespace x86vm {

void DebugCon::Serialize(Serializer& s) { s.Section("debugcon", 1); }

void DebugCon::Read(uint64_t, std::span<uint8_t> data) {
  // QEMU's isa-debugcon answers every byte of a read with the readback value.
  std::fill(data.begin(), data.end(), kReadback);
}

void DebugCon::Write(uint64_t, std::span<const uint8_t> data) {
  // An 8-bit device: the low byte of a wider OUT is what it latches.
  if (!data.empty() && sink_ != nullptr) sink_->Put(data[0]);
}

void ExitPort::Serialize(Serializer& s) { s.Section("debug_exit", 1); }

void ExitPort::Read(uint64_t, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), 0);
}

void ExitPort::Write(uint64_t, std::span<const uint8_t> data) {
  uint64_t value = LoadLe(data);
  // Computed as QEMU's exit((val << 1) | 1), in an int.
  int status = static_cast<int>(static_cast<uint32_t>((value << 1) | 1));
  if (exit_requested_) exit_requested_(status);
}

void PostCodePort::Serialize(Serializer& s) {
  s.Section("post_code", 1);
  s(last_code_);
}

void PostCodePort::Read(uint64_t, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), 0xFF);
}

void PostCodePort::Write(uint64_t, std::span<const uint8_t> data) {
  if (data.empty()) return;
  last_code_ = data[0];
  ++write_count_;
}

}  // namespace x86vm
