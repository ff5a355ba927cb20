#include "core/proc_stat.h"

#include <fstream>
#include <sstream>
#include <string>

namespace gpuledger {

std::optional<ProcStat> ReadProcStat(int64_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  const size_t paren = line.rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string::npos || paren + 2 > line.size()) return std::nullopt;
  std::istringstream rest(line.substr(paren + 2));  // from field 3, the state
  ProcStat s;
  rest >> s.state >> s.ppid >> s.pgrp;
  std::string skipped;
  for (int field = 6; field < 22 && rest >> skipped; ++field) {
  }
  rest >> s.start_ticks;
  if (!rest) return std::nullopt;
  return s;
}

}  // namespace gpuledger
