#include "sources/workload_run_tracker.h"

#include <algorithm>

namespace gpuledger {
namespace {

// "from" added to the sorted, distinct "into".
void AddGpus(std::vector<int>* into, const std::vector<int>& from) {
  for (int g : from) {
    auto it = std::lower_bound(into->begin(), into->end(), g);
    if (it == into->end() || *it != g) into->insert(it, g);
  }
}

void AddWorkload(std::vector<int32_t>* into, int32_t w) {
  if (w >= 0 && std::find(into->begin(), into->end(), w) == into->end()) into->push_back(w);
}

}  // namespace

void WorkloadRunTracker::Add(int gpu, TimeMs t, int32_t workload) {
  if (failed_) return;
  if (gpu < 0) return;
  if (static_cast<size_t>(gpu) >= gpus_.size()) gpus_.resize(static_cast<size_t>(gpu) + 1);
  Gpu& g = gpus_[static_cast<size_t>(gpu)];
  if (!g.seen) {
    g.seen = true;
    g.first_t = t;
    g.last = {t, {}};
    AddWorkload(&g.last.workloads, workload);
    return;
  }
  if (t == g.last.t) return AddWorkload(&g.last.workloads, workload);
  if (t < g.last.t) {
    failed_ = true;
    return;
  }
  g.intervals.Add(std::min(t - g.last.t, max_gap_ms_ + 1));
  const TimeMs end = std::min(t, g.last.t + max_gap_ms_);
  Close(gpu, g.last, end);
  if (g.first_open) g.first_open = false, g.first_end = end;
  g.last.t = t;
  g.last.workloads.clear();
  AddWorkload(&g.last.workloads, workload);
}

void WorkloadRunTracker::Merge(WorkloadRunTracker&& later, const std::vector<int32_t>& renumber) {
  failed_ = failed_ || later.failed_;
  if (failed_) return;
  for (size_t w = 0; w < later.runs_.size(); ++w) {
    for (const auto& [first, run] : later.runs_[w]) {
      Extend(renumber[w], run.first, run.last, run.end, run.gpus);
    }
  }
  if (later.gpus_.size() > gpus_.size()) gpus_.resize(later.gpus_.size());
  for (size_t i = 0; i < later.gpus_.size(); ++i) {
    Gpu& theirs = later.gpus_[i];
    if (!theirs.seen) continue;
    for (int32_t& w : theirs.last.workloads) w = renumber[static_cast<size_t>(w)];
    Gpu& g = gpus_[i];
    if (!g.seen) {
      g = std::move(theirs);
      continue;
    }
    const int gpu = static_cast<int>(i);
    if (theirs.first_t < g.last.t) {
      failed_ = true;
      return;
    }
    if (theirs.first_t == g.last.t && theirs.first_open) {  // one instant, read in both
      for (int32_t w : theirs.last.workloads) AddWorkload(&g.last.workloads, w);
      continue;
    }
    // Our latest instant ends where theirs first did (the same instant), or at their first.
    TimeMs end = theirs.first_end;
    if (theirs.first_t > g.last.t) {
      g.intervals.Add(std::min(theirs.first_t - g.last.t, max_gap_ms_ + 1));
      end = std::min(theirs.first_t, g.last.t + max_gap_ms_);
    }
    Close(gpu, g.last, end);
    if (g.first_open) g.first_open = false, g.first_end = end;
    g.intervals.Merge(theirs.intervals);
    g.last = std::move(theirs.last);
  }
}

TimeMs WorkloadRunTracker::LastEnd(const Gpu& g) const {
  return g.last.t +
         (g.intervals.empty() ? max_gap_ms_ : std::min(max_gap_ms_, g.intervals.LowerMedian()));
}

std::vector<WorkloadRun> WorkloadRunTracker::Runs() {
  if (failed_) return {};
  for (size_t i = 0; i < gpus_.size(); ++i) {
    if (gpus_[i].seen) Close(static_cast<int>(i), gpus_[i].last, LastEnd(gpus_[i]));
  }
  std::vector<WorkloadRun> out;
  for (size_t w = 0; w < runs_.size(); ++w) {
    for (auto& [first, run] : runs_[w]) {
      out.push_back({static_cast<int32_t>(w), run.first, run.end, std::move(run.gpus)});
    }
  }
  runs_.clear();
  return out;
}

void WorkloadRunTracker::Close(int gpu, const Instant& instant, TimeMs end) {
  for (int32_t w : instant.workloads) Extend(w, instant.t, instant.t, end, {gpu});
}

void WorkloadRunTracker::Extend(int32_t w, TimeMs first, TimeMs last, TimeMs end,
                                const std::vector<int>& gpus) {
  if (static_cast<size_t>(w) >= runs_.size()) runs_.resize(static_cast<size_t>(w) + 1);
  std::map<TimeMs, Run>& runs = runs_[static_cast<size_t>(w)];
  const DurationMs gap = max_gap_ms_;
  // Runs are apart by more than max_gap: those within reach are the last ones starting no
  // later than last + max_gap.
  auto it = runs.upper_bound(last + gap);
  if (it == runs.begin() || std::prev(it)->second.last + gap < first) {
    runs.emplace(first, Run{first, last, end, gpus});
    return;
  }
  auto host = std::prev(it);
  if (first >= host->second.first) {  // the usual case: it extends a run in place
    Run& r = host->second;
    r.last = std::max(r.last, last);
    r.end = std::max(r.end, end);
    AddGpus(&r.gpus, gpus);
    return;
  }
  Run merged = std::move(host->second);
  runs.erase(host);
  merged.first = std::min(merged.first, first);
  merged.last = std::max(merged.last, last);
  merged.end = std::max(merged.end, end);
  AddGpus(&merged.gpus, gpus);
  // Earlier runs the merged one now reaches.
  for (auto p = runs.lower_bound(merged.first); p != runs.begin();) {
    --p;
    if (p->second.last + gap < merged.first) break;
    merged.first = std::min(merged.first, p->second.first);
    merged.end = std::max(merged.end, p->second.end);
    AddGpus(&merged.gpus, p->second.gpus);
    p = runs.erase(p);
  }
  runs.emplace(merged.first, std::move(merged));
}

}  // namespace gpuledger
