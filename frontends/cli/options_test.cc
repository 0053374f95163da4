#include "frontends/cli/options.h"

#include <gtest/gtest.h>

namespace x86vm {
namespace {

std::expected<Options, UsageError> Parse(std::vector<std::string> args) {
  return ParseOptions(args);
}

TEST(Options, Defaults) {
  auto o = Parse({}).value();
  EXPECT_EQ(o.memory_bytes, 512ull << 20);
  EXPECT_EQ(o.accel, "auto");
  EXPECT_EQ(o.bios, "builtin");
  EXPECT_EQ(o.serial, "stdio");
  EXPECT_EQ(o.display, "none");
  EXPECT_FALSE(o.exit_port.has_value());
  EXPECT_FALSE(o.no_reboot);
}

TEST(Options, ValuesBothForms) {
  auto o = Parse({"--memory", "1G", "--accel=interp", "--exit-port", "0xf4", "--no-reboot",
                  "--serial", "file:/tmp/x", "--append", "console=ttyS0 quiet",
                  "--debugcon=stdio", "--clock", "deterministic"})
               .value();
  EXPECT_EQ(o.memory_bytes, 1ull << 30);
  EXPECT_EQ(o.accel, "interp");
  EXPECT_EQ(*o.exit_port, 0xf4);
  EXPECT_TRUE(o.no_reboot);
  EXPECT_EQ(o.serial, "file:/tmp/x");
  EXPECT_EQ(o.append, "console=ttyS0 quiet");
  EXPECT_EQ(o.debugcon, "stdio");
  EXPECT_EQ(o.clock, "deterministic");
}

TEST(Options, DisksAreRepeatableAndChecked) {
  auto o = Parse({"--disk", "/dev/null", "--disk", "/dev/zero,readonly"}).value();
  ASSERT_EQ(o.disks.size(), 2u);
  EXPECT_FALSE(o.disks[0].read_only);
  EXPECT_TRUE(o.disks[1].read_only);
  auto bad = Parse({"--disk", "/dev/null,fast"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("--disk"), std::string::npos);
}

TEST(Options, TraceOptions) {
  auto o = Parse({"--trace", "/tmp/t.txt", "--trace-range", "0x7c00-0x7e00",
                  "--trace-range=0x100000+0x1000", "--trace-skip", "10", "--trace-limit", "0x100"})
               .value();
  EXPECT_EQ(o.trace, "/tmp/t.txt");
  ASSERT_EQ(o.trace_ranges.size(), 2u);
  EXPECT_EQ(o.trace_ranges[0].start, 0x7c00u);
  EXPECT_EQ(o.trace_ranges[0].end, 0x7e00u);
  EXPECT_EQ(o.trace_ranges[1].start, 0x100000u);
  EXPECT_EQ(o.trace_ranges[1].end, 0x101000u);
  EXPECT_EQ(o.trace_skip, 10u);
  EXPECT_EQ(*o.trace_limit, 0x100u);
  auto off = Parse({}).value();
  EXPECT_TRUE(off.trace.empty());
  EXPECT_TRUE(off.trace_ranges.empty());
  EXPECT_EQ(off.trace_skip, 0u);
  EXPECT_FALSE(off.trace_limit.has_value());
}

TEST(Options, HybridEngineAndForcedSwaps) {
  auto o = Parse({"--accel", "hybrid", "--accel-swap-ms", "4"}).value();
  EXPECT_EQ(o.accel, "hybrid");
  EXPECT_EQ(o.accel_swap_ms, 4u);
  EXPECT_EQ(Parse({}).value().accel_swap_ms, 0u);
}

TEST(Options, ErrorsNameTheOptionOrFile) {
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{
           {{"--bogus"}, "'--bogus'"},
           {{"--memory", "12Q"}, "--memory"},
           {{"--memory", "100K"}, "--memory"},
           {{"--memory"}, "--memory: missing value"},
           {{"--accel", "tcg"}, "--accel"},
           {{"--kernel", "/nonexistent/vmlinuz"}, "/nonexistent/vmlinuz"},
           {{"--initrd", "/dev/null,/nonexistent/b"}, "/nonexistent/b"},
           {{"--bios", "/nonexistent/bios.bin"}, "/nonexistent/bios.bin"},
           {{"--exit-port", "0x10000"}, "--exit-port"},
           {{"--serial", "tcp:1234"}, "--serial"},
           {{"--display", "gtk"}, "--display"},
           {{"--log", "loud"}, "--log"},
           {{"--no-reboot=1"}, "--no-reboot"},
           {{"--trace", ""}, "--trace"},
           {{"--trace", "t", "--trace-range", "0x7c00"}, "--trace-range"},
           {{"--trace", "t", "--trace-range", "0x7e00-0x7c00"}, "--trace-range"},
           {{"--trace", "t", "--trace-range", "0x7c00-zz"}, "--trace-range"},
           {{"--trace", "t", "--trace-skip", "many"}, "--trace-skip"},
           {{"--trace", "t", "--trace-limit", "0"}, "--trace-limit"},
           {{"--trace-limit", "5"}, "need --trace"},
           {{"--trace-range", "1-2"}, "need --trace"},
           {{"--accel-swap-ms", "5"}, "needs --accel hybrid"},
           {{"--accel", "hybrid", "--accel-swap-ms", "0"}, "--accel-swap-ms"},
           {{"--accel", "hybrid", "--accel-swap-ms", "soon"}, "--accel-swap-ms"},
       }) {
    auto r = Parse(c.args);
    ASSERT_FALSE(r.has_value()) << c.args[0];
    EXPECT_NE(r.error().message.find(c.expected), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
}

TEST(Options, HelpListsEveryOption) {
  std::string help = HelpText();
  for (const char* name : {"--memory", "--accel", "--bios", "--kernel", "--initrd", "--append",
                           "--disk", "--serial", "--display", "--debugcon", "--exit-port",
                           "--no-reboot", "--log", "--trace", "--trace-range", "--trace-skip",
                           "--trace-limit", "--accel-swap-ms", "--stats", "--help",
                           "--version"}) {
    EXPECT_NE(help.find(name), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace x86vm
