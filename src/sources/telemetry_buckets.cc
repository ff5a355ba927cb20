#include "sources/telemetry_buckets.h"

#include <algorithm>
#include <memory>
#include <unordered_map>

#include "sources/workload_runs.h"

namespace gpuledger {

uint32_t TelemetryBuckets::AddFile(const std::string& path, int line_shift) {
  files_.push_back(path);
  line_shifts_.push_back(line_shift);
  return static_cast<uint32_t>(files_.size() - 1);
}

void TelemetryBuckets::Add(const std::string& machine, int gpu, TimeMs t, double util_pct,
                           uint64_t order, double memory_mib, int32_t workload) {
  machines_[machine].samples.push_back(
      {t, order, static_cast<float>(util_pct), static_cast<float>(memory_mib), gpu, workload});
  joined_ = false;
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

void TelemetryBuckets::AddMemory(const std::string& machine, int gpu, TimeMs t, double memory_mib,
                                 uint64_t order) {
  machines_[machine].memory.push_back({t, order, static_cast<float>(memory_mib), gpu});
  joined_ = false;
}

void TelemetryBuckets::JoinMemory() {
  for (auto& [name, m] : machines_) {
    if (m.memory.empty()) continue;
    std::sort(m.memory.begin(), m.memory.end(), [](const HeldMemory& a, const HeldMemory& b) {
      if (a.gpu != b.gpu) return a.gpu < b.gpu;
      return a.t != b.t ? a.t < b.t : a.order < b.order;
    });
    for (Held& h : m.samples) {
      // The last reading read of this GPU at this instant: the end of its equal range.
      auto it = std::upper_bound(m.memory.begin(), m.memory.end(), h,
                                 [](const Held& s, const HeldMemory& r) {
                                   return s.gpu != r.gpu ? s.gpu < r.gpu : s.t < r.t;
                                 });
      if (it != m.memory.begin() && std::prev(it)->gpu == h.gpu && std::prev(it)->t == h.t) {
        h.memory_mib = std::prev(it)->memory_mib;
      }
    }
  }
  joined_ = true;
}

void TelemetryBuckets::AddSpan(const std::string& machine, int gpu, TimeMs from, TimeMs to,
                               DurationMs below_ms, DurationMs above_ms, uint64_t order) {
  machines_[machine].spans.push_back({from, to, below_ms, above_ms, order, gpu});
}

std::vector<TelemetrySource> TelemetryBuckets::Sources(DurationMs max_gap_ms) {
  if (!joined_) JoinMemory();
  std::vector<TelemetrySource> out;
  for (const auto& [machine, held] : machines_) {
    if (held.samples.empty() && held.spans.empty()) continue;  // memory or labels alone
    auto sorted = std::make_shared<std::vector<Held>>(held.samples);
    auto spans = std::make_shared<std::vector<HeldSpan>>(held.spans);
    std::sort(spans->begin(), spans->end(), [](const HeldSpan& a, const HeldSpan& b) {
      return a.gpu != b.gpu ? a.gpu < b.gpu : a.from < b.from;
    });
    std::sort(sorted->begin(), sorted->end(), [](const Held& a, const Held& b) {
      return a.t != b.t ? a.t < b.t : a.order < b.order;
    });
    TelemetrySource src;
    src.machine = machine;
    src.labels = held.labels;
    src.workloads = held.workloads;
    if (!held.workloads.empty()) {
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
  return out;
}

}  // namespace gpuledger
