// Reads the audit's inputs from disk: telemetry paths, inventory (or a flat price), jobs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "audit/audit_runner.h"
#include "core/error.h"
#include "core/problems.h"
#include "core/time_zone.h"
#include "model/fleet.h"
#include "model/telemetry_source.h"
#include "sources/exported_telemetry.h"
#include "sources/focus_billing.h"
#include "sources/prometheus_api.h"

namespace gpuledger {

struct FleetPaths {
  std::vector<std::string> telemetry;  // files or directories of nvidia-smi CSV logs
  std::string machine;                 // names the machine of single files, when set
  std::string inventory;               // inventory CSV; empty with price_per_gpu_hour
  std::string billing;                 // FOCUS CSV: the cost source (the inventory, if given,
                                       // then only gives GPU counts and owners)
  FocusOptions focus;
  std::string jobs;                 // job records, optional
  std::string jobs_format = "csv";  // csv (the jobs CSV) or sacct (`sacct -P` output)
  // nvidia-smi (streamed, one file per machine), or exports that mix machines: prometheus
  // (query_range JSON), dcgm (timestamped exporter text), long (time, series, value CSV).
  std::string telemetry_format = "nvidia-smi";
  SeriesMapping mapping;
  // Set: telemetry comes from this Prometheus-compatible server instead of files.
  std::optional<PrometheusQuery> prometheus;
  std::optional<RollupSpec> rollup;  // with prometheus: server-side roll-ups, not raw samples
  // Long tables of GPU memory in use, joined to the utilisation samples (--memory-telemetry);
  // their value column is memory_value_col, in mapping.memory_unit.
  std::vector<std::string> memory_telemetry;
  std::string memory_value_col = "value";
  // DCGM scrapes without timestamps stand at this instant (--scrape-time); unset: each file's
  // modification time.
  std::optional<TimeMs> scrape_time;
  std::string owners;  // --owners owners.toml: rules naming owners, teams and projects
  // How long one sample stands at most (--max-gap): where the runs of pods named by telemetry
  // labels end (sources/workload_jobs.h).
  DurationMs max_gap_ms = 5 * kMsPerMinute;
  // Workers reading exported telemetry files at once (0: one per core).
  int threads = 0;
};

struct LoadedFleet {
  Fleet fleet;
  std::vector<TelemetrySource> telemetry;
  SourceStats telemetry_stats;   // what reading exported telemetry found (rows, rejections)
  bool telemetry_given = false;  // telemetry paths or a server were named
  std::vector<std::string> telemetry_files;  // the telemetry files listed
  SourceStats inventory_stats;
  SourceStats jobs_stats;
};

// The audit's inputs as loaded (they point into "loaded", which must outlive them).
AuditInputs InputsOf(const LoadedFleet& loaded);

// Lists telemetry, reads the inventory and the jobs. With "price_per_gpu_hour", every machine
// seen in telemetry is billed from telemetry at that price and no inventory is read.
// Fails (kIo) naming a path that cannot be read, or (kParse) a table whose header lacks a
// required column. "zone" must outlive the result (its telemetry sources read with it).
Result<LoadedFleet> LoadFleet(const FleetPaths& paths, std::optional<double> price_per_gpu_hour,
                              const TimeZone* zone);

}  // namespace gpuledger
