#include "policy/job_watch.h"

#include <algorithm>
#include <cmath>

#include "audit/billing.h"

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
// or pending (kill_decision.h: the same decision the backtest makes).
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
    FeedStates(&idle_, CombineStates(logs, evaluated_until_, now), spare_until_);
    evaluated_until_ = now;
    for (Gpu& g : gpus_) g.log.DropBefore(now);  // no later evaluation needs it
  }
  HardLimits limits;
  if (policy_.budget_usd && job_.usd_per_gpu_hour > 0) {
    // The job's GPUs at its price from its start: the backtest's WhenSpent over one span.
    const size_t gpus = job_.gpus.empty() ? std::max<size_t>(1, gpus_.size()) : job_.gpus.size();
    const std::vector<BilledSpan> price = {
        {job_.start, kTimeMax, job_.usd_per_gpu_hour / kMsPerHour}};
    limits.budget_at = WhenSpent(price, job_.start, static_cast<double>(gpus), *policy_.budget_usd);
  }
  limits.max_runtime_at = MaxRuntimeAt(policy_, job_.start);
  if (fatal_) limits.fatal_at = fatal_->at;
  return EarliestKill(idle_.Pending(), limits, spare_until_);
}

std::string JobWatch::Explain(const KillDue& due) const {
  std::vector<int> gpus;
  for (const Gpu& g : gpus_) gpus.push_back(g.index);
  std::sort(gpus.begin(), gpus.end());
  return ExplainKill(due, gpus, policy_);
}

std::optional<TimeMs> JobWatch::IdleSince() const {
  const std::optional<KillDue> pending = idle_.Pending();
  return pending ? std::optional<TimeMs>(pending->stretch_start) : std::nullopt;
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
  if (!exempt_ && now >= WarnAt(*due, job_.start, policy_) && warned_for_ != due->at) {
    warned_for_ = due->at;
    out.push_back({DecisionKind::kWarn, due->rule, now, due->at,
                   Explain(*due) + " — killing at " + FormatIsoUtc(due->at).substr(11, 8) +
                       " UTC unless the GPUs get busy"});
  }
  return out;
}

}  // namespace gpuledger
