// The GPU instance types of AWS, Google Cloud and Azure (src/model/data/gpu_instance_types.csv,
// built into the binary): how a bill that names machines only by instance type tells GPU
// machines and their GPU counts.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gpuledger {

struct GpuInstanceType {
  std::string provider;       // aws, gcp, azure
  std::string instance_type;  // as the provider spells it: g5.4xlarge, a2-highgpu-1g, …
  int gpu_count = 0;
  std::string gpu_model;
};

// The GPU instance type "name" is, or nullopt. Matching ignores case, Azure's "Standard_"
// prefix, and whether words are joined by '_' or ' ' ("NC24ads A100 v4").
std::optional<GpuInstanceType> FindGpuInstanceType(std::string_view name);

// The first GPU instance type named in free text (a ChargeDescription such as "$1.624 per On
// Demand Linux g5.4xlarge Instance Hour", or a SKU's JSON), trying single words and runs of up
// to four words; nullopt when none.
std::optional<GpuInstanceType> FindGpuInstanceTypeIn(std::string_view text);

}  // namespace gpuledger
