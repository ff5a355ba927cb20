// SortRuns against std::sort on the shapes exports have: one run, series back to back (an odd
// and an even number of them, with ties across series), no runs at all, nothing.
#include "core/sort_runs.h"

#include <gtest/gtest.h>

#include <random>
#include <utility>

namespace gpuledger {
namespace {

using Item = std::pair<int, int>;  // (time, input order): order breaks ties, as in the buckets
bool Before(const Item& a, const Item& b) { return a < b; }

// "series" runs of "length" items each, times rising by "step" from a random start, in input
// order: what a series-major query_range answer gives.
std::vector<Item> SeriesBackToBack(int series, int length, int step, std::mt19937* rng) {
  std::vector<Item> v;
  int order = 0;
  for (int s = 0; s < series; ++s) {
    int t = static_cast<int>((*rng)() % 50);
    for (int i = 0; i < length; ++i, t += step) v.push_back({t, order++});
  }
  return v;
}

void ExpectSortedAsStdSortDoes(std::vector<Item> v) {
  std::vector<Item> want = v;
  std::sort(want.begin(), want.end(), Before);
  SortRuns(&v, Before);
  EXPECT_EQ(v, want);
}

TEST(SortRuns, GivesWhatStdSortGives) {
  std::mt19937 rng(7);
  for (int series : {1, 2, 3, 8, 17}) {
    ExpectSortedAsStdSortDoes(SeriesBackToBack(series, 200, 10, &rng));  // ties: same step
    ExpectSortedAsStdSortDoes(SeriesBackToBack(series, 200, 7, &rng));
  }
  std::vector<Item> shuffled = SeriesBackToBack(1, 1000, 1, &rng);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);  // no long runs: std::sort's case
  ExpectSortedAsStdSortDoes(shuffled);
  ExpectSortedAsStdSortDoes({});
  ExpectSortedAsStdSortDoes({{3, 0}});
}

}  // namespace
}  // namespace gpuledger
