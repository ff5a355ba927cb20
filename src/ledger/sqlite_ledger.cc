#include "ledger/sqlite_ledger.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "ledger/ledger_sql.h"

namespace gpuledger {
namespace {

using ledger_sql::Value;

// A prepared statement, finalized when it goes out of scope; its current row as a Row.
class Statement : public ledger_sql::Row {
 public:
  Statement(sqlite3* db, const char* sql) {
    sqlite3_prepare_v2(db, ledger_sql::SqliteText(sql).c_str(), -1, &stmt_, nullptr);
  }
  ~Statement() override { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_; }

  void Bind(const std::vector<Value>& values) {
    sqlite3_reset(stmt_);
    for (size_t k = 0; k < values.size(); ++k) {
      const int i = static_cast<int>(k) + 1;
      const Value& v = values[k];
      if (const auto* s = std::get_if<std::string>(&v)) {
        sqlite3_bind_text(stmt_, i, s->c_str(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
      } else if (const auto* n = std::get_if<int64_t>(&v)) {
        sqlite3_bind_int64(stmt_, i, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        sqlite3_bind_double(stmt_, i, *d);
      } else {
        sqlite3_bind_null(stmt_, i);
      }
    }
  }
  bool Null(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const override {
    const auto* t = sqlite3_column_text(stmt_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  int64_t Int(int col) const override { return sqlite3_column_int64(stmt_, col); }
  double Real(int col) const override { return sqlite3_column_double(stmt_, col); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteLedger : public Ledger {
 public:
  SqliteLedger(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteLedger() override { sqlite3_close(db_); }

  Result<void> Setup();
  Result<void> Write(std::span<const LedgerWrite> writes) override;
  Result<std::vector<LedgerJob>> Jobs(TimeMs since) const override;
  Result<std::vector<LedgerDecision>> Decisions(TimeMs since) const override;
  Result<bool> ClaimAlert(const LedgerAlert& alert) override;
  Result<void> ReleaseAlert(const LedgerAlert& alert) override;
  Result<std::vector<LedgerAlert>> Alerts(const std::string& period) const override;
  Result<bool> AskKeep(const LedgerKeepRequest& request) override;
  Result<std::vector<LedgerKeepRequest>> PendingKeeps(const std::string& host) const override;
  Result<std::optional<LedgerKeepRequest>> KeepRequestById(const std::string& id) const override;
  int SchemaVersion() const override;
  std::string Location() const override { return path_; }

 private:
  Result<void> Migrate();
  Result<void> Exec(const std::string& sql);
  Error SqlError(const std::string& what) const {
    return Error{ErrorCode::kIo, what + ": " + sqlite3_errmsg(db_), path_};
  }

  sqlite3* db_;
  std::string path_;
};

Result<void> SqliteLedger::Exec(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string m = message ? message : "?";
    sqlite3_free(message);
    return MakeError(ErrorCode::kIo, "ledger: " + m, path_);
  }
  return {};
}

int SqliteLedger::SchemaVersion() const {
  Statement s(db_, "PRAGMA user_version");
  return s.ok() && sqlite3_step(s.get()) == SQLITE_ROW ? static_cast<int>(s.Int(0)) : -1;
}

Result<void> SqliteLedger::Migrate() {
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
    const std::string sql =
        fmt::format("{} PRAGMA user_version = {};",
                    ledger_sql::Migration(v, ledger_sql::Dialect::kSqlite), v + 1);
    if (auto r = Exec(sql); !r) {
      (void)Exec("ROLLBACK;");
      return r;
    }
  }
  return Exec("COMMIT;");
}

Result<void> SqliteLedger::Setup() {
  sqlite3_busy_timeout(db_, 5000);
  // Many processes opening one new ledger at once contend for the switch to WAL and for the
  // schema; SQLite answers some of those conflicts with SQLITE_BUSY at once instead of waiting
  // (it would deadlock), so the setup is tried again after a short random pause.
  std::mt19937 jitter(static_cast<uint32_t>(getpid()));
  for (int attempt = 0;; ++attempt) {
    auto r = Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    if (r) r = Migrate();
    if (r) return {};
    const int code = sqlite3_errcode(db_) & 0xff;
    if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || attempt >= 100) return r;
    (void)Exec("ROLLBACK;");  // a migration whose COMMIT was refused; else a no-op
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + jitter() % 45));
  }
}

Result<void> SqliteLedger::Write(std::span<const LedgerWrite> writes) {
  if (writes.empty()) return {};
  // One prepared statement per kind of write: a job, a decision, a keep request's answer.
  Statement job(db_, ledger_sql::kPutJob), decision(db_, ledger_sql::kAddDecision),
      answer(db_, ledger_sql::kAnswerKeep);
  if (!job.ok() || !decision.ok() || !answer.ok())
    return std::unexpected(SqlError("cannot prepare"));
  const bool batch = writes.size() > 1;
  if (batch) {
    if (auto r = Exec("BEGIN IMMEDIATE;"); !r) return r;
  }
  const TimeMs now = WallNow();
  for (const LedgerWrite& w : writes) {
    const ledger_sql::Statement st = ledger_sql::StatementOf(w, now);
    Statement& s = st.sql == ledger_sql::kPutJob       ? job
                   : st.sql == ledger_sql::kAnswerKeep ? answer
                                                       : decision;
    s.Bind(st.params);
    if (sqlite3_step(s.get()) != SQLITE_DONE) {
      Error e = SqlError(&s == &job        ? "cannot write job"
                         : &s == &decision ? "cannot write decision"
                                           : "cannot answer keep request");
      if (batch) (void)Exec("ROLLBACK;");
      return std::unexpected(e);
    }
  }
  return batch ? Exec("COMMIT;") : Result<void>();
}

Result<std::vector<LedgerJob>> SqliteLedger::Jobs(TimeMs since) const {
  Statement s(db_, ledger_sql::kSelectJobs);
  if (!s.ok()) return std::unexpected(SqlError("cannot prepare"));
  s.Bind({int64_t{since}});
  std::vector<LedgerJob> out;
  const std::string host = LedgerHostName();
  const TimeMs now = WallNow();
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    out.push_back(ledger_sql::JobOf(s));
    out.back().status = ReadStatus(out.back(), host, now);
  }
  return out;
}

Result<std::vector<LedgerDecision>> SqliteLedger::Decisions(TimeMs since) const {
  Statement s(db_, ledger_sql::kSelectDecisions);
  if (!s.ok()) return std::unexpected(SqlError("cannot prepare"));
  s.Bind({int64_t{since}});
  std::vector<LedgerDecision> out;
  while (sqlite3_step(s.get()) == SQLITE_ROW) out.push_back(ledger_sql::DecisionOf(s));
  return out;
}

Result<bool> SqliteLedger::ClaimAlert(const LedgerAlert& alert) {
  Statement s(db_, ledger_sql::kClaimAlert);
  if (!s.ok()) return std::unexpected(SqlError("cannot prepare"));
  s.Bind(ledger_sql::AlertParams(alert));
  if (sqlite3_step(s.get()) != SQLITE_DONE) return std::unexpected(SqlError("cannot write alert"));
  return sqlite3_changes(db_) > 0;
}

Result<void> SqliteLedger::ReleaseAlert(const LedgerAlert& alert) {
  Statement s(db_, ledger_sql::kReleaseAlert);
  if (!s.ok()) return std::unexpected(SqlError("cannot prepare"));
  std::vector<ledger_sql::Value> key = ledger_sql::AlertParams(alert);
  key.resize(3);
  s.Bind(key);
  if (sqlite3_step(s.get()) != SQLITE_DONE) return std::unexpected(SqlError("cannot drop alert"));
  return {};
}

Result<std::vector<LedgerAlert>> SqliteLedger::Alerts(const std::string& period) const {
  Statement s(db_, ledger_sql::kSelectAlerts);
  if (!s.ok()) return std::unexpected(SqlError("cannot prepare"));
  s.Bind({period});
  std::vector<LedgerAlert> out;
  while (sqlite3_step(s.get()) == SQLITE_ROW) out.push_back(ledger_sql::AlertOf(s));
  return out;
}

Result<bool> SqliteLedger::AskKeep(const LedgerKeepRequest& request) {
  Statement s(db_, ledger_sql::kAskKeep);
  if (!s.ok()) return std::unexpected(SqlError("cannot prepare"));
  s.Bind(ledger_sql::KeepRequestParams(request));
  if (sqlite3_step(s.get()) != SQLITE_DONE)
    return std::unexpected(SqlError("cannot write keep request"));
  return sqlite3_changes(db_) > 0;
}

Result<std::vector<LedgerKeepRequest>> SqliteLedger::PendingKeeps(const std::string& host) const {
  Statement s(db_, ledger_sql::kSelectPendingKeeps);
  if (!s.ok()) return std::unexpected(SqlError("cannot prepare"));
  s.Bind({host});
  std::vector<LedgerKeepRequest> out;
  while (sqlite3_step(s.get()) == SQLITE_ROW) out.push_back(ledger_sql::KeepRequestOf(s));
  return out;
}

Result<std::optional<LedgerKeepRequest>> SqliteLedger::KeepRequestById(
    const std::string& id) const {
  Statement s(db_, ledger_sql::kSelectKeepById);
  if (!s.ok()) return std::unexpected(SqlError("cannot prepare"));
  s.Bind({id});
  if (sqlite3_step(s.get()) != SQLITE_ROW) return std::optional<LedgerKeepRequest>();
  return ledger_sql::KeepRequestOf(s);
}

}  // namespace

Result<std::unique_ptr<Ledger>> OpenSqliteLedger(const std::string& path) {
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
  auto ledger = std::make_unique<SqliteLedger>(db, path);
  if (auto r = ledger->Setup(); !r) return std::unexpected(r.error());
  return ledger;
}

}  // namespace gpuledger
