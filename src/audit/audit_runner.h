// Runs the audit over a fleet: machines in parallel, each streamed once (sorted only when its
// telemetry goes backwards in time), then the category partition and its roll-ups.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "audit/audit_options.h"
#include "audit/audit_result.h"
#include "model/fleet.h"
#include "model/telemetry_source.h"

namespace gpuledger {

// Shared counters a progress display may read while the audit runs.
struct AuditProgress {
  std::atomic<uint64_t> bytes_read{0};
  std::atomic<uint64_t> machines_done{0};
  uint64_t bytes_total = 0;
  uint64_t machines_total = 0;
};

struct AuditInputs {
  const Fleet* fleet = nullptr;  // machines with billing, and jobs
  const std::vector<TelemetrySource>* telemetry = nullptr;
  SourceStats inventory_stats;  // carried into the result
  SourceStats jobs_stats;
  SourceStats telemetry_stats;  // what reading exported telemetry found (before the audit)
  // True when telemetry was asked for (files or a server): then an audit that accepts no
  // sample fails (RequireAcceptedSamples) instead of printing an empty partition.
  bool telemetry_given = false;
  std::vector<std::string> telemetry_files;  // the telemetry inputs listed, for that message
};

// Audits "inputs" under "options". Telemetry of a machine the fleet does not have is read and
// its rows are rejected as unknown_machine. Fails only when telemetry cannot be read.
Result<AuditResult> RunAudit(const AuditInputs& inputs, const AuditOptions& options,
                             AuditProgress* progress = nullptr);

}  // namespace gpuledger
