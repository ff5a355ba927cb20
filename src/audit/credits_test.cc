// Credits worked out by hand (DESIGN.md, "Credits: who burned the last batch"). Machines cost
// 60 USD per GPU-hour: one GPU-minute is one dollar (tests/audit_harness.h).
#include "audit/credits.h"

#include <gtest/gtest.h>

#include "audit/budget_use.h"
#include "audit_harness.h"
#include "report/credits_text.h"
#include "sources/focus_billing.h"

namespace gpuledger::testing {
namespace {

AuditResult Audit(const Fleet& fleet, const std::vector<TelemetrySource>& telemetry = {}) {
  AuditOptions o;
  o.segments = true;
  return RunOn(fleet, telemetry, o);
}

CreditBatch Batch(const std::string& label, double usd, TimeMs date, uint64_t order) {
  return {label, date, usd, order};
}

TEST(Credits, BatchesBoughtOutOfOrderAreUsedOldestFirstWhateverDayTheyPayFor) {
  Fleet fleet;
  AddMachine(&fleet, "m1", 1, 0, 60, "asha");  // $60 over the hour, $1 a minute
  const AuditResult a = Audit(fleet);
  // In file order: B ($30, bought at minute 30), then A ($20, bought long before).
  const CreditsResult c =
      ConsumeCredits({Batch("B", 30, Min(30), 1), Batch("A", 20, Min(-10000), 2)}, a, {}, {});
  ASSERT_EQ(c.batches.size(), 2u);
  EXPECT_EQ(c.batches[0].batch.label, "A");
  EXPECT_EQ(*c.batches[0].started, Min(0));
  EXPECT_EQ(*c.batches[0].ran_out, Min(20));
  EXPECT_EQ(c.batches[1].batch.label, "B");
  EXPECT_EQ(*c.batches[1].started, Min(20));  // pays for minutes 20-30, before it was bought
  EXPECT_EQ(*c.batches[1].ran_out, Min(50));
  EXPECT_NEAR(c.batches[1].spent_usd, 30, 1e-9);
  EXPECT_NEAR(c.batches[1].owners.at("asha"), 30, 1e-9);
  EXPECT_NEAR(c.uncovered_usd, 10, 1e-9);  // minutes 50-60: past the last batch
  EXPECT_NEAR(c.spent_usd, 60, 1e-9);
  EXPECT_NEAR(c.runway.left_usd, 0, 1e-9);
}

TEST(Credits, TheExactInstantABatchRunsOutWhenMachinesAccrueAtDifferentRates) {
  Fleet fleet;
  AddMachine(&fleet, "m1", 1, 0, 120, "asha");  // $1 a minute from minute 0
  AddMachine(&fleet, "m2", 2, 10, 120, "bo");   // $2 a minute from minute 10
  const AuditResult a = Audit(fleet);
  const CreditsResult c = ConsumeCredits({Batch("b1", 90, Min(0), 1)}, a, {}, {});
  // $10 by minute 10, then $3 a minute: the other $80 last 26 min 40 s.
  EXPECT_EQ(*c.batches[0].ran_out, Min(10) + 1600 * 1000);
  EXPECT_NEAR(c.batches[0].owners.at("asha"), 10 + 80.0 / 3, 1e-6);
  EXPECT_NEAR(c.batches[0].owners.at("bo"), 160.0 / 3, 1e-6);
  EXPECT_NEAR(c.batches[0].spent_usd, 90, 1e-6);
  EXPECT_NEAR(c.uncovered_usd, 120 + 2 * 110 - 90, 1e-6);
}

TEST(Credits, AMachineThatChangesTeamMidBatchIsSplitAtTheChange) {
  Fleet fleet;
  Machine& m = AddMachine(&fleet, "m1", 1, 0, 30);
  m.billing[0].team = "vision";
  BillingPeriod later = m.billing[0];
  later.start = Min(30), later.end = Min(60), later.team = "nlp";
  m.billing.push_back(later);
  const AuditResult a = Audit(fleet);
  const CreditsResult c = ConsumeCredits({Batch("b1", 50, Min(0), 1)}, a, {}, {});
  EXPECT_NEAR(c.batches[0].teams.at("vision"), 30, 1e-9);
  EXPECT_NEAR(c.batches[0].teams.at("nlp"), 20, 1e-9);
  EXPECT_EQ(*c.batches[0].ran_out, Min(50));
}

TEST(Credits, OutcomesTopJobsAndWasteOfABatchWithMoneyLeft) {
  Fleet fleet;
  AddMachine(&fleet, "m1", 1, 0, 60);
  AddJob(&fleet, "m1", 0, 20, "completed", {}, "asha");
  AddJob(&fleet, "m1", 20, 40, "failed", {}, "bo");
  // Telemetry: busy through the first job, idle after.
  std::vector<Row> rows;
  for (int t = 0; t < 60; ++t) rows.push_back({0, static_cast<double>(t), t < 20 ? "90 %" : "0 %"});
  const AuditResult a = Audit(fleet, {SourceFromText("m1", SmiText(rows))});
  const CreditsResult c = ConsumeCredits({Batch("b1", 100, Min(0), 1)}, a, {}, {});
  const BatchResult& b = c.batches[0];
  EXPECT_FALSE(b.ran_out);
  EXPECT_NEAR(b.left_usd, 40, 1e-9);
  EXPECT_NEAR(b.outcomes.at("completed"), 20, 1e-9);
  EXPECT_NEAR(b.outcomes.at("failed"), 20, 1e-9);
  EXPECT_NEAR(b.outcomes.at("no_job"), 20, 1e-9);
  EXPECT_NEAR(b.waste_usd, 40, 1e-9);  // the failed job and the idle time after it
  EXPECT_NEAR(b.categories[static_cast<int>(Category::kJobActive)], 20, 1e-9);
  ASSERT_EQ(b.top_jobs.size(), 2u);
  EXPECT_NEAR(b.top_jobs[0].usd, 20, 1e-9);
  // Runway: $40 left at $60 a day-hour… the audited hour is the burn window: $1440 a day.
  EXPECT_NEAR(c.runway.daily_burn_usd, 1440, 1e-6);
  EXPECT_NEAR(*c.runway.days, 40.0 / 1440, 1e-9);
  EXPECT_NEAR(c.runway.waste_per_day_usd, 960, 1e-6);
  EXPECT_NEAR(*c.runway.days_of_waste, 40.0 / 480 - 40.0 / 1440, 1e-9);
  // A $1e9 batch at $1440 a day lasts ~1.9 million years: the days say so, the date stops at a
  // century (it aborted the JSON writer past year 9999).
  const CreditsResult huge = ConsumeCredits({Batch("b1", 1e9, Min(0), 1)}, a, {}, {});
  EXPECT_NEAR(*huge.runway.days, (1e9 - 60) / 1440, 1e-3);
  EXPECT_EQ(*huge.runway.runs_out - huge.runway.burn_to, 36'500 * kMsPerDay);
  EXPECT_NO_THROW(FormatIsoUtc(*huge.runway.runs_out));
  EXPECT_NE(RunwaySentence(huge).find("lasts more than a century"), std::string::npos)
      << RunwaySentence(huge);
}

TEST(Credits, FocusCreditRowsAreTheBatchesAndOtherChargesAreSpendToo) {
  Fleet fleet;
  SourceStats stats;
  FocusOptions o;
  o.gpus_per_machine = 1;
  ASSERT_TRUE(
      ReadFocusBilling("ChargePeriodStart,ChargePeriodEnd,ResourceId,EffectiveCost,ChargeCategory,"
                       "ServiceCategory,ChargeDescription\n"
                       "2025-01-01 00:00:00,2025-01-01 01:00:00,g1,60,Usage,Compute,GPU hour\n"
                       "2025-01-01 00:00:00,2025-01-01 01:00:00,vol-1,30,Usage,Storage,disk\n"
                       "2024-12-15 00:00:00,2024-12-16 00:00:00,,-50,Credit,,December top-up\n"
                       "2025-01-01 00:30:00,2025-01-01 00:30:01,,25,Purchase,,January top-up\n",
                       "f.csv", 0, TimeZone::Utc(), o, {"g1"}, {}, &fleet, &stats));
  ASSERT_EQ(fleet.bill_credits.size(), 2u);
  ASSERT_EQ(fleet.timed_charges.size(), 1u);  // storage; credits and purchases are money in
  const AuditResult a = Audit(fleet);
  const CreditsResult c = ConsumeCredits(fleet.bill_credits, a, fleet.timed_charges, {});
  // GPU $1 + storage $0.50 a minute: the $50 credit lasts 33 min 20 s, then $25 more.
  ASSERT_EQ(c.batches.size(), 2u);
  EXPECT_EQ(c.batches[0].batch.label, "December top-up");
  EXPECT_EQ(*c.batches[0].ran_out, Min(0) + 2000 * 1000);
  EXPECT_NEAR(c.batches[0].other_charges_usd, 50.0 / 3, 1e-6);
  EXPECT_EQ(*c.batches[1].ran_out, Min(0) + 3000 * 1000);
  EXPECT_NEAR(c.uncovered_usd, 15, 1e-6);
}

// Issue 23 items 6 and 7. A bill over one hour: GPU g1 $60 (a GPU-minute is $1), GPU g2 $0
// (covered by a commitment), storage $30 with a $6 refund inside usage, network $10 with a $40
// refund. By hand: the bill's net spend is 60 + 30 - 6 + 10 - 40 = $54; other charges net -$6.
// The storage refund nets storage to $24; the network refund takes network's $10, then $24
// from what is left of the charges (storage → $0), and its last $6 from GPU time ($60 → $54).
TEST(Credits, RefundsInsideUsageNetAsTheBillDoesAndZeroCostGpusAreMachines) {
  Fleet fleet;
  SourceStats stats;
  FocusOptions o;
  o.gpus_per_machine = 1;
  ASSERT_TRUE(
      ReadFocusBilling("ChargePeriodStart,ChargePeriodEnd,ResourceId,EffectiveCost,ChargeCategory,"
                       "ServiceCategory,ChargeDescription\n"
                       "2025-01-01 00:00:00,2025-01-01 01:00:00,g1,60,Usage,Compute,GPU hour\n"
                       "2025-01-01 00:00:00,2025-01-01 01:00:00,g2,0,Usage,Compute,GPU hour\n"
                       "2025-01-01 00:00:00,2025-01-01 01:00:00,vol-1,30,Usage,Storage,disk\n"
                       "2025-01-01 00:00:00,2025-01-01 01:00:00,vol-1,-6,Usage,Storage,refund\n"
                       "2025-01-01 00:00:00,2025-01-01 01:00:00,nat-1,10,Usage,Networking,nat\n"
                       "2025-01-01 00:00:00,2025-01-01 01:00:00,nat-1,-40,Usage,Networking,oops\n",
                       "f.csv", 0, TimeZone::Utc(), o, {"g1", "g2"}, {}, &fleet, &stats));
  ASSERT_EQ(fleet.machines.size(), 2u);  // g2 cost nothing, but it is a GPU machine that ran
  EXPECT_EQ(fleet.machines[1].name, "g2");
  double other = 0;
  for (const auto& [category, usd] : fleet.other_charges_usd) other += usd;
  EXPECT_NEAR(other, -6, 1e-9);
  const AuditResult a = Audit(fleet);
  EXPECT_NEAR(a.totals.Total().usd, 60, 1e-9);
  const CreditsResult c =
      ConsumeCredits({Batch("b", 1000, Min(-10), 1)}, a, fleet.timed_charges, {});
  EXPECT_NEAR(c.spent_usd, 60 + other, 1e-6);  // one definition of spend: the bill's net
  EXPECT_NEAR(c.batches[0].other_charges_usd, 0, 1e-6);
  EXPECT_NEAR(c.batches[0].categories[static_cast<int>(Category::kUnmonitored)], 54, 1e-6);
  EXPECT_NEAR(c.batches[0].spent_usd, 54, 1e-6);
}

// Issue 23 item 13: a batch used up within a day gets an hourly burn-down. $1 a minute from
// minute 0: A ($30) pays minutes 0–30, B ($60) minutes 30–90: $30 in hour 0, $30 in hour 1.
TEST(Credits, ABatchUsedUpWithinADayBurnsDownByTheHour) {
  Fleet fleet;
  AddMachine(&fleet, "m1", 1, 0, 6 * 60, "asha");
  const AuditResult a = Audit(fleet);
  const CreditsResult c =
      ConsumeCredits({Batch("A", 30, Min(-10), 1), Batch("B", 60, Min(-5), 2)}, a, {}, {});
  ASSERT_EQ(c.batches.size(), 2u);
  const auto& hours = c.batches[1].hourly_teams;
  ASSERT_EQ(hours.size(), 2u);
  const int64_t hour0 = Min(0) / kMsPerHour;
  EXPECT_NEAR(hours.at(hour0).at(kNoTeam), 30, 1e-6);
  EXPECT_NEAR(hours.at(hour0 + 1).at(kNoTeam), 30, 1e-6);
  double sum = 0;
  for (const auto& [hour, teams] : c.batches[0].hourly_teams) sum += teams.at(kNoTeam);
  EXPECT_NEAR(sum, 30, 1e-6);
}

TEST(Credits, UseAgainstBudgetsCountsTheMonthOfTheAuditsEnd) {
  Fleet fleet;
  Machine& m = AddMachine(&fleet, "m1", 1, 0, 60, "asha");
  m.billing[0].team = "vision";
  const AuditResult a = Audit(fleet);
  auto budgets = Budgets::Parse(
      "period = \"month\"\n[budgets]\nvision = 100\n\"owner:asha\" = 50\n", "b.toml");
  ASSERT_TRUE(budgets) << budgets.error().ToString();
  const std::vector<BudgetUse> use = UseAgainstBudgets(*budgets, a);
  ASSERT_EQ(use.size(), 2u);
  EXPECT_NEAR(use[0].used_usd, 60, 1e-9);
  EXPECT_EQ(use[0].level, 50);
  EXPECT_EQ(use[1].level, 100);  // asha: $60 of $50
  EXPECT_EQ(use[0].period.Label(), "2025-01");
  EXPECT_FALSE(Budgets::Parse("[budgets]\nvision = -1\n", "b.toml"));
  EXPECT_FALSE(Budgets::Parse("[budgets]\nvision = inf\n", "b.toml"));  // was a budget of "$0"
  EXPECT_FALSE(Budgets::Parse("[budgets]\nvision = nan\n", "b.toml"));
  EXPECT_FALSE(Budgets::Parse("period = \"week\"\n", "b.toml"));
}

}  // namespace
}  // namespace gpuledger::testing
