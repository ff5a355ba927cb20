// What the exported-telemetry tests share: a problem's count, and every sample buckets hold.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "core/problems.h"
#include "sources/telemetry_buckets.h"

namespace gpuledger::testing {

// How many rows "p" holds for "reason" (0 when none).
inline uint64_t Count(const Problems& p, const std::string& reason) {
  auto it = p.entries().find(reason);
  return it == p.entries().end() ? 0 : it->second.count;
}

// A sample as a sink received it.
struct Fed {
  int gpu;
  TimeMs t;
  double util, memory_mib;
};

// Feeds every source of "b" into a recorder (the buckets are left empty).
inline std::vector<Fed> FeedAll(TelemetryBuckets* b) {
  struct Sink : SampleSink {
    std::vector<Fed> got;
    SampleVerdict Add(int gpu, TimeMs t, double util, uint64_t, double memory_mib) override {
      got.push_back({gpu, t, util, memory_mib});
      return SampleVerdict::kAccepted;
    }
  } sink;
  SourceStats stats;
  std::atomic<uint64_t> bytes{0};
  for (const TelemetrySource& src : b->Sources()) (void)src.feed(&sink, &stats, &bytes);
  return sink.got;
}

}  // namespace gpuledger::testing
