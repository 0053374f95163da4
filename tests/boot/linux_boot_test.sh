#!/usr/bin/env bash
# Real software in the interpreter: Debian's linux-image-cloud-amd64 with the
# busybox initramfs (scripts/prepare-guest), booted directly, and from a
# SYSLINUX disk and a GRUB 2 disk on the builtin BIOS and on SeaBIOS. The
# shell runs a command from stdin, then `poweroff` ends the run through ACPI
# S5 with status 0. A direct boot with the kernel's ATA modules (kept beside
# the guest, not in it) checks that Linux's ata_piix finds --disk, reads a
# sector from it and writes one the host then sees. Skipped (with a message)
# when X86VM_GUEST_DIR does not name the prepared guest: scripts/test
# prepares it and passes it in.
set -u
x86vm=$1
make_syslinux_disk=$2
make_grub_disk=$3
# Which boots: direct, syslinux, grub, ata-piix, or all (one Bazel target
# each, so the boots can run in parallel).
only=${4:-all}
wanted() { [[ $only == all || $only == "$1" ]]; }
case $only in all|direct|syslinux|grub|ata-piix) ;; *) echo "unknown boot case: $only"; exit 2 ;; esac
dir=${X86VM_GUEST_DIR:-}
if [[ -z $dir || ! -f $dir/vmlinuz || ! -f $dir/initramfs.cpio.gz ]]; then
  echo "skip: X86VM_GUEST_DIR does not hold vmlinuz and initramfs.cpio.gz (run scripts/prepare-guest)"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# boot NAME [--expect TEXT]... ARGS...: feed a command, expect status 0, the
# kernel reaching init and powering off, and each TEXT in the output.
boot() {
  local name=$1
  shift
  local expect=("Run /init" "reboot: Power down")
  while [[ ${1:-} == --expect ]]; do expect+=("$2"); shift 2; done
  local start=$SECONDS
  # The command is typed after the shell has had time to start; EOF then
  # makes the run loop type Ctrl-D, so the guest powers off either way.
  (sleep 1; printf 'echo LINUX-UP-$((6*7))\npoweroff -f\n') |
    timeout 600 "$x86vm" --accel interp --memory 512M "$@" >"$tmp/$name.out" 2>&1
  local status=$?
  local missing=()
  for want in "${expect[@]}"; do
    grep -qF -- "$want" "$tmp/$name.out" || missing+=("'$want'")
  done
  if [[ $status -ne 0 || ${#missing[@]} -ne 0 ]]; then
    echo "FAIL $name: status $status, output lacks: ${missing[*]:-nothing}"
    tail -n 20 "$tmp/$name.out"; failures=$((failures+1)); return 1
  fi
  echo "ok   $name ($((SECONDS - start)) s)"
}

if wanted direct; then
  boot direct --kernel "$dir/vmlinuz" --initrd "$dir/initramfs.cpio.gz" \
    --append "console=ttyS0 panic=-1" --no-reboot
fi
append="console=ttyS0 panic=-1"
for loader in syslinux grub; do
  wanted "$loader" || continue
  # The loaders' own messages show they, not a fallback, booted the kernel.
  make_disk=$make_syslinux_disk
  banner="SYSLINUX 6."
  if [[ $loader == grub ]]; then
    make_disk=$make_grub_disk
    banner="Booting \`Linux'"
  fi
  if ! "$make_disk" "$tmp/$loader.img" "$dir/vmlinuz" "$dir/initramfs.cpio.gz" "$append" \
       >"$tmp/$loader.make" 2>&1; then
    echo "FAIL: could not build the $loader disk (scripts/install-deps installs the tools):"
    cat "$tmp/$loader.make"; failures=$((failures+1)); continue
  fi
  for bios in builtin seabios; do
    boot "$loader-$bios" --expect "$banner" --expect "Loading initrd.img" \
      --expect "Command line: BOOT_IMAGE=" \
      --bios "$bios" --disk "$tmp/$loader.img" --no-reboot
  done
done

# ata_piix on --disk: the guest's initramfs plus a second archive (Linux
# unpacks concatenated archives in order, so its /init wins) holding the
# modules and an /init that loads them, reads sector 5 of /dev/sda and
# writes sector 6.
modules=$dir/ata-modules
if ! wanted ata-piix; then
  :
elif [[ -f $modules/ata_piix.ko ]] && command -v cpio >/dev/null; then
  mkdir -p "$tmp/ata/lib/modules"
  cp "$modules"/*.ko "$tmp/ata/lib/modules/"
  cat >"$tmp/ata/init" <<'INIT'
#!/bin/sh
busybox mount -t proc proc /proc
busybox mount -t sysfs sysfs /sys
busybox mount -t devtmpfs devtmpfs /dev
for m in scsi_common scsi_mod libata ata_piix sd_mod; do
  busybox insmod /lib/modules/$m.ko || echo "ATA-TEST: insmod $m failed"
done
i=0
while [ ! -b /dev/sda ] && [ $i -lt 100 ]; do busybox sleep 0.1; i=$((i+1)); done
echo "ATA-TEST: read '$(busybox dd if=/dev/sda bs=512 skip=5 count=1 2>/dev/null | busybox head -c 19)'"
echo "X86VM-WRITTEN-BY-LINUX" | busybox dd of=/dev/sda bs=512 seek=6 conv=sync,fsync 2>/dev/null
echo "ATA-TEST: wrote sector 6"
busybox poweroff -f
INIT
  chmod +x "$tmp/ata/init"
  (cd "$tmp/ata" && find . | cpio -o -H newc --quiet | gzip) >"$tmp/ata.cpio.gz"
  cat "$dir/initramfs.cpio.gz" "$tmp/ata.cpio.gz" >"$tmp/ata-initrd.gz"
  truncate -s 1M "$tmp/ata-disk.img"
  printf 'X86VM-DISK-MARKER-5' | dd of="$tmp/ata-disk.img" bs=512 seek=5 conv=notrunc status=none
  if boot ata-piix --expect "ata1.00: ATA-" --expect "sd 0:0:0:0: [sda] 2048 512-byte logical blocks" \
       --expect "ATA-TEST: read 'X86VM-DISK-MARKER-5'" --expect "ATA-TEST: wrote sector 6" \
       --kernel "$dir/vmlinuz" --initrd "$tmp/ata-initrd.gz" --append "$append" \
       --disk "$tmp/ata-disk.img" --no-reboot; then
    written=$(dd if="$tmp/ata-disk.img" bs=512 skip=6 count=1 status=none | head -c 22)
    if [[ $written != X86VM-WRITTEN-BY-LINUX ]]; then
      echo "FAIL ata-piix: sector 6 on the host holds '$written'"; failures=$((failures+1))
    fi
  fi
else
  echo "skip ata-piix: $modules/ata_piix.ko missing (scripts/prepare-guest keeps the modules)"
fi
if [[ $failures -ne 0 ]]; then exit 1; fi
echo "Linux booted to init and powered off"
