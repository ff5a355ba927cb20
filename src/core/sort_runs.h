// Sorting what is already a few sorted runs back to back — a series-major export holds each
// series (a GPU, a metric) in time order, one after the other — in O(n log runs): the runs are
// found in one pass and merged pairwise through one buffer of n elements. Many short runs (no
// such structure) go to std::sort. Stable within a run; ties across runs keep the earlier run
// first, so with an order key in "less" the result is what std::sort gives.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace gpuledger {

template <typename T, typename Less>
void SortRuns(std::vector<T>* items, Less less) {
  std::vector<T>& v = *items;
  const size_t n = v.size();
  std::vector<size_t> bounds = {0};
  for (size_t i = 1; i < n; ++i) {
    if (less(v[i], v[i - 1])) bounds.push_back(i);
  }
  bounds.push_back(n);
  const size_t runs = bounds.size() - 1;
  if (runs <= 1) return;
  if (runs > n / 64) {  // no long runs to merge
    std::sort(v.begin(), v.end(), less);
    return;
  }
  std::vector<T> merged(n);
  while (bounds.size() > 2) {
    std::vector<size_t> next = {0};
    for (size_t r = 0; r + 1 < bounds.size(); r += 2) {
      const size_t from = bounds[r], mid = bounds[r + 1];
      const size_t to = r + 2 < bounds.size() ? bounds[r + 2] : mid;
      std::merge(v.begin() + from, v.begin() + mid, v.begin() + mid, v.begin() + to,
                 merged.begin() + from, less);
      next.push_back(to);
    }
    v.swap(merged);
    bounds = std::move(next);
  }
}

}  // namespace gpuledger
