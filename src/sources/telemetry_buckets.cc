#include "sources/telemetry_buckets.h"

#include <algorithm>
#include <memory>
#include <unordered_map>

#include "core/sort_runs.h"
#include "sources/workload_runs.h"

namespace gpuledger {

uint32_t TelemetryBuckets::AddFile(const std::string& path, int line_shift) {
  files_.push_back(path);
  line_shifts_.push_back(line_shift);
  return static_cast<uint32_t>(files_.size() - 1);
}

void TelemetryBuckets::Add(Machine* machine, int gpu, TimeMs t, double util_pct, uint64_t order,
                           double memory_mib, int32_t workload) {
  machine->samples.push_back(
      {t, order, static_cast<float>(util_pct), static_cast<float>(memory_mib), gpu, workload});
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
  Machine& m = machines_[machine];
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
  std::map<std::string, std::string>& held = machines_[machine].labels;
  for (const auto& [key, value] : labels) {
    if (IsWorkloadLabel(key) || (names_workload && !IsNodeLabel(key))) continue;
    held.try_emplace(key, value);
  }
}

void TelemetryBuckets::AddMemory(Machine* machine, int gpu, TimeMs t, double memory_mib,
                                 uint64_t order) {
  machine->memory.push_back({t, order, static_cast<float>(memory_mib), gpu});
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
  m = {};
}

void TelemetryBuckets::Merge(TelemetryBuckets&& other) {
  for (auto& [name, theirs] : other.machines_) {
    Machine& m = machines_[name];
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
    m.spans.insert(m.spans.end(), theirs.spans.begin(), theirs.spans.end());
    for (auto& [key, value] : theirs.labels) m.labels.try_emplace(key, std::move(value));
  }
  other.machines_.clear();
}

void TelemetryBuckets::AddSpan(const std::string& machine, int gpu, TimeMs from, TimeMs to,
                               DurationMs below_ms, DurationMs above_ms, uint64_t order) {
  machines_[machine].spans.push_back({from, to, below_ms, above_ms, order, gpu});
}

std::vector<TelemetrySource> TelemetryBuckets::Sources(DurationMs max_gap_ms) {
  std::vector<TelemetrySource> out;
  for (auto& [machine, held] : machines_) {
    if (held.samples.empty() && held.spans.empty()) continue;  // memory or labels alone
    auto sorted = std::make_shared<std::vector<Held>>(std::move(held.samples));
    auto spans = std::make_shared<std::vector<HeldSpan>>(std::move(held.spans));
    std::sort(spans->begin(), spans->end(), [](const HeldSpan& a, const HeldSpan& b) {
      return a.gpu != b.gpu ? a.gpu < b.gpu : a.from < b.from;
    });
    // Most exports come in time order (a long table, a scrape per file: checked, not sorted) or
    // series by series, each in time order (query_range JSON: its runs merged).
    auto before = [](const Held& a, const Held& b) {
      return a.t != b.t ? a.t < b.t : a.order < b.order;
    };
    SortRuns(sorted.get(), before);
    JoinMemory(&held.memory, sorted.get());
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
    const std::vector<std::string> files = files_;
    const std::vector<int> shifts = line_shifts_;
    src.feed = [sorted, spans, files, shifts](SampleSink* sink, SourceStats* stats,
                                              std::atomic<uint64_t>*) -> Result<bool> {
      auto report = [&](Problems& p, std::string_view reason, uint64_t order, std::string detail) {
        const uint32_t file = static_cast<uint32_t>(order >> 40);
        if (file >= files.size()) return p.Add(reason, "(telemetry)", 0, order, detail);
        const uint64_t line = (order & ((uint64_t{1} << 40) - 1)) >> shifts[file];
        p.Add(reason, files[file], line, order, detail);
      };
      std::unordered_map<int32_t, int32_t> last_workload;  // by GPU: of its last sample
      for (const Held& h : *sorted) {
        const SampleVerdict verdict = sink->Add(h.gpu, h.t, h.util_pct, h.order, h.memory_mib);
        int32_t& last = last_workload[h.gpu];
        const bool shared = verdict == SampleVerdict::kDuplicate && h.workload >= 0 && last >= 0 &&
                            last != h.workload;
        last = h.workload;
        switch (verdict) {
          case SampleVerdict::kAccepted:
            ++stats->rows_accepted;
            break;
          case SampleVerdict::kDuplicate:
            ++stats->rows_accepted;
            if (shared) {
              report(stats->notes, "shared_gpu", h.order,
                     "GPU " + std::to_string(h.gpu) +
                         " carries series of several workloads at one instant (time-slicing, "
                         "MPS): its time is split equally among them");
              break;
            }
            report(stats->notes, "duplicate_time", h.order,
                   "GPU " + std::to_string(h.gpu) +
                       " already had a sample at this instant; the later row wins");
            break;
          case SampleVerdict::kUnknownGpu:
            report(stats->rejected, "unknown_gpu", h.order, "GPU index " + std::to_string(h.gpu));
            break;
          case SampleVerdict::kUnknownMachine:
            report(stats->rejected, "unknown_machine", h.order, "machine not in the inventory");
            break;
          case SampleVerdict::kOutOfOrder:
          case SampleVerdict::kNeedsSamples:
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
            report(stats->rejected, "unknown_gpu", h.order, "GPU index " + std::to_string(h.gpu));
            break;
          case SampleVerdict::kUnknownMachine:
            report(stats->rejected, "unknown_machine", h.order, "machine not in the inventory");
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

}  // namespace gpuledger
