// Sends notifications to every sink without ever holding up the sender: each sink has its own
// thread and a bounded queue (kMaxQueued; the oldest dropped, counted). A post that gets no
// answer, a 429 or a 5xx is tried again after 1 s, then 2 s, 4 s … (Retry-After when the sink
// gives one, at most kMaxBackoffMs), kAttempts times in all; each try times out after 5 s
// (kPostTimeoutMs). What each sink delivered, failed and dropped is counted for /metrics. Once
// stopping, nothing is tried again and no post starts that could end after the drain's deadline,
// so a sink that hangs delays exit by at most drain_ms.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "notify/notice.h"
#include "notify/sink.h"

namespace gpuledger {

// Sends every notice to every sink and waits for them (at most "timeout_ms"): true when every
// sink took every notice, after its retries. For one-shot commands (budgets, digest).
bool SendAll(const std::vector<NotifySink>& sinks, const std::vector<Notice>& notices,
             std::FILE* log, const std::string& who, int64_t timeout_ms);

class Notifier {
 public:
  // Messages about failures go to "log" after "who" ("gpuledger guard").
  Notifier(std::vector<NotifySink> sinks, std::FILE* log, std::string who);
  // Gives each sink up to drain_ms to send what is queued (posts that can end by then), then
  // drops the rest (counted).
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Queues "notice" for every sink, rendered for it; returns at once.
  void Send(const Notice& notice);

  // Waits until every sink has delivered or given up on all it was sent (true), or for at most
  // "timeout_ms" (false). For one-shot commands that must know before they exit.
  bool WaitIdle(int64_t timeout_ms) const;

  struct Counts {
    std::string sink;  // NotifySink::Label()
    uint64_t delivered = 0, failed = 0, dropped = 0, retries = 0;
  };
  std::vector<Counts> counts() const;  // one per sink, in --notify order
  bool empty() const { return lanes_.empty(); }

  static constexpr size_t kMaxQueued = 1000;
  static constexpr int kAttempts = 4;
  static constexpr int64_t kFirstBackoffMs = 1000;
  static constexpr int64_t kMaxBackoffMs = 30'000;
  static constexpr int64_t kPostTimeoutMs = 5000;  // PostJson's
  int drain_ms = 6000;

 private:
  struct Lane;
  void Run(Lane* lane);
  std::FILE* log_;
  std::string who_;
  std::vector<std::unique_ptr<Lane>> lanes_;
};

}  // namespace gpuledger
