// The outbox: ledger writes queued and journaled while the ledger is away, keep requests handed
// over once.
#include "guard/outbox.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "guard_test_util.h"

namespace gpuledger {
namespace {

namespace fs = std::filesystem;

TEST(Outbox, ALedgerThatCannotBeOpenedKeepsItsWritesQueuedUntilItCan) {
  const std::string dir = GuardTestDir("outbox");
  Write(dir + "/blocked", "a file where the ledger's folder should be");
  const std::string ledger = dir + "/blocked/ledger.db";
  std::FILE* log = std::tmpfile();
  {
    Outbox out(ledger, log);
    LedgerJob job;
    job.job_id = "node:pg:1:0", job.owner = "asha", job.status = "running", job.kind = "pg";
    out.PutJob(job);
    out.AddDecision({job.job_id, 5, "kill", "idle", "idle", 0.5, 0, 0, "", 3});
    job.status = "killed";
    out.PutJob(job);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(out.counts().queued, 3u);
    EXPECT_GE(out.counts().ledger_failures, 1u);
    fs::remove(dir + "/blocked");  // the ledger can be created now
    for (int i = 0; i < 100 && out.counts().queued > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(out.counts().queued, 0u);
  }
  std::fclose(log);
  auto l = Ledger::OpenExisting(ledger);
  ASSERT_TRUE(l);
  auto jobs = (*l)->Jobs(0);
  ASSERT_EQ(jobs->size(), 1u);  // written by id: one row, its last state
  EXPECT_EQ((*jobs)[0].status, "killed");
  EXPECT_EQ((*jobs)[0].kind, "pg");
  auto decisions = (*l)->Decisions(0);
  ASSERT_EQ(decisions->size(), 1u);
  EXPECT_DOUBLE_EQ((*decisions)[0].usd_per_hour_saved, 3);
}

TEST(Outbox, KeepRequestsAreHandedOverOnceAndTheirAnswersJournaled) {
  const std::string dir = GuardTestDir("outbox_keeps");
  const std::string ledger = dir + "/ledger.db";
  {
    auto l = Ledger::Open(ledger);
    ASSERT_TRUE(l);
    LedgerKeepRequest r;
    r.id = "link:01", r.host = "node-a", r.workload = "pg:7", r.duration_ms = 60'000;
    r.who = "asha", r.reason = "r", r.source = "email", r.asked_at = 1;
    ASSERT_TRUE(*(*l)->AskKeep(r));
    r.id = "link:02", r.host = "node-b";
    ASSERT_TRUE(*(*l)->AskKeep(r));
  }
  std::FILE* log = std::tmpfile();
  {
    Outbox out(ledger, log);
    ASSERT_TRUE(out.UseJournal(dir + "/outbox.jsonl"));
    out.WatchKeepRequests("node-a");
    std::vector<LedgerKeepRequest> got;
    for (int i = 0; i < 100 && got.empty(); ++i) {
      got = out.TakeKeepRequests();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(got.size(), 1u);  // node-a's only
    EXPECT_EQ(got[0].id, "link:01");
    // Still pending in the ledger: not handed over a second time.
    std::this_thread::sleep_for(std::chrono::milliseconds(2 * Outbox::kKeepPollMs + 200));
    EXPECT_TRUE(out.TakeKeepRequests().empty());
    out.AnswerKeepRequest({"link:01", "kept", "pg:7 kept until 10:00", 5});
    for (int i = 0; i < 100 && out.counts().queued > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::fclose(log);
  auto l = Ledger::OpenExisting(ledger);
  ASSERT_TRUE(l);
  EXPECT_EQ((*(*l)->KeepRequestById("link:01"))->state, "kept");
  EXPECT_EQ((*(*l)->KeepRequestById("link:02"))->state, "pending");
  // The journal's line for an answer reads back as the same answer.
  auto back = ParseLedgerWriteJson(
      LedgerWriteJson(LedgerKeepAnswer{"slack:v0=1", "refused", "no \"user\"\n", 9}));
  ASSERT_TRUE(back);
  const auto* a = std::get_if<LedgerKeepAnswer>(&*back);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->id, "slack:v0=1");
  EXPECT_EQ(a->state, "refused");
  EXPECT_EQ(a->answer, "no \"user\"\n");
  EXPECT_EQ(a->at, 9);
}

}  // namespace
}  // namespace gpuledger
