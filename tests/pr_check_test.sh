#!/usr/bin/env bash
# gpuledger pr-check against a local stand-in for the GitHub API answering with responses
# recorded from the real one (tests/github_replay_server.py; PyGithub/PyGithub#3370, a
# dependabot PR open 72 days and approved twice with no word said). The ledger holds its jobs,
# worked out by hand:
#   j1 names PR 3370 of PyGithub/PyGithub, 2025-09-09: $40, 10 GPU-hours, 4 of them idle (the
#      guard watched it), completed;
#   j2 ran at the PR's commit 3253acaa (no PR named), 2025-10-20T06:01:05Z: $20, 5 GPU-hours,
#      failed, idle unknown;
#   j3 names PR 3370 of another repository, j4 another PR: not its jobs.
# So: $60.00, 15 GPU-hours, 1 failed, idle 40 % (4 of the 10 GPU-hours known), open 42 days
# (from 2025-09-08T06:01:05Z) while firing jobs; 2 human reviews, none substantive. The policy
# asks a substantive review over $50 and at most 30 days: both fail, the status is failure.
# Usage: pr_check_test.sh PATH/TO/gpuledger
set -uo pipefail
bin=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
passed=0
failed=0
source "$here/test_helpers.sh"
data="$here/data/real/github"
/usr/bin/python3 "$here/github_replay_server.py" "$data" "$tmp/other.log" >"$tmp/other.port" &
pids+=($!)
wait_for 10 "[ -s $tmp/other.port ]"
/usr/bin/python3 "$here/github_replay_server.py" "$data" "$tmp/api.log" \
  "http://127.0.0.1:$(cat "$tmp/other.port")" >"$tmp/api.port" &
pids+=($!)
wait_for 10 "[ -s $tmp/api.port ]"
api="http://127.0.0.1:$(cat "$tmp/api.port")"

ledger="$tmp/ledger.db"
"$bin" run --ledger "$ledger" --gpu-source none --job-id schema -- true >/dev/null 2>&1
job() {  # job ID REPO COMMIT PR START STATUS GPU_HOURS COST IDLE_GPU_HOURS|NULL
  sqlite3 "$ledger" "INSERT INTO jobs (job_id, owner, labels, command, host, gpus, start_ms,
    end_ms, status, killed_by, gpu_hours, cost_usd, repo, commit_sha, pr, dirty, output_tail,
    kind, idle_gpu_hours) VALUES ('$1', 'dependabot', '', 'python train.py', 'n1', '0',
    $(date -ud "$5" +%s)000, $(date -ud "$5" +%s)000 + 3600000, '$6', '', $7, $8, '$2', '$3',
    '$4', 0, '', 'run', $9)"
}
job j1 PyGithub/PyGithub "" 3370 "2025-09-09 00:00" completed 10 40 4
job j2 "" 3253acaabd86de12b73d0a24c98eb9c13d1987b5 "" "2025-10-20 06:01:05" failed 5 20 NULL
job j3 other/repo "" 3370 "2025-09-10 00:00" completed 1 100 NULL
job j4 PyGithub/PyGithub "" 12 "2025-09-10 00:00" completed 1 100 NULL
printf '[pr_guardrail]\nrequire_review_over_usd = 50\nmax_open_days_firing_jobs = 30\nmax_usd_without_review = 10\n' \
  >"$tmp/policy.toml"
check_run() {  # check_run NAME WANT_EXIT ARGS…: pr-check's output in $tmp/out, $tmp/err
  local name=$1 want=$2
  shift 2
  GITHUB_TOKEN=test-token-123 "$bin" pr-check --repo PyGithub/PyGithub --pr 3370 --ledger "$ledger" \
    --since 1000d --policy "$tmp/policy.toml" --api-url "$api" "$@" >"$tmp/out" 2>"$tmp/err"
  check "$name (exit $want)" "[ $? -eq $want ]"
}
json() { /usr/bin/python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1"; }

check_run "the first run fails the PR" 1 --format json
cp "$tmp/out" "$tmp/first.json"
check "its bill, worked out by hand" \
  "[ \"\$(json $tmp/first.json \"(d['usd'], d['gpu_hours'], d['jobs'], d['failed'], d['idle_gpu_hours'], round(d['days_firing']))\")\" = '(60, 15, 2, 1, 4, 42)' ]"
check "its review: two approvals, none substantive" \
  "[ \"\$(json $tmp/first.json \"(d['human_reviews'], d['substantive_reviews'])\")\" = '(2, 0)' ]"
check "the two limits it passed" \
  "[ \"\$(json $tmp/first.json \"len(d['reasons'])\")\" = 2 ] && grep -q 'needs a substantive review' $tmp/first.json && grep -q 'open 42 days' $tmp/first.json"
check "the comment: its marker first, the idle share" \
  "[ \"\$(json $tmp/first.json \"d['comment'].startswith('<!-- gpuledger:pr-check -->') and '| Idle | 40 %' in d['comment']\")\" = True ]"
check "it waited out the recorded rate limit" "grep -q 'rate limited, waiting 1 s' $tmp/err"
check "the comment was created" "[ \$(grep -c '\"method\": \"POST\", \"path\": \"/repos/PyGithub/PyGithub/issues/3370/comments\"' $tmp/api.log) = 1 ]"
check "the status: failure, gpuledger/gpu-cost, on the head commit" \
  "grep '/statuses/3253acaabd86de12b73d0a24c98eb9c13d1987b5' $tmp/api.log | grep -qF '\\\"state\\\":\\\"failure\\\",\\\"context\\\":\\\"gpuledger/gpu-cost\\\"'"

check_run "the second run" 1 --format json
check "the second run edits the first comment" \
  "json $tmp/out \"d['outcome']\" | grep -q '^comment updated' && grep -q '\"method\": \"PATCH\", \"path\": \"/repos/PyGithub/PyGithub/issues/comments/900000001\"' $tmp/api.log"
check "never a second comment" "[ \$(grep -c '\"method\": \"POST\", \"path\": \"/repos/PyGithub/PyGithub/issues/3370/comments\"' $tmp/api.log) = 1 ]"
check "comments read over pages (the planted one, 3 recorded, then ours: 5)" "grep -q 'issues/3370/comments?per_page=1&page=5' $tmp/api.log"
check "the planted comment with the marker, not ours, never edited" "! grep -q 'PATCH.*issues/comments/20227753' $tmp/api.log"
check "the token went to the API's own origin, every time" \
  "! grep -q '\"authorization\": null' $tmp/api.log && grep -q '\"authorization\": \"Bearer\"' $tmp/api.log"
check "a next page on another origin was asked without it" \
  "grep -q 'reviews?per_page=1&page=2' $tmp/other.log && ! grep -q Bearer $tmp/other.log"

before=$(grep -cE '"method": "(POST|PATCH)"' "$tmp/api.log")
check_run "--dry-run" 1 --dry-run
check "--dry-run prints the comment and posts nothing" \
  "grep -q '### GPU cost of this pull request: \\\$60.00' $tmp/out && [ \$(grep -cE '\"method\": \"(POST|PATCH)\"' $tmp/api.log) = $before ]"
env -u GITHUB_TOKEN "$bin" pr-check --repo PyGithub/PyGithub --pr 3370 --ledger "$ledger" \
  --api-url "$api" >/dev/null 2>"$tmp/err"
check "no token and no --dry-run: a usage error" "[ $? -eq 2 ] && grep -q GITHUB_TOKEN $tmp/err"
# A GitHub Actions token (ghs_…) may not ask GET /user: a marked comment is ours only when a bot
# wrote it. The comments so far are jacquev6's (ours under the first token) and the planted one:
# neither a bot's, so the first Actions run creates one (by a bot) and the second edits it.
actions_run() {
  GITHUB_TOKEN=ghs_actions "$bin" pr-check --repo PyGithub/PyGithub --pr 3370 --ledger "$ledger" \
    --since 1000d --api-url "$api" >/dev/null 2>"$tmp/err"
}
actions_run
check "an Actions token: a comment of its own is created" \
  "[ \$(grep -c '\"method\": \"POST\", \"path\": \"/repos/PyGithub/PyGithub/issues/3370/comments\"' $tmp/api.log) = 2 ] && grep -q 'only a marked comment by a bot' $tmp/err"
actions_run
check "and edited on its next run" \
  "grep -q '\"method\": \"PATCH\", \"path\": \"/repos/PyGithub/PyGithub/issues/comments/900000002\"' $tmp/api.log && [ \$(grep -c '\"method\": \"POST\", \"path\": \"/repos/PyGithub/PyGithub/issues/3370/comments\"' $tmp/api.log) = 2 ]"
printf '[pr_guardrail]\nmax_open_days_firing_jobs = 60\n' >"$tmp/policy.toml"
check_run "within its limits it passes" 0 --format json
check "and the status says success" "grep '/statuses/' $tmp/api.log | tail -1 | grep -q 'success'"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
