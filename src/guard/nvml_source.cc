// NVML, loaded with dlopen at run time (never linked): each entry point is looked up once; a
// missing one disables only its metric (DCGM's approach).
#include <dlfcn.h>
#include <fmt/format.h>

#include <cstdlib>

#include "guard/gpu_source.h"

namespace gpuledger {
namespace {

// The few NVML types used, as nvml.h declares them.
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
struct nvmlUtilization_t {
  unsigned int gpu, memory;
};
struct nvmlMemory_t {
  unsigned long long total, free, used;
};
constexpr nvmlReturn_t kNvmlSuccess = 0;

class NvmlSource : public GpuSource {
 public:
  ~NvmlSource() override {
    if (shutdown_) shutdown_();
    if (lib_) dlclose(lib_);
  }

  static Result<std::unique_ptr<GpuSource>> Open() {
    const char* override_path = std::getenv("GPULEDGER_NVML_LIBRARY");
    const std::string path = override_path && *override_path ? override_path : "libnvidia-ml.so.1";
    auto s = std::unique_ptr<NvmlSource>(new NvmlSource());
    s->path_ = path;
    s->lib_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!s->lib_)
      return MakeError(ErrorCode::kIo, fmt::format("NVML not available: {}", dlerror()));
    auto init = s->Sym<nvmlReturn_t (*)()>("nvmlInit_v2");
    s->count_ = s->Sym<nvmlReturn_t (*)(unsigned int*)>("nvmlDeviceGetCount_v2");
    s->handle_ =
        s->Sym<nvmlReturn_t (*)(unsigned int, nvmlDevice_t*)>("nvmlDeviceGetHandleByIndex_v2");
    s->util_ =
        s->Sym<nvmlReturn_t (*)(nvmlDevice_t, nvmlUtilization_t*)>("nvmlDeviceGetUtilizationRates");
    s->memory_ = s->Sym<nvmlReturn_t (*)(nvmlDevice_t, nvmlMemory_t*)>("nvmlDeviceGetMemoryInfo");
    if (!init || !s->count_ || !s->handle_) {
      return MakeError(ErrorCode::kIo,
                       "NVML lacks nvmlInit_v2 / nvmlDeviceGetCount_v2 / "
                       "nvmlDeviceGetHandleByIndex_v2: " +
                           path);
    }
    if (nvmlReturn_t r = init(); r != kNvmlSuccess) {
      return MakeError(ErrorCode::kIo, fmt::format("nvmlInit failed (NVML error {})", r));
    }
    s->shutdown_ = s->Sym<nvmlReturn_t (*)()>("nvmlShutdown");
    unsigned int n = 0;
    if (s->count_(&n) != kNvmlSuccess)
      return MakeError(ErrorCode::kIo, "nvmlDeviceGetCount failed");
    s->gpus_ = n;
    return std::unique_ptr<GpuSource>(std::move(s));
  }

  Result<std::vector<GpuSnapshot>> Read(TimeMs now) override {
    GpuSnapshot snap{now, {}};
    for (unsigned int i = 0; i < gpus_; ++i) {
      nvmlDevice_t dev = nullptr;
      if (handle_(i, &dev) != kNvmlSuccess) continue;
      GpuReading r{static_cast<int>(i), 0, std::nullopt};
      nvmlUtilization_t u{};
      if (!util_ || util_(dev, &u) != kNvmlSuccess) continue;  // no utilisation: no reading
      r.util_pct = u.gpu;
      nvmlMemory_t m{};
      if (memory_ && memory_(dev, &m) == kNvmlSuccess) r.memory_used_mib = m.used / 1048576.0;
      snap.gpus.push_back(r);
    }
    return std::vector<GpuSnapshot>{snap};
  }

  std::string Describe() const override {
    return fmt::format("NVML ({}), {} GPU{}{}{}", path_, gpus_, gpus_ == 1 ? "" : "s",
                       util_ ? "" : ", no utilisation metric", memory_ ? "" : ", no memory metric");
  }

 private:
  NvmlSource() = default;
  template <typename Fn>
  Fn Sym(const char* name) {
    return reinterpret_cast<Fn>(dlsym(lib_, name));
  }

  std::string path_;
  void* lib_ = nullptr;
  unsigned int gpus_ = 0;
  nvmlReturn_t (*shutdown_)() = nullptr;
  nvmlReturn_t (*count_)(unsigned int*) = nullptr;
  nvmlReturn_t (*handle_)(unsigned int, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*util_)(nvmlDevice_t, nvmlUtilization_t*) = nullptr;
  nvmlReturn_t (*memory_)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
};

}  // namespace

Result<std::unique_ptr<GpuSource>> MakeNvmlSource() { return NvmlSource::Open(); }

}  // namespace gpuledger
