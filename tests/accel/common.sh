# tests/accel/common.sh: helpers shared by the accel suite scripts (sourced).

# Why KVM cannot run guests here, or nothing when it can: /dev/kvm must open
# and `--accel kvm` must create its VM for the guest image $2.
accel_kvm_unusable() {
  local x86vm=$1 image=$2
  [[ -e /dev/kvm ]] || { echo "/dev/kvm does not exist"; return; }
  [[ -r /dev/kvm && -w /dev/kvm ]] || { echo "/dev/kvm is not readable and writable"; return; }
  local err
  err=$(timeout 60 "$x86vm" --accel kvm --bios "$image" --memory 16M --serial none \
        --exit-port 0xf4 --no-reboot </dev/null 2>&1 >/dev/null | grep -F -- "--accel kvm:" | head -1)
  [[ -n $err ]] && echo "$err"
}

# "software" when this host's KVM emulates ring 0 (auto picks the
# interpreter for the guest image $2 and says so), "hardware" otherwise.
accel_kvm_kind() {
  local x86vm=$1 image=$2
  if timeout 60 "$x86vm" --accel auto --bios "$image" --memory 16M --serial none \
       --exit-port 0xf4 --no-reboot --stats </dev/null 2>&1 | grep -q "emulates ring-0"; then
    echo software
  else
    echo hardware
  fi
}

# accel_run OUT_PREFIX X86VM_ARGS...: runs $ACCEL_X86VM with COM1
# on stdout (OUT_PREFIX.out), stderr in OUT_PREFIX.err, the status in
# OUT_PREFIX.status.
accel_run() {
  local prefix=$1
  shift
  timeout "${ACCEL_TIMEOUT:-120}" "$ACCEL_X86VM" --memory 128M --exit-port 0xf4 --no-reboot \
    "$@" </dev/null >"$prefix.out" 2>"$prefix.err"
  echo $? >"$prefix.status"
}
