// The setup and idle rules of the autokill policy (DESIGN.md, "Autokill policy"):
//
//   job start                 first active instant
//   |--idle-------20m--X      |~~active~~|--idle---------30m--X
//       setup: killed at the    idle: killed at the stretch's start + idle_after
//       stretch's start + setup_grace
//
// An idle stretch is time in which every GPU of the job is monitored and below threshold;
// unmonitored time ends a stretch (missing data never kills a job), as does an active instant.
#pragma once

#include <optional>
#include <string>

#include "policy/job_state.h"
#include "policy/policy.h"

namespace gpuledger {

// kOverBudget: new work of a team past its monthly budget (policy over_budget = "refuse").
enum class KillRule { kSetup, kIdle, kBudget, kMaxRuntime, kFatalOutput, kOverBudget };

// "setup", "idle", "budget", "max_runtime", "fatal_output", "over_budget".
std::string_view KillRuleId(KillRule rule);

struct KillDue {
  KillRule rule = KillRule::kIdle;
  TimeMs at = 0;
  TimeMs stretch_start = 0;           // setup / idle: when the GPUs went idle
  std::optional<TimeMs> last_active;  // the last active instant before, if any
};

// Watches one job's state, span by span in time order, for the setup and idle rules.
// The same object serves live runs (spans as they become known) and backtests (all at once).
class IdleRules {
 public:
  IdleRules(DurationMs setup_grace_ms, DurationMs idle_after_ms)
      : setup_grace_ms_(setup_grace_ms), idle_after_ms_(idle_after_ms) {}

  // Feeds the job's state over [span.from, span.to). A gap since the previous span counts as
  // unmonitored. Returns the rule that fires inside the span (at <= span.to), if one does;
  // once a rule has fired, it keeps returning it.
  std::optional<KillDue> Feed(const StateSpan& span);

  // When the current idle stretch will fire if nothing changes, and by which rule; nullopt
  // outside a stretch. For warnings ahead of a kill.
  std::optional<KillDue> Pending() const;

  // The job was active before the first span fed (a resumed watch): idle_after applies.
  void ResumeActive(TimeMs first_active) { first_active_ = last_active_end_ = first_active; }
  std::optional<TimeMs> first_active() const { return first_active_; }

 private:
  DurationMs setup_grace_ms_, idle_after_ms_;
  std::optional<TimeMs> first_active_;
  std::optional<TimeMs> last_active_end_;
  std::optional<TimeMs> stretch_start_;
  DurationMs stretch_limit_ = 0;
  TimeMs cursor_ = kTimeMin;
  std::optional<KillDue> fired_;
};

}  // namespace gpuledger
