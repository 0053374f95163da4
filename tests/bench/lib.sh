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

# Runs a command, appends "wall user+sys" seconds to the file $1, and
# returns the command's status. Output goes to $2.
bench_time() {
  local times=$1 out=$2
  shift 2
  local start end status before after
  start=$(date +%s%N)
  times >"$bench_child_cpu_file"
  before=$(bench_child_cpu)
  "$@" >"$out" 2>&1
  status=$?
  times >"$bench_child_cpu_file"
  after=$(bench_child_cpu)
  end=$(date +%s%N)
  awk -v s="$start" -v e="$end" -v b="$before" -v a="$after" \
    'BEGIN { printf "%.3f %.3f\n", (e - s) / 1e9, a - b }' >>"$times"
  return $status
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
# must end with "reboot: Power down"), then one table row of wall and CPU
# medians and minima over the runs that powered off. Uses the sourcing
# script's $work (scratch folder), $runs and $keep (folder for logs, or
# empty); $bench_name_width sets the first column's width.
bench_boot() {
  local name=$1
  shift
  local width=${bench_name_width:-26}
  local times=$work/$name.times
  : >"$times"
  local i failed=0
  for ((i = 1; i <= runs; i++)); do
    local out=$work/$name.$i.out
    bench_time "$times.all" "$out" "$@"
    if grep -q "reboot: Power down" "$out"; then
      tail -n 1 "$times.all" >>"$times"
    else
      failed=$((failed + 1))
      echo "$name run $i did not power off; last lines:" >&2
      tail -n 3 "$out" | sed 's/^/    /' >&2
    fi
    [[ -n $keep ]] && cp "$out" "$keep/$name.$i.log"
  done
  local ok=$((runs - failed))
  if [[ $ok -eq 0 ]]; then
    printf "%-${width}s %8s %8s %8s %8s   (all %d runs failed)\n" "$name" - - - - "$runs"
    return
  fi
  printf "%-${width}s %8.2f %8.2f %8.2f %8.2f   (%d runs%s)\n" "$name" \
    "$(bench_median "$times" 1)" "$(bench_min "$times" 1)" \
    "$(bench_median "$times" 2)" "$(bench_min "$times" 2)" "$ok" \
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
