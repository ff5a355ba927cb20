// Telemetry from files that mix machines (Prometheus query_range exports, DCGM scrapes, long
// tables), what readers put their samples in. Three kinds:
//  - holding (the default): samples are held per machine and replayed, in time order, as one
//    TelemetrySource each; memory grows with the samples (32 bytes each);
//  - an index: what each machine is (its GPUs, labels, workloads and their runs, the files it
//    is in) without its samples, for sources that read the files again (exported_files.h);
//  - a stream: each sample goes straight into its machine's sink (Bind), in read order, or a
//    file at a time (HoldEachFile).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/telemetry_source.h"
#include "sources/workload_run_tracker.h"
#include "sources/workload_runs.h"

namespace gpuledger {

class TelemetryBuckets {
 public:
  enum class Kind { kHold, kIndex, kStream };
  explicit TelemetryBuckets(Kind kind = Kind::kHold) : kind_(kind) {}
  TelemetryBuckets(TelemetryBuckets&&) = default;
  TelemetryBuckets& operator=(TelemetryBuckets&&) = default;
  Kind kind() const { return kind_; }
  // Empty buckets of this kind that keep what this one keeps (HoldOnly, TrackRuns, KeepRunsOf,
  // HoldEachFile), for a reader of a part to fill and Merge back.
  TelemetryBuckets Sibling() const {
    TelemetryBuckets b(kind_);
    b.hold_only_ = hold_only_, b.keep_runs_ = keep_runs_, b.each_file_ = each_file_;
    b.run_gap_ms_ = run_gap_ms_;
    return b;
  }

  struct Machine;
  // The slot of the machine named "name", made on first use; it stays valid (and the same) for
  // the buckets' life until Sources(). Readers that meet one machine on many rows keep it, so a
  // row costs no lookup by name.
  Machine* Slot(const std::string& name);
  // True when samples of "machine" would be dropped (HoldOnly another, a stream's unbound
  // machine): a reader may skip its rows.
  bool Drops(std::string_view machine) const;

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
  // memory readings and spans appended, labels whose key is new added, workloads numbered on;
  // an index's counts, files and tracked runs (stitched where the parts meet) taken over.
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

  // A holding kind that keeps only "machine"'s samples (the others are dropped as read).
  void HoldOnly(const std::string& machine);

  // Index: a stretch of one file's input orders [first, last] that holds a machine's samples or
  // readings; orders of one file less than kSpanGap apart share a span, so a machine on every
  // few lines of a file has one, a machine written in blocks one a block.
  struct OrderSpan {
    uint64_t first, last;
  };
  static constexpr uint64_t kSpanGap = uint64_t{1} << 14;
  // Index: what was learnt of each machine. "feed" and "shared" are the caller's to set.
  struct Indexed {
    TelemetrySource source;        // machine, labels, workloads, runs, files, gpus, bytes
    std::vector<OrderSpan> seen;   // where its samples and readings are (SeenIn)
    bool separate_memory = false;  // memory readings come apart from samples (to be joined)
    bool runs_known = true;        // source.workload_runs are its runs (see TrackRuns)
  };
  std::vector<Indexed> Index(DurationMs max_gap_ms);
  // Index: workload runs are worked out as samples come (WorkloadRunTracker, "max_gap_ms" as
  // for WorkloadRuns); a machine whose GPU goes backwards in read order gets none
  // (Indexed::runs_known false).
  void TrackRuns(DurationMs max_gap_ms) { run_gap_ms_ = max_gap_ms; }
  // Index: the machines whose runs are worked out from their samples held instead (16 bytes a
  // sample): those a first index could not track.
  void KeepRunsOf(std::vector<std::string> machines) { keep_runs_ = std::move(machines); }

  // Stream: "machine"'s samples go into "target" as they are read; a machine not bound is
  // dropped. "joins_memory": memory readings come apart (Indexed::separate_memory), so the
  // samples of an instant wait for the next instant. EndStream() after the last file: the
  // machines whose stream broke (SharedTelemetryFeed::Feed).
  void Bind(const std::string& machine, SharedTelemetryFeed::Target target, bool joins_memory);
  std::vector<std::string> EndStream();
  // Stream a file at a time (query_range JSON: series by series, memory in series of its
  // own): a file's samples are held until EndFile(), then sorted, joined to its memory
  // readings and fed. A file's samples earlier than the file before's break the machine.
  void HoldEachFile() { each_file_ = true; }
  void EndFile();

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
    bool dropped = false;  // HoldOnly another machine, or a stream's machine not bound
    std::vector<Held> samples;
    std::vector<HeldSpan> spans;
    std::vector<HeldMemory> memory;
    std::map<std::string, std::string> labels;
    std::vector<SeriesWorkload> workloads;
    std::map<std::string, int32_t> workload_index;  // by SeriesWorkload::Name()
    // Index:
    bool keeps_runs = false;  // holds (time, GPU, workload) of each sample for its runs
    uint64_t sample_count = 0, memory_count = 0;
    int gpus = 0;
    std::vector<WorkloadSample> workload_samples;
    std::optional<WorkloadRunTracker> runs;
    std::vector<OrderSpan> seen;  // where its samples and readings are, in read order
    // Stream:
    SharedTelemetryFeed::Target target{nullptr, nullptr};
    bool joins_memory = false, broken = false;
    TimeMs pending_t = kTimeMin;  // the instant waiting for its memory readings
    std::vector<Held> pending;
    std::vector<HeldMemory> pending_memory;
    std::vector<int32_t> last_workload;  // by GPU: of its last sample fed
  };

 private:
  // Gives each sample the last memory reading read of its GPU at its instant; sorts "memory".
  static void JoinMemory(std::vector<HeldMemory>* memory, std::vector<Held>* samples);
  // Samples in the order a source feeds them: by instant, then as read.
  static bool ByTimeThenOrder(const Held& a, const Held& b);
  // Index: the machine has a sample or reading at "order" (its span grows, or one begins).
  static void SeenIn(Machine* m, uint64_t order);
  // Adds "span" to "spans" (in read order): joined to the last when in its file and gap.
  static void JoinSpan(std::vector<OrderSpan>* spans, OrderSpan span);
  // Whether a machine not met yet is dropped (stream: unless bound; HoldOnly another).
  bool DropsUnseen(std::string_view machine) const;
  void Streams(Machine* m, const Held& h);
  void StreamsMemory(Machine* m, const HeldMemory& r);
  void Flush(Machine* m);
  void Feeds(Machine* m, const Held& h);
  Kind kind_;
  std::string hold_only_;
  std::vector<std::string> keep_runs_;
  bool each_file_ = false;
  DurationMs run_gap_ms_ = 0;  // 0: runs not tracked
  std::map<std::string, Machine, std::less<>> machines_;
};

}  // namespace gpuledger
