#!/usr/bin/env bash
# gpuledger pr-check --gitlab and reviews fetch --gitlab against a local stand-in for GitLab's API
# v4 answering with responses recorded from a real GitLab (tests/gitlab_replay_server.py;
# gitlab.kitware.com utils/rust-gitlab!35: opened 2016-10-04T19:56:43.276Z by ben.boeckel,
# approved by brad.king, 16 recorded discussions' notes of which 10 are human: 2 by the robot
# account kwrobot, 8 by brad.king, 3 of those DiffNotes; the rest system notes). The ledger
# holds its jobs, worked out by hand:
#   j1 names MR 35 of utils/rust-gitlab, 2016-10-05: $40, 10 GPU-hours, 4 idle, completed;
#   j2 ran at the MR's head 04e94ae6 (the commit listing's second page, on another origin),
#      2016-10-20T19:56:43Z: $20, 5 GPU-hours, failed, idle unknown;
#   j3 names MR 35 of another project, j4 another MR: not its jobs.
# So: $60.00, 15 GPU-hours, 1 failed, idle 40 %, open 16 days while firing jobs; 11 human
# reviews (the approval and the 10 notes), 3 substantive (the DiffNotes). The policy allows 10
# days: the status is failed, for that one reason.
# Usage: pr_check_gitlab_test.sh PATH/TO/gpuledger
set -uo pipefail
bin=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
passed=0
failed=0
source "$here/test_helpers.sh"
data="$here/data/real/gitlab"
start_server() {  # start_server NAME [OTHER_ORIGIN]: its URL in $url
  /usr/bin/python3 "$here/gitlab_replay_server.py" "$data" "$tmp/$1.log" ${2:-} >"$tmp/$1.port" &
  pids+=($!)
  wait_for 10 "[ -s $tmp/$1.port ]"
  url="http://127.0.0.1:$(cat "$tmp/$1.port")"
}
start_server other
start_server api "$url"
gitlab=$url

ledger="$tmp/ledger.db"
"$bin" run --ledger "$ledger" --gpu-source none --job-id schema -- true >/dev/null 2>&1
job() {  # job ID REPO COMMIT PR START STATUS GPU_HOURS COST IDLE_GPU_HOURS|NULL
  sqlite3 "$ledger" "INSERT INTO jobs (job_id, owner, labels, command, host, gpus, start_ms,
    end_ms, status, killed_by, gpu_hours, cost_usd, repo, commit_sha, pr, dirty, output_tail,
    kind, idle_gpu_hours) VALUES ('$1', 'ben.boeckel', '', 'python train.py', 'n1', '0',
    $(date -ud "$5" +%s)000, $(date -ud "$5" +%s)000 + 3600000, '$6', '', $7, $8, '$2', '$3',
    '$4', 0, '', 'run', $9)"
}
job j1 utils/rust-gitlab "" 35 "2016-10-05 00:00" completed 10 40 4
job j2 "" 04e94ae667024a62a90179f395bfdc2b35f3efd2 "" "2016-10-20 19:56:43" failed 5 20 NULL
job j3 other/project "" 35 "2016-10-06 00:00" completed 1 100 NULL
job j4 utils/rust-gitlab "" 12 "2016-10-06 00:00" completed 1 100 NULL
printf '[pr_guardrail]\nrequire_review_over_usd = 50\nmax_open_days_firing_jobs = 10\nmax_usd_without_review = 10\n' \
  >"$tmp/policy.toml"
check_run() {  # check_run NAME WANT_EXIT ARGS…: pr-check's output in $tmp/out, $tmp/err
  local name=$1 want=$2
  shift 2
  GITLAB_TOKEN=glpat-test-123 "$bin" pr-check --gitlab "$gitlab" --repo utils/rust-gitlab --pr 35 \
    --ledger "$ledger" --since 100000d --policy "$tmp/policy.toml" "$@" >"$tmp/out" 2>"$tmp/err"
  check "$name (exit $want)" "[ $? -eq $want ]"
}
json() { /usr/bin/python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1"; }
log_has() { grep -c "\"method\": \"$1\", \"path\": \"$2\"" "$tmp/api.log"; }
mr=/api/v4/projects/utils%2Frust-gitlab/merge_requests/35

check_run "the first run fails the MR" 1 --format json
cp "$tmp/out" "$tmp/first.json"
check "its bill, worked out by hand" \
  "[ \"\$(json $tmp/first.json \"(d['usd'], d['gpu_hours'], d['jobs'], d['failed'], d['idle_gpu_hours'], round(d['days_firing']))\")\" = '(60, 15, 2, 1, 4, 16)' ]"
check "its review: 11 human reviews, the 3 DiffNotes substantive" \
  "[ \"\$(json $tmp/first.json \"(d['human_reviews'], d['substantive_reviews'], d['review'])\")\" = \"(11, 3, '3 substantive reviews')\" ]"
check "the one limit it passed: open 16 days" \
  "[ \"\$(json $tmp/first.json \"d['reasons']\")\" = \"['open 16 days while firing GPU jobs (the limit is 10)']\" ]"
check "it waited out the 429's Retry-After" "grep -q 'rate limited, waiting 1 s' $tmp/err"
check "discussions read over 3 pages" "grep -q 'discussions?per_page=5&page=3' $tmp/api.log"
check "the note was created once" "[ \$(log_has POST $mr/notes) = 1 ]"
check "the status: failed, gpuledger/gpu-cost, on the head commit" \
  "grep '/statuses/04e94ae667024a62a90179f395bfdc2b35f3efd2' $tmp/api.log | grep -qF '\\\"state\\\":\\\"failed\\\",\\\"name\\\":\\\"gpuledger/gpu-cost\\\"'"

check_run "the second run" 1 --format json
check "the second run edits the first note" \
  "json $tmp/out \"d['outcome']\" | grep -q '^note updated' && [ \$(log_has PUT $mr/notes/990000001) = 1 ]"
check "never a second note" "[ \$(log_has POST $mr/notes) = 1 ]"
check "the planted note with the marker, kwrobot's, never edited" "[ \$(log_has PUT $mr/notes/177359) = 0 ]"
check "its own note is no review: still 11 and 3" \
  "[ \"\$(json $tmp/out \"(d['human_reviews'], d['substantive_reviews'])\")\" = '(11, 3)' ]"
check "the token went to the API's own origin, every time" \
  "! grep -q '\"authorization\": null' $tmp/api.log && grep -q '\"authorization\": \"Bearer\"' $tmp/api.log"
check "the commits' next page on another origin was asked without it" \
  "grep -q 'commits?per_page=1&page=2' $tmp/other.log && ! grep -q Bearer $tmp/other.log"

before=$(grep -cE '"method": "(POST|PUT)"' "$tmp/api.log")
check_run "--dry-run" 1 --dry-run
check "--dry-run prints the note and posts nothing" \
  "grep -q '### GPU cost of this merge request: \\\$60.00' $tmp/out && [ \$(grep -cE '\"method\": \"(POST|PUT)\"' $tmp/api.log) = $before ]"
env -u GITLAB_TOKEN GITHUB_TOKEN=x "$bin" pr-check --gitlab "$gitlab" --repo utils/rust-gitlab \
  --pr 35 --ledger "$ledger" >/dev/null 2>"$tmp/err"
check "no GITLAB_TOKEN (a GitHub one does not count): a usage error" \
  "[ $? -eq 2 ] && grep -q GITLAB_TOKEN $tmp/err"
GITLAB_TOKEN=x "$bin" pr-check --gitlab "$gitlab" --repo ../../etc --pr 35 --ledger "$ledger" \
  >/dev/null 2>"$tmp/err"
check "a project path that is no path: a usage error" "[ $? -eq 2 ]"
printf '[pr_guardrail]\nmax_open_days_firing_jobs = 20\n' >"$tmp/policy.toml"
check_run "within its limits it passes" 0 --format json
check "and the status says success" "grep '/statuses/' $tmp/api.log | tail -1 | grep -q success"

# --jobs with --inventory instead of the ledger: n1 bills $8 an hour for its 2 GPUs ($4 a
# GPU-hour). k1 names MR 35 (2 GPUs × 2.5 h: 5 GPU-hours, $20), k2 ran at its head (1 GPU-hour,
# $4, failed) on 2016-10-10, k3 is another project's MR 35. So $24.00, 6 GPU-hours, 1 failed,
# idle unknown, open 5.17 days while firing jobs.
cat >"$tmp/inventory.csv" <<'CSV'
machine,gpu_count,gpu_model,hourly_usd,owner,team,project,start,end
n1,2,A100,8.00,,ml,,2016-10-01T00:00:00Z,2016-11-01T00:00:00Z
CSV
cat >"$tmp/jobs.csv" <<'CSV'
job_id,machine,gpus,owner,start,end,status,exit_code,repo,commit,pr
k1,n1,0;1,ann,2016-10-05T00:00:00Z,2016-10-05T02:30:00Z,completed,0,utils/rust-gitlab,,35
k2,n1,0,ann,2016-10-10T00:00:00Z,2016-10-10T01:00:00Z,failed,1,,04e94ae667024a62a90179f395bfdc2b35f3efd2,
k3,n1,1,ann,2016-10-10T00:00:00Z,2016-10-10T05:00:00Z,completed,0,other/project,,35
CSV
GITLAB_TOKEN=x "$bin" pr-check --gitlab "$gitlab" --repo utils/rust-gitlab --pr 35 --since 100000d \
  --jobs "$tmp/jobs.csv" --inventory "$tmp/inventory.csv" --dry-run --format json >"$tmp/out" 2>"$tmp/err"
check "--jobs priced by --inventory (exit 0)" "[ $? -eq 0 ]"
check "the bill of the jobs CSV, worked out by hand" \
  "[ \"\$(json $tmp/out \"(d['usd'], d['gpu_hours'], d['jobs'], d['failed'], d['idle_gpu_hours'], round(d['days_firing'], 2))\")\" = '(24, 6, 2, 1, None, 5.17)' ]"
GITLAB_TOKEN=x "$bin" pr-check --gitlab "$gitlab" --repo utils/rust-gitlab --pr 35 \
  --jobs "$tmp/jobs.csv" --dry-run >/dev/null 2>"$tmp/err"
check "--jobs without --inventory: a usage error (a CSV carries no prices)" \
  "[ $? -eq 2 ] && grep -q -- --inventory $tmp/err"

# reviews fetch --gitlab: the group's projects, their merge requests, approvals and discussions
# saved as pages; reviews audit reads them as it reads GitHub's.
GITLAB_TOKEN=glpat-test-123 "$bin" reviews fetch --gitlab "$gitlab" --group utils \
  --out "$tmp/reviews" >"$tmp/out" 2>"$tmp/err"
check "reviews fetch --gitlab --group (exit 0)" "[ $? -eq 0 ]"
saved="$tmp/reviews/gitlab/utils%2Frust-gitlab/merge_requests"
check "the layout: the listing, approvals and 3 pages of discussions" \
  "[ -f $saved/page-0001.json ] && [ -f $saved/35/approvals/page-0001.json ] && [ \$(ls $saved/35/discussions/*.json | wc -l) = 3 ]"
GITLAB_TOKEN=glpat-test-123 "$bin" reviews fetch --gitlab "$gitlab" --project utils/rust-gitlab \
  --out "$tmp/reviews" >"$tmp/out2" 2>&1
check "a second fetch resumes: nothing fetched again" "grep -q '0 pages written, 3 listings already saved' $tmp/out2"
"$bin" reviews audit "$tmp/reviews" --ledger "$ledger" --format json >"$tmp/audit.json" 2>"$tmp/err"
check "reviews audit reads GitLab's pages (exit 0)" "[ $? -eq 0 ]"
check "MR 35: merged, substantive (3 of 11), the approval a rubber stamp, j1 and j2 joined" \
  "[ \"\$(json $tmp/audit.json \"[(p['pr'], p['class'], p['human_reviews'], p['substantive_reviews'], p['rubber_stamps'], p['jobs']) for p in d['pull_requests']]\")\" = \"[('utils/rust-gitlab!35', 'substantive', 11, 3, 1, 2)]\" ]"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
