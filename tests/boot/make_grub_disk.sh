#!/usr/bin/env bash
# Builds a raw disk image that boots Linux through GRUB 2 (Debian's
# grub-pc-bin), without mounting anything and without grub-install:
#   - sector 0: GRUB's boot.img (440 bytes of code) and a partition table
#     with one active FAT16 partition at 1 MiB;
#   - sectors 1..: a core image from grub-mkimage -O i386-pc (diskboot.img,
#     the LZMA decompressor, the kernel and the modules biosdisk,
#     part_msdos, fat, linux, normal, serial, terminal, echo) in the gap
#     before the partition, with an embedded early config that sets the
#     root and the serial terminal;
#   - the partition (mkfs.vfat, then mtools): vmlinuz, initrd.img and
#     /boot/grub/grub.cfg with one menu entry booted at once.
# boot.img's kernel-sector field and diskboot's blocklist are written here,
# as grub-bios-setup would (GRUB 2.06, include/grub/i386/pc/boot.h).
#
#   tests/boot/make_grub_disk.sh OUT.img KERNEL INITRD [APPEND]
#
# APPEND defaults to "console=ttyS0". GRUB's output goes to COM1 (x86vm's
# stdout). Needs grub-pc-bin, mtools and dosfstools (scripts/install-deps).
set -euo pipefail

if [[ $# -lt 3 ]]; then
  echo "usage: $0 OUT.img KERNEL INITRD [APPEND]" >&2
  exit 2
fi
out=$1
kernel=$2
initrd=$3
append=${4:-console=ttyS0}

grub_dir=/usr/lib/grub/i386-pc
[[ -f $grub_dir/boot.img && -f $grub_dir/diskboot.img ]] ||
  { echo "$0: $grub_dir/boot.img not found (install grub-pc-bin)" >&2; exit 1; }
for tool in grub-mkimage mkfs.vfat mcopy mmd; do
  command -v "$tool" >/dev/null || { echo "$0: '$tool' not found (scripts/install-deps)" >&2; exit 1; }
done
[[ -r $kernel ]] || { echo "$0: cannot read kernel '$kernel'" >&2; exit 1; }
[[ -r $initrd ]] || { echo "$0: cannot read initrd '$initrd'" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The core image. The early config runs in GRUB's kernel before the normal
# module: it points the root at the partition and moves the terminal to
# COM1, so even a failure to find grub.cfg shows on the console.
cat >"$work/early.cfg" <<'CFG'
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set root=(hd0,msdos1)
set prefix=(hd0,msdos1)/boot/grub
CFG
grub-mkimage -O i386-pc -d "$grub_dir" -o "$work/core.img" -c "$work/early.cfg" \
  -p "(hd0,msdos1)/boot/grub" biosdisk part_msdos fat linux normal serial terminal echo
core_bytes=$(stat -c %s "$work/core.img")
core_sectors=$(( (core_bytes + 511) / 512 ))

# Partition: from sector 2048 (the core image must fit in the gap) to the
# end; the files plus 8 MiB of room, at least 32 MiB (FAT16's minimum).
start_sector=2048
(( core_sectors < start_sector )) ||
  { echo "$0: core image of $core_sectors sectors does not fit before sector $start_sector" >&2; exit 1; }
files_mib=$(( ($(stat -c %s "$kernel") + $(stat -c %s "$initrd")) / 1048576 + 1 ))
part_mib=$(( files_mib + 8 ))
(( part_mib < 32 )) && part_mib=32
part_sectors=$(( part_mib * 2048 ))
total_sectors=$(( start_sector + part_sectors ))
offset_bytes=$(( start_sector * 512 ))

rm -f "$out"
truncate -s $(( total_sectors * 512 )) "$out"

le16() {  # Two little-endian bytes as printf escapes.
  printf '\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255))
}
le32() {  # Four little-endian bytes as printf escapes.
  printf '%s%s' "$(le16 $(($1 & 0xffff)))" "$(le16 $((($1 >> 16) & 0xffff)))"
}
le64() {  # Eight little-endian bytes (values below 2^32 here).
  printf '%s\\x00\\x00\\x00\\x00' "$(le32 "$1")"
}
poke() {  # poke OFFSET ESCAPES: write bytes into the image.
  printf "$2" | dd of="$out" bs=1 seek="$1" conv=notrunc status=none
}

# The MBR: boot.img's code up to the disk signature (the BPB area in it is
# unused on a hard disk), one partition entry (active, type 0Eh FAT16 LBA,
# CHS saturated) and the 55AAh signature.
dd if="$grub_dir/boot.img" of="$out" bs=440 count=1 conv=notrunc status=none
poke 446 "\\x80\\xfe\\xff\\xff\\x0e\\xfe\\xff\\xff$(le32 $start_sector)$(le32 $part_sectors)"
poke 510 '\x55\xaa'
# boot.img reads the core image's first sector (diskboot) from the LBA at
# GRUB_BOOT_MACHINE_KERNEL_SECTOR (0x5C).
poke $((0x5c)) "$(le64 1)"

# The core image from sector 1; diskboot's blocklist (the last 12 bytes of
# its sector: start LBA, sector count, load segment 0820h) names the rest.
dd if="$work/core.img" of="$out" bs=512 seek=1 conv=notrunc status=none
blocklist=$(( 512 + 512 - 12 ))
poke $blocklist "$(le64 2)$(le16 $((core_sectors - 1)))$(le16 0x820)"

mkfs.vfat -F 16 -n X86VM -h "$start_sector" --offset="$start_sector" "$out" \
  $(( part_sectors / 2 )) >/dev/null

cat >"$work/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
set default=0
menuentry "Linux" {
  echo "Loading vmlinuz"
  linux /vmlinuz $append
  echo "Loading initrd.img"
  initrd /initrd.img
}
CFG
export MTOOLS_SKIP_CHECK=1
img="$out@@$offset_bytes"
mmd -i "$img" ::boot ::boot/grub
mcopy -i "$img" "$work/grub.cfg" ::boot/grub/grub.cfg
mcopy -i "$img" "$kernel" ::vmlinuz
mcopy -i "$img" "$initrd" ::initrd.img
echo "$out: GRUB disk, $(( total_sectors / 2048 )) MiB, core image $core_sectors sectors," \
  "kernel $(basename "$kernel")" >&2
