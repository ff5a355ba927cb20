// Finding nvidia-smi logs on disk and turning them into per-machine telemetry sources.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"
#include "core/time_zone.h"
#include "model/telemetry_source.h"

namespace gpuledger {

struct TelemetryFile {
  std::string path;
  std::string machine;  // the file name without ".csv", or the --machine override
  uint64_t bytes = 0;
};

// Expands "paths": a file is taken as it is; a directory contributes its *.csv files (not its
// subdirectories). Files are ordered by path. "machine_override", when not empty, names the
// machine of every file given directly (not of files found in directories).
// Fails (kIo) naming the first path that does not exist or cannot be listed.
// "extensions" are those a directory contributes (default: .csv); every other entry of a
// directory goes to "*skipped" as "name (why)", when given.
Result<std::vector<TelemetryFile>> ListTelemetryFiles(
    const std::vector<std::string>& paths, const std::string& machine_override,
    const std::vector<std::string>& extensions = {".csv"},
    std::vector<std::string>* skipped = nullptr);

// One source per machine, reading its nvidia-smi CSV files in path order with NvidiaSmiReader.
// "zone" must outlive the sources.
std::vector<TelemetrySource> NvidiaSmiSources(const std::vector<TelemetryFile>& files,
                                              const TimeZone* zone);

}  // namespace gpuledger
