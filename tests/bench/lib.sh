# tests/bench/lib.sh: helpers shared by the benchmark scripts (sourced).

# The repository root.
bench_repo_root() {
  cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd
}

# Builds the release x86vm (--config=release: -c opt, see .bazelrc) and
# copies it to $1. The path comes from the opt configuration's output tree, not bazel-bin, which points at whatever
# configuration the workspace built last.
bench_build_x86vm() {
  local out=$1 root
  root=$(bench_repo_root)
  (cd "$root" && bazel build --config=release //:x86vm >&2) || return 1
  local bin
  bin=$(cd "$root" && bazel info --config=release bazel-bin 2>/dev/null) || return 1
  cp -f "$bin/x86vm" "$out"
  chmod u+w "$out"
}

# Runs a command, appends "wall user+sys init" seconds to the file $1, and
# returns the command's status. Output goes to $2. When $bench_marker is
# set, `init` is the wall time until the first output line containing it
# (read as the command prints; "nan" if it never appears), else "nan".
bench_time() {
  local times=$1 out=$2
  shift 2
  local start end status before after init=nan
  local stamp=$work/marker.stamp
  rm -f "$stamp"
  start=$EPOCHREALTIME
  times >"$bench_child_cpu_file"
  before=$(bench_child_cpu)
  if [[ -n ${bench_marker:-} ]]; then
    "$@" 2>&1 | bench_stamp_marker "$stamp" >"$out"
    status=${PIPESTATUS[0]}
  else
    "$@" >"$out" 2>&1
    status=$?
  fi
  times >"$bench_child_cpu_file"
  after=$(bench_child_cpu)
  end=$EPOCHREALTIME
  [[ -s $stamp ]] && init=$(awk -v s="$start" '{ printf "%.3f\n", $1 - s }' "$stamp")
  awk -v s="$start" -v e="$end" -v b="$before" -v a="$after" -v i="$init" \
    'BEGIN { printf "%.3f %.3f %s\n", e - s, a - b, i }' >>"$times"
  return $status
}

# Copies stdin to stdout line by line and writes the time ($EPOCHREALTIME)
# of the first line containing $bench_marker to the file $1.
bench_stamp_marker() {
  local line seen=0
  while IFS= read -r line || [[ -n $line ]]; do
    printf '%s\n' "$line"
    if [[ $seen -eq 0 && $line == *"$bench_marker"* ]]; then
      echo "$EPOCHREALTIME" >"$1"
      seen=1
    fi
  done
}

# Seconds of user + system CPU used so far by finished children of this
# shell. `times` must run in this shell (not a subshell, which has its own
# children), so bench_time writes it to $bench_child_cpu_file (the sourcing
# script sets it to a file in its scratch folder) for awk to read.
bench_child_cpu() {
  awk 'NR == 2 {
    split($1, u, /m|s/); split($2, s, /m|s/);
    printf "%.3f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$bench_child_cpu_file"
}

# The median of the numbers in column $2 of file $1.
bench_median() {
  awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '
    { v[NR] = $1 }
    END { if (NR == 0) { print "nan"; exit }
          if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The minimum of column $2 of file $1.
bench_min() {
  awk -v c="$2" 'NR == 1 || $c < m { m = $c } END { print (NR ? m : "nan") }' "$1"
}

# bench_boot NAME COMMAND...: $runs timed runs of COMMAND (a guest boot that
# must end with "reboot: Power down"), then its table row (bench_boot_row).
bench_boot() {
  local name=$1
  shift
  local i
  for ((i = 1; i <= runs; i++)); do bench_boot_once "$name" "$i" "$@"; done
  bench_boot_row "$name"
}

# bench_boot_once NAME I COMMAND...: run I of NAME. Uses the sourcing
# script's $work (scratch folder) and $keep (folder for logs, or empty).
bench_boot_once() {
  local name=$1 i=$2
  shift 2
  local times=$work/$name.times out=$work/$name.$i.out
  [[ $i -eq 1 ]] && : >"$times" && : >"$work/$name.failed"
  bench_time "$times.all" "$out" "$@"
  if grep -q "reboot: Power down" "$out"; then
    tail -n 1 "$times.all" >>"$times"
  else
    echo "x" >>"$work/$name.failed"
    echo "$name run $i did not power off; last lines:" >&2
    tail -n 3 "$out" | sed 's/^/    /' >&2
  fi
  [[ -n $keep ]] && cp "$out" "$keep/$name.$i.log"
  return 0
}

# One table row for NAME: wall and CPU medians and minima over the runs that
# powered off, and with $bench_marker set, the median and minimum time to
# the marker. $bench_name_width sets the first column's width.
bench_boot_row() {
  local name=$1
  local width=${bench_name_width:-26}
  local times=$work/$name.times
  local ok failed
  ok=$(wc -l <"$times")
  failed=$(wc -l <"$work/$name.failed")
  if [[ $ok -eq 0 ]]; then
    printf "%-${width}s %8s %8s %8s %8s   (all %d runs failed)\n" "$name" - - - - "$failed"
    return
  fi
  local init=""
  if [[ -n ${bench_marker:-} ]]; then
    init=$(printf ' %8.2f %8.2f' "$(bench_median "$times" 3)" "$(bench_min "$times" 3)")
  fi
  printf "%-${width}s %8.2f %8.2f %8.2f %8.2f%s   (%d runs%s)\n" "$name" \
    "$(bench_median "$times" 1)" "$(bench_min "$times" 1)" \
    "$(bench_median "$times" 2)" "$(bench_min "$times" 2)" "$init" "$ok" \
    "$([[ $failed -gt 0 ]] && echo ", $failed failed")"
}

# The direct-boot guest and the x86vm binary the boot benchmarks share: sets
# $kernel, $initrd and $append from scripts/prepare-guest, and builds x86vm
# into $work unless $x86vm names a binary already.
bench_prepare_boot() {
  local guest
  guest=$("$(bench_repo_root)/scripts/prepare-guest") || { echo "prepare-guest failed" >&2; return 1; }
  kernel=$guest/vmlinuz
  initrd=$guest/initramfs.cpio.gz
  append="console=ttyS0 quiet panic=-1"
  if [[ -z $x86vm ]]; then
    x86vm=$work/x86vm
    echo "building x86vm (bazel build --config=release //:x86vm)..." >&2
    bench_build_x86vm "$x86vm" || { echo "build failed" >&2; return 1; }
  fi
}
