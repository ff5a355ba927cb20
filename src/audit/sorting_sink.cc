#include "audit/sorting_sink.h"

#include <algorithm>

namespace gpuledger {

SampleVerdict SortingSink::Add(int gpu, TimeMs t, double util_pct, uint64_t order,
                               double memory_mib) {
  if (!target_->KnowsGpu(gpu)) return SampleVerdict::kUnknownGpu;
  if (static_cast<size_t>(gpu) >= last_t_.size()) last_t_.resize(gpu + 1, kTimeMin);
  if (t < last_t_[gpu]) {
    ++reordered_.rows;
    reordered_.first_order = std::min(reordered_.first_order, order);
  }
  last_t_[gpu] = std::max(last_t_[gpu], t);
  held_.push_back({t, order, static_cast<float>(util_pct), static_cast<float>(memory_mib), gpu});
  return SampleVerdict::kAccepted;
}

SortingSink::Reordered SortingSink::Replay(GpuSampleTarget* target,
                                           const std::function<void(uint64_t)>& on_duplicate) {
  std::sort(held_.begin(), held_.end(), [](const Held& a, const Held& b) {
    if (a.gpu != b.gpu) return a.gpu < b.gpu;
    if (a.t != b.t) return a.t < b.t;
    return a.order < b.order;
  });
  for (const Held& h : held_) {
    if (target->Add(h.gpu, h.t, h.util_pct, h.order, h.memory_mib) == SampleVerdict::kDuplicate) {
      on_duplicate(h.order);
    }
  }
  held_.clear();
  held_.shrink_to_fit();
  return reordered_;
}

}  // namespace gpuledger
