// The autokill policy replayed on history: which jobs it would have killed, when, by which
// rule, and what that would have saved; which idle machines it would have released.
#pragma once

#include <string>
#include <vector>

#include "audit/audit_result.h"
#include "audit/audit_runner.h"
#include "policy/idle_rules.h"
#include "policy/policy.h"

namespace gpuledger {

struct BacktestOptions {
  Policy policy;
  TimeMs window_from = kTimeMin;  // billed time considered, [from, to)
  TimeMs window_to = kTimeMax;
  std::optional<double> price_per_gpu_hour;  // machines billed from telemetry (see AuditOptions)
  int threads = 0;
};

struct KillDecision {
  std::string job_id, machine, owner, status;  // status as recorded
  KillRule rule = KillRule::kIdle;
  TimeMs at = 0;       // the kill
  TimeMs warn_at = 0;  // the warning, warn_before earlier (not before the job's start)
  TimeMs job_end = 0;  // the recorded end, or the end of billing for a running job
  std::vector<int> gpus;
  // Recorded as completed; for interactive work, its GPUs became active again before its end
  // (the user came back): a notebook that sat idle until someone closed it is a true kill.
  bool false_kill = false;
  bool interactive = false;
  std::optional<TimeMs> came_back_at;  // interactive: the first active instant after the kill
  Spend saved;                         // billed GPU time of the job from the kill to its end
  std::string explanation;
};

struct MachineRelease {
  std::string machine;
  TimeMs idle_from = 0;  // no job running, every GPU monitored and below threshold since
  TimeMs at = 0;         // idle_from + release_after
  TimeMs idle_to = 0;    // the end of that stretch
  Spend saved;           // billed time of all its GPUs from the release to idle_to
};

struct BacktestResult {
  BacktestOptions options;
  int64_t jobs = 0;                      // jobs with billed time in the window
  std::vector<KillDecision> decisions;   // false kills first, then by time, machine, job
  std::vector<KillDecision> exempted;    // kills the exemptions prevented
  std::vector<MachineRelease> releases;  // by machine, then time
  SourceStats telemetry, inventory, jobs_input;

  int64_t FalseKills() const;
  Spend Saved() const;          // over decisions
  Spend ReleasesSaved() const;  // over releases
};

// Replays "inputs" through the policy. Fails only when telemetry cannot be read.
Result<BacktestResult> RunBacktest(const AuditInputs& inputs, const BacktestOptions& options);

}  // namespace gpuledger
