// gpuledger reviews fetch: GitHub history saved as raw API pages, resumable.
#include <fmt/format.h>

#include <cstdlib>
#include <memory>

#include "cli/commands.h"
#include "reviews/github_fetch.h"

namespace gpuledger::cli {
namespace {

struct FetchFlags {
  FetchOptions options;
  std::string since;
  std::string max_wait = "15m";
};

int RunFetch(FetchFlags& f) {
  FetchOptions& o = f.options;
  if (o.repos.empty() && o.org.empty()) {
    return ReportError("reviews fetch",
                       Error{ErrorCode::kUsage, "give --repo OWNER/NAME or --org ORG", ""});
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
  if (const char* token = std::getenv("GITHUB_TOKEN")) o.token = token;
  if (o.token.empty()) {
    fmt::print(stderr,
               "reviews fetch: no GITHUB_TOKEN: unauthenticated requests are limited to "
               "60 an hour\n");
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
      "GITHUB_TOKEN) as raw pages in OUT, for `reviews audit`. Re-running resumes.");
  cmd->add_option("--repo", f->options.repos, "OWNER/NAME (repeatable)");
  cmd->add_option("--org", f->options.org, "also every repository of this organisation");
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
