#!/usr/bin/env bash
# Command-line behaviour as a user sees it: help, version, one-line errors with
# exit status 2, "not built yet" messages, and a firmware image that prints and
# exits through the exit port.
set -u
x86vm=$1
hello=$2
clock=$3
mbr_disk=$4
failures=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {  # check NAME EXPECTED_STATUS EXPECTED_STDERR_SUBSTRING -- ARGS...
  local name=$1 want_status=$2 want_text=$3
  shift 4
  timeout 20 "$x86vm" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  local status=$?
  if [[ $status -ne $want_status ]]; then
    echo "FAIL $name: exit status $status, expected $want_status"; cat "$tmp/err"; failures=$((failures+1)); return
  fi
  if [[ -n $want_text ]] && ! grep -qF -- "$want_text" "$tmp/out" "$tmp/err"; then
    echo "FAIL $name: output lacks '$want_text'"; cat "$tmp/out" "$tmp/err"; failures=$((failures+1)); return
  fi
  echo "ok   $name"
}

one_line_error() {  # The error is exactly one line.
  local name=$1
  if [[ $(wc -l < "$tmp/err") -ne 1 ]]; then
    echo "FAIL $name: error is not one line"; cat "$tmp/err"; failures=$((failures+1))
  fi
}

check help 0 "--exit-port" -- --help
for opt in --memory --accel --bios --kernel --initrd --append --disk --serial --display \
           --debugcon --exit-port --no-reboot --log --help --version; do
  grep -qF -- "$opt" "$tmp/out" || { echo "FAIL help lacks $opt"; failures=$((failures+1)); }
done
check version 0 "x86vm" -- --version
check unknown-option 2 "'--frobnicate'" -- --frobnicate; one_line_error unknown-option
check bad-size 2 "--memory" -- --memory 12Q; one_line_error bad-size
check missing-kernel 2 "/nonexistent/bzImage" -- --kernel /nonexistent/bzImage; one_line_error missing-kernel
check missing-disk 2 "/nonexistent/disk.img" -- --disk /nonexistent/disk.img; one_line_error missing-disk
check bad-accel 2 "--accel" -- --accel tcg; one_line_error bad-accel
check bad-exit-port 2 "--exit-port" -- --exit-port 70000; one_line_error bad-exit-port
check sdl-not-built 1 "not built yet" -- --display sdl; one_line_error sdl-not-built
head -c 1000 /dev/zero > "$tmp/odd.bin"
check odd-bios 2 "odd.bin" -- --bios "$tmp/odd.bin"; one_line_error odd-bios
head -c 8192 /dev/urandom > "$tmp/notkernel"
check not-a-kernel 2 "not a Linux bzImage" -- --kernel "$tmp/notkernel"; one_line_error not-a-kernel
check exit-port-conflict 1 "--exit-port 0x3f8" -- --bios "$hello" --exit-port 0x3f8

# The firmware prints on COM1 (stdout) and debugcon, then exits with (0x15<<1)|1.
check hello-serial 43 "Hello from x86vm" -- --bios "$hello" --exit-port 0xf4 --accel interp
check hello-debugcon 43 "" -- --bios "$hello" --exit-port 0xf4 --serial none \
  --debugcon "file:$tmp/debugcon.txt"
grep -qF "Hello from x86vm" "$tmp/debugcon.txt" || { echo "FAIL debugcon file"; failures=$((failures+1)); }
check hello-serial-file 43 "" -- --bios "$hello" --exit-port 0xf4 --serial "file:$tmp/com1.txt"
grep -qF "Hello from x86vm" "$tmp/com1.txt" || { echo "FAIL serial file"; failures=$((failures+1)); }
# Without an exit port the firmware halts with interrupts off: a dead guest
# ends the run with a message instead of spinning.
check dead-guest 1 "interrupts disabled" -- --bios "$hello"

# Deterministic time: two runs of a guest that reads the PIT, CMOS and TSC
# print the same line; in real time the same guest runs too.
for run in 1 2; do
  check "deterministic-$run" 1 "" -- --bios "$clock" --exit-port 0xf4 --clock deterministic
  cp "$tmp/out" "$tmp/clock$run.txt"
done
if ! cmp -s "$tmp/clock1.txt" "$tmp/clock2.txt" || [[ ! -s $tmp/clock1.txt ]]; then
  echo "FAIL deterministic runs differ or are empty:"; cat "$tmp/clock1.txt" "$tmp/clock2.txt"
  failures=$((failures+1))
fi
check realtime 1 "" -- --bios "$clock" --exit-port 0xf4

# Firmware boots a disk: SeaBIOS (Debian's image, through fw_cfg and its serial
# console) and the builtin BIOS both run the boot sector, which prints through
# INT 10h and exits with (0x21<<1)|1.
cp "$mbr_disk" "$tmp/disk.img"
if [[ -f /usr/share/seabios/bios-256k.bin ]]; then
  check seabios-disk 67 "MBR says hi" -- --bios seabios --disk "$tmp/disk.img" --exit-port 0xf4
else
  echo "skip seabios-disk: Debian's seabios package is not installed"
fi
check builtin-bios-disk 67 "MBR says hi" -- --bios builtin --disk "$tmp/disk.img" --exit-port 0xf4

if [[ $failures -ne 0 ]]; then echo "$failures failure(s)"; exit 1; fi
echo "all command-line checks passed"
