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

// One GPU's utilisation read from a DCGM sample.
struct DcgmUtilization {
  std::string machine;              // the Hostname (or hostname) label; may be empty
  int gpu = 0;                      // the gpu label
  std::optional<int> mig_instance;  // GPU_I_ID, for a MIG instance (its own GPU)
  double util_pct = 0;              // ratio fields scaled to percent
  std::string uuid, model, pod, namespace_name, container;
};

enum class DcgmVerdict {
  kReading,      // *out filled
  kOtherMetric,  // not the utilisation metric asked for: skip
  kNoValue,      // a DCGM blank, NaN or infinity
  kOutOfRange,   // below 0 or above 100 %
  kNoGpuLabel,   // no (numeric) gpu label
};

// Reads "metric" (DCGM_FI_DEV_GPU_UTIL in percent; DCGM_FI_PROF_* and *_RATIO fields as 0–1
// ratios, scaled to percent) from a sample.
DcgmVerdict ReadDcgmUtilization(const PromSample& sample, std::string_view metric,
                                DcgmUtilization* out);

}  // namespace gpuledger
