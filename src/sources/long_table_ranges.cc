// Long tables read again in part: RangesFor.
#include <algorithm>

#include "sources/exported_telemetry.h"

namespace gpuledger {

std::vector<TableRange> RangesFor(const std::vector<TableCheckpoint>& at,
                                  std::vector<std::pair<uint64_t, uint64_t>> spans) {
  std::sort(spans.begin(), spans.end());
  std::vector<TableRange> out;
  auto by_line = [](uint64_t line, const TableCheckpoint& c) { return line < c.line; };
  for (const auto& [first, last] : spans) {
    // The last checkpoint at or before "first"; the first after "last" (none: the file's end).
    auto start = std::upper_bound(at.begin(), at.end(), first, by_line);
    if (start != at.begin()) --start;
    auto stop = std::upper_bound(at.begin(), at.end(), last, by_line);
    const uint64_t to = stop == at.end() ? UINT64_MAX : stop->offset;
    if (!out.empty() && out.back().to >= start->offset) {
      out.back().to = std::max(out.back().to, to);
    } else {
      out.push_back({start->offset, to, start->line});
    }
  }
  return out;
}

}  // namespace gpuledger
