// An RFC 4180 CSV reader: quoted fields with "" escapes and embedded newlines, CRLF, a UTF-8 BOM,
// blank lines skipped. Records are parsed one at a time into one reused record, so reading a
// table allocates nothing per row once the fields have grown to their size.
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
  // Reads the header of "text" (which must outlive the table): the first non-blank record.
  // "delimiter" separates fields; without "quotes", a '"' is an ordinary character (as in
  // `sacct -P` output).
  explicit CsvTable(std::string_view text, char delimiter = ',', bool quotes = true);
  // A table whose header was read elsewhere: "body" holds records only, the first on line
  // "first_line" (the rest of a file read a piece at a time).
  CsvTable(std::string_view body, std::vector<std::string> header, uint64_t first_line,
           char delimiter = ',', bool quotes = true);

  const std::vector<std::string>& header() const { return header_; }
  std::string_view text() const { return text_; }  // what the table reads (after any BOM)
  bool quotes() const { return quotes_; }
  uint64_t header_line() const { return header_line_; }

  // Calls fn(const CsvRecord&) for each non-blank record after the header, in order. The
  // record is reused: copy what must outlive the call.
  template <typename Fn>
  void ForEachRecord(Fn&& fn) const {
    ForEachRecordIn(Stretch{body_, text_.size(), body_line_}, fn);
  }

  // A stretch of whole records of the body: bytes [from, to), the first on line "line".
  struct Stretch {
    size_t from = 0, to = 0;
    uint64_t line = 1;
  };
  // The body cut at line starts into at most "parts" stretches of about equal size, in order,
  // for readers on several cores. One stretch when a record may span lines (quotes on and a '"'
  // in the body) or the body is small.
  std::vector<Stretch> Split(int parts) const;

  // ForEachRecord over one stretch.
  template <typename Fn>
  void ForEachRecordIn(const Stretch& s, Fn&& fn) const {
    CsvRecord rec;
    size_t pos = s.from;
    uint64_t line = s.line;
    while (pos < s.to) {
      Read(&pos, &line, &rec);
      if (!Blank(rec)) fn(static_cast<const CsvRecord&>(rec));
    }
  }

  // Index of the column whose trimmed, lower-cased name is one of "names", or nullopt.
  std::optional<size_t> Column(std::initializer_list<std::string_view> names) const;

 private:
  // Reads the record at text_[*pos] into *rec; advances *pos and *line past it.
  void Read(size_t* pos, uint64_t* line, CsvRecord* rec) const;
  // Without quotes: the record at text_[*pos] split with memchr (a line, then its delimiters);
  // false, having read nothing, for a line with a CR inside (Read's loop drops those).
  bool ReadPlain(size_t* pos, CsvRecord* rec) const;
  static bool Blank(const CsvRecord& rec);

  std::string_view text_;
  char delimiter_;
  bool quotes_;
  std::vector<std::string> header_;
  uint64_t header_line_ = 0;
  size_t body_ = 0;  // where the records after the header start
  uint64_t body_line_ = 1;
};

// "s" as one CSV field: quoted (with "" escapes) when it holds a comma, quote or newline.
std::string CsvQuote(std::string_view s);

// Leading and trailing blanks removed.
std::string_view Trim(std::string_view s);

}  // namespace gpuledger
