#!/usr/bin/env bash
# Builds a raw disk image that boots Linux through SYSLINUX on x86vm's
# builtin BIOS, without mounting anything: Debian's SYSLINUX MBR, one active
# FAT16 partition at 1 MiB made with mkfs.vfat, `syslinux --install` on it,
# and the kernel, initrd and syslinux.cfg copied in with mtools.
#
#   tests/boot/make_syslinux_disk.sh OUT.img KERNEL INITRD [APPEND]
#
# APPEND defaults to "console=ttyS0". syslinux.cfg has SERIAL 0 115200, so
# SYSLINUX's own messages ("SYSLINUX 6.04 ...", "Loading vmlinuz... ok")
# reach COM1 (x86vm's stdout) even without the BIOS console mirror.
# Needs syslinux, syslinux-common, mtools and dosfstools (scripts/install-deps).
set -euo pipefail

if [[ $# -lt 3 ]]; then
  echo "usage: $0 OUT.img KERNEL INITRD [APPEND]" >&2
  exit 2
fi
out=$1
kernel=$2
initrd=$3
append=${4:-console=ttyS0}

mbr=""
for candidate in /usr/lib/syslinux/mbr/mbr.bin /usr/lib/SYSLINUX/mbr.bin /usr/share/syslinux/mbr.bin; do
  [[ -f $candidate ]] && { mbr=$candidate; break; }
done
[[ -n $mbr ]] || { echo "$0: SYSLINUX's mbr.bin not found (install syslinux-common)" >&2; exit 1; }
for tool in syslinux mkfs.vfat mcopy; do
  command -v "$tool" >/dev/null || { echo "$0: '$tool' not found (scripts/install-deps)" >&2; exit 1; }
done
[[ -r $kernel ]] || { echo "$0: cannot read kernel '$kernel'" >&2; exit 1; }
[[ -r $initrd ]] || { echo "$0: cannot read initrd '$initrd'" >&2; exit 1; }

# Partition: from sector 2048 to the end; its size covers the files plus
# 8 MiB of room, and at least 32 MiB (FAT16's comfortable minimum).
start_sector=2048
files_mib=$(( ($(stat -c %s "$kernel") + $(stat -c %s "$initrd")) / 1048576 + 1 ))
part_mib=$(( files_mib + 8 ))
(( part_mib < 32 )) && part_mib=32
part_sectors=$(( part_mib * 2048 ))
total_sectors=$(( start_sector + part_sectors ))
offset_bytes=$(( start_sector * 512 ))

rm -f "$out"
truncate -s $(( total_sectors * 512 )) "$out"

# The MBR: SYSLINUX's boot code (440 bytes), then one partition entry,
# active, type 0Eh (FAT16 with LBA), CHS fields saturated (LBA is what
# counts), and the 55AAh signature.
le32() {  # Four little-endian bytes as printf escapes.
  local v=$1
  printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((v & 255)) $(((v >> 8) & 255)) $(((v >> 16) & 255)) $(((v >> 24) & 255))
}
dd if="$mbr" of="$out" bs=440 count=1 conv=notrunc status=none
entry="\\x80\\xfe\\xff\\xff\\x0e\\xfe\\xff\\xff$(le32 $start_sector)$(le32 $part_sectors)"
printf "$entry" | dd of="$out" bs=1 seek=446 conv=notrunc status=none
printf '\x55\xaa' | dd of="$out" bs=1 seek=510 conv=notrunc status=none

mkfs.vfat -F 16 -n X86VM -h "$start_sector" --offset="$start_sector" "$out" \
  $(( part_sectors / 2 )) >/dev/null
syslinux --install --offset "$offset_bytes" "$out"

cfg=$(mktemp)
trap 'rm -f "$cfg"' EXIT
cat > "$cfg" <<CFG
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL vmlinuz
  INITRD initrd.img
  APPEND $append
CFG
export MTOOLS_SKIP_CHECK=1
mcopy -i "$out@@$offset_bytes" "$cfg" ::syslinux.cfg
mcopy -i "$out@@$offset_bytes" "$kernel" ::vmlinuz
mcopy -i "$out@@$offset_bytes" "$initrd" ::initrd.img
echo "$out: SYSLINUX disk, $(( total_sectors / 2048 )) MiB, kernel $(basename "$kernel")" >&2
