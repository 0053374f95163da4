#!/usr/bin/env bash
# Times the disk-boot workload: Debian's cloud kernel with the busybox
# initramfs from scripts/prepare-guest on a raw disk, booted by firmware and
# a boot loader to the shell, which reads end-of-file (Ctrl-D) and exits;
# /init then powers off. Two disks (tests/boot/make_syslinux_disk.sh and
# make_grub_disk.sh), each booted by x86vm's interpreter on its builtin
# BIOS and on SeaBIOS, by QEMU TCG with its SeaBIOS and by Bochs with its
# BIOS, when installed, several times each in the same sitting; prints
# medians (and minima, which a busy machine disturbs least).
#
# Usage: tests/bench/disk_boot.sh [-n RUNS] [--x86vm PATH] [--no-qemu]
#                                 [--no-bochs] [--disks LIST] [--keep DIR]
#   -n RUNS        runs per engine and disk (default 5)
#   --x86vm PATH   use this binary instead of building //:x86vm with --config=release
#   --no-qemu      skip QEMU
#   --no-bochs     skip Bochs
#   --disks LIST   comma-separated: syslinux,grub (default both)
#   --keep DIR     keep each run's console output in DIR
#   X86VM_CACHE    where the guest lives (scripts/prepare-guest)
#
# A run counts only if the console shows "reboot: Power down"; failed runs
# are reported and left out of the statistics. Bochs does not exit at S5:
# its run ends when that line reaches its COM1 (a socket this script
# serves, which also types the Ctrl-D), and Bochs is then stopped.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"
root=$(bench_repo_root)

runs=5
x86vm=""
use_qemu=1
use_bochs=1
disks="syslinux,grub"
keep=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -n) runs=$2; shift 2 ;;
    --x86vm) x86vm=$2; shift 2 ;;
    --no-qemu) use_qemu=0; shift ;;
    --no-bochs) use_bochs=0; shift ;;
    --disks) disks=$2; shift 2 ;;
    --keep) keep=$2; mkdir -p "$keep"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
bochs_pid=""
cleanup() {
  [[ -n $bochs_pid ]] && kill "$bochs_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
bench_child_cpu_file=$work/cpu_times

bench_prepare_boot || exit 1
qemu=$(command -v qemu-system-x86_64 || true)
[[ $use_qemu -eq 1 && -z $qemu ]] && echo "qemu-system-x86_64 not installed: skipping QEMU" >&2
bochs=$(command -v bochs || true)
bochs_bios=/usr/share/bochs/BIOS-bochs-latest
bochs_vga=/usr/share/bochs/VGABIOS-lgpl-latest
if [[ $use_bochs -eq 1 && ( -z $bochs || ! -f $bochs_bios || ! -f $bochs_vga ) ]]; then
  echo "bochs or bochsbios not installed: skipping Bochs" >&2
  bochs=""
fi
python=$(command -v python3 || true)
[[ $use_bochs -eq 1 && -n $bochs && -z $python ]] && { echo "no python3: skipping Bochs" >&2; bochs=""; }

# The disks, with the same kernel command line as the direct-boot workload.
# Bochs wants a whole number of 16-head, 63-sector cylinders: its copy is
# padded (the partition table does not change).
for disk in ${disks//,/ }; do
  case $disk in
    syslinux|grub) ;;
    *) echo "unknown disk: $disk (syslinux, grub)" >&2; exit 2 ;;
  esac
  echo "building the $disk disk..." >&2
  "$root/tests/boot/make_${disk}_disk.sh" "$work/$disk.img" "$kernel" "$initrd" "$append" \
    2>"$work/$disk.make" || { cat "$work/$disk.make" >&2; exit 1; }
  cp "$work/$disk.img" "$work/$disk.bochs.img"
  cylinder_bytes=$((16 * 63 * 512))
  cylinders=$(( ($(stat -c %s "$work/$disk.img") + cylinder_bytes - 1) / cylinder_bytes ))
  truncate -s $((cylinders * cylinder_bytes)) "$work/$disk.bochs.img"
  echo "$cylinders" >"$work/$disk.bochs.cylinders"
done

# x86vm types Ctrl-D into COM1 every 0.5 s of guest time once its stdin is
# at EOF (machine/run_loop.cc); QEMU gets the same from a writer.
run_x86vm() {  # DISK BIOS
  timeout 300 "$x86vm" --accel interp --memory 512M --bios "$2" --disk "$work/$1.img" \
    --no-reboot </dev/null
}
ctrl_d_every_half_second() {
  while printf '\004' 2>/dev/null; do sleep 0.5; done
}
run_qemu() {  # DISK
  ctrl_d_every_half_second | timeout 300 "$qemu" -accel tcg -m 512 \
    -drive "file=$work/$1.img,format=raw" -nographic -no-reboot
}

# Bochs's COM1 connects to this server, which records the console, types
# Ctrl-D every 0.5 s and exits once the guest has powered off.
cat >"$work/serial_server.py" <<'PY'
import os, select, socket, sys, time
port_file, out_path = sys.argv[1], sys.argv[2]
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(1)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
server.settimeout(60)
conn, _ = server.accept()
tail = b""
deadline = time.monotonic() + 300
with open(out_path, "wb") as out:
    last_ctrl_d = time.monotonic()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([conn], [], [], 0.5)
        if ready:
            data = conn.recv(65536)
            if not data:
                break
            out.write(data)
            out.flush()
            tail = (tail + data)[-256:]
            if b"reboot: Power down" in tail:
                break
        if time.monotonic() - last_ctrl_d >= 0.5:
            try:
                conn.sendall(b"\x04")
            except OSError:
                break
            last_ctrl_d = time.monotonic()
PY
run_bochs() {  # DISK
  local disk=$1 rc=$work/bochsrc port_file=$work/bochs.port console=$work/bochs.console
  rm -f "$port_file" "$console" "$work/$disk.bochs.img.lock"
  "$python" "$work/serial_server.py" "$port_file" "$console" &
  local server=$!
  while [[ ! -s $port_file ]] && kill -0 "$server" 2>/dev/null; do sleep 0.02; done
  cat >"$rc" <<RC
megs: 512
romimage: file=$bochs_bios
vgaromimage: file=$bochs_vga
pci: enabled=1, chipset=i440fx
ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14
ata0-master: type=disk, path=$work/$disk.bochs.img, mode=flat, cylinders=$(cat "$work/$disk.bochs.cylinders"), heads=16, spt=63
boot: disk
com1: enabled=1, mode=socket-client, dev=127.0.0.1:$(cat "$port_file")
display_library: rfb, options="timeout=0"
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
clock: sync=none
cpu: ips=200000000
log: $work/bochs.log
RC
  # Debian's Bochs starts in its debugger: the -rc file continues it.
  echo c >"$work/bochs.debugger"
  timeout 300 "$bochs" -q -f "$rc" -rc "$work/bochs.debugger" </dev/null >"$work/bochs.stdout" 2>&1 &
  bochs_pid=$!
  wait "$server"
  kill "$bochs_pid" 2>/dev/null
  wait "$bochs_pid" 2>/dev/null
  bochs_pid=""
  cat "$console" 2>/dev/null
}

bench_name_width=24
echo "disk boot to the shell and S5: $(basename "$kernel"), $runs runs each; seconds" >&2
printf '%-24s %8s %8s %8s %8s\n' ENGINE WALL_MED WALL_MIN CPU_MED CPU_MIN
for disk in ${disks//,/ }; do
  bench_boot "$disk-x86vm-builtin" run_x86vm "$disk" builtin
  bench_boot "$disk-x86vm-seabios" run_x86vm "$disk" seabios
  [[ $use_qemu -eq 1 && -n $qemu ]] && bench_boot "$disk-qemu-tcg" run_qemu "$disk"
  [[ $use_bochs -eq 1 && -n $bochs ]] && bench_boot "$disk-bochs" run_bochs "$disk"
done
