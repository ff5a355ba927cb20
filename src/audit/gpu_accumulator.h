// Turns one GPU's samples, in time order, into monitored time on its timeline.
#pragma once

#include <cstdint>
#include <vector>

#include "audit/gpu_timeline.h"
#include "audit/sample_stream.h"

namespace gpuledger {

// Credits the interval each sample stands for (SampleStream) to the pieces it overlaps, as
// below or at/above threshold. Memory is constant in the number of samples; with "split_days"
// it also keeps what each UTC day of each piece was credited (one entry per piece-day that
// has data), so per-day figures need no day-split of unbounded billing up front.
class GpuAccumulator {
 public:
  GpuAccumulator(std::vector<Piece> pieces, DurationMs max_gap_ms, double threshold_pct,
                 bool split_days = false, double held_memory_mib = 1024)
      : pieces_(std::move(pieces)),
        stream_(max_gap_ms, threshold_pct, held_memory_mib),
        split_days_(split_days) {}

  // See SampleStream::Add for the order samples must come in.
  SampleVerdict Add(TimeMs t, double util_pct, double memory_mib = kNoMemory);

  // Credits a roll-up span (SampleSink::AddSpan): its below and above time spread evenly over
  // [from, to), each piece (each piece-day with split_days) taking its share of the overlap
  // (rounded so the shares add up).
  void AddSpan(TimeMs from, TimeMs to, DurationMs below_ms, DurationMs above_ms);

  // Credits the last sample. Call once, after the last Add.
  void Finish();

  const std::vector<Piece>& pieces() const { return pieces_; }

  // The pieces clipped to [from, to) and, with split_days, cut at each UTC midnight, each with
  // the monitored time credited inside it. A piece left unbounded by the clip is not cut.
  std::vector<Piece> ClippedPieces(TimeMs from, TimeMs to) const;

  uint64_t samples() const { return stream_.samples() + spans_; }  // spans count as one each
  bool has_samples() const { return stream_.samples() > 0; }
  bool has_memory() const { return stream_.memory_samples() > 0; }
  TimeMs first_sample() const { return stream_.first_sample(); }
  TimeMs last_sample() const { return stream_.last_sample(); }
  TimeMs stood_end() const { return stream_.StoodEnd(); }  // see SampleStream::StoodEnd
  DurationMs typical_interval_ms() const { return stream_.TypicalIntervalMs(); }

 private:
  // Monitored time credited to one UTC day of one piece (split_days only).
  struct DayCredit {
    int32_t piece = 0;
    int64_t day = 0;
    DurationMs below_ms = 0, above_ms = 0, held_ms = 0;
  };

  // Calls fn(piece index, day, overlap) for each piece (piece-day with split_days) overlapping
  // [from, to), in time order. "from" must not go back between calls.
  template <typename Fn>
  void ForEachSegment(TimeMs from, TimeMs to, Fn&& fn);
  void CreditSegment(int32_t piece, int64_t day, DurationMs below, DurationMs above,
                     DurationMs held);
  void Credit(const StoodInterval& interval);

  std::vector<Piece> pieces_;
  size_t cursor_ = 0;  // first piece that may still overlap future credits
  SampleStream stream_;
  bool split_days_;
  std::vector<DayCredit> days_;  // in (piece, day) order
  uint64_t spans_ = 0;
};

}  // namespace gpuledger
