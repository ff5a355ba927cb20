// The ledger: every run and every decision, in one SQLite file (WAL mode). The schema is
// versioned (PRAGMA user_version) and upgraded by migrations when a ledger is opened.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/time.h"

namespace gpuledger {

struct LedgerJob {
  std::string job_id, owner, labels, command, host, gpus;  // labels "k=v;k=v", gpus "0;1"
  TimeMs start = 0;
  std::optional<TimeMs> end;     // none while running
  std::string status;            // running, completed, failed, killed
  std::optional<int> exit_code;  // the command's, or 128+signal
  std::string killed_by;         // the rule, when the policy killed it
  double gpu_hours = 0, cost_usd = 0;
  std::string repo, commit, pr;
  // The process that runs the job (gpuledger run): its pid and start time (clock ticks since
  // boot, /proc/PID/stat field 22); 0 when unknown.
  int64_t runner_pid = 0, runner_start = 0;
  bool dirty = false;  // the working tree had uncommitted changes
  std::string output_tail;
  // "run" for `gpuledger run`; the guard's workloads: pg, jupyter, slurm, k8s, container.
  std::string kind = "run";
  std::optional<double> idle_gpu_hours;  // the guard's: held GPU time below threshold
};

struct LedgerDecision {
  std::string job_id;
  TimeMs at = 0;
  std::string kind;  // warn, kill, exempt, release, keep, warn_only, interrupt
  std::string rule;  // setup, idle, budget, max_runtime, fatal_output, exit, keep
  std::string explanation;
  double gpu_hours_used = 0, gpu_hours_saved = 0, usd_saved = 0;
  std::string granted_by;  // for exemptions and keeps: who
  // A live kill of a workload whose end is unknown saves this many USD per hour it would have
  // run on (price × its GPUs); usd_saved then stays 0.
  double usd_per_hour_saved = 0;
};

struct OwnerTotals {
  std::string owner;
  int64_t jobs = 0, failed = 0, killed = 0;
  double gpu_hours = 0, cost_usd = 0;
};

// The start time of process "pid" (clock ticks since boot), or -1 when there is none.
int64_t ProcessStartTicks(int64_t pid);

// This machine's host name, as the ledger records it.
std::string LedgerHostName();

// True for a job whose runner was on "this_host" (LedgerHostName()) and is gone (or its pid now
// names another process): a row left "running" by a `run` that was SIGKILLed. Jobs() reports
// such rows with status "abandoned". A row of another host cannot be judged and stays "running".
bool IsAbandoned(const LedgerJob& job, const std::string& this_host);

class Ledger {
 public:
  // Opens (creating it and its folder if needed) the ledger at "path", migrating its schema.
  // Several processes may open a new ledger at once: the schema is created once, inside one
  // write transaction that re-reads the version.
  static Result<std::unique_ptr<Ledger>> Open(const std::string& path);

  // Opens an existing ledger for reading: never creates the file or its folder (kIo naming the
  // path when there is none), and refuses a ledger from a newer gpuledger.
  static Result<std::unique_ptr<Ledger>> OpenExisting(const std::string& path);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // The default path: $XDG_DATA_HOME/gpuledger/ledger.db or ~/.local/share/gpuledger/ledger.db.
  static std::string DefaultPath();
  static constexpr int kSchemaVersion = 3;

  Result<void> PutJob(const LedgerJob& job);  // insert or replace by job_id
  Result<void> AddDecision(const LedgerDecision& decision);

  // Jobs started at or after "since", newest first.
  Result<std::vector<LedgerJob>> Jobs(TimeMs since) const;
  Result<std::vector<LedgerDecision>> Decisions(TimeMs since) const;
  Result<std::vector<OwnerTotals>> Owners(TimeMs since) const;
  int SchemaVersion() const;

 private:
  explicit Ledger(sqlite3* db) : db_(db) {}
  Result<void> Migrate();
  Result<void> Exec(const std::string& sql);
  Error SqlError(const std::string& what) const;

  sqlite3* db_;
  std::string path_;
};

// The ledger's jobs as the jobs CSV `gpuledger audit --jobs` reads.
std::string JobsToCsv(const std::vector<LedgerJob>& jobs);

}  // namespace gpuledger
