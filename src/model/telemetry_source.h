// One machine's telemetry, however it is stored: files to parse, or samples made in memory.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/problems.h"
#include "model/sample_sink.h"
#include "model/series_workload.h"

namespace gpuledger {

// Telemetry of many machines in files that mix them (exported long tables, DCGM scrapes), read
// once for all of them instead of once per machine.
class SharedTelemetryFeed {
 public:
  struct Target {
    SampleSink* sink;
    SourceStats* stats;  // the machine's: accepted rows and the sink's verdicts
  };
  virtual ~SharedTelemetryFeed() = default;
  // Reads the files that hold any machine of "targets" (by name) once, feeding each its samples
  // as they are read. Returns the machines whose samples could not be fed that way (a GPU that
  // goes backwards in time, a memory reading after its instant was fed): their sinks and stats
  // are spoilt, and the caller feeds them again from scratch through TelemetrySource::feed.
  virtual Result<std::vector<std::string>> Feed(const std::map<std::string, Target>& targets) = 0;
};

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
  // When set, the machine's samples are read by this feed with other machines' (IngestFleet
  // groups them), and "feed" is the fallback that holds and sorts them.
  std::shared_ptr<SharedTelemetryFeed> shared;
  // The highest GPU index the telemetry names, plus one, when known without feeding; -1 if not.
  int gpus = -1;
};

}  // namespace gpuledger
