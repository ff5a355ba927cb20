// A small RFC 4180 CSV reader for the modest tables gpuledger reads whole (inventory, jobs):
// quoted fields with "" escapes and embedded newlines, CRLF, a UTF-8 BOM, blank lines skipped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpuledger {

struct CsvRecord {
  std::vector<std::string> fields;
  uint64_t line = 0;  // 1-based line where the record starts
};

class CsvTable {
 public:
  // Parses "text" whole. The first non-blank record is the header. "delimiter" separates
  // fields; without "quotes", a '"' is an ordinary character (as in `sacct -P` output).
  explicit CsvTable(std::string_view text, char delimiter = ',', bool quotes = true);

  const std::vector<std::string>& header() const { return header_; }
  uint64_t header_line() const { return header_line_; }
  const std::vector<CsvRecord>& rows() const { return rows_; }

  // Index of the column whose trimmed, lower-cased name is one of "names", or nullopt.
  std::optional<size_t> Column(std::initializer_list<std::string_view> names) const;

 private:
  std::vector<std::string> header_;
  uint64_t header_line_ = 0;
  std::vector<CsvRecord> rows_;
};

// "s" as one CSV field: quoted (with "" escapes) when it holds a comma, quote or newline.
std::string CsvQuote(std::string_view s);

// Leading and trailing blanks removed.
std::string_view Trim(std::string_view s);

}  // namespace gpuledger
