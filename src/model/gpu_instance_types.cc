#include "model/gpu_instance_types.h"

#include <cctype>
#include <charconv>
#include <unordered_map>
#include <vector>

#include "core/embed.h"

GPULEDGER_EMBED(instance_types, GPULEDGER_ASSET_INSTANCE_TYPES)

namespace gpuledger {
namespace {

// Lower case, without "standard_", words joined by '_'.
std::string Key(std::string_view name) {
  std::string key;
  for (char c : name) {
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    key += (lower == ' ') ? '_' : lower;
  }
  if (key.starts_with("standard_")) key.erase(0, 9);
  return key;
}

std::vector<std::string_view> Split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  for (size_t at = 0;;) {
    const size_t next = line.find(sep, at);
    out.push_back(line.substr(at, next == std::string_view::npos ? line.npos : next - at));
    if (next == std::string_view::npos) return out;
    at = next + 1;
  }
}

const std::unordered_map<std::string, GpuInstanceType>& Table() {
  static const std::unordered_map<std::string, GpuInstanceType> table = [] {
    std::unordered_map<std::string, GpuInstanceType> t;
    const std::string_view text(gpuledger_instance_types_begin,
                                gpuledger_instance_types_end - gpuledger_instance_types_begin);
    bool header = true;
    for (std::string_view line : Split(text, '\n')) {
      if (line.empty() || line.front() == '#') continue;
      if (header) {
        header = false;  // provider,instance_type,gpu_count,gpu_model
        continue;
      }
      const auto f = Split(line, ',');
      if (f.size() != 4) continue;
      GpuInstanceType type{std::string(f[0]), std::string(f[1]), 0, std::string(f[3])};
      std::from_chars(f[2].data(), f[2].data() + f[2].size(), type.gpu_count);
      if (type.gpu_count > 0) t[Key(type.instance_type)] = std::move(type);
    }
    return t;
  }();
  return table;
}

}  // namespace

std::optional<GpuInstanceType> FindGpuInstanceType(std::string_view name) {
  const auto& table = Table();
  auto it = table.find(Key(name));
  if (it == table.end()) return std::nullopt;
  return it->second;
}

std::optional<GpuInstanceType> FindGpuInstanceTypeIn(std::string_view text) {
  // Words: runs of letters, digits and . - _ (so "g5.4xlarge" and "Standard_NC6s_v3" stay whole).
  std::vector<std::string_view> words;
  for (size_t i = 0; i < text.size();) {
    auto part = [&](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    };
    if (!part(text[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && part(text[j])) ++j;
    std::string_view w = text.substr(i, j - i);
    while (!w.empty() && (w.back() == '.' || w.back() == '-')) w.remove_suffix(1);
    words.push_back(w);
    i = j;
  }
  for (size_t i = 0; i < words.size(); ++i) {
    std::string run;
    for (size_t n = 0; n < 4 && i + n < words.size(); ++n) {
      run += (n ? "_" : "") + std::string(words[i + n]);
      if (auto t = FindGpuInstanceType(run)) return t;
    }
  }
  return std::nullopt;
}

}  // namespace gpuledger
