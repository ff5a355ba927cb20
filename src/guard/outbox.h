// The guard's writes that may be slow or fail — the ledger and the webhook — done on their own
// thread, so enforcement never waits for them. Queued writes go to the ledger in batches of up
// to kBatch, each one transaction. A ledger that cannot be opened or written keeps its writes
// queued, in order, and is tried again (every few seconds); every ledger write is idempotent
// (ledger.h), so a batch retried after a lost connection never duplicates a row.
#pragma once

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>

#include "ledger/ledger.h"
#include "ledger/over_budget.h"

namespace gpuledger {

class Outbox {
 public:
  // "ledger" (a path or postgresql:// URL) empty: no ledger. "webhook_url" empty: no webhook.
  // Messages go to "log".
  Outbox(std::string ledger, std::string webhook_url, std::FILE* log);
  ~Outbox();  // tries to write what is queued (for up to "drain_ms"), then stops
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  void PutJob(LedgerJob job);
  void AddDecision(LedgerDecision decision);
  void Post(std::string json);  // to the webhook

  // Budgets past 100 % this month (Budget key → what the alert said), as last read from the
  // ledger: the thread re-reads them every kBudgetRefreshMs, so asking never waits on it.
  // Empty until the first read: BudgetsRead() says whether one has happened.
  OverBudgets OverBudget() const;
  bool BudgetsRead() const;
  static constexpr int64_t kBudgetRefreshMs = 60 * 1000;

  size_t queued() const;             // ledger writes not yet done
  uint64_t ledger_failures() const;  // write or open attempts that failed
  uint64_t webhook_failures() const;
  uint64_t dropped() const;  // writes dropped because kMaxQueued were waiting

  static constexpr size_t kMaxQueued = 1'000'000;  // then the oldest are dropped (and counted)
  static constexpr size_t kBatch = 500;            // writes per ledger transaction
  int drain_ms = 5000;

 private:
  void Loop();
  bool WriteBatch(const std::vector<LedgerWrite>& batch);
  bool OpenLedger();
  void RefreshBudgets();  // on the thread, without the lock

  const std::string ledger_path_, webhook_url_;
  std::FILE* log_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<LedgerWrite> writes_;
  size_t in_flight_ = 0;  // taken from writes_ by the batch being written
  OverBudgets over_budget_;
  bool budgets_read_ = false;
  std::deque<std::string> posts_;
  uint64_t ledger_failures_ = 0, webhook_failures_ = 0, dropped_ = 0;
  bool stopping_ = false;
  std::unique_ptr<Ledger> ledger_;  // the thread's own
  std::thread thread_;
};

}  // namespace gpuledger
