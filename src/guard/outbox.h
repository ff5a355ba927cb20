// The guard's ledger writes, which may be slow or fail, done on a thread of its own so that
// enforcement never waits for them (notifications have their own: notify/notifier.h).
// Queued writes go to the ledger in batches of up to kBatch, each one transaction. A ledger that
// cannot be opened or written keeps its writes queued, in order, and is tried again (every few
// seconds); every ledger write is idempotent (ledger.h), so a batch retried after a lost
// connection never duplicates a row.
//
// Nothing is lost: with a journal (UseJournal) every write is appended to it as it is queued and
// the journal is emptied whenever the queue is; after a crash or a stop during an outage the
// next guard reads it back and writes it (again: idempotent). A write the ledger itself rejects
// (it fails alone, twice, while the ledger opens fine) is quarantined — counted, logged once —
// so it never holds up the writes behind it.
#pragma once

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "core/error.h"
#include "ledger/ledger.h"
#include "ledger/over_budget.h"

namespace gpuledger {

// One ledger write as a line of JSON (the journal's format), and back.
std::string LedgerWriteJson(const LedgerWrite& write);
Result<LedgerWrite> ParseLedgerWriteJson(std::string_view line);

class Outbox {
 public:
  // "ledger" (a path or postgresql:// URL) empty: no ledger. Messages go to "log".
  Outbox(std::string ledger, std::FILE* log);
  ~Outbox();  // tries to write what is queued (for up to "drain_ms"), then stops
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Journals every write to "path" from now on, after queueing (in front, in order) what an
  // earlier guard left there. Returns how many writes it read back. kIo when it cannot be
  // opened; damaged lines are skipped and counted in *skipped.
  Result<size_t> UseJournal(const std::string& path, size_t* skipped = nullptr);

  void PutJob(LedgerJob job);
  void AddDecision(LedgerDecision decision);

  // Budgets past 100 % this month (Budget key → what the alert said), as last read from the
  // ledger: the thread re-reads them every kBudgetRefreshMs, so asking never waits on it.
  // Empty until the first read: BudgetsRead() says whether one has happened.
  OverBudgets OverBudget() const;
  bool BudgetsRead() const;
  static constexpr int64_t kBudgetRefreshMs = 60 * 1000;

  // Reads the pending keep requests for "host" from the ledger every kKeepPollMs from now on
  // (on the thread: asking never waits on the ledger). TakeKeepRequests hands each over once;
  // AnswerKeepRequest queues the guard's answer like any write (journaled, retried).
  void WatchKeepRequests(std::string host);
  std::vector<LedgerKeepRequest> TakeKeepRequests();
  void AnswerKeepRequest(LedgerKeepAnswer answer);
  static constexpr int64_t kKeepPollMs = 1000;

  struct Counts {
    size_t queued = 0;             // ledger writes not yet done
    uint64_t ledger_failures = 0;  // write or open attempts that failed
    uint64_t dropped = 0;          // writes dropped because kMaxQueued were waiting
    uint64_t quarantined = 0;      // writes the ledger rejected, set aside
  };
  Counts counts() const;  // as of now, read under one lock

  static constexpr size_t kMaxQueued = 1'000'000;  // then the oldest are dropped (and counted)
  static constexpr size_t kBatch = 500;            // writes per ledger transaction
  int drain_ms = 5000;

 private:
  enum class Written { kOk, kCannotOpen, kRejected };
  void LedgerLoop();
  Written WriteBatch(const std::vector<LedgerWrite>& batch);
  bool OpenLedger();
  void RefreshBudgets();                              // on the thread, without the lock
  void RefreshKeepRequests(const std::string& host);  // the same
  void Journal(const LedgerWrite& w);                 // with the lock held
  void Enqueue(LedgerWrite w);                        // with the lock held
  void Quarantine(const LedgerWrite& w, const std::string& why);

  const std::string ledger_path_;
  std::FILE* log_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<LedgerWrite> writes_;
  size_t in_flight_ = 0;  // taken from writes_ by the batch being written
  OverBudgets over_budget_;
  bool budgets_read_ = false;
  std::string keep_host_;                         // empty: keep requests are not read
  std::vector<LedgerKeepRequest> keep_requests_;  // read, not yet taken
  std::set<std::string> keep_handed_;             // ids read and still pending in the ledger
  std::string last_keep_error_;  // the thread's: a failure to read them, said once until it changes
  Counts counts_;                // all but queued, which is writes_ and in_flight_
  std::string last_error_;  // of the last rejected write: failing alone after it, it is set aside
  bool stopping_ = false;
  std::FILE* journal_ = nullptr;
  std::unique_ptr<Ledger> ledger_;  // the ledger thread's own
  std::thread thread_;
};

}  // namespace gpuledger
