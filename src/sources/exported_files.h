// Exported telemetry files (long tables, DCGM scrapes, query_range JSON) read for the fleet
// loader: every file once to learn the machines, then read again as the audit consumes it.
#pragma once

#include <vector>

#include "core/time_zone.h"
#include "model/telemetry_source.h"
#include "sources/load_fleet.h"
#include "sources/telemetry_files.h"

namespace gpuledger {

// One source per machine of "files" (and the memory tables of "paths"), with what reading them
// found (rows read, rejections, notes) in "stats".
//
// Long tables and DCGM scrapes (without --memory-telemetry) are read twice and never held: an
// index pass (two files at a time, a long table on every core) learns each machine's GPUs,
// labels, workloads and their runs; then the sources' SharedTelemetryFeed reads the files again
// as the audit's sinks take the samples, a machine group per core, each reading only the files
// that hold its machines. Memory stays flat in the samples (a pod-labelled fleet also holds 16
// bytes a sample of the machines that run pods, for their runs, during the index). A machine
// whose rows go backwards in time is then read on its own, held and sorted (its "feed").
//
// query_range JSON (series by series, memory in series of its own) and tables joined by
// --memory-telemetry are held: 32 bytes a sample, sorted per machine (TelemetryBuckets).
Result<std::vector<TelemetrySource>> ReadExportedTelemetry(const std::vector<TelemetryFile>& files,
                                                           const FleetPaths& paths,
                                                           const TimeZone& zone,
                                                           SourceStats* stats);

}  // namespace gpuledger
