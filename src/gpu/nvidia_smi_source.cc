// nvidia-smi as a subprocess, one query per read.
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "core/csv_table.h"
#include "gpu/gpu_source.h"
#include "sources/nvidia_smi_csv.h"
#include "sources/table_fields.h"

namespace gpuledger {
namespace {

constexpr const char* kQuery =
    "nvidia-smi --query-gpu=index,utilization.gpu,memory.used,uuid --format=csv,noheader,nounits "
    "2>/dev/null";
constexpr const char* kAppsQuery =
    "nvidia-smi --query-compute-apps=pid,gpu_uuid,used_memory --format=csv,noheader,nounits "
    "2>/dev/null";

// Runs "command"; its lines, or nullopt when it could not be run or failed.
std::optional<std::vector<std::string>> Lines(const char* command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command, "r"), &pclose);
  if (!pipe) return std::nullopt;
  std::vector<std::string> out;
  char line[512];
  while (std::fgets(line, sizeof line, pipe.get())) out.emplace_back(line);
  if (pclose(pipe.release()) != 0) return std::nullopt;
  return out;
}

struct GpuQuery {
  std::vector<GpuReading> gpus;
  std::vector<std::string> uuids;  // per entry of gpus
};

std::optional<GpuQuery> Query() {
  auto lines = Lines(kQuery);
  if (!lines) return std::nullopt;
  GpuQuery q;
  for (const std::string& line : *lines) {
    GpuReading r;
    std::string uuid;
    if (!ParseGpuQueryLine(line, &r, &uuid)) continue;
    q.gpus.push_back(r);
    q.uuids.push_back(uuid);
  }
  return q;
}

}  // namespace

namespace {

// Splits "line" at commas into exactly "n" trimmed fields; false for another count.
bool SplitFields(std::string_view line, std::string_view* f, int n) {
  for (int i = 0; i < n; ++i) {
    const size_t comma = line.find(',');
    if ((i < n - 1) == (comma == std::string_view::npos)) return false;
    f[i] = Trim(line.substr(0, comma));
    line = comma == std::string_view::npos ? std::string_view() : line.substr(comma + 1);
  }
  return true;
}

// A memory field in MiB, unset for "[N/A]" and the like (the CSV reader's parser).
std::optional<double> MemoryField(std::string_view f) {
  const double mib = ParseMemoryMib(f);
  return std::isnan(mib) ? std::nullopt : std::optional<double>(mib);
}

}  // namespace

bool ParseComputeAppLine(std::string_view line, ComputeAppLine* out) {
  std::string_view f[3];
  if (!SplitFields(line, f, 3) || f[1].empty()) return false;
  int pid = 0;
  if (!ReadInt(f[0], 1, std::numeric_limits<int>::max(), &pid)) return false;
  *out = {pid, std::string(f[1]), MemoryField(f[2])};
  return true;
}

bool ParseGpuQueryLine(std::string_view line, GpuReading* out, std::string* uuid) {
  std::string_view f[4];
  if (!SplitFields(line, f, uuid ? 4 : 3)) return false;
  GpuReading r;
  double util = 0;
  if (!ReadInt(f[0], 0, 1023, &r.index) || ParseUtilization(f[1], &util) != 1) return false;
  r.util_pct = util;
  r.memory_used_mib = MemoryField(f[2]);
  *out = r;
  if (uuid) *uuid = std::string(f[3]);
  return true;
}

namespace {

class NvidiaSmiSource : public GpuSource {
 public:
  explicit NvidiaSmiSource(size_t gpus) : gpus_(gpus) {}
  Result<std::vector<GpuSnapshot>> Read(TimeMs now) override {
    auto q = Query();
    if (!q) return MakeError(ErrorCode::kIo, "nvidia-smi failed");
    GpuSnapshot snap{now, std::move(q->gpus), true, {}, {}, {}, {}};
    auto apps = Lines(kAppsQuery);
    if (!apps) {  // no process listing this time: the GPUs count, their processes are unknown
      for (const GpuReading& g : snap.gpus) snap.unlisted_gpus.push_back(g.index);
      snap.errors.push_back("nvidia-smi --query-compute-apps failed");
    }
    for (const std::string& line : apps.value_or(std::vector<std::string>{})) {
      ComputeAppLine app;
      if (!ParseComputeAppLine(line, &app)) continue;
      for (size_t i = 0; i < q->uuids.size(); ++i) {
        if (q->uuids[i] == app.gpu_uuid)
          snap.processes.push_back({snap.gpus[i].index, app.pid, app.memory_mib, std::nullopt});
      }
    }
    return std::vector<GpuSnapshot>{std::move(snap)};
  }
  std::string Describe() const override {
    return "nvidia-smi, " + std::to_string(gpus_) + " GPU" + (gpus_ == 1 ? "" : "s");
  }

 private:
  size_t gpus_;
};

}  // namespace

Result<std::unique_ptr<GpuSource>> MakeNvidiaSmiSource() {
  auto first = Query();
  if (!first) return MakeError(ErrorCode::kIo, "nvidia-smi not available");
  return std::unique_ptr<GpuSource>(new NvidiaSmiSource(first->gpus.size()));
}

}  // namespace gpuledger
