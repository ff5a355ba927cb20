#include "core/csv_table.h"

#include <algorithm>
#include <cctype>

namespace gpuledger {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string CsvQuote(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

namespace {

// Reads one record starting at text[*pos]; advances *pos and *line past it.
CsvRecord ReadRecord(std::string_view text, size_t* pos, uint64_t* line, char delimiter,
                     bool quotes) {
  CsvRecord rec;
  rec.line = *line;
  std::string field;
  bool quoted = false;
  size_t i = *pos;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"')
        field += '"', ++i;
      else if (c == '"')
        quoted = false;
      else {
        if (c == '\n') ++*line;
        field += c;
      }
    } else if (c == '"' && quotes) {
      quoted = true;
    } else if (c == delimiter) {
      rec.fields.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      ++i;
      break;
    } else if (c != '\r') {
      field += c;
    }
  }
  rec.fields.push_back(std::move(field));
  *pos = i;
  ++*line;
  return rec;
}

bool IsBlank(const CsvRecord& r) {
  return std::all_of(r.fields.begin(), r.fields.end(),
                     [](const std::string& f) { return Trim(f).empty(); });
}

}  // namespace

CsvTable::CsvTable(std::string_view text, char delimiter, bool quotes) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  size_t pos = 0;
  uint64_t line = 1;
  bool have_header = false;
  while (pos < text.size()) {
    CsvRecord rec = ReadRecord(text, &pos, &line, delimiter, quotes);
    if (IsBlank(rec)) continue;
    if (!have_header) {
      for (auto& f : rec.fields) header_.emplace_back(Trim(f));
      header_line_ = rec.line;
      have_header = true;
    } else {
      rows_.push_back(std::move(rec));
    }
  }
}

std::optional<size_t> CsvTable::Column(std::initializer_list<std::string_view> names) const {
  for (size_t i = 0; i < header_.size(); ++i) {
    std::string key = header_[i];
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (std::string_view n : names) {
      if (key == n) return i;
    }
  }
  return std::nullopt;
}

}  // namespace gpuledger
