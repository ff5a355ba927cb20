// The report's figures (normalisation, weeks, heatmap, tables) and its self-contained page.
#include <gtest/gtest.h>

#include "audit_harness.h"
#include "report/audit_text.h"
#include "report/report_assets.h"
#include "report/report_data.h"
#include "report/report_html.h"
#include "report/report_json.h"
#include "report/report_markdown.h"

namespace gpuledger::testing {
namespace {

// Two machines around the midnight kT0 (one dollar a GPU-minute): "busy" runs a failed job and
// a completed one; "</script><b>x" is never used, and its name tries to break out of the page.
struct Case {
  Fleet fleet;
  AuditResult audit;

  Case() {
    AddMachine(&fleet, "busy", 1, -60, 60, "ann");
    AddMachine(&fleet, "</script><b>x", 1, 0, 60);
    AddJob(&fleet, "busy", -30, 0, "failed", {}, "bob");
    AddJob(&fleet, "busy", 0, 30, "completed", {}, "carl");
    std::vector<Row> busy, idle;
    for (int minute = -60; minute < 60; minute += 5) {
      if (minute < -40 || minute >= -20)
        busy.push_back({0, double(minute), minute < 30 ? "80 %" : "0 %"});
      if (minute >= 0) idle.push_back({0, double(minute), "1 %"});
    }
    AuditOptions options;
    options.breakdown = true;
    audit = RunOn(
        fleet,
        {SourceFromText("busy", SmiText(busy)), SourceFromText("</script><b>x", SmiText(idle))},
        options);
  }
};

TEST(Report, NormalisesToTheBudget) {
  Case c;
  ASSERT_DOUBLE_EQ(c.audit.totals.Total().usd, 180);  // 120 + 60 GPU-minutes
  const Report r = BuildReport(c.audit, 1800, nullptr, nullptr);
  EXPECT_DOUBLE_EQ(r.Scale(), 10);
  const PracticeRow& never = r.practices[static_cast<int>(Category::kNeverUsed)];
  EXPECT_DOUBLE_EQ(never.spend.usd, 60);
  EXPECT_DOUBLE_EQ(*never.per_budget_usd, 600);
  EXPECT_DOUBLE_EQ(never.share, 60.0 / 180);
  // Below threshold: the idle machine's 60 and busy's last 30 minutes.
  EXPECT_EQ(r.headline[0],
            "$90.00 (50.0 %; $900 of every $1,800) paid for GPUs under 5 % utilisation.");
  EXPECT_EQ(r.headline[1],
            "1 of 2 machines never ran a workload: $60.00 (33.3 %; $600 of every $1,800).");
  // busy: [-40, -20) has no sample; its last 10 minutes are the failed job's.
  bool unmonitored = false;
  for (const std::string& s : r.headline) {
    unmonitored |= s.find(
                       "$10.00 (5.6 %; $100 of every $1,800) paid for GPU time no telemetry "
                       "covers") != std::string::npos;
  }
  EXPECT_TRUE(unmonitored);
}

TEST(Report, RealDollarsWithoutABudgetAndNoClaimsWithoutJobs) {
  Case c;
  const Report r = BuildReport(c.audit, std::nullopt, nullptr, nullptr);
  EXPECT_EQ(r.headline[0], "$90.00 (50.0 %) paid for GPUs under 5 % utilisation.");
  for (const std::string& s : r.headline) EXPECT_EQ(s.find("of every"), std::string::npos) << s;
  EXPECT_FALSE(r.practices[0].per_budget_usd);
  EXPECT_TRUE(r.jobs_given);
  EXPECT_EQ(ReportToMarkdown(r).find("of every"), std::string::npos);

  // The same fleet without its job records: nothing about idle jobs, failed runs or false kills.
  Fleet fleet;
  AddMachine(&fleet, "m", 1, 0, 60);
  AuditOptions options;
  options.breakdown = true;
  const AuditResult a =
      RunOn(fleet, {SourceFromText("m", SmiText({{0, 0, "50 %"}, {0, 30, "0 %"}}))}, options);
  BacktestResult backtest;
  const Report no_jobs = BuildReport(a, std::nullopt, &backtest, nullptr);
  EXPECT_FALSE(no_jobs.jobs_given);
  std::string all;
  for (const std::string& s : no_jobs.headline) all += s + "\n";
  EXPECT_EQ(all.find("between jobs"), std::string::npos) << all;
  EXPECT_EQ(all.find("false kills"), std::string::npos) << all;
  EXPECT_NE(all.find("No job records were given"), std::string::npos) << all;
  EXPECT_NE(all.find("needs job records (--jobs)"), std::string::npos) << all;
  EXPECT_NE(all.find("Held idle (a GPU idle with its memory in use"), std::string::npos) << all;
  EXPECT_EQ(ReportToMarkdown(no_jobs).find("## Failed jobs"), std::string::npos);
}

TEST(Report, WeeksHeatmapAndTables) {
  Case c;
  const Report r = BuildReport(c.audit, 1e6, nullptr, nullptr);
  ASSERT_EQ(r.weeks.size(), 1u);  // 2024-12-31 is a Tuesday, 2025-01-01 a Wednesday: one week
  EXPECT_EQ(FormatDay(r.weeks[0].first_day), "2024-12-30");
  double weeks = 0;
  for (const WeekRow& w : r.weeks) {
    for (double v : w.usd) weeks += v;
  }
  EXPECT_NEAR(weeks, 180, 1e-9);

  EXPECT_EQ(r.last_day - r.first_day, 1);
  ASSERT_EQ(r.heat.size(), 2u);
  EXPECT_TRUE(r.heat[0].machine->never_used);  // never-used rows first
  EXPECT_EQ(r.heat[0].cells[0], kHeatNotBilled);
  EXPECT_EQ(r.heat[0].cells[1], 0);
  const HeatRow& busy = r.heat[1];
  EXPECT_FLOAT_EQ(busy.cells[0], 100);              // before midnight every sample is 80 %
  EXPECT_FLOAT_EQ(busy.cells[1], 50);               // 30 of 60 minutes
  EXPECT_DOUBLE_EQ(busy.active_share, 70.0 / 100);  // 40 + 30 active of 40 + 60 monitored

  ASSERT_EQ(r.failed_jobs.size(), 1u);
  EXPECT_EQ(r.failed_jobs[0].job->owner, "bob");
  EXPECT_DOUBLE_EQ(r.failed_jobs[0].spend.usd, 30);
  ASSERT_EQ(r.never_used.size(), 1u);
  ASSERT_EQ(r.top_waste.size(), 2u);  // busy: 30 failed + 30 idle; the other: 60 never used
  EXPECT_DOUBLE_EQ(r.top_waste[0]->totals.Waste().usd, 60);
  EXPECT_DOUBLE_EQ(r.top_waste[1]->totals.Waste().usd, 60);
}

TEST(Report, DaysWithoutTelemetryAreNotIdle) {
  Fleet fleet;
  AddMachine(&fleet, "m", 1, -1440, 1440);
  AuditOptions options;
  options.breakdown = true;
  const AuditResult a =
      RunOn(fleet, {SourceFromText("m", SmiText({{0, 0, "50 %"}, {0, 5, "50 %"}}))}, options);
  const Report r = BuildReport(a, 1e6, nullptr, nullptr);
  ASSERT_EQ(r.heat.size(), 1u);
  EXPECT_EQ(r.heat[0].cells[0], kHeatNoTelemetry);
  EXPECT_EQ(r.heat[0].cells[1], 100);
  // Two samples (10 minutes) stand for a sliver of the second day: shaded by that coverage.
  EXPECT_FLOAT_EQ(r.heat[0].coverage[0], 0);
  EXPECT_FLOAT_EQ(r.heat[0].coverage[1], 0.007f);  // 10 of 1440 minutes
  // Issue 23 item 13: a partial last day, fully monitored, is shaded as the part of a day it is.
  Fleet partial;
  AddMachine(&partial, "m", 1, 0, 120);
  std::vector<Row> rows;
  for (int minute = 0; minute < 120; minute += 5) rows.push_back({0, double(minute), "50 %"});
  const AuditResult b = RunOn(partial, {SourceFromText("m", SmiText(rows))}, options);
  const Report pr = BuildReport(b, std::nullopt, nullptr, nullptr);
  ASSERT_EQ(pr.heat.size(), 1u);
  EXPECT_FLOAT_EQ(pr.heat[0].coverage[0], 0.083f);  // 120 of 1440 minutes
  // A two-day window is charted by day, not by week.
  EXPECT_EQ(r.period_days, 1);
  ASSERT_EQ(r.periods.size(), 2u);
  EXPECT_EQ(r.periods[1].first_day, DayOf(kT0));
}

// Issue 23 items 3, 9, 10: the headline and the table claim only what the telemetry shows.
// Three machines, one GPU each, $1 a GPU-minute, billed 00:00–01:00: $60 each.
TEST(Report, SaysOnlyWhatTheTelemetryShows) {
  Fleet fleet;
  AddMachine(&fleet, "a", 1, 0, 60);
  AddMachine(&fleet, "b", 1, 0, 60);
  AddMachine(&fleet, "c", 1, 0, 60);
  AuditOptions options;
  options.breakdown = true;
  auto has = [](const std::vector<std::string>& lines, std::string_view text) {
    for (const std::string& s : lines) {
      if (s.find(text) != std::string::npos) return true;
    }
    return false;
  };
  // A bill with no telemetry: utilisation unknown, never "$0.00 below 5 %" or "0 of 3 never ran".
  const AuditResult none = RunOn(fleet, {}, options);
  Report r = BuildReport(none, std::nullopt, nullptr, nullptr);
  EXPECT_EQ(r.headline[0],
            "The utilisation of all 3 machines ($180.00 (100.0 %)) is unknown: no telemetry was "
            "read. Add --telemetry FILE (nvidia-smi log, DCGM scrape, Prometheus export) or "
            "--prometheus URL.");
  EXPECT_FALSE(has(r.headline, "utilisation.")) << r.headline[0];
  EXPECT_FALSE(has(r.headline, "never ran"));
  std::string table = AuditToTable(none, 10);
  EXPECT_NE(table.find("unknown  (no telemetry: --telemetry FILE or --prometheus URL adds it)"),
            std::string::npos)
      << table;
  EXPECT_EQ(table.find("never used:"), std::string::npos) << table;

  // a: busy, sampled every 5 minutes; b: one scrape, idle; c: no telemetry.
  std::vector<Row> busy;
  for (int minute = 0; minute < 60; minute += 5) busy.push_back({0, double(minute), "80 %"});
  const AuditResult some = RunOn(
      fleet, {SourceFromText("a", SmiText(busy)), SourceFromText("b", SmiText({{0, 30, "0 %"}}))},
      options);
  r = BuildReport(some, std::nullopt, nullptr, nullptr);
  EXPECT_TRUE(has(r.headline,
                  "1 machine billed $60.00 (33.3 %) sent no telemetry: its utilisation is "
                  "unknown (--telemetry adds it)."));
  EXPECT_TRUE(has(r.headline,
                  "1 of the 2 machines that sent telemetry was idle in the one sample read (one "
                  "scrape cannot tell whether a machine ever ran a workload): $60.00 (33.3 %)."));
  EXPECT_FALSE(has(r.headline, "never ran a workload:"));
  table = AuditToTable(some, 10);
  EXPECT_NE(table.find("never used: 0 of 2 machines"), std::string::npos) << table;
  EXPECT_NE(table.find("idle in the one sample read: 1"), std::string::npos) << table;
  EXPECT_NE(table.find("sent no telemetry: 1 machines"), std::string::npos) << table;
  EXPECT_NE(table.find("no telemetry"), std::string::npos);
}

// Issue 23 item 13: the Markdown lists the machines its title says it lists.
TEST(Report, MarkdownListsTheTopMachinesItSaysItLists) {
  Case c;
  const Report r = BuildReport(c.audit, std::nullopt, nullptr, nullptr, /*top=*/1);
  const std::string md = ReportToMarkdown(r, 20);
  EXPECT_NE(md.find("## Most wasteful machines: the top 1 of 2\n"), std::string::npos) << md;
  EXPECT_NE(md.find("… and 1 more."), std::string::npos) << md;
  const std::string all = ReportToMarkdown(BuildReport(c.audit, std::nullopt, nullptr, nullptr));
  EXPECT_NE(all.find("## Most wasteful machines (2)\n"), std::string::npos) << all;
}

// Issue 23 item 13: weeks and days without spend are drawn, so the chart's axis is time. "a" is
// billed 2025-01-01 (a Wednesday, week of Mon 2024-12-30), "b" 2025-01-15 (week of 01-13):
// three weeks, the middle one empty; 15 days, 13 of them empty.
TEST(Report, WeeksAndDaysWithoutSpendAreDrawn) {
  Fleet fleet;
  AddMachine(&fleet, "a", 1, 0, 60);
  AddMachine(&fleet, "b", 1, 14 * 1440, 14 * 1440 + 60);
  AuditOptions options;
  options.breakdown = true;
  const AuditResult a = RunOn(fleet, {}, options);
  const Report r = BuildReport(a, std::nullopt, nullptr, nullptr);
  ASSERT_EQ(r.weeks.size(), 3u);
  EXPECT_EQ(r.weeks[0].first_day, DayOf(kT0) - 2);
  EXPECT_EQ(r.weeks[1].first_day, DayOf(kT0) + 5);
  double middle = 0;
  for (double usd : r.weeks[1].usd) middle += usd;
  EXPECT_EQ(middle, 0);
  ASSERT_EQ(r.period_days, 1);
  ASSERT_EQ(r.periods.size(), 15u);
  EXPECT_EQ(r.periods[7].first_day, DayOf(kT0) + 7);
}

TEST(Report, PageIsSelfContainedAndCannotBeBrokenOutOf) {
  Case c;
  const Report r = BuildReport(c.audit, 1e6, nullptr, nullptr);
  auto html = ReportToHtml(r);
  ASSERT_TRUE(html.has_value());
  EXPECT_EQ(EchartsJs().find("</script"), std::string_view::npos);
  EXPECT_GT(EchartsJs().size(), 500'000u);
  EXPECT_NE(html->find(EchartsJs().substr(0, 2000)), std::string::npos);
  EXPECT_EQ(html->find("<!--GPULEDGER:"), std::string::npos);
  EXPECT_EQ(html->find("</script><b>x"), std::string::npos);
  EXPECT_NE(html->find("<\\/script><b>x"), std::string::npos);
  EXPECT_EQ(html->find("src=\"http"), std::string::npos);
  const std::string json = ReportToJson(r);
  EXPECT_NE(json.find("\"schema\": \"gpuledger.report/1\""), std::string::npos);
  const std::string md = ReportToMarkdown(r);
  EXPECT_NE(md.find("| &lt;/script&gt;&lt;b&gt;x |"), std::string::npos) << md;
}

}  // namespace
}  // namespace gpuledger::testing
