// The fleet's telemetry loader, shared by the audit and the backtest so that both account for
// their input alike (files, rows, every rejection and note): each machine's telemetry streamed
// into a sink of the caller's kind, telemetry of machines the fleet lacks read and rejected as
// unknown_machine, both cores used.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "audit/audit_runner.h"
#include "model/sample_sink.h"

namespace gpuledger {

struct MachineIngest {
  const Machine* machine = nullptr;         // null: telemetry of a machine not in the fleet
  const TelemetrySource* source = nullptr;  // null: a machine without telemetry
  std::vector<const Job*> jobs;             // its jobs, by (start, input order)
  std::unique_ptr<MachineSink> sink;        // finished; null for an unknown machine
};

using MachineSinkFactory =
    std::function<std::unique_ptr<MachineSink>(const Machine&, const std::vector<const Job*>&)>;

struct FleetIngest {
  std::vector<MachineIngest> machines;  // the fleet's, in fleet order; then unknown machines'
  SourceStats telemetry;                // the telemetry input as every command reports it
};

// Streams every source of "in" into make(machine, jobs) on "threads" workers (largest input
// first). A machine whose samples are typically more than "max_gap_ms" apart gets the
// sparse_polling note. Fails when telemetry cannot be read, or was given and none accepted.
Result<FleetIngest> IngestFleet(const AuditInputs& in, DurationMs max_gap_ms, int threads,
                                const MachineSinkFactory& make, AuditProgress* progress = nullptr);

}  // namespace gpuledger
