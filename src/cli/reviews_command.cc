// gpuledger reviews audit|fetch: is code review a quality filter here, and what did skipping it
// cost?
#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "cli/commands.h"
#include "core/line_reader.h"
#include "ledger/ledger.h"
#include "report/reviews_report.h"
#include "reviews/review_audit.h"

namespace gpuledger::cli {
namespace {

struct ReviewsAuditFlags {
  std::string dir;
  std::string jobs, ledger, inventory;
  std::string as_of;
  int substantive_words = 10;
  std::vector<std::string> warning_patterns;
  std::string format;
  int top = 10;
};

int RunReviewsAudit(const ReviewsAuditFlags& f) {
  if (!f.jobs.empty() && !f.ledger.empty()) {
    return ReportError("reviews audit",
                       Error{ErrorCode::kUsage, "give --jobs or --ledger, not both", ""});
  }
  ReviewOptions options;
  options.substantive_words = f.substantive_words;
  if (!f.warning_patterns.empty()) options.warning_patterns = f.warning_patterns;
  const TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  auto as_of = ParseTimeFlag("--as-of", f.as_of, TimeZone::Utc(), now);
  if (!as_of) return ReportError("reviews audit", as_of.error());
  options.as_of = *as_of;
  if (auto p = CompileWarningPatterns(options.warning_patterns); !p) {
    return ReportError("reviews audit", p.error());
  }
  auto data = LoadReviewDir(f.dir);
  if (!data) return ReportError("reviews audit", data.error());
  SourceStats jobs_stats, inventory_stats;
  auto fleet = LoadJobsFleet(f.jobs, f.ledger, f.inventory, &jobs_stats, &inventory_stats);
  if (!fleet) return ReportError("reviews audit", fleet.error());
  auto audit = AuditReviews(std::move(*data), options, fleet->get());
  if (!audit) return ReportError("reviews audit", audit.error());
  audit->jobs_input = jobs_stats;
  audit->inventory_input = inventory_stats;
  if (f.format == "json")
    fmt::print("{}", ReviewsToJson(*audit));
  else if (f.format == "csv")
    fmt::print("{}", ReviewsToCsv(*audit));
  else
    fmt::print("{}", ReviewsToTable(*audit, f.top));
  if (jobs_stats.RowsRejected() > 0) {
    fmt::print(stderr, "gpuledger reviews audit: {} job rows rejected (first: {})\n",
               jobs_stats.RowsRejected(), jobs_stats.rejected.entries().begin()->second.Where());
  }
  return kExitOk;
}

void AddAuditVerb(CLI::App* reviews, Outcome* outcome) {
  auto f = std::make_shared<ReviewsAuditFlags>();
  CLI::App* cmd = reviews->add_subcommand(
      "audit", "Classify the reviews of saved GitHub pages and join PRs to GPU jobs.");
  cmd->add_option("DIR", f->dir, "the folder `reviews fetch` filled")->required();
  cmd->add_option("--jobs", f->jobs, "jobs CSV (repo, pr, commit columns join jobs to PRs)");
  AddLedgerOptions(cmd, &f->ledger,
                   "take the jobs from this ledger (a file or postgresql:// URL) instead",
                   /*from_environment=*/false);
  cmd->add_option("--inventory", f->inventory, "inventory CSV: prices, for dollars per PR");
  cmd->add_option("--as-of", f->as_of, "'now' for PRs still open (default: now)");
  cmd->add_option("--substantive-words", f->substantive_words,
                  "a review body this many words long is substantive")
      ->check(Positive())
      ->capture_default_str();
  cmd->add_option(
      "--warning-pattern", f->warning_patterns,
      "a case-insensitive RE2 regex for bot warnings (repeatable; replaces the defaults "
      "'cost increase', 'guardrail', 'security', '\\b\\d+x cost')");
  AddFormatOption(cmd, &f->format, {"table", "json", "csv"});
  cmd->add_option("--top", f->top, "sentences of each kind in the table")->capture_default_str();
  cmd->callback([f, outcome] { outcome->exit_code = RunReviewsAudit(*f); });
}

}  // namespace

void AddReviewsCommand(CLI::App* app, Outcome* outcome) {
  CLI::App* reviews = app->add_subcommand(
      "reviews",
      "Code review as a quality filter: fetch GitHub history, classify, join to GPU spend.");
  reviews->require_subcommand(1);
  AddAuditVerb(reviews, outcome);
  AddFetchVerb(reviews, outcome);
}

}  // namespace gpuledger::cli
