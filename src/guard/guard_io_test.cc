// The node guard's files and text: the state file across restarts, the /metrics text.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "guard/guard_metrics.h"
#include "guard/guard_state.h"
#include "guard_test_util.h"

namespace gpuledger {
namespace {

namespace fs = std::filesystem;

TEST(GuardState, RoundTripsAndIsDroppedAfterAReboot) {
  SavedWorkload s;
  s.id = "pg:42", s.processes = {{42, 9000}, {43, 9001}}, s.first_active = 1'790'000'000'000;
  s.warnings = 2, s.keep = KeepGrant{"pg:42", 1, 2, "asha", "demo \"at\" 3pm"};
  s.first_seen = 1'789'999'000'000, s.last_seen = 1'790'000'100'000;
  s.gpu_ms = 3'600'000.5, s.idle_gpu_ms = 1000, s.owner = "asha", s.uid = 1000;
  s.command = "python train.py", s.gpus = {0, 3};
  const std::string json = GuardStateJson({s}, "boot-a");
  auto back = ParseGuardState(json, "boot-a");
  ASSERT_TRUE(back) << back.error().ToString();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].processes, s.processes);
  EXPECT_EQ((*back)[0].first_active, s.first_active);
  EXPECT_EQ((*back)[0].warnings, 2);
  ASSERT_TRUE((*back)[0].keep);
  EXPECT_EQ((*back)[0].keep->reason, "demo \"at\" 3pm");
  // What its ledger row is resumed or closed from.
  EXPECT_EQ((*back)[0].first_seen, s.first_seen);
  EXPECT_EQ((*back)[0].last_seen, s.last_seen);
  EXPECT_NEAR((*back)[0].gpu_ms, 3'600'000.5, 1);
  EXPECT_EQ((*back)[0].idle_gpu_ms, 1000);
  EXPECT_EQ((*back)[0].owner, "asha");
  EXPECT_EQ((*back)[0].uid, 1000u);
  EXPECT_EQ((*back)[0].command, "python train.py");
  EXPECT_EQ((*back)[0].gpus, (std::set<int>{0, 3}));
  EXPECT_TRUE(ParseGuardState(json, "boot-b")->empty());
  EXPECT_FALSE(ParseGuardState("{\"boot_id\": ", "boot-a"));
  const std::string dir = GuardTestDir("state");
  std::string last;
  ASSERT_TRUE(SaveGuardState(dir + "/s.json", {s}, &last));
  const auto mtime = fs::last_write_time(dir + "/s.json");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(SaveGuardState(dir + "/s.json", {s}, &last));  // unchanged: not rewritten
  EXPECT_EQ(fs::last_write_time(dir + "/s.json"), mtime);
  auto loaded = LoadGuardState(dir + "/s.json");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->size(), 1u);
  EXPECT_TRUE(LoadGuardState(dir + "/none.json")->empty());
}

TEST(GuardMetrics, LabelValuesAreEscapedAndCountersExposed) {
  EXPECT_EQ(PromLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(PromLabelValue("bad\xff"), "bad\xEF\xBF\xBD");  // a scrape stays valid UTF-8
  Policy p;
  NodeGuard guard(p, 1);
  GpuSnapshot snap;
  snap.t = 1'790'000'000'500;
  snap.processes_listed = true;
  snap.gpus = {{0, 42, 1024.0}};
  snap.processes = {{0, 9, 512.0, std::nullopt}};
  WorkloadInfo info;
  info.name = {WorkloadKind::kProcessGroup, "pg:9"};
  info.owner = "we\"ird";
  guard.Observe(snap, {{&snap.processes[0], "pg:9"}}, {{"pg:9", info}});
  GuardCounters c;
  c.kills = 3;
  c.freed_gpus = 5;
  c.freed_memory_bytes = 3.0 * 1048576 * 1024;
  const std::string text = RenderGuardMetrics(guard, &snap, c, snap.t);
  EXPECT_NE(text.find("gpuledger_gpu_utilization_percent{gpu=\"0\"} 42\n"), std::string::npos);
  EXPECT_NE(
      text.find("gpuledger_workload_gpus{workload=\"pg:9\",kind=\"pg\",owner=\"we\\\"ird\"} 1"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("gpuledger_kills_total 3\n"), std::string::npos);
  EXPECT_NE(text.find("gpuledger_freed_gpus_total 5\n"), std::string::npos);
  EXPECT_NE(text.find("gpuledger_freed_memory_bytes_total 3221225472\n"), std::string::npos);
  EXPECT_NE(text.find("gpuledger_last_sample_timestamp_seconds 1790000000.500\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE gpuledger_kills_total counter"), std::string::npos);
}

}  // namespace
}  // namespace gpuledger
