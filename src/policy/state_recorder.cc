#include "policy/state_recorder.h"

#include <algorithm>

namespace gpuledger {

GpuStateRecorder::GpuStateRecorder(int gpu_count, DurationMs max_gap_ms, double threshold_pct)
    : fixed_count_(gpu_count), max_gap_ms_(max_gap_ms), threshold_pct_(threshold_pct) {
  streams_.assign(gpu_count, SampleStream(max_gap_ms, threshold_pct));
  logs_.resize(gpu_count);
}

bool GpuStateRecorder::KnowsGpu(int gpu) const {
  return gpu >= 0 && (fixed_count_ > 0 ? gpu < fixed_count_ : gpu <= 1023);
}

SampleVerdict GpuStateRecorder::Add(int gpu, TimeMs t, double util_pct, uint64_t) {
  if (!KnowsGpu(gpu)) return SampleVerdict::kUnknownGpu;
  if (static_cast<size_t>(gpu) >= streams_.size()) {
    streams_.resize(gpu + 1, SampleStream(max_gap_ms_, threshold_pct_));
    logs_.resize(gpu + 1);
  }
  std::optional<StoodInterval> done;
  const SampleVerdict v = streams_[gpu].Add(t, util_pct, &done);
  if (done) logs_[gpu].Append(*done);
  return v;
}

void GpuStateRecorder::Finish() {
  for (size_t g = 0; g < streams_.size(); ++g) {
    if (auto last = streams_[g].Finish()) logs_[g].Append(*last);
  }
}

bool GpuStateRecorder::Seen(int gpu) const {
  return gpu >= 0 && static_cast<size_t>(gpu) < streams_.size() && streams_[gpu].samples() > 0;
}

TimeMs GpuStateRecorder::FirstSample() const {
  TimeMs first = kTimeMax;
  for (const SampleStream& s : streams_) {
    if (s.samples() > 0) first = std::min(first, s.first_sample());
  }
  return first;
}

TimeMs GpuStateRecorder::DataEnd() const {
  TimeMs end = kTimeMin;
  for (const SampleStream& s : streams_) {
    if (s.samples() > 0) end = std::max(end, s.last_sample() + max_gap_ms_);
  }
  return end;
}

}  // namespace gpuledger
