// Parses the SDM-notation rows of opcode_table.cc into decoder indexes.
#include <algorithm>
#include <cstdlib>
#include <string_view>

#include <spdlog/spdlog.h>

#include "cpu/opcode_table.h"

namespace x86vm {
namespace {

// Splits on `sep`, trimming spaces.
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    size_t p = s.find(sep);
    std::string_view tok = s.substr(0, p);
    while (!tok.empty() && tok.front() == ' ') tok.remove_prefix(1);
    while (!tok.empty() && tok.back() == ' ') tok.remove_suffix(1);
    if (!tok.empty()) out.push_back(tok);
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

bool ParseHexByte(std::string_view tok, int& value) {
  if (tok.size() != 2) return false;
  int v = 0;
  for (char c : tok) {
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else return false;
  }
  value = v;
  return true;
}

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }

// One operand token such as "Ev" or "Ib": an addressing-method letter then a
// lowercase size. Register names ("AL", "rAX", "DX") return false.
bool SplitMethod(std::string_view tok, char& method, std::string_view& size) {
  if (tok.size() < 2 || !IsUpper(tok[0]) || !IsLower(tok[1])) return false;
  // "eAX"/"rAX" start lowercase and are rejected above; "AL" has no lowercase.
  method = tok[0];
  size = tok.substr(1);
  return true;
}

}  // namespace

bool ParseOpcodeRow(const OpcodeRow& row, RowInfo& info) {
  info = RowInfo{};
  info.row = &row;
  std::vector<std::string_view> toks = Split(row.opcode, ' ');
  size_t i = 0;
  if (toks.size() >= 2) {
    if (toks[0] == "NP") info.prefix = 0, ++i;
    else if (toks[0] == "66") info.prefix = 0x66, ++i;
    else if (toks[0] == "F2") info.prefix = static_cast<int8_t>(0xF2), ++i;
    else if (toks[0] == "F3") info.prefix = static_cast<int8_t>(0xF3), ++i;
  }
  if (i < toks.size() && (toks[i] == "0F" || toks[i] == "0f")) {
    info.map = OpcodeMap::k0F;
    ++i;
    if (i + 1 < toks.size() && toks[i] == "38") info.map = OpcodeMap::k0F38, ++i;
    else if (i + 1 < toks.size() && (toks[i] == "3A" || toks[i] == "3a")) {
      info.map = OpcodeMap::k0F3A;
      ++i;
    }
  }
  int op;
  if (i >= toks.size() || !ParseHexByte(toks[i], op)) return false;
  info.opcode = static_cast<uint8_t>(op);
  ++i;
  for (; i < toks.size(); ++i) {
    std::string_view t = toks[i];
    if (t.size() == 2 && t[0] == '/' && t[1] >= '0' && t[1] <= '7') {
      info.reg = static_cast<int8_t>(t[1] - '0');
      info.needs_modrm = true;
    } else if (t == "/r") {
      info.needs_modrm = true;
    } else if (t == "mod=11") {
      // SDM notation for register-only forms (x87 "D8 /0 mod=11" = FADD ST(0), ST(i)).
      info.needs_modrm = true;
      info.reg_only = true;
    } else if (t == "mod!=11") {
      info.needs_modrm = true;
      info.mem_only = true;
    } else {
      int m;
      if (!ParseHexByte(t, m)) return false;
      info.modrm = static_cast<int16_t>(m);
      info.needs_modrm = true;
    }
  }
  std::vector<std::string_view> ops = Split(row.operands, ',');
  bool first = true;
  for (std::string_view t : ops) {
    char method;
    std::string_view size;
    if (!SplitMethod(t, method, size)) {
      if (first && (t == "AL" || t == "CL")) info.byte_op = true;
      first = false;
      continue;
    }
    if (first && size == "b") info.byte_op = true;
    first = false;
    switch (method) {
      case 'E': case 'G': case 'S': case 'C': case 'D': case 'V': case 'W': case 'P':
      case 'Q': case 'H':
        info.needs_modrm = true;
        break;
      case 'M':
        info.needs_modrm = true;
        info.mem_only = true;
        break;
      case 'R': case 'U': case 'N':
        info.needs_modrm = true;
        if ((row.attrs & row_attr::kModAsReg) == 0) info.reg_only = true;
        break;
      case 'I': {
        RowInfo::Imm k = RowInfo::Imm::kNone;
        if (size == "b") k = RowInfo::Imm::kB;
        else if (size == "w") k = RowInfo::Imm::kW;
        else if (size == "d") k = RowInfo::Imm::kD;
        else if (size == "z") k = RowInfo::Imm::kZ;
        else if (size == "v") k = RowInfo::Imm::kV;
        else return false;
        if (info.imm == RowInfo::Imm::kW && k == RowInfo::Imm::kB) {
          info.imm = RowInfo::Imm::kWB;  // ENTER Iw,Ib.
        } else if (info.imm != RowInfo::Imm::kNone) {
          return false;
        } else {
          info.imm = k;
        }
        break;
      }
      case 'J':
        if (size == "b") info.imm = RowInfo::Imm::kB;
        else if (size == "z") info.imm = RowInfo::Imm::kZ;
        else return false;
        break;
      case 'A':
        info.imm = RowInfo::Imm::kAp;
        break;
      case 'O':
        info.imm = RowInfo::Imm::kO;
        break;
      case 'X': case 'Y': case 'Z': case 'F':
        break;
      default:
        return false;
    }
  }
  return true;
}

OpcodeTable::OpcodeTable(std::span<const OpcodeRow> rows) {
  all_.reserve(rows.size());
  for (const OpcodeRow& row : rows) {
    RowInfo info;
    if (!ParseOpcodeRow(row, info)) {
      spdlog::critical("cpu: malformed opcode row '{}' '{}' '{}'", row.opcode, row.mnemonic,
                       row.operands);
      std::abort();
    }
    all_.push_back(info);
  }
  for (const RowInfo& info : all_) {
    int m = static_cast<int>(info.map);
    index_[m][info.opcode].push_back(info);
    if (info.needs_modrm) needs_modrm_[m][info.opcode] = true;
  }
  // Most specific first: a whole ModRM byte, then a /digit, then a mandatory
  // prefix; the decoder takes the first row that matches.
  auto score = [](const RowInfo& r) {
    return (r.modrm >= 0 ? 8 : 0) + (r.reg >= 0 ? 4 : 0) + (r.prefix != -1 ? 2 : 0) +
           (r.mem_only || r.reg_only ? 1 : 0);
  };
  for (auto& map : index_) {
    for (auto& v : map) {
      std::stable_sort(v.begin(), v.end(), [&](const RowInfo& a, const RowInfo& b) {
        return score(a) > score(b);
      });
    }
  }
}

const OpcodeTable& OpcodeTable::Get() {
  // Immutable after construction: a constant table, not machine state.
  static const OpcodeTable* table = new OpcodeTable(DefaultOpcodeRows());
  return *table;
}

}  // namespace x86vm
