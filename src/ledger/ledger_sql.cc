#include "ledger/ledger_sql.h"

#include <array>

#include "core/text_safety.h"

namespace gpuledger::ledger_sql {
namespace {

// Migration i brings the schema from version i to i + 1. Append; never edit a shipped one.
// {int} is a 64-bit integer, {real} a double, {id} an auto-numbered primary key: SQLite's
// INTEGER, REAL and INTEGER PRIMARY KEY (the text shipped before PostgreSQL), PostgreSQL's
// BIGINT, DOUBLE PRECISION and BIGSERIAL PRIMARY KEY.
constexpr std::array<const char*, Ledger::kSchemaVersion> kMigrations = {
    R"sql(
CREATE TABLE jobs (
  job_id TEXT PRIMARY KEY, owner TEXT NOT NULL, labels TEXT NOT NULL, command TEXT NOT NULL,
  host TEXT NOT NULL, gpus TEXT NOT NULL, start_ms {int} NOT NULL, end_ms {int},
  status TEXT NOT NULL, exit_code {int}, killed_by TEXT NOT NULL, gpu_hours {real} NOT NULL,
  cost_usd {real} NOT NULL, repo TEXT NOT NULL, commit_sha TEXT NOT NULL, pr TEXT NOT NULL,
  dirty {int} NOT NULL, output_tail TEXT NOT NULL);
CREATE INDEX jobs_start ON jobs (start_ms);
CREATE TABLE decisions (
  id {id}, job_id TEXT NOT NULL, at_ms {int} NOT NULL, kind TEXT NOT NULL,
  rule TEXT NOT NULL, explanation TEXT NOT NULL, gpu_hours_used {real} NOT NULL,
  gpu_hours_saved {real} NOT NULL, usd_saved {real} NOT NULL, granted_by TEXT NOT NULL);
CREATE INDEX decisions_at ON decisions (at_ms);
)sql",
    // 1 → 2: the process that runs a job (pid and its start time, in clock ticks since boot),
    // so a row left "running" by a process that died is recognisable as abandoned.
    R"sql(
ALTER TABLE jobs ADD COLUMN runner_pid {int} NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN runner_start {int} NOT NULL DEFAULT 0;
)sql",
    // 2 → 3: the node guard's workloads (kind: run, pg, jupyter, slurm, k8s, container; the
    // GPU-hours of them below threshold) and the rate a kill saves when its end is unknown.
    R"sql(
ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'run';
ALTER TABLE jobs ADD COLUMN idle_gpu_hours {real};
ALTER TABLE decisions ADD COLUMN usd_per_hour_saved {real} NOT NULL DEFAULT 0;
)sql",
    // 3 → 4: many writers. A row's last write (a writer silent for long has lost its host), and
    // decisions keyed by (job, instant, kind, rule) so a retried write adds nothing: copies an
    // older gpuledger wrote twice are dropped first, the earliest kept.
    R"sql(
ALTER TABLE jobs ADD COLUMN heartbeat_ms {int};
DELETE FROM decisions WHERE id NOT IN
  (SELECT MIN(id) FROM decisions GROUP BY job_id, at_ms, kind, rule);
CREATE UNIQUE INDEX decisions_key ON decisions (job_id, at_ms, kind, rule);
)sql",
    // 4 → 5: budget alerts, each sent once per budget, period and level.
    R"sql(
CREATE TABLE alerts (
  budget TEXT NOT NULL, period TEXT NOT NULL, level {int} NOT NULL, at_ms {int} NOT NULL,
  detail TEXT NOT NULL, PRIMARY KEY (budget, period, level));
)sql",
    // 5 → 6: keep requests from outside the node (a Slack button, an emailed link), each
    // recorded once by its id and answered by the guard of its host.
    R"sql(
CREATE TABLE keep_requests (
  id TEXT PRIMARY KEY, host TEXT NOT NULL, workload TEXT NOT NULL, duration_ms {int} NOT NULL,
  who TEXT NOT NULL, admin {int} NOT NULL, reason TEXT NOT NULL, source TEXT NOT NULL,
  asked_at_ms {int} NOT NULL, state TEXT NOT NULL, answer TEXT NOT NULL, answered_at_ms {int},
  reply_to TEXT NOT NULL);
CREATE INDEX keep_requests_pending ON keep_requests (host, state);
)sql",
    // 6 → 7: what a run says it is: its experiment tracker's experiment and run (MLflow, W&B).
    R"sql(
ALTER TABLE jobs ADD COLUMN experiment TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN run_id TEXT NOT NULL DEFAULT '';
)sql",
};

void ReplaceAll(std::string* s, const std::string& from, const std::string& to) {
  for (size_t at = s->find(from); at != std::string::npos; at = s->find(from, at + to.size())) {
    s->replace(at, from.size(), to);
  }
}

Value Optional(const std::optional<int64_t>& v) { return v ? Value(*v) : Value(); }

}  // namespace

std::string Migration(int from, Dialect dialect) {
  std::string sql = kMigrations.at(from);
  const bool pg = dialect == Dialect::kPostgres;
  ReplaceAll(&sql, "{int}", pg ? "BIGINT" : "INTEGER");
  ReplaceAll(&sql, "{real}", pg ? "DOUBLE PRECISION" : "REAL");
  ReplaceAll(&sql, "{id}", pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY");
  return sql;
}

// A row is replaced by a newer write of its job, except that a "running" write of the same run
// (same start) never replaces a finished row: a retried or late heartbeat cannot take a job
// back. A new run under the same id (another start) replaces it whatever its status.
const char* const kPutJob =
    "INSERT INTO jobs (job_id, owner, labels, command, host, gpus, start_ms, end_ms, status, "
    "exit_code, killed_by, gpu_hours, cost_usd, repo, commit_sha, pr, dirty, output_tail, "
    "runner_pid, runner_start, kind, idle_gpu_hours, heartbeat_ms, experiment, run_id) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
    "$19, $20, $21, $22, $23, $24, $25) "
    "ON CONFLICT (job_id) DO UPDATE SET owner = excluded.owner, labels = excluded.labels, "
    "command = excluded.command, host = excluded.host, gpus = excluded.gpus, "
    "start_ms = excluded.start_ms, end_ms = excluded.end_ms, status = excluded.status, "
    "exit_code = excluded.exit_code, killed_by = excluded.killed_by, "
    "gpu_hours = excluded.gpu_hours, cost_usd = excluded.cost_usd, repo = excluded.repo, "
    "commit_sha = excluded.commit_sha, pr = excluded.pr, dirty = excluded.dirty, "
    "output_tail = excluded.output_tail, runner_pid = excluded.runner_pid, "
    "runner_start = excluded.runner_start, kind = excluded.kind, "
    "idle_gpu_hours = excluded.idle_gpu_hours, heartbeat_ms = excluded.heartbeat_ms, "
    "experiment = excluded.experiment, run_id = excluded.run_id "
    "WHERE jobs.status = 'running' OR excluded.status <> 'running' "
    "OR jobs.start_ms <> excluded.start_ms";

namespace {

// Every text a store receives is valid UTF-8 without NUL (PostgreSQL rejects either, and one
// rejected write would hold up every write queued behind it).
std::vector<Value> StoreSafe(std::vector<Value> values) {
  for (Value& v : values) {
    auto* text = std::get_if<std::string>(&v);
    if (text == nullptr) continue;
    std::string safe = ValidUtf8(*text);
    for (size_t at; (at = safe.find('\0')) != std::string::npos;) safe.replace(at, 1, "\uFFFD");
    *text = std::move(safe);
  }
  return values;
}

}  // namespace

std::vector<Value> JobParams(const LedgerJob& j, TimeMs now) {
  return StoreSafe({j.job_id,
                    j.owner,
                    j.labels,
                    j.command,
                    j.host,
                    j.gpus,
                    int64_t{j.start},
                    Optional(j.end),
                    j.status,
                    j.exit_code ? Value(int64_t{*j.exit_code}) : Value(),
                    j.killed_by,
                    j.gpu_hours,
                    j.cost_usd,
                    j.repo,
                    j.commit,
                    j.pr,
                    int64_t{j.dirty},
                    j.output_tail,
                    j.runner_pid,
                    j.runner_start,
                    j.kind,
                    j.idle_gpu_hours ? Value(*j.idle_gpu_hours) : Value(),
                    int64_t{now},
                    j.experiment,
                    j.run});
}

const char* const kAddDecision =
    "INSERT INTO decisions (job_id, at_ms, kind, rule, explanation, gpu_hours_used, "
    "gpu_hours_saved, usd_saved, granted_by, usd_per_hour_saved) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
    "ON CONFLICT (job_id, at_ms, kind, rule) DO NOTHING";

std::vector<Value> DecisionParams(const LedgerDecision& d) {
  return StoreSafe({d.job_id, int64_t{d.at}, d.kind, d.rule, d.explanation, d.gpu_hours_used,
                    d.gpu_hours_saved, d.usd_saved, d.granted_by, d.usd_per_hour_saved});
}

Statement StatementOf(const LedgerWrite& w, TimeMs now) {
  if (const auto* job = std::get_if<LedgerJob>(&w)) return {kPutJob, JobParams(*job, now)};
  if (const auto* a = std::get_if<LedgerKeepAnswer>(&w))
    return {kAnswerKeep, StoreSafe({a->id, a->state, a->answer, int64_t{a->at}})};
  return {kAddDecision, DecisionParams(std::get<LedgerDecision>(w))};
}

const char* const kSelectJobs =
    "SELECT job_id, owner, labels, command, host, gpus, start_ms, end_ms, status, exit_code, "
    "killed_by, gpu_hours, cost_usd, repo, commit_sha, pr, dirty, output_tail, runner_pid, "
    "runner_start, kind, idle_gpu_hours, heartbeat_ms, experiment, run_id FROM jobs "
    "WHERE start_ms >= $1 "
    "ORDER BY start_ms DESC, job_id";

LedgerJob JobOf(const Row& r) {
  LedgerJob j;
  j.job_id = r.Text(0), j.owner = r.Text(1), j.labels = r.Text(2), j.command = r.Text(3);
  j.host = r.Text(4), j.gpus = r.Text(5), j.start = r.Int(6);
  if (!r.Null(7)) j.end = r.Int(7);
  j.status = r.Text(8);
  if (!r.Null(9)) j.exit_code = static_cast<int>(r.Int(9));
  j.killed_by = r.Text(10), j.gpu_hours = r.Real(11), j.cost_usd = r.Real(12);
  j.repo = r.Text(13), j.commit = r.Text(14), j.pr = r.Text(15), j.dirty = r.Int(16) != 0;
  j.output_tail = r.Text(17);
  j.runner_pid = r.Int(18), j.runner_start = r.Int(19), j.kind = r.Text(20);
  if (!r.Null(21)) j.idle_gpu_hours = r.Real(21);
  if (!r.Null(22)) j.heartbeat = r.Int(22);
  j.experiment = r.Text(23), j.run = r.Text(24);
  return j;
}

const char* const kSelectDecisions =
    "SELECT job_id, at_ms, kind, rule, explanation, gpu_hours_used, gpu_hours_saved, "
    "usd_saved, granted_by, usd_per_hour_saved FROM decisions WHERE at_ms >= $1 "
    "ORDER BY at_ms DESC, id DESC";

LedgerDecision DecisionOf(const Row& r) {
  return {r.Text(0), r.Int(1),  r.Text(2), r.Text(3), r.Text(4),
          r.Real(5), r.Real(6), r.Real(7), r.Text(8), r.Real(9)};
}

std::string SqliteText(const char* sql) {
  std::string out = sql;
  for (char& c : out) {
    if (c == '$') c = '?';
  }
  return out;
}

const char* const kClaimAlert =
    "INSERT INTO alerts (budget, period, level, at_ms, detail) VALUES ($1, $2, $3, $4, $5) "
    "ON CONFLICT (budget, period, level) DO NOTHING";
const char* const kReleaseAlert =
    "DELETE FROM alerts WHERE budget = $1 AND period = $2 AND level = $3";
const char* const kSelectAlerts =
    "SELECT budget, period, level, at_ms, detail FROM alerts WHERE period = $1 "
    "ORDER BY at_ms, budget, level";

std::vector<Value> AlertParams(const LedgerAlert& a) {
  return StoreSafe({a.budget, a.period, int64_t{a.level}, int64_t{a.at}, a.detail});
}

LedgerAlert AlertOf(const Row& r) {
  return {r.Text(0), r.Text(1), static_cast<int>(r.Int(2)), r.Int(3), r.Text(4)};
}

const char* const kAskKeep =
    "INSERT INTO keep_requests (id, host, workload, duration_ms, who, admin, reason, source, "
    "asked_at_ms, state, answer, answered_at_ms, reply_to) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
    "ON CONFLICT (id) DO NOTHING";
const char* const kAnswerKeep =
    "UPDATE keep_requests SET state = $2, answer = $3, answered_at_ms = $4 "
    "WHERE id = $1 AND state = 'pending'";
#define GPULEDGER_KEEP_COLUMNS                                                               \
  "SELECT id, host, workload, duration_ms, who, admin, reason, source, asked_at_ms, state, " \
  "answer, answered_at_ms, reply_to FROM keep_requests "
const char* const kSelectPendingKeeps =
    GPULEDGER_KEEP_COLUMNS "WHERE host = $1 AND state = 'pending' ORDER BY asked_at_ms, id";
const char* const kSelectKeepById = GPULEDGER_KEEP_COLUMNS "WHERE id = $1";
#undef GPULEDGER_KEEP_COLUMNS

std::vector<Value> KeepRequestParams(const LedgerKeepRequest& r) {
  return StoreSafe({r.id, r.host, r.workload, int64_t{r.duration_ms}, r.who, int64_t{r.admin},
                    r.reason, r.source, int64_t{r.asked_at}, r.state, r.answer,
                    Optional(r.answered_at), r.reply_to});
}

LedgerKeepRequest KeepRequestOf(const Row& r) {
  LedgerKeepRequest k;
  k.id = r.Text(0), k.host = r.Text(1), k.workload = r.Text(2), k.duration_ms = r.Int(3);
  k.who = r.Text(4), k.admin = r.Int(5) != 0, k.reason = r.Text(6), k.source = r.Text(7);
  k.asked_at = r.Int(8), k.state = r.Text(9), k.answer = r.Text(10);
  if (!r.Null(11)) k.answered_at = r.Int(11);
  k.reply_to = r.Text(12);
  return k;
}

}  // namespace gpuledger::ledger_sql
