#include "policy/backtest.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <tuple>

#include "audit/billing.h"
#include "audit/fleet_ingest.h"
#include "model/mig.h"
#include "policy/kill_decision.h"
#include "policy/state_recorder.h"

namespace gpuledger {
namespace {

// One machine of the fleet with what its telemetry says of each GPU.
struct MachineTask {
  const Machine* machine = nullptr;
  std::vector<const Job*> jobs;  // sorted by (start, input order)
  const GpuStateRecorder* recorder = nullptr;
};

// The earliest rule that fires for a job over its billed window [from, to), if any
// (kill_decision.h: the same decision JobWatch makes live). "gpus" counts GPU-equivalents (MIG
// instances by their share), for the budget rule.
std::optional<KillDue> FirstKill(const Job& job, const std::vector<const GpuStateLog*>& logs,
                                 double gpus, const std::vector<BilledSpan>& spans, TimeMs from,
                                 TimeMs to, const Policy& p) {
  IdleRules idle(p.setup_grace_ms, p.idle_after_ms);
  std::optional<KillDue> fired;
  // Unbilled time is outside the job's window: it ends a stretch.
  for (const auto& [a, b] : ContiguousBilledTime(spans)) {
    auto f = FeedStates(&idle, CombineStates(logs, std::max(from, a), std::min(to, b)));
    if (!fired) fired = f;
  }
  HardLimits limits;
  if (p.budget_usd) limits.budget_at = WhenSpent(spans, from, gpus, *p.budget_usd);
  if (auto at = MaxRuntimeAt(p, job.start)) limits.max_runtime_at = std::max(from, *at);
  std::optional<KillDue> kill = EarliestKill(fired, limits);
  if (kill && kill->at >= to) kill.reset();  // a kill counts only before the job's end
  return kill;
}

// The first instant in [from, to) some of "logs" is active, if any.
std::optional<TimeMs> FirstActive(const std::vector<const GpuStateLog*>& logs, TimeMs from,
                                  TimeMs to) {
  for (const StateSpan& s : CombineStates(logs, from, to)) {
    if (s.state == GpusState::kActive) return s.from;
  }
  return std::nullopt;
}

// A GPU the backtest judges, and the share of a GPU's price it bears.
struct JudgedGpu {
  int index;
  double share;
};

// The GPUs to judge: the physical GPUs (only those seen when billed from telemetry), except one
// carved into MIG instances, which its instances stand for (model/mig.h); and those instances.
std::vector<JudgedGpu> JudgedGpus(const MachineTask& t, const GpuStateRecorder& rec) {
  std::vector<int> indices;
  for (int g = 0; g < rec.gpus(); ++g) {
    if (!t.machine->billed_from_telemetry || rec.Seen(g)) indices.push_back(g);
  }
  for (int g : rec.MigGpus()) indices.push_back(g);
  std::vector<JudgedGpu> out;
  for (const auto& [index, share] : PriceShares(indices)) {
    if (share > 1e-9) out.push_back({index, share});
  }
  return out;
}

double Shares(const std::vector<JudgedGpu>& gpus) {
  double sum = 0;
  for (const JudgedGpu& g : gpus) sum += g.share;
  return sum;
}

// The machine's releases: stretches with no job running and every GPU monitored and idle, fed
// to the release rule the guard's machine watch uses (kill_decision.h, MachineReleasePolicy).
// As in the guard, a released machine stays released until it is in use again (a job runs or
// a GPU is active); only then can a later stretch release it again.
void FindReleases(const MachineTask& t, const GpuStateRecorder& rec,
                  const std::vector<BilledSpan>& spans, TimeMs clip_to, const Policy& p,
                  std::vector<MachineRelease>* out) {
  const std::vector<JudgedGpu> judged = JudgedGpus(t, rec);
  const Policy machine = MachineReleasePolicy(p);
  std::vector<const GpuStateLog*> logs;
  for (const JudgedGpu& g : judged) logs.push_back(&rec.Log(g.index));
  auto running = [&](TimeMs a, TimeMs b) {  // some job runs somewhere in [a, b)
    return std::any_of(t.jobs.begin(), t.jobs.end(),
                       [&](const Job* j) { return j->start < b && std::min(j->end, clip_to) > a; });
  };
  std::vector<TimeMs> cuts;  // job starts and ends split the state spans
  for (const Job* j : t.jobs) cuts.push_back(j->start), cuts.push_back(j->end);
  IdleRules rule(machine.setup_grace_ms, machine.idle_after_ms);
  std::optional<MachineRelease> released;  // the release whose idle stretch is still open
  auto close = [&](TimeMs end) {
    if (!released) return;
    released->idle_to = end;
    released->saved = BilledSpend(spans, released->at, end, Shares(judged));
    out->push_back(*released);
    released.reset();
  };
  bool holding = false;  // released, and not in use since
  // Unbilled time between two billed stretches ends an idle stretch: IdleRules counts a gap
  // between the spans it is fed as unmonitored.
  for (const auto& [billed_from, billed_to] : ContiguousBilledTime(spans)) {
    for (const StateSpan& s : CombineStates(logs, billed_from, billed_to)) {
      std::vector<TimeMs> bounds = {s.from, s.to};
      for (TimeMs c : cuts) {
        if (c > s.from && c < s.to) bounds.push_back(c);
      }
      std::sort(bounds.begin(), bounds.end());
      for (size_t k = 0; k + 1 < bounds.size(); ++k) {
        const bool busy = s.state == GpusState::kActive || running(bounds[k], bounds[k + 1]);
        const GpusState state = busy ? GpusState::kActive : s.state;
        if (state != GpusState::kIdle) close(bounds[k]);
        if (busy && holding) {  // in use again: a later idle stretch counts
          holding = false;
          rule = IdleRules(machine.setup_grace_ms, machine.idle_after_ms);
        }
        if (holding) continue;
        if (auto fired = rule.Feed({bounds[k], bounds[k + 1], state})) {
          released = MachineRelease{t.machine->name, fired->stretch_start, fired->at, 0, {}};
          holding = true;
        }
      }
    }
    close(billed_to);
  }
}

void Evaluate(const MachineTask& t, TimeMs open_end, const BacktestOptions& o,
              BacktestResult* out) {
  const GpuStateRecorder& rec = *t.recorder;
  TimeMs clip_from = o.window_from, clip_to = std::min(o.window_to, open_end);
  if (t.machine->billed_from_telemetry) {
    clip_from = std::max(clip_from, rec.FirstSample());
    clip_to = std::min(clip_to, rec.DataEnd());
  }
  const std::vector<BilledSpan> spans = BilledSpans(*t.machine, clip_from, clip_to);
  if (spans.empty()) return;
  const TimeMs billed_from = spans.front().from, billed_to = spans.back().to;
  const Policy& p = o.policy;
  const std::vector<JudgedGpu> judged = JudgedGpus(t, rec);
  const Policy interactive = InteractivePolicy(p);
  for (const Job* job : t.jobs) {
    const TimeMs from = std::max(job->start, billed_from);
    const TimeMs to = std::min(job->end == kTimeMax ? clip_to : job->end, billed_to);
    if (from >= to) continue;
    ++out->jobs;
    std::vector<JudgedGpu> covered;
    std::vector<int> gpus;  // physical GPU indices, for the report
    std::vector<const GpuStateLog*> logs;
    for (const JudgedGpu& g : judged) {
      if (!job->CoversGpu(g.index)) continue;
      covered.push_back(g);
      logs.push_back(&rec.Log(g.index));
      if (gpus.empty() || gpus.back() != PhysicalGpu(g.index)) gpus.push_back(PhysicalGpu(g.index));
    }
    if (covered.empty()) continue;
    std::sort(gpus.begin(), gpus.end());
    gpus.erase(std::unique(gpus.begin(), gpus.end()), gpus.end());
    const Policy& judged_by = job->interactive ? interactive : p;
    auto due = FirstKill(*job, logs, Shares(covered), spans, from, to, judged_by);
    if (!due) continue;
    KillDecision d;
    d.job_id = job->id, d.machine = job->machine, d.owner = job->owner, d.status = job->status;
    d.rule = due->rule;
    d.at = due->at;
    d.warn_at = WarnAt(*due, job->start, judged_by);
    d.job_end = to;
    d.gpus = gpus;
    d.interactive = job->interactive;
    if (job->interactive) {
      d.came_back_at = FirstActive(logs, due->at, to);
      d.false_kill = d.came_back_at.has_value();
    } else {
      d.false_kill = IsCompletedStatus(job->status);
    }
    d.saved = BilledSpend(spans, due->at, to, Shares(covered));
    d.explanation = ExplainKill(*due, gpus, judged_by);
    (IsExempt(p, job->id, job->owner, {}) ? out->exempted : out->decisions).push_back(std::move(d));
  }
  FindReleases(t, rec, spans, clip_to, p, &out->releases);
}

}  // namespace

int64_t BacktestResult::FalseKills() const {
  return std::count_if(decisions.begin(), decisions.end(),
                       [](const KillDecision& d) { return d.false_kill; });
}

Spend BacktestResult::Saved() const {
  Spend s;
  for (const KillDecision& d : decisions) s.Add(d.saved);
  return s;
}

Spend BacktestResult::ReleasesSaved() const {
  Spend s;
  for (const MachineRelease& r : releases) s.Add(r.saved);
  return s;
}

Result<BacktestResult> RunBacktest(const AuditInputs& in, const BacktestOptions& o) {
  // The audit's loader: the same input accounting (files, rows, rejections, notes).
  auto ingest = IngestFleet(
      in, o.policy.max_gap_ms, o.threads,
      [&](const Machine& m, const std::vector<const Job*>&) -> std::unique_ptr<MachineSink> {
        const int gpus = m.billed_from_telemetry ? 0 : m.gpu_count;
        return std::make_unique<GpuStateRecorder>(gpus, o.policy.max_gap_ms,
                                                  o.policy.threshold_pct);
      });
  if (!ingest) return std::unexpected(ingest.error());
  const Fleet& fleet = *in.fleet;
  BacktestResult out;
  out.options = o;
  out.inventory = in.inventory_stats;
  out.jobs_input = in.jobs_stats;
  out.telemetry = std::move(ingest->telemetry);
  std::vector<MachineTask> tasks;
  TimeMs data_end = kTimeMin;
  for (const MachineIngest& m : ingest->machines) {
    if (!m.sink) continue;  // an unknown machine's telemetry: rejected
    const auto* recorder = static_cast<const GpuStateRecorder*>(m.sink.get());
    tasks.push_back({m.machine, m.jobs, recorder});
    data_end = std::max(data_end, recorder->DataEnd());
  }
  const TimeMs open_end = OpenEnd(fleet, o.window_to, data_end);
  for (const MachineTask& t : tasks) Evaluate(t, open_end, o, &out);
  // Canonical orders, so results (and their sums) do not depend on the order of the inputs.
  auto by_kill = [](const KillDecision& a, const KillDecision& b) {
    if (a.false_kill != b.false_kill) return a.false_kill;  // false kills first
    return std::tie(a.at, a.machine, a.job_id) < std::tie(b.at, b.machine, b.job_id);
  };
  std::sort(out.decisions.begin(), out.decisions.end(), by_kill);
  std::sort(out.exempted.begin(), out.exempted.end(), by_kill);
  std::sort(out.releases.begin(), out.releases.end(),
            [](const MachineRelease& a, const MachineRelease& b) {
              return std::tie(a.machine, a.at) < std::tie(b.machine, b.at);
            });
  return out;
}

}  // namespace gpuledger
