// A stand-in for libnvidia-ml.so.1 (tests only): GPUs and their utilisation come from
// $FAKE_NVML_UTIL ("0,80" is two GPUs at 0 % and 80 %). It has no nvmlDeviceGetMemoryInfo on
// purpose, so tests see a missing entry point disable only its metric.
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::vector<unsigned> Utils() {
  std::vector<unsigned> out;
  const char* env = std::getenv("FAKE_NVML_UTIL");
  std::string s = env ? env : "";
  for (size_t i = 0; i < s.size();) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    out.push_back(static_cast<unsigned>(std::atoi(s.substr(i, j - i).c_str())));
    i = j + 1;
  }
  return out;
}

struct Device {
  unsigned index;
};
Device devices[64];

}  // namespace

extern "C" {
struct nvmlUtilization_t {
  unsigned int gpu, memory;
};
int nvmlInit_v2() { return 0; }
int nvmlShutdown() { return 0; }
int nvmlDeviceGetCount_v2(unsigned int* count) {
  *count = static_cast<unsigned>(Utils().size());
  return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void** device) {
  if (index >= 64) return 2;
  devices[index].index = index;
  *device = &devices[index];
  return 0;
}
int nvmlDeviceGetUtilizationRates(void* device, nvmlUtilization_t* u) {
  const auto utils = Utils();
  const unsigned i = static_cast<Device*>(device)->index;
  if (i >= utils.size()) return 2;
  u->gpu = utils[i];
  u->memory = 0;
  return 0;
}
}
