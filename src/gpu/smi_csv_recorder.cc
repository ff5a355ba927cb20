#include "gpu/smi_csv_recorder.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace gpuledger {

SmiCsvRecorder::~SmiCsvRecorder() {
  if (file_) std::fclose(file_);
}

std::string SmiCsvRecorder::PathFor(TimeMs t) const {
  return fmt::format("{}/{}/{}.csv", dir_, FormatIsoUtc(t).substr(0, 10), host_);
}

Result<void> SmiCsvRecorder::Write(const GpuSnapshot& snap) {
  const std::string path = PathFor(snap.t);
  if (path != open_path_) {
    if (file_) std::fclose(file_);
    file_ = nullptr;
    open_path_.clear();
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    const bool fresh = !std::filesystem::exists(path, ec);
    file_ = std::fopen(path.c_str(), "a");
    if (!file_) return MakeError(ErrorCode::kIo, std::strerror(errno), path);
    open_path_ = path;
    if (fresh) std::fputs("timestamp, index, utilization.gpu [%], memory.used [MiB]\n", file_);
  }
  const std::string stamp = FormatNvidiaSmiTime(snap.t);
  for (const GpuReading& g : snap.gpus) {
    if (g.memory_used_mib)
      fmt::print(file_, "{}, {}, {} %, {:.0f} MiB\n", stamp, g.index, g.util_pct,
                 *g.memory_used_mib);
    else
      fmt::print(file_, "{}, {}, {} %, [N/A]\n", stamp, g.index, g.util_pct);
  }
  if (std::fflush(file_) != 0) return MakeError(ErrorCode::kIo, std::strerror(errno), path);
  return {};
}

}  // namespace gpuledger
