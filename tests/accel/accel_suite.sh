#!/usr/bin/env bash
# The same guest programs under every engine, COM1 output compared byte for
# byte with the interpreter's (issue 5):
#   interp   the reference; must end through the exit port.
#   kvm      strict KVM: must match, except on a host whose KVM emulates
#            ring 0 in software (ENVIRONMENT.md), where a program may instead
#            end with the clear report (non-zero status, "KVM cannot continue"
#            or a triple fault) and never hang; sse_ring0's report is checked
#            for the reason, the RIP and the disassembly.
#   auto     must match (the interpreter on such hosts, the hybrid elsewhere).
#   hybrid   --accel hybrid: KVM with the interpreter taking over; must match.
#   swap     --accel hybrid --accel-swap-ms 1: must match.
# Usage: accel_suite.sh X86VM IMAGE... (*.bin: --bios images that exit with
# status 67; *.elf: multiboot/PVH test kernels that exit with status 1).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/common.sh"
ACCEL_X86VM=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

printf 'MODULE-A\n' >"$tmp/a.txt"
first_bin=""
for image in "$@"; do [[ $image == *.bin && -z $first_bin ]] && first_bin=$image; done
why=$(accel_kvm_unusable "$ACCEL_X86VM" "$first_bin")
modes=(interp auto)
kind=none
if [[ -n $why ]]; then
  echo "SKIP kvm, hybrid and swap modes: KVM is unusable here: $why"
else
  kind=$(accel_kvm_kind "$ACCEL_X86VM" "$first_bin")
  echo "KVM on this host: $kind"
  modes+=(kvm hybrid swap)
fi

for image in "$@"; do
  name=$(basename "$image")
  name=${name%.*}
  if [[ $image == *.elf ]]; then
    boot=(--kernel "$image" --initrd "$tmp/a.txt" --append "console=ttyS0 accel-suite")
    want_status=1
  else
    boot=(--bios "$image")
    want_status=67
  fi
  for mode in "${modes[@]}"; do
    case $mode in
      interp) engine=(--accel interp) ;;
      auto) engine=(--accel auto) ;;
      kvm) engine=(--accel kvm) ;;
      hybrid) engine=(--accel hybrid) ;;
      swap) engine=(--accel hybrid --accel-swap-ms 1) ;;
    esac
    prefix="$tmp/$name.$mode"
    accel_run "$prefix" "${boot[@]}" "${engine[@]}"
    status=$(cat "$prefix.status")
    if [[ $mode == interp ]]; then
      if [[ $status -ne $want_status || ! -s $prefix.out ]]; then
        fail "$name interp: status $status (want $want_status)"; cat "$prefix.out" "$prefix.err"
      else
        echo "ok   $name interp ($(wc -c <"$prefix.out") bytes of COM1 output)"
      fi
      continue
    fi
    if [[ $status -eq $want_status ]] && cmp -s "$prefix.out" "$tmp/$name.interp.out"; then
      echo "ok   $name $mode: same output as interp"
      continue
    fi
    # A clear end: the report with status 1, or (a KVM that cannot deliver
    # an event reports a triple fault) --no-reboot's message.
    if [[ $mode == kvm && $kind == software && $status -ne 124 ]] &&
       { [[ $status -ne 0 ]] && grep -q "KVM cannot continue" "$prefix.err" ||
         grep -q "triple fault" "$prefix.err"; }; then
      echo "ok   $name kvm: this host's KVM cannot run it: $(grep -m1 -oE 'KVM cannot continue: [^,]*|triple fault.*' "$prefix.err")"
      continue
    fi
    fail "$name $mode: status $status (want $want_status), output differs from interp"
    diff "$tmp/$name.interp.out" "$prefix.out" | head -20
    head -c 2000 "$prefix.err"
  done
done

# SSE at ring 0 under strict KVM on a host that emulates ring 0: the report
# names the exit, the emulation failure, CS:RIP of the first SSE
# instruction (which the guest printed) and its disassembly.
for image in "$@"; do
  [[ $(basename "$image") == sse_ring0.bin && $kind == software ]] || continue
  prefix="$tmp/sse_ring0.kvm"
  rip=$(grep -oE 'first SSE instruction at [0-9a-f]+' "$prefix.out" | awk '{print $NF}')
  rip=$(printf '%x' "0x${rip:-0}")
  status=$(cat "$prefix.status")
  [[ $status -ne 0 && $status -ne 67 && $status -ne 124 ]] || fail "sse_ring0 kvm: status $status"
  for want in "KVM cannot continue: KVM_EXIT_INTERNAL_ERROR" "emulation failure" \
              "at 0018:0x$rip " "64-bit code, CPL 0" "instruction: pxor xmm1, xmm1" "rax=" "cr4="; do
    grep -qF -- "$want" "$prefix.err" || fail "sse_ring0 kvm report lacks '$want'"
  done
  grep -q "sse: checksum" "$prefix.out" && fail "sse_ring0 kvm: the guest went on after the failure"
  echo "ok   sse_ring0 kvm report: exit, reason, RIP 0x$rip, disassembly"
done

if [[ $failures -ne 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"
