// A process as /proc/PID/stat describes it (Linux): what the guard's process groups and the
// ledger's abandoned-run check read.
#pragma once

#include <cstdint>
#include <optional>

namespace gpuledger {

struct ProcStat {
  char state = 0;  // R, S, D, Z, …
  int64_t ppid = 0, pgrp = 0;
  int64_t start_ticks = 0;  // field 22: start time in clock ticks since boot
};

// The stat of process "pid", or nullopt when there is none (or it cannot be read).
std::optional<ProcStat> ReadProcStat(int64_t pid);

}  // namespace gpuledger
