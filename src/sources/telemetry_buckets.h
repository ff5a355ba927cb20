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
  struct Machine;
  // The slot of the machine named "name", made on first use; it stays valid (and the same) for
  // the buckets' life until Sources(). Readers that meet one machine on many rows keep it, so a
  // row costs no lookup by name.
  Machine* Slot(const std::string& name) { return &machines_[name]; }

  // Registers a file; returns its index for InputOrder and problem reports. A reader whose
  // order keys carry more than a line number (JSON: series << 20 | point) gives the shift that
  // turns the key's line part back into the position it reports.
  uint32_t AddFile(const std::string& path, int line_shift = 0);

  // One valid sample (util in [0, 100]) of "machine"; order = InputOrder(file, line);
  // "workload" the WorkloadOf its series, -1 for none.
  void Add(const std::string& machine, int gpu, TimeMs t, double util_pct, uint64_t order,
           double memory_mib = kNoMemory, int32_t workload = -1) {
    Add(Slot(machine), gpu, t, util_pct, order, memory_mib, workload);
  }
  void Add(Machine* machine, int gpu, TimeMs t, double util_pct, uint64_t order,
           double memory_mib = kNoMemory, int32_t workload = -1);

  // The workload (a pod, a Slurm job) a series of "machine" with these labels names, numbered
  // per machine; -1 when its labels name none (SeriesWorkloadOf).
  int32_t WorkloadOf(const std::string& machine,
                     const std::vector<std::pair<std::string, std::string>>& labels);

  // A memory reading given apart from utilisation (a DCGM FB_USED line, a memory table): it
  // joins the utilisation sample of the same machine and GPU at the same instant, the last
  // read winning; a reading that meets no sample is dropped.
  void AddMemory(const std::string& machine, int gpu, TimeMs t, double memory_mib, uint64_t order) {
    AddMemory(Slot(machine), gpu, t, memory_mib, order);
  }
  void AddMemory(Machine* machine, int gpu, TimeMs t, double memory_mib, uint64_t order);

  // Labels of one of "machine"'s series that describe the machine; the first value of each
  // label wins. __name__ and the GPU's own labels are kept too. Workload labels (namespace, pod,
  // container, hpc_job, IsWorkloadLabel) are not the machine's, nor is any label of a series
  // that names a workload unless IsNodeLabel says it describes the node: a pod's labels never
  // name the owner of its node's own GPU time.
  void AddLabels(const std::string& machine,
                 const std::vector<std::pair<std::string, std::string>>& labels);

  // Takes what "other" holds (its files must be this one's: readers of one file each, on their
  // own buckets, merged in file order), as if it had been read into this one next: samples,
  // memory readings and spans appended, labels whose key is new added, workloads numbered on.
  void Merge(TelemetryBuckets&& other);

  // One roll-up span of "machine" (SampleSink::AddSpan). Spans are held 48 bytes each.
  void AddSpan(const std::string& machine, int gpu, TimeMs from, TimeMs to, DurationMs below_ms,
               DurationMs above_ms, uint64_t order);

  // One source per machine, made once: the samples move into the sources, and the buckets are
  // left empty. Each feeds its samples by (time, input order), so rows of a GPU at
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

 public:
  // What is held of one machine (reached through Slot()).
  struct Machine {
    std::vector<Held> samples;
    std::vector<HeldSpan> spans;
    std::vector<HeldMemory> memory;
    std::map<std::string, std::string> labels;
    std::vector<SeriesWorkload> workloads;
    std::map<std::string, int32_t> workload_index;  // by SeriesWorkload::Name()
  };

 private:
  // Gives each sample the last memory reading read of its GPU at its instant, then drops the
  // readings.
  static void JoinMemory(std::vector<HeldMemory>* memory, std::vector<Held>* samples);
  std::map<std::string, Machine> machines_;
};

}  // namespace gpuledger
