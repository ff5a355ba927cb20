// The slow path for telemetry that is not in time order: hold a machine's samples, sort them,
// then replay them in order. Memory grows with the samples held, so the runner uses it only
// for a machine whose rows went backwards in time.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/problems.h"
#include "model/sample_sink.h"

namespace gpuledger {

class SortingSink : public SampleSink {
 public:
  // "target" decides which GPUs exist; it must outlive this object.
  explicit SortingSink(const GpuSampleTarget* target) : target_(target) {}

  SampleVerdict Add(int gpu, TimeMs t, double util_pct, uint64_t order, double memory_mib) override;

  // Sorts by (GPU, time, input order) and feeds "target". Rows at the same instant keep their
  // input order, so the last one read wins. on_duplicate(order) is called for each row that
  // replaced an earlier one. Returns the number of rows that had arrived out of time order and
  // the order key of the first of them.
  struct Reordered {
    uint64_t rows = 0;
    uint64_t first_order = UINT64_MAX;
  };
  Reordered Replay(GpuSampleTarget* target, const std::function<void(uint64_t)>& on_duplicate);

 private:
  struct Held {
    TimeMs t;
    uint64_t order;
    float util_pct;
    float memory_mib;
    int gpu;
  };
  const GpuSampleTarget* target_;
  std::vector<Held> held_;
  std::vector<TimeMs> last_t_;  // by GPU, in read order, to count reordered rows
  Reordered reordered_;
};

}  // namespace gpuledger
