#include "ledger/ledger.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "ledger/ledger_sql.h"
#include "temp_dir.h"

namespace gpuledger {
namespace {

// The ledger suite runs against both stores: SQLite always, PostgreSQL when
// GPULEDGER_TEST_POSTGRES names a server (postgresql://user@127.0.0.1:PORT, no database; the
// user may create databases). tests/postgres_test.sh starts one and runs this suite on it.
const char* PostgresServer() {
  const char* url = std::getenv("GPULEDGER_TEST_POSTGRES");
  return url && *url ? url : nullptr;
}

// Runs "sql" on the database "location" names, outside the ledger (a test's hand on it).
void RawSql(const std::string& location, const std::string& sql) {
  if (IsPostgresLocation(location)) {
    PGconn* c = PQconnectdb(location.c_str());
    ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);  // DROP … IF EXISTS says so
    PGresult* r = PQexec(c, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(c) << sql;
    PQclear(r);
    PQfinish(c);
    return;
  }
  std::filesystem::create_directories(std::filesystem::path(location).parent_path());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(location.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
      << (message ? message : "") << sql;
  sqlite3_free(message);
  sqlite3_close(db);
}

class LedgerStore : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql" && !PostgresServer()) {
      GTEST_SKIP() << "GPULEDGER_TEST_POSTGRES is not set (tests/postgres_test.sh sets it)";
    }
  }

  // A location no ledger has used yet: a file in a new folder, or a new database.
  std::string Fresh(const std::string& name) const {
    if (GetParam() == "sqlite") {
      dirs_.push_back(std::make_unique<testing::TempDir>("ledger_" + name));
      return (dirs_.back()->path() / "sub" / "ledger.db").string();
    }
    const std::string server = PostgresServer();
    const std::string db = "gl_" + name;
    RawSql(server + "/postgres", "DROP DATABASE IF EXISTS " + db);
    RawSql(server + "/postgres", "CREATE DATABASE " + db);
    return server + "/" + db;
  }
  mutable std::vector<std::unique_ptr<testing::TempDir>> dirs_;  // Fresh()'s folders

  void SetVersion(const std::string& location, int version) const {
    RawSql(location, GetParam() == "sqlite"
                         ? "PRAGMA user_version = " + std::to_string(version)
                         : "UPDATE gpuledger_schema SET version = " + std::to_string(version));
  }
};

INSTANTIATE_TEST_SUITE_P(Stores, LedgerStore, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

TEST_P(LedgerStore, CreatesAndMigratesToTheCurrentSchema) {
  auto l = Ledger::Open(Fresh("migrate"));
  ASSERT_TRUE(l) << l.error().ToString();
  EXPECT_EQ((*l)->SchemaVersion(), Ledger::kSchemaVersion);
}

TEST_P(LedgerStore, ReadingNeverCreatesALedger) {
  const std::string location = Fresh("read_only");
  auto l = Ledger::OpenExisting(location);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().where, RedactedLocation(location));
  ASSERT_TRUE(Ledger::Open(location));
  EXPECT_TRUE(Ledger::OpenExisting(location));
}

TEST_P(LedgerStore, RefusesANewerSchemaAndLeavesItAlone) {
  const std::string location = Fresh("newer");
  ASSERT_TRUE(Ledger::Open(location));
  SetVersion(location, 99);
  auto l = Ledger::Open(location);
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().message.find("newer"), std::string::npos) << l.error().message;
  EXPECT_FALSE(Ledger::OpenExisting(location));
}

TEST_P(LedgerStore, MigratesAnOlderLedgerAndDropsDecisionsWrittenTwice) {
  const std::string location = Fresh("old");
  const auto dialect =
      GetParam() == "sqlite" ? ledger_sql::Dialect::kSqlite : ledger_sql::Dialect::kPostgres;
  std::string v3;
  for (int v = 0; v < 3; ++v) v3 += ledger_sql::Migration(v, dialect);
  v3 += GetParam() == "sqlite" ? "PRAGMA user_version = 3;"
                               : "CREATE TABLE gpuledger_schema (version INTEGER NOT NULL);"
                                 "INSERT INTO gpuledger_schema VALUES (3);";
  // A retry by an older gpuledger wrote one decision twice.
  for (int k = 0; k < 2; ++k) {
    v3 +=
        "INSERT INTO decisions (job_id, at_ms, kind, rule, explanation, gpu_hours_used, "
        "gpu_hours_saved, usd_saved, granted_by) VALUES ('a', 5, 'kill', 'idle', 'x', 1, 0, 0, "
        "'');";
  }
  v3 +=
      "INSERT INTO jobs (job_id, owner, labels, command, host, gpus, start_ms, status, "
      "killed_by, gpu_hours, cost_usd, repo, commit_sha, pr, dirty, output_tail) VALUES "
      "('a', 'asha', '', 'train', 'h', '', 1, 'killed', 'idle', 1, 2, '', '', '', 0, '');";
  RawSql(location, v3);
  auto l = Ledger::Open(location);
  ASSERT_TRUE(l) << l.error().ToString();
  EXPECT_EQ((*l)->SchemaVersion(), Ledger::kSchemaVersion);
  EXPECT_EQ((*l)->Decisions(kTimeMin)->size(), 1u);
  auto jobs = (*l)->Jobs(kTimeMin);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].owner, "asha");
  EXPECT_EQ((*jobs)[0].kind, "run");
  EXPECT_FALSE((*jobs)[0].heartbeat);
}

TEST_P(LedgerStore, ProcessesCreatingOneNewLedgerAtOnceAllSucceed) {
  const std::string location = Fresh("race");
  std::vector<pid_t> children;
  for (int i = 0; i < 16; ++i) {
    const pid_t pid = fork();
    if (pid == 0) {
      auto l = Ledger::Open(location);
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
  auto l = Ledger::OpenExisting(location);
  ASSERT_TRUE(l);
  auto jobs = (*l)->Jobs(kTimeMin);
  ASSERT_TRUE(jobs);
  EXPECT_EQ(jobs->size(), 16u);
}

TEST_P(LedgerStore, JobsDecisionsOwnersAndExportRoundTrip) {
  const std::string location = Fresh("roundtrip");
  {
    auto l = Ledger::Open(location);
    ASSERT_TRUE(l);
    LedgerJob a;
    a.job_id = "a", a.owner = "asha", a.host = "gpu1", a.gpus = "0;1", a.start = 1000;
    a.status = "running";
    ASSERT_TRUE((*l)->PutJob(a));
    a.end = 3601000, a.status = "killed", a.exit_code = 137, a.killed_by = "setup";
    a.gpu_hours = 2, a.cost_usd = 5, a.commit = "abc", a.command = "python, \"train\".py";
    a.idle_gpu_hours = 0.1 + 0.2;  // not exact in binary: must come back bit for bit
    ASSERT_TRUE((*l)->PutJob(a));  // the same job, finished: replaced, not added
    LedgerJob b;
    b.job_id = "b", b.owner = "asha", b.start = 5000, b.status = "completed", b.end = 6000;
    b.exit_code = 0, b.gpu_hours = 1, b.cost_usd = 2.5, b.output_tail = "ünïcode\nline 2";
    ASSERT_TRUE((*l)->PutJob(b));
    ASSERT_TRUE((*l)->AddDecision({"a", 2000, "kill", "setup", "idle", 0.5, 0, 0, ""}));
  }
  auto l = Ledger::Open(location);  // reopened: nothing lost
  ASSERT_TRUE(l);
  auto jobs = (*l)->Jobs(kTimeMin);
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].job_id, "b");  // newest first
  EXPECT_EQ((*jobs)[0].output_tail, "ünïcode\nline 2");
  EXPECT_EQ((*jobs)[1].killed_by, "setup");
  EXPECT_EQ(*(*jobs)[1].exit_code, 137);
  EXPECT_EQ(*(*jobs)[1].idle_gpu_hours, 0.1 + 0.2);
  EXPECT_NEAR(static_cast<double>(*(*jobs)[1].heartbeat), static_cast<double>(WallNow()), 60e3);
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

TEST_P(LedgerStore, RetriedWritesNeverDuplicateAndNeverTakeAJobBack) {
  auto l = Ledger::Open(Fresh("idempotent"));
  ASSERT_TRUE(l);
  LedgerJob running;
  running.job_id = "j", running.start = 100, running.status = "running";
  LedgerJob done = running;
  done.status = "completed", done.end = 900, done.exit_code = 0;
  const LedgerDecision warn{"j", 500, "warn", "idle", "idle 30m", 1, 0, 0, ""};
  // A batch retried whole after a lost answer, then a late heartbeat of the same run.
  const std::vector<LedgerWrite> batch = {running, warn, done, warn};
  ASSERT_TRUE((*l)->Write(batch));
  ASSERT_TRUE((*l)->Write(batch));
  ASSERT_TRUE((*l)->PutJob(running));
  auto jobs = (*l)->Jobs(kTimeMin);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].status, "completed");
  EXPECT_EQ((*l)->Decisions(kTimeMin)->size(), 1u);
  // A new run under the same id (another start) does replace the finished one.
  LedgerJob again = running;
  again.start = 2000;
  ASSERT_TRUE((*l)->PutJob(again));
  EXPECT_EQ((*l)->Jobs(kTimeMin)->at(0).status, "running");
}

TEST_P(LedgerStore, ARunningRowWhoseWriterFellSilentIsNotRunning) {
  const std::string location = Fresh("silent");
  auto l = Ledger::Open(location);
  ASSERT_TRUE(l);
  LedgerJob run;
  run.job_id = "run-elsewhere", run.host = "another-host", run.runner_pid = 4242;
  run.start = 100, run.status = "running";
  LedgerJob workload = run;
  workload.job_id = "notebook", workload.kind = "jupyter", workload.runner_pid = 0;
  LedgerJob fresh = run;
  fresh.job_id = "run-fresh";
  ASSERT_TRUE((*l)->Write(std::vector<LedgerWrite>{run, workload, fresh}));
  const int64_t stale = WallNow() - kAbandonedAfterMs - 60'000;
  RawSql(location, "UPDATE jobs SET heartbeat_ms = " + std::to_string(stale) +
                       " WHERE job_id <> 'run-fresh'");
  std::map<std::string, std::string> status;
  auto jobs = (*l)->Jobs(kTimeMin);
  ASSERT_TRUE(jobs);
  for (const LedgerJob& j : *jobs) status[j.job_id] = j.status;
  EXPECT_EQ(status["run-elsewhere"], "abandoned");  // its host went quiet: the run died with it
  EXPECT_EQ(status["notebook"], "unknown");         // the guard went quiet: the notebook may live
  EXPECT_EQ(status["run-fresh"], "running");
}

// PostgreSQL rejected a command cut mid-character (and any NUL), and one rejected write held up
// every write queued behind it: every store now gets valid UTF-8 without NUL. (A batch is still
// one transaction: postgres_test.sh SIGKILLs writers mid-batch and finds none torn.)
TEST_P(LedgerStore, TextThatIsNotUtf8IsStoredAsValidUtf8) {
  auto l = Ledger::Open(Fresh("utf8"));
  ASSERT_TRUE(l);
  LedgerJob a;
  a.job_id = "a", a.status = "running", a.command = std::string("python tr\xC3") + '\0' + "x";
  const LedgerDecision bad{"a", 5, "warn", "idle", "not UTF-8: \xff\xfe", 0, 0, 0, ""};
  ASSERT_TRUE((*l)->Write(std::vector<LedgerWrite>{a, bad}));
  auto jobs = (*l)->Jobs(kTimeMin);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].command, "python tr\xEF\xBF\xBD\xEF\xBF\xBDx");  // the cut byte, the NUL
  auto decisions = (*l)->Decisions(kTimeMin);
  ASSERT_EQ(decisions->size(), 1u);
  EXPECT_EQ((*decisions)[0].explanation, "not UTF-8: \xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_P(LedgerStore, ABudgetAlertIsClaimedOncePerPeriodAndLevel) {
  auto l = Ledger::Open(Fresh("alerts"));
  ASSERT_TRUE(l);
  const LedgerAlert a{"team:vision", "2025-03", 80, 1000, "vision at 82 %"};
  EXPECT_TRUE(*(*l)->ClaimAlert(a));
  EXPECT_FALSE(*(*l)->ClaimAlert(a));  // a second check, or one running at the same time
  LedgerAlert next = a;
  next.period = "2025-04";
  EXPECT_TRUE(*(*l)->ClaimAlert(next));
  ASSERT_TRUE((*l)->ReleaseAlert(next));  // its webhook failed: the next check sends it
  EXPECT_TRUE(*(*l)->ClaimAlert(next));
  auto march = (*l)->Alerts("2025-03");
  ASSERT_TRUE(march);
  ASSERT_EQ(march->size(), 1u);
  EXPECT_EQ((*march)[0].detail, "vision at 82 %");
  EXPECT_EQ((*march)[0].level, 80);
}

TEST_P(LedgerStore, AKeepRequestIsRecordedOnceAndAnsweredOnce) {
  auto l = Ledger::Open(Fresh("keeps"));
  ASSERT_TRUE(l);
  LedgerKeepRequest r;
  r.id = "slack:v0=ab", r.host = "node-a", r.workload = "pg:42", r.duration_ms = 7'200'000;
  r.who = "asha", r.reason = "kept from Slack by asha", r.source = "slack", r.asked_at = 1000;
  r.reply_to = "https://hooks.slack.com/actions/T/1/x";
  EXPECT_TRUE(*(*l)->AskKeep(r));
  EXPECT_FALSE(*(*l)->AskKeep(r));  // the same click again: a replay
  LedgerKeepRequest other = r;
  other.id = "link:00ff", other.host = "node-b", other.admin = true, other.asked_at = 900;
  EXPECT_TRUE(*(*l)->AskKeep(other));
  auto pending = (*l)->PendingKeeps("node-a");
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1u);  // node-b's is not node-a's
  const LedgerKeepRequest& p = (*pending)[0];
  EXPECT_EQ(p.workload, "pg:42");
  EXPECT_EQ(p.duration_ms, 7'200'000);
  EXPECT_EQ(p.who, "asha");
  EXPECT_FALSE(p.admin);
  EXPECT_EQ(p.reply_to, r.reply_to);
  EXPECT_EQ(p.state, "pending");
  EXPECT_FALSE(p.answered_at);
  const LedgerWrite answers[] = {LedgerKeepAnswer{r.id, "kept", "pg:42 kept until 03:00", 2000},
                                 LedgerKeepAnswer{r.id, "refused", "late", 3000}};
  ASSERT_TRUE((*l)->Write(answers));  // a second answer (a retry, another guard) changes nothing
  EXPECT_TRUE((*l)->PendingKeeps("node-a")->empty());
  auto answered = (*l)->KeepRequestById(r.id);
  ASSERT_TRUE(answered && *answered);
  EXPECT_EQ((*answered)->state, "kept");
  EXPECT_EQ((*answered)->answer, "pg:42 kept until 03:00");
  EXPECT_EQ((*answered)->answered_at, 2000);
  EXPECT_TRUE((*(*l)->KeepRequestById("link:00ff"))->admin);
  EXPECT_FALSE(*(*l)->KeepRequestById("slack:v0=none"));
}

TEST(Ledger, UnopenablePathIsAClearError) {
  auto l = Ledger::Open("/proc/no/such/ledger.db");
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().where, "/proc/no/such/ledger.db");
}

TEST(Ledger, FileAndFolderAreOnlyTheOwners) {
  const testing::TempDir tmp("ledger_modes");
  const auto dir = tmp.path();
  const std::string path = (dir / "sub" / "ledger.db").string();
  ASSERT_TRUE(Ledger::Open(path));
  namespace fs = std::filesystem;
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(fs::path(path).parent_path()).permissions() & fs::perms::all,
            fs::perms::owner_all);
}

TEST(Ledger, AnUnreachableServerIsAClearErrorWithoutItsPassword) {
  auto l = Ledger::Open("postgresql://asha:s3cret@127.0.0.1:1/ledger?connect_timeout=2");
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().where, "postgresql://asha:***@127.0.0.1:1/ledger?connect_timeout=2");
  EXPECT_EQ(l.error().ToString().find("s3cret"), std::string::npos);
  EXPECT_EQ(RedactedLocation("postgres://h/db?password=x&sslmode=require"),
            "postgres://h/db?password=***&sslmode=require");
  EXPECT_EQ(RedactedLocation("postgresql://asha@h:5432/db"), "postgresql://asha@h:5432/db");
}

TEST(Ledger, EveryFormOfConnectionStringIsRedacted) {
  // key=value connection strings, quoted values, malformed URLs: the password never shows.
  EXPECT_EQ(RedactedLocation("host=db user=asha password=s3cret dbname=ledger"),
            "host=db user=asha password=*** dbname=ledger");
  EXPECT_EQ(RedactedLocation("host=db password='s3 cret' dbname=x"),
            "host=db password=*** dbname=x");
  EXPECT_EQ(RedactedLocation("postgresql://asha:s3cret@[::1:5432/db"),
            "postgresql://asha:***@[::1:5432/db");
  EXPECT_EQ(RedactedLocation("postgresql://asha:p@ss@h/db"), "postgresql://asha:***@h/db");
  EXPECT_EQ(PasswordsOf("postgresql://asha:s3cret@h/db?password=two"),
            (std::vector<std::string>{"s3cret", "two"}));
  // libpq's own message may echo what it was given: every password in it is redacted.
  EXPECT_EQ(RedactSecrets("invalid URI query parameter: \"s3cret\"", "postgresql://a:s3cret@h/db"),
            "invalid URI query parameter: \"***\"");
  auto bad = Ledger::Open("postgresql://asha:s3cret@127.0.0.1:1/db?bogus=s3cret");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.find("s3cret"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace gpuledger
