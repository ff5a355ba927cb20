// nvidia-smi as a subprocess, one query per read.
#include <charconv>
#include <cstdio>
#include <memory>

#include "core/csv_table.h"
#include "guard/gpu_source.h"
#include "sources/nvidia_smi_csv.h"
#include "sources/table_fields.h"

namespace gpuledger {
namespace {

constexpr const char* kQuery =
    "nvidia-smi --query-gpu=index,utilization.gpu,memory.used --format=csv,noheader,nounits "
    "2>/dev/null";

// Runs the query; nullopt when nvidia-smi could not be run or failed.
std::optional<std::vector<GpuReading>> Query() {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(kQuery, "r"), &pclose);
  if (!pipe) return std::nullopt;
  std::vector<GpuReading> out;
  char line[512];
  while (std::fgets(line, sizeof line, pipe.get())) {
    GpuReading r;
    if (ParseGpuQueryLine(line, &r)) out.push_back(r);
  }
  if (pclose(pipe.release()) != 0) return std::nullopt;
  return out;
}

}  // namespace

bool ParseGpuQueryLine(std::string_view line, GpuReading* out) {
  std::string_view f[3];
  for (int i = 0; i < 3; ++i) {
    const size_t comma = line.find(',');
    if ((i < 2) == (comma == std::string_view::npos)) return false;  // exactly three fields
    f[i] = Trim(line.substr(0, comma));
    line = comma == std::string_view::npos ? std::string_view() : line.substr(comma + 1);
  }
  GpuReading r;
  double util = 0, memory = 0;
  if (!ReadInt(f[0], 0, 1023, &r.index) || ParseUtilization(f[1], &util) != 1) return false;
  r.util_pct = util;
  auto [end, ec] = std::from_chars(f[2].data(), f[2].data() + f[2].size(), memory);
  if (ec == std::errc() && end == f[2].data() + f[2].size()) r.memory_used_mib = memory;
  *out = r;
  return true;
}

namespace {

class NvidiaSmiSource : public GpuSource {
 public:
  explicit NvidiaSmiSource(size_t gpus) : gpus_(gpus) {}
  Result<std::vector<GpuSnapshot>> Read(TimeMs now) override {
    auto readings = Query();
    if (!readings) return MakeError(ErrorCode::kIo, "nvidia-smi failed");
    return std::vector<GpuSnapshot>{{now, std::move(*readings)}};
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
  return std::unique_ptr<GpuSource>(new NvidiaSmiSource(first->size()));
}

}  // namespace gpuledger
