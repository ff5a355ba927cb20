// The runs worked out as samples are read against WorkloadRuns over all of them held: random
// fleets, read whole or in parts merged in order, give the very same runs.
#include "sources/workload_run_tracker.h"

#include <gtest/gtest.h>

#include <random>

namespace gpuledger {
namespace {

using Runs = std::vector<WorkloadRun>;

void ExpectSame(const Runs& got, const Runs& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].workload, want[i].workload) << what << " run " << i;
    EXPECT_EQ(got[i].start, want[i].start) << what << " run " << i;
    EXPECT_EQ(got[i].end, want[i].end) << what << " run " << i;
    EXPECT_EQ(got[i].gpus, want[i].gpus) << what << " run " << i;
  }
}

// Samples of 4 GPUs in time order (by instant, GPUs in a random order at each): polls of 10-40 s
// with pauses of up to 20 minutes, pods of 5 workloads coming and going, two at once on a GPU
// now and then, a series read twice at an instant, GPUs without a pod.
std::vector<WorkloadSample> RandomFleet(std::mt19937* rng) {
  std::uniform_int_distribution<int> poll(10, 40), pause(0, 30), pod(-1, 4), coin(0, 9);
  std::vector<WorkloadSample> out;
  std::vector<int32_t> on(4, -1);
  TimeMs t = 1735689600000;
  for (int step = 0; step < 400; ++step) {
    t += (pause(*rng) == 0 ? 1200 : poll(*rng)) * 1000LL + coin(*rng) * 7;
    std::vector<int> gpus = {0, 1, 2, 3};
    std::shuffle(gpus.begin(), gpus.end(), *rng);
    for (int g : gpus) {
      if (coin(*rng) == 0) continue;  // this GPU missed the scrape
      if (coin(*rng) < 2) on[static_cast<size_t>(g)] = pod(*rng);
      out.push_back({t, g, on[static_cast<size_t>(g)]});
      if (coin(*rng) == 0) out.push_back({t, g, pod(*rng)});  // time-sliced, or read twice
    }
  }
  return out;
}

TEST(WorkloadRunTracker, GivesWhatWorkloadRunsGivesReadWholeOrInParts) {
  std::mt19937 rng(24);
  for (int fleet = 0; fleet < 200; ++fleet) {
    const std::vector<WorkloadSample> samples = RandomFleet(&rng);
    const DurationMs max_gap = (fleet % 3 == 0 ? 1 : 5) * kMsPerMinute;
    const Runs want = WorkloadRuns(samples, max_gap);
    WorkloadRunTracker whole(max_gap);
    for (const WorkloadSample& s : samples) whole.Add(s.gpu, s.t, s.workload);
    ASSERT_FALSE(whole.failed());
    ExpectSame(whole.Runs(), want, "fleet " + std::to_string(fleet) + " whole");

    // Cut in three at random places (an instant may fall across a cut), each part tracked on
    // its own with workloads numbered its own way, then merged in order.
    std::uniform_int_distribution<size_t> at(0, samples.size());
    size_t a = at(rng), b = at(rng);
    if (a > b) std::swap(a, b);
    WorkloadRunTracker merged(max_gap);
    for (auto [from, to] :
         {std::pair{size_t{0}, a}, std::pair{a, b}, std::pair{b, samples.size()}}) {
      WorkloadRunTracker part(max_gap);
      for (size_t i = from; i < to; ++i) {  // workload w numbered 4 - w in the part
        part.Add(samples[i].gpu, samples[i].t,
                 samples[i].workload < 0 ? -1 : 4 - samples[i].workload);
      }
      merged.Merge(std::move(part), {4, 3, 2, 1, 0});
    }
    ASSERT_FALSE(merged.failed());
    ExpectSame(merged.Runs(), want, "fleet " + std::to_string(fleet) + " in parts");
  }
}

TEST(WorkloadRunTracker, AGpuThatGoesBackwardsFailsIt) {
  WorkloadRunTracker t(5 * kMsPerMinute);
  t.Add(0, 2000, 0);
  t.Add(1, 1000, 0);  // another GPU may be behind
  EXPECT_FALSE(t.failed());
  t.Add(0, 1000, 0);
  EXPECT_TRUE(t.failed());
  EXPECT_TRUE(t.Runs().empty());

  WorkloadRunTracker earlier(5 * kMsPerMinute), later(5 * kMsPerMinute);
  earlier.Add(0, 2000, 0);
  later.Add(0, 1000, 0);
  earlier.Merge(std::move(later), {0});
  EXPECT_TRUE(earlier.failed());
}

}  // namespace
}  // namespace gpuledger
