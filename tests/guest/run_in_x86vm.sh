#!/usr/bin/env bash
# Runs one guest test program (a tests/guest image) in x86vm the way
# README.md runs it on QEMU, and passes when the program reports
# "PASS <name>" on the debug console and exits through port 0xF4 with 0
# (process status 1). Any other status (a failed check N gives (N << 1) | 1,
# a triple fault 0, a hang the timeout's 124) fails, with the output shown.
# Usage: run_in_x86vm.sh X86VM IMAGE [extra x86vm arguments...]
#   TIMEOUT (seconds, default 120) bounds the run.
set -u
if [[ $# -lt 2 ]]; then
  echo "usage: $0 X86VM IMAGE [x86vm arguments...]" >&2
  exit 2
fi
x86vm=$1
image=$2
shift 2
name=$(basename "$image" .bin)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

timeout "${TIMEOUT:-120}" "$x86vm" --memory 128M --bios "$image" --exit-port 0xf4 \
  --serial none --debugcon stdio --no-reboot "$@" </dev/null >"$out" 2>&1
status=$?
cat "$out"
if [[ $status -ne 1 ]]; then
  if [[ $status -eq 124 ]]; then
    echo "FAIL $name: timed out after ${TIMEOUT:-120} s"
  elif [[ $status -eq 0 ]]; then
    echo "FAIL $name: exit status 0 (triple fault or reset without an exit-port write)"
  else
    echo "FAIL $name: exit status $status (check $(( status >> 1 )))"
  fi
  exit 1
fi
if ! grep -qx "PASS $name" "$out"; then
  echo "FAIL $name: exit status 1 but no 'PASS $name' line"
  exit 1
fi
echo "$name passed in x86vm"
