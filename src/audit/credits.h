// Credits: who burned each top-up (DESIGN.md, "Credits: who burned the last batch"). Pure: the
// audit's spend segments and the bill's timed charges in, each batch's share out.
//
// Batches are used oldest purchase first (by date, then source order). Spend — billed GPU time
// (AuditResult's SpendSegments) plus the bill's other charges when given — is consumed in time
// order: with C(t) the spend up to instant t, batch k pays for C in [S(k-1), S(k)), S(k) the sum
// of the first k batches, so it pays for everything spent between the instant C reaches S(k-1)
// and the instant it reaches S(k) (its run-out), whatever day it was bought. Every segment's
// spend accrues evenly over its time, so those instants are exact; a segment's categories are
// taken in proportion across it (segments are cut at UTC midnights, so within a GPU-day). Spend
// past the last batch is uncovered.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_result.h"
#include "model/credits.h"

namespace gpuledger {

struct CreditsOptions {
  DurationMs burn_window_ms = 14 * kMsPerDay;  // the runway's daily burn is the mean over it
};

// What a job's spend is counted as: completed, failed, killed, running, unknown, no_job.
std::string JobOutcome(const Job* job);

inline constexpr size_t kTopJobsPerBatch = 10;

struct BatchJob {
  const Job* job = nullptr;
  double usd = 0;
};

struct BatchResult {
  CreditBatch batch;
  std::optional<TimeMs> started;  // the first spend it paid for; none when it paid for nothing
  std::optional<TimeMs> ran_out;  // the instant it was used up; none while money is left
  double spent_usd = 0, left_usd = 0;
  std::map<std::string, double> owners, teams, projects, outcomes;
  std::map<std::string, double> teams_idle;  // of each team's: never_used + the idle categories
  std::array<double, kCategoryCount> categories{};
  double other_charges_usd = 0;  // the bill's charges that are not GPU time
  double held_idle_usd = 0;
  double waste_usd = 0;            // never_used + failed_job + job_idle + idle_outside_jobs
  std::vector<BatchJob> top_jobs;  // the kTopJobsPerBatch costliest, costliest first
  // What it paid for each UTC day (days since 1970-01-01), by team: its burn-down.
  std::map<int64_t, std::map<std::string, double>> daily_teams;
  // A batch used up within a day: what it paid for each UTC hour (hours since 1970), by team.
  std::map<int64_t, std::map<std::string, double>> hourly_teams;

  // Dollars of one outcome (0 when none); runs that failed or were killed.
  double Outcome(const std::string& outcome) const;
  double FailedOrKilled() const { return Outcome("failed") + Outcome("killed"); }
};

// The owner, team and project of the bill's charges that are not GPU time.
inline constexpr const char* kNotGpuTime = "(not GPU time)";

// A runway past a century (a $1e9 batch burnt at dollars a day) reads as a century: dates stay
// in years every format can write.
inline constexpr double kMaxRunwayDays = 36'500;

struct Runway {
  double left_usd = 0;
  TimeMs burn_from = 0, burn_to = 0;  // the window the burn is the mean over
  double daily_burn_usd = 0;
  double waste_per_day_usd = 0;         // of the daily burn, the waste categories'
  std::optional<double> days;           // left ÷ daily burn; none without burn
  std::optional<TimeMs> runs_out;       // burn_to + days, at most kMaxRunwayDays
  std::optional<double> days_of_waste;  // days the runway would gain without the waste
};

struct CreditsResult {
  std::vector<BatchResult> batches;  // in the order they are used
  double spent_usd = 0;              // all spend consumed, covered or not
  double uncovered_usd = 0;          // spend past the last batch
  Runway runway;
};

// Consumes "batches" with the spend of "audit" (audited with AuditOptions::segments) and
// "charges" (the bill's other charges inside the audit window; empty without --billing).
// The runway's burn window ends where the audited billed time ends.
CreditsResult ConsumeCredits(std::vector<CreditBatch> batches, const AuditResult& audit,
                             const std::vector<TimedCharge>& charges,
                             const CreditsOptions& options);

}  // namespace gpuledger
