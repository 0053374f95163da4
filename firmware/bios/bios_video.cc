// INT 10h: a text console in the VGA buffer at B8000h, described by the BDA
// video fields, with teletype output mirrored to COM1 so a headless boot
// shows its output (Ralf Brown's Interrupt List, INT 10h).
#include <algorithm>

#include "firmware/bios/bios_bda.h"
#include "firmware/bios/bios_services.h"

namespace x86vm {
namespace {

constexpr uint16_t kCom1 = 0x3f8;
constexpr uint16_t kUartLsr = 5;
constexpr uint8_t kLsrThre = 0x20;
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kDefaultAttr = 0x07;
constexpr uint8_t kTextRows = 25;
constexpr uint16_t kDefaultCursorShape = 0x0607;

}  // namespace

uint8_t BiosServices::columns() {
  uint16_t c = Read16(bda::kVideoColumns);
  return static_cast<uint8_t>(c == 0 || c > 132 ? 80 : c);
}

uint8_t BiosServices::rows() {
  uint8_t r = Read8(bda::kVideoRowsMinus1);
  return static_cast<uint8_t>(r == 0 ? kTextRows : r + 1);
}

BiosServices::Cursor BiosServices::GetCursor(uint8_t page) {
  uint16_t pos = Read16(bda::kCursorPos + 2 * (page & 7));
  return {static_cast<uint8_t>(pos >> 8), static_cast<uint8_t>(pos)};
}

void BiosServices::SetCursor(uint8_t page, Cursor c) {
  Write16(bda::kCursorPos + 2 * (page & 7), static_cast<uint16_t>((c.row << 8) | c.col));
}

uint64_t BiosServices::CellAddress(uint8_t page, uint8_t row, uint8_t col) {
  uint64_t page_bytes = Read16(bda::kVideoPageBytes);
  if (page_bytes == 0) page_bytes = 4096;
  return bda::kVgaText + (page & 7) * page_bytes + (uint64_t{row} * columns() + col) * 2;
}

void BiosServices::SetVideoMode(uint8_t mode, bool clear) {
  // Text modes only: 0/1 are 40x25, 2/3 80x25 (all colour, at B8000h).
  uint8_t cols = mode <= 1 ? 40 : 80;
  Write8(bda::kVideoMode, mode);
  Write16(bda::kVideoColumns, cols);
  uint16_t page_bytes = cols == 40 ? 2048 : 4096;
  Write16(bda::kVideoPageBytes, page_bytes);
  Write16(bda::kVideoPageStart, 0);
  for (int p = 0; p < 8; ++p) SetCursor(static_cast<uint8_t>(p), {0, 0});
  Write16(bda::kCursorShape, kDefaultCursorShape);
  Write8(bda::kVideoPage, 0);
  Write16(bda::kCrtcPort, 0x3d4);
  Write8(bda::kVideoRowsMinus1, kTextRows - 1);
  Write16(bda::kCharHeight, 16);
  Write8(bda::kVideoFlags, 0x11);  // VGA active, 400-line text.
  if (clear) {
    std::vector<uint8_t> blank(uint64_t{page_bytes} * 8);
    for (size_t i = 0; i < blank.size(); i += 2) {
      blank[i] = ' ';
      blank[i + 1] = kDefaultAttr;
    }
    (void)env_.memory->WritePhysical(bda::kVgaText, blank);
  }
}

void BiosServices::Scroll(uint8_t page, int lines, uint8_t attr, uint8_t top, uint8_t left,
                          uint8_t bottom, uint8_t right, bool up) {
  uint8_t cols = columns();
  uint8_t nrows = rows();
  bottom = std::min<uint8_t>(bottom, static_cast<uint8_t>(nrows - 1));
  right = std::min<uint8_t>(right, static_cast<uint8_t>(cols - 1));
  if (top > bottom || left > right) return;
  int height = bottom - top + 1;
  if (lines == 0 || lines > height) lines = height;  // AL = 0 clears the window.
  size_t width_bytes = (right - left + 1) * 2u;
  std::vector<uint8_t> row_buf(width_bytes);
  auto copy_row = [&](int from, int to) {
    (void)env_.memory->ReadPhysical(CellAddress(page, static_cast<uint8_t>(from), left), row_buf);
    (void)env_.memory->WritePhysical(CellAddress(page, static_cast<uint8_t>(to), left), row_buf);
  };
  if (up) {
    for (int row = top; row + lines <= bottom; ++row) copy_row(row + lines, row);
  } else {
    for (int row = bottom; row - lines >= top; --row) copy_row(row - lines, row);
  }
  std::vector<uint8_t> blank(width_bytes);
  for (size_t i = 0; i < blank.size(); i += 2) {
    blank[i] = ' ';
    blank[i + 1] = attr;
  }
  for (int i = 0; i < lines; ++i) {
    int row = up ? bottom - i : top + i;
    (void)env_.memory->WritePhysical(CellAddress(page, static_cast<uint8_t>(row), left), blank);
  }
}

void BiosServices::SerialPut(uint8_t ch) {
  Bus& pio = *env_.pio;
  // Leave the port alone while the guest has the divisor latch open.
  if (pio.ReadValue(kCom1 + 3, 1) & kLcrDlab) return;
  // The transmitter drains synchronously in the emulated UART; the bound only
  // guards against a wedged one.
  for (int i = 0; i < 1000 && !(pio.ReadValue(kCom1 + kUartLsr, 1) & kLsrThre); ++i) {
  }
  pio.WriteValue(kCom1, 1, ch);
}

void BiosServices::Teletype(uint8_t ch, uint8_t page, bool to_serial) {
  if (to_serial) SerialPut(ch);
  Cursor c = GetCursor(page);
  uint8_t cols = columns();
  uint8_t nrows = rows();
  switch (ch) {
    case 7:  // Bell.
      return;
    case 8:  // Backspace: move left, do not erase.
      if (c.col > 0) --c.col;
      break;
    case '\r':
      c.col = 0;
      break;
    case '\n':
      ++c.row;
      break;
    default:
      Write8(CellAddress(page, c.row, c.col), ch);
      if (++c.col >= cols) {
        c.col = 0;
        ++c.row;
      }
      break;
  }
  if (c.row >= nrows) {
    // New lines take the attribute of the cell at the cursor (IBM BIOS).
    uint8_t attr = Read8(CellAddress(page, static_cast<uint8_t>(nrows - 1), 0) + 1);
    Scroll(page, 1, attr ? attr : kDefaultAttr, 0, 0, static_cast<uint8_t>(nrows - 1),
           static_cast<uint8_t>(cols - 1), /*up=*/true);
    c.row = static_cast<uint8_t>(nrows - 1);
  }
  SetCursor(page, c);
}

void BiosServices::WriteCells(uint8_t page, uint8_t ch, std::optional<uint8_t> attr,
                              uint16_t count) {
  Cursor c = GetCursor(page);
  uint32_t cells = uint32_t{columns()} * rows();
  uint32_t start = uint32_t{c.row} * columns() + c.col;
  for (uint32_t i = 0; i < count && start + i < cells; ++i) {
    uint64_t cell = CellAddress(page, 0, 0) + (start + i) * 2;
    Write8(cell, ch);
    if (attr) Write8(cell + 1, *attr);
  }
}

void BiosServices::ConsoleWrite(std::string_view text) {
  for (char ch : text) Teletype(static_cast<uint8_t>(ch), Read8(bda::kVideoPage), true);
}

void BiosServices::Int10Video(BiosRegs& r) {
  uint8_t page = r.bh() & 7;
  switch (r.ah()) {
    case 0x00:  // Set mode (AL bit 7: keep the screen).
      if ((r.al() & 0x7f) > 3) {
        // Graphics modes need a VGA; the text console stays as it is.
        if (unsupported_log_.Allow()) log_->info("INT 10h: video mode {:#x} not supported", r.al());
        return;
      }
      SetVideoMode(r.al() & 0x7f, !(r.al() & 0x80));
      r.set_al(0x30);  // "Text mode set" (as SeaBIOS reports it).
      return;
    case 0x01:  // Cursor shape.
      Write16(bda::kCursorShape, r.cx());
      return;
    case 0x02:  // Set cursor position.
      SetCursor(page, {r.dh(), r.dl()});
      return;
    case 0x03: {  // Get cursor position and shape.
      Cursor c = GetCursor(page);
      r.set_dh(c.row);
      r.set_dl(c.col);
      r.set_cx(Read16(bda::kCursorShape));
      r.set_ax(0);
      return;
    }
    case 0x05:  // Active page.
      Write8(bda::kVideoPage, r.al() & 7);
      Write16(bda::kVideoPageStart,
              static_cast<uint16_t>((r.al() & 7) * Read16(bda::kVideoPageBytes)));
      return;
    case 0x06:
    case 0x07:
      Scroll(Read8(bda::kVideoPage), r.al(), r.bh(), r.ch(), r.cl(), r.dh(), r.dl(),
             r.ah() == 0x06);
      return;
    case 0x08: {  // Read character and attribute at the cursor.
      Cursor c = GetCursor(page);
      uint64_t cell = CellAddress(page, c.row, c.col);
      r.set_al(Read8(cell));
      r.set_ah(Read8(cell + 1));
      return;
    }
    case 0x09:  // Write character and attribute, CX times.
      WriteCells(page, r.al(), r.bl(), r.cx());
      return;
    case 0x0a:  // Write character only.
      WriteCells(page, r.al(), std::nullopt, r.cx());
      return;
    case 0x0e:  // Teletype.
      Teletype(r.al(), Read8(bda::kVideoPage), true);
      return;
    case 0x0f:  // Get mode.
      r.set_al(Read8(bda::kVideoMode));
      r.set_ah(columns());
      r.set_bh(Read8(bda::kVideoPage));
      return;
    case 0x10:  // Palette: nothing to program without a VGA.
      return;
    case 0x11:
      if (r.al() == 0x30) {  // Font information.
        r.set_cx(Read16(bda::kCharHeight));
        r.set_dl(static_cast<uint8_t>(rows() - 1));
        r.es = 0;
        r.ebp &= ~0xffffu;
      }
      return;
    case 0x12:
      if (r.bl() == 0x10) {  // EGA/VGA information: colour, 256 KiB.
        r.set_bx(0x0003);
        r.set_cx(0x0009);
      }
      return;
    case 0x13: {  // Write string ES:BP, CX chars, at DH:DL; AL bit 0 moves the cursor.
      bool with_attrs = r.al() & 2;
      Cursor saved = GetCursor(page);
      SetCursor(page, {r.dh(), r.dl()});
      uint64_t p = Linear(r.es, r.ebp & 0xffff);
      for (uint16_t i = 0; i < r.cx(); ++i) {
        uint8_t ch = Read8(p++);
        uint8_t attr = r.bl();
        if (with_attrs) attr = Read8(p++);
        if (ch >= 0x20) {
          Cursor c = GetCursor(page);
          Write8(CellAddress(page, c.row, c.col) + 1, attr);
        }
        Teletype(ch, page, true);
      }
      if (!(r.al() & 1)) SetCursor(page, saved);
      return;
    }
    case 0x1a:
      if (r.al() == 0x00) {  // Display combination: VGA with colour display.
        r.set_al(0x1a);
        r.set_bx(0x0008);
      }
      return;
    default:
      // VBE (AH=4Fh) and the rest: AX comes back unchanged, which callers
      // read as "not supported".
      if (unsupported_log_.Allow()) log_->debug("INT 10h AX={:04x}: unsupported", r.ax());
      return;
  }
}

}  // namespace x86vm
