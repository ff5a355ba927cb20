// Walking the data rows of a CSV table (inventory, jobs, FOCUS bills, long telemetry tables):
// the bookkeeping every reader shares — rows counted, field counts checked, problems reported
// at the row's file:line.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/csv_table.h"
#include "core/problems.h"

namespace gpuledger {

// One data row, and where its problems are reported.
class TableRow {
 public:
  TableRow(const CsvRecord& record, const std::string& file, uint32_t file_index,
           SourceStats* stats)
      : record_(record), file_(file), order_(InputOrder(file_index, record.line)), stats_(stats) {}

  const CsvRecord& record() const { return record_; }
  const std::string& operator[](size_t column) const { return record_.fields[column]; }
  uint64_t line() const { return record_.line; }
  uint64_t order() const { return order_; }

  // The trimmed text of a column, or "" when the table has no such column.
  std::string Get(std::optional<size_t> column) const {
    return column ? std::string(Trim(record_.fields[*column])) : std::string();
  }

  void Reject(std::string_view reason, const std::string& detail) const {
    stats_->rejected.Add(reason, file_, record_.line, order_, detail);
  }
  void Note(std::string_view reason, const std::string& detail) const {
    stats_->notes.Add(reason, file_, record_.line, order_, detail);
  }

 private:
  const CsvRecord& record_;
  const std::string& file_;
  uint64_t order_;
  SourceStats* stats_;
};

// Calls fn(row) for each data row of "table" after counting it as read; a row whose field count
// differs from the header's is rejected (field_count) instead. Readers count what they accept.
// ForEachTableRow over one stretch of the table (CsvTable::Split).
template <typename Fn>
void ForEachTableRowIn(const CsvTable& table, const CsvTable::Stretch& stretch,
                       const std::string& file, uint32_t file_index, SourceStats* stats, Fn&& fn) {
  table.ForEachRecordIn(stretch, [&](const CsvRecord& r) {
    ++stats->rows_read;
    const TableRow row(r, file, file_index, stats);
    if (r.fields.size() != table.header().size()) {
      row.Reject("field_count", std::to_string(r.fields.size()) + " fields where the header has " +
                                    std::to_string(table.header().size()));
      return;
    }
    fn(row);
  });
}

template <typename Fn>
void ForEachTableRow(const CsvTable& table, const std::string& file, uint32_t file_index,
                     SourceStats* stats, Fn&& fn) {
  const std::vector<CsvTable::Stretch> whole = table.Split(1);
  ForEachTableRowIn(table, whole.front(), file, file_index, stats, fn);
}

}  // namespace gpuledger
