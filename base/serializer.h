// One Serialize(Serializer&) per component both saves and loads its state
// (the ares/Dolphin pattern): the same code path walks the fields in both
// directions, so save and load can never drift apart.
#ifndef X86VM_BASE_SERIALIZER_H_
#define X86VM_BASE_SERIALIZER_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace x86vm {

// Walks a component's state into a byte stream (saving) or out of one
// (loading). Loading never reads past the end: a short or mismatched stream
// sets error() and yields zeros, so a corrupt snapshot is an error, not UB.
class Serializer {
 public:
  // A serializer that appends to an internal buffer.
  static Serializer ForSave() { return Serializer(true, {}); }
  // A serializer that reads back a buffer produced by ForSave().
  static Serializer ForLoad(std::span<const uint8_t> data) {
    return Serializer(false, data);
  }

  bool saving() const { return saving_; }
  bool loading() const { return !saving_; }
  bool ok() const { return error_.empty(); }
  // The first problem met while loading, empty when ok().
  const std::string& error() const { return error_; }
  // The bytes written so far (saving only).
  const std::vector<uint8_t>& data() const { return out_; }
  // True when a load consumed the whole stream.
  bool at_end() const { return pos_ == in_.size(); }

  // Opens a named, versioned section (QEMU vmstate style). Returns the version
  // found in the stream when loading (for migrating old layouts), or `version`
  // when saving. A name mismatch or a newer version than `version` is an error.
  uint32_t Section(std::string_view name, uint32_t version);

  // Any integral, enum or bool, little-endian and fixed width.
  template <typename T>
    requires(std::is_integral_v<T> || std::is_enum_v<T>)
  void operator()(T& value) {
    if constexpr (std::is_enum_v<T>) {
      auto raw = static_cast<std::underlying_type_t<T>>(value);
      (*this)(raw);
      value = static_cast<T>(raw);
    } else if constexpr (std::is_same_v<T, bool>) {
      uint8_t raw = value ? 1 : 0;
      Raw(&raw, 1);
      value = raw != 0;
    } else {
      using U = std::make_unsigned_t<T>;
      U raw = static_cast<U>(value);
      uint8_t bytes[sizeof(U)];
      for (size_t i = 0; i < sizeof(U); ++i) {
        bytes[i] = static_cast<uint8_t>(raw >> (8 * i));
      }
      Raw(bytes, sizeof(U));
      raw = 0;
      for (size_t i = 0; i < sizeof(U); ++i) {
        raw = static_cast<U>(raw | static_cast<U>(static_cast<U>(bytes[i]) << (8 * i)));
      }
      value = static_cast<T>(raw);
    }
  }

  template <typename T, size_t N>
  void operator()(std::array<T, N>& values) {
    for (auto& v : values) (*this)(v);
  }

  template <typename T, size_t N>
  void operator()(T (&values)[N]) {
    for (auto& v : values) (*this)(v);
  }

  // A vector whose length is part of the state; `max_size` bounds what a
  // corrupt stream can make us allocate.
  template <typename T>
  void operator()(std::vector<T>& values, size_t max_size = 1 << 20) {
    uint64_t n = values.size();
    (*this)(n);
    if (loading()) {
      if (n > max_size) {
        SetError("vector length out of range");
        n = 0;
      }
      values.resize(n);
    }
    for (auto& v : values) (*this)(v);
  }

  // A fixed-size block of bytes (RAM pages, FIFOs).
  void Bytes(std::span<uint8_t> bytes) { Raw(bytes.data(), bytes.size()); }

  void String(std::string& s, size_t max_size = 4096);

 private:
  Serializer(bool saving, std::span<const uint8_t> in)
      : saving_(saving), in_(in) {}
  // Writes `n` bytes from `p` (saving) or fills `p` from the stream (loading).
  void Raw(uint8_t* p, size_t n);
  void SetError(std::string message);

  bool saving_;
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  std::vector<uint8_t> out_;
  std::string error_;
};

}  // namespace x86vm

#endif  // X86VM_BASE_SERIALIZER_H_
