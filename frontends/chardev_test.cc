#include "frontends/chardev.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace x86vm {

// Holds a RawTerminal the exit test deliberately never destroys.
RawTerminal* g_never_destroyed = nullptr;

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Everything currently readable from a non-blocking fd.
std::string Drain(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

std::vector<int> PollAll(CharBackend& b) {
  std::vector<int> got;
  while (auto byte = b.Poll()) got.push_back(*byte);
  return got;
}

// A pipe pair for input and one for output, output read end non-blocking.
class PipeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(pipe(in_), 0);
    ASSERT_EQ(pipe(out_), 0);
    fcntl(out_[0], F_SETFL, O_NONBLOCK);
  }
  void TearDown() override {
    for (int fd : {in_[0], in_[1], out_[0], out_[1]}) {
      if (fd >= 0) close(fd);
    }
  }
  void Type(std::string_view bytes) {
    ASSERT_EQ(write(in_[1], bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  FdBackend::Options Opts(bool escapes) {
    return FdBackend::Options{
        .in_fd = in_[0], .out_fd = out_[1], .own_out_fd = false, .escapes = escapes};
  }

  int in_[2] = {-1, -1};
  int out_[2] = {-1, -1};
};

TEST(ParseCharSpec, AcceptsTheThreeForms) {
  auto stdio = ParseCharSpec("--serial", "stdio");
  ASSERT_TRUE(stdio.has_value());
  EXPECT_EQ(stdio->kind, CharSpec::Kind::kStdio);
  auto none = ParseCharSpec("--serial", "none");
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->kind, CharSpec::Kind::kNone);
  auto file = ParseCharSpec("--debugcon", "file:/tmp/a b.log");
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ(file->kind, CharSpec::Kind::kFile);
  EXPECT_EQ(file->path, "/tmp/a b.log");
}

TEST(ParseCharSpec, ErrorsNameOptionAndValueOnOneLine) {
  for (std::string_view bad : {"", "stdin", "file:", "tcp:1234", "STDIO"}) {
    auto r = ParseCharSpec("--serial", bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_NE(r.error().message.find("--serial"), std::string::npos);
    EXPECT_NE(r.error().message.find("'" + std::string(bad) + "'"), std::string::npos);
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
}

TEST(FileBackend, WritesBytesAndHasNoInput) {
  std::string path = ::testing::TempDir() + "/chardev_file_test.log";
  {
    auto backend = OpenCharBackend("--serial", "file:" + path);
    ASSERT_TRUE(backend.has_value()) << backend.error().message;
    for (uint8_t b : std::string("boot\r\nok")) (*backend)->Write(b);
    (*backend)->Write(0x00);
    (*backend)->Write(0xff);
    EXPECT_EQ(ReadFile(path), "boot\r\n");  // Line-buffered.
    EXPECT_FALSE((*backend)->Poll().has_value());
    EXPECT_FALSE((*backend)->eof());
    EXPECT_FALSE((*backend)->quit_requested());
  }
  EXPECT_EQ(ReadFile(path), std::string("boot\r\nok\0\xff", 10));
  // Opening again truncates.
  { ASSERT_TRUE(OpenCharBackend("--serial", "file:" + path).has_value()); }
  EXPECT_EQ(ReadFile(path), "");
}

TEST(FileBackend, UnopenableFileIsAnError) {
  auto r = OpenCharBackend("--debugcon", "file:/nonexistent-dir/x.log");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("--debugcon 'file:/nonexistent-dir/x.log'"), std::string::npos);
  EXPECT_NE(r.error().message.find("No such file"), std::string::npos);
}

TEST(NoneBackend, DiscardsOutput) {
  auto r = OpenCharBackend("--serial", "none");
  ASSERT_TRUE(r.has_value());
  (*r)->Write('x');
  (*r)->Flush();
  EXPECT_FALSE((*r)->Poll().has_value());
  EXPECT_FALSE((*r)->eof());
}

TEST(StdioBackend, OnlyOneAtATime) {
  auto first = OpenCharBackend("--serial", "stdio");
  ASSERT_TRUE(first.has_value()) << first.error().message;
  auto second = OpenCharBackend("--debugcon", "stdio");
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message.find("--debugcon 'stdio'"), std::string::npos);
  first->reset();
  EXPECT_TRUE(OpenCharBackend("--debugcon", "stdio").has_value());
}

TEST(EscapeFilter, StateMachine) {
  using A = EscapeFilter::Action;
  EscapeFilter f;
  EXPECT_EQ(f.Feed('a'), A::kPass);
  EXPECT_EQ(f.Feed(0x01), A::kDrop);
  EXPECT_EQ(f.Feed(0x01), A::kPass);  // Ctrl-A Ctrl-A sends one Ctrl-A.
  EXPECT_EQ(f.Feed('x'), A::kPass);   // Not escaped any more.
  EXPECT_EQ(f.Feed(0x01), A::kDrop);
  EXPECT_EQ(f.Feed('z'), A::kDrop);  // Unknown escape swallowed.
  EXPECT_EQ(f.Feed('z'), A::kPass);
  EXPECT_EQ(f.Feed(0x01), A::kDrop);
  EXPECT_EQ(f.Feed('h'), A::kHelp);
  EXPECT_EQ(f.Feed(0x01), A::kDrop);
  EXPECT_EQ(f.Feed('x'), A::kQuit);
  EXPECT_EQ(f.Feed(0x03), A::kPass);  // Ctrl-C is the guest's.
}

TEST_F(PipeTest, EscapesThroughThePipe) {
  FdBackend b(Opts(true));
  EXPECT_FALSE(b.Poll().has_value());
  Type(
      "ab\x01\x01"
      "c\x01zd");
  EXPECT_EQ(PollAll(b), (std::vector<int>{'a', 'b', 0x01, 'c', 'd'}));
  Type("\x01");  // An escape split across reads.
  EXPECT_FALSE(b.Poll().has_value());
  Type("?e");
  EXPECT_EQ(PollAll(b), std::vector<int>{'e'});
  EXPECT_NE(Drain(out_[0]).find("C-a x    exit emulator"), std::string::npos);
  Type("f\x01xg");
  EXPECT_EQ(PollAll(b), std::vector<int>{'f'});
  EXPECT_TRUE(b.quit_requested());
  EXPECT_FALSE(b.Poll().has_value());
  EXPECT_FALSE(b.eof());
}

TEST_F(PipeTest, WithoutEscapesBytesPassAndEofIsReported) {
  FdBackend b(Opts(false));
  Type("\x01x\x01");
  EXPECT_EQ(PollAll(b), (std::vector<int>{0x01, 'x', 0x01}));
  EXPECT_FALSE(b.eof());
  Type("end");
  close(in_[1]);
  in_[1] = -1;
  EXPECT_EQ(PollAll(b), (std::vector<int>{'e', 'n', 'd'}));
  EXPECT_TRUE(b.eof());
  EXPECT_FALSE(b.quit_requested());
  EXPECT_FALSE(b.Poll().has_value());
}

TEST_F(PipeTest, OutputIsLineBufferedAndPollFlushes) {
  FdBackend b(Opts(false));
  b.Write('o');
  b.Write('k');
  EXPECT_EQ(Drain(out_[0]), "");
  b.Write('\n');
  EXPECT_EQ(Drain(out_[0]), "ok\n");
  b.Write('$');
  b.Poll();  // A prompt without newline shows up once the run loop polls.
  EXPECT_EQ(Drain(out_[0]), "$");
  for (int i = 0; i < 5000; ++i) b.Write('x');
  EXPECT_EQ(Drain(out_[0]).size(), 4096u);
  b.Flush();
  EXPECT_EQ(Drain(out_[0]).size(), 5000u - 4096u);
}

TEST(RawTerminal, EntersRawModeAndRestores) {
  int master = -1, slave = -1;
  ASSERT_EQ(openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  termios before;
  ASSERT_EQ(tcgetattr(slave, &before), 0);
  ASSERT_TRUE(before.c_lflag & ICANON);
  {
    auto raw = RawTerminal::Enter(slave);
    ASSERT_TRUE(raw.has_value()) << raw.error().message;
    EXPECT_FALSE(RawTerminal::Enter(slave).has_value());  // One at a time.
    termios now;
    ASSERT_EQ(tcgetattr(slave, &now), 0);
    EXPECT_FALSE(now.c_lflag & (ICANON | ECHO | ISIG));
    EXPECT_FALSE(now.c_iflag & (ICRNL | IXON));
    EXPECT_TRUE(now.c_oflag & OPOST);
    EXPECT_EQ(now.c_cc[VMIN], 1);
  }
  termios after;
  ASSERT_EQ(tcgetattr(slave, &after), 0);
  EXPECT_EQ(after.c_lflag, before.c_lflag);
  EXPECT_EQ(after.c_iflag, before.c_iflag);
  EXPECT_EQ(after.c_oflag, before.c_oflag);
  // Not a terminal: a clear error.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  auto r = RawTerminal::Enter(fds[0]);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("fd"), std::string::npos);
  for (int fd : {fds[0], fds[1], master, slave}) close(fd);
}

TEST(RawTerminal, RestoredWhenTheProcessExits) {
  int master = -1, slave = -1;
  ASSERT_EQ(openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  fflush(nullptr);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto raw = RawTerminal::Enter(slave);
    if (!raw) _exit(2);
    // Never destroyed: exit() alone must restore. (Kept reachable from a
    // global so LeakSanitizer does not object.)
    g_never_destroyed = raw->release();
    exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  termios after;
  ASSERT_EQ(tcgetattr(slave, &after), 0);
  EXPECT_TRUE(after.c_lflag & ICANON);
  EXPECT_TRUE(after.c_lflag & ECHO);
  close(master);
  close(slave);
}

TEST(RawTerminal, RestoredOnFatalSignal) {
  int master = -1, slave = -1;
  ASSERT_EQ(openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  fflush(nullptr);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto raw = RawTerminal::Enter(slave);
    if (!raw) _exit(2);
    raise(SIGTERM);
    _exit(3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  termios after;
  ASSERT_EQ(tcgetattr(slave, &after), 0);
  EXPECT_TRUE(after.c_lflag & ICANON);
  close(master);
  close(slave);
}

}  // namespace
}  // namespace x86vm
