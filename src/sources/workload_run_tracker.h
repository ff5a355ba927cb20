// The runs of the workloads telemetry labels name (WorkloadRuns), worked out as the samples are
// read instead of from all of them held: what the index pass of exported files keeps of a
// machine, a few numbers per GPU and per run. Gives exactly what WorkloadRuns gives over the
// same samples, as long as each GPU's samples come in time order.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "core/interval_counts.h"
#include "sources/workload_runs.h"

namespace gpuledger {

class WorkloadRunTracker {
 public:
  explicit WorkloadRunTracker(DurationMs max_gap_ms) : max_gap_ms_(max_gap_ms) {}

  // One sample of "gpu" at "t" of "workload" (-1: a series that names none). A sample earlier
  // than its GPU's last one fails the tracker (failed(): its runs are then unknown, and the
  // caller works them out from the samples held).
  void Add(int gpu, TimeMs t, int32_t workload);

  // Takes what "later" tracked (the samples read next; its workloads renumbered by
  // "renumber"), as if they had been added to this one.
  void Merge(WorkloadRunTracker&& later, const std::vector<int32_t>& renumber);

  bool failed() const { return failed_; }

  // The runs, sorted by (workload, start), as WorkloadRuns gives them. Call once, at the end.
  std::vector<WorkloadRun> Runs();

 private:
  // One distinct instant of a GPU and the workloads seen at it, its end not known yet.
  struct Instant {
    TimeMs t = 0;
    std::vector<int32_t> workloads;
  };
  struct Gpu {
    bool seen = false;
    TimeMs first_t = 0;        // its first instant
    bool first_open = true;    // which is its latest too: its end is not known yet
    TimeMs first_end = 0;      // else where it ended (Merge ends an earlier reader's last there)
    Instant last;              // its latest instant: ends at the next, or by the usual interval
    IntervalCounts intervals;  // between its distinct instants, clipped to max_gap + 1 ms
  };
  // A run being built: its events' first and last instants, the largest end, its GPUs.
  struct Run {
    TimeMs first = 0, last = 0, end = 0;
    std::vector<int> gpus;  // sorted
  };

  // The events of "instant" of "gpu" end at "end": each workload's runs take them.
  void Close(int gpu, const Instant& instant, TimeMs end);
  // The events from "first" to "last" of workload w (connected), ending at "end" on "gpus",
  // join its runs: every run within max_gap of them merges with them.
  void Extend(int32_t w, TimeMs first, TimeMs last, TimeMs end, const std::vector<int>& gpus);
  // Where the GPU's latest instant ends when nothing follows it: min(max_gap, the lower median
  // of its intervals) after it.
  TimeMs LastEnd(const Gpu& g) const;

  DurationMs max_gap_ms_;
  bool failed_ = false;
  std::vector<Gpu> gpus_;
  std::vector<std::map<TimeMs, Run>> runs_;  // by workload, by first instant
};

}  // namespace gpuledger
