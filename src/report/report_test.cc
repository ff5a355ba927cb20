// The report's figures (normalisation, weeks, heatmap, tables) and its self-contained page.
#include <gtest/gtest.h>

#include "audit_harness.h"
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
  EXPECT_DOUBLE_EQ(never.per_budget_usd, 600);
  EXPECT_DOUBLE_EQ(never.share, 60.0 / 180);
  // Below threshold: the idle machine's 60 and busy's last 30 minutes.
  EXPECT_EQ(r.headline[0], "Of every $1,800: $900 paid for GPUs under 5 % utilisation.");
  EXPECT_EQ(r.headline[1], "1 of 2 machines never ran a workload ($600 of every $1,800).");
  // busy: [-40, -20) has no sample; its last 10 minutes are the failed job's.
  EXPECT_NE(r.headline[3].find("$100 paid for GPU time no telemetry covers"), std::string::npos);
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
