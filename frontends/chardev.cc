#include "frontends/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/log.h"

namespace x86vm {
namespace {

constexpr size_t kOutputBufferBytes = 4096;

// Process-wide terminal state: there is one controlling terminal, and the
// exit and signal hooks need it without an object. Touched only by the run
// loop's thread and (restore only) by signal handlers.
struct SavedTerminal {
  int fd = -1;
  termios tio{};
  volatile sig_atomic_t active = 0;
};
SavedTerminal g_terminal;
bool g_hooks_installed = false;
bool g_stdio_claimed = false;

// Async-signal-safe: tcsetattr is on POSIX's list.
void RestoreTerminal() {
  if (g_terminal.active) {
    tcsetattr(g_terminal.fd, TCSANOW, &g_terminal.tio);
    g_terminal.active = 0;
  }
}

void RestoreTerminalAtExit() { RestoreTerminal(); }

void RestoreTerminalOnSignal(int sig) {
  RestoreTerminal();
  // SA_RESETHAND put the default action back; re-raise to die as intended.
  raise(sig);
}

void InstallRestoreHooks() {
  if (g_hooks_installed) return;
  g_hooks_installed = true;
  atexit(RestoreTerminalAtExit);
  for (int sig : {SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) {
    struct sigaction old {};
    if (sigaction(sig, nullptr, &old) != 0) continue;
    // Leave handlers others installed (the run loop, sanitizers) alone.
    if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) continue;
    struct sigaction sa {};
    sa.sa_handler = RestoreTerminalOnSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(sig, &sa, nullptr);
  }
}

// "none": output discarded, no input.
class NullBackend : public CharBackend {
 public:
  void Write(uint8_t) override {}
};

// stdio: fds 0 and 1, raw mode and escapes when stdin is a terminal.
class StdioBackend : public FdBackend {
 public:
  StdioBackend(std::unique_ptr<RawTerminal> raw, bool escapes)
      : FdBackend(Options{.in_fd = STDIN_FILENO,
                          .out_fd = STDOUT_FILENO,
                          .own_out_fd = false,
                          .escapes = escapes}),
        raw_(std::move(raw)) {
    g_stdio_claimed = true;
  }
  ~StdioBackend() override {
    Flush();
    raw_.reset();
    g_stdio_claimed = false;
  }

 private:
  std::unique_ptr<RawTerminal> raw_;  // Null when stdin is not a terminal.
};

}  // namespace

Result<CharSpec> ParseCharSpec(std::string_view option, std::string_view value) {
  CharSpec spec;
  if (value == "stdio") {
    spec.kind = CharSpec::Kind::kStdio;
  } else if (value == "none") {
    spec.kind = CharSpec::Kind::kNone;
  } else if (value.starts_with("file:")) {
    spec.kind = CharSpec::Kind::kFile;
    spec.path = std::string(value.substr(5));
    if (spec.path.empty()) return Fail("{} '{}': missing path after 'file:'", option, value);
  } else {
    return Fail("{} '{}': unknown backend (use stdio, file:PATH or none)", option, value);
  }
  return spec;
}

Result<std::unique_ptr<CharBackend>> OpenCharBackend(std::string_view option,
                                                     std::string_view value) {
  auto spec = ParseCharSpec(option, value);
  if (!spec) return std::unexpected(spec.error());
  switch (spec->kind) {
    case CharSpec::Kind::kNone:
      return std::unique_ptr<CharBackend>(new NullBackend());
    case CharSpec::Kind::kFile: {
      int fd = open(spec->path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) {
        return Fail("{} '{}': cannot open {}: {}", option, value, spec->path, strerror(errno));
      }
      return std::unique_ptr<CharBackend>(
          new FdBackend(FdBackend::Options{.out_fd = fd, .own_out_fd = true}));
    }
    case CharSpec::Kind::kStdio: {
      if (g_stdio_claimed) {
        return Fail("{} '{}': stdio is already used by another backend", option, value);
      }
      std::unique_ptr<RawTerminal> raw;
      bool tty = isatty(STDIN_FILENO) == 1;
      if (tty) {
        auto entered = RawTerminal::Enter(STDIN_FILENO);
        if (!entered) return Fail("{} '{}': {}", option, value, entered.error().message);
        raw = std::move(*entered);
      }
      return std::unique_ptr<CharBackend>(new StdioBackend(std::move(raw), tty));
    }
  }
  return Fail("{} '{}': unknown backend", option, value);
}

EscapeFilter::Action EscapeFilter::Feed(uint8_t byte) {
  if (!escaped_) {
    if (byte == kEscape) {
      escaped_ = true;
      return Action::kDrop;
    }
    return Action::kPass;
  }
  escaped_ = false;
  switch (byte) {
    case 'x':
    case 'X':
      return Action::kQuit;
    case 'h':
    case 'H':
    case '?':
      return Action::kHelp;
    case kEscape:
      return Action::kPass;  // Ctrl-A Ctrl-A: one Ctrl-A for the guest.
    default:
      return Action::kDrop;  // Unknown escapes are swallowed, as in QEMU.
  }
}

std::string_view EscapeFilter::HelpText() {
  return "\r\nC-a h    print this help\r\n"
         "C-a x    exit emulator\r\n"
         "C-a C-a  sends C-a\r\n";
}

Result<std::unique_ptr<RawTerminal>> RawTerminal::Enter(int fd) {
  if (g_terminal.active) return Fail("a terminal is already in raw mode");
  termios saved;
  if (tcgetattr(fd, &saved) != 0) {
    return Fail("cannot read terminal settings of fd {}: {}", fd, strerror(errno));
  }
  // QEMU's qemu_chr_set_echo_stdio(false), plus ISIG off so Ctrl-C reaches
  // the guest.
  termios raw = saved;
  raw.c_iflag &=
      ~static_cast<tcflag_t>(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  raw.c_oflag |= OPOST;
  raw.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ICANON | IEXTEN | ISIG);
  raw.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB);
  raw.c_cflag |= CS8;
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  InstallRestoreHooks();
  g_terminal.fd = fd;
  g_terminal.tio = saved;
  g_terminal.active = 1;
  if (tcsetattr(fd, TCSANOW, &raw) != 0) {
    int err = errno;
    g_terminal.active = 0;
    return Fail("cannot set raw mode on fd {}: {}", fd, strerror(err));
  }
  return std::unique_ptr<RawTerminal>(new RawTerminal());
}

RawTerminal::~RawTerminal() { RestoreTerminal(); }

FdBackend::FdBackend(Options options) : options_(options) {
  out_is_tty_ = options_.out_fd >= 0 && isatty(options_.out_fd) == 1;
}

FdBackend::~FdBackend() {
  Flush();
  if (options_.own_out_fd && options_.out_fd >= 0) close(options_.out_fd);
}

void FdBackend::Write(uint8_t byte) {
  if (options_.out_fd < 0 || out_failed_) return;
  if (out_is_tty_) {
    WriteAll(&byte, 1);
    return;
  }
  out_buffer_.push_back(byte);
  if (byte == '\n' || out_buffer_.size() >= kOutputBufferBytes) Flush();
}

void FdBackend::Flush() {
  if (out_buffer_.empty()) return;
  WriteAll(out_buffer_.data(), out_buffer_.size());
  out_buffer_.clear();
}

void FdBackend::WriteAll(const uint8_t* bytes, size_t size) {
  while (size > 0 && !out_failed_) {
    ssize_t n = write(options_.out_fd, bytes, size);
    if (n > 0) {
      bytes += n;
      size -= static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{.fd = options_.out_fd, .events = POLLOUT, .revents = 0};
      poll(&p, 1, -1);
    } else {
      // The host end is gone (closed pipe, full disk): keep the VM running
      // and drop further output.
      out_failed_ = true;
      Logger("chardev")->warn("output to fd {} failed: {}; dropping further output",
                              options_.out_fd, n < 0 ? strerror(errno) : "wrote nothing");
    }
  }
}

std::optional<uint8_t> FdBackend::Poll() {
  Flush();
  while (!quit_requested_) {
    if (in_pos_ < in_len_) {
      uint8_t byte = in_buffer_[in_pos_++];
      if (!options_.escapes) return byte;
      switch (escape_.Feed(byte)) {
        case EscapeFilter::Action::kPass:
          return byte;
        case EscapeFilter::Action::kDrop:
          continue;
        case EscapeFilter::Action::kQuit:
          quit_requested_ = true;
          return std::nullopt;
        case EscapeFilter::Action::kHelp: {
          std::string_view help = EscapeFilter::HelpText();
          if (options_.out_fd >= 0 && !out_failed_) {
            WriteAll(reinterpret_cast<const uint8_t*>(help.data()), help.size());
          }
          continue;
        }
      }
    }
    if (eof_ || options_.in_fd < 0) return std::nullopt;
    pollfd p{.fd = options_.in_fd, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, 0) <= 0) return std::nullopt;
    if (p.revents & POLLNVAL) {
      eof_ = true;
      return std::nullopt;
    }
    // POLLIN, or POLLHUP/POLLERR which read() turns into 0 or an error.
    ssize_t n = read(options_.in_fd, in_buffer_.data(), in_buffer_.size());
    if (n > 0) {
      in_pos_ = 0;
      in_len_ = static_cast<size_t>(n);
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
      eof_ = true;
      return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace x86vm
