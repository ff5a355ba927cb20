#include "sources/telemetry_buckets.h"

#include <algorithm>
#include <memory>
#include <unordered_map>

#include "core/sort_runs.h"
#include "sources/workload_runs.h"

namespace gpuledger {
namespace {

// Where an order key points: its file and line (JSON keys carry a point under the line).
struct Positions {
  const std::vector<std::string>& files;
  const std::vector<int>& shifts;

  void Report(Problems& p, std::string_view reason, uint64_t order, std::string detail) const {
    const uint32_t file = static_cast<uint32_t>(order >> 40);
    if (file >= files.size()) return p.Add(reason, "(telemetry)", 0, order, detail);
    const uint64_t line = (order & ((uint64_t{1} << 40) - 1)) >> shifts[file];
    p.Add(reason, files[file], line, order, detail);
  }
};

// Feeds one sample into "sink", counting and noting what the sink says in "stats"; "last" is
// the workload of the GPU's previous sample (a sample at its instant of another workload is a
// time-sliced GPU's). False when the sink refuses it as out of order.
bool Deliver(SampleSink* sink, int gpu, TimeMs t, double util_pct, uint64_t order,
             double memory_mib, int32_t workload, int32_t* last, SourceStats* stats,
             const Positions& at) {
  const SampleVerdict verdict = sink->Add(gpu, t, util_pct, order, memory_mib);
  const bool shared =
      verdict == SampleVerdict::kDuplicate && workload >= 0 && *last >= 0 && *last != workload;
  *last = workload;
  switch (verdict) {
    case SampleVerdict::kAccepted:
      ++stats->rows_accepted;
      break;
    case SampleVerdict::kDuplicate:
      ++stats->rows_accepted;
      if (shared) {
        at.Report(stats->notes, "shared_gpu", order,
                  "GPU " + std::to_string(gpu) +
                      " carries series of several workloads at one instant (time-slicing, "
                      "MPS): its time is split equally among them");
        break;
      }
      at.Report(stats->notes, "duplicate_time", order,
                "GPU " + std::to_string(gpu) +
                    " already had a sample at this instant; the later row wins");
      break;
    case SampleVerdict::kUnknownGpu:
      at.Report(stats->rejected, "unknown_gpu", order, "GPU index " + std::to_string(gpu));
      break;
    case SampleVerdict::kUnknownMachine:
      at.Report(stats->rejected, "unknown_machine", order, "machine not in the inventory");
      break;
    case SampleVerdict::kOutOfOrder:
    case SampleVerdict::kNeedsSamples:
      return false;
  }
  return true;
}

}  // namespace

bool TelemetryBuckets::ByTimeThenOrder(const Held& a, const Held& b) {
  return a.t != b.t ? a.t < b.t : a.order < b.order;
}

uint32_t TelemetryBuckets::AddFile(const std::string& path, int line_shift) {
  files_.push_back(path);
  line_shifts_.push_back(line_shift);
  return static_cast<uint32_t>(files_.size() - 1);
}

TelemetryBuckets::Machine* TelemetryBuckets::Slot(const std::string& name) {
  auto [it, added] = machines_.try_emplace(name);
  Machine& m = it->second;
  if (added) {
    m.dropped = DropsUnseen(name);
    m.keeps_runs = std::find(keep_runs_.begin(), keep_runs_.end(), name) != keep_runs_.end();
    if (kind_ == Kind::kIndex && run_gap_ms_ > 0) m.runs.emplace(run_gap_ms_);
  }
  return &m;
}

bool TelemetryBuckets::Drops(std::string_view machine) const {
  auto it = machines_.find(machine);
  return it == machines_.end() ? DropsUnseen(machine) : it->second.dropped;
}

bool TelemetryBuckets::DropsUnseen(std::string_view machine) const {
  return kind_ == Kind::kStream || (!hold_only_.empty() && machine != hold_only_);
}

void TelemetryBuckets::HoldOnly(const std::string& machine) { hold_only_ = machine; }

void TelemetryBuckets::Add(Machine* machine, int gpu, TimeMs t, double util_pct, uint64_t order,
                           double memory_mib, int32_t workload) {
  if (machine->dropped) return;
  const Held h{t,   order,   static_cast<float>(util_pct), static_cast<float>(memory_mib),
               gpu, workload};
  switch (kind_) {
    case Kind::kHold:
      machine->samples.push_back(h);
      return;
    case Kind::kIndex:
      ++machine->sample_count;
      machine->gpus = std::max(machine->gpus, gpu + 1);
      SeenIn(machine, order);
      if (machine->keeps_runs) machine->workload_samples.push_back({t, gpu, workload});
      if (machine->runs) machine->runs->Add(gpu, t, workload);
      return;
    case Kind::kStream:
      Streams(machine, h);
      return;
  }
}

void TelemetryBuckets::SeenIn(Machine* m, uint64_t order) { JoinSpan(&m->seen, {order, order}); }

void TelemetryBuckets::JoinSpan(std::vector<OrderSpan>* spans, OrderSpan span) {
  if (!spans->empty()) {
    OrderSpan& last = spans->back();
    if (span.first >> 40 == last.first >> 40 && span.first >= last.first &&
        span.first <= last.last + kSpanGap) {
      last.last = std::max(last.last, span.last);
      return;
    }
  }
  spans->push_back(span);
}

int32_t TelemetryBuckets::WorkloadOf(
    const std::string& machine, const std::vector<std::pair<std::string, std::string>>& labels) {
  auto label = [&](const char* key) {
    for (const auto& [k, v] : labels) {
      if (k == key) return v;
    }
    return std::string();
  };
  SeriesWorkload w;
  if (!SeriesWorkloadOf(label, &w)) return -1;
  Machine& m = *Slot(machine);
  auto [it, added] =
      m.workload_index.try_emplace(w.Name(), static_cast<int32_t>(m.workloads.size()));
  if (added) {
    w.labels.insert(labels.begin(), labels.end());
    m.workloads.push_back(std::move(w));
  }
  return it->second;
}

void TelemetryBuckets::AddLabels(const std::string& machine,
                                 const std::vector<std::pair<std::string, std::string>>& labels) {
  bool names_workload = false;
  for (const auto& [key, value] : labels) {
    if (!value.empty() &&
        (key == "pod" || key == "exported_pod" || key == "pod_name" || key == "hpc_job")) {
      names_workload = true;
    }
  }
  std::map<std::string, std::string>& held = Slot(machine)->labels;
  for (const auto& [key, value] : labels) {
    if (IsWorkloadLabel(key) || (names_workload && !IsNodeLabel(key))) continue;
    held.try_emplace(key, value);
  }
}

void TelemetryBuckets::AddMemory(Machine* machine, int gpu, TimeMs t, double memory_mib,
                                 uint64_t order) {
  if (machine->dropped) return;
  const HeldMemory r{t, order, static_cast<float>(memory_mib), gpu};
  switch (kind_) {
    case Kind::kHold:
      machine->memory.push_back(r);
      return;
    case Kind::kIndex:
      ++machine->memory_count;
      SeenIn(machine, order);
      return;
    case Kind::kStream:
      StreamsMemory(machine, r);
      return;
  }
}

void TelemetryBuckets::JoinMemory(std::vector<HeldMemory>* memory, std::vector<Held>* samples) {
  std::vector<HeldMemory>& m = *memory;
  if (m.empty()) return;
  // By (instant, GPU, input order): the order a scrape or a long table already has, so the sort
  // is mostly skipped; and with the samples by (instant, input order), the reading a sample
  // needs is mostly the one after the last.
  auto before = [](const HeldMemory& a, const HeldMemory& b) {
    if (a.t != b.t) return a.t < b.t;
    return a.gpu != b.gpu ? a.gpu < b.gpu : a.order < b.order;
  };
  SortRuns(&m, before);
  const size_t n = m.size();
  auto same = [](const HeldMemory& r, const Held& s) { return r.t == s.t && r.gpu == s.gpu; };
  size_t hint = 0;
  for (Held& h : *samples) {
    // The last reading read of this GPU at this instant: the end of its equal range.
    size_t end;
    if (hint < n && same(m[hint], h) && (hint + 1 == n || !same(m[hint + 1], h))) {
      end = hint + 1;
    } else {
      end = std::upper_bound(m.begin(), m.end(), h,
                             [](const Held& s, const HeldMemory& r) {
                               return s.t != r.t ? s.t < r.t : s.gpu < r.gpu;
                             }) -
            m.begin();
    }
    if (end > 0 && same(m[end - 1], h)) h.memory_mib = m[end - 1].memory_mib;
    hint = end;
  }
}

void TelemetryBuckets::Merge(TelemetryBuckets&& other) {
  for (auto& [name, theirs] : other.machines_) {
    Machine& m = *Slot(name);
    std::vector<int32_t> renumber(theirs.workloads.size());
    for (size_t i = 0; i < theirs.workloads.size(); ++i) {
      SeriesWorkload& w = theirs.workloads[i];
      auto [it, added] =
          m.workload_index.try_emplace(w.Name(), static_cast<int32_t>(m.workloads.size()));
      if (added) m.workloads.push_back(std::move(w));
      renumber[i] = it->second;
    }
    if (m.samples.empty() && renumber.empty()) {
      m.samples = std::move(theirs.samples);
    } else {
      for (Held h : theirs.samples) {
        if (h.workload >= 0) h.workload = renumber[h.workload];
        m.samples.push_back(h);
      }
    }
    m.memory.insert(m.memory.end(), theirs.memory.begin(), theirs.memory.end());
    m.sample_count += theirs.sample_count, m.memory_count += theirs.memory_count;
    m.gpus = std::max(m.gpus, theirs.gpus);
    for (const OrderSpan& span : theirs.seen) JoinSpan(&m.seen, span);
    if (m.runs && theirs.runs) m.runs->Merge(std::move(*theirs.runs), renumber);
    for (WorkloadSample w : theirs.workload_samples) {
      if (w.workload >= 0) w.workload = renumber[w.workload];
      m.workload_samples.push_back(w);
    }
    m.spans.insert(m.spans.end(), theirs.spans.begin(), theirs.spans.end());
    for (auto& [key, value] : theirs.labels) m.labels.try_emplace(key, std::move(value));
  }
  other.machines_.clear();
}

void TelemetryBuckets::AddSpan(const std::string& machine, int gpu, TimeMs from, TimeMs to,
                               DurationMs below_ms, DurationMs above_ms, uint64_t order) {
  Machine* m = Slot(machine);
  if (!m->dropped) m->spans.push_back({from, to, below_ms, above_ms, order, gpu});
}

std::vector<TelemetrySource> TelemetryBuckets::Sources(DurationMs max_gap_ms) {
  std::vector<TelemetrySource> out;
  using Files = std::pair<std::vector<std::string>, std::vector<int>>;
  const auto files = std::make_shared<const Files>(files_, line_shifts_);
  for (auto& [machine, held] : machines_) {
    if (held.samples.empty() && held.spans.empty()) continue;  // memory or labels alone
    auto sorted = std::make_shared<std::vector<Held>>(std::move(held.samples));
    auto spans = std::make_shared<std::vector<HeldSpan>>(std::move(held.spans));
    std::sort(spans->begin(), spans->end(), [](const HeldSpan& a, const HeldSpan& b) {
      return a.gpu != b.gpu ? a.gpu < b.gpu : a.from < b.from;
    });
    // Most exports come in time order (a long table, a scrape per file: checked, not sorted) or
    // series by series, each in time order (query_range JSON: its runs merged).
    SortRuns(sorted.get(), ByTimeThenOrder);
    JoinMemory(&held.memory, sorted.get());
    held.memory = {};
    TelemetrySource src;
    src.machine = machine;
    src.labels = std::move(held.labels);
    src.workloads = std::move(held.workloads);
    if (!src.workloads.empty()) {
      std::vector<WorkloadSample> samples;
      samples.reserve(sorted->size());
      for (const Held& h : *sorted) samples.push_back({h.t, h.gpu, h.workload});
      src.workload_runs = WorkloadRuns(std::move(samples), max_gap_ms);
    }
    src.bytes = sorted->size() * sizeof(Held) + spans->size() * sizeof(HeldSpan);
    for (uint32_t i = 0; i < files_.size(); ++i) {
      src.files.push_back(files_[i]);
      src.file_indices.push_back(i);
    }
    src.feed = [sorted, spans, files](SampleSink* sink, SourceStats* stats,
                                      std::atomic<uint64_t>*) -> Result<bool> {
      const Positions at{files->first, files->second};
      std::unordered_map<int32_t, int32_t> last_workload;  // by GPU: of its last sample
      for (const Held& h : *sorted) {
        if (!Deliver(sink, h.gpu, h.t, h.util_pct, h.order, h.memory_mib, h.workload,
                     &last_workload.try_emplace(h.gpu, -1).first->second, stats, at)) {
          return false;  // cannot happen: the samples are sorted
        }
      }
      for (const HeldSpan& h : *spans) {
        switch (sink->AddSpan(h.gpu, h.from, h.to, h.below_ms, h.above_ms, h.order)) {
          case SampleVerdict::kNeedsSamples:
            return MakeError(ErrorCode::kUsage,
                             "server-side roll-ups carry no samples; this needs the raw path "
                             "(drop --rollup)");
          case SampleVerdict::kUnknownGpu:
            at.Report(stats->rejected, "unknown_gpu", h.order,
                      "GPU index " + std::to_string(h.gpu));
            break;
          case SampleVerdict::kUnknownMachine:
            at.Report(stats->rejected, "unknown_machine", h.order, "machine not in the inventory");
            break;
          default:
            ++stats->rows_accepted;
        }
      }
      return true;
    };
    out.push_back(std::move(src));
  }
  machines_.clear();
  return out;
}

std::vector<TelemetryBuckets::Indexed> TelemetryBuckets::Index(DurationMs max_gap_ms) {
  std::vector<Indexed> out;
  for (auto& [machine, m] : machines_) {
    if (m.sample_count == 0) continue;  // memory or labels alone
    Indexed x;
    TelemetrySource& src = x.source;
    src.machine = machine;
    src.labels = std::move(m.labels);
    src.workloads = std::move(m.workloads);
    if (!src.workloads.empty()) {
      if (m.keeps_runs) {
        src.workload_runs = WorkloadRuns(std::move(m.workload_samples), max_gap_ms);
      } else if (m.runs && !m.runs->failed()) {
        src.workload_runs = m.runs->Runs();
      } else {
        x.runs_known = false;
      }
    }
    src.bytes = m.sample_count * sizeof(Held);
    src.gpus = m.gpus;
    for (uint32_t i = 0; i < files_.size(); ++i) {
      src.files.push_back(files_[i]);
      src.file_indices.push_back(i);
    }
    x.seen = std::move(m.seen);
    x.separate_memory = m.memory_count > 0;
    out.push_back(std::move(x));
  }
  machines_.clear();
  return out;
}

void TelemetryBuckets::Bind(const std::string& machine, SharedTelemetryFeed::Target target,
                            bool joins_memory) {
  Machine& m = *Slot(machine);
  m.dropped = false;
  m.target = target;
  m.joins_memory = joins_memory;
}

void TelemetryBuckets::Streams(Machine* m, const Held& h) {
  if (m->broken) return;
  if (each_file_) return m->pending.push_back(h);
  if (!m->joins_memory) return Feeds(m, h);
  if (h.t != m->pending_t) {
    if (h.t < m->pending_t) {
      m->broken = true;
      return;
    }
    Flush(m);
    m->pending_t = h.t;
  }
  m->pending.push_back(h);
}

void TelemetryBuckets::StreamsMemory(Machine* m, const HeldMemory& r) {
  if (m->broken) return;
  if (each_file_) return m->pending_memory.push_back(r);
  if (r.t != m->pending_t) {
    // An earlier instant's samples were fed without it; without joining, it would be dropped.
    if (r.t < m->pending_t || !m->joins_memory) {
      m->broken = true;
      return;
    }
    Flush(m);
    m->pending_t = r.t;
  }
  m->pending_memory.push_back(r);
}

void TelemetryBuckets::Flush(Machine* m) {
  if (!m->pending_memory.empty()) JoinMemory(&m->pending_memory, &m->pending);
  for (const Held& h : m->pending) {
    Feeds(m, h);
    if (m->broken) break;
  }
  m->pending.clear();
  m->pending_memory.clear();
}

void TelemetryBuckets::Feeds(Machine* m, const Held& h) {
  if (m->broken) return;
  if (static_cast<size_t>(h.gpu) >= m->last_workload.size()) {
    m->last_workload.resize(static_cast<size_t>(h.gpu) + 1, -1);
  }
  const Positions at{files_, line_shifts_};
  if (!Deliver(m->target.sink, h.gpu, h.t, h.util_pct, h.order, h.memory_mib, h.workload,
               &m->last_workload[static_cast<size_t>(h.gpu)], m->target.stats, at)) {
    m->broken = true;
  }
}

void TelemetryBuckets::EndFile() {
  if (!each_file_) return;
  for (auto& [name, m] : machines_) {
    if (m.target.sink == nullptr || m.broken) continue;
    SortRuns(&m.pending, ByTimeThenOrder);
    Flush(&m);
  }
}

std::vector<std::string> TelemetryBuckets::EndStream() {
  EndFile();
  std::vector<std::string> broken;
  for (auto& [name, m] : machines_) {
    if (m.target.sink == nullptr) continue;
    if (!m.broken && m.joins_memory) Flush(&m);
    if (m.broken) broken.push_back(name);
  }
  return broken;
}

}  // namespace gpuledger
