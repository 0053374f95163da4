#include "cpu/trace.h"

#include <capstone/capstone.h>

#include <cerrno>
#include <cstring>
#include <iterator>

#include <fmt/format.h>

#include "base/log.h"

namespace x86vm {
namespace {

// Lines are written out once this much is buffered.
constexpr size_t kFlushBytes = 1 << 20;

constexpr const char* kGprNames64[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                         "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
constexpr const char* kGprNames32[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
constexpr const char* kSegNames[kNumSegRegs] = {"es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr"};

// Exception mnemonics (SDM Vol. 3 Table 6-1); null for vectors without one.
const char* ExceptionName(uint8_t vector) {
  static constexpr const char* kNames[22] = {
      "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", nullptr, "#TS",
      "#NP", "#SS", "#GP", "#PF", nullptr, "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};
  return vector < 22 ? kNames[vector] : nullptr;
}

bool Is64BitMode(const TracedRegisters& r) {
  return (r.efer & efer::kLma) && r.seg[kCs].l();
}

uint64_t LinearRip(const CpuState& s) {
  bool is64 = (s.efer & efer::kLma) && s.seg[kCs].l();
  return is64 ? s.rip : (s.seg[kCs].base + s.rip) & 0xffffffffull;
}

// Hand-rolled formatting for what every line carries: fmt's format-string
// parsing dominated the cost of a trace line.
void PutText(fmt::memory_buffer& out, std::string_view text) {
  out.append(text.data(), text.data() + text.size());
}

// `digits` lowercase hex digits of `value`, zero-padded.
void PutHex(fmt::memory_buffer& out, uint64_t value, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char text[16];
  for (int i = digits - 1; i >= 0; --i) {
    text[i] = kDigits[value & 0xf];
    value >>= 4;
  }
  out.append(text, text + digits);
}

// " name=value" with `digits` hex digits.
void PutField(fmt::memory_buffer& out, std::string_view name, uint64_t value, int digits) {
  out.push_back(' ');
  PutText(out, name);
  out.push_back('=');
  PutHex(out, value, digits);
}

// `text` left-aligned in `width` columns.
void PutPadded(fmt::memory_buffer& out, std::string_view text, size_t width) {
  PutText(out, text);
  for (size_t i = text.size(); i < width; ++i) out.push_back(' ');
}

// 8 hex digits for values that fit in 32 bits, else 16.
void AppendHex(fmt::memory_buffer& out, std::string_view name, uint64_t value) {
  PutField(out, name, value, value >> 32 ? 16 : 8);
}

void AppendSegmentChange(const Segment& b, const Segment& a, const char* name, bool real_like,
                         fmt::memory_buffer& out) {
  if (a == b) return;
  PutField(out, name, a.selector, 4);
  // In real and virtual-8086 mode the hidden part follows the selector;
  // show it only when it does not (unreal mode, state loaded from outside).
  bool implied = real_like && a.base == uint64_t{a.selector} << 4 && a.limit == b.limit &&
                 a.attr == b.attr;
  if (implied) return;
  if (a.base != b.base) {
    fmt::format_to(fmt::appender(out), " {}.base=", name);
    PutHex(out, a.base, a.base >> 32 ? 16 : 8);
  }
  if (a.limit != b.limit) fmt::format_to(fmt::appender(out), " {}.limit={:08x}", name, a.limit);
  if (a.attr != b.attr) fmt::format_to(fmt::appender(out), " {}.attr={:x}", name, a.attr);
}

}  // namespace

TracedRegisters TracedRegisters::From(const CpuState& s) {
  TracedRegisters r;
  r.gpr = s.gpr;
  r.rflags = s.rflags;
  r.seg = s.seg;
  r.cr0 = s.cr0;
  r.cr2 = s.cr2;
  r.cr3 = s.cr3;
  r.cr4 = s.cr4;
  r.cr8 = s.cr8;
  r.efer = s.efer;
  r.gdtr = s.gdtr;
  r.idtr = s.idtr;
  return r;
}

void AppendRegisterChanges(const TracedRegisters& before, const TracedRegisters& after,
                           fmt::memory_buffer& out) {
  bool is64 = Is64BitMode(after);
  for (int i = 0; i < 16; ++i) {
    uint64_t a = after.gpr[i];
    if (a == before.gpr[i]) continue;
    if (is64 || i >= 8 || (a >> 32) != 0 || (before.gpr[i] >> 32) != 0) {
      PutField(out, kGprNames64[i], a, 16);
    } else {
      PutField(out, kGprNames32[i], a, 8);
    }
  }
  if (after.rflags != before.rflags) AppendHex(out, "rflags", after.rflags);
  bool real_like = !(after.cr0 & cr0::kPe) || (after.rflags & flags::kVm);
  for (int i = 0; i < kNumSegRegs; ++i) {
    AppendSegmentChange(before.seg[i], after.seg[i], kSegNames[i], real_like && i < kLdtr, out);
  }
  if (after.cr0 != before.cr0) AppendHex(out, "cr0", after.cr0);
  if (after.cr2 != before.cr2) AppendHex(out, "cr2", after.cr2);
  if (after.cr3 != before.cr3) AppendHex(out, "cr3", after.cr3);
  if (after.cr4 != before.cr4) AppendHex(out, "cr4", after.cr4);
  if (after.cr8 != before.cr8) fmt::format_to(fmt::appender(out), " cr8={:x}", after.cr8);
  if (after.efer != before.efer) fmt::format_to(fmt::appender(out), " efer={:x}", after.efer);
  if (!(after.gdtr == before.gdtr)) {
    fmt::format_to(fmt::appender(out), " gdtr={:08x}/{:04x}", after.gdtr.base, after.gdtr.limit);
  }
  if (!(after.idtr == before.idtr)) {
    fmt::format_to(fmt::appender(out), " idtr={:08x}/{:04x}", after.idtr.base, after.idtr.limit);
  }
}

// ---- Disassembler -------------------------------------------------------------

struct Disassembler::Handles {
  csh handle[3] = {0, 0, 0};        // 16-, 32-, 64-bit.
  cs_insn* insn[3] = {nullptr, nullptr, nullptr};
  bool open[3] = {false, false, false};
};

Disassembler::Disassembler() : handles_(std::make_unique<Handles>()) {
  const cs_mode modes[3] = {CS_MODE_16, CS_MODE_32, CS_MODE_64};
  for (int i = 0; i < 3; ++i) {
    if (cs_open(CS_ARCH_X86, modes[i], &handles_->handle[i]) != CS_ERR_OK) continue;
    handles_->insn[i] = cs_malloc(handles_->handle[i]);
    handles_->open[i] = handles_->insn[i] != nullptr;
  }
}

Disassembler::~Disassembler() {
  for (int i = 0; i < 3; ++i) {
    if (handles_->insn[i] != nullptr) cs_free(handles_->insn[i], 1);
    if (handles_->handle[i] != 0) cs_close(&handles_->handle[i]);
  }
}

std::string_view Disassembler::Disassemble(int code_bits, uint64_t address, const uint8_t* bytes,
                                           size_t length) {
  int i = code_bits == 64 ? 2 : code_bits == 32 ? 1 : 0;
  if (!handles_->open[i]) return "(no disassembler)";
  const uint8_t* code = bytes;
  size_t size = length;
  uint64_t addr = address;
  cs_insn* insn = handles_->insn[i];
  if (!cs_disasm_iter(handles_->handle[i], &code, &size, &addr, insn)) return "(bad)";
  text_ = insn->mnemonic;
  if (insn->op_str[0] != '\0') {
    text_ += ' ';
    text_ += insn->op_str;
  }
  return text_;
}

// ---- TraceWriter ------------------------------------------------------------------

Result<std::unique_ptr<TraceWriter>> TraceWriter::Open(const std::string& path,
                                                       TraceFilter filter) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) return Fail("--trace: cannot create '{}': {}", path, std::strerror(errno));
  return std::unique_ptr<TraceWriter>(new TraceWriter(file, std::move(filter)));
}

TraceWriter::TraceWriter(std::FILE* file, TraceFilter filter)
    : file_(file), filter_(std::move(filter)) {
  buffer_.reserve(kFlushBytes + 4096);
}

TraceWriter::~TraceWriter() {
  if (line_open_) buffer_.push_back('\n');  // The state after it is not known any more.
  Flush();
  std::fclose(file_);
}

bool TraceWriter::InRange(uint64_t linear) const {
  if (filter_.ranges.empty()) return true;
  for (const TraceRange& r : filter_.ranges) {
    if (linear >= r.start && linear < r.end) return true;
  }
  return false;
}

TraceAction TraceWriter::BeforeInstruction(const TracedInstruction& insn, const CpuState& state) {
  if (line_open_) CloseLine(state);
  if (detached_) return TraceAction::kDetach;
  if (filter_.limit && written_ >= *filter_.limit) {
    detached_ = true;
    Flush();
    return TraceAction::kDetach;
  }
  if (!InRange(insn.linear)) return TraceAction::kIgnore;
  uint64_t index = seen_++;
  if (index < filter_.skip) return TraceAction::kIgnore;

  int rip_digits = insn.code_bits == 64 ? 16 : (insn.code_bits == 32 || insn.rip > 0xffff) ? 8 : 4;
  int linear_digits = insn.code_bits == 64 ? 16 : 8;
  // "       N CS:RIP LINEAR  BYTES  DISASSEMBLY".
  fmt::format_to(fmt::appender(buffer_), "{:>8} ", index);
  PutHex(buffer_, state.seg[kCs].selector, 4);
  buffer_.push_back(':');
  PutHex(buffer_, insn.rip, rip_digits);
  buffer_.push_back(' ');
  PutHex(buffer_, insn.linear, linear_digits);
  PutText(buffer_, "  ");
  size_t bytes_start = buffer_.size();
  for (unsigned i = 0; i < insn.length; ++i) {
    if (i != 0) buffer_.push_back(' ');
    PutHex(buffer_, insn.bytes[i], 2);
  }
  for (size_t i = buffer_.size() - bytes_start; i < 30; ++i) buffer_.push_back(' ');
  buffer_.push_back(' ');
  PutPadded(buffer_,
            disassembler_.Disassemble(insn.code_bits, insn.rip, insn.bytes, insn.length), 32);
  before_ = TracedRegisters::From(state);
  line_open_ = true;
  event_line_ = false;
  ++written_;
  return TraceAction::kObserve;
}

void TraceWriter::AfterInstruction(const CpuState& state) {
  if (line_open_) CloseLine(state);
}

void TraceWriter::OnEvent(const TracedEvent& event, const CpuState& state) {
  if (line_open_) CloseLine(state);
  // Events show while lines are being written: from the first one (or from
  // the start without a skip) until the tracer detaches.
  bool printing = !detached_ && (written_ > 0 || filter_.skip == 0);
  if (!printing || !InRange(LinearRip(state))) return;
  auto out = fmt::appender(buffer_);
  const char* name = ExceptionName(event.vector);
  switch (event.kind) {
    case TracedEventKind::kException:
      fmt::format_to(out, "--- exception {:#04x}", event.vector);
      if (name != nullptr) fmt::format_to(out, " ({})", name);
      break;
    case TracedEventKind::kExternal:
      fmt::format_to(out, "--- interrupt {:#04x}", event.vector);
      break;
    case TracedEventKind::kNmi:
      fmt::format_to(out, "--- nmi");
      break;
    case TracedEventKind::kSoftware:
      fmt::format_to(out, "--- software interrupt {:#04x}", event.vector);
      break;
    case TracedEventKind::kSoftException:
      fmt::format_to(out, "--- software exception {:#04x} ({})", event.vector,
                     name != nullptr ? name : "?");
      break;
    case TracedEventKind::kIcebp:
      fmt::format_to(out, "--- icebp {:#04x} (#DB)", event.vector);
      break;
  }
  if (event.has_error_code) fmt::format_to(out, " error {:#06x}", event.error_code);
  if (event.kind == TracedEventKind::kException && event.vector == 14) {  // #PF
    AppendHex(buffer_, "cr2", event.cr2);
  }
  before_ = TracedRegisters::From(state);
  line_open_ = true;
  event_line_ = true;
}

void TraceWriter::OnShutdown(const CpuState& state) {
  if (line_open_) CloseLine(state);
  if (!detached_ && (written_ > 0 || filter_.skip == 0)) {
    fmt::format_to(fmt::appender(buffer_), "--- shutdown (triple fault)\n");
  }
  Flush();
}

void TraceWriter::CloseLine(const CpuState& state) {
  changes_.clear();
  AppendRegisterChanges(before_, TracedRegisters::From(state), changes_);
  if (changes_.size() == 0) {
    // Nothing changed: no trailing padding.
    size_t size = buffer_.size();
    while (size > 0 && buffer_[size - 1] == ' ') --size;
    buffer_.resize(size);
  } else {
    if (event_line_) buffer_.append(std::string_view(" |"));
    buffer_.append(changes_);
  }
  buffer_.push_back('\n');
  line_open_ = false;
  if (buffer_.size() >= kFlushBytes) Flush();
}

void TraceWriter::Flush() {
  if (buffer_.size() != 0 && !write_failed_) {
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size() ||
        std::fflush(file_) != 0) {
      write_failed_ = true;
      Logger("trace")->error("--trace: write failed: {}; the trace is incomplete",
                             std::strerror(errno));
    }
  }
  buffer_.clear();
}

}  // namespace x86vm
