#!/usr/bin/env bash
# Assembles every guest test program and runs it on QEMU (TCG), printing one
# table row per program. Usage: run_on_qemu.sh [-v] [program ...]
#   -v   also print each program's debug console output
# Exit status: 0 if every program passed, 1 otherwise.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
qemu="${QEMU:-qemu-system-x86_64}"
timeout_s="${TIMEOUT:-30}"
verbose=0
if [[ "${1:-}" == "-v" ]]; then verbose=1; shift; fi

if [[ $# -gt 0 ]]; then
  progs=("$@")
else
  progs=()
  for f in "$here"/*.asm; do progs+=("$(basename "$f" .asm)"); done
fi

command -v nasm >/dev/null || { echo "nasm is missing (apt-get install nasm)" >&2; exit 2; }
command -v "$qemu" >/dev/null || { echo "$qemu is missing (apt-get install qemu-system-x86)" >&2; exit 2; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
failed=0
printf '%-20s %-8s %-6s %s\n' PROGRAM RESULT EXIT DETAIL
for p in "${progs[@]}"; do
  if ! nasm -f bin -I "$here/" "$here/$p.asm" -o "$out/$p.bin" 2>"$out/$p.nasm"; then
    printf '%-20s %-8s %-6s %s\n' "$p" ASMFAIL - "$(head -1 "$out/$p.nasm")"
    failed=1
    continue
  fi
  timeout "$timeout_s" "$qemu" -machine pc -accel tcg -m 128 -bios "$out/$p.bin" \
    -display none -serial none -debugcon "file:$out/$p.log" \
    -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot </dev/null >/dev/null 2>"$out/$p.err"
  rc=$?
  detail="$(grep -E '^(PASS|FAIL|SKIP)' "$out/$p.log" 2>/dev/null | tail -1)"
  if [[ $rc -eq 1 ]]; then
    result=PASS
  elif [[ $rc -eq 124 ]]; then
    result=TIMEOUT; failed=1
  elif [[ $rc -eq 0 ]]; then
    result=RESET; detail="triple fault or reset (no exit port write) ${detail}"; failed=1
  else
    result=FAIL; failed=1
    [[ $(( rc & 1 )) -eq 1 ]] && detail="check $(( rc >> 1 )): ${detail}"
  fi
  printf '%-20s %-8s %-6s %s\n' "$p" "$result" "$rc" "$detail"
  if [[ $verbose -eq 1 ]]; then sed 's/^/    | /' "$out/$p.log"; fi
done
exit $failed
