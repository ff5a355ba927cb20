// gpuledger reviews fetch: GitHub or GitLab history saved as raw API pages, resumable.
#include <fmt/format.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "cli/commands.h"
#include "reviews/forge_api.h"
#include "reviews/review_fetch.h"

namespace gpuledger::cli {
namespace {

struct FetchFlags {
  FetchOptions options;
  std::string gitlab;  // the instance: GitLab's API v4 under it
  std::vector<std::string> projects;
  std::string group;
  std::string since;
  std::string max_wait = "15m";
};

// --gitlab URL: its projects and group in place of GitHub's repositories and organisation.
Result<void> ChooseForge(FetchFlags& f) {
  FetchOptions& o = f.options;
  if (f.gitlab.empty()) {
    if (!f.projects.empty() || !f.group.empty())
      return MakeError(ErrorCode::kUsage, "--project and --group need --gitlab URL", "");
    return {};
  }
  if (!o.repos.empty() || !o.org.empty())
    return MakeError(ErrorCode::kUsage, "with --gitlab, give --project and --group", "");
  o.gitlab = true;
  o.api_url = GitLabApiUrl(f.gitlab);
  o.repos = f.projects;
  o.org = f.group;
  return {};
}

int RunFetch(FetchFlags& f) {
  FetchOptions& o = f.options;
  if (auto forge = ChooseForge(f); !forge) return ReportError("reviews fetch", forge.error());
  if (o.repos.empty() && o.org.empty()) {
    return ReportError("reviews fetch",
                       Error{ErrorCode::kUsage,
                             o.gitlab ? "give --project GROUP/PROJECT or --group GROUP"
                                      : "give --repo OWNER/NAME or --org ORG",
                             ""});
  }
  if (!f.since.empty()) {
    auto since = ParseTimeFlag("--since", f.since, TimeZone::Utc(), kTimeMin);
    if (!since) return ReportError("reviews fetch", since.error());
    o.since = *since;
  }
  auto wait = ParseDuration(f.max_wait);
  if (!wait)
    return ReportError("reviews fetch", Error{ErrorCode::kUsage, "not a duration", "--max-wait"});
  o.max_rate_wait_ms = *wait;
  while (!o.api_url.empty() && o.api_url.back() == '/') o.api_url.pop_back();
  const char* token_variable = o.gitlab ? "GITLAB_TOKEN" : "GITHUB_TOKEN";
  if (const char* token = std::getenv(token_variable)) o.token = token;
  if (o.token.empty()) {
    fmt::print(stderr,
               "reviews fetch: no {}: unauthenticated requests see public projects only and are "
               "rate-limited hard\n",
               token_variable);
  }
  auto stats = FetchReviews(o, stderr);
  if (!stats) return ReportError("reviews fetch", stats.error());
  fmt::print(
      "fetched {} repos, {} PRs: {} requests, {} pages written, {} listings already saved, "
      "{} retries, {} rate-limit waits\n",
      stats->repos, stats->prs, stats->requests, stats->pages_written, stats->listings_skipped,
      stats->retries, stats->rate_waits);
  return kExitOk;
}

}  // namespace

void AddFetchVerb(CLI::App* reviews, Outcome* outcome) {
  auto f = std::make_shared<FetchFlags>();
  CLI::App* cmd = reviews->add_subcommand(
      "fetch",
      "Save pull requests, reviews and comments from the GitHub REST API (token from "
      "GITHUB_TOKEN), or with --gitlab merge requests, approvals and discussions from GitLab's "
      "API v4 (token from GITLAB_TOKEN), as raw pages in OUT, for `reviews audit`. Re-running "
      "resumes.");
  cmd->add_option("--repo", f->options.repos, "OWNER/NAME (repeatable)");
  cmd->add_option("--org", f->options.org, "also every repository of this organisation");
  cmd->add_option("--gitlab", f->gitlab,
                  "a GitLab instance (https://gitlab.com) instead of GitHub");
  cmd->add_option("--project", f->projects,
                  "with --gitlab: GROUP/PROJECT, its full path (repeatable)");
  cmd->add_option("--group", f->group,
                  "with --gitlab: every project of this group and its subgroups");
  cmd->add_option("--since", f->since, "only PRs updated since this date");
  cmd->add_option("--out", f->options.out_dir, "where the pages go")->required();
  cmd->add_option("--api-url", f->options.api_url, "GitHub Enterprise or a test server")
      ->capture_default_str();
  cmd->add_option("--max-wait", f->max_wait, "wait this long at most for a rate limit to reset")
      ->capture_default_str();
  cmd->add_option("--retries", f->options.max_retries, "retries of a transient error")
      ->capture_default_str();
  cmd->callback([f, outcome] { outcome->exit_code = RunFetch(*f); });
}

}  // namespace gpuledger::cli
