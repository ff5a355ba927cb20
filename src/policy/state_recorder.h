// Records one machine's GPU states from its telemetry, for the backtest.
#pragma once

#include <map>
#include <vector>

#include "audit/sample_stream.h"
#include "model/sample_sink.h"
#include "policy/job_state.h"

namespace gpuledger {

// Keeps, per GPU, the stood intervals of its samples (contiguous ones of one state merged), so
// memory grows with the GPU's state changes and gaps, not with its samples.
class GpuStateRecorder : public MachineSink {
 public:
  // gpu_count > 0: GPUs 0…gpu_count-1 exist; 0: any index seen (up to 1023) is taken.
  GpuStateRecorder(int gpu_count, DurationMs max_gap_ms, double threshold_pct);

  SampleVerdict Add(int gpu, TimeMs t, double util_pct, uint64_t order, double memory_mib) override;
  bool KnowsGpu(int gpu) const override;

  // Flushes every GPU's last sample. Call once, after the last Add.
  void Finish() override;
  // The slowest GPU's typical interval between samples (SampleStream::TypicalIntervalMs).
  DurationMs TypicalIntervalMs() const override;

  int gpus() const { return static_cast<int>(logs_.size()); }  // physical GPU indices
  std::vector<int> MigGpus() const;  // MIG instances seen (model/mig.h), by index
  bool Seen(int gpu) const;
  const GpuStateLog& Log(int gpu) const;
  TimeMs FirstSample() const;  // kTimeMax when none
  TimeMs DataEnd() const;      // the end of what the samples stand for; kTimeMin when none

 private:
  int fixed_count_;
  DurationMs max_gap_ms_;
  double threshold_pct_;
  std::vector<SampleStream> streams_;
  std::vector<GpuStateLog> logs_;
  struct Mig {
    SampleStream stream;
    GpuStateLog log;
  };
  std::map<int, Mig> migs_;
};

}  // namespace gpuledger
