#include "policy/state_recorder.h"

#include <algorithm>

#include "model/mig.h"

namespace gpuledger {

GpuStateRecorder::GpuStateRecorder(int gpu_count, DurationMs max_gap_ms, double threshold_pct)
    : fixed_count_(gpu_count), max_gap_ms_(max_gap_ms), threshold_pct_(threshold_pct) {
  streams_.assign(gpu_count, SampleStream(max_gap_ms, threshold_pct));
  logs_.resize(gpu_count);
}

bool GpuStateRecorder::KnowsGpu(int gpu) const {
  const int physical = PhysicalGpu(gpu);
  return physical >= 0 && (fixed_count_ > 0 ? physical < fixed_count_ : physical <= 1023);
}

SampleVerdict GpuStateRecorder::Add(int gpu, TimeMs t, double util_pct, uint64_t,
                                    double memory_mib) {
  if (!KnowsGpu(gpu)) return SampleVerdict::kUnknownGpu;
  if (IsMigIndex(gpu)) {
    Mig& m =
        migs_.try_emplace(gpu, Mig{SampleStream(max_gap_ms_, threshold_pct_), {}}).first->second;
    std::optional<StoodInterval> done;
    const SampleVerdict v = m.stream.Add(t, util_pct, memory_mib, &done);
    if (done) m.log.Append(*done);
    return v;
  }
  if (static_cast<size_t>(gpu) >= streams_.size()) {
    streams_.resize(gpu + 1, SampleStream(max_gap_ms_, threshold_pct_));
    logs_.resize(gpu + 1);
  }
  std::optional<StoodInterval> done;
  const SampleVerdict v = streams_[gpu].Add(t, util_pct, memory_mib, &done);
  if (done) logs_[gpu].Append(*done);
  return v;
}

DurationMs GpuStateRecorder::TypicalIntervalMs() const {
  DurationMs typical = 0;
  for (const SampleStream& s : streams_) typical = std::max(typical, s.TypicalIntervalMs());
  for (const auto& [index, m] : migs_) typical = std::max(typical, m.stream.TypicalIntervalMs());
  return typical;
}

void GpuStateRecorder::Finish() {
  for (size_t g = 0; g < streams_.size(); ++g) {
    if (auto last = streams_[g].Finish()) logs_[g].Append(*last);
  }
  for (auto& [index, m] : migs_) {
    if (auto last = m.stream.Finish()) m.log.Append(*last);
  }
}

std::vector<int> GpuStateRecorder::MigGpus() const {
  std::vector<int> out;
  for (const auto& [index, m] : migs_) out.push_back(index);
  return out;
}

bool GpuStateRecorder::Seen(int gpu) const {
  if (IsMigIndex(gpu)) return migs_.contains(gpu);
  return gpu >= 0 && static_cast<size_t>(gpu) < streams_.size() && streams_[gpu].samples() > 0;
}

const GpuStateLog& GpuStateRecorder::Log(int gpu) const {
  return IsMigIndex(gpu) ? migs_.at(gpu).log : logs_[gpu];
}

TimeMs GpuStateRecorder::FirstSample() const {
  TimeMs first = kTimeMax;
  auto see = [&](const SampleStream& s) {
    if (s.samples() > 0) first = std::min(first, s.first_sample());
  };
  for (const SampleStream& s : streams_) see(s);
  for (const auto& [index, m] : migs_) see(m.stream);
  return first;
}

TimeMs GpuStateRecorder::DataEnd() const {
  TimeMs end = kTimeMin;
  auto see = [&](const SampleStream& s) {
    if (s.samples() > 0) end = std::max(end, s.StoodEnd());
  };
  for (const SampleStream& s : streams_) see(s);
  for (const auto& [index, m] : migs_) see(m.stream);
  return end;
}

}  // namespace gpuledger
