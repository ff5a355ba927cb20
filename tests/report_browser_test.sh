#!/usr/bin/env bash
# The HTML report in a real headless browser (Debian's chromium, driven by playwright-core):
# the demo fleet's report with a policy backtest and reviews, and a small fleet's without; each
# must render every chart with no console error and show the audit's figures. The pages, their
# screenshots and printed PDFs stay in BUILD_DIR/report-artifacts/.
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
    "$chromium" || status=1
}

: >"$out/default-policy.toml"  # the default autokill policy
"$bin" report --demo --policy "$out/default-policy.toml" --reviews "$src/tests/data/reviews/fixture" \
  --out "$out/demo.html" 2>"$out/demo.log" || { cat "$out/demo.log"; exit 1; }
"$bin" demo --format json >"$out/demo-audit.json" || exit 1
render demo "$out/demo-audit.json"

small="$src/tests/data/audit/small"
"$bin" report --telemetry "$small/telemetry" --inventory "$small/inventory.csv" \
  --jobs "$small/jobs.csv" --out "$out/small.html" 2>"$out/small.log" || { cat "$out/small.log"; exit 1; }
render small "$small/expected.json"
exit $status
