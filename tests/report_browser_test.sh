#!/usr/bin/env bash
# The HTML report in a real headless browser (Debian's chromium, driven by playwright-core):
# the demo fleet's report (with its credits) with a policy backtest and reviews, and a small
# fleet's without; each must render every chart with no console error and show the audit's
# figures. The pages, their screenshots and printed PDFs stay in BUILD_DIR/report-artifacts/.
# Usage: report_browser_test.sh PATH/TO/gpuledger SOURCE_DIR BUILD_DIR
set -uo pipefail
bin=$(realpath "$1")
src=$(realpath "$2")
out="$(realpath "$3")/report-artifacts"
chromium=$(command -v chromium || command -v chromium-browser) ||
  { echo "FAIL: chromium is not installed (scripts/setup.sh --test installs it)"; exit 1; }
[ -d "$src/web/node_modules/playwright-core" ] ||
  { echo "FAIL: web/node_modules/playwright-core is missing (scripts/setup.sh --test)"; exit 1; }
rm -rf "$out" && mkdir -p "$out" || exit 1
status=0

render() {  # render NAME AUDIT_JSON: checks $out/NAME.html against the audit
  node "$src/tests/report_browser_test.mjs" "$out/$1.html" "$2" "$out/$1.png" "$out/$1.pdf" \
    "$chromium" 2>&1 | tee "$out/$1.check.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
}

: >"$out/default-policy.toml"  # the default autokill policy
"$bin" report --demo --policy "$out/default-policy.toml" --reviews "$src/tests/data/reviews/fixture" \
  --out "$out/demo.html" 2>"$out/demo.log" || { cat "$out/demo.log"; exit 1; }
"$bin" demo --format json >"$out/demo-audit.json" || exit 1
render demo "$out/demo-audit.json"

small="$src/tests/data/audit/small"
printf '[budgets]\nvision = 5\n' >"$out/budgets.toml"  # budgets without credits
"$bin" report --telemetry "$small/telemetry" --inventory "$small/inventory.csv" \
  --jobs "$small/jobs.csv" --budgets "$out/budgets.toml" --out "$out/small.html" \
  2>"$out/small.log" || { cat "$out/small.log"; exit 1; }
render small "$small/expected.json"
# --group-by: the cost per pull request, its chart and its table equal to the audit's.
"$bin" report --telemetry "$small/telemetry" --inventory "$small/inventory.csv" \
  --jobs "$small/jobs.csv" --group-by pr --out "$out/groups.html" 2>"$out/groups.log" ||
  { cat "$out/groups.log"; exit 1; }
"$bin" audit --telemetry "$small/telemetry" --inventory "$small/inventory.csv" \
  --jobs "$small/jobs.csv" --group-by pr --format json >"$out/groups-audit.json" || exit 1
render groups "$out/groups-audit.json"

# Hostile names (a machine named like an HTML tag, in the file name, an owner and a team) must
# stay text: every tooltip is opened and no payload may run or become an element.
hostile="$out/hostile"
mkdir -p "$hostile/telemetry"
name='<img src=x onerror=window.__pwned=1>'
cp "$small/telemetry/node-b.csv" "$hostile/telemetry/$name.csv"
cp "$small/telemetry/node-c.csv" "$hostile/telemetry/plain.csv"
printf 'machine,gpu_count,gpu_model,hourly_usd,owner,team,project,start,end\n' >"$hostile/inventory.csv"
printf '"%s",1,L4,0.90,"<img src=x onerror=window.__pwned=2>","<svg onload=window.__pwned=3>",p,2025-03-01T00:00:00Z,2025-03-01T01:00:00Z\n' \
  "$name" >>"$hostile/inventory.csv"
printf 'plain,1,L4,0.90,"<b onmouseover=window.__pwned=4>x</b>",t,p,2025-03-01T00:00:00Z,2025-03-01T01:00:00Z\n' \
  >>"$hostile/inventory.csv"
printf 'date,amount_usd,label\n2025-03-01,0.5,"<img src=x onerror=window.__pwned=5>"\n2025-03-02,10,plain\n' \
  >"$hostile/credits.csv"
"$bin" report --telemetry "$hostile/telemetry" --inventory "$hostile/inventory.csv" \
  --credits "$hostile/credits.csv" --out "$out/hostile.html" 2>"$out/hostile.log" ||
  { cat "$out/hostile.log"; exit 1; }
"$bin" audit --telemetry "$hostile/telemetry" --inventory "$hostile/inventory.csv" \
  --credits "$hostile/credits.csv" --format json >"$out/hostile-audit.json" || exit 1
render hostile "$out/hostile-audit.json"
[ $status -eq 0 ] || { echo "failed checks:"; grep -h "^FAIL" "$out"/*.check.log; }
exit $status
