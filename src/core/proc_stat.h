// A process as /proc/PID/stat describes it (Linux): what the guard's process groups, the node
// guard's workload discovery and the ledger's abandoned-run check read.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gpuledger {

struct ProcStat {
  char state = 0;  // R, S, D, Z, …
  int64_t ppid = 0, pgrp = 0, session = 0;
  int64_t start_ticks = 0;  // field 22: start time in clock ticks since boot
  // Field 2, the command name (at most 15 bytes, NUL-padded): exec sets it afresh, so a change
  // says the process may now be another program.
  std::array<char, 16> comm{};
};

// The stat of process "pid" under "proc_root" (a test may point it at a synthetic tree), or
// nullopt when there is none (or it cannot be read). One open and read, no allocation.
std::optional<ProcStat> ReadProcStat(int64_t pid, const std::string& proc_root = "/proc");

// Parses the text of a /proc/PID/stat file; nullopt when it is not one.
std::optional<ProcStat> ParseProcStat(std::string_view text);

}  // namespace gpuledger
