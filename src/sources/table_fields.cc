#include "sources/table_fields.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/csv_table.h"

namespace gpuledger {

bool ReadInt(std::string_view text, int lo, int hi, int* out) {
  text = Trim(text);
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return false;
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool ReadUsd(std::string_view text, double* out) {
  text = Trim(text);
  if (text.starts_with('$')) text.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return false;
  if (!std::isfinite(v) || v < 0) return false;
  *out = v;
  return true;
}

bool ReadGpuList(std::string_view text, std::vector<int>* out) {
  out->clear();
  text = Trim(text);
  if (text.empty() || text == "all" || text == "*") return true;
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find_first_of(";, ", i);
    if (j == std::string_view::npos) j = text.size();
    const std::string_view part = text.substr(i, j - i);
    if (!part.empty()) {
      int gpu = 0;
      if (!ReadInt(part, 0, 1023, &gpu)) return false;
      if (std::find(out->begin(), out->end(), gpu) == out->end()) out->push_back(gpu);
    }
    i = j + 1;
  }
  return !out->empty();
}

bool ReadTime(TimeParser* parser, std::string_view text, TimeMs if_empty, TimeMs* out) {
  text = Trim(text);
  if (text.empty()) {
    *out = if_empty;
    return true;
  }
  return parser->Parse(text, out);
}

}  // namespace gpuledger
