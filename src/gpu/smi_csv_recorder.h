// Writes GPU readings as nvidia-smi would log them (`--query-gpu=timestamp,index,
// utilization.gpu,memory.used --format=csv`), one file per UTC day and host:
// DIR/YYYY-MM-DD/HOST.csv. `gpuledger audit --telemetry DIR/*/` reads them back (each file is
// the machine HOST), so a node with no other telemetry is audited from the guard's own samples.
#pragma once

#include <cstdio>
#include <string>

#include "core/error.h"
#include "gpu/gpu_source.h"

namespace gpuledger {

class SmiCsvRecorder {
 public:
  SmiCsvRecorder(std::string dir, std::string host)
      : dir_(std::move(dir)), host_(std::move(host)) {}
  ~SmiCsvRecorder();
  SmiCsvRecorder(const SmiCsvRecorder&) = delete;
  SmiCsvRecorder& operator=(const SmiCsvRecorder&) = delete;

  // Appends one row per GPU read (a GPU whose reading failed has none: unmonitored), flushed.
  Result<void> Write(const GpuSnapshot& snap);

  // The file a snapshot at "t" goes to.
  std::string PathFor(TimeMs t) const;

 private:
  std::string dir_, host_, open_path_;
  std::FILE* file_ = nullptr;
};

}  // namespace gpuledger
