#!/usr/bin/env bash
# The guard as a hostile tenant sees it (issue 21, docs/guard.md "Threat model"): the real guard
# against the fake NVML, with processes that lie about who they are, peers that stall, a ledger
# that is down. Each check failed before the guard stopped trusting what users write.
#   A  identity: GPULEDGER_* and SLURM_JOB_ID in a process's own environment, a pod whose
#      environment names kube-system/coredns (named only by the kubelet's pod log directory)
#   B  a guard outside the host PID namespace signals nothing
#   C  stalls: a dripping keep client, 100 half-sent requests, an unread `list`, 21 Jupyter
#      runtime files pointing at a server that never answers, a webhook that never answers, a
#      gopher:// server URL, forged log lines, oversized keep requests: the idle workload is
#      killed on time (measured from the guard's own ledger) and SIGTERM exits promptly with
#      every decision written
#   D  nothing lost: decisions made while the ledger is down are written by the next guard
#      (the outbox journal); a restart resumes a running workload's row and closes the row of
#      one that died meanwhile
#   E  an 800 MB body to /metrics is refused unread; the ledger's password (--ledger-file) is on
#      no command line and in no log line
# Needs root (cgroups, setpriv, unshare). Usage: guard_threat_test.sh PATH/TO/gpuledger PATH/TO/libfake_nvml.so
set -uo pipefail
set -m
bin=$(realpath "$1")
fake=$(realpath "$2")
tmp=$(mktemp -d)
chmod 755 "$tmp"
py=/usr/bin/python3
pids=()
cgroups=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  for c in "${cgroups[@]}"; do rmdir "$c" 2>/dev/null; done
  [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
passed=0
failed=0
source "$(dirname "$0")/test_helpers.sh"  # check, alive, wait_for, free_port
if [ "$(id -u)" -ne 0 ]; then
  echo "FAIL: guard_threat_test.sh needs root (cgroups, setpriv, unshare)"
  exit 1
fi
export GPULEDGER_NVML_LIBRARY="$fake"
export FAKE_NVML_STATE="$tmp/nvml.state"
cat >"$tmp/policy.toml" <<EOF
threshold = 5
setup_grace = "3s"
idle_after = "3s"
warn_before = "1s"
release_after = "1h"
max_gap = "2s"
k8s_action = "sh -c 'echo {namespace}/{pod}/{pod_uid} >> $tmp/k8s-actions'"
[interactive]
setup_grace = "3s"
idle_after = "3s"
EOF
start_guard() {  # start_guard NAME [FLAG…]: the guard in the background; its log $tmp/NAME.log
  local name=$1
  shift
  "$bin" guard --policy "$tmp/policy.toml" --gpu-source nvml --sample-every 250ms \
    --kill-grace 1s --state-dir "$tmp/state-$name" "$@" 2>"$tmp/$name.log" &
  guard_pid=$!
}
stop_guard() {  # stop_guard: SIGTERM; $stop_s the seconds it took to exit
  local t0=$SECONDS
  kill -TERM "$guard_pid" 2>/dev/null
  wait "$guard_pid"
  stop_s=$((SECONDS - t0))
}
spawn() {  # spawn [ENV=V…]: a sleeping process in its own process group (set -m); its pid in $spawned
  env "$@" sleep 600 &
  spawned=$!
  pids+=("$spawned")
}
gpu_lines() {  # gpu_lines PID…: one idle GPU per pid, each holding memory
  local i=0
  for p in "$@"; do printf 'gpu %d util 0 mem 2048\nproc %d %s 2000\n' "$i" "$i" "$p"; i=$((i + 1)); done
}

# --- A: identity from the kernel and the owning system -------------------------------------------
cg=""
for root in /sys/fs/cgroup/pids /sys/fs/cgroup; do
  [ -w "$root/cgroup.procs" ] && { cg=$root; break; }
done
uid_a=3b5d1e4a-1f2e-4c1d-9a7b-0e6f5d4c3b2a
uid_b=9c8d7e6f-5a4b-4c3d-8e2f-1a0b9c8d7e6f
mkdir -p "$tmp/pod-logs/team-a_trainer-0_$uid_b"  # the kubelet's (root's) entry for pod b only
spawn GPULEDGER_JOB_ID=x GPULEDGER_OWNER=someone-else; runvars=$spawned
spawn SLURM_JOB_ID=notanumber; slurmvar=$spawned
spawn POD_NAMESPACE=kube-system POD_NAME=coredns-5d78c9869d-abcde; pod_a=$spawned
spawn POD_NAMESPACE=kube-system POD_NAME=coredns-5d78c9869d-fghij; pod_b=$spawned
if [ -n "$cg" ]; then
  for u in "$uid_a:$pod_a" "$uid_b:$pod_b"; do
    d="$cg/kubepods/pod${u%%:*}"
    mkdir -p "$d" && cgroups=("$d" "${cgroups[@]}") && echo "${u##*:}" >"$d/cgroup.procs"
  done
  cgroups+=("$cg/kubepods")
else
  echo "FAIL: no writable cgroup hierarchy to build a pod's cgroup in"
  failed=$((failed + 1))
fi
gpu_lines "$runvars" "$slurmvar" "$pod_a" "$pod_b" >"$FAKE_NVML_STATE"
start_guard a --no-socket --ledger "$tmp/a.db" --pod-logs-dir "$tmp/pod-logs"
wait_for 12 "! alive $runvars && ! alive $slurmvar && [ -s $tmp/k8s-actions ]"
check "GPULEDGER_JOB_ID outside a live gpuledger run is judged: killed" "! alive $runvars"
check "GPULEDGER_OWNER outside a run bills nobody: the owner is the uid's user" \
  "[ \"\$(sqlite3 $tmp/a.db \"select owner from jobs where job_id like '%:pg:$runvars:%'\")\" = '$(id -un)' ]"
check "SLURM_JOB_ID=notanumber outside Slurm is a process group: killed, no scancel" \
  "! alive $slurmvar && ! grep -q 'scancel' $tmp/a.log"
check "a pod the kubelet does not name is warned about, never stopped" \
  "alive $pod_a && grep -q 'warn_only: k8s:$uid_a.*not stopped: the kubelet.s pod log directory does not name this pod' $tmp/a.log"
check "k8s_action names the pod as the kubelet does, not as its environment says" \
  "[ \"\$(cat $tmp/k8s-actions 2>/dev/null)\" = 'team-a/trainer-0/$uid_b' ]"
check "kube-system/coredns never reached k8s_action" "! grep -q kube-system $tmp/k8s-actions"
stop_guard

# --- B: outside the host PID namespace nothing is signalled --------------------------------------
rm -f "$tmp/ns-sleep"
# Inside a new PID namespace the guard is pid 1; a sleep in its own group gets a small pid there,
# and the fake NVML names that number as if it were a host pid.
printf 'gpu 0 util 0 mem 2048\nproc 0 2 2000\n' >"$FAKE_NVML_STATE"
unshare -fp --kill-child=SIGTERM --mount-proc sh -c "setsid sleep 600 & echo \$! > $tmp/ns-sleep; exec '$bin' guard \
  --policy '$tmp/policy.toml' --gpu-source nvml --sample-every 250ms --kill-grace 1s \
  --state-dir '$tmp/state-b' --no-socket --no-ledger" 2>"$tmp/b.log" &
ns_guard=$!
pids+=("$ns_guard")
wait_for 5 "[ -s $tmp/ns-sleep ]"
ns_sleep_host=""  # the sleep's host pid: the one whose NSpid ends in 2
for p in $(pgrep -x sleep); do
  grep -Eq '^NSpid:\s+[0-9]+\s+2$' "/proc/$p/status" 2>/dev/null && ns_sleep_host=$p
done
check "the sleep in the guard's namespace is found (host pid $ns_sleep_host)" "[ -n '$ns_sleep_host' ]"
wait_for 10 "grep -q 'kill: pg:' $tmp/b.log"
check "outside the host PID namespace the guard says it signals nothing" \
  "grep -q \"no process will be signalled: the guard is not in the host's PID namespace\" $tmp/b.log"
check "… and the kill it decides signals nothing" "grep -q 'not signalled: the guard is not in' $tmp/b.log"
check "the process with that pid number in its namespace lives" "alive ${ns_sleep_host:-0}"
kill -TERM "$(pgrep -P "$ns_guard")" 2>/dev/null  # the guard; unshare ignores SIGTERM
wait "$ns_guard" 2>/dev/null

# --- C: nothing a user does delays enforcement -----------------------------------------------------
# A server that accepts connections and never answers (HTTP and a gopher listener that records).
$py - "$tmp" <<'EOF' &
import socket, sys, threading, time
tmp = sys.argv[1]
def hole(name, record):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(200)
    open(f"{tmp}/{name}.port", "w").write(str(s.getsockname()[1]))
    held = []
    while True:
        c, _ = s.accept(); held.append(c)
        if record: open(f"{tmp}/{name}.hits", "a").write("hit\n")
threading.Thread(target=hole, args=("blackhole", False), daemon=True).start()
threading.Thread(target=hole, args=("gopher", True), daemon=True).start()
time.sleep(600)
EOF
pids+=($!)
wait_for 5 "[ -s $tmp/blackhole.port ] && [ -s $tmp/gopher.port ]"
hole=$(cat "$tmp/blackhole.port")
gopher=$(cat "$tmp/gopher.port")
# 21 fake kernels whose runtime files (the test shell, their ancestor, as the "server") point at
# the black hole, and one whose server URL is gopher://.
mkdir -p "$tmp/rt" "$tmp/rt2"
kernels=()
for i in $(seq 1 21); do
  id=$(printf '00000000-0000-4000-8000-%012d' "$i")
  echo '{}' >"$tmp/rt/kernel-$id.json"
  printf '{"url": "http://127.0.0.1:%s/", "token": "t", "pid": %s}\n' "$hole" "$$" >"$tmp/rt/jpserver-$((100000 + i)).json"
  $py -c 'import time; time.sleep(600)' ipykernel_launcher -f "$tmp/rt/kernel-$id.json" &
  kernels+=($!)
  pids+=($!)
done
gid=11111111-2222-4333-8444-555555555555
echo '{}' >"$tmp/rt2/kernel-$gid.json"
bash -c "$py -c 'import time; time.sleep(600)' ipykernel_launcher -f $tmp/rt2/kernel-$gid.json; :" &
gparent=$!
pids+=($gparent)
wait_for 5 "pgrep -P $gparent >/dev/null"
gkernel=$(pgrep -P "$gparent")
pids+=("$gkernel")  # an orphan would hold ctest's output pipe open
printf '{"url": "gopher://127.0.0.1:%s/", "token": "t", "pid": %s}\n' "$gopher" "$gparent" >"$tmp/rt2/jpserver-$gparent.json"
spawn; victim=$spawned
spawn; kept=$spawned
{
  gpu_lines "$victim" "$kept"
  i=2
  for k in "${kernels[@]}" "$gkernel"; do printf 'gpu %d util 90 mem 100\nproc %d %s 50\n' "$i" "$i" "$k"; i=$((i + 1)); done
} >"$FAKE_NVML_STATE"
start_guard c --socket "$tmp/c.sock" --ledger "$tmp/c.db" --webhook "http://127.0.0.1:$hole/hook"
wait_for 5 "[ -S $tmp/c.sock ]"
# Peers that never finish: a dripping client, 100 half-sent requests, a list nobody reads, and
# keep requests far over the size cap.
# The peers are an unprivileged user, as a hostile tenant is (root is never limited).
setpriv --reuid=nobody --regid=nogroup --clear-groups -- $py - "$tmp/c.sock" <<'EOF' &
import socket, sys, time
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(path); return s
half = []
for _ in range(100):
    try:
        c = conn(); c.send(b'{"op":"keep","workload":'); half.append(c)
    except OSError:
        pass
unread = conn(); unread.send(b'{"op":"list"}\n')
big = b'{"op":"keep","workload":"pg:1","duration_ms":1000,"reason":"' + b"r" * 60000 + b'"}\n'
for _ in range(2000):
    try:
        c = conn(); c.sendall(big); c.close()
    except OSError:
        pass
drip = conn()
for _ in range(150):
    try:
        drip.send(b" ")
    except OSError:
        drip = conn()
    time.sleep(0.1)
EOF
dos=$!
pids+=($dos)
"$bin" keep "pg:$kept" 1h --socket "$tmp/c.sock" \
  --reason "$(printf 'x\ngpuledger guard: kill: pg:1 forged')" >"$tmp/keep.out" 2>&1
check "a keep with a newline in its reason is granted ($(head -c 200 "$tmp/keep.out"))" \
  "grep -q 'kept until' $tmp/keep.out"
wait_for 15 "! alive $victim"
check "the idle workload is killed while peers stall" "! alive $victim"
check "the kept one lives" "alive $kept"
victim_rows="select count(*) from decisions where kind='kill' and job_id like '%:pg:$victim:%'"
wait_for 5 "[ \"\$(sqlite3 $tmp/c.db \"$victim_rows\" 2>/dev/null)\" = 1 ]"  # the outbox's thread writes it
start_ms=$(sqlite3 "$tmp/c.db" "select start_ms from jobs where job_id like '%:pg:$victim:%'")
kill_ms=$(sqlite3 "$tmp/c.db" "select min(at_ms) from decisions where kind='kill' and job_id like '%:pg:$victim:%'")
delay=$(( ${kill_ms:-999999999} - ${start_ms:-0} - 3000 ))
echo "measured: the kill came ${delay} ms after its due time (by the guard's ledger)"
check "the kill came within 1.5 s of its due time by the guard's own ledger (${delay} ms late)" \
  "[ -n '$start_ms' ] && [ -n '$kill_ms' ] && [ $delay -ge 0 ] && [ $delay -le 1500 ]"
check "every decision reached the ledger though the webhook hung (warn + kill of the victim)" \
  "[ \"\$(sqlite3 $tmp/c.db \"select count(*) from decisions where job_id like '%:pg:$victim:%' and kind in ('warn','kill')\")\" -ge 2 ]"
check "no forged log line" "! grep -qx 'gpuledger guard: kill: pg:1 forged' $tmp/c.log"
check "the reason is in the log, escaped" "grep -qF 'x\\ngpuledger guard: kill: pg:1 forged' $tmp/c.log"
check "2,000 oversized keep requests left the log small ($(wc -c <"$tmp/c.log") bytes)" \
  "[ \$(wc -c <$tmp/c.log) -lt 200000 ]"
wait_for 20 "grep -q 'not http(s) on a loopback address' $tmp/c.log"
check "the guard refused the gopher:// server URL and said why" \
  "grep -q 'jupyter:$gid: .*not http(s) on a loopback address' $tmp/c.log"
check "the gopher:// server was never contacted" "[ ! -e $tmp/gopher.hits ]"

stop_guard
echo "measured: SIGTERM with a webhook that never answers: exit after $stop_s s"
check "SIGTERM with a webhook that never answers exits within 8 s (took $stop_s s)" "[ $stop_s -le 8 ]"

# --- D: nothing lost ---------------------------------------------------------------------------------
echo "not a folder" >"$tmp/blocked"
spawn; lost_idle=$spawned
spawn; resumed=$spawned
spawn; dies=$spawned
{
  printf 'gpu 0 util 0 mem 2048\nproc 0 %s 2000\n' "$lost_idle"
  printf 'gpu 1 util 90 mem 2048\nproc 1 %s 2000\n' "$resumed"
  printf 'gpu 2 util 90 mem 2048\nproc 2 %s 2000\n' "$dies"
} >"$FAKE_NVML_STATE"
start_guard d --no-socket --ledger "$tmp/blocked/ledger.db"
wait_for 10 "! alive $lost_idle"
check "with the ledger down the idle workload is still killed" "! alive $lost_idle"
stop_guard
check "the writes it could not make are in its outbox journal" "[ -s $tmp/state-d/outbox.jsonl ]"
kill -9 "$dies"
rm "$tmp/blocked"
"$bin" guard --policy "$tmp/policy.toml" --gpu-source nvml --sample-every 250ms --no-socket \
  --state-dir "$tmp/state-d" --ledger "$tmp/blocked/ledger.db" 2>"$tmp/d2.log" &
guard_pid=$!
wait_for 10 "[ \"\$(sqlite3 $tmp/blocked/ledger.db \"select count(*) from decisions where kind='kill' and job_id like '%:pg:$lost_idle:%'\" 2>/dev/null)\" = 1 ]"
stop_guard
db="$tmp/blocked/ledger.db"
check "the next guard wrote the kill made while the ledger was down" \
  "[ \"\$(sqlite3 $db \"select count(*) from decisions where kind='kill' and job_id like '%:pg:$lost_idle:%'\")\" = 1 ]"
check "a workload running across the restart keeps one ledger row" \
  "[ \"\$(sqlite3 $db \"select count(*) from jobs where job_id like '%:pg:$resumed:%'\")\" = 1 ]"
check "the row of one that died while the guard was down is closed" \
  "[ \"\$(sqlite3 $db \"select status from jobs where job_id like '%:pg:$dies:%'\")\" = ended ]"
check "the journal is empty once everything is written" "[ ! -s $tmp/state-d/outbox.jsonl ]"

# --- E: /metrics cannot be made to buffer, and no password is on a command line or in a log -------
printf 'gpu 0 util 90 mem 2048\n' >"$FAKE_NVML_STATE"
echo "postgresql://alice:s3cret-pw-$RANDOM@127.0.0.1:1/ledger" >"$tmp/ledger-url"
chmod 600 "$tmp/ledger-url"
password=$(sed 's/.*alice:\([^@]*\)@.*/\1/' "$tmp/ledger-url")
start_guard e --no-socket --ledger-file "$tmp/ledger-url" --metrics-listen 127.0.0.1:0
wait_for 10 "grep -q '/metrics on port' $tmp/e.log"
mport=$(sed -n 's/.*\/metrics on port \([0-9]*\).*/\1/p' "$tmp/e.log" | head -1)
wait_for 10 "curl -sf 127.0.0.1:${mport:-1}/metrics | grep -q '^gpuledger_'"
rss_kb() { awk '/^VmHWM/ {print $2}' "/proc/$guard_pid/status"; }
before_kb=$(rss_kb)
# 800 MB streamed as the body of one request (curl -T reads stdin as it sends).
head -c 800000000 /dev/zero | curl -s -m 30 -o /dev/null -X POST -T - "127.0.0.1:$mport/metrics"
after_kb=$(rss_kb)
echo "measured: an 800 MB request body raised the guard's peak RSS by $(( (after_kb - before_kb) / 1024 )) MiB"
check "an 800 MB request body leaves the guard's peak RSS within 32 MiB of before ($before_kb → $after_kb kB)" \
  "[ $((after_kb - before_kb)) -lt 32768 ]"
check "/metrics still answers after it" "curl -sf -m 5 127.0.0.1:$mport/metrics | grep -q '^gpuledger_'"
wait_for 10 "grep -q 'ledger: postgresql://' $tmp/e.log"
check "the ledger's password is not on the guard's command line" \
  "! tr '\\0' ' ' </proc/$guard_pid/cmdline | grep -qF '$password'"
check "the ledger's URL reaches the log with its password hidden" \
  "grep -q 'ledger: postgresql://alice:\*\*\*@127.0.0.1:1/ledger' $tmp/e.log && ! grep -qF '$password' $tmp/e.log"
stop_guard

echo "guard threats: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
