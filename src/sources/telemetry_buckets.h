// Telemetry from files that mix machines (Prometheus query_range exports, DCGM scrapes, long
// tables): their samples are held per machine and replayed, in time order, as one
// TelemetrySource each. Memory grows with the samples held (24 bytes each), unlike the
// streamed nvidia-smi path: use it for exports, not for months of 1 Hz logs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "model/telemetry_source.h"

namespace gpuledger {

class TelemetryBuckets {
 public:
  // Registers a file; returns its index for InputOrder and problem reports. A reader whose
  // order keys carry more than a line number (JSON: series << 20 | point) gives the shift that
  // turns the key's line part back into the position it reports.
  uint32_t AddFile(const std::string& path, int line_shift = 0);

  // One valid sample (util in [0, 100]) of "machine"; order = InputOrder(file, line);
  // "workload" the WorkloadOf its series, -1 for none.
  void Add(const std::string& machine, int gpu, TimeMs t, double util_pct, uint64_t order,
           double memory_mib = kNoMemory, int32_t workload = -1);

  // The workload (a pod, a Slurm job) a series of "machine" with these labels names, numbered
  // per machine; -1 when its labels name none (SeriesWorkloadOf).
  int32_t WorkloadOf(const std::string& machine,
                     const std::vector<std::pair<std::string, std::string>>& labels);

  // A memory reading given apart from utilisation (a DCGM FB_USED line, a memory table): it
  // joins the utilisation sample of the same machine and GPU at the same instant, the last
  // read winning; a reading that meets no sample is dropped.
  void AddMemory(const std::string& machine, int gpu, TimeMs t, double memory_mib, uint64_t order);

  // Labels of one of "machine"'s series that describe the machine; the first value of each
  // label wins. __name__ and the GPU's own labels are kept too. Workload labels (namespace, pod,
  // container, hpc_job, IsWorkloadLabel) are not the machine's, nor is any label of a series
  // that names a workload unless IsNodeLabel says it describes the node: a pod's labels never
  // name the owner of its node's own GPU time.
  void AddLabels(const std::string& machine,
                 const std::vector<std::pair<std::string, std::string>>& labels);

  // One roll-up span of "machine" (SampleSink::AddSpan). Spans are held 48 bytes each.
  void AddSpan(const std::string& machine, int gpu, TimeMs from, TimeMs to, DurationMs below_ms,
               DurationMs above_ms, uint64_t order);

  // One source per machine. Each feeds its samples by (time, input order), so rows of a GPU at
  // one instant collapse to the last read (noted duplicate_time; shared_gpu when they are
  // series of different workloads: a time-sliced GPU), and counts accepted rows. Rows read and
  // rejected are the readers' to count. Each carries its workloads and their runs
  // (WorkloadRuns, with "max_gap_ms").
  std::vector<TelemetrySource> Sources(DurationMs max_gap_ms = 5 * kMsPerMinute);

 private:
  struct Held {
    TimeMs t;
    uint64_t order;
    float util_pct;
    float memory_mib;
    int32_t gpu;
    int32_t workload;
  };
  std::vector<std::string> files_;
  std::vector<int> line_shifts_;
  struct HeldSpan {
    TimeMs from, to;
    DurationMs below_ms, above_ms;
    uint64_t order;
    int32_t gpu;
  };
  struct HeldMemory {
    TimeMs t;
    uint64_t order;
    float memory_mib;
    int32_t gpu;
  };
  struct Machine {
    std::vector<Held> samples;
    std::vector<HeldSpan> spans;
    std::vector<HeldMemory> memory;
    std::map<std::string, std::string> labels;
    std::vector<SeriesWorkload> workloads;
    std::map<std::string, int32_t> workload_index;  // by SeriesWorkload::Name()
  };
  // Joins each machine's memory readings to its samples (once, before the first Sources()).
  void JoinMemory();
  bool joined_ = false;
  std::map<std::string, Machine> machines_;
};

}  // namespace gpuledger
