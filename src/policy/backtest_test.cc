// The autokill rules on hand-computed histories. One GPU-minute costs one dollar.
#include "policy/backtest.h"

#include <gtest/gtest.h>

#include "audit_harness.h"

namespace gpuledger {
namespace {

using namespace gpuledger::testing;
constexpr double kEps = 1e-9;

// Rows for GPU 0 every minute over [from, to) with the given utilisation.
std::vector<Row> Every(double from, double to, const std::string& util, int gpu = 0) {
  std::vector<Row> rows;
  for (double m = from; m < to; ++m) rows.push_back({gpu, m, util});
  return rows;
}

std::vector<Row> Join(std::vector<std::vector<Row>> parts) {
  std::vector<Row> out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  std::stable_sort(out.begin(), out.end(),
                   [](const Row& a, const Row& b) { return a.minute < b.minute; });
  return out;
}

BacktestResult Backtest(const Fleet& f, const std::vector<Row>& rows, Policy policy = {}) {
  std::vector<TelemetrySource> telemetry = {SourceFromText("m", SmiText(rows))};
  AuditInputs in;
  in.fleet = &f;
  in.telemetry = &telemetry;
  BacktestOptions o;
  o.policy = policy;
  o.threads = 1;
  auto r = RunBacktest(in, o);
  EXPECT_TRUE(r);
  return *r;
}

TEST(Backtest, SetupKillAtStartPlusGraceThenIdleKillAfterActivity) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 200);
  AddJob(&f, "m", 0, 100, "failed");       // never active: dies at setup
  AddJob(&f, "m", 100, 200, "completed");  // active 100-129, then idle
  auto r = Backtest(f, Join({Every(0, 130, "0"), Every(100, 130, "80"), Every(130, 200, "1")}));
  // Rows at the same minute: the later "80" wins over 100-129.
  ASSERT_EQ(r.decisions.size(), 2u);
  const KillDecision& idle = r.decisions[0];  // the false kill is listed first
  EXPECT_EQ(idle.job_id, "j2");
  EXPECT_EQ(idle.rule, KillRule::kIdle);
  EXPECT_TRUE(idle.false_kill);
  EXPECT_EQ(idle.at, Min(160));
  EXPECT_EQ(idle.warn_at, Min(150));
  EXPECT_NEAR(idle.saved.usd, 40, kEps);
  const KillDecision& setup = r.decisions[1];
  EXPECT_EQ(setup.rule, KillRule::kSetup);
  EXPECT_FALSE(setup.false_kill);
  EXPECT_EQ(setup.at, Min(20));
  EXPECT_NEAR(setup.saved.usd, 80, kEps);
  EXPECT_NEAR(setup.saved.GpuHours(), 80.0 / 60, kEps);
  EXPECT_EQ(r.jobs, 2);
  EXPECT_EQ(r.FalseKills(), 1);
  EXPECT_NEAR(r.Saved().usd, 120, kEps);
  EXPECT_NE(setup.explanation.find("never active"), std::string::npos) << setup.explanation;
  EXPECT_NE(idle.explanation.find("last active 02:10:00 UTC"), std::string::npos)
      << idle.explanation;
}

TEST(Backtest, UnmonitoredTimeEndsAnIdleStretch) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 100);
  AddJob(&f, "m", 0, 100, "failed");
  // Samples 0-14 stand until 19; nothing for [19, 25); idle again from 25.
  auto r = Backtest(f, Join({Every(0, 15, "0"), Every(25, 100, "0")}));
  ASSERT_EQ(r.decisions.size(), 1u);
  EXPECT_EQ(r.decisions[0].at, Min(45));
}

TEST(Backtest, MissingDataNeverKills) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 100);
  AddJob(&f, "m", 0, 100, "failed");
  std::vector<Row> rows;
  for (int m = 0; m < 100; m += 10) rows.push_back({0, double(m), "0"});  // 5 of every 10 min
  auto r = Backtest(f, rows);
  EXPECT_TRUE(r.decisions.empty());
}

TEST(Backtest, EveryGpuMustBeIdle) {
  Fleet f;
  AddMachine(&f, "m", 2, 0, 100);
  AddJob(&f, "m", 0, 100, "completed");
  // GPU 1 active until 50; GPU 0 idle throughout: idle stretch starts at 50, kill at 80.
  auto r = Backtest(f, Join({Every(0, 100, "0"), Every(0, 50, "70", 1), Every(50, 100, "0", 1)}));
  ASSERT_EQ(r.decisions.size(), 1u);
  EXPECT_EQ(r.decisions[0].rule, KillRule::kIdle);
  EXPECT_EQ(r.decisions[0].at, Min(80));
  EXPECT_NEAR(r.decisions[0].saved.usd, 2 * 20, kEps);
}

TEST(Backtest, APriceChangeDoesNotEndAStretchButUnbilledTimeDoes) {
  Fleet f;
  Machine& m = AddMachine(&f, "m", 1, 0, 10);
  BillingPeriod dearer = m.billing[0];
  dearer.start = Min(10), dearer.end = Min(100), dearer.hourly_usd = 120;  // $2 a minute
  m.billing.push_back(dearer);
  AddJob(&f, "m", 0, 100, "failed");
  auto r = Backtest(f, Every(0, 100, "0"));
  ASSERT_EQ(r.decisions.size(), 1u);
  EXPECT_EQ(r.decisions[0].at, Min(20));  // the stretch runs on across minute 10
  EXPECT_NEAR(r.decisions[0].saved.usd, 2 * 80, kEps);

  Fleet g;
  Machine& n = AddMachine(&g, "m", 1, 0, 10);
  BillingPeriod later = n.billing[0];
  later.start = Min(15), later.end = Min(100);
  n.billing.push_back(later);
  AddJob(&g, "m", 0, 100, "failed");
  r = Backtest(g, Every(0, 100, "0"));
  ASSERT_EQ(r.decisions.size(), 1u);
  EXPECT_EQ(r.decisions[0].at, Min(35));  // unbilled [10, 15) ended the first stretch
}

TEST(Backtest, AKillCountsOnlyBeforeTheJobsEnd) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 100);
  AddJob(&f, "m", 0, 20, "failed");   // due at 20 = its end: no kill
  AddJob(&f, "m", 30, 51, "failed");  // due at 50: killed, saves 1 minute
  auto r = Backtest(f, Every(0, 100, "0"));
  ASSERT_EQ(r.decisions.size(), 1u);
  EXPECT_EQ(r.decisions[0].job_id, "j2");
  EXPECT_NEAR(r.decisions[0].saved.usd, 1, kEps);
}

TEST(Backtest, RunningJobSavesUntilBillingEnds) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 100);
  AddJob(&f, "m", 10, -1, "running");
  auto r = Backtest(f, Every(0, 100, "0"));
  ASSERT_EQ(r.decisions.size(), 1u);
  EXPECT_EQ(r.decisions[0].at, Min(30));
  EXPECT_FALSE(r.decisions[0].false_kill);
  EXPECT_NEAR(r.decisions[0].saved.usd, 70, kEps);
}

TEST(Backtest, BudgetAndMaxRuntime) {
  Fleet f;
  AddMachine(&f, "m", 2, 0, 100);
  AddJob(&f, "m", 10, 100, "completed");
  Policy p;
  p.budget_usd = 30;  // two GPUs at $1 a minute each: spent 15 minutes in
  auto r = Backtest(f, Join({Every(0, 100, "90"), Every(0, 100, "90", 1)}), p);
  ASSERT_EQ(r.decisions.size(), 1u);
  EXPECT_EQ(r.decisions[0].rule, KillRule::kBudget);
  EXPECT_EQ(r.decisions[0].at, Min(25));
  EXPECT_NEAR(r.decisions[0].saved.usd, 2 * 75, kEps);
  p.max_runtime_ms = 10 * kMsPerMinute;
  r = Backtest(f, Join({Every(0, 100, "90"), Every(0, 100, "90", 1)}), p);
  EXPECT_EQ(r.decisions[0].rule, KillRule::kMaxRuntime);
  EXPECT_EQ(r.decisions[0].at, Min(20));
}

TEST(Backtest, ExemptJobsAreNeverKilled) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 100);
  AddJob(&f, "m", 0, 100, "failed", {}, "asha");
  Policy p;
  p.exempt.owners = {"asha"};
  auto r = Backtest(f, Every(0, 100, "0"), p);
  EXPECT_TRUE(r.decisions.empty());
  ASSERT_EQ(r.exempted.size(), 1u);
  EXPECT_EQ(r.exempted[0].at, Min(20));
}

TEST(Backtest, IdleMachinesWithNoRunningJobAreReleased) {
  Fleet f;
  AddMachine(&f, "m", 2, 0, 60);
  AddJob(&f, "m", 20, 30, "completed", {0});
  auto r = Backtest(f, Join({Every(0, 60, "0"), Every(0, 60, "0", 1)}));
  // Idle with no job over [0, 20) and [30, 60): released at 15 and at 45.
  ASSERT_EQ(r.releases.size(), 2u);
  EXPECT_EQ(r.releases[0].at, Min(15));
  EXPECT_NEAR(r.releases[0].saved.usd, 2 * 5, kEps);
  EXPECT_EQ(r.releases[1].idle_from, Min(30));
  EXPECT_EQ(r.releases[1].at, Min(45));
  EXPECT_NEAR(r.ReleasesSaved().usd, 2 * 5 + 2 * 15, kEps);
}

TEST(Backtest, ReleaseNeedsEveryGpuMonitoredAndIdle) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 60);
  // Samples each minute over [0, 9), then every 10 minutes: each stands 5 minutes (max_gap), so
  // the monitored idle stretches are [0, 14), [20, 25), [30, 35), …: none lasts 15 minutes.
  std::vector<Row> rows = Every(0, 9, "0");
  for (double m = 20; m < 60; m += 10) rows.push_back({0, m, "0"});
  auto r = Backtest(f, rows);
  EXPECT_TRUE(r.releases.empty());
}

// DESIGN.md: released once the idle stretch has lasted release_after — a stretch of exactly
// release_after is released at its end (the guard's machine watch does the same), saving $0.
TEST(Backtest, AStretchOfExactlyReleaseAfterIsReleased) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 60);
  // Samples each minute over [0, 11): the last (at 10) stands 5 minutes, so the idle stretch is
  // [0, 15): exactly release_after.
  std::vector<Row> rows = Every(0, 11, "0");
  for (double m = 30; m < 60; m += 10) rows.push_back({0, m, "0"});
  auto r = Backtest(f, rows);
  ASSERT_EQ(r.releases.size(), 1u);
  EXPECT_EQ(r.releases[0].idle_from, Min(0));
  EXPECT_EQ(r.releases[0].at, Min(15));
  EXPECT_EQ(r.releases[0].idle_to, Min(15));
  EXPECT_NEAR(r.releases[0].saved.usd, 0, kEps);
}

// As the guard does: a released machine stays released until it is in use again, so a second
// idle stretch after an unmonitored gap (nobody used it) is not a second release.
TEST(Backtest, AReleasedMachineIsReleasedAgainOnlyAfterUse) {
  Fleet f;
  AddMachine(&f, "m", 1, 0, 120);
  std::vector<Row> rows = Every(0, 20, "0");            // idle [0, 24): released at 15
  for (Row r : Every(40, 60, "0")) rows.push_back(r);   // after a gap, idle [40, 64)
  for (Row r : Every(70, 75, "90")) rows.push_back(r);  // in use [70, 75)
  for (Row r : Every(75, 120, "0")) rows.push_back(r);  // idle from 75: released at 90
  auto r = Backtest(f, rows);
  ASSERT_EQ(r.releases.size(), 2u);
  EXPECT_EQ(r.releases[0].at, Min(15));
  EXPECT_EQ(r.releases[0].idle_to, Min(24));
  EXPECT_EQ(r.releases[1].idle_from, Min(75));
  EXPECT_EQ(r.releases[1].at, Min(90));
}

}  // namespace
}  // namespace gpuledger

namespace gpuledger {
namespace {

TEST(Backtest, AnInteractiveKillIsFalseOnlyWhenItsGpusCameBackBeforeItsEnd) {
  using namespace gpuledger::testing;
  Fleet f;
  AddMachine(&f, "m", 1, 0, 400);
  // A notebook active, then idle until someone closed it: a true kill, though "completed".
  AddJob(&f, "m", 0, 150, "completed");
  // A notebook idle for a long lunch, then busy again before its end: a false kill.
  AddJob(&f, "m", 150, 400, "completed");
  f.jobs[0].interactive = f.jobs[1].interactive = true;
  Policy p;
  p.interactive_setup_grace_ms = p.interactive_idle_after_ms = 60 * kMsPerMinute;
  auto r = Backtest(f,
                    Join({Every(0, 10, "50"), Every(10, 150, "0"), Every(150, 160, "70"),
                          Every(160, 300, "0"), Every(300, 400, "60")}),
                    p);
  ASSERT_EQ(r.decisions.size(), 2u);
  const KillDecision& back = r.decisions[0];  // the false kill first
  EXPECT_EQ(back.job_id, "j2");
  EXPECT_TRUE(back.interactive);
  EXPECT_TRUE(back.false_kill);
  EXPECT_EQ(back.at, Min(220));  // idle from 160, [interactive] idle_after 60 min
  ASSERT_TRUE(back.came_back_at);
  EXPECT_EQ(*back.came_back_at, Min(300));
  const KillDecision& closed = r.decisions[1];
  EXPECT_EQ(closed.job_id, "j1");
  EXPECT_FALSE(closed.false_kill);
  EXPECT_FALSE(closed.came_back_at);
  EXPECT_EQ(closed.at, Min(70));  // not the top-level idle_after of 30 min
  EXPECT_EQ(r.FalseKills(), 1);
}

}  // namespace
}  // namespace gpuledger
