// The per-day and per-job breakdown (AuditOptions::breakdown) the report draws from.
#include <gtest/gtest.h>

#include "audit/gpu_accumulator.h"
#include "audit_harness.h"
#include "demo/demo_fleet.h"

namespace gpuledger::testing {
namespace {

TEST(Breakdown, ClippedPiecesCutAtEveryUtcMidnightWithTheirDaysCredits) {
  const std::vector<Piece> in = {{Min(-90), Min(30), 0, 3, JobCover::kLive},
                                 {Min(30), Min(60), 0, -1, JobCover::kNone}};
  GpuAccumulator acc(in, 5 * kMsPerMinute, 5, /*split_days=*/true);
  acc.Add(Min(-10), 0);  // stands for [-10, -5): below, before midnight
  acc.Add(Min(-5), 50);  // [-5, 0): above
  acc.Add(Min(0), 50);   // [0, 5): above, after midnight
  acc.Add(Min(5), 0);    // last: stands the median interval, 5 min: [5, 10) below
  acc.Finish();
  const std::vector<Piece> out = acc.ClippedPieces(Min(-90), Min(60));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].start, Min(-90));
  EXPECT_EQ(out[0].end, kT0);
  EXPECT_EQ(out[0].below_ms, Min(5) - kT0);
  EXPECT_EQ(out[0].above_ms, Min(5) - kT0);
  EXPECT_EQ(out[1].start, kT0);
  EXPECT_EQ(out[1].end, Min(30));
  EXPECT_EQ(out[1].job, 3);
  EXPECT_EQ(out[1].below_ms, Min(5) - kT0);
  EXPECT_EQ(out[1].above_ms, Min(5) - kT0);
  EXPECT_EQ(out[2].start, Min(30));
  EXPECT_EQ(out[2].below_ms + out[2].above_ms, 0);
  GpuAccumulator long_piece({{Min(-10), Min(3 * 1440 + 10)}}, kMsPerMinute, 5, true);
  EXPECT_EQ(long_piece.ClippedPieces(Min(-10), Min(3 * 1440 + 10)).size(), 5u);
  // Unbounded billing (no window, billed from telemetry) is only cut inside the clip.
  GpuAccumulator open({{kTimeMin, kTimeMax}}, kMsPerMinute, 5, true);
  EXPECT_EQ(open.ClippedPieces(Min(-10), Min(10)).size(), 2u);
}

TEST(Breakdown, DaysAndJobsWorkedOutByHand) {
  // 2 GPUs billed [-60, 60) minutes around the midnight kT0, one dollar a GPU-minute.
  Fleet fleet;
  AddMachine(&fleet, "m", 2, -60, 60, "ann");
  AddJob(&fleet, "m", -20, 20, "failed", {0}, "bob");     // GPU 0: failed_job over midnight
  AddJob(&fleet, "m", 10, 40, "completed", {1}, "carl");  // GPU 1
  std::vector<Row> rows;
  for (int minute = -60; minute < 60; minute += 5) {
    rows.push_back({0, double(minute), "0 %"});
    if (minute >= 0) rows.push_back({1, double(minute), minute < 30 ? "90 %" : "1 %"});
  }
  AuditOptions options;
  options.breakdown = true;
  const AuditResult r = RunOn(fleet, {SourceFromText("m", SmiText(rows))}, options);
  ASSERT_EQ(r.machines.size(), 1u);
  const MachineResult& m = r.machines[0];
  ASSERT_EQ(m.days.size(), 2u);
  const DayResult& before = m.days[0];
  const DayResult& after = m.days[1];
  EXPECT_EQ(before.day, DayOf(kT0) - 1);
  EXPECT_EQ(FormatDay(after.day), "2025-01-01");
  auto usd = [](const DayResult& d, Category c) { return d.usd[static_cast<int>(c)]; };
  // Before midnight: GPU 0 idle 40 min then failed 20; GPU 1 billed but unmonitored 60.
  EXPECT_DOUBLE_EQ(usd(before, Category::kIdleOutsideJobs), 40);
  EXPECT_DOUBLE_EQ(usd(before, Category::kFailedJob), 20);
  EXPECT_DOUBLE_EQ(usd(before, Category::kUnmonitored), 60);
  EXPECT_EQ(before.billed_ms, 120 * kMsPerMinute);
  EXPECT_EQ(before.monitored_ms, 60 * kMsPerMinute);
  EXPECT_EQ(before.active_ms, 0);
  // After: GPU 0 failed 20 then idle 40; GPU 1 active 10 outside, 20 in job, idle 10 in job,
  // idle 20 outside.
  EXPECT_DOUBLE_EQ(usd(after, Category::kFailedJob), 20);
  EXPECT_DOUBLE_EQ(usd(after, Category::kIdleOutsideJobs), 40 + 20);
  EXPECT_DOUBLE_EQ(usd(after, Category::kActiveOutsideJobs), 10);
  EXPECT_DOUBLE_EQ(usd(after, Category::kJobActive), 20);
  EXPECT_DOUBLE_EQ(usd(after, Category::kJobIdle), 10);
  EXPECT_EQ(after.active_ms, 30 * kMsPerMinute);
  ASSERT_EQ(m.jobs.size(), 2u);
  EXPECT_EQ(m.jobs[0].job->id, "j1");
  EXPECT_DOUBLE_EQ(m.jobs[0].spend.usd, 40);
  EXPECT_EQ(m.jobs[1].job->id, "j2");
  EXPECT_DOUBLE_EQ(m.jobs[1].spend.usd, 30);
}

TEST(Breakdown, SumsToTheTotalsAndChangesNoFigure) {
  DemoOptions demo_options;
  demo_options.machines = 24;
  demo_options.never_used = 9;
  demo_options.days = 20;
  auto demo = MakeDemoFleet(demo_options);
  ASSERT_TRUE(demo.has_value());
  const std::vector<TelemetrySource> telemetry = DemoTelemetry(*demo);
  AuditOptions with;
  with.breakdown = true;
  const AuditResult plain = RunOn(demo->fleet, telemetry);
  const AuditResult detailed = RunOn(demo->fleet, telemetry, with);
  ASSERT_EQ(plain.machines.size(), detailed.machines.size());
  for (int c = 0; c < kCategoryCount; ++c) {
    EXPECT_EQ(plain.totals.categories[c].gpu_ms, detailed.totals.categories[c].gpu_ms);
    EXPECT_NEAR(plain.totals.categories[c].usd, detailed.totals.categories[c].usd, 1e-6);
  }
  for (const MachineResult& m : detailed.machines) {
    std::array<double, kCategoryCount> by_day{};
    DurationMs billed = 0;
    for (const DayResult& d : m.days) {
      for (int c = 0; c < kCategoryCount; ++c) by_day[c] += d.usd[c];
      billed += d.billed_ms;
      EXPECT_LE(d.active_ms, d.monitored_ms);
      EXPECT_LE(d.monitored_ms, d.billed_ms);
    }
    for (int c = 0; c < kCategoryCount; ++c) {
      EXPECT_NEAR(by_day[c], m.totals.categories[c].usd, 1e-6) << m.name << " " << c;
    }
    EXPECT_EQ(billed, m.totals.Total().gpu_ms) << m.name;
    double in_jobs = 0;
    for (const JobResult& j : m.jobs) in_jobs += j.spend.usd;
    EXPECT_NEAR(in_jobs, m.totals.in_jobs.usd, 1e-6) << m.name;
  }
}

}  // namespace
}  // namespace gpuledger::testing
