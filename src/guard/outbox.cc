#include "guard/outbox.h"

#include <fmt/format.h>

#include <chrono>

#include "guard/webhook.h"

namespace gpuledger {

Outbox::Outbox(std::string ledger, std::string webhook_url, std::FILE* log)
    : ledger_path_(std::move(ledger)), webhook_url_(std::move(webhook_url)), log_(log) {
  thread_ = std::thread([this] { Loop(); });
}

Outbox::~Outbox() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Outbox::PutJob(LedgerJob job) {
  if (ledger_path_.empty()) return;
  std::lock_guard lock(mu_);
  // A newer state of a job still queued replaces it: one write per job is enough.
  for (auto it = writes_.rbegin(); it != writes_.rend(); ++it) {
    if (auto* queued = std::get_if<LedgerJob>(&*it); queued && queued->job_id == job.job_id) {
      *queued = std::move(job);
      return;
    }
    if (std::holds_alternative<LedgerDecision>(*it)) break;  // keep decisions after their job
  }
  if (writes_.size() >= kMaxQueued) writes_.pop_front(), ++dropped_;
  writes_.push_back(std::move(job));
  wake_.notify_all();
}

void Outbox::AddDecision(LedgerDecision decision) {
  if (ledger_path_.empty()) return;
  std::lock_guard lock(mu_);
  if (writes_.size() >= kMaxQueued) writes_.pop_front(), ++dropped_;
  writes_.push_back(std::move(decision));
  wake_.notify_all();
}

void Outbox::Post(std::string json) {
  if (webhook_url_.empty()) return;
  std::lock_guard lock(mu_);
  posts_.push_back(std::move(json));
  wake_.notify_all();
}

size_t Outbox::queued() const {
  std::lock_guard lock(mu_);
  return writes_.size() + in_flight_;
}
uint64_t Outbox::ledger_failures() const {
  std::lock_guard lock(mu_);
  return ledger_failures_;
}
uint64_t Outbox::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}
uint64_t Outbox::webhook_failures() const {
  std::lock_guard lock(mu_);
  return webhook_failures_;
}

bool Outbox::OpenLedger() {
  if (ledger_) return true;
  auto opened = Ledger::Open(ledger_path_);
  if (!opened) {
    fmt::print(log_, "gpuledger guard: ledger: {} (writes queued, retrying)\n",
               opened.error().ToString());
    return false;
  }
  ledger_ = std::move(*opened);
  return true;
}

OverBudgets Outbox::OverBudget() const {
  std::lock_guard lock(mu_);
  return over_budget_;
}

void Outbox::RefreshBudgets() {
  if (!OpenLedger()) return;
  auto over = ReadOverBudgets(*ledger_, WallNow());
  if (!over) return;  // kept as last read; the next write finds a broken ledger
  std::lock_guard lock(mu_);
  over_budget_ = std::move(*over);
  budgets_read_ = true;
}

bool Outbox::BudgetsRead() const {
  std::lock_guard lock(mu_);
  return budgets_read_;
}

bool Outbox::WriteBatch(const std::vector<LedgerWrite>& batch) {
  if (!OpenLedger()) return false;
  if (auto r = ledger_->Write(batch); !r) {
    fmt::print(log_, "gpuledger guard: ledger: {} (writes queued, retrying)\n",
               r.error().ToString());
    ledger_.reset();  // open it afresh next time (the file may have been replaced)
    return false;
  }
  return true;
}

void Outbox::Loop() {
  using namespace std::chrono;
  auto retry_at = steady_clock::now();
  auto budgets_at = steady_clock::now();
  std::optional<steady_clock::time_point> drain_until;
  std::unique_lock lock(mu_);
  while (true) {
    if (stopping_ && !drain_until) drain_until = steady_clock::now() + milliseconds(drain_ms);
    if (!posts_.empty()) {
      std::string json = std::move(posts_.front());
      posts_.pop_front();
      lock.unlock();
      const bool ok = PostWebhook(webhook_url_, json, log_, "gpuledger guard");
      lock.lock();
      if (!ok) ++webhook_failures_;
      continue;
    }
    if (!writes_.empty() && steady_clock::now() >= retry_at) {
      // Taken out of the queue while it is written, so producers only ever replace writes
      // that are not in flight; put back in front, in order, when it fails.
      const size_t n = std::min(writes_.size(), kBatch);
      std::vector<LedgerWrite> batch(std::make_move_iterator(writes_.begin()),
                                     std::make_move_iterator(writes_.begin() + n));
      writes_.erase(writes_.begin(), writes_.begin() + n);
      in_flight_ = n;
      lock.unlock();
      const bool ok = WriteBatch(batch);
      lock.lock();
      in_flight_ = 0;
      if (!ok) {
        writes_.insert(writes_.begin(), std::make_move_iterator(batch.begin()),
                       std::make_move_iterator(batch.end()));
        ++ledger_failures_;
        retry_at = steady_clock::now() + seconds(2);
      }
      continue;
    }
    if (!ledger_path_.empty() && !stopping_ && steady_clock::now() >= budgets_at) {
      budgets_at = steady_clock::now() + milliseconds(kBudgetRefreshMs);
      lock.unlock();
      RefreshBudgets();
      lock.lock();
      continue;
    }
    if (stopping_ && (writes_.empty() || steady_clock::now() >= *drain_until)) break;
    wake_.wait_until(lock, writes_.empty()
                               ? steady_clock::now() + seconds(1)
                               : std::max(retry_at, steady_clock::now() + milliseconds(50)));
  }
  if (!writes_.empty()) {
    fmt::print(log_, "gpuledger guard: ledger: {} writes could not be made before exit\n",
               writes_.size());
  }
}

}  // namespace gpuledger
