// The report's figures: the audit (with its per-day breakdown) in real dollars, normalised to a
// budget when one is given ("of every $1,000,000"), mapped to practices, shaped for charts and
// tables; optionally with a backtest of the autokill policy and the review audit. Every renderer
// (JSON, Markdown, HTML) reads this. It never claims what its inputs cannot show: without job
// records it says so instead of splitting idle time into jobs and machines.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_result.h"
#include "policy/backtest.h"
#include "reviews/review_audit.h"

namespace gpuledger {

// What the backtest says about one category, when a policy was given.
struct PracticeSaving {
  int64_t actions = 0;  // kills or releases
  double usd = 0;       // billed GPU time they would have saved
  std::string what;     // "kills of failed jobs", …
};

struct PracticeRow {
  Category category = Category::kNeverUsed;
  Spend spend;
  double share = 0;                      // of the audited GPU spend
  std::optional<double> per_budget_usd;  // share × budget, with a budget
  // Of the category, time idle with GPU memory held (the held-idle lens); nullopt: unknown.
  std::optional<double> held_idle_usd;
  std::string_view held_practice;  // the practice for that held part, when it has its own
  std::string_view practice;       // DESIGN.md's practice map
  std::string_view offer;          // what gpuledger does about it
  std::optional<PracticeSaving> saving;
};

// Spend by category over the period_days days from first_day (a Monday for weeks; UTC).
struct WeekRow {
  int64_t first_day = 0;
  std::array<double, kCategoryCount> usd{};
};

// A machine's row of the utilisation heatmap.
struct HeatRow {
  const MachineResult* machine = nullptr;
  double active_share = -1;  // monitored GPU time at or above threshold, 0-1; -1: none
  // Per day from Report::first_day: percent of monitored GPU time at or above threshold, or
  // kHeatNoTelemetry (billed, nothing monitored) or kHeatNotBilled.
  std::vector<float> cells;
  // Per day: the share (0-1) of the day's billed GPU time that telemetry covers; a day with one
  // sample is shaded by it rather than painted whole. -1 where not billed.
  std::vector<float> coverage;
};
inline constexpr float kHeatNoTelemetry = -1;
inline constexpr float kHeatNotBilled = -2;

struct FailedJobRow {
  const Job* job = nullptr;
  Spend spend;  // billed GPU time attributed to the job
};

struct KillRuleRow {
  KillRule rule = KillRule::kIdle;
  int64_t kills = 0, false_kills = 0;
  double saved_usd = 0;       // kills of jobs not recorded completed
  double false_kill_usd = 0;  // billed time of completed jobs the kills would have cut short
};

struct BacktestSummary {
  std::vector<KillRuleRow> rules;  // one per rule, in KillRule order
  int64_t releases = 0;
  double releases_usd = 0;
  int64_t exempted = 0;
};

struct ReviewClassRow {
  ReviewClass review_class = ReviewClass::kNoReview;
  int64_t merged_prs = 0;
  PrSpend spend;
};

struct ReviewsSummary {
  int64_t prs = 0, merged = 0, warnings_ignored = 0;
  int64_t jobs_matched = 0;  // jobs joined to a PR
  bool have_prices = false;
  std::vector<ReviewClassRow> classes;
};

struct Report {
  std::optional<double> budget_usd;      // --budget: figures also normalised to it
  bool jobs_given = false;               // job records were read (a jobs file, sacct, ledger)
  const AuditResult* audit = nullptr;    // with AuditOptions::breakdown
  std::vector<std::string> headline;     // sentences, figures normalised to the budget
  std::vector<PracticeRow> practices;    // DESIGN.md's order
  int64_t first_day = 0, last_day = -1;  // UTC days the audit covers
  std::vector<WeekRow> weeks;
  // Spend over time as charted: by day when the window is short (kDailyUpToDays), else weeks.
  int period_days = 7;
  std::vector<WeekRow> periods;
  std::vector<HeatRow> heat;  // never used first, then by active share, then by name
  std::vector<std::pair<std::string, Spend>> owners, teams;  // by spend, largest first
  std::vector<const MachineResult*> top_waste;               // by waste, largest first
  std::vector<const MachineResult*> never_used;              // by cost, largest first
  std::vector<FailedJobRow> failed_jobs;                     // by cost, largest first
  std::vector<FailedJobRow> top_pods;  // Kubernetes pods (Job::pod), the kTopPods costliest
  std::optional<BacktestSummary> backtest;
  std::optional<ReviewsSummary> reviews;

  double Scale() const;  // budget ÷ audited spend (0 when nothing was spent or no budget)
};

inline constexpr size_t kTopPods = 10;

// Windows up to this many days are charted by day, longer ones by week.
inline constexpr int64_t kDailyUpToDays = 31;

// Builds the report. "audit" must have been run with AuditOptions::breakdown and must outlive
// the report, and so must "backtest" and "reviews" when given. "top" bounds top_waste.
Report BuildReport(const AuditResult& audit, std::optional<double> budget_usd,
                   const BacktestResult* backtest, const ReviewAudit* reviews, int top = 15);

}  // namespace gpuledger
