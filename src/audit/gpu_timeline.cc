#include "audit/gpu_timeline.h"

#include <algorithm>
#include <set>

namespace gpuledger {
namespace {

struct JobEvent {
  TimeMs t;
  bool starts;  // starts sort before ends at the same instant, so empty jobs cover nothing
  int job;
  bool operator<(const JobEvent& o) const {
    return t != o.t ? t < o.t : (starts != o.starts ? starts : job < o.job);
  }
};

// Applies "events" up to and including time "t" to the sets of covering jobs.
class CoverTracker {
 public:
  CoverTracker(std::span<const Job* const> jobs, int gpu) : jobs_(jobs) {
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (!jobs[i]->CoversGpu(gpu) || jobs[i]->end <= jobs[i]->start) continue;
      events_.push_back({jobs[i]->start, true, static_cast<int>(i)});
      events_.push_back({jobs[i]->end, false, static_cast<int>(i)});
    }
    std::sort(events_.begin(), events_.end());
  }

  const std::vector<JobEvent>& events() const { return events_; }

  void AdvanceTo(TimeMs t) {
    for (; next_ < events_.size() && events_[next_].t <= t; ++next_) {
      const JobEvent& e = events_[next_];
      std::set<int>& set = jobs_[e.job]->failed ? failed_ : live_;
      if (e.starts)
        set.insert(e.job);
      else
        set.erase(e.job);
    }
  }

  JobCover Cover() const {
    return !live_.empty() ? JobCover::kLive
                          : (!failed_.empty() ? JobCover::kFailedOnly : JobCover::kNone);
  }
  // The live jobs when two or more cover the piece and all are pods; else empty.
  std::vector<int32_t> SharingPods() const {
    if (live_.size() < 2) return {};
    for (int j : live_) {
      if (jobs_[j]->pod.empty()) return {};
    }
    return std::vector<int32_t>(live_.begin(), live_.end());
  }
  int AttributedJob() const {
    return !live_.empty() ? *live_.begin() : (!failed_.empty() ? *failed_.begin() : -1);
  }

 private:
  std::span<const Job* const> jobs_;
  std::vector<JobEvent> events_;
  size_t next_ = 0;
  std::set<int> live_, failed_;
};

}  // namespace

std::vector<Piece> BuildGpuTimeline(const Machine& machine, int gpu,
                                    std::span<const Job* const> jobs, TimeMs window_from,
                                    TimeMs window_to,
                                    std::vector<std::vector<int32_t>>* share_groups) {
  auto group_of = [&](const std::vector<int32_t>& pods) -> int32_t {
    if (pods.empty()) return -1;
    for (size_t g = 0; g < share_groups->size(); ++g) {
      if ((*share_groups)[g] == pods) return static_cast<int32_t>(g);
    }
    share_groups->push_back(pods);
    return static_cast<int32_t>(share_groups->size() - 1);
  };
  CoverTracker cover(jobs, gpu);
  std::vector<Piece> pieces;
  for (size_t p = 0; p < machine.billing.size(); ++p) {
    const TimeMs from = std::max(machine.billing[p].start, window_from);
    const TimeMs to = std::min(machine.billing[p].end, window_to);
    if (from >= to) continue;
    std::vector<TimeMs> cuts = {from, to};
    for (const JobEvent& e : cover.events()) {
      if (e.t > from && e.t < to) cuts.push_back(e.t);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    for (size_t k = 0; k + 1 < cuts.size(); ++k) {
      cover.AdvanceTo(cuts[k]);
      const JobCover c = cover.Cover();
      const int job = cover.AttributedJob();
      const int32_t group = group_of(cover.SharingPods());
      if (!pieces.empty() && pieces.back().end == cuts[k] &&
          pieces.back().period == static_cast<int32_t>(p) && pieces.back().job == job &&
          pieces.back().share_group == group && pieces.back().cover == c) {
        pieces.back().end = cuts[k + 1];
        continue;
      }
      pieces.push_back(Piece{cuts[k], cuts[k + 1], static_cast<int32_t>(p), job, c});
      pieces.back().share_group = group;
    }
  }
  return pieces;
}

}  // namespace gpuledger
