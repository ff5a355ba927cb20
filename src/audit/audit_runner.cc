#include "audit/audit_runner.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>

#include "audit/billing.h"
#include "audit/ingest.h"
#include "audit/machine_audit.h"
#include "core/parallel.h"

namespace gpuledger {
namespace {

// Refuses every sample: telemetry of a machine that is not in the audit.
class UnknownMachineSink : public SampleSink {
 public:
  SampleVerdict Add(int, TimeMs, double, uint64_t, double) override {
    return SampleVerdict::kUnknownMachine;
  }
  SampleVerdict AddSpan(int, TimeMs, TimeMs, DurationMs, DurationMs, uint64_t) override {
    return SampleVerdict::kUnknownMachine;
  }
};

// The work of one machine (or one unknown machine's telemetry).
struct Task {
  const Machine* machine = nullptr;         // null: telemetry of an unknown machine
  const TelemetrySource* source = nullptr;  // null: a machine without telemetry
  std::vector<const Job*> jobs;
  std::unique_ptr<MachineAudit> audit;
  SourceStats stats;
  std::optional<Error> error;
};

// A machine whose typical poll interval exceeds max_gap is mostly unmonitored; say so, and
// which --max-gap would cover it.
void NoteSparsePolling(Task* task, const AuditOptions& options) {
  if (task->source == nullptr || task->audit->TypicalIntervalMs() <= options.max_gap_ms) return;
  const std::string file =
      task->source->files.empty() ? task->machine->name : task->source->files.front();
  task->stats.notes.Add("sparse_polling", file, 0, InputOrder(0, 0),
                        "machine " + task->machine->name + ": samples are typically more than " +
                            FormatDuration(options.max_gap_ms) +
                            " apart, so most of its time is unmonitored; if that is its poll "
                            "interval, raise --max-gap above it");
}

// Streams the machine's telemetry (sorted if it goes backwards) into a fresh MachineAudit.
Result<void> IngestMachine(Task* task, const AuditOptions& options, AuditProgress* progress) {
  std::atomic<uint64_t> scratch{0};
  std::atomic<uint64_t>* bytes = progress ? &progress->bytes_read : &scratch;
  if (task->machine == nullptr) {
    UnknownMachineSink sink;
    auto r = task->source->feed(&sink, &task->stats, bytes);
    return r ? Result<void>() : std::unexpected(r.error());
  }
  auto fresh = [&]() -> GpuSampleTarget* {
    task->audit = std::make_unique<MachineAudit>(*task->machine, task->jobs, options);
    return task->audit.get();
  };
  if (task->source == nullptr) {
    fresh();
  } else if (auto r = IngestTelemetry(*task->source, fresh, &task->stats, bytes); !r) {
    return r;
  }
  task->audit->FinishSamples();
  NoteSparsePolling(task, options);
  return {};
}

// Samples were accepted but none stands for billed time: the telemetry and the billing cover
// different times (a wrong --tz, --from/--to, or another month's bill). Say so.
void NoteNoOverlap(TimeMs data_from, TimeMs data_end, AuditResult* r) {
  const Spend total = r->totals.Total();
  const Spend& unmonitored = r->totals.categories[static_cast<int>(Category::kUnmonitored)];
  const Spend& never = r->totals.categories[static_cast<int>(Category::kNeverUsed)];
  if (data_from >= data_end || total.gpu_ms == 0 || r->totals.below_threshold.gpu_ms > 0 ||
      unmonitored.gpu_ms + never.gpu_ms < total.gpu_ms || r->window_from >= r->window_to) {
    return;
  }
  for (const MachineResult& m : r->machines) {
    if (m.never_used) return;  // some sample did stand for billed time
  }
  r->telemetry.notes.Add("no_overlap", "(telemetry)", 0, 0,
                         "the telemetry (" + FormatIsoUtc(data_from) + " to " +
                             FormatIsoUtc(data_end) + ") and the billed time (" +
                             FormatIsoUtc(r->window_from) + " to " + FormatIsoUtc(r->window_to) +
                             ") do not overlap: every billed hour is unmonitored");
}

std::vector<Task> PlanTasks(const AuditInputs& in) {
  const Fleet& fleet = *in.fleet;
  std::vector<Task> tasks(fleet.machines.size());
  for (size_t i = 0; i < fleet.machines.size(); ++i) tasks[i].machine = &fleet.machines[i];
  for (const Job& job : fleet.jobs) {
    const int64_t m = fleet.Find(job.machine);
    if (m >= 0) tasks[m].jobs.push_back(&job);
  }
  for (Task& t : tasks) {
    std::stable_sort(t.jobs.begin(), t.jobs.end(), [](const Job* a, const Job* b) {
      return a->start != b->start ? a->start < b->start : a->input_order < b->input_order;
    });
  }
  for (const TelemetrySource& src : *in.telemetry) {
    const int64_t m = fleet.Find(src.machine);
    if (m >= 0) {
      tasks[m].source = &src;
    } else {
      tasks.push_back(Task{});
      tasks.back().source = &src;
    }
  }
  return tasks;
}

void RollUp(const MachineResult& m, AuditResult* out) {
  out->totals.Add(m.totals);
  for (const auto& [owner, spend] : m.owners) out->owners[owner].Add(spend);
  for (const auto& [owner, spend] : m.owners_held_idle) out->owners_held_idle[owner].Add(spend);
  for (const auto& [team, spend] : m.teams) out->teams[team].Add(spend);
  for (const auto& [project, spend] : m.projects) out->projects[project].Add(spend);
  for (const auto& [team, spend] : m.teams_held_idle) out->teams_held_idle[team].Add(spend);
  out->memory_known = out->memory_known || m.memory_known;
  if (m.billed_from < m.billed_to) {
    out->window_from = std::min(out->window_from, m.billed_from);
    out->window_to = std::max(out->window_to, m.billed_to);
  }
}

}  // namespace

Result<AuditResult> RunAudit(const AuditInputs& in, const AuditOptions& options,
                             AuditProgress* progress) {
  std::vector<Task> tasks = PlanTasks(in);
  // Largest inputs first, so two workers finish together.
  std::vector<size_t> order(tasks.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const uint64_t ba = tasks[a].source ? tasks[a].source->bytes : 0;
    const uint64_t bb = tasks[b].source ? tasks[b].source->bytes : 0;
    return ba > bb;
  });
  if (progress) {
    progress->machines_total = tasks.size();
    for (const Task& t : tasks) progress->bytes_total += t.source ? t.source->bytes : 0;
  }

  ParallelFor(order.size(), options.threads, [&](size_t k) {
    Task& task = tasks[order[k]];
    if (auto r = IngestMachine(&task, options, progress); !r) task.error = r.error();
    if (progress) ++progress->machines_done;
  });

  AuditResult result;
  result.options = options;
  result.inventory = in.inventory_stats;
  result.jobs = in.jobs_stats;
  for (const Task& t : tasks) {
    if (t.error) return std::unexpected(*t.error);
  }
  TimeMs data_end = kTimeMin, data_from = kTimeMax;
  for (const Task& t : tasks) {
    if (!t.audit) continue;
    data_end = std::max(data_end, t.audit->DataEnd());
    data_from = std::min(data_from, t.audit->FirstSample());
  }
  const TimeMs open_end = OpenEnd(*in.fleet, options.window_to, data_end);
  for (Task& t : tasks) {
    result.telemetry.Merge(t.stats);
    if (!t.audit) continue;
    MachineResult m = t.audit->Result(open_end);
    if (m.billed_from >= m.billed_to) continue;  // not billed inside the window
    result.machines.push_back(std::move(m));
  }
  // Totals are summed in name order, so they do not depend on the order of the input files.
  std::sort(result.machines.begin(), result.machines.end(),
            [](const MachineResult& a, const MachineResult& b) { return a.name < b.name; });
  for (const MachineResult& m : result.machines) RollUp(m, &result);
  result.telemetry.Merge(in.telemetry_stats);
  if (auto ok = RequireAcceptedSamples(in.telemetry_given, in.telemetry_files, result.telemetry);
      !ok) {
    return std::unexpected(ok.error());
  }
  NoteNoOverlap(data_from, data_end, &result);
  result.other_charges_usd = in.fleet->other_charges_usd;
  std::set<std::string> files;
  for (const TelemetrySource& src : *in.telemetry) files.insert(src.files.begin(), src.files.end());
  result.telemetry.files = files.size();
  return result;
}

}  // namespace gpuledger
