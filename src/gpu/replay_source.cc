// A recorded nvidia-smi CSV played back: each row is delivered once, at the wall-clock instant
// its timestamp maps to (the first row at "start", then "speed" times faster than recorded),
// stamped with its recorded time; the policy judges on the recording's clock (ClockAt), so a
// 20-minute idle rule fires on 20 recorded minutes, whatever the speed.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/line_reader.h"
#include "gpu/gpu_source.h"
#include "sources/nvidia_smi_csv.h"

namespace gpuledger {
namespace {

struct Row {
  TimeMs t;
  int gpu;
  double util;
  double memory_mib;
};

class Collect : public SampleSink {
 public:
  SampleVerdict Add(int gpu, TimeMs t, double util, uint64_t, double memory_mib) override {
    rows.push_back({t, gpu, util, memory_mib});
    return SampleVerdict::kAccepted;
  }
  std::vector<Row> rows;
};

class ReplaySource : public GpuSource {
 public:
  ReplaySource(std::string path, std::vector<Row> rows, double speed, TimeMs start)
      : path_(std::move(path)), rows_(std::move(rows)), speed_(speed), start_(start) {}

  Result<std::vector<GpuSnapshot>> Read(TimeMs now) override {
    std::vector<GpuSnapshot> out;
    if (rows_.empty()) return out;
    const TimeMs t0 = rows_.front().t;
    for (; next_ < rows_.size(); ++next_) {
      const Row& r = rows_[next_];
      const TimeMs at = start_ + static_cast<TimeMs>((r.t - t0) / speed_);
      if (at > now) break;
      if (out.empty() || out.back().t != r.t)
        out.push_back(GpuSnapshot{r.t, {}, false, {}, {}, {}, {}});
      out.back().gpus.push_back(
          {r.gpu, r.util,
           std::isnan(r.memory_mib) ? std::nullopt : std::optional<double>(r.memory_mib)});
    }
    return out;
  }

  TimeMs ClockAt(TimeMs wall_now) const override {
    return rows_.front().t + static_cast<TimeMs>(static_cast<double>(wall_now - start_) * speed_);
  }

  std::string Describe() const override {
    return fmt::format("replay of {} ({} rows) at {}x", path_, rows_.size(), speed_);
  }

 private:
  std::string path_;
  std::vector<Row> rows_;
  double speed_;
  TimeMs start_;
  size_t next_ = 0;
};

}  // namespace

Result<std::unique_ptr<GpuSource>> MakeReplaySource(const std::string& path, double speed,
                                                    TimeMs start) {
  static const TimeZone kUtc = TimeZone::Utc();
  Collect sink;
  SourceStats stats;
  NvidiaSmiReader reader(path, 0, &kUtc, &sink, &stats);
  auto ok =
      ForEachLine(path, [&](std::string_view line, uint64_t no) { return reader.Line(line, no); });
  if (!ok) return std::unexpected(ok.error());
  if (sink.rows.empty()) {
    return MakeError(ErrorCode::kIo, "no valid nvidia-smi rows to replay", path);
  }
  std::stable_sort(sink.rows.begin(), sink.rows.end(),
                   [](const Row& a, const Row& b) { return a.t < b.t; });
  return std::unique_ptr<GpuSource>(new ReplaySource(path, std::move(sink.rows), speed, start));
}

}  // namespace gpuledger
