#include "policy/kill_decision.h"

#include <fmt/format.h>

#include <algorithm>

namespace gpuledger {
namespace {

std::string Clock(TimeMs t) { return FormatIsoUtc(t).substr(11, 8) + " UTC"; }

std::string GpuList(const std::vector<int>& gpus) {
  std::string out;
  for (int g : gpus) out += (out.empty() ? "" : ",") + std::to_string(g);
  return fmt::format("GPU{} {}", gpus.size() == 1 ? "" : "s", out.empty() ? "-" : out);
}

}  // namespace

std::optional<TimeMs> MaxRuntimeAt(const Policy& policy, TimeMs job_start) {
  if (!policy.max_runtime_ms) return std::nullopt;
  return job_start + *policy.max_runtime_ms;
}

std::optional<KillDue> FeedStates(IdleRules* idle, const std::vector<StateSpan>& spans,
                                  TimeMs spare_until) {
  std::optional<KillDue> fired;
  for (StateSpan s : spans) {
    if (s.state == GpusState::kIdle && s.from < spare_until) {
      const StateSpan kept{s.from, std::min(s.to, spare_until), GpusState::kUnmonitored};
      if (!fired) fired = idle->Feed(kept);
      if (s.to <= spare_until) continue;
      s.from = spare_until;
    }
    if (!fired) fired = idle->Feed(s);
  }
  return fired;
}

std::optional<KillDue> EarliestKill(const std::optional<KillDue>& idle, const HardLimits& limits,
                                    TimeMs spare_until) {
  std::optional<KillDue> due = idle;
  auto consider = [&](KillRule rule, const std::optional<TimeMs>& at) {
    if (!at) return;
    const TimeMs when = std::max(*at, spare_until);
    if (!due || when < due->at) due = KillDue{rule, when, when, std::nullopt};
  };
  consider(KillRule::kBudget, limits.budget_at);
  consider(KillRule::kMaxRuntime, limits.max_runtime_at);
  consider(KillRule::kFatalOutput, limits.fatal_at);
  return due;
}

TimeMs WarnAt(const KillDue& due, TimeMs job_start, const Policy& policy) {
  return std::max(job_start, due.at - policy.warn_before_ms);
}

std::string ExplainKill(const KillDue& due, const std::vector<int>& gpus, const Policy& p) {
  switch (due.rule) {
    case KillRule::kSetup:
      return fmt::format("{} below {} % for {} since {}, never active: died at setup",
                         GpuList(gpus), p.threshold_pct, FormatDuration(p.setup_grace_ms),
                         Clock(due.stretch_start));
    case KillRule::kIdle:
      return fmt::format("{} below {} % for {} since {}; last active {}", GpuList(gpus),
                         p.threshold_pct, FormatDuration(p.idle_after_ms), Clock(due.stretch_start),
                         due.last_active ? Clock(*due.last_active) : "never");
    case KillRule::kBudget:
      return fmt::format("cost reaches the budget of ${:.2f}", p.budget_usd.value_or(0));
    case KillRule::kMaxRuntime:
      return fmt::format("runs past max_runtime {}", FormatDuration(p.max_runtime_ms.value_or(0)));
    case KillRule::kFatalOutput:
      return "output matched a fatal pattern";
    case KillRule::kOverBudget:
      return "its team is past its monthly budget";
  }
  return "";
}

Policy MachineReleasePolicy(const Policy& p) {
  Policy m;
  m.threshold_pct = p.threshold_pct;
  m.max_gap_ms = p.max_gap_ms;
  m.warn_before_ms = p.warn_before_ms;
  m.setup_grace_ms = m.idle_after_ms = p.release_after_ms;
  return m;
}

}  // namespace gpuledger
