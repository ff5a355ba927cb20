// One GPU's reading at one instant, as the GPU readers (src/gpu) take it and the policy
// (JobWatch) and the guard judge it.
#pragma once

#include <optional>

namespace gpuledger {

struct GpuReading {
  int index = 0;
  double util_pct = 0;
  std::optional<double> memory_used_mib;  // unset when the driver does not say
};

}  // namespace gpuledger
