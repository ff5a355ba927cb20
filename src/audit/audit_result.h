// What the audit found: the category partition of billed GPU time, per machine and in total.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "audit/audit_options.h"
#include "audit/category.h"
#include "core/problems.h"
#include "model/fleet.h"

namespace gpuledger {

struct CreditsResult;  // audit/credits.h
struct BudgetUse;      // audit/budget_use.h

inline constexpr const char* kUnattributed = "(unattributed)";
inline constexpr const char* kNoTeam = "(none)";  // GPU time no team or project is named for

// Money and GPU time of one category, or of any slice of the partition.
struct Spend {
  double usd = 0;
  DurationMs gpu_ms = 0;

  void Add(const Spend& o) { usd += o.usd, gpu_ms += o.gpu_ms; }
  double GpuHours() const { return static_cast<double>(gpu_ms) / kMsPerHour; }
};

using SpendByKey = std::map<std::string, Spend>;

// The figures every slice of the audit carries.
struct Totals {
  std::array<Spend, kCategoryCount> categories{};
  Spend below_threshold;  // monitored billed time below threshold, whatever its category
  Spend unattributed;     // time with no job owner and no machine owner
  // Time nothing names: no owner, no team (or a Kubernetes node's "(unallocated)"), no project.
  Spend unowned;
  Spend no_commit;  // time attributed to a job that recorded no commit
  Spend in_jobs;    // time attributed to any job
  // Held idle (DESIGN.md, lenses): monitored time below threshold whose sample showed GPU
  // memory in use >= AuditOptions::held_memory_mib; meaningful only where memory is known.
  Spend held_idle;
  std::array<Spend, kCategoryCount> held_idle_by_category{};  // where the held idle time fell

  Spend Total() const;
  Spend Waste() const;  // never_used + failed_job + job_idle + idle_outside_jobs
  void Add(const Totals& o);
};

// One UTC day of a machine's billed GPU time (AuditOptions::breakdown).
struct DayResult {
  int64_t day = 0;  // days since 1970-01-01, UTC
  std::array<double, kCategoryCount> usd{};
  DurationMs billed_ms = 0;     // billed GPU time
  DurationMs monitored_ms = 0;  // of it, time a valid sample stands for
  DurationMs active_ms = 0;     // of that, at or above threshold
};

// The billed GPU time attributed to one job (AuditOptions::breakdown).
struct JobResult {
  const Job* job = nullptr;  // points into the audited Fleet
  Spend spend;
};

// A stretch of billed GPU time (one taker's part of a timeline piece, within one UTC day) whose
// spend accrues evenly over [start, end) (AuditOptions::segments), its categories in the same
// proportion throughout: what credits and budgets consume in time order. The strings point into
// the audited Fleet, or to NoneName() / UnattributedName().
struct SpendSegment {
  TimeMs start = 0, end = 0;
  double usd = 0;
  std::array<double, kCategoryCount> category_usd{};  // adds up to usd
  double held_idle_usd = 0;
  const Job* job = nullptr;  // null: outside jobs
  const std::string* owner = nullptr;
  const std::string* team = nullptr;
  const std::string* project = nullptr;
};

// The stable names of "no owner" (kUnattributed) and "no team / project" (kNoTeam).
const std::string& UnattributedName();
const std::string& NoneName();

// A machine's billed time by who took it (the owner, team and project of its GPU-seconds: the
// job's, else the billing period's, else UnattributedName() / NoneName()), by category.
struct TakerSpend {
  std::array<Spend, kCategoryCount> categories{};
  std::array<double, kCategoryCount> held_idle_usd{};  // the held idle dollars inside each
};
// Keyed by the names' addresses (into the audited Fleet, or the stable "none" names): sort by
// the strings to print.
using TakerKey = std::tuple<const std::string*, const std::string*, const std::string*>;

struct MachineResult {
  std::string name;
  int gpu_count = 0;
  std::string gpu_model;
  std::string owner, team, project;  // from its latest billing period in the window
  bool never_used = false;
  bool has_jobs = false;
  uint64_t samples = 0;           // valid samples, summed over its GPUs
  uint64_t most_gpu_samples = 0;  // the most valid samples any one of its GPUs has
  bool memory_known = false;      // some sample carried a memory reading (held idle is known)
  TimeMs billed_from = kTimeMax;  // first and last billed instant inside the window
  TimeMs billed_to = kTimeMin;
  Totals totals;
  SpendByKey owners;
  // By team and project of the GPU-second: its job's, else its billing period's (kNoTeam).
  SpendByKey teams, projects;
  SpendByKey owners_held_idle;              // held idle time by owner of the GPU-second
  SpendByKey teams_held_idle;               // and by team
  std::map<TakerKey, TakerSpend> by_taker;  // owner, team, project → categories
  std::vector<DayResult> days;              // sorted by day; only with AuditOptions::breakdown
  std::vector<JobResult> jobs;  // jobs with attributed time, by start; only with breakdown
  // By time, merged across GPUs (one per stretch, job and names); only with AuditOptions::segments.
  std::vector<SpendSegment> segments;
};

// What the telemetry says of the machines, so that nothing is claimed that it does not show:
// a machine that sent no sample has an unknown utilisation (not "$0 idle", not "never used"),
// and one idle in a single sample (one scrape) was idle then, not "never ran".
struct TelemetryCoverage {
  int64_t machines_with_telemetry = 0;  // at least one valid sample
  int64_t machines_without = 0;         // billed, no valid sample at all
  Spend without;                        // their billed time
  int64_t never_used = 0;               // never used, seen in two or more sample instants
  Spend never_used_spend;
  int64_t idle_in_one_sample = 0;  // never used, each GPU seen in one sample only (one scrape)
  Spend idle_in_one_sample_spend;
};

struct AuditResult {
  AuditOptions options;
  TimeMs window_from = kTimeMax;  // the billed time actually audited
  TimeMs window_to = kTimeMin;
  std::vector<MachineResult> machines;  // sorted by name
  Totals totals;
  SpendByKey owners, teams, projects;
  SpendByKey owners_held_idle;  // held idle by owner, over machines whose memory is known
  SpendByKey teams_held_idle;   // and by team
  bool memory_known = false;    // some machine's telemetry carried memory readings
  SourceStats telemetry, inventory, jobs;
  std::map<std::string, double> other_charges_usd;  // the bill's non-GPU charges (FOCUS)
  // With --credits: who burned each batch (ConsumeCredits); with --budgets: use against them.
  std::shared_ptr<const CreditsResult> credits;
  std::shared_ptr<const std::vector<BudgetUse>> budgets;
  // With --group-by: spend by experiment, run, pull request or repository (group_spend.h).
  std::shared_ptr<const struct GroupedSpend> groups;

  int64_t MachinesNeverUsed() const;
  TelemetryCoverage Coverage() const;
};

}  // namespace gpuledger
