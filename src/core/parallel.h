// Running independent pieces of work on every core.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace gpuledger {

// Calls work(i) for i in [0, n), on "threads" threads (0: one per core), each index once, in
// no particular order. "work" must be safe to call concurrently for different indices.
template <typename Work>
void ParallelFor(size_t n, int threads, Work&& work) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const size_t count = std::min<size_t>(threads > 0 ? threads : cores, std::max<size_t>(1, n));
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) work(i);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < count; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

}  // namespace gpuledger
