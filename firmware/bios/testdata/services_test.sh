#!/usr/bin/env bash
# The builtin BIOS as a user sees it: boot disks run under
# `x86vm --bios builtin --disk IMG`, their output read from the serial console.
#  - services.img prints what the BIOS services return (INT 10h/11h/12h/13h/
#    15h/16h/1Ah); the output must equal services.expected, and the sector it
#    wrote with INT 13h AH=43h must be in the image file afterwards.
#  - reset.img resets the machine once; the BIOS must POST and boot again.
#  - no disk, and a disk without the 55AAh signature: a clear message and a halt.
set -u
x86vm=$1
services_img=$2
expected=$3
reset_img=$4
failures=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL $*"; failures=$((failures+1)); }

# services.img, padded to 1 MiB (16 heads, 63 sectors, 2 cylinders).
cp "$services_img" "$tmp/disk.img"
chmod u+w "$tmp/disk.img"
truncate -s 1M "$tmp/disk.img"
printf 'hi\n' | timeout 60 "$x86vm" --bios builtin --disk "$tmp/disk.img" --exit-port 0xf4 \
  --memory 64M --clock deterministic >"$tmp/out" 2>"$tmp/err"
status=$?
if [[ $status -ne 33 ]]; then fail "services: exit status $status, expected 33"; cat "$tmp/err"; fi
if ! diff -u "$expected" "$tmp/out"; then fail "services: output differs from services.expected"; fi
if [[ $(dd if="$tmp/disk.img" bs=512 skip=100 count=1 2>/dev/null | head -c 16) != "x86vm-bios-write" ]]; then
  fail "services: the INT 13h write did not reach the image"
fi
[[ $failures -eq 0 ]] && echo "ok   services"

# A reset: POST and boot run again (the banner twice), the second boot exits.
cp "$reset_img" "$tmp/reset.img"
chmod u+w "$tmp/reset.img"
truncate -s 64K "$tmp/reset.img"
timeout 20 "$x86vm" --disk "$tmp/reset.img" --exit-port 0xf4 >"$tmp/out" 2>"$tmp/err" </dev/null
status=$?
if [[ $status -ne 35 ]] || [[ $(grep -c "x86vm BIOS" "$tmp/out") -ne 2 ]] || ! grep -q "after reset" "$tmp/out"; then
  fail "reset: status $status"; cat "$tmp/out" "$tmp/err"
else
  echo "ok   reset"
fi

# The default firmware is the builtin BIOS: without a disk it says so and halts.
timeout 20 "$x86vm" --exit-port 0xf4 >"$tmp/out" 2>"$tmp/err" </dev/null
status=$?
if [[ $status -ne 1 ]] || ! grep -q "x86vm BIOS: no bootable disk" "$tmp/out" ||
   ! grep -q "interrupts disabled" "$tmp/err"; then
  fail "no-disk: status $status"; cat "$tmp/out" "$tmp/err"
else
  echo "ok   no-disk"
fi

# A disk of zeros has no boot signature.
head -c 65536 /dev/zero > "$tmp/zero.img"
timeout 20 "$x86vm" --bios builtin --disk "$tmp/zero.img" >"$tmp/out" 2>"$tmp/err" </dev/null
status=$?
if [[ $status -ne 1 ]] || ! grep -q "is not bootable: its first sector has no 55AAh boot signature" "$tmp/out"; then
  fail "not-bootable: status $status"; cat "$tmp/out" "$tmp/err"
else
  echo "ok   not-bootable"
fi

if [[ $failures -ne 0 ]]; then echo "$failures failure(s)"; exit 1; fi
echo "all builtin BIOS boot checks passed"
