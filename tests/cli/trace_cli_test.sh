#!/usr/bin/env bash
# --trace as a user runs it: a firmware image traced to a file, checked line
# by line (address, bytes, disassembly, changed registers, the #UD event),
# then --trace-range, --trace-skip and --trace-limit, and the errors.
set -u
x86vm=$1
fw=$2
failures=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL $*"; failures=$((failures+1)); }
run() {  # run EXPECTED_STATUS ARGS...: the firmware exits through port 0xF4 with 43.
  local want=$1
  shift
  timeout 20 "$x86vm" --bios "$fw" --exit-port 0xf4 --serial none --accel interp "$@" \
    >"$tmp/out" 2>"$tmp/err" </dev/null
  local status=$?
  [[ $status -eq $want ]] || { fail "'$*': exit status $status, expected $want"; cat "$tmp/err"; }
}
has() {  # has FILE NAME EXTENDED_REGEX
  grep -Eq -- "$3" "$1" || { fail "$2: no line matches '$3'"; cat "$1"; }
}
lines() { wc -l < "$1" | tr -d ' '; }

# The whole run.
run 43 --trace "$tmp/all.txt"
has "$tmp/all.txt" first-line '^ +0 f000:fff0 fffffff0  ea 00 00 00 f0 +ljmp 0xf000:0 +cs=f000$'
has "$tmp/all.txt" gpr-change '^ +[0-9]+ f000:0006 000f0006  bc 00 70 +mov sp, 0x7000 +esp=00007000$'
has "$tmp/all.txt" flags-change 'dec cx +ecx=00000000 rflags=00000046$'
has "$tmp/all.txt" exception '^--- exception 0x06 \(#UD\) \| esp=00006ffa$'
grep -A1 ' ud2$' "$tmp/all.txt" | tail -1 | grep -q '^--- exception 0x06' || fail "#UD does not follow ud2"
has "$tmp/all.txt" handler 'iret +esp=00007000'
[[ $(grep -c 'dec cx' "$tmp/all.txt") -eq 3 ]] || fail "expected 3 'dec cx' lines"

# The loop only: its linear address from the first trace, [START, END).
loop=$(grep -m1 'dec cx' "$tmp/all.txt" | awk '{print $3}')
run 43 --trace "$tmp/range.txt" --trace-range "0x$loop+3"
[[ $(lines "$tmp/range.txt") -eq 6 ]] || { fail "range: expected 6 lines"; cat "$tmp/range.txt"; }
[[ $(grep -Ec 'dec cx|jne' "$tmp/range.txt") -eq 6 ]] || fail "range: lines outside the loop"
has "$tmp/range.txt" range-numbering '^ +5 f000:0019 '
# Two ranges (END form): the loop and the UD2 with its event.
ud2=$(grep -m1 ' ud2$' "$tmp/all.txt" | awk '{print $3}')
run 43 --trace "$tmp/range2.txt" --trace-range "0x$loop+3" --trace-range "0x$ud2-0x$(printf '%x' $((0x$ud2 + 2)))"
[[ $(lines "$tmp/range2.txt") -eq 8 ]] || { fail "two ranges: expected 8 lines"; cat "$tmp/range2.txt"; }
has "$tmp/range2.txt" range-event '^--- exception 0x06'

# A limit: the guest still runs to its end.
run 43 --trace "$tmp/limit.txt" --trace-limit 5 --accel auto  # auto runs the interpreter
[[ $(lines "$tmp/limit.txt") -eq 5 ]] || { fail "limit: expected 5 lines"; cat "$tmp/limit.txt"; }
run 43 --trace "$tmp/skip.txt" --trace-skip 3 --trace-limit 2
[[ $(lines "$tmp/skip.txt") -eq 2 ]] || { fail "skip: expected 2 lines"; cat "$tmp/skip.txt"; }
has "$tmp/skip.txt" skip-first '^ +3 f000:0004 '

# Errors: one line, exit status 2.
run 2 --trace "$tmp/kvm.txt" --accel kvm
grep -q -- "--trace: only the interpreter" "$tmp/err" || fail "--accel kvm message"
run 2 --trace-limit 5
grep -q -- "need --trace" "$tmp/err" || fail "--trace-limit without --trace"
run 2 --trace "$tmp/no/such/dir/t.txt"
grep -qF -- "$tmp/no/such/dir/t.txt" "$tmp/err" || fail "unwritable trace file not named"
run 2 --trace "$tmp/t.txt" --trace-range 0x2000-0x1000
grep -q -- "--trace-range" "$tmp/err" || fail "empty range"

if [[ $failures -ne 0 ]]; then echo "$failures failure(s)"; exit 1; fi
echo "all --trace checks passed"
