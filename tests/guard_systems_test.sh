#!/usr/bin/env bash
# The guard stops workloads through the systems that own them, tested against the real ones
# from Debian's packages on 127.0.0.1:
#   Jupyter: a jupyter-server with a token and two python3-ipykernel kernels, one idle and one
#            busy on the fake NVML: the idle one is shut down through the REST API (gone from
#            /api/kernels, not restarted), the busy one and the server stay. Another user's
#            process that copies the busy kernel's `-f kernel-ID.json` into its argv is that
#            user's process group: killed, and root's kernel is never shut down for it.
#   Slurm:   a one-node Slurm (munged, slurmctld, slurmd, no accounting) with two sbatch jobs,
#            one idle and run as nobody: `scontrol show job` says CANCELLED for it and RUNNING
#            for the other; its owner is Slurm's word (nobody). A process of nobody's outside
#            Slurm with SLURM_JOB_ID=2 (root's job) is killed as itself; job 2 is never cancelled.
# Usage: guard_systems_test.sh PATH/TO/gpuledger PATH/TO/libfake_nvml.so
set -uo pipefail
bin=$(realpath "$1")
fake=$(realpath "$2")
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  [ -n "${SLURM_CONF:-}" ] && scancel --quiet 1 2 2>/dev/null
  for f in ctld.pid d.pid munged.pid; do [ -f "$tmp/$f" ] && kill "$(cat "$tmp/$f")" 2>/dev/null; done
  sleep 0.5
  wait 2>/dev/null
  [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
passed=0
failed=0
source "$(dirname "$0")/test_helpers.sh"  # check, alive, wait_for, free_port
# "${as_nobody[@]}" CMD… &: CMD as an unprivileged user in its own session, as a hostile tenant
# runs it ($! is its pid: a function would put a root subshell in between)
as_nobody=(setsid setpriv --reuid=nobody --regid=nogroup --clear-groups --)
export GPULEDGER_NVML_LIBRARY="$fake"
export FAKE_NVML_STATE="$tmp/nvml.state"
cat >"$tmp/policy.toml" <<'EOF'
setup_grace = "3s"
idle_after = "3s"
warn_before = "1s"
max_gap = "2s"
release_after = "1h"
[interactive]
setup_grace = "3s"
idle_after = "3s"
EOF
# guard NAME CONDITION [FLAG…]: the guard until CONDITION holds (30 s at most), its log in
# $tmp/NAME.log; then SIGTERM.
guard() {
  local name=$1 condition=$2
  shift 2
  "$bin" guard --policy "$tmp/policy.toml" --gpu-source nvml --sample-every 250ms \
    --kill-grace 1s --state-dir "$tmp/state-$name" --socket "$tmp/$name.sock" --no-ledger "$@" \
    2>"$tmp/$name.log" &
  local g=$!
  wait_for 30 "$condition"
  kill -TERM "$g"
  wait "$g"
}

# --- Jupyter ---------------------------------------------------------------------------------------
py=/usr/bin/python3
if $py -c 'import jupyter_server, ipykernel' 2>/dev/null; then
  jport=$(free_port)
  token=test-token-$RANDOM
  mkdir -p "$tmp/nb" "$tmp/runtime"
  echo '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}' >"$tmp/nb/idle.ipynb"
  notebook_sum=$(sha256sum <"$tmp/nb/idle.ipynb")
  JUPYTER_RUNTIME_DIR="$tmp/runtime" HOME="$tmp" $py -m jupyter_server --ServerApp.ip=127.0.0.1 \
    --ServerApp.port="$jport" --ServerApp.port_retries=0 --ServerApp.token="$token" \
    --ServerApp.open_browser=False --ServerApp.root_dir="$tmp/nb" --allow-root \
    >"$tmp/jupyter-server.log" 2>&1 &
  pids+=($!)
  api() { curl -s -H "Authorization: token $token" "$@"; }
  for _ in $(seq 100); do api "127.0.0.1:$jport/api/status" >/dev/null && break; sleep 0.2; done
  session() {  # session NOTEBOOK: its kernel id
    api -X POST "127.0.0.1:$jport/api/sessions" \
      -d "{\"path\":\"$1\",\"type\":\"notebook\",\"name\":\"$1\",\"kernel\":{\"name\":\"python3\"}}" |
      $py -c 'import json,sys; print(json.load(sys.stdin)["kernel"]["id"])'
  }
  idle_k=$(session idle.ipynb)
  busy_k=$(session busy.ipynb)
  kernel_pid() { for _ in $(seq 50); do p=$(pgrep -f "kernel-$1.json"); [ -n "$p" ] && { echo "$p"; return; }; sleep 0.2; done; }
  idle_p=$(kernel_pid "$idle_k")
  busy_p=$(kernel_pid "$busy_k")
  check "two kernels started ($idle_p, $busy_p)" "[ -n '$idle_p' ] && [ -n '$busy_p' ]"
  # Another user copies the busy kernel's `-f …/kernel-ID.json` from `ps` into its own argv and
  # idles a GPU: it is that user's process group, never root's kernel.
  busy_file=$(tr '\0' '\n' </proc/"$busy_p"/cmdline | grep -m1 "kernel-$busy_k.json")
  "${as_nobody[@]}" $py -c 'import time; time.sleep(600)' -m ipykernel_launcher -f "$busy_file" &
  jspoof=$!
  pids+=("$jspoof")
  printf 'gpu 0 util 0 mem 4000\ngpu 1 util 85 mem 9000\ngpu 2 util 0 mem 4000\nproc 0 %s 3000\nproc 1 %s 8000\nproc 2 %s 3000\n' \
    "$idle_p" "$busy_p" "$jspoof" >"$FAKE_NVML_STATE"
  # Its outcome line (reported on a tick after the server answered), not the "asking …" line.
  guard jupyter "grep -q 'shut down kernel $idle_k of idle.ipynb through' $tmp/jupyter.log && \
    ! alive $jspoof && \
    ! api 127.0.0.1:$jport/api/kernels | grep -q '$idle_k'"
  kernels=$(api "127.0.0.1:$jport/api/kernels")
  check "the idle kernel is gone from /api/kernels" "! echo '$kernels' | grep -q '$idle_k'"
  check "the busy kernel is still there" "echo '$kernels' | grep -q '$busy_k'"
  check "the server restarted no kernel (one left)" \
    "[ \$(echo '$kernels' | grep -o '\"id\"' | wc -l) -eq 1 ]"
  check "the server is up" "api -o /dev/null -w '%{http_code}' 127.0.0.1:$jport/api/status | grep -q 200"
  check "the notebook file is untouched by the guard" \
    "[ -f $tmp/nb/idle.ipynb ] && [ \"\$(sha256sum <$tmp/nb/idle.ipynb)\" = '$notebook_sum' ]"
  check "another user's process naming root's kernel file is that user's process group: killed" \
    "! alive $jspoof && grep -q \"kill: pg:$jspoof (.* of nobody on GPU 2\" $tmp/jupyter.log"
  check "… and root's busy kernel was never shut down for it" \
    "! grep -q \"shut down kernel $busy_k\" $tmp/jupyter.log"
  check "the warning names the notebook and how to keep it" \
    "grep -q \"warn: jupyter:$idle_k (notebook idle.ipynb of .*gpuledger keep jupyter:$idle_k 2h\" $tmp/jupyter.log"
  check "the kill went through the server" \
    "grep -q \"shut down kernel $idle_k of idle.ipynb through the Jupyter server at http://127.0.0.1:$jport/\" $tmp/jupyter.log"
  check "the token never reaches the log" "! grep -q '$token' $tmp/jupyter.log"
else
  failed=$((failed + 1))
  echo "FAIL: Debian's jupyter-server and python3-ipykernel are not installed (scripts/setup.sh --test)"
fi

# --- Slurm -------------------------------------------------------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
  if [ "${CI:-}" = true ]; then
    failed=$((failed + 1))
    echo "FAIL: not root under CI=true: the Slurm case needs slurmd as root"
  else
    echo "note: not root: the Slurm case needs slurmd as root; skipped"
  fi
elif command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
  host=$(hostname -s)
  mkdir -p "$tmp/slurm-state" "$tmp/slurm-spool"
  cp /etc/munge/munge.key "$tmp/munge.key" 2>/dev/null ||
    head -c 1024 /dev/urandom >"$tmp/munge.key"
  chmod 600 "$tmp/munge.key"
  cat >"$tmp/slurm.conf" <<EOF
ClusterName=gpuledger-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$tmp/munge.sock
CredType=cred/munge
StateSaveLocation=$tmp/slurm-state
SlurmdSpoolDir=$tmp/slurm-spool
SlurmctldPidFile=$tmp/ctld.pid
SlurmdPidFile=$tmp/d.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
KillWait=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
  export SLURM_CONF="$tmp/slurm.conf"
  munged --key-file="$tmp/munge.key" --socket="$tmp/munge.sock" --pid-file="$tmp/munged.pid" \
    --log-file="$tmp/munged.log" --seed-file="$tmp/munge.seed" --force
  slurmctld
  slurmd
  for _ in $(seq 50); do sinfo -h -o %t 2>/dev/null | grep -q idle && break; sleep 0.2; done
  # The idle job is another user's: Slurm, not the process, says whose it is.
  sbatch -Q -o /dev/null --uid=nobody --gid=nogroup -D /tmp --wrap "exec sleep 301"
  sbatch -Q -o /dev/null --wrap "exec sleep 302"
  state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z]*' | cut -d= -f2; }
  for _ in $(seq 100); do [ "$(state 1)$(state 2)" = RUNNINGRUNNING ] && break; sleep 0.2; done
  check "two Slurm jobs run ($(state 1), $(state 2))" "[ '$(state 1)$(state 2)' = RUNNINGRUNNING ]"
  idle_p=$(pgrep -x -f "sleep 301")
  busy_p=$(pgrep -x -f "sleep 302")
  # A process outside Slurm whose environment names root's busy job 2 idles a GPU: scontrol
  # says it is in no job, so it is its owner's process group; job 2 is never cancelled.
  "${as_nobody[@]}" env SLURM_JOB_ID=2 SLURM_JOB_USER=root sleep 303 &
  sspoof=$!
  pids+=("$sspoof")
  printf 'gpu 0 util 0 mem 4000\ngpu 1 util 85 mem 9000\ngpu 2 util 0 mem 4000\nproc 0 %s 3000\nproc 1 %s 8000\nproc 2 %s 3000\n' \
    "$idle_p" "$busy_p" "$sspoof" >"$FAKE_NVML_STATE"
  guard slurm "[ \"\$(state 1)\" = CANCELLED ] && ! alive $sspoof && [ -s $tmp/hpc/1 ] && [ -e $tmp/hpc/0 ] && [ ! -s $tmp/hpc/0 ]" \
    --hpc-job-mapping-dir "$tmp/hpc"
  check "the idle Slurm job ends CANCELLED (it is $(state 1))" "[ '$(state 1)' = CANCELLED ]"
  check "the busy Slurm job is RUNNING (it is $(state 2))" "[ '$(state 2)' = RUNNING ]"
  check "the guard named the Slurm job and ran scancel" \
    "grep -q 'kill: slurm:1 (Slurm job 1 (wrap) of nobody' $tmp/slurm.log && grep -q 'ran: scancel 1' $tmp/slurm.log"
  check "SLURM_JOB_ID=2 in another user's environment: that user's process group is killed" \
    "! alive $sspoof && grep -q \"kill: pg:$sspoof (sleep 303 of nobody on GPU 2\" $tmp/slurm.log"
  check "… and scancel never ran for job 2" "! grep -q 'scancel 2' $tmp/slurm.log"
  check "dcgm-exporter's job mapping: GPU 1 runs job 2, GPU 0 nothing now" \
    "[ \"\$(cat $tmp/hpc/1)\" = 2 ] && [ -e $tmp/hpc/0 ] && [ ! -s $tmp/hpc/0 ]"
else
  failed=$((failed + 1))
  echo "FAIL: Debian's slurmctld, slurmd and munge are not installed (scripts/setup.sh --test)"
fi

echo "guard systems: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
