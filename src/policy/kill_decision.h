// The one decision of the autokill policy (DESIGN.md, "Autokill policy"), shared by `run`, the
// guard (through JobWatch) and the backtest: which rule stops a job first, when, when it is
// warned about, and the sentence that explains it; and when an idle machine is released.
//
// The live path and the backtest differ only in how they learn the inputs (readings one at a
// time, or a whole recorded history); every comparison and every sentence is here, once.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/idle_rules.h"
#include "policy/job_state.h"
#include "policy/policy.h"

namespace gpuledger {

// The instants the hard limits of one job fall on (nullopt: the rule does not apply).
struct HardLimits {
  std::optional<TimeMs> budget_at;       // the job's cost reaches the policy's budget
  std::optional<TimeMs> max_runtime_at;  // start + max_runtime
  std::optional<TimeMs> fatal_at;        // its output matched a fatal pattern
};

// start + max_runtime, when the policy has one.
std::optional<TimeMs> MaxRuntimeAt(const Policy& policy, TimeMs job_start);

// Feeds "idle" the job's combined GPU states in time order. Idle time before "spare_until" (a
// keep) counts as unmonitored: it ends a stretch, and the next one starts at the keep's end.
// Returns the setup/idle kill that fires inside the spans, if one does.
std::optional<KillDue> FeedStates(IdleRules* idle, const std::vector<StateSpan>& spans,
                                  TimeMs spare_until = kTimeMin);

// The earliest kill of a job: the setup/idle rules' (fired, or pending in the current stretch)
// against the hard limits. A hard limit reached before "spare_until" waits for it; on a tie the
// idle rules win, then budget, max_runtime, fatal output.
std::optional<KillDue> EarliestKill(const std::optional<KillDue>& idle, const HardLimits& limits,
                                    TimeMs spare_until = kTimeMin);

// When the warning about "due" goes out: warn_before ahead, never before the job's start.
TimeMs WarnAt(const KillDue& due, TimeMs job_start, const Policy& policy);

// The sentence that explains "due" for a job on "gpus", e.g. "GPU 3 below 5 % for 30m since
// 14:02:10 UTC; last active 13:31:55 UTC".
std::string ExplainKill(const KillDue& due, const std::vector<int>& gpus, const Policy& policy);

// The policy a machine is judged by for release: a machine with no workload holding a GPU and
// every GPU monitored and below threshold is released once that stretch has lasted
// release_after (at stretch start + release_after, the stretch included): IdleRules with setup
// and idle both release_after.
Policy MachineReleasePolicy(const Policy& policy);

}  // namespace gpuledger
