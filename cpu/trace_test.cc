// Execution traces of small guest programs through the interpreter's hook:
// the line format, the changed-register columns, events, and the range,
// skip and limit filters.
#include "cpu/trace.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cpu/test_machine.h"

namespace x86vm {
namespace {

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(f, line);) lines.push_back(line);
  return lines;
}

struct Traced {
  std::vector<std::string> lines;
  StopReason stop;
  std::string out;  // Port 0xE9.
  uint64_t written;
};

// Runs `program` (loaded at 0000:8000) to HLT with a TraceWriter installed.
Traced RunTraced(const std::string& program, TraceFilter filter, bool raise_irq = true) {
  TestMachine m;
  EXPECT_TRUE(m.LoadFile(0x8000, program));
  m.StartReal(0x8000);
  if (raise_irq) m.irq().Raise(0x20);
  std::string path = testing::TempDir() + "/trace.txt";
  Traced t;
  {
    auto writer = TraceWriter::Open(path, std::move(filter));
    EXPECT_TRUE(writer.has_value());
    m.cpu().SetTracer(writer->get());
    t.stop = m.RunToHalt();
    m.cpu().SetTracer(nullptr);
    t.written = (*writer)->instructions_written();
  }
  t.lines = ReadLines(path);
  t.out = m.out();
  return t;
}

// The line's space-separated words (std::regex trips GCC 12's
// maybe-uninitialized warning under ASan, so the checks use words).
std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// The line with every run of spaces made one.
std::string Squeeze(const std::string& line) {
  std::string out;
  for (const std::string& w : Words(line)) out += (out.empty() ? "" : " ") + w;
  return out;
}

bool IsHex(const std::string& s, size_t digits) {
  return s.size() == digits && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The linear address (third column) of an instruction line.
uint64_t LinearOf(const std::string& line) {
  std::vector<std::string> w = Words(line);
  return w.size() > 2 ? std::stoull(w[2], nullptr, 16) : 0;
}

// The first line containing `text`, or "".
std::string Find(const std::vector<std::string>& lines, const std::string& text) {
  for (const std::string& l : lines) {
    if (l.find(text) != std::string::npos) return l;
  }
  return "";
}

size_t IndexOf(const std::vector<std::string>& lines, const std::string& text) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find(text) != std::string::npos) return i;
  }
  return lines.size();
}

bool IsInstructionLine(const std::string& l) { return !l.starts_with("---"); }

const char kProgram[] = "cpu/testdata/trace.bin";

TEST(TraceTest, RealModeLinesShowAddressBytesDisassemblyAndChanges) {
  Traced t = RunTraced(kProgram, {});
  EXPECT_EQ(t.stop, StopReason::kHalt);
  EXPECT_EQ(t.out, "T");
  ASSERT_GT(t.lines.size(), 20u);
  // N CS:IP LINEAR  BYTES  DISASSEMBLY  CHANGES
  // The exact columns once; the rest by words.
  EXPECT_EQ(t.lines[0],
            "       0 0000:8000 00008000  b8 34 12                       mov ax, 0x1234          "
            "         eax=00001234");
  EXPECT_EQ(Squeeze(t.lines[1]),
            "1 0000:8003 00008003 29 c0 sub ax, ax eax=00000000 rflags=00000046");
  // A real-mode segment load: the selector, not the base that follows it.
  std::string ds = Find(t.lines, "mov ds, cx");
  EXPECT_NE(ds.find(" ds=0100"), std::string::npos) << ds;
  EXPECT_EQ(ds.find("ds.base"), std::string::npos) << ds;
  EXPECT_NE(Find(t.lines, "lgdt").find(" gdtr="), std::string::npos);
  EXPECT_NE(Find(t.lines, "lidt").find(" idtr="), std::string::npos);
  EXPECT_NE(Find(t.lines, "mov cr0, eax").find(" cr0=60000011"), std::string::npos);
  // The far jump into 32-bit code: CS and its hidden part.
  std::string jmp = Find(t.lines, "ljmp");
  EXPECT_NE(jmp.find(" cs=0008 cs.limit=ffffffff cs.attr="), std::string::npos) << jmp;
  // Nothing changed but RIP: no trailing columns.
  std::string cli = Find(t.lines, " cli");
  EXPECT_TRUE(cli.ends_with("cli")) << cli;
}

TEST(TraceTest, ProtectedModeLinesUse32BitWidths) {
  Traced t = RunTraced(kProgram, {});
  std::string ds = Find(t.lines, "mov ds, eax");  // Capstone's name for 8e d8.
  std::vector<std::string> w = Words(ds);
  ASSERT_GT(w.size(), 4u) << ds;
  EXPECT_TRUE(w[1].starts_with("0008:") && IsHex(w[1].substr(5), 8)) << ds;
  EXPECT_TRUE(IsHex(w[2], 8)) << ds;
  EXPECT_EQ(w[3] + " " + w[4], "8e d8") << ds;
  EXPECT_NE(ds.find(" ds=0010 ds.limit=ffffffff ds.attr=c093"), std::string::npos) << ds;
  EXPECT_NE(Find(t.lines, "mov esp, 0x6000").find(" esp=00006000"), std::string::npos);
  // The loop: five decrements, each with its new ECX.
  int decs = 0;
  for (const std::string& l : t.lines) decs += l.find("dec ecx") != std::string::npos;
  EXPECT_EQ(decs, 5);
  EXPECT_NE(Find(t.lines, "mov cr3, eax").find(" cr3=00010000"), std::string::npos);
  EXPECT_NE(Find(t.lines, "mov cr4, eax").find(" cr4=00000010"), std::string::npos);
}

TEST(TraceTest, EventsGetTheirOwnLinesWithWhatDeliveryChanged) {
  Traced t = RunTraced(kProgram, {});
  // #UD: the UD2 line, then the event with the frame pushed on the stack
  // and CS reloaded, then the handler.
  size_t ud2 = IndexOf(t.lines, "ud2");
  ASSERT_LT(ud2 + 2, t.lines.size());
  EXPECT_TRUE(t.lines[ud2 + 1].starts_with("--- exception 0x06 (#UD) | esp=00005ff4"))
      << t.lines[ud2 + 1];
  EXPECT_NE(t.lines[ud2 + 2].find("add dword ptr [esp], 2"), std::string::npos) << t.lines[ud2 + 2];
  // #GP with its error code.
  std::string gp = Find(t.lines, "--- exception 0x0d");
  EXPECT_TRUE(gp.starts_with("--- exception 0x0d (#GP) error 0x1230 | esp=00005ff0")) << gp;
  // #PF with CR2 in the description and among the changes.
  std::string pf = Find(t.lines, "--- exception 0x0e");
  EXPECT_TRUE(pf.starts_with("--- exception 0x0e (#PF) error 0x0000 cr2=00400000 |")) << pf;
  EXPECT_NE(pf.find(" cr2=00400000", pf.find('|')), std::string::npos) << pf;
  // The faulting instruction's own line does not claim CR2.
  std::string load = Find(t.lines, "mov eax, dword ptr [0x400000]");
  EXPECT_EQ(load.find("cr2"), std::string::npos) << load;
  // INT n and the external interrupt after the STI shadow.
  size_t int30 = IndexOf(t.lines, "int 0x30");
  ASSERT_LT(int30 + 1, t.lines.size());
  EXPECT_TRUE(t.lines[int30 + 1].starts_with("--- software interrupt 0x30 |"))
      << t.lines[int30 + 1];
  size_t nop = IndexOf(t.lines, " nop");
  ASSERT_LT(nop + 1, t.lines.size());
  EXPECT_TRUE(t.lines[nop + 1].starts_with("--- interrupt 0x20 |")) << t.lines[nop + 1];
  // The frame is pushed and IF cleared (SF is set from an earlier OR).
  EXPECT_NE(t.lines[nop + 1].find("esp=00005ff4 rflags=00000086"), std::string::npos)
      << t.lines[nop + 1];
  EXPECT_NE(t.lines.back().find("hlt"), std::string::npos);
}

TEST(TraceTest, RangeKeepsOnlyInstructionsInsideAndNumbersThem) {
  Traced all = RunTraced(kProgram, {});
  std::string dec = Find(all.lines, "dec ecx");
  uint64_t loop = LinearOf(dec);
  ASSERT_NE(loop, 0u);

  TraceFilter f;
  f.ranges = {{loop, loop + 3}};  // dec ecx (49), jnz (75 fd).
  Traced t = RunTraced(kProgram, f);
  EXPECT_EQ(t.out, "T");
  ASSERT_EQ(t.lines.size(), 10u);
  for (size_t i = 0; i < t.lines.size(); ++i) {
    EXPECT_EQ(Words(t.lines[i]).at(0), std::to_string(i)) << t.lines[i];
    EXPECT_NE(t.lines[i].find(i % 2 == 0 ? "dec ecx" : "jne"), std::string::npos) << t.lines[i];
  }
  EXPECT_NE(t.lines[8].find("ecx=00000000 rflags=00000046"), std::string::npos) << t.lines[8];

  // Two ranges: the loop and the UD2 with its event.
  size_t ud2_line = IndexOf(all.lines, "ud2");
  ASSERT_LT(ud2_line, all.lines.size());
  uint64_t ud2 = LinearOf(all.lines[ud2_line]);
  f.ranges.push_back({ud2, ud2 + 2});
  t = RunTraced(kProgram, f);
  ASSERT_EQ(t.lines.size(), 12u);
  EXPECT_NE(t.lines[10].find("ud2"), std::string::npos);
  EXPECT_TRUE(t.lines[11].starts_with("--- exception 0x06 (#UD)"));
}

TEST(TraceTest, SkipAndLimitCountInstructions) {
  TraceFilter f;
  f.limit = 3;
  Traced t = RunTraced(kProgram, f);
  // The program still runs to its end after the tracer detached.
  EXPECT_EQ(t.stop, StopReason::kHalt);
  EXPECT_EQ(t.out, "T");
  EXPECT_EQ(t.written, 3u);
  ASSERT_EQ(t.lines.size(), 3u);
  EXPECT_TRUE(t.lines[2].starts_with("       2 0000:8005")) << t.lines[2];

  f.skip = 4;
  f.limit = 2;
  t = RunTraced(kProgram, f);
  ASSERT_EQ(t.lines.size(), 2u);
  EXPECT_TRUE(t.lines[0].starts_with("       4 ")) << t.lines[0];
  EXPECT_TRUE(t.lines[1].starts_with("       5 ")) << t.lines[1];

  // Skipping past the #UD: its event is not shown, later ones are.
  Traced all = RunTraced(kProgram, {});
  size_t gp_insn = IndexOf(all.lines, "--- exception 0x0d") - 1;
  ASSERT_LT(gp_insn, all.lines.size());
  ASSERT_NE(all.lines[gp_insn].find("mov es, eax"), std::string::npos);
  std::string n = all.lines[gp_insn].substr(0, 8);
  f.skip = std::stoull(n);
  f.limit.reset();
  t = RunTraced(kProgram, f);
  ASSERT_FALSE(t.lines.empty());
  EXPECT_TRUE(t.lines[0].find("mov es, eax") != std::string::npos) << t.lines[0];
  EXPECT_EQ(Find(t.lines, "#UD"), "");
  EXPECT_NE(Find(t.lines, "#GP"), "");
  size_t instructions = 0;
  for (const std::string& l : t.lines) instructions += IsInstructionLine(l);
  EXPECT_EQ(instructions, t.written);
}

TEST(TraceTest, TripleFaultEndsWithShutdown) {
  // Real mode with an empty IVT: INT3 cannot be delivered (#GP), nor the
  // #GP, nor the #DF.
  TestMachine m;
  //   lidt [0x8010]; int3     with a 6-byte IDTR image {limit 0, base 0} at 0x8010
  m.Load(0x8000, {0x0f, 0x01, 0x1e, 0x10, 0x80, 0xcc});
  m.Load(0x8010, {0, 0, 0, 0, 0, 0});
  m.StartReal(0x8000);
  std::string path = testing::TempDir() + "/shutdown.txt";
  {
    auto writer = TraceWriter::Open(path, {});
    ASSERT_TRUE(writer.has_value());
    m.cpu().SetTracer(writer->get());
    EXPECT_EQ(m.RunToHalt(), StopReason::kShutdown);
    m.cpu().SetTracer(nullptr);
  }
  std::vector<std::string> lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_NE(lines[0].find("lidt"), std::string::npos);
  EXPECT_NE(lines[0].find("idtr=00000000/0000"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("int3"), std::string::npos);
  EXPECT_EQ(lines[2], "--- software exception 0x03 (#BP)");
  // Each failed attempt still set RF (it would have been pushed).
  EXPECT_EQ(lines[3], "--- exception 0x0d (#GP) error 0x001a | rflags=00010002");
  EXPECT_EQ(lines[4], "--- exception 0x08 (#DF) error 0x0000");
  EXPECT_EQ(lines[5], "--- shutdown (triple fault)");
}

TEST(TraceTest, LongModeUses64BitNames) {
  TraceFilter f;
  Traced t = RunTraced("cpu/testdata/long_mode.bin", f, /*raise_irq=*/false);
  EXPECT_EQ(t.stop, StopReason::kHalt);
  bool saw64 = false;
  for (const std::string& l : t.lines) {
    std::vector<std::string> w = Words(l);
    if (w.size() < 3 || w[1].size() != 21 || !IsHex(w[2], 16)) continue;
    for (const std::string& word : w) {
      if (word.size() == 20 && word[0] == 'r' && word[2] == 'x' && word[3] == '=' &&
          IsHex(word.substr(4), 16)) {
        saw64 = true;
      }
    }
  }
  EXPECT_TRUE(saw64);
  EXPECT_NE(Find(t.lines, "--- exception 0x06 (#UD)"), "");
  EXPECT_NE(Find(t.lines, "efer="), "");
}

// The hook itself: a tracer that detaches is not called again, and the
// bytes it is shown are the instruction's.
class CountingTracer : public InstructionTracer {
 public:
  TraceAction BeforeInstruction(const TracedInstruction& insn, const CpuState&) override {
    ++before;
    first_bytes.assign(insn.bytes, insn.bytes + insn.length);
    return TraceAction::kDetach;
  }
  void AfterInstruction(const CpuState&) override { ++after; }
  void OnEvent(const TracedEvent&, const CpuState&) override { ++events; }
  void OnShutdown(const CpuState&) override {}
  int before = 0, after = 0, events = 0;
  std::vector<uint8_t> first_bytes;
};

TEST(TraceTest, DetachedTracerIsNotCalledAgain) {
  TestMachine m;
  ASSERT_TRUE(m.LoadFile(0x8000, kProgram));
  m.StartReal(0x8000);
  m.irq().Raise(0x20);
  CountingTracer tracer;
  m.cpu().SetTracer(&tracer);
  EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);
  EXPECT_EQ(m.out(), "T");
  EXPECT_EQ(tracer.before, 1);
  EXPECT_EQ(tracer.after, 0);
  EXPECT_EQ(tracer.events, 0);
  EXPECT_EQ(tracer.first_bytes, (std::vector<uint8_t>{0xb8, 0x34, 0x12}));
}

TEST(TraceTest, PageCrossingInstructionBytes) {
  // mov eax, 0x11223344 (66 b8 44 33 22 11) straddling 0x0fff/0x1000.
  TestMachine m;
  m.Load(0x0ffc, {0x66, 0xb8, 0x44, 0x33, 0x22, 0x11, 0xf4});
  m.StartReal(0x0ffc);
  std::string path = testing::TempDir() + "/cross.txt";
  {
    auto writer = TraceWriter::Open(path, {});
    ASSERT_TRUE(writer.has_value());
    m.cpu().SetTracer(writer->get());
    EXPECT_EQ(m.RunToHalt(), StopReason::kHalt);
  }
  std::vector<std::string> lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(Squeeze(lines[0]),
            "0 0000:0ffc 00000ffc 66 b8 44 33 22 11 mov eax, 0x11223344 eax=11223344");
}

TEST(TraceTest, OpenReportsUnwritablePaths) {
  auto writer = TraceWriter::Open("/nonexistent/dir/trace.txt", {});
  ASSERT_FALSE(writer.has_value());
  EXPECT_NE(writer.error().message.find("/nonexistent/dir/trace.txt"), std::string::npos);
}

}  // namespace
}  // namespace x86vm
