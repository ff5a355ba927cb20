#include "notify/notifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace gpuledger {

struct Notifier::Lane {
  NotifySink sink;
  mutable std::mutex mu;
  std::condition_variable wake;
  std::deque<Outgoing> queue;
  Counts counts;
  bool busy = false;  // a post in flight
  bool stopping = false;
  std::chrono::steady_clock::time_point stop_by;
  std::thread thread;
};

Notifier::Notifier(std::vector<NotifySink> sinks, std::FILE* log, std::string who)
    : log_(log), who_(std::move(who)) {
  for (NotifySink& s : sinks) {
    auto lane = std::make_unique<Lane>();
    lane->counts.sink = s.Label();
    lane->sink = std::move(s);
    lanes_.push_back(std::move(lane));
  }
  for (auto& lane : lanes_) lane->thread = std::thread([this, l = lane.get()] { Run(l); });
}

Notifier::~Notifier() {
  const auto stop_by = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_ms);
  for (auto& lane : lanes_) {
    std::lock_guard lock(lane->mu);
    lane->stopping = true;
    lane->stop_by = stop_by;
    lane->wake.notify_all();
  }
  for (auto& lane : lanes_) lane->thread.join();
}

void Notifier::Send(const Notice& notice) {
  for (auto& lane : lanes_) {
    Outgoing out = Prepare(lane->sink, notice);
    std::lock_guard lock(lane->mu);
    if (lane->queue.size() >= kMaxQueued) {
      lane->queue.pop_front();
      ++lane->counts.dropped;
    }
    lane->queue.push_back(std::move(out));
    lane->wake.notify_all();
  }
}

bool Notifier::WaitIdle(int64_t timeout_ms) const {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    bool idle = true;
    for (const auto& lane : lanes_) {
      std::lock_guard lock(lane->mu);
      idle = idle && lane->queue.empty() && !lane->busy;
    }
    if (idle) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::vector<Notifier::Counts> Notifier::counts() const {
  std::vector<Counts> out;
  for (const auto& lane : lanes_) {
    std::lock_guard lock(lane->mu);
    out.push_back(lane->counts);
  }
  return out;
}

void Notifier::Run(Lane* lane) {
  using Clock = std::chrono::steady_clock;
  std::unique_lock lock(lane->mu);
  while (true) {
    lane->wake.wait(lock, [&] { return lane->stopping || !lane->queue.empty(); });
    // Stopping: a post starts only if it must end (it times out) before the drain's deadline.
    if (lane->queue.empty() ||
        (lane->stopping &&
         Clock::now() + std::chrono::milliseconds(kPostTimeoutMs) > lane->stop_by)) {
      break;
    }
    const Outgoing item = std::move(lane->queue.front());
    lane->queue.pop_front();
    lane->busy = true;
    lock.unlock();
    PostResult r;
    int64_t backoff_ms = kFirstBackoffMs;
    bool stopped = false;
    for (int attempt = 1;; ++attempt) {
      r = Deliver(lane->sink, item);
      if (r.delivered || !r.Retryable() || attempt == kAttempts) break;
      int64_t wait_ms = r.retry_after_s >= 0 ? int64_t{r.retry_after_s} * 1000 : backoff_ms;
      wait_ms = std::min(wait_ms, kMaxBackoffMs);
      backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
      lock.lock();
      // Waits out the backoff; stopping ends it, and tries nothing again.
      const auto until = Clock::now() + std::chrono::milliseconds(wait_ms);
      lane->wake.wait_until(lock, until, [&] { return lane->stopping; });
      stopped = lane->stopping;
      if (!stopped) ++lane->counts.retries;
      lock.unlock();
      if (stopped) break;
    }
    lock.lock();
    lane->busy = false;
    if (r.delivered) {
      ++lane->counts.delivered;
    } else {
      ++lane->counts.failed;
      fmt::print(log_, "{}: {} {}\n", who_, lane->counts.sink, r.error);
    }
  }
  if (!lane->queue.empty()) {
    lane->counts.dropped += lane->queue.size();
    fmt::print(log_, "{}: {}: {} notifications not sent before exit\n", who_, lane->counts.sink,
               lane->queue.size());
    lane->queue.clear();
  }
}

bool SendAll(const std::vector<NotifySink>& sinks, const std::vector<Notice>& notices,
             std::FILE* log, const std::string& who, int64_t timeout_ms) {
  Notifier notifier(sinks, log, who);
  for (const Notice& n : notices) notifier.Send(n);
  notifier.WaitIdle(timeout_ms);
  for (const Notifier::Counts& c : notifier.counts())
    if (c.delivered != notices.size()) return false;
  return true;
}

}  // namespace gpuledger
