// How much review happens, and what GPU spend came from PRs by review class.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "audit/audit_result.h"
#include "core/problems.h"
#include "model/fleet.h"
#include "reviews/classify.h"
#include "reviews/review_store.h"

namespace gpuledger {

struct PrSpend {
  int64_t jobs = 0;
  double gpu_hours = 0;
  double usd = 0;
  void Add(const PrSpend& o) { jobs += o.jobs, gpu_hours += o.gpu_hours, usd += o.usd; }
};

struct RepoReviewSummary {
  std::string repo;
  int64_t prs = 0, merged = 0, substantive_reviews = 0, warnings_ignored = 0;
  int64_t by_class[kReviewClassCount] = {};
  PrSpend spend;
};

struct ReviewAudit {
  ReviewOptions options;
  std::vector<std::string> repos;
  std::vector<PullRequest> prs;      // owned here; facts point into it
  std::vector<PrReviewFacts> facts;  // one per PR, same order
  std::vector<PrSpend> spend;        // one per PR, same order
  bool have_jobs = false;            // jobs were given
  bool have_prices = false;          // an inventory gave prices: dollars are known
  int64_t jobs_matched = 0, jobs_unmatched = 0;
  Problems notes;  // e.g. jobs whose GPU count is unknown
  SourceStats jobs_input, inventory_input;

  int64_t Merged() const;
  // Merged PRs of repos whose reviews were never saved (PullRequest::reviews_fetched): their
  // review is unknown, not "no review"; and merged PRs with no review among the others.
  int64_t MergedReviewsUnknown() const;
  int64_t MergedWithNoReview() const;
  int64_t ByClass(ReviewClass c) const;
  int64_t SubstantiveReviews() const;
  PrSpend SpendByClass(ReviewClass c) const;  // merged PRs of the class
  std::vector<RepoReviewSummary> ByRepo() const;
};

// One job's GPU-hours — its GPUs (listed, else its machine's) × its time, up to as_of while
// running — and dollars, from its machine's billing when the fleet's inventory has the machine.
// *gpus_unknown: neither the job nor an inventory says how many GPUs it held (0 GPU-hours).
PrSpend JobSpend(const Job& job, const Fleet& fleet, TimeMs as_of, bool* gpus_unknown);

// Classifies every PR of "data" and, when "fleet" has jobs, joins them to PRs by repo + PR
// number, else by commit (head or merge commit, 7+ characters of prefix). GPU-hours of a job are
// its GPUs (listed, else its machine's) × its time, up to as_of while running; dollars come from
// the machine's billing when the fleet has an inventory.
Result<ReviewAudit> AuditReviews(ReviewData data, const ReviewOptions& options, const Fleet* fleet);

}  // namespace gpuledger
