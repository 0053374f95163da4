#!/usr/bin/env bash
# Real software in the interpreter: Debian's linux-image-cloud-amd64 with the
# busybox initramfs (scripts/prepare-guest), booted directly and, when given,
# from a SYSLINUX disk on the builtin BIOS and on SeaBIOS. The shell runs a
# command from stdin, then `poweroff` ends the run through ACPI S5 with
# status 0. Skipped (with a message) when X86VM_GUEST_DIR does not name the
# prepared guest: scripts/test prepares it and passes it in.
set -u
x86vm=$1
make_disk=$2
dir=${X86VM_GUEST_DIR:-}
if [[ -z $dir || ! -f $dir/vmlinuz || ! -f $dir/initramfs.cpio.gz ]]; then
  echo "skip: X86VM_GUEST_DIR does not hold vmlinuz and initramfs.cpio.gz (run scripts/prepare-guest)"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

boot() {  # boot NAME ARGS...: feed a command, expect its output and status 0.
  local name=$1
  shift
  local start=$SECONDS
  # The command is typed after the shell has had time to start; EOF then
  # makes the run loop type Ctrl-D, so the guest powers off either way.
  (sleep 1; printf 'echo LINUX-UP-$((6*7))\npoweroff -f\n') |
    timeout 600 "$x86vm" --accel interp --memory 512M "$@" >"$tmp/$name.out" 2>&1
  local status=$?
  if [[ $status -ne 0 ]] || ! grep -q "Run /init" "$tmp/$name.out" ||
     ! grep -q "reboot: Power down" "$tmp/$name.out"; then
    echo "FAIL $name: status $status"; tail -n 20 "$tmp/$name.out"; failures=$((failures+1)); return
  fi
  echo "ok   $name ($((SECONDS - start)) s)"
}

boot direct --kernel "$dir/vmlinuz" --initrd "$dir/initramfs.cpio.gz" \
  --append "console=ttyS0 panic=-1" --no-reboot
if command -v syslinux >/dev/null && command -v mcopy >/dev/null; then
  "$make_disk" "$tmp/disk.img" "$dir/vmlinuz" "$dir/initramfs.cpio.gz" "console=ttyS0 panic=-1" \
    >/dev/null 2>&1 || { echo "FAIL: could not build the SYSLINUX disk"; exit 1; }
  boot syslinux-builtin --bios builtin --disk "$tmp/disk.img" --no-reboot
fi
if [[ $failures -ne 0 ]]; then exit 1; fi
echo "Linux booted to init and powered off"
