// One test per rule of DESIGN.md "Attribution of GPU time", on hand-computed cases.
// Prices: one GPU-minute costs one dollar (see tests/audit_harness.h).
#include <gtest/gtest.h>

#include <chrono>

#include "audit_harness.h"

namespace gpuledger {
namespace {

using namespace gpuledger::testing;
constexpr double kEps = 1e-9;

// "minutes" from the wall clock's now.
TimeMs FromNow(double minutes) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() +
         static_cast<TimeMs>(minutes * 60000);
}

TEST(AuditAttribution, SampleStandsUntilTheNextSample) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 4);
  auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 0, "50 %"}, {0, 2, "0 %"}}))});
  EXPECT_NEAR(Usd(r, Category::kActiveOutsideJobs), 2, kEps);
  EXPECT_NEAR(Usd(r, Category::kIdleOutsideJobs), 2, kEps);  // the last one stands to billing end
  EXPECT_NEAR(r.totals.Total().usd, 4, kEps);
}

TEST(AuditAttribution, MaxGapLeavesTheRestUnmonitored) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 12);
  auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 0, "50"}, {0, 10, "50"}}))});
  EXPECT_NEAR(Usd(r, Category::kActiveOutsideJobs), 5 + 2, kEps);
  EXPECT_NEAR(Usd(r, Category::kUnmonitored), 5, kEps);  // [5, 10): the first stands 5 min only
}

TEST(AuditAttribution, MaxGapIsConfigurable) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 12);
  AuditOptions o;
  o.max_gap_ms = 10 * kMsPerMinute;
  auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 0, "50"}, {0, 10, "50"}}))}, o);
  EXPECT_NEAR(Usd(r, Category::kActiveOutsideJobs), 12, kEps);
  EXPECT_NEAR(Usd(r, Category::kUnmonitored), 0, kEps);
}

TEST(AuditAttribution, RowsAtTheSameInstantCollapseToTheLastRead) {
  Fleet f;
  AddMachine(&f, "m", 2, 0, 3);
  auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 0, "50"}, {1, 0, "90"}, {0, 0, "1"}}))});
  // GPU 0: the later "1" wins, so idle for 3 min; GPU 1 active for 3 min.
  EXPECT_NEAR(Usd(r, Category::kIdleOutsideJobs), 3, kEps);
  EXPECT_NEAR(Usd(r, Category::kActiveOutsideJobs), 3, kEps);
  EXPECT_EQ(r.telemetry.notes.entries().at("duplicate_time").count, 1u);
  EXPECT_EQ(r.telemetry.notes.entries().at("duplicate_time").Where(), "m.csv:4");
}

TEST(AuditAttribution, RejectedRowsAreCountedNeverGuessed) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 4);
  auto r = RunOn(
      f,
      {SourceFromText(
          "m",
          SmiText({{0, 0, "50"}, {0, 1, "[N/A]"}, {0, 1.5, "-3"}, {0, 1.7, "101"}, {0, 2, "0"}}))});
  // The next *valid* sample after 0 is at 2: the first stands for [0, 2).
  EXPECT_NEAR(Usd(r, Category::kActiveOutsideJobs), 2, kEps);
  EXPECT_NEAR(Usd(r, Category::kIdleOutsideJobs), 2, kEps);
  const auto& rej = r.telemetry.rejected.entries();
  EXPECT_EQ(rej.at("util_not_a_number").count, 1u);
  EXPECT_EQ(rej.at("util_not_a_number").Where(), "m.csv:3");
  EXPECT_EQ(rej.at("util_out_of_range").count, 2u);
  EXPECT_EQ(r.telemetry.rows_read, 5u);
  EXPECT_EQ(r.telemetry.rows_accepted, 2u);
}

TEST(AuditAttribution, OnlyBilledTimeCountsAndTelemetryOutsideIsIgnored) {
  Fleet f;
  AddMachine(&f, "m", 1, 10, 20);
  std::vector<Row> rows;
  for (int i = 0; i < 30; ++i) rows.push_back({0, i + 0.5, "50"});
  auto r = RunOn(f, {SourceFromText("m", SmiText(rows))});
  // The sample at 9.5 stands for [9.5, 10.5): its billed half minute counts.
  EXPECT_NEAR(Usd(r, Category::kActiveOutsideJobs), 10, kEps);
  EXPECT_NEAR(r.totals.Total().usd, 10, kEps);
  EXPECT_EQ(r.window_from, Min(10));
  EXPECT_EQ(r.window_to, Min(20));
}

TEST(AuditAttribution, AuditWindowClipsBilling) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 60);
  std::vector<Row> rows;
  for (int i = 0; i < 60; ++i) rows.push_back({0, double(i), i < 30 ? "50" : "0"});
  AuditOptions o;
  o.window_from = Min(20);
  o.window_to = Min(40);
  auto r = RunOn(f, {SourceFromText("m", SmiText(rows))}, o);
  EXPECT_NEAR(Usd(r, Category::kActiveOutsideJobs), 10, kEps);
  EXPECT_NEAR(Usd(r, Category::kIdleOutsideJobs), 10, kEps);
}

TEST(AuditAttribution, GpuCostsMachinePriceOverGpuCount) {
  Fleet f;
  Machine& m = AddMachine(&f, "m", 4, 0, 60);
  m.billing[0].hourly_usd = 10;  // 2.50 per GPU-hour
  auto r = RunOn(
      f, {SourceFromText("m", SmiText({{0, 0, "50"}, {1, 0, "50"}, {2, 0, "50"}, {3, 0, "50"}}))});
  EXPECT_NEAR(r.totals.Total().usd, 10, kEps);
  EXPECT_NEAR(Usd(r, Category::kUnmonitored), 4 * 2.5 * 55 / 60, kEps);
  EXPECT_NEAR(r.totals.Total().GpuHours(), 4, kEps);
}

TEST(AuditAttribution, NeverUsedTakesAllBilledTimeMonitoredOrNot) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 20, "asha");
  auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 0, "0"}, {0, 4, "4"}}))});
  ASSERT_EQ(r.machines.size(), 1u);
  EXPECT_TRUE(r.machines[0].never_used);
  EXPECT_NEAR(Usd(r, Category::kNeverUsed), 20, kEps);
  EXPECT_NEAR(Usd(r, Category::kUnmonitored), 0, kEps);
  // Only monitored time is below threshold: [0, 4) and the last sample's [4, 8) (it stands for
  // the median interval, 4 minutes).
  EXPECT_NEAR(r.totals.below_threshold.usd, 8, kEps);
  EXPECT_EQ(r.MachinesNeverUsed(), 1);
}

TEST(AuditAttribution, NeverUsedNeedsAValidSample) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 20);
  auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 1, "[N/A]"}}))});
  EXPECT_FALSE(r.machines[0].never_used);
  EXPECT_NEAR(Usd(r, Category::kUnmonitored), 20, kEps);
}

TEST(AuditAttribution, NeverUsedNotWhenAnyGpuReachesThreshold) {
  Fleet f;
  AddMachine(&f, "m", 2, 0, 10);
  auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 0, "0"}, {1, 0, "0"}, {1, 8, "5"}}))});
  EXPECT_FALSE(r.machines[0].never_used);
  EXPECT_NEAR(Usd(r, Category::kActiveOutsideJobs), 2, kEps);  // 5 % is "at or above"
  // GPU 0: idle [0,5), unmonitored [5,10). GPU 1: idle [0,5), unmonitored [5,8), active [8,10).
  EXPECT_NEAR(Usd(r, Category::kIdleOutsideJobs), 5 + 5, kEps);
  EXPECT_NEAR(Usd(r, Category::kUnmonitored), 5 + 3, kEps);
}

TEST(AuditAttribution, NeverUsedNotWithAJobRecord) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 10);
  AddJob(&f, "m", 2, 4, "completed");
  auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 0, "0"}, {0, 5, "0"}}))});
  EXPECT_FALSE(r.machines[0].never_used);
  EXPECT_NEAR(Usd(r, Category::kJobIdle), 2, kEps);
  EXPECT_NEAR(Usd(r, Category::kIdleOutsideJobs), 8, kEps);
}

TEST(AuditAttribution, FailedJobBeatsUnmonitored) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 30);
  AddJob(&f, "m", 0, 10, "failed");
  auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 20, "50"}}))});
  EXPECT_NEAR(Usd(r, Category::kFailedJob), 10, kEps);
  EXPECT_NEAR(Usd(r, Category::kUnmonitored), 10 + 5, kEps);  // [10, 20) and [25, 30)
  EXPECT_NEAR(Usd(r, Category::kActiveOutsideJobs), 5, kEps);
  EXPECT_NEAR(r.totals.Total().usd, 30, kEps);
}

TEST(AuditAttribution, EveryFailedStatusCounts) {
  for (const char* status :
       {"failed", "cancelled", "CANCELLED by 1234", "timeout", "TIMED_OUT", "killed",
        "out_of_memory", "OUT_OF_MEMORY", "node_fail", "node failure", "preempted"}) {
    Fleet f;
    AddMachine(&f, "m", 1, 0, 10);
    AddJob(&f, "m", 0, 10, status);
    auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 0, "90"}}))});
    EXPECT_NEAR(Usd(r, Category::kFailedJob), 10, kEps) << status;
  }
}

TEST(AuditAttribution, FailedOnlyWhereEveryCoveringJobFailed) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 20);
  AddJob(&f, "m", 0, 10, "failed");
  AddJob(&f, "m", 5, 15, "completed");
  std::vector<Row> rows;
  for (int i = 0; i < 20; ++i) rows.push_back({0, double(i), "0"});
  auto r = RunOn(f, {SourceFromText("m", SmiText(rows))});
  EXPECT_NEAR(Usd(r, Category::kFailedJob), 5, kEps);
  EXPECT_NEAR(Usd(r, Category::kJobIdle), 10, kEps);
  EXPECT_NEAR(Usd(r, Category::kIdleOutsideJobs), 5, kEps);
}

TEST(AuditAttribution, JobIdleAndJobActiveSplitAtThreshold) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 10);
  AddJob(&f, "m", 0, 10, "completed");
  auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 0, "4.99"}, {0, 3, "5"}, {0, 6, "0"}}))});
  EXPECT_NEAR(Usd(r, Category::kJobIdle), 3 + 3, kEps);  // the last sample stands 3 minutes
  EXPECT_NEAR(Usd(r, Category::kJobActive), 3, kEps);
  EXPECT_NEAR(Usd(r, Category::kUnmonitored), 1, kEps);
}

TEST(AuditAttribution, ThresholdIsConfigurable) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 10);
  AddJob(&f, "m", 0, 10, "completed");
  AuditOptions o;
  o.threshold_pct = 30;
  auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 0, "25"}, {0, 5, "30"}}))}, o);
  EXPECT_NEAR(Usd(r, Category::kJobIdle), 5, kEps);
  EXPECT_NEAR(Usd(r, Category::kJobActive), 5, kEps);
}

TEST(AuditAttribution, JobCoversOnlyTheGpusItNames) {
  Fleet f;
  AddMachine(&f, "m", 2, 0, 5);
  AddJob(&f, "m", 0, 5, "completed", {1});
  auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 0, "80"}, {1, 0, "80"}}))});
  EXPECT_NEAR(Usd(r, Category::kJobActive), 5, kEps);
  EXPECT_NEAR(Usd(r, Category::kActiveOutsideJobs), 5, kEps);
}

TEST(AuditAttribution, RunningJobCoversUntilBillingEnds) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 10);
  AddJob(&f, "m", 2, -1, "running");
  std::vector<Row> rows;
  for (int i = 0; i < 10; ++i) rows.push_back({0, double(i), "70"});
  auto r = RunOn(f, {SourceFromText("m", SmiText(rows))});
  EXPECT_NEAR(Usd(r, Category::kJobActive), 8, kEps);
  EXPECT_NEAR(Usd(r, Category::kActiveOutsideJobs), 2, kEps);
}

TEST(AuditAttribution, JobIsClippedToBilledTime) {
  Fleet f;
  AddMachine(&f, "m", 1, 10, 20);
  AddJob(&f, "m", 0, 15, "failed");
  auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 10, "0"}, {0, 15, "0"}}))});
  EXPECT_NEAR(Usd(r, Category::kFailedJob), 5, kEps);
  EXPECT_NEAR(Usd(r, Category::kIdleOutsideJobs), 5, kEps);
  EXPECT_NEAR(r.totals.Total().usd, 10, kEps);
}

TEST(AuditAttribution, OpenEndedBillingStopsAtTheDataOrTheWindow) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, -1);
  auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 0, "50"}, {0, 3, "50"}}))});
  EXPECT_NEAR(r.totals.Total().usd, 6, kEps);  // last sample + its median interval
  AuditOptions o;
  o.window_to = Min(20);
  r = RunOn(f, {SourceFromText("m", SmiText({{0, 0, "50"}, {0, 3, "50"}}))}, o);
  EXPECT_NEAR(r.totals.Total().usd, 20, kEps);
  EXPECT_NEAR(Usd(r, Category::kUnmonitored), 14, kEps);
}

TEST(AuditAttribution, BelowThresholdCountsMonitoredTimeOfEveryCategory) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 40);
  AddJob(&f, "m", 0, 10, "failed");
  AddJob(&f, "m", 10, 20, "completed");
  std::vector<Row> rows;
  for (int i = 0; i < 30; ++i) rows.push_back({0, double(i), "1"});
  auto r = RunOn(f, {SourceFromText("m", SmiText(rows))});
  // Monitored [0, 30) (the last sample stands one minute, the poll interval): failed 10 +
  // job_idle 10 + idle outside 10; [30, 40) unmonitored.
  EXPECT_NEAR(r.totals.below_threshold.usd, 30, kEps);
  EXPECT_NEAR(Usd(r, Category::kUnmonitored), 10, kEps);
  EXPECT_NEAR(r.totals.Total().usd, 40, kEps);
}

TEST(AuditAttribution, OwnerIsTheLiveJobsThenTheMachinesThenUnattributed) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 30, "mo");
  AddMachine(&f, "n", 1, 0, 10);
  AddJob(&f, "m", 0, 10, "failed", {}, "fay");
  AddJob(&f, "m", 5, 10, "completed", {}, "liv");
  std::vector<Row> rows;
  for (int i = 0; i < 30; ++i) rows.push_back({0, double(i), "50"});
  auto r = RunOn(f, {SourceFromText("m", SmiText(rows)),
                     SourceFromText("n", SmiText({{0, 0, "50"}, {0, 5, "50"}}), 1)});
  EXPECT_NEAR(r.owners.at("fay").usd, 5, kEps);  // only the failed job covers [0, 5)
  EXPECT_NEAR(r.owners.at("liv").usd, 5, kEps);  // the live job first over [5, 10)
  EXPECT_NEAR(r.owners.at("mo").usd, 20, kEps);  // no job: the machine's owner
  EXPECT_NEAR(r.owners.at(kUnattributed).usd, 10, kEps);
  EXPECT_NEAR(r.totals.unattributed.usd, 10, kEps);
}

TEST(AuditAttribution, SpendOfJobsWithoutACommit) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 10);
  AddJob(&f, "m", 0, 4, "completed", {}, "a", "");
  AddJob(&f, "m", 4, 10, "completed", {}, "a", "deadbeef");
  auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 0, "50"}, {0, 5, "50"}}))});
  EXPECT_NEAR(r.totals.no_commit.usd, 4, kEps);
  EXPECT_NEAR(r.totals.in_jobs.usd, 10, kEps);
}

// --price-per-gpu-hour mode: "name" billed from its telemetry at "usd" per GPU-hour.
AuditOptions PricedFromTelemetry(Fleet* f, const std::string& name, double usd) {
  Machine& m = f->AddMachine(name);
  m.billed_from_telemetry = true;
  m.price_per_gpu_hour = usd;
  m.billing.push_back(BillingPeriod{});
  AuditOptions o;
  o.price_per_gpu_hour = usd;
  return o;
}

TEST(AuditAttribution, PricePerGpuHourBillsFromFirstToLastSamplePlusMaxGap) {
  Fleet f;
  const AuditOptions o = PricedFromTelemetry(&f, "m", 60);
  auto r =
      RunOn(f, {SourceFromText("m", SmiText({{0, 10, "50"}, {1, 12, "0"}, {0, 20, "50"}}))}, o);
  // Billed [10, 25) on each of the 2 GPUs seen. GPU 0: active [10,15) and [20,25), unmonitored
  // [15,20). GPU 1: unmonitored [10,12), idle [12,17), unmonitored [17,25).
  EXPECT_NEAR(r.totals.Total().usd, 30, kEps);
  EXPECT_NEAR(Usd(r, Category::kActiveOutsideJobs), 10, kEps);
  EXPECT_NEAR(Usd(r, Category::kIdleOutsideJobs), 5, kEps);
  EXPECT_NEAR(Usd(r, Category::kUnmonitored), 15, kEps);
  EXPECT_EQ(r.machines[0].gpu_count, 2);
}

TEST(AuditAttribution, LastSampleStandsForTheLowerMedianIntervalNotMaxGap) {
  // A busy GPU polled every second whose final sample is idle: the old rule gave that sample
  // five idle minutes, more than the whole busy log.
  Fleet f;
  const AuditOptions o = PricedFromTelemetry(&f, "m", 60);
  std::vector<Row> rows;
  for (int s = 0; s < 120; ++s) rows.push_back({0, s / 60.0, s < 119 ? "98" : "0"});
  rows.push_back({0, 122 / 60.0, "0"});  // one 3 s interval: the lower median stays 1 s
  auto r = RunOn(f, {SourceFromText("m", SmiText(rows))}, o);
  EXPECT_NEAR(r.totals.Total().GpuHours() * 3600, 123, 1e-6);        // [0 s, 122 s + 1 s)
  EXPECT_NEAR(r.totals.below_threshold.GpuHours() * 3600, 4, 1e-6);  // [119, 123)
  EXPECT_TRUE(r.telemetry.notes.entries().find("sparse_polling") ==
              r.telemetry.notes.entries().end());
}

TEST(AuditAttribution, PollsSlowerThanMaxGapAreNotedWithTheFlagToRaise) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 60);
  auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 0, "50"}, {0, 10, "50"}, {0, 20, "0"}}))});
  EXPECT_NEAR(Usd(r, Category::kUnmonitored), 60 - 15, kEps);  // each sample stands 5 min
  const auto& notes = r.telemetry.notes.entries();
  ASSERT_TRUE(notes.contains("sparse_polling"));
  EXPECT_NE(notes.at("sparse_polling").detail.find("--max-gap"), std::string::npos);
}

TEST(AuditAttribution, OutOfOrderRowsAreSortedFirst) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 12);
  auto sorted = RunOn(f, {SourceFromText("m", SmiText({{0, 0, "50"}, {0, 4, "0"}, {0, 6, "50"}}))});
  auto shuffled =
      RunOn(f, {SourceFromText("m", SmiText({{0, 6, "50"}, {0, 0, "50"}, {0, 4, "0"}}))});
  for (Category c : kAllCategories) EXPECT_NEAR(Usd(sorted, c), Usd(shuffled, c), kEps);
  // Intervals 4 and 2 minutes: the last sample stands the lower median, 2.
  EXPECT_NEAR(Usd(shuffled, Category::kActiveOutsideJobs), 4 + 2, kEps);
  // Both the row at 0 and the one at 4 came after the row at 6.
  EXPECT_EQ(shuffled.telemetry.notes.entries().at("out_of_order").count, 2u);
  EXPECT_EQ(shuffled.telemetry.notes.entries().at("out_of_order").Where(), "m.csv:3");
  EXPECT_EQ(shuffled.telemetry.rows_accepted, 3u);
}

TEST(AuditAttribution, UnknownGpusAndMachinesAreRejected) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 10);
  auto r = RunOn(f, {SourceFromText("m", SmiText({{0, 0, "50"}, {1, 0, "50"}})),
                     SourceFromText("ghost", SmiText({{0, 0, "50"}}), 1)});
  EXPECT_EQ(r.telemetry.rejected.entries().at("unknown_gpu").count, 1u);
  EXPECT_EQ(r.telemetry.rejected.entries().at("unknown_machine").count, 1u);
  EXPECT_EQ(r.telemetry.rejected.entries().at("unknown_machine").Where(), "ghost.csv:2");
  EXPECT_EQ(r.machines.size(), 1u);
  EXPECT_NEAR(r.totals.Total().usd, 10, kEps);
}

TEST(AuditAttribution, MachinesBilledOutsideTheWindowAreNotInTheAudit) {
  Fleet f;
  AddMachine(&f, "early", 1, 0, 10);
  AddMachine(&f, "late", 1, 30, 40);
  AuditOptions o;
  o.window_from = Min(20);
  o.window_to = Min(50);
  auto r = RunOn(f, {SourceFromText("early", SmiText({{0, 0, "0"}}))}, o);
  ASSERT_EQ(r.machines.size(), 1u);
  EXPECT_EQ(r.machines[0].name, "late");
  EXPECT_EQ(r.MachinesNeverUsed(), 0);
  EXPECT_NEAR(Usd(r, Category::kUnmonitored), 10, kEps);
}

TEST(AuditAttribution, MachineWithoutTelemetryIsUnmonitored) {
  Fleet f;
  AddMachine(&f, "m", 2, 0, 10);
  auto r = RunOn(f, {});
  EXPECT_NEAR(Usd(r, Category::kUnmonitored), 20, kEps);
  EXPECT_FALSE(r.machines[0].never_used);
}

TEST(AuditAttribution, SeveralBillingPeriodsWithTheirOwnPrices) {
  Fleet f;
  Machine& m = AddMachine(&f, "m", 1, 0, 10);
  BillingPeriod later = m.billing[0];
  later.start = Min(20);
  later.end = Min(30);
  later.hourly_usd = 120;
  m.billing.push_back(later);
  std::vector<Row> rows;
  for (int i = 0; i < 30; ++i) rows.push_back({0, double(i), "50"});
  auto r = RunOn(f, {SourceFromText("m", SmiText(rows))});
  EXPECT_NEAR(r.totals.Total().usd, 10 + 20, kEps);
  EXPECT_NEAR(r.totals.Total().GpuHours(), 20.0 / 60, kEps);
}

TEST(AuditAttribution, PartitionSumsToTheTotalAndSamplesAreCounted) {
  Fleet f;
  AddMachine(&f, "m", 2, 0, 50, "o");
  AddJob(&f, "m", 5, 15, "failed", {0});
  AddJob(&f, "m", 12, 30, "completed", {}, "p");
  std::vector<Row> rows;
  for (int i = 0; i < 50; i += 3) rows.push_back({i % 2, double(i), i % 7 < 3 ? "2" : "60"});
  auto r = RunOn(f, {SourceFromText("m", SmiText(rows))});
  double sum = 0;
  for (Category c : kAllCategories) sum += Usd(r, c);
  EXPECT_NEAR(sum, 100, kEps);
  double owners = 0;
  for (const auto& [o, s] : r.owners) owners += s.usd;
  EXPECT_NEAR(owners, 100, kEps);
  EXPECT_EQ(r.machines[0].samples, rows.size());
}

// Issue 23 item 12: billed time the input cannot vouch for is said. "open" has an open-ended
// period and an hour of telemetry; "closed" is billed for 30 days, so the open period runs to
// day 30, 29 days past the last sample: noted once (closed periods are not). A --to after now
// is noted too.
TEST(AuditAttribution, BillingFarPastTheTelemetryAndAWindowInTheFutureAreSaid) {
  Fleet f;
  AddMachine(&f, "open", 1, 0, -1);
  AddMachine(&f, "closed", 1, 0, 30 * 24 * 60);
  std::vector<Row> rows;
  for (int minute = 0; minute < 60; minute += 5) rows.push_back({0, double(minute), "50 %"});
  auto r = RunOn(f, {SourceFromText("open", SmiText(rows))});
  auto count = [&](const char* reason) {
    auto it = r.inventory.notes.entries().find(reason);
    return it == r.inventory.notes.entries().end() ? uint64_t{0} : it->second.count;
  };
  EXPECT_EQ(count("billed_past_telemetry"), 1u);
  EXPECT_EQ(count("window_in_future"), 0u);
  AuditOptions o;
  o.window_to = FromNow(24 * 60);
  r = RunOn(f, {SourceFromText("open", SmiText(rows))}, o);
  EXPECT_EQ(count("window_in_future"), 1u);
  // Billing that ends with the telemetry says nothing.
  Fleet tidy;
  AddMachine(&tidy, "open", 1, 0, -1);
  r = RunOn(tidy, {SourceFromText("open", SmiText(rows))});
  EXPECT_EQ(count("billed_past_telemetry"), 0u);
}

}  // namespace
}  // namespace gpuledger
