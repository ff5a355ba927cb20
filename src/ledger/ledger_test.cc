#include "ledger/ledger.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

namespace gpuledger {
namespace {

std::string TempLedger(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("gpuledger_ledger_" + name);
  std::filesystem::remove_all(dir);
  return (dir / "sub" / "ledger.db").string();
}

TEST(Ledger, UnopenablePathIsAClearError) {
  auto l = Ledger::Open("/proc/no/such/ledger.db");
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().where, "/proc/no/such/ledger.db");
}

TEST(Ledger, CreatesItsFolderAndMigratesToTheCurrentSchema) {
  auto l = Ledger::Open(TempLedger("migrate"));
  ASSERT_TRUE(l) << l.error().ToString();
  EXPECT_EQ((*l)->SchemaVersion(), Ledger::kSchemaVersion);
}

TEST(Ledger, ReadingNeverCreatesALedgerOrItsFolder) {
  const std::string path = TempLedger("read_only");
  auto l = Ledger::OpenExisting(path);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().where, path);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(path).parent_path()));
  ASSERT_TRUE(Ledger::Open(path));
  EXPECT_TRUE(Ledger::OpenExisting(path));
}

TEST(Ledger, FileAndFolderAreOnlyTheOwners) {
  const std::string path = TempLedger("modes");
  ASSERT_TRUE(Ledger::Open(path));
  namespace fs = std::filesystem;
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(fs::path(path).parent_path()).permissions() & fs::perms::all,
            fs::perms::owner_all);
}

TEST(Ledger, ProcessesCreatingOneNewLedgerAtOnceAllSucceed) {
  const std::string path = TempLedger("race");
  std::vector<pid_t> children;
  for (int i = 0; i < 16; ++i) {
    const pid_t pid = fork();
    if (pid == 0) {
      auto l = Ledger::Open(path);
      if (!l) {
        fprintf(stderr, "open: %s\n", l.error().ToString().c_str());
        _exit(1);
      }
      LedgerJob job;
      job.job_id = "j" + std::to_string(i);
      auto put = (*l)->PutJob(job);
      if (!put) fprintf(stderr, "put: %s\n", put.error().ToString().c_str());
      _exit(put ? 0 : 2);
    }
    children.push_back(pid);
  }
  int failures = 0;
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    failures += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(failures, 0);
  auto l = Ledger::OpenExisting(path);
  ASSERT_TRUE(l);
  auto jobs = (*l)->Jobs(kTimeMin);
  ASSERT_TRUE(jobs);
  EXPECT_EQ(jobs->size(), 16u);
}

TEST(Ledger, RefusesANewerSchema) {
  const std::string path = TempLedger("newer");
  {
    auto l = Ledger::Open(path);
    ASSERT_TRUE(l);
  }
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto l = Ledger::Open(path);
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().message.find("newer"), std::string::npos);
}

TEST(Ledger, JobsDecisionsOwnersAndExportRoundTrip) {
  const std::string path = TempLedger("roundtrip");
  {
    auto l = Ledger::Open(path);
    ASSERT_TRUE(l);
    LedgerJob a;
    a.job_id = "a", a.owner = "asha", a.host = "gpu1", a.gpus = "0;1", a.start = 1000;
    a.status = "running";
    ASSERT_TRUE((*l)->PutJob(a));
    a.end = 3601000, a.status = "killed", a.exit_code = 137, a.killed_by = "setup";
    a.gpu_hours = 2, a.cost_usd = 5, a.commit = "abc", a.command = "python, \"train\".py";
    ASSERT_TRUE((*l)->PutJob(a));  // the same job, finished: replaced, not added
    LedgerJob b;
    b.job_id = "b", b.owner = "asha", b.start = 5000, b.status = "completed", b.end = 6000;
    b.exit_code = 0, b.gpu_hours = 1, b.cost_usd = 2.5;
    ASSERT_TRUE((*l)->PutJob(b));
    ASSERT_TRUE((*l)->AddDecision({"a", 2000, "kill", "setup", "idle", 0.5, 0, 0, ""}));
  }
  auto l = Ledger::Open(path);  // reopened: nothing lost
  ASSERT_TRUE(l);
  auto jobs = (*l)->Jobs(kTimeMin);
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].job_id, "b");  // newest first
  EXPECT_EQ((*jobs)[1].killed_by, "setup");
  EXPECT_EQ(*(*jobs)[1].exit_code, 137);
  EXPECT_EQ((*(*l)->Jobs(4000)).size(), 1u);
  auto owners = (*l)->Owners(kTimeMin);
  ASSERT_EQ(owners->size(), 1u);
  EXPECT_EQ((*owners)[0].jobs, 2);
  EXPECT_EQ((*owners)[0].killed, 1);
  EXPECT_DOUBLE_EQ((*owners)[0].cost_usd, 7.5);
  EXPECT_EQ((*l)->Decisions(kTimeMin)->at(0).rule, "setup");
  const std::string csv = JobsToCsv(*jobs);
  EXPECT_NE(
      csv.find(
          "a,gpu1,0;1,asha,1970-01-01T00:00:01.000Z,1970-01-01T01:00:01.000Z,killed,137,,abc,"),
      std::string::npos)
      << csv;
}

}  // namespace
}  // namespace gpuledger
