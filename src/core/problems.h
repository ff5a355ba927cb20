// Counting what was wrong with the input: each reason keeps a count and its first file:line.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace gpuledger {

struct ProblemEntry {
  uint64_t count = 0;
  std::string first_file;             // where the first occurrence (in input order) was found
  uint64_t first_line = 0;            // 1-based; 0 when the problem concerns the whole file
  std::string detail;                 // what was found there, e.g. "utilization '[N/A]'"
  uint64_t first_order = UINT64_MAX;  // rank of the first occurrence, for merging

  std::string Where() const {
    return first_line == 0 ? first_file : first_file + ":" + std::to_string(first_line);
  }
};

// A tally of problems by reason id ("bad_time", "util_not_a_number", …).
// Parallel workers keep their own and Merge them; the first occurrence is the one with the
// lowest order key (InputOrder below), so the merged result does not depend on scheduling.
class Problems {
 public:
  void Add(std::string_view reason, std::string_view file, uint64_t line, uint64_t order,
           std::string_view detail = {}, uint64_t count = 1);
  void Merge(const Problems& other);

  uint64_t Total() const;
  bool empty() const { return entries_.empty(); }
  const std::map<std::string, ProblemEntry, std::less<>>& entries() const { return entries_; }

 private:
  std::map<std::string, ProblemEntry, std::less<>> entries_;
};

// Ranks a position in the input: files in the order they were given, then lines.
inline uint64_t InputOrder(uint32_t file_index, uint64_t line) {
  return (static_cast<uint64_t>(file_index) << 40) | (line & ((uint64_t{1} << 40) - 1));
}

// What one kind of input (telemetry, inventory, jobs) yielded.
struct SourceStats {
  uint64_t files = 0;
  uint64_t rows_read = 0;      // data rows seen (header lines excluded)
  uint64_t rows_accepted = 0;  // rows that entered the audit
  Problems rejected;           // rows (or files) left out, by reason
  Problems notes;              // accepted input worth knowing about (duplicates, reordering)

  void Merge(const SourceStats& other);
  uint64_t RowsRejected() const { return rejected.Total(); }
};

}  // namespace gpuledger
