#include "sources/prom_text.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "core/csv_table.h"

namespace gpuledger {
namespace {

bool NameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

bool ParseDouble(std::string_view s, double* out) {
  if (s == "+Inf" || s == "Inf") return *out = INFINITY, true;
  if (s == "-Inf") return *out = -INFINITY, true;
  if (s == "NaN") return *out = NAN, true;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Parses {a="x",b="y"} starting at s[*i] == '{'; advances *i past '}'.
bool ParseLabels(std::string_view s, size_t* i, PromSample* out) {
  ++*i;
  while (true) {
    while (*i < s.size() && (s[*i] == ' ' || s[*i] == ',')) ++*i;
    if (*i < s.size() && s[*i] == '}') return ++*i, true;
    const size_t name_start = *i;
    while (*i < s.size() && NameChar(s[*i], *i == name_start)) ++*i;
    if (*i == name_start) return false;
    std::string name(s.substr(name_start, *i - name_start));
    while (*i < s.size() && s[*i] == ' ') ++*i;
    if (*i + 1 >= s.size() || s[*i] != '=' || s[*i + 1] != '"') return false;
    *i += 2;
    std::string value;
    while (*i < s.size() && s[*i] != '"') {
      if (s[*i] == '\\' && *i + 1 < s.size()) {
        const char e = s[++*i];
        value += e == 'n' ? '\n' : e;
      } else {
        value += s[*i];
      }
      ++*i;
    }
    if (*i >= s.size()) return false;  // unterminated
    ++*i;
    out->labels.emplace_back(std::move(name), std::move(value));
  }
}

}  // namespace

std::string_view PromSample::Label(std::string_view key) const {
  for (const auto& [k, v] : labels) {
    if (k == key) return v;
  }
  return {};
}

Result<std::optional<PromSample>> ParsePromLine(std::string_view line) {
  line = Trim(line);
  if (line.empty() || line.front() == '#') return std::optional<PromSample>();
  PromSample s;
  size_t i = 0;
  while (i < line.size() && NameChar(line[i], i == 0)) ++i;
  if (i == 0) return MakeError(ErrorCode::kParse, "a sample line starts with its metric name");
  s.name = std::string(line.substr(0, i));
  if (i < line.size() && line[i] == '{' && !ParseLabels(line, &i, &s)) {
    return MakeError(ErrorCode::kParse, "malformed labels");
  }
  std::string_view rest = Trim(line.substr(i));
  const size_t space = rest.find(' ');
  const std::string_view value = rest.substr(0, space);
  if (!ParseDouble(value, &s.value)) {
    return MakeError(ErrorCode::kParse, "value '" + std::string(value) + "' is no number");
  }
  if (space != std::string_view::npos) {
    const std::string_view ts = Trim(rest.substr(space));
    int64_t t = 0;
    auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), t);
    if (ec != std::errc() || end != ts.data() + ts.size()) {
      return MakeError(ErrorCode::kParse, "timestamp '" + std::string(ts) + "' is no whole number");
    }
    s.timestamp_ms = t;
  }
  return std::optional<PromSample>(std::move(s));
}

bool IsDcgmNoValue(double v) {
  if (!std::isfinite(v)) return true;
  // DCGM_INT32_BLANK = 0x7ffffff0; DCGM_INT64_BLANK = 0x7ffffffffffffff0;
  // DCGM_FP64_BLANK = 140737488355328.0 (2^47); the NOT_FOUND / NOT_SUPPORTED … values follow.
  return (v >= 2147483632.0 && v <= 2147483647.0) || v >= 140737488355328.0;
}

}  // namespace gpuledger
