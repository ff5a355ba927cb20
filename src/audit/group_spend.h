// The audit's spend grouped by what a job says it is: its experiment, its tracker's run, its
// pull request or its repository (audit/report --group-by). Built from the job segments of an
// audit run with AuditOptions::segments and ::breakdown; GPU time outside any job, and jobs
// that do not name the key, form the group "(none)".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_result.h"
#include "core/error.h"

namespace gpuledger {

enum class GroupBy { kExperiment, kRun, kPr, kRepo };

// "experiment", "run", "pr" or "repo"; kUsage naming --group-by otherwise.
Result<GroupBy> ParseGroupBy(std::string_view text);
// The key's name ("experiment"), and its JSON list's ("experiments").
std::string_view GroupById(GroupBy by);
std::string_view GroupListName(GroupBy by);

struct GroupSpend {
  std::string key;  // "(none)": outside jobs, or jobs that name no such key
  double usd = 0, gpu_hours = 0;
  double idle_usd = 0;  // idle categories (job_idle; outside jobs also never_used, idle_outside)
  double held_idle_usd = 0;  // of it, with GPU memory held
  double failed_usd = 0;     // failed_job: the GPU time of jobs that failed or were killed
  int jobs = 0;              // jobs with billed time in the window
};

// The groups, costliest first (ties by key), "(none)" among them where it has spend.
std::vector<GroupSpend> SpendByGroup(const AuditResult& audit, GroupBy by);

// What --group-by attaches to an audit (AuditResult::groups).
struct GroupedSpend {
  GroupBy by = GroupBy::kExperiment;
  std::vector<GroupSpend> groups;
};

}  // namespace gpuledger
