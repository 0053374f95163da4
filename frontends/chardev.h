// Host character backends for --serial and --debugcon: "stdio", "file:PATH"
// and "none". A backend takes the guest's output bytes (it is the UART's
// SerialSink) and, for stdio, offers host input that the run loop polls
// without blocking.
//
// stdio on a terminal switches stdin to raw mode (restored on destruction,
// at exit and on fatal signals) and understands QEMU's escapes: Ctrl-A x
// quits, Ctrl-A h prints help, Ctrl-A Ctrl-A sends Ctrl-A. When stdin is not a
// terminal, its bytes pass through untouched and its end is reported as eof().
#ifndef X86VM_FRONTENDS_CHARDEV_H_
#define X86VM_FRONTENDS_CHARDEV_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "devices/uart16550.h"

namespace x86vm {

// One host character device. Not thread-safe: the run loop owns it.
class CharBackend : public SerialSink, public SerialSource {
 public:
  // Sends one guest byte to the host (may be buffered until a newline,
  // Flush() or Poll()).
  void Write(uint8_t byte) override = 0;
  // Pushes buffered output out to the host.
  void Flush() override {}
  // The next byte of host input if one is ready; never blocks. Also flushes
  // output, so polling regularly keeps prompts visible.
  std::optional<uint8_t> Poll() override { return std::nullopt; }
  // True once the user typed the quit escape (Ctrl-A x).
  bool quit_requested() const override { return false; }
  // True once host input has ended (stdin closed or at end of file).
  bool eof() const override { return false; }
};

// A parsed backend option value.
struct CharSpec {
  enum class Kind { kNone, kStdio, kFile };
  Kind kind = Kind::kNone;
  std::string path;  // kFile only.
};

// Parses "stdio", "file:PATH" or "none". `option` ("--serial") names the
// option in the one-line error, together with the value.
Result<CharSpec> ParseCharSpec(std::string_view option, std::string_view value);

// Parses and opens a backend: creates/truncates the file, or claims stdin and
// stdout (only one backend may use stdio at a time).
Result<std::unique_ptr<CharBackend>> OpenCharBackend(std::string_view option,
                                                     std::string_view value);

// The Ctrl-A escape state machine (QEMU's mux escapes), separate from any
// file descriptor so it can be tested byte by byte.
class EscapeFilter {
 public:
  static constexpr uint8_t kEscape = 0x01;  // Ctrl-A.
  // What to do with a byte the user typed.
  enum class Action {
    kPass,  // Send the byte to the guest.
    kDrop,  // Swallow it (an escape prefix, or an unknown escape).
    kQuit,  // Ctrl-A x: quit the emulator.
    kHelp,  // Ctrl-A h or ?: show the escape help.
  };
  // Feeds one input byte.
  Action Feed(uint8_t byte);
  // The help text shown for kHelp (lines end in "\r\n" for raw terminals).
  static std::string_view HelpText();

 private:
  bool escaped_ = false;
};

// Puts a terminal in raw mode the way QEMU's stdio backend does (no echo, no
// line editing, no signals from keys, output processing kept) and restores
// it on destruction. Also restored at exit() and on fatal signals, since
// leaving a user's shell raw is worse than any crash.
class RawTerminal {
 public:
  // Fails when `fd` is not a terminal or another RawTerminal is active.
  static Result<std::unique_ptr<RawTerminal>> Enter(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  RawTerminal() = default;
};

// A backend over two file descriptors; used for stdio and file:PATH, and by
// tests with pipes.
class FdBackend : public CharBackend {
 public:
  struct Options {
    int in_fd = -1;           // -1: no input.
    int out_fd = -1;          // -1: output discarded.
    bool own_out_fd = false;  // Close out_fd on destruction.
    bool escapes = false;     // Run input through EscapeFilter.
  };
  explicit FdBackend(Options options);
  ~FdBackend() override;

  void Write(uint8_t byte) override;
  void Flush() override;
  std::optional<uint8_t> Poll() override;
  bool quit_requested() const override { return quit_requested_; }
  bool eof() const override { return eof_; }

 private:
  // Writes all of `bytes` to out_fd_, waiting while it is full.
  void WriteAll(const uint8_t* bytes, size_t size);

  Options options_;
  // Output goes out per byte to a terminal, per line otherwise.
  bool out_is_tty_ = false;
  bool out_failed_ = false;
  std::vector<uint8_t> out_buffer_;
  std::array<uint8_t, 256> in_buffer_{};
  size_t in_pos_ = 0;
  size_t in_len_ = 0;
  EscapeFilter escape_;
  bool quit_requested_ = false;
  bool eof_ = false;
};

}  // namespace x86vm

#endif  // X86VM_FRONTENDS_CHARDEV_H_
