#include "base/serializer.h"

#include <fmt/format.h>

namespace x86vm {

void Serializer::Raw(uint8_t* p, size_t n) {
  if (saving_) {
    out_.insert(out_.end(), p, p + n);
    return;
  }
  if (!ok() || n > in_.size() - pos_) {
    SetError("state stream is truncated");
    std::memset(p, 0, n);
    return;
  }
  std::memcpy(p, in_.data() + pos_, n);
  pos_ += n;
}

void Serializer::SetError(std::string message) {
  if (error_.empty()) error_ = std::move(message);
}

void Serializer::String(std::string& s, size_t max_size) {
  uint32_t n = static_cast<uint32_t>(s.size());
  (*this)(n);
  if (loading()) {
    if (n > max_size) {
      SetError("string length out of range");
      n = 0;
    }
    s.assign(n, '\0');
  }
  Raw(reinterpret_cast<uint8_t*>(s.data()), n);
}

uint32_t Serializer::Section(std::string_view name, uint32_t version) {
  std::string found(name);
  String(found, 256);
  uint32_t found_version = version;
  (*this)(found_version);
  if (loading() && ok()) {
    if (found != name) {
      SetError(fmt::format("expected section '{}', found '{}'", name, found));
    } else if (found_version > version) {
      SetError(fmt::format("section '{}' has version {}, newer than {}", name,
                           found_version, version));
    }
  }
  return found_version;
}

}  // namespace x86vm
