#!/usr/bin/env bash
# GRUB 2 on both BIOSes: a disk made by make_grub_disk.sh with a stand-in
# kernel boots through boot.img, the core image in the MBR gap and
# grub.cfg on the FAT partition; GRUB loads the kernel and initrd through
# INT 13h and enters the kernel's 32-bit entry with the command line and
# initrd size handed over in boot_params (the stand-in prints them on COM1
# and exits through port 0xF4).
set -u
x86vm=$1
make_disk=$2
kernel=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

head -c 3000 /dev/zero > "$tmp/initrd.img"
if ! "$make_disk" "$tmp/disk.img" "$kernel" "$tmp/initrd.img" "console=ttyS0 hello=world" \
     2>"$tmp/make.err"; then
  echo "FAIL make_grub_disk.sh:"; cat "$tmp/make.err"; exit 1
fi
failures=0
for bios in builtin seabios; do
  timeout 120 "$x86vm" --accel interp --bios "$bios" --disk "$tmp/disk.img" --exit-port 0xf4 \
    --memory 128M >"$tmp/$bios.out" 2>"$tmp/$bios.err" </dev/null
  status=$?
  bad=0
  if [[ $status -ne 85 ]]; then
    echo "FAIL $bios: exit status $status, expected 85 (the stand-in kernel's exit)"; bad=1
  fi
  for want in "GRUB loading." "Booting \`Linux'" "Loading vmlinuz" "Loading initrd.img" \
              "fake kernel: 32-bit entry reached, initrd bytes 00000BB8" \
              "cmdline 'BOOT_IMAGE=/vmlinuz console=ttyS0 hello=world'"; do
    if ! grep -qF -- "$want" "$tmp/$bios.out"; then
      echo "FAIL $bios: output lacks '$want'"; bad=1
    fi
  done
  if grep -q "error:" "$tmp/$bios.out"; then
    echo "FAIL $bios: GRUB reported an error"; bad=1
  fi
  if [[ $bad -ne 0 ]]; then
    echo "--- output:"; cat "$tmp/$bios.out"; echo "--- stderr:"; cat "$tmp/$bios.err"
    failures=$((failures+1))
  else
    echo "ok   $bios"
  fi
done
if [[ $failures -ne 0 ]]; then exit 1; fi
echo "grub boot checks passed"
