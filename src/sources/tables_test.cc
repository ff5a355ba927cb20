// Inventory and jobs CSV: malformed rows first, then the shapes that must be accepted.
#include <gtest/gtest.h>

#include "core/csv_table.h"
#include "sources/inventory_csv.h"
#include "sources/jobs_csv.h"

namespace gpuledger {
namespace {

uint64_t Count(const Problems& p, const std::string& reason) {
  auto it = p.entries().find(reason);
  return it == p.entries().end() ? 0 : it->second.count;
}

TEST(CsvTable, QuotesEscapesEmbeddedNewlinesAndBom) {
  CsvTable t(
      "\xEF\xBB\xBF"
      "a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\n\"multi\nline\",2\n");
  ASSERT_EQ(t.header().size(), 2u);
  EXPECT_EQ(t.header()[0], "a");
  std::vector<CsvRecord> rows;
  t.ForEachRecord([&](const CsvRecord& r) { rows.push_back(r); });
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].fields[0], "x, y");
  EXPECT_EQ(rows[0].fields[1], "say \"hi\"");
  EXPECT_EQ(rows[1].fields[0], "multi\nline");
  EXPECT_EQ(rows[1].line, 4u);
  // The record is reused: a shorter row after a longer one has only its own fields, and a
  // field after a quoted one starts empty.
  CsvTable u("a,b,c\n1,\"2\",3\nx\n,,\n");
  std::vector<std::vector<std::string>> got;
  u.ForEachRecord([&](const CsvRecord& r) { got.push_back(r.fields); });
  ASSERT_EQ(got.size(), 2u);  // ",," is blank
  EXPECT_EQ(got[0], (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(got[1], (std::vector<std::string>{"x"}));
}

TEST(Inventory, HeaderMustNameTheRequiredColumns) {
  Fleet fleet;
  SourceStats stats;
  auto r = ReadInventory("machine,gpu_count\nm,8\n", "inv.csv", 0, TimeZone::Utc(), &fleet, &stats);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().where, "inv.csv:1");
}

TEST(Inventory, BadRowsAreRejectedByReason) {
  Fleet fleet;
  SourceStats stats;
  auto r = ReadInventory(
      "machine,gpu_count,gpu_model,hourly_usd,owner,team,project,start,end\n"
      ",8,H100,98,a,t,p,2025-01-01,\n"              // missing_machine
      "m1,zero,H100,98,a,t,p,2025-01-01,\n"         // bad_gpu_count
      "m2,8,H100,cheap,a,t,p,2025-01-01,\n"         // bad_price
      "m3,8,H100,98,a,t,p,soon,\n"                  // bad_time
      "m4,8,H100,98,a,t,p,2025-02-01,2025-01-01\n"  // end_before_start
      "m5,8,H100,98,a,t,p\n"                        // field_count
      "m6,8,H100,98,a,t,p,2025-01-01,2025-02-01\n"
      "m6,4,H100,98,a,t,p,2025-03-01,2025-04-01\n"  // gpu_count_mismatch
      "m6,8,H100,98,a,t,p,2025-01-15,2025-03-01\n"  // overlapping_billing
      "m6,8,H100,$49.5,b,t,p,2025-02-01,\n",        // a second period, open-ended
      "inv.csv", 0, TimeZone::Utc(), &fleet, &stats);
  ASSERT_TRUE(r);
  for (const char* reason :
       {"missing_machine", "bad_gpu_count", "bad_price", "bad_time", "end_before_start",
        "field_count", "gpu_count_mismatch", "overlapping_billing"}) {
    EXPECT_EQ(Count(stats.rejected, reason), 1u) << reason;
  }
  EXPECT_EQ(stats.rejected.entries().at("bad_gpu_count").Where(), "inv.csv:3");
  ASSERT_EQ(fleet.machines.size(), 1u);
  const Machine& m = fleet.machines[0];
  ASSERT_EQ(m.billing.size(), 2u);
  EXPECT_EQ(m.billing[1].hourly_usd, 49.5);
  EXPECT_EQ(m.billing[1].end, kTimeMax);
  EXPECT_EQ(m.billing[1].owner, "b");
  EXPECT_EQ(stats.rows_read, 10u);
  EXPECT_EQ(stats.rows_accepted, 2u);
}

TEST(Jobs, InteractiveWorkByColumnOrByTheLedgersKind) {
  KnownMachines known = {{"m", 4}};
  std::vector<Job> jobs;
  SourceStats stats;
  auto r = ReadJobs(
      "job_id,machine,start,status,interactive,kind\n"
      "j1,m,2025-01-01,completed,true,\n"
      "j2,m,2025-01-01,completed,,jupyter\n"
      "j3,m,2025-01-01,completed,no,pg\n"
      "j4,m,2025-01-01,completed,maybe,\n",
      "jobs.csv", 0, TimeZone::Utc(), known, &jobs, &stats);
  ASSERT_TRUE(r);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_TRUE(jobs[0].interactive);
  EXPECT_TRUE(jobs[1].interactive);
  EXPECT_FALSE(jobs[2].interactive);
  EXPECT_EQ(Count(stats.rejected, "bad_interactive"), 1u);
}

TEST(Jobs, BadRowsAreRejectedByReason) {
  KnownMachines known = {{"m", 4}, {"t", 0}};
  std::vector<Job> jobs;
  SourceStats stats;
  auto r = ReadJobs(
      "job_id,machine,gpus,owner,start,end,status,exit_code,repo,commit,pr\n"
      "j1,ghost,,a,2025-01-01,,running,,,,\n"           // unknown_machine
      "j2,m,0;x,a,2025-01-01,,running,,,,\n"            // bad_gpus
      "j3,m,0;4,a,2025-01-01,,running,,,,\n"            // unknown_gpu
      "j4,m,,a,,2025-01-02,completed,0,,,\n"            // bad_time (no start)
      "j5,m,,a,2025-01-02,2025-01-01,completed,0,,,\n"  // end_before_start
      "j6,m,,a,2025-01-01,2025-01-02,exploded,,,,\n"    // unknown_status
      "j7,m,,a,2025-01-01\n"                            // field_count
      "j8,m,1;3,a,2025-01-01,2025-01-02,CANCELLED by 123,,r,c,7\n"
      "j8,t,7,b,2025-01-01,,,,,,\n",  // duplicate id, missing status
      "jobs.csv", 3, TimeZone::Utc(), known, &jobs, &stats);
  ASSERT_TRUE(r);
  for (const char* reason : {"unknown_machine", "bad_gpus", "unknown_gpu", "bad_time",
                             "end_before_start", "unknown_status", "field_count"}) {
    EXPECT_EQ(Count(stats.rejected, reason), 1u) << reason;
  }
  EXPECT_EQ(Count(stats.notes, "duplicate_job_id"), 1u);
  EXPECT_EQ(Count(stats.notes, "missing_status"), 1u);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_TRUE(jobs[0].failed);
  EXPECT_EQ(jobs[0].gpus, (std::vector<int>{1, 3}));
  EXPECT_EQ(jobs[0].pr, "7");
  EXPECT_FALSE(jobs[1].failed);
  EXPECT_EQ(jobs[1].end, kTimeMax);
  EXPECT_EQ(jobs[1].gpus, (std::vector<int>{7}));  // GPU count of "t" not known yet
}

TEST(JobStatus, KnownStatusesOnly) {
  bool failed = false;
  EXPECT_TRUE(ClassifyJobStatus("COMPLETED", &failed));
  EXPECT_FALSE(failed);
  EXPECT_TRUE(ClassifyJobStatus("timed out", &failed));
  EXPECT_TRUE(failed);
  EXPECT_TRUE(ClassifyJobStatus("NODE_FAIL", &failed));
  EXPECT_TRUE(failed);
  EXPECT_TRUE(ClassifyJobStatus("REQUEUED", &failed));
  EXPECT_TRUE(failed);
  EXPECT_FALSE(ClassifyJobStatus("maybe", &failed));
}

}  // namespace
}  // namespace gpuledger
