#include "tests/difftest/opcode_coverage.h"

#include <fmt/format.h>

#include <unordered_map>

#include "cpu/decoder.h"
#include "cpu/opcode_table.h"

namespace x86vm::difftest {
namespace {

CodeMode CodeModeOf(DiffMode mode) {
  switch (mode) {
    case DiffMode::kReal16:
      return CodeMode::k16;
    case DiffMode::kProt32:
      return CodeMode::k32;
    case DiffMode::kLong64:
      return CodeMode::k64;
  }
  return CodeMode::k64;
}

// Row pointer -> index in OpcodeTable::Get().rows().
const std::unordered_map<const OpcodeRow*, size_t>& RowIndex() {
  static const auto* index = [] {
    auto* m = new std::unordered_map<const OpcodeRow*, size_t>();
    const auto& rows = OpcodeTable::Get().rows();
    for (size_t i = 0; i < rows.size(); ++i) m->emplace(rows[i].row, i);
    return m;
  }();
  return *index;
}

// Report groups: the maps, with the x87 escapes (D8-DF) apart.
enum Group { kOneByte, kX87, k0F, k0F38, k0F3A, kGroups };
constexpr const char* kGroupNames[kGroups] = {"one-byte", "x87 (D8-DF)", "0F", "0F 38", "0F 3A"};

Group GroupOf(const RowInfo& r) {
  switch (r.map) {
    case OpcodeMap::kOneByte:
      return r.opcode >= 0xd8 && r.opcode <= 0xdf ? kX87 : kOneByte;
    case OpcodeMap::k0F:
      return k0F;
    case OpcodeMap::k0F38:
      return k0F38;
    case OpcodeMap::k0F3A:
      return k0F3A;
  }
  return kOneByte;
}

}  // namespace

OpcodeCoverage::OpcodeCoverage() : hits_(OpcodeTable::Get().rows().size()) {}

const OpcodeRow& OpcodeCoverage::row(size_t i) const { return *OpcodeTable::Get().rows()[i].row; }

void OpcodeCoverage::Add(const DiffCase& c) {
  const OpcodeTable& table = OpcodeTable::Get();
  const auto& index = RowIndex();
  size_t offset = 0;
  while (offset < c.code.size()) {
    Insn insn;
    const size_t avail = std::min<size_t>(15, c.code.size() - offset);
    if (Decode(table, CodeModeOf(c.mode), c.code.data() + offset, avail, insn) != DecodeStatus::kOk) {
      ++undecoded_;
      return;  // Truncated or too long: the rest cannot be framed.
    }
    auto it = insn.row != nullptr ? index.find(insn.row) : index.end();
    if (it == index.end()) {
      ++undecoded_;
    } else {
      ++hits_[it->second][static_cast<int>(c.mode)];
    }
    offset += insn.length;
  }
}

size_t OpcodeCoverage::rows_hit() const {
  size_t n = 0;
  for (const auto& h : hits_) n += (h[0] | h[1] | h[2]) != 0;
  return n;
}

std::string OpcodeCoverage::Report(bool list_missed) const {
  const auto& rows = OpcodeTable::Get().rows();
  size_t total[kGroups] = {}, hit[kGroups] = {};
  for (size_t i = 0; i < rows.size(); ++i) {
    const Group g = GroupOf(rows[i]);
    ++total[g];
    hit[g] += (hits_[i][0] | hits_[i][1] | hits_[i][2]) != 0;
  }
  std::string out = fmt::format("opcode-table rows exercised: {} of {} ({} instructions decoded to no row)\n",
                                rows_hit(), rows.size(), undecoded_);
  for (int g = 0; g < kGroups; ++g) {
    out += fmt::format("  {:<12} {:4} of {:4}\n", kGroupNames[g], hit[g], total[g]);
  }
  if (!list_missed) return out;
  for (int g = 0; g < kGroups; ++g) {
    std::string line;
    int count = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (GroupOf(rows[i]) != g || (hits_[i][0] | hits_[i][1] | hits_[i][2]) != 0) continue;
      const OpcodeRow& r = *rows[i].row;
      line += fmt::format("    {:<22} {:<10} {}\n", r.opcode, r.mnemonic, r.operands);
      ++count;
    }
    if (count != 0) out += fmt::format("  missed in {} ({} rows):\n{}", kGroupNames[g], count, line);
  }
  return out;
}

}  // namespace x86vm::difftest
