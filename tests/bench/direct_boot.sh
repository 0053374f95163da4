#!/usr/bin/env bash
# Times the direct-boot workload: Debian's cloud kernel with the busybox
# initramfs from scripts/prepare-guest, booted straight from --kernel/--initrd
# to the shell, which reads end-of-file (a Ctrl-D byte on stdin) and exits;
# /init then powers off. Runs x86vm's interpreter and, when installed,
# QEMU TCG on the same files in the same sitting, several times each, and
# prints medians (and minima, which a busy machine disturbs least).
#
# Usage: tests/bench/direct_boot.sh [-n RUNS] [--x86vm PATH] [--no-qemu]
#                                   [--deterministic] [--keep DIR]
#   -n RUNS          runs per engine (default 5)
#   --x86vm PATH     use this binary instead of building //:x86vm with --config=release
#   --no-qemu        skip QEMU
#   --deterministic  also time x86vm --clock deterministic (guest time follows
#                    instructions: the same work every run)
#   --keep DIR       keep each run's console output in DIR
#   X86VM_CACHE      where the guest lives (scripts/prepare-guest)
#
# A run counts only if the console shows "reboot: Power down"; failed runs
# are reported and left out of the statistics.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"

runs=5
x86vm=""
use_qemu=1
deterministic=0
keep=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -n) runs=$2; shift 2 ;;
    --x86vm) x86vm=$2; shift 2 ;;
    --no-qemu) use_qemu=0; shift ;;
    --deterministic) deterministic=1; shift ;;
    --keep) keep=$2; mkdir -p "$keep"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bench_child_cpu_file=$work/cpu_times

bench_prepare_boot || exit 1
qemu=$(command -v qemu-system-x86_64 || true)
[[ $use_qemu -eq 1 && -z $qemu ]] && echo "qemu-system-x86_64 not installed: x86vm only" >&2

# The shell's input is end of file. x86vm types Ctrl-D into COM1 every 0.5 s
# of guest time once its stdin is at EOF (machine/run_loop.cc); QEMU gets
# the same from a writer that sends Ctrl-D every 0.5 s (a single early one
# can be swallowed, e.g. by busybox's cursor-position query).
run_x86vm() {  # extra x86vm arguments...
  timeout 300 "$x86vm" --kernel "$kernel" --initrd "$initrd" --append "$append" --no-reboot "$@" \
    </dev/null
}
ctrl_d_every_half_second() {
  while printf '\004' 2>/dev/null; do sleep 0.5; done
}
run_qemu() {
  ctrl_d_every_half_second | timeout 300 "$qemu" -accel tcg -m 512 -kernel "$kernel" \
    -initrd "$initrd" -append "$append" -nographic -no-reboot
}

echo "direct boot to the shell and S5: $(basename "$kernel"), $runs runs each; seconds" >&2
printf '%-26s %8s %8s %8s %8s\n' ENGINE WALL_MED WALL_MIN CPU_MED CPU_MIN
bench_boot x86vm-interp run_x86vm --accel interp
if [[ $deterministic -eq 1 ]]; then
  bench_boot x86vm-interp-deterministic run_x86vm --accel interp --clock deterministic
fi
if [[ $use_qemu -eq 1 && -n $qemu ]]; then
  bench_boot qemu-tcg run_qemu
fi
