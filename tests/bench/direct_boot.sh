#!/usr/bin/env bash
# Times the direct-boot workload: Debian's cloud kernel with the busybox
# initramfs from scripts/prepare-guest, booted straight from --kernel/--initrd
# to the shell, which reads end-of-file (a Ctrl-D byte on stdin) and exits;
# /init then powers off. Runs x86vm's interpreter and, when installed,
# QEMU TCG on the same files in the same sitting, alternating the engines
# run by run (so both see the same machine load), and prints medians (and
# minima, which a busy machine disturbs least).
#
# Two times per run: to init (the first line /init prints, "x86vm default
# guest: ..."; the kernel's whole boot, which is what #3's target names) and
# to power-off (also the shell's start-up and its wait for end of input,
# which idles until the next Ctrl-D; see below). The last lines give the
# x86vm/QEMU ratios: of the medians, and the median of each round's ratio.
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
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
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

echo "direct boot to init, the shell and S5: $(basename "$kernel"), $runs runs each; seconds" >&2
bench_marker="x86vm default guest"
engines=(x86vm-interp)
[[ $deterministic -eq 1 ]] && engines+=(x86vm-interp-deterministic)
[[ $use_qemu -eq 1 && -n $qemu ]] && engines+=(qemu-tcg)
for ((i = 1; i <= runs; i++)); do
  for engine in "${engines[@]}"; do
    case $engine in
      x86vm-interp) bench_boot_once "$engine" "$i" run_x86vm --accel interp ;;
      x86vm-interp-deterministic)
        bench_boot_once "$engine" "$i" run_x86vm --accel interp --clock deterministic ;;
      qemu-tcg) bench_boot_once "$engine" "$i" run_qemu ;;
    esac
  done
done
printf '%-26s %8s %8s %8s %8s %8s %8s\n' ENGINE WALL_MED WALL_MIN CPU_MED CPU_MIN INIT_MED INIT_MIN
for engine in "${engines[@]}"; do bench_boot_row "$engine"; done
if [[ " ${engines[*]} " == *" qemu-tcg "* ]]; then
  # Ratios over the rounds where both engines powered off (bench_boot_once
  # appends one line per good run, so pair them by run number instead).
  for ((i = 1; i <= runs; i++)); do
    a=$work/x86vm-interp.$i.out b=$work/qemu-tcg.$i.out
    grep -q "reboot: Power down" "$a" && grep -q "reboot: Power down" "$b" || continue
    echo "$i"
  done >"$work/good_rounds"
  awk 'NR == FNR { good[$1] = 1; next }
       { n[FILENAME]++; if (good[n[FILENAME]]) print FILENAME, n[FILENAME], $0 }' \
    "$work/good_rounds" "$work/x86vm-interp.times.all" "$work/qemu-tcg.times.all" |
    awk '{ k = $2; if ($1 ~ /x86vm/) { xw[k] = $3; xi[k] = $5 } else { qw[k] = $3; qi[k] = $5 } }
         END { for (k in xw) if (k in qw) printf "%.3f %.3f\n", xi[k] / qi[k], xw[k] / qw[k] }' \
    >"$work/ratios"
  printf 'x86vm/QEMU: to init %.2fx of medians, round median %.2fx; to power-off %.2fx, round median %.2fx (%d rounds)\n' \
    "$(awk -v a="$(bench_median "$work/x86vm-interp.times" 3)" -v b="$(bench_median "$work/qemu-tcg.times" 3)" 'BEGIN { print a / b }')" \
    "$(bench_median "$work/ratios" 1)" \
    "$(awk -v a="$(bench_median "$work/x86vm-interp.times" 1)" -v b="$(bench_median "$work/qemu-tcg.times" 1)" 'BEGIN { print a / b }')" \
    "$(bench_median "$work/ratios" 2)" "$(wc -l <"$work/ratios")"
fi
