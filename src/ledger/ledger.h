// The ledger: every run and every decision. Two stores behind one interface, with one schema
// and one set of migrations (ledger_sql.h): a SQLite file (WAL mode), the embedded default, and
// PostgreSQL (libpq), the shared store every node's guard and `run` write to at once
// (DESIGN.md, "One ledger for the fleet").
//
// Every write is idempotent, so a write retried after a lost connection never duplicates
// anything: a job is written by its id (a newer state replaces the row; an older "running" never
// takes a finished job back), a decision by (job, instant, kind, rule).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
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
  // What the run says it is (model/run_identity.h): its tracker's experiment and run.
  std::string experiment, run;
  // The process that runs the job (gpuledger run): its pid and start time (clock ticks since
  // boot, /proc/PID/stat field 22); 0 when unknown.
  int64_t runner_pid = 0, runner_start = 0;
  bool dirty = false;  // the working tree had uncommitted changes
  std::string output_tail;
  // "run" for `gpuledger run`; the guard's workloads: pg, jupyter, slurm, k8s, container.
  std::string kind = "run";
  std::optional<double> idle_gpu_hours;  // the guard's: held GPU time below threshold
  // When the row was last written (the store sets it on every write): a running row whose
  // writer has been silent for kAbandonedAfterMs has lost its writer.
  std::optional<TimeMs> heartbeat;
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

// A budget alert sent (gpuledger budgets check): one per budget, period and level.
struct LedgerAlert {
  std::string budget;  // Budget::Key(): "team:vision", "owner:asha"
  std::string period;  // "2025-03"
  int level = 0;       // 50, 80, 100 (percent of the budget)
  TimeMs at = 0;
  std::string detail;  // what was said
};

// A request to keep a workload, asked from outside its node (`gpuledger serve`: a Slack button,
// an emailed link) and applied by that host's guard under exactly the keep socket's rules
// (the owner's uid or root, the policy's max_keep, who/until/why recorded).
struct LedgerKeepRequest {
  std::string id;  // unique: a replayed click or a link used twice finds its request there
  std::string host, workload;
  DurationMs duration_ms = 0;
  std::string who;     // the user name it acts as (a [[person]]'s, as serve verified it)
  bool admin = false;  // asked by a [[person]] with admin = true: any owner's workload
  std::string reason;
  std::string source;  // slack, email
  TimeMs asked_at = 0;
  std::string state = "pending";  // pending, kept, refused
  std::string answer;             // the guard's: what it did, or why not
  std::optional<TimeMs> answered_at;
  std::string reply_to;  // Slack's response_url, where serve posts the answer
};

// A guard's answer to a pending keep request (a request already answered is left as it is).
struct LedgerKeepAnswer {
  std::string id, state, answer;  // state: kept, refused
  TimeMs at = 0;
};

using LedgerWrite = std::variant<LedgerJob, LedgerDecision, LedgerKeepAnswer>;

// Writers of running rows write them again at least this often (`run` and the guard do).
inline constexpr DurationMs kHeartbeatMs = 60 * 1000;
// A running row not written for this long has lost its writer (a host that died, a network
// that parted): `run` rows then read "abandoned", the guard's "unknown".
inline constexpr DurationMs kAbandonedAfterMs = 10 * kHeartbeatMs;

// The start time of process "pid" (clock ticks since boot), or -1 when there is none.
int64_t ProcessStartTicks(int64_t pid);

// This machine's host name, as the ledger records it.
std::string LedgerHostName();

// True for a `run` row left "running" whose runner is gone: on "this_host" (LedgerHostName())
// its pid is gone or names another process now; on any host, it has not been written for
// kAbandonedAfterMs before "now" (a row without a heartbeat, from an older gpuledger, cannot be
// judged from another host and stays "running").
bool IsAbandoned(const LedgerJob& job, const std::string& this_host, TimeMs now);

// The status a reader reports: "running" rows that lost their writer read "abandoned" (`run`)
// or "unknown" (the guard's workloads, which may still run unwatched); others as stored.
std::string ReadStatus(const LedgerJob& job, const std::string& this_host, TimeMs now);

// True when "location" names a PostgreSQL database (postgresql:// or postgres://).
bool IsPostgresLocation(const std::string& location);

// "location" with any password replaced by "***", for messages: a URL's user:password@, and a
// password=… parameter or key=value connection-string entry — whatever the location's form,
// malformed ones included.
std::string RedactedLocation(const std::string& location);
// The passwords "location" carries (URL userinfo, password=…), for redacting messages.
std::vector<std::string> PasswordsOf(const std::string& location);
// "text" (a message, e.g. libpq's) with every password of "location" and every password=…
// replaced by "***".
std::string RedactSecrets(std::string text, const std::string& location);

class Ledger {
 public:
  // Opens the ledger at "location", a file path or a postgresql:// URL, creating it (a file
  // and its folder; the tables in a database) and migrating its schema. Several processes may
  // open one new ledger at once: the schema is created once. A ledger from a newer gpuledger
  // is refused, not touched.
  static Result<std::unique_ptr<Ledger>> Open(const std::string& location);

  // Opens an existing ledger for reading: never creates a file, its folder or the tables
  // (kIo naming the location when there is none); refuses a ledger from a newer gpuledger.
  static Result<std::unique_ptr<Ledger>> OpenExisting(const std::string& location);

  virtual ~Ledger() = default;

  // The default path: $XDG_DATA_HOME/gpuledger/ledger.db or ~/.local/share/gpuledger/ledger.db.
  static std::string DefaultPath();
  static constexpr int kSchemaVersion = 7;

  Result<void> PutJob(const LedgerJob& job);
  Result<void> AddDecision(const LedgerDecision& decision);
  // Writes "writes" in one transaction: all of them or, on an error, none.
  virtual Result<void> Write(std::span<const LedgerWrite> writes) = 0;

  // Jobs started at or after "since", newest first, with ReadStatus's status.
  virtual Result<std::vector<LedgerJob>> Jobs(TimeMs since) const = 0;
  // Decisions made at or after "since", newest first.
  virtual Result<std::vector<LedgerDecision>> Decisions(TimeMs since) const = 0;
  // Records "alert" unless the same (budget, period, level) is there: true when this call
  // recorded it (so exactly one of many checks running at once sends it).
  virtual Result<bool> ClaimAlert(const LedgerAlert& alert) = 0;
  // Removes a claimed alert whose sending failed, so the next check sends it again.
  virtual Result<void> ReleaseAlert(const LedgerAlert& alert) = 0;
  // The alerts of "period", oldest first.
  virtual Result<std::vector<LedgerAlert>> Alerts(const std::string& period) const = 0;

  // Records a keep request unless one of its id is there: true when this call recorded it.
  virtual Result<bool> AskKeep(const LedgerKeepRequest& request) = 0;
  // The pending keep requests for "host", oldest first.
  virtual Result<std::vector<LedgerKeepRequest>> PendingKeeps(const std::string& host) const = 0;
  // The keep request "id", or none.
  virtual Result<std::optional<LedgerKeepRequest>> KeepRequestById(const std::string& id) const = 0;

  // Totals by owner of the jobs started at or after "since", costliest first.
  Result<std::vector<OwnerTotals>> Owners(TimeMs since) const;
  virtual int SchemaVersion() const = 0;
  // The location it was opened at (RedactedLocation), for messages.
  virtual std::string Location() const = 0;
};

// The ledger's jobs as the jobs CSV `gpuledger audit --jobs` reads.
std::string JobsToCsv(const std::vector<LedgerJob>& jobs);

}  // namespace gpuledger
