#include "policy/job_state.h"

#include <algorithm>

namespace gpuledger {

void GpuStateLog::Append(const StoodInterval& in) {
  if (in.to <= in.from) return;
  if (!intervals_.empty() && intervals_.back().to == in.from &&
      intervals_.back().above == in.above) {
    intervals_.back().to = in.to;
  } else {
    intervals_.push_back(in);
  }
}

void GpuStateLog::DropBefore(TimeMs t) {
  intervals_.erase(intervals_.begin(),
                   std::find_if(intervals_.begin(), intervals_.end(),
                                [&](const StoodInterval& i) { return i.to > t; }));
}

std::vector<StateSpan> CombineStates(const std::vector<const GpuStateLog*>& gpus, TimeMs from,
                                     TimeMs to) {
  std::vector<StateSpan> spans;
  if (from >= to) return spans;
  std::vector<TimeMs> cuts = {from, to};
  std::vector<size_t> cursor(gpus.size(), 0);
  for (size_t g = 0; g < gpus.size(); ++g) {
    const auto& v = gpus[g]->intervals();
    // Start at the first interval that ends after "from".
    cursor[g] = std::upper_bound(v.begin(), v.end(), from,
                                 [](TimeMs t, const StoodInterval& i) { return t < i.to; }) -
                v.begin();
    for (size_t i = cursor[g]; i < v.size() && v[i].from < to; ++i) {
      if (v[i].from > from) cuts.push_back(v[i].from);
      if (v[i].to < to) cuts.push_back(v[i].to);
    }
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  for (size_t k = 0; k + 1 < cuts.size(); ++k) {
    const TimeMs t = cuts[k];
    bool any_active = false, all_idle = !gpus.empty();
    for (size_t g = 0; g < gpus.size(); ++g) {
      const auto& v = gpus[g]->intervals();
      while (cursor[g] < v.size() && v[cursor[g]].to <= t) ++cursor[g];
      const bool monitored = cursor[g] < v.size() && v[cursor[g]].from <= t;
      if (monitored && v[cursor[g]].above) any_active = true;
      if (!monitored || v[cursor[g]].above) all_idle = false;
    }
    const GpusState s =
        any_active ? GpusState::kActive : (all_idle ? GpusState::kIdle : GpusState::kUnmonitored);
    if (!spans.empty() && spans.back().state == s)
      spans.back().to = cuts[k + 1];
    else
      spans.push_back({t, cuts[k + 1], s});
  }
  return spans;
}

}  // namespace gpuledger
