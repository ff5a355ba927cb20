// ledger_load: simulated node guards writing to one ledger through the guard's own Outbox
// (batched, retried, idempotent writes), for bench/ledger_bench.sh and tests/postgres_test.sh.
//
//   ledger_load --ledger URL [--guards N] [--seconds S] [--rate STEPS_PER_S] [--tag T]
//
// Guard g owns job "T-g". Each step n of a guard queues the decision (job, at = n, warn, idle)
// and then the job's row with gpu_hours = n, so a ledger whose batches are atomic always holds,
// for every job, gpu_hours = the latest decision's at (tests check it after SIGKILLs and server
// restarts). --rate 0 (the default) queues as fast as the outboxes drain. Prints one JSON line:
// the steps queued and written, and decisions per second written.
//
// --atomic N: no outbox; each guard's thread writes, straight through its own Ledger, batch
// after batch of N decisions of a new job followed by that job's row (gpu_hours = N), each one
// Ledger::Write. A writer SIGKILLed mid-transaction must leave each job with all N decisions and
// its row, or with nothing.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "guard/outbox.h"

using namespace gpuledger;

namespace {

struct Flags {
  std::string ledger, tag = "guard";
  int guards = 8;
  double seconds = 5, rate = 0;
  int atomic = 0;
};

bool Parse(int argc, char** argv, Flags* f) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--ledger") {
      f->ledger = v;
    } else if (k == "--guards") {
      f->guards = std::stoi(v);
    } else if (k == "--seconds") {
      f->seconds = std::stod(v);
    } else if (k == "--rate") {
      f->rate = std::stod(v);
    } else if (k == "--atomic") {
      f->atomic = std::stoi(v);
    } else if (k == "--tag") {
      f->tag = v;
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && !f->ledger.empty() && f->guards > 0;
}

// --atomic: each guard writes whole batches until the deadline; returns the batches written.
int64_t WriteAtomicBatches(const Flags& f) {
  std::vector<int64_t> batches(f.guards, 0);
  std::vector<std::thread> threads;
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(f.seconds);
  for (int g = 0; g < f.guards; ++g) {
    threads.emplace_back([&, g] {
      auto ledger = Ledger::Open(f.ledger);
      if (!ledger) {
        std::fprintf(stderr, "ledger_load: %s\n", ledger.error().ToString().c_str());
        return;
      }
      while (std::chrono::steady_clock::now() < until) {
        const std::string job = fmt::format("{}-{}-{}", f.tag, g, batches[g]);
        std::vector<LedgerWrite> batch;
        for (int n = 1; n <= f.atomic; ++n) {
          batch.push_back(LedgerDecision{job, n, "warn", "idle", "idle", 0.5, 0, 0, ""});
        }
        LedgerJob row;
        row.job_id = job, row.start = 1, row.status = "running", row.kind = "pg";
        row.gpu_hours = f.atomic;
        batch.push_back(row);
        if (auto r = (*ledger)->Write(batch); !r) {
          std::fprintf(stderr, "ledger_load: %s\n", r.error().ToString().c_str());
          return;
        }
        ++batches[g];
      }
    });
  }
  for (auto& t : threads) t.join();
  int64_t total = 0;
  for (int64_t b : batches) total += b;
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  if (!Parse(argc, argv, &f)) {
    std::fprintf(stderr,
                 "usage: ledger_load --ledger URL [--guards N] [--seconds S] [--rate STEPS_PER_S] "
                 "[--tag T]\n");
    return 2;
  }
  if (f.atomic > 0) {
    fmt::print("{{\"guards\": {}, \"batches\": {}}}\n", f.guards, WriteAtomicBatches(f));
    return 0;
  }
  std::FILE* log = std::fopen("/dev/null", "w");
  std::vector<std::unique_ptr<Outbox>> outboxes;
  for (int g = 0; g < f.guards; ++g) {
    outboxes.push_back(std::make_unique<Outbox>(f.ledger, g == 0 ? stderr : log));
    outboxes.back()->drain_ms = 60'000;
  }
  std::vector<int64_t> steps(f.guards, 0);
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration<double>(f.seconds);
  auto queue_step = [&](int g) {
    const int64_t n = ++steps[g];
    const std::string job = fmt::format("{}-{}", f.tag, g);
    outboxes[g]->AddDecision({job, n, "warn", "idle", "idle for 30m", 0.5, 0, 0, ""});
    LedgerJob row;
    row.job_id = job, row.owner = "load", row.host = fmt::format("node{}", g);
    row.start = 1, row.status = "running", row.kind = "pg", row.gpu_hours = static_cast<double>(n);
    outboxes[g]->PutJob(std::move(row));
  };
  while (Clock::now() < until) {
    bool queued = false;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    for (int g = 0; g < f.guards; ++g) {
      const bool due = f.rate > 0 ? steps[g] < static_cast<int64_t>(elapsed * f.rate) + 1
                                  : outboxes[g]->counts().queued < 2 * Outbox::kBatch;
      if (due) queue_step(g), queued = true;
    }
    if (!queued) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  int64_t queued_steps = 0, left = 0;
  for (int g = 0; g < f.guards; ++g) queued_steps += steps[g];
  const double load_s = std::chrono::duration<double>(Clock::now() - start).count();
  for (const auto& o : outboxes) left += static_cast<int64_t>(o->counts().queued) / 2;
  const int64_t written_by_deadline = queued_steps - left;
  outboxes.clear();  // drains what is left
  const double total_s = std::chrono::duration<double>(Clock::now() - start).count();
  fmt::print(
      "{{\"guards\": {}, \"seconds\": {:.2f}, \"steps_queued\": {}, \"written_by_deadline\": {}, "
      "\"decisions_per_s\": {:.0f}, \"row_writes_per_s\": {:.0f}, \"drained_after_s\": {:.2f}}}\n",
      f.guards, load_s, queued_steps, written_by_deadline, written_by_deadline / load_s,
      2 * written_by_deadline / load_s, total_s - load_s);
  std::fclose(log);
  return 0;
}
