#include "core/problems.h"

namespace gpuledger {

void Problems::Add(std::string_view reason, std::string_view file, uint64_t line, uint64_t order,
                   std::string_view detail, uint64_t count) {
  auto it = entries_.find(reason);
  if (it == entries_.end()) it = entries_.emplace(std::string(reason), ProblemEntry{}).first;
  ProblemEntry& e = it->second;
  e.count += count;
  if (order < e.first_order) {
    e.first_order = order;
    e.first_file = file;
    e.first_line = line;
    e.detail = detail;
  }
}

void Problems::Merge(const Problems& other) {
  for (const auto& [reason, e] : other.entries_) {
    Add(reason, e.first_file, e.first_line, e.first_order, e.detail, e.count);
  }
}

uint64_t Problems::Total() const {
  uint64_t total = 0;
  for (const auto& [reason, e] : entries_) total += e.count;
  return total;
}

void SourceStats::Merge(const SourceStats& other) {
  files += other.files;
  rows_read += other.rows_read;
  rows_accepted += other.rows_accepted;
  rejected.Merge(other.rejected);
  notes.Merge(other.notes);
}

}  // namespace gpuledger
