// The knobs of the audit (DESIGN.md, "Attribution of GPU time").
#pragma once

#include <optional>

#include "core/time.h"

namespace gpuledger {

struct AuditOptions {
  double threshold_pct = 5;                  // below it a sample is idle
  DurationMs max_gap_ms = 5 * kMsPerMinute;  // how long one sample stands at most
  TimeMs window_from = kTimeMin;             // the audit window, [from, to)
  TimeMs window_to = kTimeMax;
  // Set: no inventory; every machine seen in telemetry is billed from its first to its last
  // sample (+ max_gap) at this price per GPU-hour for each GPU seen.
  std::optional<double> price_per_gpu_hour;
  // A sample below threshold with at least this much GPU memory in use is held idle.
  double held_memory_mib = 1024;
  int threads = 0;  // 0: one per core
  // Also per-UTC-day figures of each machine and the spend of each job (MachineResult::days,
  // ::jobs), for the report. Costs memory: one timeline piece per GPU per day at least.
  bool breakdown = false;
  // Also every piece of billed time as a SpendSegment (MachineResult::segments), cut at UTC
  // midnights: what credits and budgets consume in time order.
  bool segments = false;
};

}  // namespace gpuledger
