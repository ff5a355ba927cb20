// A pull request's GPU bill, for the pull request (`gpuledger pr-check`): its GPU jobs from the
// ledger (those naming it, or run at one of its commits), their dollars, GPU-hours, idle share
// and failures, how long it was open while firing jobs, its review state (the reviews
// classifier on the PR as fetched), and what the policy's [pr_guardrail] says of it. Pure: the
// GitHub calls are github_pr.h's.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "model/fleet.h"
#include "policy/policy.h"
#include "reviews/github_model.h"

namespace gpuledger {

struct PrBill {
  std::vector<const LedgerJob*> jobs;  // by start
  int failed = 0;                      // failed or killed
  double usd = 0, gpu_hours = 0;
  std::optional<double> idle_gpu_hours;  // of the jobs whose idle time the ledger knows
  double idle_known_gpu_hours = 0;       // their GPU-hours
  std::optional<TimeMs> first_job, last_job;
  double days_firing = 0;  // from the PR's opening to its last job (0 without jobs)
};

// The jobs of a jobs CSV (a Fleet with an inventory for prices) as ledger rows: GPU-hours and
// dollars as `reviews audit` prices them (JobSpend), "failed" for a failed job, idle unknown.
std::vector<LedgerJob> PricedJobs(const Fleet& fleet, TimeMs as_of);

// The jobs of "pr": those whose pr is its number (with its repository or none), or whose commit
// is one of "commits". A job counted once.
PrBill BillOf(const std::vector<LedgerJob>& jobs, const PullRequest& pr,
              const std::vector<std::string>& commits);

struct PrReviewState {
  int human_reviews = 0, substantive = 0, approvals = 0;
  std::string summary;  // "no human review", "approved without a substantive review", …
};
PrReviewState ReviewStateOf(const PullRequest& pr);

struct PrVerdict {
  bool pass = true;
  std::vector<std::string> reasons;  // why it fails, one per limit passed
};
PrVerdict Judge(const PrBill& bill, const PrReviewState& review, const PrGuardrail& guardrail);

// The hidden marker that finds gpuledger's comment again, at the start of its body.
inline constexpr std::string_view kPrCommentMarker = "<!-- gpuledger:pr-check -->";
inline constexpr std::string_view kPrStatusContext = "gpuledger/gpu-cost";

// The comment (Markdown, starting with kPrCommentMarker), and the status's description
// (at most 140 characters, GitHub's limit).
std::string PrCommentMarkdown(const PullRequest& pr, const PrBill& bill,
                              const PrReviewState& review, const PrVerdict& verdict, TimeMs now);
std::string PrStatusDescription(const PrBill& bill, const PrVerdict& verdict);

}  // namespace gpuledger
