#!/usr/bin/env bash
# Guest MIPS on a CPU-bound loop (tests/bench/cpu_loop.asm: 64-bit code
# shaped like compiled kernel code, 24 instructions per iteration). Runs the
# image with ITERS iterations and with none (start-up, machine setup), and
# reports (ITERS * 24) / (time(ITERS) - time(0)) in millions of guest
# instructions per second, for x86vm's interpreter and, when installed, QEMU
# TCG in the same sitting. Both must print the same checksum.
#
# Usage: tests/bench/cpu_loop.sh [-n RUNS] [--iters N] [--mpi] [--x86vm PATH] [--no-qemu]
#   -n RUNS       runs per engine and image (default 5); medians are used
#   --iters N     loop iterations (default 20000000: 480 M instructions)
#   --mpi         the kernel's multi-precision multiply-add loop instead
#                 (37 instructions per iteration; see cpu_loop.asm)
#   --x86vm PATH  use this binary instead of building //:x86vm with --config=release
#   --no-qemu     skip QEMU
# Needs nasm.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"

runs=5
iters=20000000
x86vm=""
use_qemu=1
mpi=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    -n) runs=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --x86vm) x86vm=$2; shift 2 ;;
    --no-qemu) use_qemu=0; shift ;;
    --mpi) mpi=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
command -v nasm >/dev/null || { echo "nasm is missing (apt-get install nasm)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bench_child_cpu_file=$work/cpu_times
nasm_defs=()
if [[ $mpi -eq 1 ]]; then
  iters=$((iters / 1024 * 1024))
  nasm_defs=(-DMPI)
  insns_per_iter=$(awk '/^MPI_INSNS_PER_ITER equ/ { print $3 }' "$here/cpu_loop.asm")
else
  insns_per_iter=$(awk '/^INSNS_PER_ITER equ/ { print $3 }' "$here/cpu_loop.asm")
fi

nasm -f bin "${nasm_defs[@]}" -DITERS="$iters" -o "$work/loop.bin" "$here/cpu_loop.asm" || exit 1
nasm -f bin "${nasm_defs[@]}" -DITERS=0 -o "$work/empty.bin" "$here/cpu_loop.asm" || exit 1

if [[ -z $x86vm ]]; then
  x86vm=$work/x86vm
  echo "building x86vm (bazel build --config=release //:x86vm)..." >&2
  bench_build_x86vm "$x86vm" || { echo "build failed" >&2; exit 1; }
fi
qemu=$(command -v qemu-system-x86_64 || true)
[[ $use_qemu -eq 1 && -z $qemu ]] && echo "qemu-system-x86_64 not installed: x86vm only" >&2

run_x86vm() {  # image
  "$x86vm" --accel interp --memory 128M --bios "$1" --exit-port 0xf4 --serial none \
    --debugcon stdio --no-reboot </dev/null
}
run_qemu() {  # image
  "$qemu" -machine pc -accel tcg -m 128 -bios "$1" -display none -serial none \
    -debugcon stdio -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot </dev/null
}

# measure NAME RUNNER: prints the engine's row.
measure() {
  local name=$1 runner=$2
  local image i status sum=""
  for image in empty loop; do
    : >"$work/$name.$image.times"
    for ((i = 1; i <= runs; i++)); do
      bench_time "$work/$name.$image.times" "$work/$name.$image.out" "$runner" "$work/$image.bin"
      status=$?
      # Exit-port value 0 gives status 1 in both engines.
      if [[ $status -ne 1 ]]; then
        echo "$name ($image) exited with status $status:" >&2
        sed 's/^/    /' "$work/$name.$image.out" >&2
        return 1
      fi
    done
  done
  sum=$(tr -d '\r\n' <"$work/$name.loop.out")
  local wall0 wall cpu0 cpu
  wall0=$(bench_median "$work/$name.empty.times" 1)
  wall=$(bench_median "$work/$name.loop.times" 1)
  cpu0=$(bench_median "$work/$name.empty.times" 2)
  cpu=$(bench_median "$work/$name.loop.times" 2)
  awk -v n="$name" -v w0="$wall0" -v w="$wall" -v c0="$cpu0" -v c="$cpu" \
      -v insns="$((iters * insns_per_iter))" -v sum="$sum" 'BEGIN {
    dw = w - w0; dc = c - c0
    printf "%-14s %8.2f %8.2f %10.1f %10.1f   %s\n", n, w, c,
      (dw > 0 ? insns / dw / 1e6 : 0), (dc > 0 ? insns / dc / 1e6 : 0), sum }'
}

echo "cpu_loop: $iters iterations x $insns_per_iter instructions, $runs runs each (medians)" >&2
printf '%-14s %8s %8s %10s %10s   %s\n' ENGINE WALL_S CPU_S MIPS_WALL MIPS_CPU CHECKSUM
measure x86vm-interp run_x86vm
if [[ $use_qemu -eq 1 && -n $qemu ]]; then
  measure qemu-tcg run_qemu
fi
