// MIG instances as their own GPUs, each priced at its profile's share of the physical GPU.
#include "model/mig.h"

#include <gtest/gtest.h>

#include "audit_harness.h"
#include "policy/backtest.h"
#include "sources/exported_telemetry.h"

namespace gpuledger::testing {
namespace {

TEST(Mig, ProfilesGiveTheShareOfTheGpu) {
  auto one = ParseMigInstance(0, "13", "1g.10gb", "NVIDIA A100-SXM4-80GB");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->slices, 1);
  EXPECT_EQ(one->of, 7);
  auto a30 = ParseMigInstance(1, "3", "1g.6gb", "NVIDIA A30");
  ASSERT_TRUE(a30);
  EXPECT_DOUBLE_EQ(a30->Share(), 0.25);
  EXPECT_FALSE(ParseMigInstance(0, "1", "gpu", ""));
  EXPECT_FALSE(ParseMigInstance(0, "1", "8g.80gb", ""));
  EXPECT_FALSE(ParseMigInstance(0, "x", "1g.10gb", ""));
  const MigInstance m{5, 14, 3, 7};
  const int index = MigIndex(m);
  EXPECT_TRUE(IsMigIndex(index));
  EXPECT_EQ(PhysicalGpu(index), 5);
  EXPECT_EQ(DecodeMigIndex(index).instance, 14);
  EXPECT_DOUBLE_EQ(DecodeMigIndex(index).Share(), 3.0 / 7);
  EXPECT_FALSE(IsMigIndex(1023));
}

// DCGM scrape lines of "m" every 5 minutes over [0, 60) for the given instances.
struct Instance {
  std::string id, profile, util;
};
TelemetrySource Scrape(const std::vector<Instance>& instances, SourceStats* stats) {
  std::string text;
  for (int minute = 0; minute < 60; minute += 5) {
    for (const Instance& i : instances) {
      text += "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",GPU_I_ID=\"" + i.id + "\",GPU_I_PROFILE=\"" +
              i.profile + "\",modelName=\"NVIDIA A100 80GB PCIe\",Hostname=\"m\"} " + i.util + " " +
              std::to_string(Min(minute)) + "\n";
    }
  }
  TelemetryBuckets buckets;  // its sources own copies of what it holds
  ReadDcgmScrape(text, "m.prom", buckets.AddFile("m.prom"), "m", SeriesMapping{}, std::nullopt,
                 &buckets, stats);
  return buckets.Sources().at(0);
}

TEST(Mig, InstancesArePricedByTheirSlicesAndTheGpuKeepsTheRest) {
  Fleet fleet;
  AddMachine(&fleet, "m", 1, 0, 60);  // one dollar a GPU-minute
  SourceStats stats;
  const AuditResult r = RunOn(fleet, {Scrape({{"1", "1g.10gb", "80"}}, &stats)});
  // The 1g instance: 1/7 of the GPU, busy all hour; the other 6/7 nobody measured.
  EXPECT_NEAR(Usd(r, Category::kActiveOutsideJobs), 60.0 / 7, 1e-9);
  EXPECT_NEAR(Usd(r, Category::kUnmonitored), 60.0 * 6 / 7, 1e-9);
  EXPECT_NEAR(r.totals.Total().usd, 60, 1e-9);
  EXPECT_EQ(r.machines[0].gpu_count, 1);
}

TEST(Mig, AFullyCarvedGpuCostsOnlyThroughItsInstancesAndJobsCoverThem) {
  Fleet fleet;
  AddMachine(&fleet, "m", 1, 0, 60);
  AddJob(&fleet, "m", 0, 30, "completed", {0});  // a job on GPU 0 covers its instances
  SourceStats stats;
  const AuditResult r =
      RunOn(fleet, {Scrape({{"1", "3g.40gb", "90"}, {"2", "4g.40gb", "0"}}, &stats)});
  EXPECT_NEAR(Usd(r, Category::kJobActive), 30.0 * 3 / 7, 1e-9);
  EXPECT_NEAR(Usd(r, Category::kActiveOutsideJobs), 30.0 * 3 / 7, 1e-9);
  EXPECT_NEAR(Usd(r, Category::kJobIdle), 30.0 * 4 / 7, 1e-9);
  EXPECT_NEAR(Usd(r, Category::kIdleOutsideJobs), 30.0 * 4 / 7, 1e-9);
  EXPECT_NEAR(Usd(r, Category::kUnmonitored), 0, 1e-9);
  EXPECT_NEAR(r.totals.Total().usd, 60, 1e-9);
  EXPECT_NEAR(r.totals.Total().GpuHours(), 1, 1e-6);  // GPU-hours count slices, not instances
}

TEST(Mig, TheBacktestJudgesInstancesAndPricesThemBySlices) {
  Fleet fleet;
  AddMachine(&fleet, "m", 1, 0, 60);
  AddJob(&fleet, "m", 0, 60, "completed", {0});
  // The 3g instance works for 20 minutes, then idles; the 4g instance idles throughout.
  std::string text;
  for (int minute = 0; minute < 60; minute += 5) {
    for (const auto& [id, profile] : {std::pair{"1", "3g.40gb"}, std::pair{"2", "4g.40gb"}}) {
      const bool busy = std::string(id) == "1" && minute < 20;
      text += std::string("DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",GPU_I_ID=\"") + id +
              "\",GPU_I_PROFILE=\"" + profile + "\",Hostname=\"m\"} " + (busy ? "90" : "0") + " " +
              std::to_string(Min(minute)) + "\n";
    }
  }
  SourceStats stats;
  TelemetryBuckets buckets;
  ReadDcgmScrape(text, "m.prom", buckets.AddFile("m.prom"), "m", SeriesMapping{}, std::nullopt,
                 &buckets, &stats);
  const std::vector<TelemetrySource> telemetry = buckets.Sources();
  BacktestOptions options;
  options.threads = 1;
  AuditInputs inputs;
  inputs.fleet = &fleet;
  inputs.telemetry = &telemetry;
  auto r = RunBacktest(inputs, options);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->telemetry.RowsRejected(), 0u);
  ASSERT_EQ(r->decisions.size(), 1u);
  const KillDecision& d = r->decisions[0];
  EXPECT_EQ(d.rule, KillRule::kIdle);
  EXPECT_EQ(d.at, Min(50));  // idle from minute 20, idle_after 30m
  EXPECT_EQ(d.gpus, std::vector<int>{0});
  EXPECT_NEAR(d.saved.usd, 10, 1e-9);  // 3/7 + 4/7 of the GPU for 10 minutes
  EXPECT_TRUE(d.false_kill);
}

TEST(Mig, MalformedInstancesAreRejectedAndEmptyIdsArePlainGpus) {
  SourceStats stats;
  TelemetryBuckets buckets;
  ReadDcgmScrape(
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",GPU_I_ID=\"1\",GPU_I_PROFILE=\"big\",Hostname=\"m\"} 5 1\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",GPU_I_ID=\"\",GPU_I_PROFILE=\"\",Hostname=\"m\"} 5 1\n",
      "m.prom", buckets.AddFile("m.prom"), "m", SeriesMapping{}, std::nullopt, &buckets, &stats);
  EXPECT_EQ(stats.rejected.entries().at("bad_mig_instance").Where(), "m.prom:1");
  EXPECT_EQ(stats.rejected.Total(), 1u);
}

}  // namespace
}  // namespace gpuledger::testing
