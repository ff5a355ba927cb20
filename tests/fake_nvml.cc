// A stand-in for libnvidia-ml.so.1 (tests only), following NVML's documented ABI: the struct
// layouts of nvml.h, the _v2/_v3 entry points, NVML_ERROR_INSUFFICIENT_SIZE when the caller's
// buffer is too small, NVML_ERROR_NOT_FOUND when no process sample is newer than asked.
//
// What it reports is read at every call, so a test can change it while the guard runs:
//   $FAKE_NVML_STATE  a file of lines
//                       gpu INDEX util PCT [mem MIB] [lost]
//                       proc GPU PID MIB [util PCT]      (a compute process; util: its SM %)
//   $FAKE_NVML_UTIL   without a state file: "0,80" is two GPUs at 0 % and 80 %
//
// Built twice: fake_nvml (a current driver) and, with FAKE_NVML_OLD, fake_nvml_old (an old one:
// no nvmlDeviceGetMemoryInfo, only the unversioned process listing with nvmlProcessInfo_v1_t,
// no per-process utilisation), so tests see missing entry points disable only their metric.
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr int kSuccess = 0, kInvalidArgument = 2, kNotFound = 6, kInsufficientSize = 7,
              kGpuIsLost = 15;

struct FakeProcess {
  unsigned gpu, pid;
  unsigned long long bytes;
  int util;  // -1: no sample
};

struct FakeGpu {
  unsigned util = 0;
  unsigned long long used_bytes = 0;
  bool lost = false;
};

struct FakeState {
  std::vector<FakeGpu> gpus;
  std::vector<FakeProcess> procs;
};

// The state file parsed again only when it changed (a driver answers in microseconds; the
// guard's benchmark should measure the guard, not this file's parsing).
FakeState Parse(const char* path) {
  FakeState st;
  {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream words(line);
      std::string what, key;
      words >> what;
      if (what == "gpu") {
        unsigned index = 0;
        FakeGpu g;
        words >> index;
        while (words >> key) {
          double mib = 0;
          if (key == "util") words >> g.util;
          if (key == "mem" && (words >> mib))
            g.used_bytes = static_cast<unsigned long long>(mib * 1048576);
          if (key == "lost") g.lost = true;
        }
        if (index >= st.gpus.size()) st.gpus.resize(index + 1);
        st.gpus[index] = g;
      } else if (what == "proc") {
        FakeProcess p{0, 0, 0, -1};
        double mib = 0;
        words >> p.gpu >> p.pid >> mib;
        p.bytes = static_cast<unsigned long long>(mib * 1048576);
        if (words >> key && key == "util") words >> p.util;
        st.procs.push_back(p);
      }
    }
  }
  return st;
}

const FakeState& Load() {
  if (const char* path = std::getenv("FAKE_NVML_STATE"); path && *path) {
    static std::string cached_path;
    static timespec cached_mtime{};
    static off_t cached_size = -1;
    static FakeState cached;
    static const FakeState kNone;
    struct stat sb {};
    if (stat(path, &sb) != 0) return kNone;
    if (cached_path != path || sb.st_size != cached_size ||
        sb.st_mtim.tv_sec != cached_mtime.tv_sec || sb.st_mtim.tv_nsec != cached_mtime.tv_nsec) {
      cached = Parse(path);
      cached_path = path, cached_mtime = sb.st_mtim, cached_size = sb.st_size;
    }
    return cached;
  }
  static FakeState st;
  st = FakeState();
  const char* env = std::getenv("FAKE_NVML_UTIL");
  std::string s = env ? env : "";
  for (size_t i = 0; i < s.size();) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    FakeGpu g;
    g.util = static_cast<unsigned>(std::atoi(s.substr(i, j - i).c_str()));
    st.gpus.push_back(g);
    i = j + 1;
  }
  return st;
}

struct Device {
  unsigned index;
};
Device devices[64];

// The GPU behind a handle, or nullptr (with *rc set) when there is none or it is lost.
const FakeGpu* GpuOf(const FakeState& st, void* device, int* rc) {
  const unsigned i = static_cast<Device*>(device)->index;
  *rc = i >= st.gpus.size() ? kInvalidArgument : st.gpus[i].lost ? kGpuIsLost : kSuccess;
  return *rc == kSuccess ? &st.gpus[i] : nullptr;
}

template <typename Info>
int ListProcesses(void* device, unsigned int* count, Info* infos) {
  const FakeState& st = Load();
  int rc = kSuccess;
  if (!GpuOf(st, device, &rc)) return rc;
  const unsigned index = static_cast<Device*>(device)->index;
  std::vector<FakeProcess> mine;
  for (const FakeProcess& p : st.procs) {
    if (p.gpu == index) mine.push_back(p);
  }
  if (*count < mine.size() || (infos == nullptr && !mine.empty())) {
    *count = static_cast<unsigned>(mine.size());
    return kInsufficientSize;
  }
  *count = static_cast<unsigned>(mine.size());
  for (size_t i = 0; i < mine.size(); ++i) {
    std::memset(&infos[i], 0xAB, sizeof(Info));  // a driver leaves no zeroed padding either
    infos[i].pid = mine[i].pid;
    infos[i].usedGpuMemory = mine[i].bytes;
  }
  return kSuccess;
}

}  // namespace

extern "C" {
struct nvmlUtilization_t {
  unsigned int gpu, memory;
};
struct nvmlMemory_t {
  unsigned long long total, free, used;
};
struct nvmlProcessInfo_t {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId, computeInstanceId;
};
struct nvmlProcessInfo_v1_t {
  unsigned int pid;
  unsigned long long usedGpuMemory;
};
struct nvmlProcessUtilizationSample_t {
  unsigned int pid;
  unsigned long long timeStamp;
  unsigned int smUtil, memUtil, encUtil, decUtil;
};

int nvmlInit_v2() { return kSuccess; }
int nvmlShutdown() { return kSuccess; }
const char* nvmlErrorString(int rc) {
  switch (rc) {
    case kGpuIsLost:
      return "GPU is lost";
    case kInsufficientSize:
      return "Insufficient Size";
    case kNotFound:
      return "Not Found";
    case kInvalidArgument:
      return "Invalid Argument";
    default:
      return "Unknown Error";
  }
}
int nvmlDeviceGetCount_v2(unsigned int* count) {
  *count = static_cast<unsigned>(Load().gpus.size());
  return kSuccess;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void** device) {
  if (index >= 64) return kInvalidArgument;
  devices[index].index = index;
  *device = &devices[index];
  return kSuccess;
}
int nvmlDeviceGetUtilizationRates(void* device, nvmlUtilization_t* u) {
  const FakeState& st = Load();
  int rc = kSuccess;
  const FakeGpu* g = GpuOf(st, device, &rc);
  if (!g) return rc;
  u->gpu = g->util;
  u->memory = 0;
  return kSuccess;
}
#ifndef FAKE_NVML_OLD
int nvmlDeviceGetMemoryInfo(void* device, nvmlMemory_t* m) {
  const FakeState& st = Load();
  int rc = kSuccess;
  const FakeGpu* g = GpuOf(st, device, &rc);
  if (!g) return rc;
  m->total = 80ULL << 30;
  m->used = g->used_bytes;
  m->free = m->total - m->used;
  return kSuccess;
}
int nvmlDeviceGetComputeRunningProcesses_v3(void* device, unsigned int* count,
                                            nvmlProcessInfo_t* infos) {
  return ListProcesses(device, count, infos);
}
int nvmlDeviceGetComputeRunningProcesses_v2(void* device, unsigned int* count,
                                            nvmlProcessInfo_t* infos) {
  return ListProcesses(device, count, infos);
}
// Samples of the processes with a "util" in the state, stamped now, when newer than asked.
int nvmlDeviceGetProcessUtilization(void* device, nvmlProcessUtilizationSample_t* samples,
                                    unsigned int* count, unsigned long long last_seen_us) {
  const FakeState& st = Load();
  int rc = kSuccess;
  if (!GpuOf(st, device, &rc)) return rc;
  const unsigned index = static_cast<Device*>(device)->index;
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  const unsigned long long now_us = ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
  std::vector<FakeProcess> mine;
  for (const FakeProcess& p : st.procs) {
    if (p.gpu == index && p.util >= 0 && now_us > last_seen_us) mine.push_back(p);
  }
  if (mine.empty()) return kNotFound;
  if (samples == nullptr || *count < mine.size()) {
    *count = static_cast<unsigned>(mine.size());
    return kInsufficientSize;
  }
  *count = static_cast<unsigned>(mine.size());
  for (size_t i = 0; i < mine.size(); ++i) {
    samples[i] = {mine[i].pid, now_us, static_cast<unsigned>(mine[i].util), 0, 0, 0};
  }
  return kSuccess;
}
#else
int nvmlDeviceGetComputeRunningProcesses(void* device, unsigned int* count,
                                         nvmlProcessInfo_v1_t* infos) {
  return ListProcesses(device, count, infos);
}
#endif
}
