// How long the last sample stands: the lower median of the GPU's intervals, min max_gap.
#include "audit/sample_stream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace gpuledger {
namespace {

constexpr DurationMs kGap = 5 * kMsPerMinute;

DurationMs NaiveLastStand(const std::vector<TimeMs>& t) {
  if (t.size() < 2) return kGap;
  std::vector<DurationMs> d;
  for (size_t i = 1; i < t.size(); ++i) d.push_back(t[i] - t[i - 1]);
  std::sort(d.begin(), d.end());
  return std::min(kGap, d[(d.size() - 1) / 2]);
}

TEST(SampleStream, OutOfOrderAndDuplicateSamplesLeaveTheIntervalsAlone) {
  SampleStream s(kGap, 5);
  std::optional<StoodInterval> done;
  EXPECT_EQ(s.Finish(), std::nullopt);
  EXPECT_EQ(s.Add(1000, 50, kNoMemory, &done), SampleVerdict::kAccepted);
  EXPECT_EQ(s.LastStandMs(), kGap);  // one sample: max_gap
  EXPECT_EQ(s.Add(1000, 0, 4096, &done), SampleVerdict::kDuplicate);
  EXPECT_EQ(s.Add(500, 0, kNoMemory, &done), SampleVerdict::kOutOfOrder);
  EXPECT_EQ(s.Add(3000, 0, kNoMemory, &done), SampleVerdict::kAccepted);
  ASSERT_TRUE(done);
  EXPECT_FALSE(done->above);  // the duplicate at 1000 replaced the 50 %
  EXPECT_TRUE(done->held);    // and it held 4 GiB
  EXPECT_EQ(s.LastStandMs(), 2000);
  EXPECT_EQ(s.memory_samples(), 1u);
  EXPECT_EQ(s.StoodEnd(), 5000);
}

TEST(SampleStream, LowerMedianOfJitteredPollsMatchesANaiveSort) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    SampleStream s(kGap, 5);
    std::vector<TimeMs> t;
    TimeMs at = 0;
    const int n = 2 + static_cast<int>(rng() % 5000);
    const int spread = 1 + static_cast<int>(rng() % 20000);  // up to 20 000 distinct intervals
    for (int i = 0; i < n; ++i) {
      at += 1 + static_cast<TimeMs>(rng() % spread) + (rng() % 50 == 0 ? 10 * kGap : 0);
      t.push_back(at);
      std::optional<StoodInterval> done;
      ASSERT_EQ(s.Add(at, 1, kNoMemory, &done), SampleVerdict::kAccepted);
    }
    EXPECT_EQ(s.LastStandMs(), NaiveLastStand(t)) << "round " << round;
    EXPECT_EQ(s.Finish()->to, t.back() + NaiveLastStand(t));
  }
}

TEST(SampleStream, PollsSlowerThanMaxGapShowAsATypicalIntervalAboveIt) {
  SampleStream s(kGap, 5);
  std::optional<StoodInterval> done;
  for (TimeMs t = 0; t < 10 * 3 * kGap; t += 3 * kGap) s.Add(t, 1, kNoMemory, &done);
  EXPECT_GT(s.TypicalIntervalMs(), kGap);
  EXPECT_EQ(s.LastStandMs(), kGap);
}

}  // namespace
}  // namespace gpuledger
