#include "accel/kvm/kvm_exit_report.h"

#include <capstone/capstone.h>
#include <linux/kvm.h>

#include <fmt/format.h>

namespace x86vm {

int CodeBits(const CpuState& s) {
  if (s.long_mode_active() && s.seg[kCs].l()) return 64;
  if (s.protected_mode() && !s.v86_mode() && s.seg[kCs].db()) return 32;
  return 16;
}

uint64_t CodeLinearAddress(const CpuState& s) {
  if (CodeBits(s) == 64) return s.rip;
  return (s.seg[kCs].base + s.rip) & 0xffffffffull;
}

std::string DisassembleOne(std::span<const uint8_t> bytes, uint64_t address, int bits,
                           size_t* length) {
  if (length != nullptr) *length = 0;
  if (bytes.empty()) return "(instruction bytes unavailable)";
  cs_mode mode = bits == 64 ? CS_MODE_64 : bits == 32 ? CS_MODE_32 : CS_MODE_16;
  csh handle;
  if (cs_open(CS_ARCH_X86, mode, &handle) != CS_ERR_OK) return "(Capstone unavailable)";
  cs_insn* insn = nullptr;
  size_t count = cs_disasm(handle, bytes.data(), bytes.size(), address, 1, &insn);
  std::string text;
  if (count == 0) {
    text = "(not a valid instruction)";
  } else {
    text = insn[0].op_str[0] != '\0' ? fmt::format("{} {}", insn[0].mnemonic, insn[0].op_str)
                                     : std::string(insn[0].mnemonic);
    if (length != nullptr) *length = insn[0].size;
    cs_free(insn, count);
  }
  cs_close(&handle);
  return text;
}

std::string_view ExitReasonName(uint32_t exit_reason) {
  switch (exit_reason) {
    case KVM_EXIT_UNKNOWN: return "KVM_EXIT_UNKNOWN";
    case KVM_EXIT_EXCEPTION: return "KVM_EXIT_EXCEPTION";
    case KVM_EXIT_IO: return "KVM_EXIT_IO";
    case KVM_EXIT_HYPERCALL: return "KVM_EXIT_HYPERCALL";
    case KVM_EXIT_DEBUG: return "KVM_EXIT_DEBUG";
    case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
    case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
    case KVM_EXIT_IRQ_WINDOW_OPEN: return "KVM_EXIT_IRQ_WINDOW_OPEN";
    case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN";
    case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
    case KVM_EXIT_INTR: return "KVM_EXIT_INTR";
    case KVM_EXIT_SET_TPR: return "KVM_EXIT_SET_TPR";
    case KVM_EXIT_TPR_ACCESS: return "KVM_EXIT_TPR_ACCESS";
    case KVM_EXIT_NMI: return "KVM_EXIT_NMI";
    case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
    case KVM_EXIT_SYSTEM_EVENT: return "KVM_EXIT_SYSTEM_EVENT";
    case KVM_EXIT_X86_RDMSR: return "KVM_EXIT_X86_RDMSR";
    case KVM_EXIT_X86_WRMSR: return "KVM_EXIT_X86_WRMSR";
    default: return "an unknown KVM exit";
  }
}

std::string_view InternalErrorName(uint32_t suberror) {
  switch (suberror) {
    case KVM_INTERNAL_ERROR_EMULATION:
      return "emulation failure: KVM could not emulate the instruction";
    case KVM_INTERNAL_ERROR_SIMUL_EX: return "exception while delivering an exception";
    case KVM_INTERNAL_ERROR_DELIVERY_EV: return "exit while delivering an event";
    case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON: return "unexpected hardware exit reason";
    default: return "unknown sub-error";
  }
}

std::string FormatFailureReport(std::string_view what, const CpuState& s,
                                std::span<const uint8_t> code) {
  int bits = CodeBits(s);
  std::string out = fmt::format("KVM cannot continue: {}\n", what);
  out += fmt::format("  at {:04x}:{:#x} (linear {:#x}), {}-bit code, CPL {}\n",
                     s.seg[kCs].selector, s.rip, CodeLinearAddress(s), bits, s.cpl());
  size_t length = 0;
  std::string text = DisassembleOne(code, CodeLinearAddress(s), bits, &length);
  // The decoded instruction's bytes; all that could be read if it did not decode.
  std::span<const uint8_t> shown = length ? code.first(length) : code;
  std::string hex;
  for (uint8_t b : shown) hex += fmt::format("{:02x} ", b);
  if (!hex.empty()) hex.pop_back();
  out += fmt::format("  instruction: {}  [{}]\n", text, hex.empty() ? "bytes unreadable" : hex);
  static constexpr const char* kNames[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp",
                                             "rsi", "rdi", "r8",  "r9",  "r10", "r11",
                                             "r12", "r13", "r14", "r15"};
  for (size_t i = 0; i < 16; ++i) {
    out += fmt::format("  {:>3}={:016x}{}", kNames[i], s.gpr[i], i % 4 == 3 ? "\n" : "");
  }
  out += fmt::format("  rflags={:#x} cr0={:#x} cr2={:#x} cr3={:#x} cr4={:#x} efer={:#x}\n",
                     s.rflags, s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
  out += fmt::format("  ss={:04x} ds={:04x} es={:04x} fs={:04x} gs={:04x} tr={:04x} "
                     "gdtr={:#x}/{:#x} idtr={:#x}/{:#x}",
                     s.seg[kSs].selector, s.seg[kDs].selector, s.seg[kEs].selector,
                     s.seg[kFs].selector, s.seg[kGs].selector, s.seg[kTr].selector, s.gdtr.base,
                     s.gdtr.limit, s.idtr.base, s.idtr.limit);
  return out;
}

}  // namespace x86vm
