#!/usr/bin/env bash
# Assembles every guest test program and runs it on QEMU (TCG), printing one
# table row per program.
# Usage: run_on_qemu.sh [-v] [-k] [--strict] [--bochs] [program ...]
#   -v        also print each program's debug console output
#   --strict  keep the checks QEMU TCG is known to get wrong (by default they
#             are assembled out with -dQEMU_TCG_QUIRKS; see README.md)
#   -k        keep going after a failed check (assembles with
#             -dCONTINUE_ON_FAIL; the exit value is still the first failure)
#   QEMU_CPU=max  pass -cpu max (exercises the CPUID-gated checks: 1 GiB
#             pages, FSGSBASE, SMEP/SMAP, ...); default is QEMU's default CPU,
#             except for sse, which always gets -cpu max (needs SSE4.2)
#   --bochs   run on Bochs instead (a second oracle, accurate for
#             segmentation and task switches; implies --strict). Needs the
#             Debian packages bochs, bochs-sdl and vgabios.
# Exit status: 0 if every program passed, 1 otherwise.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
qemu="${QEMU:-qemu-system-x86_64}"
timeout_s="${TIMEOUT:-60}"
verbose=0
emu=qemu
quirks=(-dQEMU_TCG_QUIRKS)
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -v) verbose=1; shift ;;
    --strict) quirks=(); shift ;;
    -k) extra+=(-dCONTINUE_ON_FAIL); shift ;;
    --bochs) emu=bochs; quirks=(); shift ;;
    *) break ;;
  esac
done

if [[ $# -gt 0 ]]; then
  progs=("$@")
else
  progs=()
  for f in "$here"/*.asm; do progs+=("$(basename "$f" .asm)"); done
fi

command -v nasm >/dev/null || { echo "nasm is missing (apt-get install nasm)" >&2; exit 2; }
if [[ $emu == qemu ]]; then
  command -v "$qemu" >/dev/null || { echo "$qemu is missing (apt-get install qemu-system-x86)" >&2; exit 2; }
else
  command -v bochs >/dev/null || { echo "bochs is missing (apt-get install bochs bochs-sdl vgabios)" >&2; exit 2; }
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

run_bochs() {  # $1 = image, $2 = log
  cat >"$out/bochsrc" <<EOF
megs: 128
romimage: file=$1
vgaromimage: file=/usr/share/vgabios/vgabios.bin
vga: extension=none
display_library: sdl2
port_e9_hack: enabled=1
log: $out/bochs.log
panic: action=fatal
error: action=report
clock: sync=none
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
cpu: model=${BOCHS_CPU:-corei7_skylake_x}, ips=200000000
EOF
  printf 'c\n' >"$out/bochs.rc"
  SDL_VIDEODRIVER=dummy timeout "$timeout_s" bochs -q -f "$out/bochsrc" -rc "$out/bochs.rc" \
    </dev/null 2>/dev/null | grep -aE '^(PASS|FAIL|SKIP|  |[a-z0-9_]+: )' >"$2"
  # Bochs' exit status says nothing about the guest: read its last line.
  if grep -q '^PASS ' "$2"; then return 1; fi
  if grep -q '^FAIL ' "$2"; then return 3; fi
  return 124
}

failed=0
printf '%-20s %-8s %-6s %s\n' PROGRAM RESULT EXIT DETAIL
for p in "${progs[@]}"; do
  if ! nasm -f bin "${quirks[@]}" "${extra[@]}" -I "$here/" "$here/$p.asm" -o "$out/$p.bin" 2>"$out/$p.nasm"; then
    printf '%-20s %-8s %-6s %s\n' "$p" ASMFAIL - "$(head -1 "$out/$p.nasm")"
    failed=1
    continue
  fi
  if [[ $emu == qemu ]]; then
    cpu=()
    # sse needs SSSE3/SSE4.x/POPCNT, which QEMU's default CPU lacks.
    [[ $p == sse ]] && cpu=(-cpu max)
    [[ -n "${QEMU_CPU:-}" ]] && cpu=(-cpu "$QEMU_CPU")
    timeout "$timeout_s" "$qemu" -machine pc -accel tcg "${cpu[@]}" -m 128 -bios "$out/$p.bin" \
      -display none -serial none -debugcon "file:$out/$p.log" \
      -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot </dev/null >/dev/null 2>"$out/$p.err"
    rc=$?
  else
    run_bochs "$out/$p.bin" "$out/$p.log"
    rc=$?
  fi
  detail="$(grep -aE '^(PASS|FAIL)' "$out/$p.log" 2>/dev/null | tail -1)"
  if [[ $rc -eq 1 ]]; then
    result=PASS
  elif [[ $rc -eq 124 ]]; then
    result=TIMEOUT; failed=1
  elif [[ $rc -eq 0 ]]; then
    result=RESET; detail="triple fault or reset (no exit port write) ${detail}"; failed=1
  else
    result=FAIL; failed=1
  fi
  printf '%-20s %-8s %-6s %s\n' "$p" "$result" "$rc" "$detail"
  if [[ $verbose -eq 1 ]]; then sed 's/^/    | /' "$out/$p.log"; fi
done
exit $failed
