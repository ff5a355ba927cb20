// NVML, loaded with dlopen at run time (never linked): each entry point is looked up once; a
// missing one disables only its metric (DCGM's approach). The types are declared here exactly
// as nvml.h lays them out.
#include <dlfcn.h>
#include <fmt/format.h>

#include <cstdlib>
#include <unordered_map>

#include "gpu/gpu_source.h"

namespace gpuledger {
namespace {

using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
struct nvmlUtilization_t {
  unsigned int gpu, memory;
};
struct nvmlMemory_t {
  unsigned long long total, free, used;
};
// nvmlProcessInfo_t, taken by the _v2 and _v3 process listings.
struct nvmlProcessInfo_t {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId, computeInstanceId;
};
// nvmlProcessInfo_v1_t, taken by the unversioned listing of older drivers.
struct nvmlProcessInfo_v1_t {
  unsigned int pid;
  unsigned long long usedGpuMemory;
};
struct nvmlProcessUtilizationSample_t {
  unsigned int pid;
  unsigned long long timeStamp;  // µs since the epoch
  unsigned int smUtil, memUtil, encUtil, decUtil;
};
static_assert(sizeof(nvmlProcessInfo_t) == 24 && sizeof(nvmlProcessInfo_v1_t) == 16 &&
              sizeof(nvmlProcessUtilizationSample_t) == 32);

constexpr nvmlReturn_t kSuccess = 0;
constexpr nvmlReturn_t kNotSupported = 3;
constexpr nvmlReturn_t kNotFound = 6;
constexpr nvmlReturn_t kInsufficientSize = 7;
constexpr unsigned long long kValueNotAvailable = ~0ULL;
constexpr unsigned int kMaxProcesses = 4096;  // far above what one GPU runs

class NvmlSource : public GpuSource {
 public:
  ~NvmlSource() override {
    if (shutdown_) shutdown_();
    if (lib_) dlclose(lib_);
  }

  static Result<std::unique_ptr<GpuSource>> Open();
  Result<std::vector<GpuSnapshot>> Read(TimeMs now) override;
  std::string Describe() const override;

 private:
  NvmlSource() = default;
  template <typename Fn>
  Fn Sym(const char* name) {
    return reinterpret_cast<Fn>(dlsym(lib_, name));
  }
  std::string ErrorText(nvmlReturn_t r) const;
  // Appends the compute processes of GPU "index" to snap; false (and an error) when it fails.
  bool ListProcesses(unsigned int index, nvmlDevice_t dev, GpuSnapshot* snap);
  // Per-process SM utilisation of GPU "index" since the previous call, by pid; nullopt when
  // the driver keeps none.
  std::optional<std::unordered_map<unsigned int, unsigned int>> ProcessUtil(unsigned int index,
                                                                            nvmlDevice_t dev);

  std::string path_;
  void* lib_ = nullptr;
  unsigned int gpus_ = 0;
  const char* list_name_ = "no process listing";
  nvmlReturn_t (*shutdown_)() = nullptr;
  nvmlReturn_t (*count_)(unsigned int*) = nullptr;
  nvmlReturn_t (*handle_)(unsigned int, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*util_)(nvmlDevice_t, nvmlUtilization_t*) = nullptr;
  nvmlReturn_t (*memory_)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
  nvmlReturn_t (*list_)(nvmlDevice_t, unsigned int*, nvmlProcessInfo_t*) = nullptr;
  nvmlReturn_t (*list_v1_)(nvmlDevice_t, unsigned int*, nvmlProcessInfo_v1_t*) = nullptr;
  nvmlReturn_t (*process_util_)(nvmlDevice_t, nvmlProcessUtilizationSample_t*, unsigned int*,
                                unsigned long long) = nullptr;
  const char* (*error_string_)(nvmlReturn_t) = nullptr;
  std::unordered_map<unsigned int, unsigned long long> last_seen_us_;  // per GPU
};

Result<std::unique_ptr<GpuSource>> NvmlSource::Open() {
  const char* override_path = std::getenv("GPULEDGER_NVML_LIBRARY");
  const std::string path = override_path && *override_path ? override_path : "libnvidia-ml.so.1";
  auto s = std::unique_ptr<NvmlSource>(new NvmlSource());
  s->path_ = path;
  s->lib_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!s->lib_) return MakeError(ErrorCode::kIo, fmt::format("NVML not available: {}", dlerror()));
  auto init = s->Sym<nvmlReturn_t (*)()>("nvmlInit_v2");
  s->count_ = s->Sym<nvmlReturn_t (*)(unsigned int*)>("nvmlDeviceGetCount_v2");
  s->handle_ =
      s->Sym<nvmlReturn_t (*)(unsigned int, nvmlDevice_t*)>("nvmlDeviceGetHandleByIndex_v2");
  s->util_ =
      s->Sym<nvmlReturn_t (*)(nvmlDevice_t, nvmlUtilization_t*)>("nvmlDeviceGetUtilizationRates");
  s->memory_ = s->Sym<nvmlReturn_t (*)(nvmlDevice_t, nvmlMemory_t*)>("nvmlDeviceGetMemoryInfo");
  s->error_string_ = s->Sym<const char* (*)(nvmlReturn_t)>("nvmlErrorString");
  using ListFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int*, nvmlProcessInfo_t*);
  for (const char* name :
       {"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2"}) {
    if ((s->list_ = s->Sym<ListFn>(name))) {
      s->list_name_ = name;
      break;
    }
  }
  if (!s->list_) {
    s->list_v1_ = s->Sym<nvmlReturn_t (*)(nvmlDevice_t, unsigned int*, nvmlProcessInfo_v1_t*)>(
        "nvmlDeviceGetComputeRunningProcesses");
    if (s->list_v1_) s->list_name_ = "nvmlDeviceGetComputeRunningProcesses";
  }
  s->process_util_ =
      s->Sym<nvmlReturn_t (*)(nvmlDevice_t, nvmlProcessUtilizationSample_t*, unsigned int*,
                              unsigned long long)>("nvmlDeviceGetProcessUtilization");
  if (!init || !s->count_ || !s->handle_) {
    return MakeError(ErrorCode::kIo,
                     "NVML lacks nvmlInit_v2 / nvmlDeviceGetCount_v2 / "
                     "nvmlDeviceGetHandleByIndex_v2: " +
                         path);
  }
  if (nvmlReturn_t r = init(); r != kSuccess) {
    return MakeError(ErrorCode::kIo, "nvmlInit failed: " + s->ErrorText(r));
  }
  s->shutdown_ = s->Sym<nvmlReturn_t (*)()>("nvmlShutdown");
  unsigned int n = 0;
  if (nvmlReturn_t r = s->count_(&n); r != kSuccess)
    return MakeError(ErrorCode::kIo, "nvmlDeviceGetCount failed: " + s->ErrorText(r));
  s->gpus_ = n;
  return std::unique_ptr<GpuSource>(std::move(s));
}

std::string NvmlSource::ErrorText(nvmlReturn_t r) const {
  const char* text = error_string_ ? error_string_(r) : nullptr;
  return fmt::format("{} (NVML error {})", text ? text : "error", r);
}

bool NvmlSource::ListProcesses(unsigned int index, nvmlDevice_t dev, GpuSnapshot* snap) {
  // Ask with room for a few; on NVML_ERROR_INSUFFICIENT_SIZE the count says how many there are
  // now (processes may start in between, so ask again, with headroom).
  unsigned int room = 16;
  nvmlReturn_t r = kInsufficientSize;
  std::vector<nvmlProcessInfo_t> procs;
  std::vector<nvmlProcessInfo_v1_t> procs_v1;
  for (int attempt = 0; attempt < 4 && r == kInsufficientSize; ++attempt) {
    unsigned int count = room;
    if (list_) {
      procs.resize(room);
      r = list_(dev, &count, procs.data());
    } else {
      procs_v1.resize(room);
      r = list_v1_(dev, &count, procs_v1.data());
    }
    if (r == kSuccess) {
      procs.resize(list_ ? count : 0);
      for (unsigned int i = 0; i < (list_ ? 0 : count); ++i)
        procs.push_back({procs_v1[i].pid, procs_v1[i].usedGpuMemory, 0, 0});
    }
    room = std::min(kMaxProcesses, std::max(room * 2, count + 8));
  }
  if (r != kSuccess) {
    snap->errors.push_back(fmt::format("GPU {}: listing its processes: {}", index, ErrorText(r)));
    return false;
  }
  auto util = ProcessUtil(index, dev);
  for (const nvmlProcessInfo_t& p : procs) {
    GpuProcessReading out{static_cast<int>(index), p.pid, std::nullopt, std::nullopt};
    if (p.usedGpuMemory != kValueNotAvailable) out.memory_mib = p.usedGpuMemory / 1048576.0;
    if (util) {
      auto it = util->find(p.pid);
      out.util_pct = it == util->end() ? 0.0 : it->second;
    }
    snap->processes.push_back(out);
  }
  return true;
}

std::optional<std::unordered_map<unsigned int, unsigned int>> NvmlSource::ProcessUtil(
    unsigned int index, nvmlDevice_t dev) {
  if (!process_util_) return std::nullopt;
  unsigned long long& last_seen = last_seen_us_[index];
  unsigned int count = 0;
  nvmlReturn_t r = process_util_(dev, nullptr, &count, last_seen);
  std::unordered_map<unsigned int, unsigned int> by_pid;
  if (r == kNotFound) return by_pid;  // no process ran since the last call
  if (r != kInsufficientSize && r != kSuccess) return std::nullopt;
  std::vector<nvmlProcessUtilizationSample_t> samples(count + 8);
  count = static_cast<unsigned int>(samples.size());
  r = process_util_(dev, samples.data(), &count, last_seen);
  if (r == kNotFound) return by_pid;
  if (r != kSuccess) return std::nullopt;
  for (unsigned int i = 0; i < count; ++i) {
    const auto& s = samples[i];
    by_pid[s.pid] = std::max(by_pid[s.pid], std::min(s.smUtil, 100u));
    last_seen = std::max(last_seen, s.timeStamp);
  }
  return by_pid;
}

Result<std::vector<GpuSnapshot>> NvmlSource::Read(TimeMs now) {
  GpuSnapshot snap{now, {}, list_ || list_v1_, {}, {}, {}, {}};
  for (unsigned int i = 0; i < gpus_; ++i) {
    nvmlDevice_t dev = nullptr;
    if (nvmlReturn_t r = handle_(i, &dev); r != kSuccess) {
      snap.errors.push_back(fmt::format("GPU {}: {}", i, ErrorText(r)));
      snap.unread_gpus.push_back(static_cast<int>(i));
      continue;
    }
    if (!util_) continue;  // no utilisation metric: no reading (said in Describe)
    GpuReading reading{static_cast<int>(i), 0, std::nullopt};
    nvmlUtilization_t u{};
    if (nvmlReturn_t r = util_(dev, &u); r != kSuccess) {
      snap.errors.push_back(fmt::format("GPU {}: {}", i, ErrorText(r)));
      snap.unread_gpus.push_back(static_cast<int>(i));
      continue;  // e.g. NVML_ERROR_GPU_IS_LOST: unmonitored
    }
    reading.util_pct = u.gpu;
    nvmlMemory_t m{};
    if (memory_ && memory_(dev, &m) == kSuccess) reading.memory_used_mib = m.used / 1048576.0;
    snap.gpus.push_back(reading);
    if (snap.processes_listed && !ListProcesses(i, dev, &snap)) snap.unlisted_gpus.push_back(i);
  }
  return std::vector<GpuSnapshot>{std::move(snap)};
}

std::string NvmlSource::Describe() const {
  return fmt::format("NVML ({}), {} GPU{}{}{}; processes: {}{}", path_, gpus_,
                     gpus_ == 1 ? "" : "s", util_ ? "" : ", no utilisation metric",
                     memory_ ? "" : ", no memory metric", list_name_,
                     process_util_ ? ", per-process utilisation" : "");
}

}  // namespace

Result<std::unique_ptr<GpuSource>> MakeNvmlSource() { return NvmlSource::Open(); }

}  // namespace gpuledger
