#include "audit/fleet_ingest.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "audit/ingest.h"
#include "core/parallel.h"

namespace gpuledger {
namespace {

// Refuses every sample: telemetry of a machine that is not in the fleet.
class UnknownMachineSink : public SampleSink {
 public:
  SampleVerdict Add(int, TimeMs, double, uint64_t, double) override {
    return SampleVerdict::kUnknownMachine;
  }
  SampleVerdict AddSpan(int, TimeMs, TimeMs, DurationMs, DurationMs, uint64_t) override {
    return SampleVerdict::kUnknownMachine;
  }
};

struct Task {
  MachineIngest ingest;
  SourceStats stats;
  std::optional<Error> error;
  std::unique_ptr<SampleSink> unknown;  // the sink of a machine the fleet lacks
};

std::vector<Task> PlanTasks(const AuditInputs& in) {
  const Fleet& fleet = *in.fleet;
  std::vector<Task> tasks(fleet.machines.size());
  for (size_t i = 0; i < fleet.machines.size(); ++i) tasks[i].ingest.machine = &fleet.machines[i];
  for (const Job& job : fleet.jobs) {
    const int64_t m = fleet.Find(job.machine);
    if (m >= 0) tasks[m].ingest.jobs.push_back(&job);
  }
  for (Task& t : tasks) {
    std::stable_sort(t.ingest.jobs.begin(), t.ingest.jobs.end(), [](const Job* a, const Job* b) {
      return a->start != b->start ? a->start < b->start : a->input_order < b->input_order;
    });
  }
  for (const TelemetrySource& src : *in.telemetry) {
    const int64_t m = fleet.Find(src.machine);
    if (m >= 0) {
      tasks[m].ingest.source = &src;
    } else {
      tasks.push_back(Task{});
      tasks.back().ingest.source = &src;
    }
  }
  return tasks;
}

// A machine whose typical poll interval exceeds max_gap is mostly unmonitored; say so, and
// which --max-gap would cover it.
void NoteSparsePolling(Task* task, DurationMs max_gap_ms) {
  const MachineIngest& m = task->ingest;
  if (m.source == nullptr || m.sink->TypicalIntervalMs() <= max_gap_ms) return;
  const std::string file = m.source->files.empty() ? m.machine->name : m.source->files.front();
  task->stats.notes.Add("sparse_polling", file, 0, InputOrder(0, 0),
                        "machine " + m.machine->name + ": samples are typically more than " +
                            FormatDuration(max_gap_ms) +
                            " apart, so most of its time is unmonitored; if that is its poll "
                            "interval, raise --max-gap above it");
}

// Where a machine's samples go: a fresh sink (a fleet machine's), or one that rejects them.
SampleSink* FreshSink(Task* task, const MachineSinkFactory& make) {
  MachineIngest& m = task->ingest;
  if (m.machine == nullptr) {
    task->unknown = std::make_unique<UnknownMachineSink>();
    return task->unknown.get();
  }
  m.sink = make(*m.machine, m.jobs);
  return m.sink.get();
}

// After the last sample: the sink finished, the sparse-polling note.
void Close(Task* task, DurationMs max_gap_ms) {
  if (task->ingest.machine == nullptr) return;
  task->ingest.sink->Finish();
  NoteSparsePolling(task, max_gap_ms);
}

// Streams the machine's telemetry (sorted if it goes backwards) into a fresh sink.
Result<void> Ingest(Task* task, DurationMs max_gap_ms, const MachineSinkFactory& make,
                    AuditProgress* progress) {
  std::atomic<uint64_t> scratch{0};
  std::atomic<uint64_t>* bytes = progress ? &progress->bytes_read : &scratch;
  MachineIngest& m = task->ingest;
  if (m.machine == nullptr) {
    auto r = m.source->feed(FreshSink(task, make), &task->stats, bytes);
    return r ? Result<void>() : std::unexpected(r.error());
  }
  auto fresh = [&]() -> GpuSampleTarget* {
    FreshSink(task, make);
    return m.sink.get();
  };
  if (m.source == nullptr) {
    fresh();
  } else if (auto r = IngestTelemetry(*m.source, fresh, &task->stats, bytes); !r) {
    return r;
  }
  Close(task, max_gap_ms);
  return {};
}

// Feeds the machines of "tasks", whose sources share one feed, by one reading of their files
// (SharedTelemetryFeed); a machine whose stream broke is fed again on its own, sorted.
Result<void> IngestShared(const std::vector<Task*>& tasks, DurationMs max_gap_ms,
                          const MachineSinkFactory& make) {
  SharedTelemetryFeed& feed = *tasks.front()->ingest.source->shared;
  std::map<std::string, SharedTelemetryFeed::Target> targets;
  std::map<std::string, Task*> by_name;
  for (Task* t : tasks) {
    targets[t->ingest.source->machine] = {FreshSink(t, make), &t->stats};
    by_name[t->ingest.source->machine] = t;
  }
  auto broken = feed.Feed(targets);
  if (!broken) return std::unexpected(broken.error());
  for (const std::string& name : *broken) {
    Task* t = by_name.at(name);
    t->stats = SourceStats{};
    std::atomic<uint64_t> scratch{0};
    auto r = t->ingest.source->feed(FreshSink(t, make), &t->stats, &scratch);
    if (!r) return std::unexpected(r.error());
  }
  for (Task* t : tasks) Close(t, max_gap_ms);
  return {};
}

// Splits the tasks whose sources share a feed into groups of one feed each, "threads" groups
// of about equal input a feed (largest first, each to the lightest group); the other tasks are
// left in "order".
std::vector<std::vector<Task*>> SharedGroups(std::vector<Task>& tasks, std::vector<size_t>* order,
                                             int threads) {
  struct Split {
    std::vector<std::vector<Task*>> groups;
    std::vector<uint64_t> load;
  };
  std::map<const SharedTelemetryFeed*, Split> by_feed;
  std::vector<size_t> rest;
  for (size_t i : *order) {  // largest first
    const TelemetrySource* src = tasks[i].ingest.source;
    if (src == nullptr || !src->shared) {
      rest.push_back(i);
      continue;
    }
    Split& split = by_feed[src->shared.get()];
    if (split.groups.empty()) {
      split.groups.resize(static_cast<size_t>(std::max(1, threads)));
      split.load.resize(split.groups.size());
    }
    const size_t g = std::min_element(split.load.begin(), split.load.end()) - split.load.begin();
    split.groups[g].push_back(&tasks[i]);
    split.load[g] += src->bytes;
  }
  std::vector<std::vector<Task*>> groups;
  for (auto& [feed, split] : by_feed) {
    for (std::vector<Task*>& g : split.groups) {
      if (!g.empty()) groups.push_back(std::move(g));
    }
  }
  *order = std::move(rest);
  return groups;
}

}  // namespace

Result<FleetIngest> IngestFleet(const AuditInputs& in, DurationMs max_gap_ms, int threads,
                                const MachineSinkFactory& make, AuditProgress* progress) {
  std::vector<Task> tasks = PlanTasks(in);
  // Largest inputs first, so two workers finish together.
  std::vector<size_t> order(tasks.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto bytes = [&](size_t i) { return tasks[i].ingest.source ? tasks[i].ingest.source->bytes : 0; };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return bytes(a) > bytes(b); });
  if (progress) {
    progress->machines_total = tasks.size();
    for (size_t i = 0; i < tasks.size(); ++i) progress->bytes_total += bytes(i);
  }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::vector<Task*>> shared =
      SharedGroups(tasks, &order, threads > 0 ? threads : static_cast<int>(cores));
  std::vector<std::optional<Error>> shared_errors(shared.size());
  ParallelFor(shared.size(), threads, [&](size_t g) {
    if (auto r = IngestShared(shared[g], max_gap_ms, make); !r) shared_errors[g] = r.error();
    if (!progress) return;
    for (Task* t : shared[g]) progress->bytes_read += t->ingest.source->bytes;
    progress->machines_done += shared[g].size();
  });
  for (const std::optional<Error>& e : shared_errors) {
    if (e) return std::unexpected(*e);
  }
  ParallelFor(order.size(), threads, [&](size_t k) {
    Task& task = tasks[order[k]];
    if (auto r = Ingest(&task, max_gap_ms, make, progress); !r) task.error = r.error();
    if (progress) ++progress->machines_done;
  });
  FleetIngest out;
  for (Task& t : tasks) {
    if (t.error) return std::unexpected(*t.error);
    out.telemetry.Merge(t.stats);
    out.machines.push_back(std::move(t.ingest));
  }
  out.telemetry.Merge(in.telemetry_stats);
  if (auto ok = RequireAcceptedSamples(in.telemetry_given, in.telemetry_files, out.telemetry);
      !ok) {
    return std::unexpected(ok.error());
  }
  std::set<std::string> files;
  for (const TelemetrySource& src : *in.telemetry) files.insert(src.files.begin(), src.files.end());
  out.telemetry.files = files.size();
  return out;
}

}  // namespace gpuledger
