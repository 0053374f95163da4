#!/usr/bin/env bash
# MSR accesses KVM cannot complete go to the interpreter (issue 5): msr64
# writes and reads back the SYSCALL/SYSENTER MSRs, KERNEL_GS_BASE and
# TSC_AUX at ring 0 and makes a SYSCALL through them. Under --accel hybrid
# (and with the engines swapped every millisecond) it must print exactly
# what the interpreter prints: no #GP, no value other than the one written.
# Where this host's KVM refuses KVM_GET/SET_MSRS for them (the software KVM
# of our test machines), --stats must show the accesses handed over and the
# interpreter keeping the guest once a write KVM cannot load has happened.
# Strict --accel kvm must end (a #GP the guest reports is allowed there).
# Usage: msr_handover_test.sh X86VM MSR64_IMAGE
set -u
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/common.sh"
ACCEL_X86VM=$1
image=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

accel_run "$tmp/interp" --bios "$image" --accel interp
if [[ $(cat "$tmp/interp.status") -ne 67 ]] || ! grep -q "msr: done" "$tmp/interp.out" ||
   grep -q "#GP" "$tmp/interp.out"; then
  fail "interp: status $(cat "$tmp/interp.status")"; cat "$tmp/interp.out" "$tmp/interp.err"
fi
why=$(accel_kvm_unusable "$ACCEL_X86VM" "$image")
if [[ -n $why ]]; then
  echo "SKIP hybrid modes: KVM is unusable here: $why"
  [[ $failures -eq 0 ]] && echo "all passed"
  exit $((failures != 0))
fi

refused=no
for mode in hybrid swap; do
  args=(--accel hybrid)
  [[ $mode == swap ]] && args+=(--accel-swap-ms 1)
  accel_run "$tmp/$mode" --bios "$image" "${args[@]}" --stats --log kvm=info,accel=debug
  status=$(cat "$tmp/$mode.status")
  if [[ $status -ne 67 ]] || ! cmp -s "$tmp/interp.out" "$tmp/$mode.out"; then
    fail "$mode: status $status, output differs from interp"
    diff "$tmp/interp.out" "$tmp/$mode.out" | head -20
    grep -v "^\[accel\] debug" "$tmp/$mode.err" | head -20
    continue
  fi
  grep -q "KVM refuses KVM_GET/SET_MSRS for .*LSTAR" "$tmp/$mode.err" && refused=yes
  line=$(grep "handovers between engines" "$tmp/$mode.err")
  msr=$(sed -E 's/.*MSR accesses ([0-9]+).*/\1/' <<<"$line")
  if [[ $mode == hybrid && $refused == yes ]]; then
    # The first access (RDMSR LSTAR) and a write after KVM got the guest back.
    if [[ -z $msr || $msr -lt 2 ]] || ! grep -q "RDMSR LSTAR is handed over" "$tmp/$mode.err"; then
      fail "$mode: KVM refuses LSTAR but the accesses were not handed over: $line"
      continue
    fi
    if ! grep -q "the interpreter kept the guest for good: KVM here cannot load .*SYSENTER_CS" \
         "$tmp/$mode.err"; then
      fail "$mode: the MSRs changed under the interpreter but it gave the guest back to KVM"
      grep "x86vm stats" "$tmp/$mode.err"
      continue
    fi
  fi
  echo "ok   msr64 $mode: same output as interp ($line)"
done

accel_run "$tmp/kvm" --bios "$image" --accel kvm
status=$(cat "$tmp/kvm.status")
[[ $status -eq 124 ]] && fail "kvm: timed out"
echo "     strict kvm: status $status, $(grep -c . "$tmp/kvm.out") lines ($(grep -m1 "#GP" "$tmp/kvm.out" || echo "no #GP"))"

if [[ $failures -ne 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"
