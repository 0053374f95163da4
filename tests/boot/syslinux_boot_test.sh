#!/usr/bin/env bash
# SYSLINUX on the builtin BIOS: a disk made by make_syslinux_disk.sh with a
# stand-in kernel boots to SYSLINUX's banner, loads the kernel and initrd
# ("Loading vmlinuz... ok") and enters the kernel's setup code with the
# command line and initrd size handed over (the stand-in prints them).
# With the Debian kernel, the same disk gets as far as the kernel's setup
# code (see make_syslinux_disk.sh).
set -u
x86vm=$1
make_disk=$2
kernel=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

head -c 3000 /dev/zero > "$tmp/initrd.img"
if ! "$make_disk" "$tmp/disk.img" "$kernel" "$tmp/initrd.img" "console=ttyS0 hello=world" \
     2>"$tmp/make.err"; then
  echo "FAIL make_syslinux_disk.sh:"; cat "$tmp/make.err"; exit 1
fi
timeout 120 "$x86vm" --bios builtin --disk "$tmp/disk.img" --exit-port 0xf4 --memory 128M \
  >"$tmp/out" 2>"$tmp/err" </dev/null
status=$?
failures=0
if [[ $status -ne 85 ]]; then
  echo "FAIL exit status $status, expected 85 (the stand-in kernel's exit)"; failures=$((failures+1))
fi
for want in "SYSLINUX 6." "Loading vmlinuz... ok" "Loading initrd.img...ok" \
            "fake kernel: setup reached, initrd bytes 00000BB8" \
            "cmdline 'BOOT_IMAGE=vmlinuz console=ttyS0 hello=world initrd=initrd.img'"; do
  if ! grep -qF -- "$want" "$tmp/out"; then
    echo "FAIL output lacks '$want'"; failures=$((failures+1))
  fi
done
if [[ $failures -ne 0 ]]; then
  echo "--- output:"; cat "$tmp/out"; echo "--- stderr:"; cat "$tmp/err"; exit 1
fi
cat "$tmp/out"
echo "syslinux boot checks passed"
