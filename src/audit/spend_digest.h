// What the telemetry says of a window's GPU spend, for the weekly digest: for the fleet, each
// team and each owner, the spend this window and the window before, the idle and held-idle
// shares, and the three practices that would have saved the most (DESIGN.md, "Categories").
// A pure function of two audits of the same fleet: [from, to) and [from - (to - from), from).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_result.h"

namespace gpuledger {

struct PracticeSpend {
  std::string category;  // its id: never_used, failed_job, job_idle, idle_outside_jobs
  std::string practice;  // CategoryPractice
  double usd = 0;
};

struct SpendSummary {
  double usd = 0, gpu_hours = 0;  // billed GPU time in the window
  double previous_usd = 0;        // in the window before
  // Idle: never_used, job_idle and idle_outside_jobs (time paid for with the GPU below the
  // threshold; unmonitored time is not idle, it is unknown).
  double idle_usd = 0;
  // Of the idle, with GPU memory held; none when no machine's telemetry carried memory.
  std::optional<double> held_idle_usd;
  std::vector<PracticeSpend> top_practices;  // the waste categories, highest first, at most 3
};

struct SpendDigest {
  SpendSummary fleet;
  std::map<std::string, SpendSummary> teams, owners;  // by the GPU-second's team and owner
};

inline constexpr size_t kTopPractices = 3;

SpendDigest BuildSpendDigest(const AuditResult& window, const AuditResult& previous);

}  // namespace gpuledger
