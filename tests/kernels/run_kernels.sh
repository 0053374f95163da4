#!/usr/bin/env bash
# Boots the direct-boot test kernels on QEMU (the reference) or on x86vm and
# checks what each printed on COM1 and its exit status.
# Usage: run_kernels.sh [-v] [--x86vm PATH] [KERNEL ...]
#   -v            print each kernel's serial output
#   --x86vm PATH  boot with this x86vm binary instead of qemu-system-x86_64
#   KERNEL        multiboot_elf.elf, multiboot_aout.bin, pvh_elf32.elf or
#                 pvh_elf64.elf paths (default: assemble all four here with
#                 nasm and ld, as tests/kernels/BUILD does)
# Exit status: 0 if every kernel passed, 1 otherwise, 2 if a tool is missing.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
qemu="${QEMU:-qemu-system-x86_64}"
timeout_s="${TIMEOUT:-60}"
verbose=0
x86vm=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -v) verbose=1; shift ;;
    --x86vm) x86vm="$2"; shift 2 ;;
    *) break ;;
  esac
done

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

if [[ $# -gt 0 ]]; then
  kernels=("$@")
else
  for tool in nasm ld; do
    command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install nasm binutils)" >&2; exit 2; }
  done
  elf() {  # elf SRC OUT NASM_FORMAT LD_EMULATION [NASM_FLAGS]
    nasm -f "$3" ${5:-} -I "$here/" -o "$out/$2.o" "$here/$1" &&
      ld -m "$4" -T "$here/kernel.ld" -z max-page-size=0x1000 --build-id=none -o "$out/$2" "$out/$2.o"
  }
  elf multiboot_elf.asm multiboot_elf.elf elf32 elf_i386 || exit 1
  nasm -f bin -I "$here/" -o "$out/multiboot_aout.bin" "$here/multiboot_aout.asm" || exit 1
  elf pvh.asm pvh_elf32.elf elf32 elf_i386 || exit 1
  elf pvh.asm pvh_elf64.elf elf64 elf_x86_64 -DELF64 || exit 1
  kernels=("$out/multiboot_elf.elf" "$out/multiboot_aout.bin" "$out/pvh_elf32.elf" "$out/pvh_elf64.elf")
fi
if [[ -z $x86vm ]]; then
  command -v "$qemu" >/dev/null || { echo "$qemu is missing (apt-get install qemu-system-x86)" >&2; exit 2; }
fi

printf 'MODULE-A\n' >"$out/a.txt"
printf 'second B\n' >"$out/b.txt"

boot() {  # boot KERNEL INITRD APPEND LOG
  if [[ -n $x86vm ]]; then
    timeout "$timeout_s" "$x86vm" --memory 128M --kernel "$1" --initrd "$2" --append "$3" \
      --exit-port 0xf4 --no-reboot --serial "file:$4" </dev/null >/dev/null 2>"$4.err"
  else
    timeout "$timeout_s" "$qemu" -machine pc -accel tcg -m 128 -kernel "$1" -initrd "$2" \
      -append "$3" -device isa-debug-exit,iobase=0xf4,iosize=4 -serial "file:$4" \
      -display none -no-reboot </dev/null >/dev/null 2>"$4.err"
  fi
}

failed=0
printf '%-22s %-6s %-5s %s\n' KERNEL RESULT EXIT DETAIL
for k in "${kernels[@]}"; do
  name="$(basename "$k")"
  log="$out/$name.log"
  expect=("PASS")
  case "$name" in
    multiboot*)
      boot "$k" "$out/a.txt,$out/b.txt" "hello world x=1" "$log"; rc=$?
      expect+=("magic=2BADB002" "cmdline=$k hello world x=1" "mods_count=2"
               "string=$out/a.txt data=MODULE-A." "string=$out/b.txt data=second B."
               "mem_lower=639 KiB" "mmap base=0000000000000000 length=000000000009FC00 type=1"
               "boot_loader_name=")
      ;;
    pvh*)
      # QEMU passes one module for PVH: -initrd takes a single file there.
      boot "$k" "$out/a.txt" "console=ttyS0 pvh=1" "$log"; rc=$?
      expect+=("magic=336EC578 version=1" "cmdline=console=ttyS0 pvh=1" "nr_modules=1"
               "size=9" "data=MODULE-A." "memmap addr=0000000000000000 size=000000000009FC00 type=1")
      ;;
    *) echo "$name: unknown test kernel" >&2; failed=1; continue ;;
  esac
  detail=""
  for line in "${expect[@]}"; do
    grep -qF -- "$line" "$log" 2>/dev/null || { detail="missing '$line'"; break; }
  done
  if [[ $rc -eq 1 && -z $detail ]]; then
    result=PASS
  else
    result=FAIL; failed=1
    [[ -z $detail ]] && detail="$(grep -a '^FAIL' "$log" 2>/dev/null | head -1) $(head -c 200 "$log.err")"
  fi
  printf '%-22s %-6s %-5s %s\n' "$name" "$result" "$rc" "$detail"
  if [[ $verbose -eq 1 ]]; then sed 's/^/    | /' "$log"; fi
done
exit $failed
