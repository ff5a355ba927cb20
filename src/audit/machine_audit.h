// The audit of one machine: receives its samples, then partitions its billed GPU time.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "audit/audit_options.h"
#include "audit/audit_result.h"
#include "audit/gpu_accumulator.h"
#include "model/fleet.h"
#include "model/mig.h"
#include "model/sample_sink.h"

namespace gpuledger {

inline constexpr int kMaxGpuIndex = 1023;

class MachineAudit : public MachineSink {
 public:
  // "machine", "options" and the jobs pointed to must outlive this object. "jobs" are this
  // machine's accepted job records, sorted by (start, input order).
  MachineAudit(const Machine& machine, std::vector<const Job*> jobs, const AuditOptions& options);

  // Samples of each GPU must come in time order (kOutOfOrder otherwise; see GpuAccumulator).
  SampleVerdict Add(int gpu, TimeMs t, double util_pct, uint64_t order, double memory_mib) override;

  // Roll-up spans (SampleSink::AddSpan), credited by GpuAccumulator::AddSpan.
  SampleVerdict AddSpan(int gpu, TimeMs from, TimeMs to, DurationMs below_ms, DurationMs above_ms,
                        uint64_t order) override;

  // True when samples of this GPU index are part of the audit.
  bool KnowsGpu(int gpu) const override;

  // Flushes the last sample of every GPU. Call once, after the last Add.
  void Finish() override;

  // The end of the time its samples stand for (the latest GPU's last sample + what it stands
  // for, SampleStream::StoodEnd), or kTimeMin if none.
  TimeMs DataEnd() const;

  // The first sample of any GPU, or kTimeMax if none.
  TimeMs FirstSample() const;

  // The slowest GPU's typical interval between samples (SampleStream::TypicalIntervalMs).
  DurationMs TypicalIntervalMs() const override;

  // The category partition. "open_end" is where open-ended billing and running jobs stop:
  // the audit window's end, or the end of the data when the window has none.
  MachineResult Result(TimeMs open_end) const;

 private:
  // Per-day and per-job figures being gathered (AuditOptions::breakdown).
  struct Breakdown {
    std::map<int64_t, DayResult> days;
    std::map<int32_t, Spend> jobs;  // by index into jobs_
  };

  GpuAccumulator* Gpu(int gpu);
  // Every GPU's accumulator (physical GPUs by index, then MIG instances), with its index.
  std::vector<std::pair<int, const GpuAccumulator*>> Accumulators() const;
  void AddPiece(const Piece& piece, DurationMs length_ms, double share, bool never_used,
                MachineResult* out, Breakdown* breakdown) const;

  const Machine& machine_;
  std::vector<const Job*> jobs_;
  const AuditOptions& options_;
  std::vector<std::unique_ptr<GpuAccumulator>> gpus_;    // by GPU index; null: never seen
  std::map<int, std::unique_ptr<GpuAccumulator>> migs_;  // MIG instances (model/mig.h)
  std::vector<std::vector<int32_t>> share_groups_;       // of every GPU's pieces
};

}  // namespace gpuledger
