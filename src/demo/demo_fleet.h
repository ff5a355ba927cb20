// The built-in demo: a synthetic fleet shaped like the talk's (510 machines over two quarters,
// 293 never used, jobs that failed at setup and left machines idling, about 39 % of spend
// below 5 % utilisation). Seeded and reproducible: the same options give the same fleet, in
// memory or written as files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/fleet.h"
#include "model/telemetry_source.h"

namespace gpuledger {

struct DemoOptions {
  int machines = 510;
  int never_used = 293;  // of "machines"
  int days = 182;        // two quarters
  uint64_t seed = 42;
  TimeMs start = 1735689600000;           // 2025-01-01T00:00:00Z
  DurationMs poll_ms = 5 * kMsPerMinute;  // one sample per GPU per poll
};

// What a machine's GPUs are doing over a stretch of time.
enum class Activity : uint8_t {
  kIdle,       // 0-2 % (the default between segments)
  kBusy,       // training: mostly 40-99 %, with stalled hours
  kSetupHang,  // a job that died at setup with the GPU still allocated: 0 %
};

struct ActivitySegment {
  TimeMs from = 0, to = 0;
  Activity activity = Activity::kIdle;
  uint32_t gpu_mask = ~0u;  // GPUs the segment applies to; the others stay idle
};

// Samples are not logged over [from, to): the exporter was down.
struct Outage {
  TimeMs from = 0, to = 0;
};

struct DemoMachinePlan {
  std::vector<ActivitySegment> segments;  // sorted, disjoint
  std::vector<Outage> outages;            // sorted, disjoint
};

struct DemoFleet {
  DemoOptions options;
  Fleet fleet;                         // machines (one billing period each) and jobs
  std::vector<DemoMachinePlan> plans;  // by machine index
  // The top-ups the fleet was bought with: seven batches adding up to a little more than its
  // bill, each bought a few days before the one before it was due to run out.
  std::vector<CreditBatch> credits;
};

// Builds the fleet. Usage error when never_used > machines or a count is not positive.
Result<DemoFleet> MakeDemoFleet(const DemoOptions& options);

// In-memory telemetry, one source per machine, exactly the rows WriteDemoFleet writes.
std::vector<TelemetrySource> DemoTelemetry(const DemoFleet& demo);

// Writes DIR/telemetry/<machine>.csv (nvidia-smi CSV with units), DIR/inventory.csv,
// DIR/jobs.csv and DIR/credits.csv. Fails (kIo) naming the path that could not be written.
Result<void> WriteDemoFleet(const DemoFleet& demo, const std::string& dir);

}  // namespace gpuledger
