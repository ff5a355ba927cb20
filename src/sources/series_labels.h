// What the exported-telemetry readers share: a series' machine and GPU from its labels (MIG
// instances included), and a value checked and scaled to percent. Internal to src/sources.
#pragma once

#include <charconv>
#include <cmath>
#include <string>
#include <string_view>

#include "model/mig.h"
#include "sources/exported_telemetry.h"
#include "sources/prom_text.h"

namespace gpuledger::series {

inline bool IsRatio(const SeriesMapping& m, std::string_view metric) {
  if (m.value_scale == "ratio") return true;
  if (m.value_scale == "percent") return false;
  return metric.starts_with("DCGM_FI_PROF_") || metric.ends_with("_RATIO");
}

// The machine a label set names (the first machine label present), or "".
template <typename LabelFn>
std::string MachineOf(const SeriesMapping& m, LabelFn&& label) {
  for (const std::string& l : m.machine_labels) {
    if (std::string v = label(l); !v.empty()) return v;
  }
  return "";
}

// The GPU index a label set names; false when absent or malformed.
template <typename LabelFn>
bool GpuOf(const SeriesMapping& m, LabelFn&& label, int* gpu) {
  const std::string g = label(m.gpu_label);
  auto [end, ec] = std::from_chars(g.data(), g.data() + g.size(), *gpu);
  return !g.empty() && ec == std::errc() && end == g.data() + g.size() && *gpu >= 0 && *gpu <= 1023;
}

// Machine and GPU of a label set; false (and *reason) when one is missing.
template <typename LabelFn>
bool MachineAndGpu(const SeriesMapping& m, LabelFn&& label, const std::string& fallback,
                   std::string* machine, int* gpu, const char** reason) {
  *machine = MachineOf(m, label);
  if (machine->empty()) *machine = fallback;
  if (machine->empty()) return *reason = "no_machine_label", false;
  if (!GpuOf(m, label, gpu)) return *reason = "no_gpu_label", false;
  if (const std::string id = label("GPU_I_ID"); !id.empty()) {  // a MIG instance
    auto mig = ParseMigInstance(*gpu, id, label("GPU_I_PROFILE"), label("modelName"));
    if (!mig) return *reason = "bad_mig_instance", false;
    *gpu = MigIndex(*mig);
  }
  return true;
}

// Checks and scales a value; nullptr when good, else the reason.
inline const char* CheckValue(double v, bool ratio, double* pct) {
  if (std::isnan(v)) return "util_not_a_number";
  if (IsDcgmNoValue(v)) return "no_value";
  *pct = ratio ? v * 100 : v;
  return *pct < 0 || *pct > 100 ? "util_out_of_range" : nullptr;
}

}  // namespace gpuledger::series
