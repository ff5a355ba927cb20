#include "sources/slurm_sacct.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

constexpr const char* kHeader =
    "JobID|User|Account|Partition|State|ExitCode|Start|End|NodeList|AllocTRES\n";

struct Read {
  std::vector<Job> jobs;
  SourceStats stats;
  Result<void> result;
};

Read Sacct(const std::string& body,
           KnownMachines known = {{"gpu01", 8}, {"gpu02", 8}, {"gpu07", 4}}) {
  Read r;
  r.result = ReadSacct(body, "sacct.txt", 0, TimeZone::Utc(), known, &r.jobs, &r.stats);
  return r;
}

uint64_t Count(const Problems& p, const std::string& reason) {
  auto it = p.entries().find(reason);
  return it == p.entries().end() ? 0 : it->second.count;
}

TEST(Sacct, HeaderMustNameTheColumns) {
  EXPECT_FALSE(Sacct("JobID|User\n1|a\n").result);
  EXPECT_FALSE(Sacct("").result);
}

TEST(Sacct, BadRowsAreRejectedByReason) {
  auto r =
      Sacct(std::string(kHeader) +
            "1|a|ml|gpu|COMPLETED|0:0|2025-01-01T10:00:00|2025-01-01T11:00:00|gpu01\n"  // fields
            "2|a|ml|gpu|EXPLODED|0:0|2025-01-01T10:00:00|2025-01-01T11:00:00|gpu01|gres/gpu=1\n"
            "3|a|ml|gpu|COMPLETED|0:0|yesterday|2025-01-01T11:00:00|gpu01|gres/gpu=1\n"
            "4|a|ml|gpu|COMPLETED|0:0|2025-01-01T10:00:00|2025-01-01T11:00:00|gpu[01-|gres/gpu=1\n"
            "5|a|ml|gpu|COMPLETED|0:0|2025-01-01T10:00:00|2025-01-01T11:00:00|cpu9|\n"
            "6|a|ml|gpu|PENDING|0:0|Unknown|Unknown|None assigned|\n"
            "6.batch|||gpu|COMPLETED|0:0|2025-01-01T10:00:00|2025-01-01T11:00:00|gpu01|\n");
  ASSERT_TRUE(r.result);
  EXPECT_TRUE(r.jobs.empty());
  for (const char* reason :
       {"field_count", "unknown_status", "bad_time", "bad_nodelist", "unknown_machine"}) {
    EXPECT_EQ(Count(r.stats.rejected, reason), 1u) << reason;
  }
  EXPECT_EQ(r.stats.rejected.entries().at("unknown_status").Where(), "sacct.txt:3");
  EXPECT_EQ(Count(r.stats.notes, "not_started"), 1u);
  EXPECT_EQ(Count(r.stats.notes, "job_step_skipped"), 1u);
}

TEST(Sacct, CommentAndAdminCommentCarryTheRunsIdentity) {
  auto r = Sacct(
      "JobID|User|State|ExitCode|Start|End|NodeList|AllocTRES|Comment|AdminComment\n"
      "20|asha|COMPLETED|0:0|2025-01-01T10:00:00|2025-01-01T11:00:00|gpu07|gres/gpu=4|"
      "experiment=detector-v2 run=a1b2,pr=61 free text|repo=acme/det;experiment=ignored\n"
      "21|bo|COMPLETED|0:0|2025-01-01T10:00:00|2025-01-01T11:00:00|gpu07|gres/gpu=4|plain note|\n");
  ASSERT_TRUE(r.result) << r.result.error().ToString();
  ASSERT_EQ(r.jobs.size(), 2u);
  EXPECT_EQ(r.jobs[0].experiment, "detector-v2");  // Comment first, AdminComment fills the rest
  EXPECT_EQ(r.jobs[0].run, "a1b2");
  EXPECT_EQ(r.jobs[0].pr, "61");
  EXPECT_EQ(r.jobs[0].repo, "acme/det");
  EXPECT_TRUE(r.jobs[1].experiment.empty() && r.jobs[1].run.empty());
}

TEST(Sacct, NodeListsAndGpuCounts) {
  EXPECT_EQ(ExpandNodeList("gpu[01-04,07]"),
            (std::vector<std::string>{"gpu01", "gpu02", "gpu03", "gpu04", "gpu07"}));
  EXPECT_EQ(ExpandNodeList("a[1-2],b5,c[9]"), (std::vector<std::string>{"a1", "a2", "b5", "c9"}));
  EXPECT_TRUE(ExpandNodeList("gpu[3-1]").empty());
  EXPECT_EQ(TresGpuCount("billing=16,cpu=16,gres/gpu=8,mem=64G,node=2"), 8);
  EXPECT_EQ(TresGpuCount("cpu=8,gres/gpu:a100=4,mem=32G,node=1"), 4);
  EXPECT_EQ(TresGpuCount("cpu=8,gres/gpu=4,gres/gpu:a100=4"), 4);
  EXPECT_EQ(TresGpuCount("cpu=8,mem=1G"), 0);
}

TEST(Sacct, JobsOnSeveralNodesStatesAndRunningJobs) {
  auto r =
      Sacct(std::string(kHeader) +
            "10|asha|ml|gpu|COMPLETED|0:0|2025-01-01T10:00:00|2025-01-01T12:00:00|gpu[01-02]|"
            "billing=16,cpu=16,gres/gpu=16,mem=64G,node=2\n"
            "11|bo|ml|gpu|CANCELLED by 1001|0:15|2025-01-01T10:00:00|2025-01-01T10:30:00|gpu07|"
            "cpu=8,gres/gpu:a100=2,mem=32G,node=1\n"
            "12|bo|ml|gpu|RUNNING|0:0|2025-01-02T00:00:00|Unknown|gpu02|gres/gpu=8\n");
  ASSERT_TRUE(r.result) << r.result.error().ToString();
  ASSERT_EQ(r.jobs.size(), 4u);
  EXPECT_EQ(r.jobs[0].id, "10@gpu01");
  EXPECT_EQ(r.jobs[1].machine, "gpu02");
  EXPECT_TRUE(r.jobs[0].gpus.empty());  // 8 of 8 GPUs: all of them
  EXPECT_FALSE(r.jobs[0].failed);
  EXPECT_EQ(r.jobs[2].id, "11");
  EXPECT_TRUE(r.jobs[2].failed);
  EXPECT_EQ(r.jobs[2].gpus, (std::vector<int>{0, 1}));  // 2 of 4: assumed 0 and 1, and noted
  EXPECT_EQ(Count(r.stats.notes, "gpu_indices_assumed"), 1u);
  EXPECT_EQ(r.jobs[2].exit_code, "0:15");
  EXPECT_EQ(r.jobs[3].end, kTimeMax);
  EXPECT_EQ(FormatIsoUtc(r.jobs[3].start), "2025-01-02T00:00:00.000Z");
  EXPECT_EQ(r.stats.rows_accepted, 3u);
}

// Issue 23 item 8: gres/gpu=3 over gpu[01,03], whose nodes have 1 and 2 GPUs: Slurm fills
// gpu01 (1 GPU) then gpu03 (2), not 1 each. gres/gpu=3 over gpu[05,06] (2 and 4 GPUs): gpu05
// whole, gpu06 1 GPU (index assumed, noted). gres/gpu=1 over gpu[05,06]: gpu06 holds none.
TEST(Sacct, GpusFillEachNodeInNodeListOrder) {
  auto r = Sacct(std::string(kHeader) +
                     "20|a|ml|gpu|COMPLETED|0:0|2025-01-01T10:00:00|2025-01-01T11:00:00|gpu[01,03]|"
                     "cpu=4,gres/gpu=3,node=2\n"
                     "21|a|ml|gpu|COMPLETED|0:0|2025-01-01T10:00:00|2025-01-01T11:00:00|gpu[05-06]|"
                     "cpu=4,gres/gpu=3,node=2\n"
                     "22|a|ml|gpu|COMPLETED|0:0|2025-01-01T10:00:00|2025-01-01T11:00:00|gpu[05-06]|"
                     "cpu=4,gres/gpu=1,node=2\n",
                 {{"gpu01", 1}, {"gpu03", 2}, {"gpu05", 2}, {"gpu06", 4}});
  ASSERT_TRUE(r.result) << r.result.error().ToString();
  ASSERT_EQ(r.jobs.size(), 5u);
  EXPECT_EQ(r.jobs[0].id, "20@gpu01");
  EXPECT_TRUE(r.jobs[0].gpus.empty());  // its one GPU: all of them
  EXPECT_EQ(r.jobs[1].id, "20@gpu03");
  EXPECT_TRUE(r.jobs[1].gpus.empty());  // 2 of 2
  EXPECT_EQ(r.jobs[2].id, "21@gpu05");
  EXPECT_TRUE(r.jobs[2].gpus.empty());  // 2 of 2
  EXPECT_EQ(r.jobs[3].id, "21@gpu06");
  EXPECT_EQ(r.jobs[3].gpus, std::vector<int>{0});  // the third GPU
  EXPECT_EQ(r.jobs[4].id, "22@gpu05");
  EXPECT_EQ(r.jobs[4].gpus, std::vector<int>{0});
  EXPECT_EQ(Count(r.stats.notes, "gpu_indices_assumed"), 2u);
  EXPECT_EQ(r.stats.rows_accepted, 3u);
}

TEST(Sacct, ZoneLessTimesUseTheZone) {
  auto zone = TimeZone::Parse("+02:00");
  std::vector<Job> jobs;
  SourceStats stats;
  ASSERT_TRUE(ReadSacct(
      std::string(kHeader) +
          "1|a|ml|gpu|COMPLETED|0:0|2025-01-01T10:00:00|2025-01-01T11:00:00|gpu01|gres/gpu=8\n",
      "s", 0, *zone, {{"gpu01", 8}}, &jobs, &stats));
  EXPECT_EQ(FormatIsoUtc(jobs[0].start), "2025-01-01T08:00:00.000Z");
}

}  // namespace
}  // namespace gpuledger
