#include "sources/workload_runs.h"

#include <algorithm>
#include <set>

namespace gpuledger {
namespace {

// The end of what each distinct instant of one GPU stands for, "times" sorted and distinct.
std::vector<TimeMs> StandEnds(const std::vector<TimeMs>& times, DurationMs max_gap_ms) {
  std::vector<TimeMs> ends(times.size());
  std::vector<DurationMs> intervals;
  for (size_t i = 0; i + 1 < times.size(); ++i) {
    intervals.push_back(times[i + 1] - times[i]);
    ends[i] = std::min(times[i + 1], times[i] + max_gap_ms);
  }
  DurationMs last = max_gap_ms;
  if (!intervals.empty()) {
    std::nth_element(intervals.begin(), intervals.begin() + (intervals.size() - 1) / 2,
                     intervals.end());
    last = std::min(max_gap_ms, intervals[(intervals.size() - 1) / 2]);
  }
  if (!times.empty()) ends.back() = times.back() + last;
  return ends;
}

struct Event {
  int32_t workload;
  TimeMs t, stood_end;
  int32_t gpu;
};

}  // namespace

std::vector<WorkloadRun> WorkloadRuns(std::vector<WorkloadSample> samples, DurationMs max_gap_ms) {
  std::sort(samples.begin(), samples.end(), [](const WorkloadSample& a, const WorkloadSample& b) {
    if (a.gpu != b.gpu) return a.gpu < b.gpu;
    return a.t != b.t ? a.t < b.t : a.workload < b.workload;
  });
  std::vector<Event> events;
  for (size_t from = 0; from < samples.size();) {
    size_t to = from;
    while (to < samples.size() && samples[to].gpu == samples[from].gpu) ++to;
    std::vector<TimeMs> times;
    for (size_t i = from; i < to; ++i) {
      if (times.empty() || times.back() != samples[i].t) times.push_back(samples[i].t);
    }
    const std::vector<TimeMs> ends = StandEnds(times, max_gap_ms);
    size_t k = 0;
    for (size_t i = from; i < to; ++i) {
      while (times[k] != samples[i].t) ++k;
      const WorkloadSample& s = samples[i];
      if (s.workload < 0) continue;
      if (!events.empty() && events.back().workload == s.workload && events.back().t == s.t &&
          events.back().gpu == s.gpu) {
        continue;  // the same series twice at one instant
      }
      events.push_back({s.workload, s.t, ends[k], s.gpu});
    }
    from = to;
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return a.workload != b.workload ? a.workload < b.workload : a.t < b.t;
  });
  std::vector<WorkloadRun> runs;
  std::set<int> gpus;
  auto close = [&] {
    if (runs.empty() || !runs.back().gpus.empty()) return;
    runs.back().gpus.assign(gpus.begin(), gpus.end());
  };
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    const bool starts =
        i == 0 || events[i - 1].workload != e.workload || e.t - events[i - 1].t > max_gap_ms;
    if (starts) {
      close();
      gpus.clear();
      runs.push_back({e.workload, e.t, e.stood_end, {}});
    }
    runs.back().end = std::max(runs.back().end, e.stood_end);
    gpus.insert(e.gpu);
  }
  close();
  return runs;
}

}  // namespace gpuledger
