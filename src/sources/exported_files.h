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
// Files are read twice, and their samples are never all held: an index pass (two files at a
// time, a long table on every core) learns each machine's GPUs, labels, workloads and their
// runs and the files it is in; then the sources' SharedTelemetryFeed reads the files again as
// the audit's sinks take the samples, a group of machines per core, each group reading only
// the files that hold its machines (of a long table in UTC, only the byte ranges that do). Long
// tables and DCGM scrapes stream a row at a time (a DCGM instant waits for its memory readings);
// query_range JSON, series by series with memory in series of its own, is held a file at a time (a
// file a day: a day's samples), sorted and joined. Pods' runs are tracked as the index reads
// (WorkloadRunTracker); a machine whose GPU goes backwards in read order is indexed again holding
// 16 bytes a sample, for its runs. A machine whose samples go backwards across rows or files is
// read again on its own, held and sorted (its "feed").
//
// Tables joined by --memory-telemetry are held whole: 32 bytes a sample (TelemetryBuckets).
Result<std::vector<TelemetrySource>> ReadExportedTelemetry(const std::vector<TelemetryFile>& files,
                                                           const FleetPaths& paths,
                                                           const TimeZone& zone,
                                                           SourceStats* stats);

}  // namespace gpuledger
