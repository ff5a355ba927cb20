#include "core/proc_stat.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string_view>

namespace gpuledger {

std::optional<ProcStat> ParseProcStat(std::string_view text) {
  const size_t paren = text.rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string_view::npos || paren + 2 > text.size()) return std::nullopt;
  std::string_view rest = text.substr(paren + 2);  // from field 3, the state
  ProcStat s;
  s.state = rest.empty() ? 0 : rest[0];
  if (const size_t open = text.find('('); open != std::string_view::npos && open < paren) {
    const std::string_view comm = text.substr(open + 1, paren - open - 1);
    std::copy_n(comm.data(), std::min(comm.size(), s.comm.size() - 1), s.comm.data());
  }
  // Fields 4 (ppid), 5 (pgrp), 6 (session) and 22 (starttime), separated by single spaces.
  int field = 3;
  size_t at = 0;
  while (field < 22) {
    const size_t space = rest.find(' ', at);
    if (space == std::string_view::npos) return std::nullopt;
    at = space + 1;
    ++field;
    int64_t* into = field == 4    ? &s.ppid
                    : field == 5  ? &s.pgrp
                    : field == 6  ? &s.session
                    : field == 22 ? &s.start_ticks
                                  : nullptr;
    if (into == nullptr) continue;
    auto [end, ec] = std::from_chars(rest.data() + at, rest.data() + rest.size(), *into);
    if (ec != std::errc()) return std::nullopt;
  }
  return s;
}

std::optional<ProcStat> ReadProcStat(int64_t pid, const std::string& proc_root) {
  char path[256];
  const int n = std::snprintf(path, sizeof path, "%s/%lld/stat", proc_root.c_str(),
                              static_cast<long long>(pid));
  if (n <= 0 || n >= static_cast<int>(sizeof path)) return std::nullopt;
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[1024];
  const ssize_t got = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (got <= 0) return std::nullopt;
  return ParseProcStat(std::string_view(buf, static_cast<size_t>(got)));
}

}  // namespace gpuledger
