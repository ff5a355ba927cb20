#include "audit/gpu_accumulator.h"

#include <algorithm>
#include <cmath>

namespace gpuledger {

SampleVerdict GpuAccumulator::Add(TimeMs t, double util_pct, double memory_mib) {
  std::optional<StoodInterval> done;
  const SampleVerdict v = stream_.Add(t, util_pct, memory_mib, &done);
  if (done) Credit(*done);
  return v;
}

template <typename Fn>
void GpuAccumulator::ForEachSegment(TimeMs from, TimeMs to, Fn&& fn) {
  // Credits arrive in increasing "from" order, so pieces ending at or before "from" are done.
  while (cursor_ < pieces_.size() && pieces_[cursor_].end <= from) ++cursor_;
  for (size_t i = cursor_; i < pieces_.size() && pieces_[i].start < to; ++i) {
    const TimeMs a = std::max(from, pieces_[i].start), b = std::min(to, pieces_[i].end);
    if (a >= b) continue;
    if (!split_days_) {
      fn(static_cast<int32_t>(i), int64_t{0}, b - a);
      continue;
    }
    for (TimeMs s = a; s < b;) {
      const int64_t day = DayOf(s);
      const TimeMs e = std::min(b, (day + 1) * kMsPerDay);
      fn(static_cast<int32_t>(i), day, e - s);
      s = e;
    }
  }
}

void GpuAccumulator::CreditSegment(int32_t piece, int64_t day, DurationMs below, DurationMs above,
                                   DurationMs held) {
  pieces_[piece].below_ms += below;
  pieces_[piece].above_ms += above;
  pieces_[piece].held_ms += held;
  if (!split_days_ || (below == 0 && above == 0)) return;
  if (days_.empty() || days_.back().piece != piece || days_.back().day != day) {
    days_.push_back(DayCredit{piece, day, 0, 0, 0});
  }
  days_.back().below_ms += below;
  days_.back().above_ms += above;
  days_.back().held_ms += held;
}

void GpuAccumulator::AddSpan(TimeMs from, TimeMs to, DurationMs below_ms, DurationMs above_ms) {
  if (to <= from) return;
  ++spans_;
  const double length = static_cast<double>(to - from);
  DurationMs covered = 0, below_given = 0, above_given = 0;
  ForEachSegment(from, to, [&](int32_t piece, int64_t day, DurationMs overlap) {
    covered += overlap;
    const double share = static_cast<double>(covered) / length;
    const DurationMs below = std::llround(below_ms * share) - below_given;
    const DurationMs above = std::llround(above_ms * share) - above_given;
    below_given += below, above_given += above;
    CreditSegment(piece, day, below, above, 0);  // roll-ups carry no memory
  });
}

void GpuAccumulator::Finish() {
  if (auto last = stream_.Finish()) Credit(*last);
}

void GpuAccumulator::Credit(const StoodInterval& in) {
  ForEachSegment(in.from, in.to, [&](int32_t piece, int64_t day, DurationMs overlap) {
    CreditSegment(piece, day, in.above ? 0 : overlap, in.above ? overlap : 0,
                  in.held ? overlap : 0);
  });
}

std::vector<Piece> GpuAccumulator::ClippedPieces(TimeMs from, TimeMs to) const {
  std::vector<Piece> out;
  size_t credit = 0;
  for (size_t i = 0; i < pieces_.size(); ++i) {
    Piece p = pieces_[i];
    p.start = std::max(p.start, from), p.end = std::min(p.end, to);
    if (p.start >= p.end) continue;
    if (!split_days_ || p.start == kTimeMin || p.end == kTimeMax) {
      out.push_back(p);
      continue;
    }
    while (credit < days_.size() && days_[credit].piece < static_cast<int32_t>(i)) ++credit;
    for (TimeMs s = p.start; s < p.end;) {
      const int64_t day = DayOf(s);
      Piece d = p;
      d.start = s, d.end = std::min(p.end, (day + 1) * kMsPerDay);
      d.below_ms = d.above_ms = d.held_ms = 0;
      while (credit < days_.size() && days_[credit].piece == static_cast<int32_t>(i) &&
             days_[credit].day < day) {
        ++credit;
      }
      if (credit < days_.size() && days_[credit].piece == static_cast<int32_t>(i) &&
          days_[credit].day == day) {
        d.below_ms = days_[credit].below_ms, d.above_ms = days_[credit].above_ms;
        d.held_ms = days_[credit].held_ms;
      }
      out.push_back(d);
      s = d.end;
    }
  }
  return out;
}

}  // namespace gpuledger
