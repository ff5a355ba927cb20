// `gpuledger run` on real child processes, with GPUs replayed from recorded CSVs and a policy
// scaled down to seconds.
#include "guard/job_runner.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "http_test_server.h"
#include "notify/webhook.h"
#include "temp_dir.h"
#include "test_log.h"

namespace gpuledger {
namespace {

namespace fs = std::filesystem;

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = std::make_unique<testing::TempDir>("run");
    dir_ = tmp_->path();
    auto l = Ledger::Open((dir_ / "ledger.db").string());
    ASSERT_TRUE(l);
    ledger_ = std::move(*l);
  }

  // A one-GPU nvidia-smi log, one row a second for two minutes, at the given utilisation.
  std::string Replay(int util) {
    const std::string path = (dir_ / ("util" + std::to_string(util) + ".csv")).string();
    std::ofstream f(path);
    f << "timestamp, index, utilization.gpu [%]\n";
    for (int i = 0; i < 120; ++i) f << 1735689600 + i << ", 0, " << util << " %\n";
    return path;
  }

  RunOptions Options(std::vector<std::string> argv, int util) {
    RunOptions o;
    o.argv = std::move(argv);
    o.gpu_source = "replay:" + Replay(util);
    o.sample_every_ms = 100;
    o.kill_grace_ms = 1000;
    o.policy.setup_grace_ms = 2000;
    o.policy.idle_after_ms = 2000;
    o.policy.warn_before_ms = 1000;
    o.policy.max_gap_ms = 2000;
    o.job_id = "job";
    o.owner = "asha";
    return o;
  }

  std::string Log() const { return log_file_.Text(); }

  std::unique_ptr<testing::TempDir> tmp_;

  fs::path dir_;
  std::unique_ptr<Ledger> ledger_;
  testing::TestLog log_file_;
  std::FILE* log_ = log_file_.file();
};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

TEST_F(JobRunnerTest, ABusyJobRunsToTheEndAndMirrorsItsExitStatus) {
  auto r = RunJob(Options({"bash", "-c", "sleep 3; exit 7"}, 80), ledger_.get(), log_);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->exit_status, 7);
  EXPECT_FALSE(r->killed_by);
  EXPECT_TRUE(r->signals_sent.empty());
  auto jobs = ledger_->Jobs(kTimeMin);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].status, "failed");
  EXPECT_EQ(*(*jobs)[0].exit_code, 7);
  EXPECT_EQ((*jobs)[0].owner, "asha");
  EXPECT_GT((*jobs)[0].gpu_hours, 0);
}

TEST_F(JobRunnerTest, AnIdleJobThatIgnoresSigtermIsKilledWithEscalation) {
  const auto t0 = std::chrono::steady_clock::now();
  auto r =
      RunJob(Options({"bash", "-c", "trap '' TERM; echo ready; sleep 60"}, 0), ledger_.get(), log_);
  ASSERT_TRUE(r) << r.error().ToString();
  const double took = Seconds(t0);
  EXPECT_EQ(r->exit_status, kExitAutokilled);
  ASSERT_TRUE(r->killed_by);
  EXPECT_EQ(*r->killed_by, KillRule::kSetup);
  EXPECT_EQ(r->signals_sent, (std::vector<int>{SIGTERM, SIGKILL}));
  EXPECT_EQ(r->child->signal.value_or(0), SIGKILL);
  EXPECT_GE(took, 2.0 + 1.0);  // setup grace, then the kill grace (how long is for bench/)
  auto jobs = ledger_->Jobs(kTimeMin);
  EXPECT_EQ((*jobs)[0].status, "killed");
  EXPECT_EQ((*jobs)[0].killed_by, "setup");
  EXPECT_NE((*jobs)[0].output_tail.find("ready"), std::string::npos);
  auto ds = ledger_->Decisions(kTimeMin);
  ASSERT_EQ(ds->size(), 3u);  // newest first: release, kill, warn
  EXPECT_EQ((*ds)[2].kind, "warn");
  EXPECT_EQ((*ds)[1].kind, "kill");
  EXPECT_EQ((*ds)[1].rule, "setup");
  EXPECT_EQ((*ds)[0].rule, "exit");
  EXPECT_LT((*ds)[2].at, (*ds)[1].at);
  // By the job's own clock: killed once the setup grace was over, released after the SIGKILL
  // that followed the kill grace.
  EXPECT_GE((*ds)[1].at - (*jobs)[0].start, 2000);
  EXPECT_GE((*ds)[0].at - (*ds)[1].at, 1000);
}

TEST_F(JobRunnerTest, AJobThatCrashesAtSetupHasItsLeftoverChildKilled) {
  auto r = RunJob(Options({"bash", "-c", "sleep 300 & echo crashed >&2; exit 3"}, 0), ledger_.get(),
                  log_);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->exit_status, 3);
  EXPECT_FALSE(r->killed_by);
  EXPECT_EQ(r->leftovers_killed, 1);
  auto ds = ledger_->Decisions(kTimeMin);
  ASSERT_FALSE(ds->empty());
  EXPECT_EQ((*ds)[0].kind, "release");
  // Released at its exit, not after any grace: no kill decision, and the release is the end.
  EXPECT_EQ(ds->size(), 1u);
  EXPECT_EQ((*ds)[0].at, *(*ledger_->Jobs(kTimeMin))[0].end);
  EXPECT_NE((*ds)[0].explanation.find("1 leftover process"), std::string::npos);
  EXPECT_EQ((*ledger_->Jobs(kTimeMin))[0].output_tail, "crashed");
}

TEST_F(JobRunnerTest, ASignalEndingTheCommandGives128PlusIt) {
  auto r = RunJob(Options({"bash", "-c", "kill -KILL $$"}, 80), ledger_.get(), log_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_status, 128 + SIGKILL);
}

TEST_F(JobRunnerTest, AFatalOutputLineKillsAtOnce) {
  RunOptions o = Options({"bash", "-c", "echo 'CUDA out of memory. Tried'; sleep 60"}, 80);
  o.policy.fatal_patterns = {"CUDA out of memory"};
  auto r = RunJob(o, ledger_.get(), log_);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->killed_by, KillRule::kFatalOutput);
  EXPECT_EQ(r->signals_sent, (std::vector<int>{SIGTERM}));  // sleep dies on SIGTERM
  // At once: the kill's instant is the line's, not the end of a grace period.
  auto ds = ledger_->Decisions(kTimeMin);
  ASSERT_GE(ds->size(), 2u);  // newest first: release, kill
  EXPECT_EQ((*ds)[1].rule, "fatal_output");
  EXPECT_LT((*ds)[1].at - (*ledger_->Jobs(kTimeMin))[0].start, o.policy.setup_grace_ms);
}

TEST_F(JobRunnerTest, DryRunDecidesButNeverKills) {
  RunOptions o = Options({"bash", "-c", "sleep 4"}, 0);
  o.dry_run = true;
  auto r = RunJob(o, ledger_.get(), log_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_status, 0);
  EXPECT_FALSE(r->killed_by);
  EXPECT_NE(Log().find("[dry run: not killed]"), std::string::npos);
}

TEST_F(JobRunnerTest, ExemptJobsAreNotKilled) {
  RunOptions o = Options({"bash", "-c", "sleep 4"}, 0);
  o.policy.exempt.owners = {"asha"};
  o.policy.exempt.granted_by = "platform";
  auto r = RunJob(o, ledger_.get(), log_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_status, 0);
  auto ds = ledger_->Decisions(kTimeMin);
  ASSERT_EQ(ds->size(), 2u);
  EXPECT_EQ((*ds)[1].kind, "exempt");
  EXPECT_EQ((*ds)[1].granted_by, "platform");
}

TEST_F(JobRunnerTest, PreflightFailsFastAndStartsNothing) {
  RunOptions o = Options({"bash", "-c", "touch " + (dir_ / "ran").string()}, 80);
  o.preflight_command = "exit 4";
  auto r = RunJob(o, ledger_.get(), log_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("exit 4"), std::string::npos);
  o.preflight_command.clear();
  o.output_dir = "/proc/gpuledger-cannot-write";
  EXPECT_FALSE(RunJob(o, ledger_.get(), log_));
  o.output_dir.clear();
  o.gpu_source = "none";
  o.require_gpu = true;
  EXPECT_FALSE(RunJob(o, ledger_.get(), log_));
  EXPECT_FALSE(fs::exists(dir_ / "ran"));
  EXPECT_TRUE(ledger_->Jobs(kTimeMin)->empty());
}

TEST_F(JobRunnerTest, NoGpuStillRunsTheJob) {
  RunOptions o = Options({"bash", "-c", "exit 0"}, 80);
  o.gpu_source = "none";
  auto r = RunJob(o, ledger_.get(), log_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_status, 0);
  EXPECT_NE(Log().find("no GPU visible"), std::string::npos);
}

TEST_F(JobRunnerTest, WarningsAndKillsArePostedToTheWebhook) {
  std::vector<std::string> bodies;
  testing::HttpTestServer server([&](const testing::TestRequest& r) -> testing::TestResponse {
    bodies.push_back(r.target + " " + r.body);
    return {200, {}, ""};
  });
  RunOptions o = Options({"bash", "-c", "sleep 60"}, 0);
  o.webhook_url = server.url() + "/hook";
  auto r = RunJob(o, ledger_.get(), log_);
  ASSERT_TRUE(r);
  ASSERT_EQ(bodies.size(), 2u) << Log();
  EXPECT_NE(bodies[0].find("/hook"), std::string::npos);
  EXPECT_NE(bodies[0].find("\"kind\":\"warn\""), std::string::npos) << bodies[0];
  EXPECT_NE(bodies[1].find("\"kind\":\"kill\""), std::string::npos) << bodies[1];
  EXPECT_NE(bodies[1].find("\"rule\":\"setup\""), std::string::npos);
}

TEST(Webhook, OnlyA2xxIsDelivered) {
  // A redirect's body never reaches its target: it counts as a failure (and `budgets check`
  // then releases its claim, so the alert goes out next time).
  for (const auto& [status, delivered] : std::vector<std::pair<int, bool>>{
           {200, true}, {204, true}, {302, false}, {301, false}, {404, false}, {500, false}}) {
    testing::HttpTestServer server([&](const testing::TestRequest&) -> testing::TestResponse {
      return {status, {{"Location", "http://127.0.0.1:1/elsewhere"}}, ""};
    });
    std::FILE* log = std::tmpfile();
    EXPECT_EQ(PostWebhook(server.url() + "/hook", "{}", log, "test"), delivered) << status;
    std::fclose(log);
  }
}

TEST_F(JobRunnerTest, TheReleaseCommandRunsWhenTheJobEnds) {
  RunOptions o = Options({"bash", "-c", "exit 0"}, 80);
  o.release_command = "touch " + (dir_ / "released").string();
  ASSERT_TRUE(RunJob(o, ledger_.get(), log_));
  EXPECT_TRUE(fs::exists(dir_ / "released"));
  EXPECT_EQ(ledger_->Decisions(kTimeMin)->at(0).rule, "machine");
  fs::remove(dir_ / "released");
  o.dry_run = true;
  ASSERT_TRUE(RunJob(o, ledger_.get(), log_));
  EXPECT_FALSE(fs::exists(dir_ / "released"));
}

TEST_F(JobRunnerTest, ACommandThatCannotRunExits127) {
  auto r = RunJob(Options({"/no/such/program"}, 80), ledger_.get(), log_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_status, 127);
}

TEST_F(JobRunnerTest, AReplayIsJudgedOnItsRecordingsClock) {
  // Ten recorded minutes at 0 %, played 60x: the 5-minute setup rule fires after about five
  // seconds of wall time, as it would have on the recorded day.
  const std::string path = (dir_ / "idle-10min.csv").string();
  {
    std::ofstream f(path);
    f << "timestamp, index, utilization.gpu [%]\n";
    for (int i = 0; i < 600; ++i) f << 1735689600 + i << ", 0, 0 %\n";
  }
  RunOptions o = Options({"sleep", "60"}, 0);
  o.gpu_source = "replay:" + path + "@60";
  o.policy.setup_grace_ms = 5 * kMsPerMinute;
  o.policy.idle_after_ms = 30 * kMsPerMinute;
  o.policy.warn_before_ms = kMsPerMinute;
  o.policy.max_gap_ms = 5 * kMsPerMinute;
  const auto started = std::chrono::steady_clock::now();
  auto r = RunJob(o, ledger_.get(), log_);
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_TRUE(r->killed_by) << Log();
  EXPECT_EQ(*r->killed_by, KillRule::kSetup);
  EXPECT_LT(Seconds(started), 20);
  EXPECT_GT(Seconds(started), 3);
}

}  // namespace
}  // namespace gpuledger
