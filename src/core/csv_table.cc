#include "core/csv_table.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace gpuledger {

std::string_view Trim(std::string_view s) {
  // isspace in the C locale, without a call per character.
  auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string CsvQuote(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

bool CsvTable::ReadPlain(size_t* pos, CsvRecord* rec) const {
  const char* const base = text_.data();
  const char* const end = base + text_.size();
  const char* p = base + *pos;
  const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
  const char* stop = nl ? nl : end;
  if (stop > p && stop[-1] == '\r') --stop;
  if (std::memchr(p, '\r', stop - p) != nullptr) return false;  // the loop drops every CR
  size_t n = 0;
  for (;;) {
    const char* d = static_cast<const char*>(std::memchr(p, delimiter_, stop - p));
    if (n == rec->fields.size()) rec->fields.emplace_back();
    rec->fields[n].assign(p, (d ? d : stop) - p);
    if (d == nullptr) break;
    ++n, p = d + 1;
  }
  rec->fields.resize(n + 1);
  *pos = nl ? static_cast<size_t>(nl - base) + 1 : text_.size();
  return true;
}

void CsvTable::Read(size_t* pos, uint64_t* line, CsvRecord* rec) const {
  rec->line = *line;
  size_t n = 0;  // fields of this record so far; their strings keep their capacity
  auto field = [&]() -> std::string& {
    if (n == rec->fields.size()) rec->fields.emplace_back();
    return rec->fields[n];
  };
  field().clear();
  const std::string_view text = text_;
  if (!quotes_ && ReadPlain(pos, rec)) {
    ++*line;
    return;
  }
  bool quoted = false;
  size_t i = *pos;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field() += '"', ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++*line;
        field() += c;
      }
    } else if (c == '"' && quotes_) {
      quoted = true;
    } else if (c == delimiter_) {
      ++n;
      field().clear();
    } else if (c == '\n') {
      ++i;
      break;
    } else if (c != '\r') {
      // The run of ordinary characters up to the next special one, appended at once.
      size_t j = i + 1;
      while (j < text.size() && text[j] != delimiter_ && text[j] != '\n' && text[j] != '\r' &&
             !(quotes_ && text[j] == '"')) {
        ++j;
      }
      field().append(text.substr(i, j - i));
      i = j - 1;
    }
  }
  rec->fields.resize(n + 1);
  *pos = i;
  ++*line;
}

bool CsvTable::Blank(const CsvRecord& r) {
  return std::all_of(r.fields.begin(), r.fields.end(),
                     [](const std::string& f) { return Trim(f).empty(); });
}

CsvTable::CsvTable(std::string_view text, char delimiter, bool quotes)
    : delimiter_(delimiter), quotes_(quotes) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  text_ = text;
  CsvRecord rec;
  size_t pos = 0;
  uint64_t line = 1;
  while (pos < text.size()) {
    Read(&pos, &line, &rec);
    if (Blank(rec)) continue;
    for (auto& f : rec.fields) header_.emplace_back(Trim(f));
    header_line_ = rec.line;
    break;
  }
  body_ = pos, body_line_ = line;
}

CsvTable::CsvTable(std::string_view body, std::vector<std::string> header, uint64_t first_line,
                   char delimiter, bool quotes)
    : text_(body),
      delimiter_(delimiter),
      quotes_(quotes),
      header_(std::move(header)),
      body_line_(first_line) {}

std::vector<CsvTable::Stretch> CsvTable::Split(int parts) const {
  const std::string_view body = text_.substr(body_);
  std::vector<Stretch> out = {{body_, text_.size(), body_line_}};
  constexpr size_t kSmallest = 16u << 20;  // not worth a thread below 16 MiB a stretch
  if (parts < 2 || body.size() < 2 * kSmallest ||
      (quotes_ && body.find('"') != std::string_view::npos)) {
    return out;
  }
  parts = static_cast<int>(std::min<size_t>(parts, body.size() / kSmallest));
  out.clear();
  size_t from = body_;
  uint64_t line = body_line_;
  for (int p = 1; p <= parts; ++p) {
    size_t to = text_.size();
    if (p < parts) {
      const size_t aim = body_ + body.size() / parts * p;
      const size_t nl = text_.find('\n', std::max(aim, from));
      to = nl == std::string_view::npos ? text_.size() : nl + 1;
    }
    if (to <= from) continue;
    out.push_back({from, to, line});
    line += static_cast<uint64_t>(std::count(text_.begin() + from, text_.begin() + to, '\n'));
    from = to;
  }
  return out;
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
