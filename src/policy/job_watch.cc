#include "policy/job_watch.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gpuledger {

JobWatch::JobWatch(const Policy& policy, WatchedJob job)
    : policy_(policy),
      job_(std::move(job)),
      exempt_(IsExempt(policy_, job_.id, job_.owner, job_.labels)),
      idle_(policy.setup_grace_ms, policy.idle_after_ms),
      evaluated_until_(job_.start) {
  if (job_.first_active) idle_.ResumeActive(*job_.first_active);
}

void JobWatch::ForgetGpu(int index) {
  std::erase_if(gpus_, [&](const Gpu& g) { return g.index == index; });
}

JobWatch::Gpu* JobWatch::GpuFor(int index) {
  if (!job_.gpus.empty() &&
      std::find(job_.gpus.begin(), job_.gpus.end(), index) == job_.gpus.end()) {
    return nullptr;
  }
  for (Gpu& g : gpus_) {
    if (g.index == index) return &g;
  }
  gpus_.push_back({index, SampleStream(policy_.max_gap_ms, policy_.threshold_pct), {}, {}});
  return &gpus_.back();
}

void JobWatch::OnReadings(TimeMs t, const std::vector<GpuReading>& readings) {
  for (const GpuReading& r : readings) {
    Gpu* g = GpuFor(r.index);
    if (g == nullptr) continue;
    std::optional<StoodInterval> done;
    g->stream.Add(t, r.util_pct, r.memory_used_mib.value_or(kNoMemory), &done);
    if (done && g->unread_at) done->to = std::min(done->to, *g->unread_at);
    if (done) g->log.Append(*done);
    g->unread_at.reset();
  }
}

void JobWatch::OnUnread(TimeMs t, int index) {
  for (Gpu& g : gpus_) {
    if (g.index == index && !g.unread_at) g.unread_at = t;
  }
}

void JobWatch::OnOutputLine(TimeMs t, std::string_view line) {
  if (fatal_) return;
  for (const std::string& pattern : policy_.fatal_patterns) {
    if (!pattern.empty() && line.find(pattern) != std::string_view::npos) {
      fatal_ = KillDue{KillRule::kFatalOutput, t, t, std::nullopt};
      return;
    }
  }
}

// Feeds the idle rules with what is known by "now", then returns the earliest due kill, fired
// or pending.
std::optional<KillDue> JobWatch::NextDue(TimeMs now) {
  std::vector<GpuStateLog> known(gpus_.size());
  std::vector<const GpuStateLog*> logs;
  for (size_t i = 0; i < gpus_.size(); ++i) {
    known[i] = gpus_[i].log;
    if (auto last = gpus_[i].stream.KnownBy(now)) {
      if (gpus_[i].unread_at) last->to = std::min(last->to, *gpus_[i].unread_at);
      known[i].Append(*last);
    }
    logs.push_back(&known[i]);
  }
  // What the samples say only becomes final once the next sample comes: evaluate up to the
  // earliest instant every GPU is known to (now, or where its last sample stops standing).
  if (!logs.empty() && now > evaluated_until_) {
    std::optional<KillDue> fired;
    for (StateSpan s : CombineStates(logs, evaluated_until_, now)) {
      if (s.state == GpusState::kIdle && s.from < spare_until_) {
        // Kept: idle time before the keep's end counts as nothing (it ends a stretch).
        StateSpan kept{s.from, std::min(s.to, spare_until_), GpusState::kUnmonitored};
        if (!fired) fired = idle_.Feed(kept);
        if (s.to <= spare_until_) continue;
        s.from = spare_until_;
      }
      if (!fired) fired = idle_.Feed(s);
    }
    evaluated_until_ = now;
    for (Gpu& g : gpus_) g.log.DropBefore(now);  // no later evaluation needs it
  }
  std::optional<KillDue> due = idle_.Pending();
  auto consider = [&](KillRule rule, TimeMs at) {
    at = std::max(at, spare_until_);
    if (!due || at < due->at) due = KillDue{rule, at, at, std::nullopt};
  };
  if (policy_.budget_usd && job_.usd_per_gpu_hour > 0) {
    const size_t gpus = job_.gpus.empty() ? std::max<size_t>(1, gpus_.size()) : job_.gpus.size();
    const double usd_per_ms = gpus * job_.usd_per_gpu_hour / kMsPerHour;
    consider(KillRule::kBudget,
             job_.start + static_cast<TimeMs>(std::ceil(*policy_.budget_usd / usd_per_ms)));
  }
  if (policy_.max_runtime_ms) consider(KillRule::kMaxRuntime, job_.start + *policy_.max_runtime_ms);
  if (fatal_) consider(KillRule::kFatalOutput, fatal_->at);
  return due;
}

std::string JobWatch::Explain(const KillDue& due) const {
  std::string gpus;
  for (const Gpu& g : gpus_) gpus += (gpus.empty() ? "" : ",") + std::to_string(g.index);
  const std::string since = FormatIsoUtc(due.stretch_start).substr(11, 8);
  switch (due.rule) {
    case KillRule::kSetup:
      return fmt::format("GPU {} below {} % for {} since {}, never active: died at setup", gpus,
                         policy_.threshold_pct, FormatDuration(policy_.setup_grace_ms), since);
    case KillRule::kIdle:
      return fmt::format("GPU {} below {} % for {} since {}; last active {}", gpus,
                         policy_.threshold_pct, FormatDuration(policy_.idle_after_ms), since,
                         due.last_active ? FormatIsoUtc(*due.last_active).substr(11, 8) : "never");
    case KillRule::kBudget:
      return fmt::format("cost reaches the budget of ${:.2f}", policy_.budget_usd.value_or(0));
    case KillRule::kMaxRuntime:
      return fmt::format("runs past max_runtime {}",
                         FormatDuration(policy_.max_runtime_ms.value_or(0)));
    case KillRule::kFatalOutput:
      return "output matched a fatal pattern";
    case KillRule::kOverBudget:
      return "its team is past its monthly budget";
  }
  return "";
}

std::vector<LiveDecision> JobWatch::Advance(TimeMs now) {
  std::vector<LiveDecision> out;
  if (done_) return out;
  std::optional<KillDue> due = NextDue(now);
  if (!due) return out;
  if (due->at <= now) {
    out.push_back({exempt_ ? DecisionKind::kExempt : DecisionKind::kKill, due->rule, now, due->at,
                   Explain(*due)});
    done_ = true;
    return out;
  }
  if (!exempt_ && now >= due->at - policy_.warn_before_ms && warned_for_ != due->at) {
    warned_for_ = due->at;
    out.push_back({DecisionKind::kWarn, due->rule, now, due->at,
                   Explain(*due) + " — killing at " + FormatIsoUtc(due->at).substr(11, 8) +
                       " unless the GPUs get busy"});
  }
  return out;
}

}  // namespace gpuledger
