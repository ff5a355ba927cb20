// One machine's telemetry, however it is stored: files to parse, or samples made in memory.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/problems.h"
#include "model/sample_sink.h"
#include "model/series_workload.h"

namespace gpuledger {

struct TelemetrySource {
  std::string machine;
  uint64_t bytes = 0;  // input size, for scheduling and progress
  // Names of the inputs by file index (for problems found after sorting).
  std::vector<std::string> files;
  std::vector<uint32_t> file_indices;
  // Labels that describe the machine (exports only; TelemetryBuckets::AddLabels), the first
  // value seen of each: never a pod's.
  std::map<std::string, std::string> labels;
  // Workloads its series name (pods, Slurm jobs; exports only) and their runs.
  std::vector<SeriesWorkload> workloads;
  std::vector<WorkloadRun> workload_runs;
  // Feeds every sample into "sink" in read order, counting rows in "stats" and bytes read in
  // "*bytes_read". Returns true when done, false when the sink refused a sample as out of
  // order (the caller may feed again into another sink), or an Error for unreadable input.
  std::function<Result<bool>(SampleSink* sink, SourceStats* stats,
                             std::atomic<uint64_t>* bytes_read)>
      feed;
};

}  // namespace gpuledger
