// Roll-up spans (--rollup): monitored time whose place inside a bucket is unknown is spread
// evenly over the bucket, and sinks that need raw samples refuse it.
#include <gtest/gtest.h>

#include "audit_harness.h"
#include "sources/telemetry_buckets.h"

namespace gpuledger::testing {
namespace {

TEST(RollupSpans, SpreadEvenlyAcrossJobEdgesAndAddUp) {
  Fleet fleet;
  AddMachine(&fleet, "m", 1, 0, 60);
  AddJob(&fleet, "m", 15, 45, "completed");
  TelemetryBuckets buckets;
  // One hour bucket: 30 minutes below threshold, 20 at or above, 10 with no value.
  buckets.AddSpan("m", 0, Min(0), Min(60), 30 * kMsPerMinute, 20 * kMsPerMinute, 0);
  const AuditResult r = RunOn(fleet, buckets.Sources());
  EXPECT_DOUBLE_EQ(Usd(r, Category::kIdleOutsideJobs), 15);
  EXPECT_DOUBLE_EQ(Usd(r, Category::kActiveOutsideJobs), 10);
  EXPECT_DOUBLE_EQ(Usd(r, Category::kJobIdle), 15);
  EXPECT_DOUBLE_EQ(Usd(r, Category::kJobActive), 10);
  EXPECT_DOUBLE_EQ(Usd(r, Category::kUnmonitored), 10);
  EXPECT_DOUBLE_EQ(r.totals.below_threshold.usd, 30);
}

TEST(RollupSpans, RoundedSharesAddUpToTheSpanExactly) {
  Fleet fleet;
  AddMachine(&fleet, "m", 1, 0, 60);
  for (int i = 0; i < 7; ++i) AddJob(&fleet, "m", i * 7 + 1, i * 7 + 4, "completed");
  TelemetryBuckets buckets;
  buckets.AddSpan("m", 0, Min(0), Min(60), 1001, 2003, 0);  // odd milliseconds
  const AuditResult r = RunOn(fleet, buckets.Sources());
  EXPECT_EQ(r.totals.below_threshold.gpu_ms, 1001);
  EXPECT_EQ(r.totals.categories[static_cast<int>(Category::kJobActive)].gpu_ms +
                r.totals.categories[static_cast<int>(Category::kActiveOutsideJobs)].gpu_ms,
            2003);
}

TEST(RollupSpans, SpansOutsideBillingAndOfUnknownGpusAreNotCounted) {
  Fleet fleet;
  AddMachine(&fleet, "m", 1, 30, 60);
  TelemetryBuckets buckets;
  buckets.AddSpan("m", 0, Min(0), Min(60), 60 * kMsPerMinute, 0, 0);  // half outside billing
  buckets.AddSpan("m", 3, Min(0), Min(60), 60 * kMsPerMinute, 0, 0);  // no GPU 3
  const AuditResult r = RunOn(fleet, buckets.Sources());
  EXPECT_DOUBLE_EQ(r.totals.Total().usd, 30);
  EXPECT_DOUBLE_EQ(Usd(r, Category::kNeverUsed), 30);
  ASSERT_TRUE(r.telemetry.rejected.entries().contains("unknown_gpu"));
}

TEST(RollupSpans, SinksThatNeedSamplesRefuseThem) {
  TelemetryBuckets buckets;
  buckets.AddSpan("m", 0, Min(0), Min(60), 1, 1, 0);
  struct SamplesOnly : SampleSink {
    SampleVerdict Add(int, TimeMs, double, uint64_t, double) override {
      return SampleVerdict::kAccepted;
    }
  } sink;
  SourceStats stats;
  std::atomic<uint64_t> bytes{0};
  auto r = buckets.Sources()[0].feed(&sink, &stats, &bytes);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("drop --rollup"), std::string::npos);
}

}  // namespace
}  // namespace gpuledger::testing
