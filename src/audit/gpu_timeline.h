// A GPU's billed time cut into pieces over which billing and job coverage do not change.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/time.h"
#include "model/fleet.h"

namespace gpuledger {

enum class JobCover : uint8_t {
  kNone,        // no job covers the piece
  kFailedOnly,  // every job covering it ended failed
  kLive,        // at least one not-failed job covers it
};

struct Piece {
  TimeMs start = 0;
  TimeMs end = 0;
  int32_t period = 0;  // index into Machine::billing
  int32_t job = -1;    // the job the piece is attributed to (index into the job list), or -1
  JobCover cover = JobCover::kNone;
  // Monitored time inside the piece, filled by GpuAccumulator.
  DurationMs below_ms = 0;  // a sample below threshold stands for it
  DurationMs above_ms = 0;  // a sample at or above threshold stands for it
  DurationMs held_ms = 0;   // of below_ms, time whose sample showed memory held (held idle)
  // Pods time-sliced on the GPU: index into the timeline's share groups, whose jobs split the
  // piece equally (then "job" is the group's first); -1 when one job takes it all.
  int32_t share_group = -1;
};

// Cuts GPU "gpu" of "machine" into pieces: billed time inside [window_from, window_to), split
// wherever a billing period or a job covering the GPU starts or ends. Pieces are sorted and
// disjoint. "jobs" are the machine's jobs sorted by (start, input order); a piece's job is the
// first not-failed job covering it, else the first failed one — except where two or more
// not-failed jobs cover it and all of them are pods (Job::pod): they share it equally, as
// the group of job indices (sorted) at Piece::share_group in "share_groups" (appended to;
// a group already there is reused, so one vector may serve all of a machine's GPUs).
std::vector<Piece> BuildGpuTimeline(const Machine& machine, int gpu,
                                    std::span<const Job* const> jobs, TimeMs window_from,
                                    TimeMs window_to,
                                    std::vector<std::vector<int32_t>>* share_groups);

}  // namespace gpuledger
