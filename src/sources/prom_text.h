// The Prometheus text exposition format (what the DCGM exporter serves on /metrics), and the
// DCGM fields gpuledger reads from it. Pure parse steps; fetching lives elsewhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace gpuledger {

struct PromSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // in the order written
  double value = 0;                                         // may be NaN or ±Inf
  std::optional<int64_t> timestamp_ms;

  // The value of a label, or "" when absent.
  std::string_view Label(std::string_view name) const;
};

// Parses one line: nullopt for a blank line or a comment (# HELP, # TYPE, …); kParse for a
// malformed sample line (bad name, unbalanced braces or quotes, a value that is no number).
Result<std::optional<PromSample>> ParsePromLine(std::string_view line);

// DCGM's "blank" values (DCGM_INT32_BLANK and up, DCGM_INT64_BLANK and up, DCGM_FP64_BLANK and
// up) mean "no value", as do NaN and infinities.
bool IsDcgmNoValue(double value);

}  // namespace gpuledger
