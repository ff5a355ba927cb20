// gpuledger pr-check: a pull request's (or a GitLab merge request's) GPU bill in the pull
// request — one comment, edited in place on later runs, and a commit status gpuledger/gpu-cost
// set by the policy's [pr_guardrail] (reviews/pr_check.h; reviews/github_pr.h, gitlab_mr.h).
#include <fmt/format.h>

#include <cstdlib>
#include <memory>

#include "cli/commands.h"
#include "core/json_writer.h"
#include "policy/policy.h"
#include "reviews/github_pr.h"
#include "reviews/gitlab_json.h"
#include "reviews/gitlab_mr.h"
#include "reviews/pr_check.h"
#include "reviews/review_fetch.h"

namespace gpuledger::cli {
namespace {

struct PrCheckFlags {
  std::string repo, ledger = Ledger::DefaultPath(), policy, since = "365d";
  std::string jobs, inventory;  // a jobs CSV instead of the ledger, priced by the inventory
  int64_t pr = 0;
  ForgeApiOptions api;
  std::string gitlab;  // the GitLab instance: the forge is GitLab
  std::string max_wait = "15m";
  bool dry_run = false;
  std::string format = "md";
};

void PrintJson(const FetchedPr& f, const PrBill& b, const PrReviewState& review, const PrVerdict& v,
               const std::string& comment, const std::string& outcome) {
  JsonWriter w;
  w.BeginObject().Key("repo").String(f.pr.repo).Key("pr").Int(f.pr.number);
  w.Key("head_sha").String(f.pr.head_sha).Key("usd").Number(b.usd, kUsdDecimals);
  w.Key("gpu_hours").Number(b.gpu_hours, 4).Key("jobs").Int(static_cast<int64_t>(b.jobs.size()));
  w.Key("failed").Int(b.failed).Key("days_firing").Number(b.days_firing, 2);
  w.Key("idle_gpu_hours");
  b.idle_gpu_hours ? w.Number(*b.idle_gpu_hours, 4) : w.Null();
  w.Key("review").String(review.summary).Key("human_reviews").Int(review.human_reviews);
  w.Key("substantive_reviews").Int(review.substantive);
  w.Key("status").String(v.pass ? "success" : "failure").Key("reasons").BeginArray();
  for (const std::string& r : v.reasons) w.String(r);
  w.EndArray().Key("comment").String(comment).Key("outcome").String(outcome).EndObject();
  fmt::print("{}\n", w.str());
}

// --gitlab URL: the API under URL (its /api/v4 added unless given), GitLab's token variable.
const char* ChooseForge(PrCheckFlags& f) {
  if (f.gitlab.empty()) return "GITHUB_TOKEN";
  f.api.forge = "GitLab";
  f.api.api_url = GitLabApiUrl(f.gitlab);
  f.api.accept = "application/json";
  return "GITLAB_TOKEN";
}

// Posts the comment (a note on GitLab) and the status; what was done, for the log.
Result<std::string> Post(PrCheckFlags& f, ForgeApi& api, const FetchedPr& fetched,
                         const PrBill& bill, const PrVerdict& verdict, const std::string& comment) {
  const bool gitlab = !f.gitlab.empty();
  auto token_user = api.TokenUser();
  if (!token_user) return std::unexpected(token_user.error());
  if (!*token_user) {
    fmt::print(stderr,
               "pr-check: the token may not ask who it is (GET /user): only a marked comment by "
               "a bot account is taken for ours\n");
  }
  auto posted =
      gitlab ? UpsertMarkedNote(api, f.repo, f.pr, kPrCommentMarker, comment, *token_user)
             : UpsertMarkedComment(api, f.repo, f.pr, kPrCommentMarker, comment, *token_user);
  if (!posted) return std::unexpected(posted.error());
  const std::string description = PrStatusDescription(bill, verdict);
  const std::string& sha = fetched.pr.head_sha;
  auto status =
      gitlab ? SetGitLabCommitStatus(api, f.repo, sha, verdict.pass, kPrStatusContext, description)
             : SetCommitStatus(api, f.repo, sha, verdict.pass, kPrStatusContext, description);
  if (!status) return std::unexpected(status.error());
  return fmt::format("{} {}; status {} on {}", gitlab ? "note" : "comment", *posted,
                     verdict.pass ? "success" : (gitlab ? "failed" : "failure"), sha.substr(0, 12));
}

// The jobs started since "since": the ledger's, or the jobs CSV's priced by the inventory.
Result<std::vector<LedgerJob>> JobsOf(const PrCheckFlags& f, TimeMs now, TimeMs since) {
  if (f.jobs.empty()) {
    auto ledger = Ledger::OpenExisting(f.ledger);
    if (!ledger) return std::unexpected(ledger.error());
    return (*ledger)->Jobs(since);
  }
  if (f.inventory.empty()) {
    return MakeError(ErrorCode::kUsage,
                     "a jobs CSV carries no prices: give --inventory with --jobs (or use --ledger)",
                     f.jobs);
  }
  SourceStats jobs_stats, inventory_stats;
  auto fleet = LoadJobsFleet(f.jobs, "", f.inventory, &jobs_stats, &inventory_stats);
  if (!fleet) return std::unexpected(fleet.error());
  if (jobs_stats.RowsRejected() > 0) {
    return MakeError(ErrorCode::kParse,
                     fmt::format("{} jobs rows rejected (first: {})", jobs_stats.RowsRejected(),
                                 jobs_stats.rejected.entries().begin()->second.Where()),
                     f.jobs);
  }
  std::vector<LedgerJob> jobs = PricedJobs(**fleet, now);
  std::erase_if(jobs, [&](const LedgerJob& j) { return j.start < since; });
  return jobs;
}

int RunPrCheck(PrCheckFlags& f) {
  constexpr std::string_view kName = "pr-check";
  const bool gitlab = !f.gitlab.empty();
  const bool repo_ok = gitlab ? IsValidGitLabProjectPath(f.repo) : IsValidRepoName(f.repo);
  if (!repo_ok || f.pr <= 0) {
    return ReportError(kName, Error{ErrorCode::kUsage,
                                    gitlab ? "give --repo GROUP/PROJECT (the project's full "
                                             "path) and --pr IID"
                                           : "give --repo OWNER/NAME and --pr N",
                                    f.repo});
  }
  auto policy = LoadPolicy(f.policy);
  if (!policy) return ReportError(kName, policy.error());
  auto since = ParseDuration(f.since);
  auto wait = ParseDuration(f.max_wait);
  if (!since || !wait)
    return ReportError(
        kName, Error{ErrorCode::kUsage, "not a duration", !since ? "--since" : "--max-wait"});
  f.api.max_rate_wait_ms = *wait;
  const char* token_variable = ChooseForge(f);
  if (const char* token = std::getenv(token_variable)) f.api.token = token;
  if (f.api.token.empty() && !f.dry_run) {
    return ReportError(kName, Error{ErrorCode::kUsage,
                                    gitlab ? "set GITLAB_TOKEN (a token with the api scope, "
                                             "Developer role) or use --dry-run"
                                           : "set GITHUB_TOKEN (pull-requests: write, "
                                             "statuses: write) or use --dry-run",
                                    ""});
  }
  const TimeMs now = WallNow();
  auto jobs = JobsOf(f, now, now - *since);
  if (!jobs) return ReportError(kName, jobs.error());
  ForgeApi api(f.api, stderr, "pr-check");
  auto fetched =
      gitlab ? FetchMergeRequest(api, f.repo, f.pr, stderr) : FetchPullRequest(api, f.repo, f.pr);
  if (!fetched) return ReportError(kName, fetched.error());
  const PrBill bill = BillOf(*jobs, fetched->pr, fetched->commits);
  const PrReviewState review = ReviewStateOf(fetched->pr);
  const PrVerdict verdict = Judge(bill, review, policy->pr_guardrail);
  const std::string comment = PrCommentMarkdown(fetched->pr, bill, review, verdict, now);
  std::string outcome = "dry run: nothing posted";
  if (!f.dry_run) {
    auto posted = Post(f, api, *fetched, bill, verdict, comment);
    if (!posted) return ReportError(kName, posted.error());
    outcome = *posted;
  }
  if (f.format == "json") {
    PrintJson(*fetched, bill, review, verdict, comment, outcome);
  } else {
    fmt::print("{}\n", comment);
    fmt::print(stderr, "pr-check: {}\n", outcome);
  }
  return verdict.pass ? kExitOk : kExitFailure;
}

}  // namespace

void AddPrCheckCommand(CLI::App* app, Outcome* outcome) {
  auto f = std::make_shared<PrCheckFlags>();
  CLI::App* cmd = app->add_subcommand(
      "pr-check",
      "A pull request's GPU bill in the pull request: its GPU jobs from the ledger (by PR, or at "
      "its commits), dollars, GPU-hours, idle share, failures, days open while firing jobs and "
      "its review state, as one comment updated in place and a commit status gpuledger/gpu-cost "
      "that fails when the policy's [pr_guardrail] says so. Exit 1 when it fails.");
  cmd->footer(
      "Token from GITHUB_TOKEN, or GITLAB_TOKEN with --gitlab. See docs/pr-check.md for GitHub "
      "Actions and GitLab CI.");
  cmd->add_option("--repo", f->repo, "OWNER/NAME, or with --gitlab the project's full path")
      ->required();
  cmd->add_option("--pr", f->pr, "the pull request's number, or the merge request's IID")
      ->required();
  cmd->add_option("--gitlab", f->gitlab,
                  "a GitLab merge request on this instance (https://gitlab.com, $CI_SERVER_URL)");
  AddLedgerOptions(cmd, &f->ledger, "the ledger the jobs are in (run, the guards)");
  cmd->add_option("--jobs", f->jobs, "a jobs CSV instead of the ledger (repo, pr, commit columns)")
      ->excludes("--ledger");
  cmd->add_option("--inventory", f->inventory, "with --jobs: the inventory CSV that prices them");
  cmd->add_option("--since", f->since, "read jobs started this long ago at most")
      ->capture_default_str();
  cmd->add_option("--policy", f->policy, "policy.toml whose [pr_guardrail] sets the status");
  cmd->add_option("--api-url", f->api.api_url, "GitHub Enterprise or a test server (GitHub)")
      ->capture_default_str();
  cmd->add_option("--max-wait", f->max_wait, "wait this long at most for a rate limit to reset")
      ->capture_default_str();
  cmd->add_flag("--dry-run", f->dry_run, "read, and print the comment; post nothing");
  AddFormatOption(cmd, &f->format, {"md", "json"});
  cmd->callback([f, outcome] { outcome->exit_code = RunPrCheck(*f); });
}

}  // namespace gpuledger::cli
