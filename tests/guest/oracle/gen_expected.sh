#!/usr/bin/env bash
# Regenerates lib/x87_expected.inc and lib/sse_expected.inc by running the
# case files natively on this (x86-64, SSE4.2) host. Needs nasm and gcc.
# The committed files came from an Intel CPU; rerun only when cases change.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
gen() {  # $1 = case file stem, $2 = symbol prefix, $3 = exact-end symbol
  nasm -f elf64 -dHOST_ORACLE -DCASES="\"lib/$1_cases.inc\"" -DEXACT_END_SYM="$3" \
    -I "$here/" "$here/oracle/host.asm" -o "$tmp/$1.o"
  gcc -O0 -no-pie -o "$tmp/$1" "$here/oracle/dump.c" "$tmp/$1.o"
  "$tmp/$1" "$2" >"$here/lib/$1_expected.inc"
  echo "wrote lib/$1_expected.inc"
}
gen x87 X87 X87_EXACT_END_A
if [[ -f "$here/lib/sse_cases.inc" ]]; then gen sse SSE SSE_EXACT_END_A; fi
