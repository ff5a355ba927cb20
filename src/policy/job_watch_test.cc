#include "policy/job_watch.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

constexpr TimeMs kStart = 1735689600000;
TimeMs S(double seconds) { return kStart + static_cast<TimeMs>(seconds * 1000); }

Policy Fast() {
  Policy p;
  p.setup_grace_ms = 20 * kMsPerSecond;
  p.idle_after_ms = 30 * kMsPerSecond;
  p.warn_before_ms = 5 * kMsPerSecond;
  p.max_gap_ms = 3 * kMsPerSecond;
  return p;
}

// Feeds one reading per second of "util" on GPUs 0 and 1 over [from, to) and collects what
// the watch decides.
std::vector<LiveDecision> Feed(JobWatch& w, double from, double to, double util,
                               double util1 = -1) {
  std::vector<LiveDecision> all;
  for (double s = from; s < to; s += 1) {
    w.OnReadings(S(s), {{0, util, {}}, {1, util1 < 0 ? util : util1, {}}});
    for (auto& d : w.Advance(S(s))) all.push_back(d);
  }
  return all;
}

TEST(JobWatch, DiedAtSetupIsWarnedThenKilledAtStartPlusGrace) {
  JobWatch w(Fast(), {"j1", "asha", {}, kStart, {}, 0, std::nullopt});
  auto d = Feed(w, 0, 40, 0);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].kind, DecisionKind::kWarn);
  EXPECT_EQ(d[0].decided_at, S(15));
  EXPECT_EQ(d[0].due_at, S(20));
  EXPECT_EQ(d[1].kind, DecisionKind::kKill);
  EXPECT_EQ(d[1].rule, KillRule::kSetup);
  EXPECT_EQ(d[1].due_at, S(20));
  EXPECT_EQ(d[1].decided_at, S(20));
  EXPECT_TRUE(w.killed());
}

TEST(JobWatch, ABusyGpuIsNeverKilled) {
  JobWatch w(Fast(), {"j1", "", {}, kStart, {}, 0, std::nullopt});
  EXPECT_TRUE(Feed(w, 0, 120, 0, 60).empty());  // GPU 1 busy, GPU 0 idle
}

TEST(JobWatch, IdleAfterActivityUsesIdleAfter) {
  JobWatch w(Fast(), {"j1", "", {}, kStart, {}, 0, std::nullopt});
  EXPECT_TRUE(Feed(w, 0, 10, 80).empty());
  auto d = Feed(w, 10, 60, 1);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[1].rule, KillRule::kIdle);
  EXPECT_EQ(d[1].due_at, S(40));
}

TEST(JobWatch, MissingReadingsNeverKill) {
  JobWatch w(Fast(), {"j1", "", {}, kStart, {}, 0, std::nullopt});
  std::vector<LiveDecision> all;
  for (double s = 0; s < 300; s += 1) {
    if (static_cast<int>(s) % 10 < 5) w.OnReadings(S(s), {{0, 0, {}}});  // 5 s of every 10
    for (auto& d : w.Advance(S(s))) all.push_back(d);
  }
  EXPECT_TRUE(all.empty());
}

TEST(JobWatch, OnlyTheJobsGpusCount) {
  JobWatch w(Fast(), {"j1", "", {}, kStart, {0}, 0, std::nullopt});
  auto d = Feed(w, 0, 40, 0, 90);  // GPU 1 is busy but not the job's
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d.back().rule, KillRule::kSetup);
}

TEST(JobWatch, FatalOutputKillsAtOnce) {
  Policy p = Fast();
  p.fatal_patterns = {"CUDA out of memory"};
  JobWatch w(p, {"j1", "", {}, kStart, {}, 0, std::nullopt});
  Feed(w, 0, 5, 90);
  w.OnOutputLine(S(5.5), "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB");
  auto d = w.Advance(S(6));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].kind, DecisionKind::kKill);
  EXPECT_EQ(d[0].rule, KillRule::kFatalOutput);
  EXPECT_EQ(d[0].due_at, S(5.5));
}

TEST(JobWatch, BudgetAndMaxRuntime) {
  Policy p = Fast();
  p.budget_usd = 1;
  JobWatch w(
      p, {"j1", "", {}, kStart, {0, 1}, 36, std::nullopt});  // 2 GPUs × $36/h = 2 cents a second
  auto d = Feed(w, 0, 60, 90);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[1].rule, KillRule::kBudget);
  EXPECT_EQ(d[1].due_at, S(50));
  Policy q = Fast();
  q.max_runtime_ms = 12 * kMsPerSecond;
  JobWatch v(q, {"j1", "", {}, kStart, {}, 0, std::nullopt});
  d = Feed(v, 0, 60, 90);
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d.back().rule, KillRule::kMaxRuntime);
  EXPECT_EQ(d.back().due_at, S(12));
}

TEST(JobWatch, ExemptJobsAreRecordedNotKilled) {
  Policy p = Fast();
  p.exempt.labels = {"interactive=true"};
  JobWatch w(p, {"j1", "", {"interactive=true"}, kStart, {}, 0, std::nullopt});
  auto d = Feed(w, 0, 40, 0);
  ASSERT_EQ(d.size(), 1u);  // no warning for an exempt job
  EXPECT_EQ(d[0].kind, DecisionKind::kExempt);
  EXPECT_EQ(d[0].rule, KillRule::kSetup);
}

}  // namespace
}  // namespace gpuledger
