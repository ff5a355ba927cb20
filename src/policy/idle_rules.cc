#include "policy/idle_rules.h"

namespace gpuledger {

std::string_view KillRuleId(KillRule rule) {
  switch (rule) {
    case KillRule::kSetup:
      return "setup";
    case KillRule::kIdle:
      return "idle";
    case KillRule::kBudget:
      return "budget";
    case KillRule::kMaxRuntime:
      return "max_runtime";
    case KillRule::kFatalOutput:
      return "fatal_output";
    case KillRule::kOverBudget:
      return "over_budget";
  }
  return "?";
}

std::optional<KillDue> IdleRules::Pending() const {
  if (fired_) return fired_;
  if (!stretch_start_) return std::nullopt;
  return KillDue{first_active_ ? KillRule::kIdle : KillRule::kSetup,
                 *stretch_start_ + stretch_limit_, *stretch_start_, last_active_end_};
}

std::optional<KillDue> IdleRules::Feed(const StateSpan& span) {
  if (fired_) return fired_;
  if (span.from > cursor_ && cursor_ != kTimeMin) stretch_start_.reset();  // a gap: unmonitored
  cursor_ = span.to;
  switch (span.state) {
    case GpusState::kActive:
      if (!first_active_) first_active_ = span.from;
      last_active_end_ = span.to;
      stretch_start_.reset();
      return std::nullopt;
    case GpusState::kUnmonitored:
      stretch_start_.reset();
      return std::nullopt;
    case GpusState::kIdle:
      break;
  }
  if (!stretch_start_) {
    stretch_start_ = span.from;
    stretch_limit_ = first_active_ ? idle_after_ms_ : setup_grace_ms_;
  }
  const TimeMs due = *stretch_start_ + stretch_limit_;
  if (due > span.to) return std::nullopt;
  fired_ = KillDue{first_active_ ? KillRule::kIdle : KillRule::kSetup, due, *stretch_start_,
                   last_active_end_};
  return fired_;
}

}  // namespace gpuledger
