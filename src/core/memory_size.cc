#include "core/memory_size.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

namespace gpuledger {

std::optional<double> MibPerUnit(std::string_view unit) {
  std::string u;
  for (char c : unit) u += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (u == "b" || u == "byte" || u == "bytes") return 1.0 / (1024 * 1024);
  if (u == "kib" || u == "kb" || u == "k") return 1.0 / 1024;
  if (u == "mib" || u == "mb" || u == "m") return 1.0;
  if (u == "gib" || u == "gb" || u == "g") return 1024.0;
  return std::nullopt;
}

std::optional<double> ParseMemorySize(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || !std::isfinite(v) || v < 0) return std::nullopt;
  std::string_view unit(end, text.data() + text.size() - end);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  if (unit.empty()) return v / (1024 * 1024);
  const auto per = MibPerUnit(unit);
  if (!per) return std::nullopt;
  return v * *per;
}

}  // namespace gpuledger
