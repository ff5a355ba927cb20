# The guard's smoke test, shared by the package and image tests; source it after test_helpers.sh.
#   guard_smoke WHAT LOG_DIR POLICY STATE_DIR SOCKET RUNNER...
# runs `RUNNER guard --policy POLICY --gpu-source nvml --dry-run …` in the background over the
# fake NVML that $GPULEDGER_NVML_LIBRARY names (two GPUs, one idle), checks that it samples
# (its /metrics counts three samples or more) and that SIGTERM stops it with status 0. POLICY,
# STATE_DIR and SOCKET are paths as RUNNER's process sees them (inside a chroot, its own).
guard_smoke() {
  local what=$1 logs=$2 policy=$3 state=$4 socket=$5
  shift 5
  FAKE_NVML_UTIL="0,80" "$@" guard --policy "$policy" --gpu-source nvml --dry-run \
    --sample-every 200ms --state-dir "$state" --socket "$socket" \
    --metrics-listen 127.0.0.1:0 >"$logs/guard.out" 2>"$logs/guard.log" &
  guard_pid=$!
  wait_for 20 "grep -q '/metrics on port' $logs/guard.log"
  local port
  port=$(sed -n 's/.*\/metrics on port \([0-9]*\).*/\1/p' "$logs/guard.log" | head -1)
  # shellcheck disable=SC2317  # called through eval
  samples() { curl -s -m 2 "127.0.0.1:${port:-1}/metrics" | awk '/^gpuledger_samples_total / {print $2}'; }
  wait_for 20 "[ \"\$(samples)\" -ge 3 ] 2>/dev/null"
  check "$what samples its GPUs" "[ \"\$(samples)\" -ge 3 ] 2>/dev/null" || cat "$logs/guard.log"
  kill -TERM "$guard_pid"
  wait "$guard_pid"
  local status=$?
  guard_pid=""
  check "$what stops on SIGTERM with status 0" "[ $status -eq 0 ]"
}
