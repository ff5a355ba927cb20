#!/usr/bin/env bash
# The Grafana dashboard (deploy/grafana/gpuledger.json): its shape (every panel on
# ${DS_PROMETHEUS}, the cluster/node/team variables, the promised panels); every panel's query,
# extracted into a rules file, passes `promtool check rules`; and every query answers with data
# from a real Prometheus that scrapes a real guard (fake NVML, --dry-run: one idle workload it
# would kill, one busy workload kept) and a DCGM exporter's scrape (real label sets, served over
# HTTP), with deploy/prometheus/gpuledger-rules.yml loaded. Some panels' figures are checked
# against values worked out by hand from that scrape and that guard.
# Usage: grafana_dashboard_test.sh PATH/TO/gpuledger PATH/TO/libfake_nvml.so SOURCE_DIR
set -uo pipefail
set -m
bin=$(realpath "$1")
fake=$(realpath "$2")
src=$(realpath "$3")
dashboard="$src/deploy/grafana/gpuledger.json"
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT
passed=0
failed=0
source "$(dirname "$0")/test_helpers.sh"  # check, wait_for, free_port
for tool in prometheus promtool curl; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/setup.sh --test installs it)"; exit 1; }
done
queries() { /usr/bin/python3 "$src/tests/grafana_queries.py" "$dashboard" "$@"; }

# --- The dashboard's shape, and its queries as PromQL promtool accepts ------------------------
check "the dashboard's shape" "queries check"
queries rules >"$tmp/dashboard-rules.yml"
check "every panel's query passes promtool check rules" \
  "promtool check rules $tmp/dashboard-rules.yml >$tmp/check.txt 2>&1 || { cat $tmp/check.txt; false; }"

# --- A DCGM exporter's scrape: node gpu-node-1, four GPUs, label sets as a real exporter's ------
# GPU 0: team-a's pod, 0 %, 20,000 MiB (held idle); GPU 1: team-a's, 90 %; GPU 2: team-b's,
# 3 %, 500 MiB (idle, not held); GPU 3: no pod, 0 % (unallocated).
mkdir -p "$tmp/dcgm"
dcgm_series() {  # GPU UTIL FB_USED [NAMESPACE POD]
  local labels="gpu=\"$1\",UUID=\"GPU-0000000$1-7953-256e-8f33-1343419b1a1c\",device=\"nvidia$1\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"gpu-node-1\",DCGM_FI_DRIVER_VERSION=\"580.95.05\""
  [ $# -gt 3 ] && labels="$labels,container=\"main\",namespace=\"$4\",pod=\"$5\""
  echo "DCGM_FI_DEV_GPU_UTIL{$labels} $2"
  echo "DCGM_FI_DEV_FB_USED{$labels} $3"
}
{
  dcgm_series 0 0 20000 team-a train-7f9c
  dcgm_series 1 90 30000 team-a train-7f9c
  dcgm_series 2 3 500 team-b notebook-0
  dcgm_series 3 0 0
} >"$tmp/dcgm/metrics"
dport=$(free_port)
/usr/bin/python3 -m http.server "$dport" --bind 127.0.0.1 --directory "$tmp/dcgm" \
  >"$tmp/http.log" 2>&1 &
pids+=($!)

# --- A guard in --dry-run: GPU 0 idle (its workload would be killed), GPU 1 busy (kept) ---------
sleep 600 &
idle=$!
sleep 600 &
busy=$!
pids+=("$idle" "$busy")
printf 'gpu 0 util 0 mem 2048\ngpu 1 util 80 mem 4000\nproc 0 %s 2000\nproc 1 %s 3000\n' \
  "$idle" "$busy" >"$tmp/nvml.state"
printf 'setup_grace = "2s"\nidle_after = "2s"\nwarn_before = "1s"\nmax_keep = "8h"\n' \
  >"$tmp/policy.toml"
GPULEDGER_NVML_LIBRARY="$fake" FAKE_NVML_STATE="$tmp/nvml.state" "$bin" guard \
  --policy "$tmp/policy.toml" --gpu-source nvml --dry-run --sample-every 250ms --no-ledger \
  --state-dir "$tmp/state" --socket "$tmp/guard.sock" --metrics-listen 127.0.0.1:0 \
  >"$tmp/guard.out" 2>"$tmp/guard.log" &
pids+=($!)
wait_for 20 "grep -q '/metrics on port' $tmp/guard.log"
mport=$(sed -n 's/.*\/metrics on port \([0-9]*\).*/\1/p' "$tmp/guard.log" | head -1)
guard_metric() { curl -s -m 2 "127.0.0.1:${mport:-1}/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
wait_for 30 "[ \"\$(guard_metric gpuledger_kills_total)\" = 1 ]"
check "the guard would have killed the idle workload" "[ \"\$(guard_metric gpuledger_kills_total)\" = 1 ]"
"$bin" keep "pg:$busy" 2h --reason "dashboard test" --socket "$tmp/guard.sock" >"$tmp/keep.out" 2>&1
check "the busy workload is kept" "grep -q 'kept' $tmp/keep.out || { cat $tmp/keep.out; false; }"

# --- Prometheus: scrapes both every second, evaluates the shipped rules every second ----------
sed 's/interval: 1m/interval: 1s/' "$src/deploy/prometheus/gpuledger-rules.yml" >"$tmp/rules.yml"
cat >"$tmp/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [rules.yml]
scrape_configs:
  - job_name: gpuledger-guard
    static_configs:
      - targets: ["127.0.0.1:$mport"]
        labels: {node: gpu-node-1, cluster: test}
  - job_name: dcgm
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:$dport"]
        labels: {cluster: test}
EOF
pport=$(free_port)
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prom" \
  --web.listen-address="127.0.0.1:$pport" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
# result EXPR: the query's answer now, one "labels value" line per series, sorted ("error: …"
# when Prometheus refuses it).
result() {
  curl -s -m 5 "127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" | /usr/bin/python3 -c '
import json, sys
try:
    a = json.load(sys.stdin)
except ValueError:
    sys.exit("error: no answer")
if a.get("status") != "success":
    sys.exit("error: " + a.get("error", "?"))
rows = [",".join(f"{k}={v}" for k, v in sorted(s["metric"].items())) + " " + s["value"][1]
        for s in a["data"]["result"]]
print("\n".join(sorted(rows)))'
}
# Every query answers with data once the rules have run over a few scrapes.
wait_for 60 "[ -n \"\$(result 'namespace:dcgm_idle_gpu_hours:avg1h' 2>/dev/null)\" ] && [ -n \"\$(result 'increase(gpuledger_kills_total[1h])' 2>/dev/null)\" ]"
while IFS= read -r line; do
  expr=$(/usr/bin/python3 -c 'import json, sys; print(json.loads(sys.argv[1])["expr"])' "$line")
  panel=$(/usr/bin/python3 -c 'import json, sys; q = json.loads(sys.argv[1]); print(q["panel"], "/", q["legend"] or "table")' "$line")
  wait_for 20 "[ -n \"\$(result '$expr' 2>/dev/null)\" ]"
  check "'$panel' has data" "[ -n \"\$(result '$expr' 2>&1)\" ]" || echo "  query: $expr"
done < <(queries exprs)

# --- Figures worked out by hand ---------------------------------------------------------------
panel_expr() {  # panel_expr TITLE [N]: the Nth (default first) query of the panel TITLE
  queries exprs | /usr/bin/python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if json.loads(l)["panel"] == sys.argv[1]]
print(rows[int(sys.argv[2])]["expr"])' "$1" "${2:-0}"
}
value() { result "$(panel_expr "$@")" | awk '{print $NF}' | paste -sd' '; }
check "fleet idle share: GPUs 0, 2 and 3 of 4 ($(value 'Fleet idle share'))" "[ \"\$(value 'Fleet idle share')\" = 0.75 ]"
check "held idle: GPU 0 only ($(value 'Held-idle GPUs'))" "[ \"\$(value 'Held-idle GPUs')\" = 1 ]"
check "no pod holds GPU 3 ($(value 'GPUs no pod holds'))" "[ \"\$(value 'GPUs no pod holds')\" = 1 ]"
check "spend rate: team-a 2 GPUs, team-b 1, at 2.5 USD ($(value 'Spend rate by team'))" \
  "[ \"\$(result \"\$(panel_expr 'Spend rate by team')\")\" = \"\$(printf 'namespace=team-a 5\nnamespace=team-b 2.5')\" ]"
check "one guard up of one ($(value 'Guards up') / $(value 'Guards up' 1))" \
  "[ \"\$(value 'Guards up')\" = 1 ] && [ \"\$(value 'Guards up' 1)\" = 1 ]"
check "the kept workload is listed" "result \"\$(panel_expr 'Kept now')\" | grep -q 'workload=pg:$busy'"
check "the guard's version is listed" \
  "result \"\$(panel_expr 'Guard versions')\" | grep -q \"version=\$($bin --version | cut -d' ' -f2)\""

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
