#include "ledger/ledger.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "core/csv_table.h"
#include "core/proc_stat.h"

namespace gpuledger {
namespace {

// Migration i brings the schema from version i to i + 1. Append; never edit a shipped one.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE jobs (
  job_id TEXT PRIMARY KEY, owner TEXT NOT NULL, labels TEXT NOT NULL, command TEXT NOT NULL,
  host TEXT NOT NULL, gpus TEXT NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER,
  status TEXT NOT NULL, exit_code INTEGER, killed_by TEXT NOT NULL, gpu_hours REAL NOT NULL,
  cost_usd REAL NOT NULL, repo TEXT NOT NULL, commit_sha TEXT NOT NULL, pr TEXT NOT NULL,
  dirty INTEGER NOT NULL, output_tail TEXT NOT NULL);
CREATE INDEX jobs_start ON jobs (start_ms);
CREATE TABLE decisions (
  id INTEGER PRIMARY KEY, job_id TEXT NOT NULL, at_ms INTEGER NOT NULL, kind TEXT NOT NULL,
  rule TEXT NOT NULL, explanation TEXT NOT NULL, gpu_hours_used REAL NOT NULL,
  gpu_hours_saved REAL NOT NULL, usd_saved REAL NOT NULL, granted_by TEXT NOT NULL);
CREATE INDEX decisions_at ON decisions (at_ms);
)sql",
    // 1 → 2: the process that runs a job (pid and its start time, in clock ticks since boot),
    // so a row left "running" by a process that died is recognisable as abandoned.
    R"sql(
ALTER TABLE jobs ADD COLUMN runner_pid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN runner_start INTEGER NOT NULL DEFAULT 0;
)sql",
    // 2 → 3: the node guard's workloads (kind: run, pg, jupyter, slurm, k8s, container; the
    // GPU-hours of them below threshold) and the rate a kill saves when its end is unknown.
    R"sql(
ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'run';
ALTER TABLE jobs ADD COLUMN idle_gpu_hours REAL;
ALTER TABLE decisions ADD COLUMN usd_per_hour_saved REAL NOT NULL DEFAULT 0;
)sql",
};

// A prepared statement, finalized when it goes out of scope.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_; }

  void Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.c_str(), -1, SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  template <typename T>
  void Bind(int i, const std::optional<T>& v) {
    if (v)
      Bind(i, static_cast<int64_t>(*v));
    else
      sqlite3_bind_null(stmt_, i);
  }
  std::string Text(int col) const {
    const auto* t = sqlite3_column_text(stmt_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool Null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

std::string Ledger::DefaultPath() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/gpuledger/ledger.db";
  }
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.local/share/gpuledger/ledger.db";
}

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& path) {
  // Ledgers hold command lines and output: a folder made here is 0700, a new file 0600 (SQLite
  // gives its -wal and -shm files the same mode).
  std::error_code ec;
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  }
  if (const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600); fd >= 0) {
    ::close(fd);
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return MakeError(ErrorCode::kIo, "cannot open ledger: " + message, path);
  }
  std::unique_ptr<Ledger> ledger(new Ledger(db));
  ledger->path_ = path;
  sqlite3_busy_timeout(db, 5000);
  // Many processes opening one new ledger at once contend for the switch to WAL and for the
  // schema; SQLite answers some of those conflicts with SQLITE_BUSY at once instead of waiting
  // (it would deadlock), so the setup is tried again after a short random pause.
  std::mt19937 jitter(static_cast<uint32_t>(getpid()));
  for (int attempt = 0;; ++attempt) {
    auto r = ledger->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    if (r) r = ledger->Migrate();
    if (r) return ledger;
    const int code = sqlite3_errcode(db) & 0xff;
    if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || attempt >= 100) {
      return std::unexpected(r.error());
    }
    (void)ledger->Exec("ROLLBACK;");  // a migration whose COMMIT was refused; else a no-op
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + jitter() % 45));
  }
}

Result<std::unique_ptr<Ledger>> Ledger::OpenExisting(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return MakeError(ErrorCode::kIo,
                     "no ledger here (gpuledger run and guard create one; --ledger names it)",
                     path);
  }
  return Open(path);
}

Ledger::~Ledger() { sqlite3_close(db_); }

int64_t ProcessStartTicks(int64_t pid) {
  const std::optional<ProcStat> stat = ReadProcStat(pid);
  return stat ? stat->start_ticks : -1;
}

std::string LedgerHostName() {
  char buf[256] = {};
  return gethostname(buf, sizeof buf - 1) == 0 ? buf : "localhost";
}

bool IsAbandoned(const LedgerJob& j, const std::string& this_host) {
  if (j.runner_pid <= 0 || j.host != this_host) return false;  // cannot tell from here
  const int64_t start = ProcessStartTicks(j.runner_pid);
  return start < 0 || start != j.runner_start;  // gone, or the pid is another process now
}

Error Ledger::SqlError(const std::string& what) const {
  return Error{ErrorCode::kIo, what + ": " + sqlite3_errmsg(db_), path_};
}

Result<void> Ledger::Exec(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string m = message ? message : "?";
    sqlite3_free(message);
    return MakeError(ErrorCode::kIo, "ledger: " + m, path_);
  }
  return {};
}

int Ledger::SchemaVersion() const {
  Statement s(db_, "PRAGMA user_version");
  return s.ok() && sqlite3_step(s.get()) == SQLITE_ROW ? static_cast<int>(s.Int(0)) : -1;
}

Result<void> Ledger::Migrate() {
  const int version = SchemaVersion();
  if (version > kSchemaVersion) {
    return MakeError(
        ErrorCode::kIo,
        fmt::format("ledger schema {} is newer than this gpuledger ({})", version, kSchemaVersion),
        path_);
  }
  if (version == kSchemaVersion) return {};
  // Another process may be migrating the same new file: take the write lock first (the busy
  // timeout waits for it), then read the version again under it.
  if (auto r = Exec("BEGIN IMMEDIATE;"); !r) return r;
  for (int v = SchemaVersion(); v < kSchemaVersion; ++v) {
    const std::string sql = fmt::format("{} PRAGMA user_version = {};", kMigrations[v], v + 1);
    if (auto r = Exec(sql); !r) {
      (void)Exec("ROLLBACK;");
      return r;
    }
  }
  return Exec("COMMIT;");
}

Result<void> Ledger::PutJob(const LedgerJob& j) {
  Statement s(db_,
              "INSERT OR REPLACE INTO jobs (job_id, owner, labels, command, host, gpus, start_ms, "
              "end_ms, status, exit_code, killed_by, gpu_hours, cost_usd, repo, commit_sha, pr, "
              "dirty, output_tail, runner_pid, runner_start, kind, idle_gpu_hours) "
              "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!s.ok()) return std::unexpected(SqlError("cannot prepare"));
  s.Bind(1, j.job_id), s.Bind(2, j.owner), s.Bind(3, j.labels), s.Bind(4, j.command);
  s.Bind(5, j.host), s.Bind(6, j.gpus), s.Bind(7, static_cast<int64_t>(j.start)), s.Bind(8, j.end);
  s.Bind(9, j.status), s.Bind(10, j.exit_code), s.Bind(11, j.killed_by), s.Bind(12, j.gpu_hours);
  s.Bind(13, j.cost_usd), s.Bind(14, j.repo), s.Bind(15, j.commit), s.Bind(16, j.pr);
  s.Bind(17, static_cast<int64_t>(j.dirty)), s.Bind(18, j.output_tail);
  s.Bind(19, j.runner_pid), s.Bind(20, j.runner_start), s.Bind(21, j.kind);
  if (j.idle_gpu_hours)
    s.Bind(22, *j.idle_gpu_hours);
  else
    sqlite3_bind_null(s.get(), 22);
  if (sqlite3_step(s.get()) != SQLITE_DONE) return std::unexpected(SqlError("cannot write job"));
  return {};
}

Result<void> Ledger::AddDecision(const LedgerDecision& d) {
  Statement s(db_,
              "INSERT INTO decisions (job_id, at_ms, kind, rule, explanation, gpu_hours_used, "
              "gpu_hours_saved, usd_saved, granted_by, usd_per_hour_saved) "
              "VALUES (?,?,?,?,?,?,?,?,?,?)");
  if (!s.ok()) return std::unexpected(SqlError("cannot prepare"));
  s.Bind(1, d.job_id), s.Bind(2, static_cast<int64_t>(d.at)), s.Bind(3, d.kind);
  s.Bind(4, d.rule), s.Bind(5, d.explanation), s.Bind(6, d.gpu_hours_used);
  s.Bind(7, d.gpu_hours_saved), s.Bind(8, d.usd_saved), s.Bind(9, d.granted_by);
  s.Bind(10, d.usd_per_hour_saved);
  if (sqlite3_step(s.get()) != SQLITE_DONE)
    return std::unexpected(SqlError("cannot write decision"));
  return {};
}

Result<std::vector<LedgerJob>> Ledger::Jobs(TimeMs since) const {
  Statement s(db_,
              "SELECT job_id, owner, labels, command, host, gpus, start_ms, end_ms, status, "
              "exit_code, killed_by, gpu_hours, cost_usd, repo, commit_sha, pr, dirty, "
              "output_tail, runner_pid, runner_start, kind, idle_gpu_hours FROM jobs "
              "WHERE start_ms >= ? "
              "ORDER BY start_ms DESC, job_id");
  if (!s.ok()) return std::unexpected(SqlError("cannot prepare"));
  s.Bind(1, static_cast<int64_t>(since));
  std::vector<LedgerJob> out;
  const std::string host = LedgerHostName();
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    LedgerJob j;
    j.job_id = s.Text(0), j.owner = s.Text(1), j.labels = s.Text(2), j.command = s.Text(3);
    j.host = s.Text(4), j.gpus = s.Text(5), j.start = s.Int(6);
    if (!s.Null(7)) j.end = s.Int(7);
    j.status = s.Text(8);
    if (!s.Null(9)) j.exit_code = static_cast<int>(s.Int(9));
    j.killed_by = s.Text(10), j.gpu_hours = s.Real(11), j.cost_usd = s.Real(12);
    j.repo = s.Text(13), j.commit = s.Text(14), j.pr = s.Text(15), j.dirty = s.Int(16) != 0;
    j.output_tail = s.Text(17);
    j.runner_pid = s.Int(18), j.runner_start = s.Int(19), j.kind = s.Text(20);
    if (!s.Null(21)) j.idle_gpu_hours = s.Real(21);
    if (j.status == "running" && IsAbandoned(j, host)) j.status = "abandoned";
    out.push_back(std::move(j));
  }
  return out;
}

Result<std::vector<LedgerDecision>> Ledger::Decisions(TimeMs since) const {
  Statement s(db_,
              "SELECT job_id, at_ms, kind, rule, explanation, gpu_hours_used, gpu_hours_saved, "
              "usd_saved, granted_by, usd_per_hour_saved FROM decisions WHERE at_ms >= ? "
              "ORDER BY at_ms DESC, id DESC");
  if (!s.ok()) return std::unexpected(SqlError("cannot prepare"));
  s.Bind(1, static_cast<int64_t>(since));
  std::vector<LedgerDecision> out;
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    out.push_back({s.Text(0), s.Int(1), s.Text(2), s.Text(3), s.Text(4), s.Real(5), s.Real(6),
                   s.Real(7), s.Text(8), s.Real(9)});
  }
  return out;
}

Result<std::vector<OwnerTotals>> Ledger::Owners(TimeMs since) const {
  Statement s(db_,
              "SELECT owner, COUNT(*), SUM(status = 'failed'), SUM(killed_by != ''), "
              "SUM(gpu_hours), SUM(cost_usd) FROM jobs WHERE start_ms >= ? GROUP BY owner "
              "ORDER BY SUM(cost_usd) DESC, owner");
  if (!s.ok()) return std::unexpected(SqlError("cannot prepare"));
  s.Bind(1, static_cast<int64_t>(since));
  std::vector<OwnerTotals> out;
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    out.push_back({s.Text(0), s.Int(1), s.Int(2), s.Int(3), s.Real(4), s.Real(5)});
  }
  return out;
}

std::string JobsToCsv(const std::vector<LedgerJob>& jobs) {
  std::string out = "job_id,machine,gpus,owner,start,end,status,exit_code,repo,commit,pr,kind\n";
  for (const LedgerJob& j : jobs) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\n", CsvQuote(j.job_id),
                       CsvQuote(j.host), CsvQuote(j.gpus), CsvQuote(j.owner), FormatIsoUtc(j.start),
                       j.end ? FormatIsoUtc(*j.end) : "", CsvQuote(j.status),
                       j.exit_code ? std::to_string(*j.exit_code) : "", CsvQuote(j.repo),
                       CsvQuote(j.commit), CsvQuote(j.pr), CsvQuote(j.kind));
  }
  return out;
}

}  // namespace gpuledger
