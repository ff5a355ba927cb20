#include "ledger/postgres_ledger.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <charconv>
#include <cstdlib>

#include "ledger/ledger_sql.h"

namespace gpuledger {
namespace {

using ledger_sql::Value;

// Serialises migrations of one database across every gpuledger connecting to it.
constexpr int64_t kMigrationLock = 0x67706c6564676572;  // "gpledger"

// A result, cleared when it goes out of scope; its rows as Rows.
class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r) {}
  ~PgResult() { PQclear(r_); }
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  PGresult* get() const { return r_; }
  int rows() const { return PQntuples(r_); }

 private:
  PGresult* r_;
};

class PgRow : public ledger_sql::Row {
 public:
  PgRow(PGresult* r, int row) : r_(r), row_(row) {}
  bool Null(int col) const override { return PQgetisnull(r_, row_, col) != 0; }
  std::string Text(int col) const override { return PQgetvalue(r_, row_, col); }
  int64_t Int(int col) const override {
    const char* s = PQgetvalue(r_, row_, col);
    int64_t v = 0;
    std::from_chars(s, s + std::char_traits<char>::length(s), v);
    return v;
  }
  double Real(int col) const override { return std::strtod(PQgetvalue(r_, row_, col), nullptr); }

 private:
  PGresult* r_;
  int row_;
};

// A parameter as text (libpq's text format); doubles with enough digits to read back exactly.
std::optional<std::string> ParamText(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("{:.17g}", *d);
  return std::nullopt;
}

// Statement parameters as libpq takes them: texts, null for NULL.
class Params {
 public:
  explicit Params(const std::vector<Value>& values) {
    for (const Value& v : values) texts_.push_back(ParamText(v));
    for (const auto& t : texts_) values_.push_back(t ? t->c_str() : nullptr);
  }
  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }

 private:
  std::vector<std::optional<std::string>> texts_;
  std::vector<const char*> values_;
};

// The URL with what gpuledger wants unless it says otherwise: a bounded connect, a name in
// pg_stat_activity.
std::string ConnectionUrl(const std::string& url) {
  std::string out = url;
  auto add = [&](const char* key, const char* value) {
    if (out.find(std::string(key) + "=") != std::string::npos) return;
    out += (out.find('?') == std::string::npos ? "?" : "&") + std::string(key) + "=" + value;
  };
  add("connect_timeout", "10");
  add("application_name", "gpuledger");
  return out;
}

class PostgresLedger : public Ledger {
 public:
  explicit PostgresLedger(std::string url)
      : url_(ConnectionUrl(url)), location_(RedactedLocation(url)) {}
  ~PostgresLedger() override { PQfinish(conn_); }

  Result<void> Connect();
  Result<void> Migrate(bool create);
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
  std::string Location() const override { return location_; }

 private:
  // Runs "sql" with "params"; a connection found lost is made again and the statement tried
  // once more (outside a transaction only: inside one, the caller retries the whole of it).
  Result<PgResult> Exec(const std::string& sql, const std::vector<Value>& params = {},
                        bool in_transaction = false) const;
  Result<void> Run(const std::string& sql, bool in_transaction = false) const;
  // Sends "writes" in libpq's pipeline mode and one sync: PostgreSQL runs them as one implicit
  // transaction (all or none) in one round trip.
  Result<void> Pipeline(std::span<const LedgerWrite> writes, TimeMs now);
  Result<int> ReadVersion() const;
  Error PgError(const std::string& what) const {
    std::string m = PQerrorMessage(conn_);
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    return Error{ErrorCode::kIo, RedactSecrets(what + ": " + m, url_), location_};
  }

  std::string url_, location_;
  PGconn* conn_ = nullptr;
};

Result<void> PostgresLedger::Connect() {
  conn_ = PQconnectdb(url_.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) return std::unexpected(PgError("cannot connect"));
  (void)Run("SET client_min_messages = warning");  // no NOTICEs from IF NOT EXISTS on stderr
  return {};
}

Result<PgResult> PostgresLedger::Exec(const std::string& sql, const std::vector<Value>& params,
                                      bool in_transaction) const {
  const Params p(params);
  for (int attempt = 0;; ++attempt) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      if (in_transaction) return std::unexpected(PgError("ledger: connection lost"));
      PQreset(conn_);
    }
    // Without parameters, PQexec: a migration is several statements in one string.
    PgResult r(p.size() == 0 ? PQexec(conn_, sql.c_str())
                             : PQexecParams(conn_, sql.c_str(), p.size(), nullptr, p.values(),
                                            nullptr, nullptr, 0));
    const ExecStatusType status = PQresultStatus(r.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
    if (PQstatus(conn_) == CONNECTION_OK || in_transaction || attempt > 0) {
      return std::unexpected(PgError("ledger"));
    }
  }
}

Result<void> PostgresLedger::Run(const std::string& sql, bool in_transaction) const {
  auto r = Exec(sql, {}, in_transaction);
  return r ? Result<void>() : std::unexpected(r.error());
}

Result<int> PostgresLedger::ReadVersion() const {
  auto exists = Exec("SELECT to_regclass('gpuledger_schema') IS NOT NULL");
  if (!exists) return std::unexpected(exists.error());
  if (std::string(PQgetvalue(exists->get(), 0, 0)) != "t") return 0;
  auto r = Exec("SELECT max(version) FROM gpuledger_schema");
  if (!r) return std::unexpected(r.error());
  return PQgetisnull(r->get(), 0, 0) ? 0 : std::atoi(PQgetvalue(r->get(), 0, 0));
}

int PostgresLedger::SchemaVersion() const {
  auto v = ReadVersion();
  return v ? *v : -1;
}

Result<void> PostgresLedger::Migrate(bool create) {
  auto version = ReadVersion();
  if (!version) return std::unexpected(version.error());
  auto newer = [&](int v) {
    return MakeError(
        ErrorCode::kIo,
        fmt::format("ledger schema {} is newer than this gpuledger ({})", v, kSchemaVersion),
        location_);
  };
  if (*version > kSchemaVersion) return newer(*version);
  if (*version == kSchemaVersion) return {};
  if (*version == 0 && !create) {
    return MakeError(ErrorCode::kIo,
                     "no ledger in this database (gpuledger run and guard create one; --ledger "
                     "names it)",
                     location_);
  }
  // Everyone migrating takes the same lock, then reads the version again under it.
  auto tx = [&]() -> Result<void> {
    if (auto r = Run("BEGIN", true); !r) return r;
    if (auto r = Exec(fmt::format("SELECT pg_advisory_xact_lock({})", kMigrationLock), {}, true);
        !r) {
      return std::unexpected(r.error());
    }
    if (auto r =
            Run("CREATE TABLE IF NOT EXISTS gpuledger_schema (version INTEGER NOT NULL)", true);
        !r) {
      return r;
    }
    auto now = ReadVersion();
    if (!now) return std::unexpected(now.error());
    if (*now > kSchemaVersion) return newer(*now);
    for (int v = *now; v < kSchemaVersion; ++v) {
      if (auto r = Run(ledger_sql::Migration(v, ledger_sql::Dialect::kPostgres), true); !r)
        return r;
    }
    if (*now < kSchemaVersion) {
      if (auto r = Run("DELETE FROM gpuledger_schema", true); !r) return r;
      if (auto r =
              Run(fmt::format("INSERT INTO gpuledger_schema VALUES ({})", kSchemaVersion), true);
          !r) {
        return r;
      }
    }
    return Run("COMMIT", true);
  };
  auto r = tx();
  if (!r) (void)Run("ROLLBACK", true);
  return r;
}

Result<void> PostgresLedger::Write(std::span<const LedgerWrite> writes) {
  if (writes.empty()) return {};
  const TimeMs now = WallNow();
  if (writes.size() == 1) {
    const ledger_sql::Statement st = ledger_sql::StatementOf(writes.front(), now);
    auto r = Exec(st.sql, st.params);
    return r ? Result<void>() : std::unexpected(r.error());
  }
  // A batch is one transaction in one round trip; a lost connection is survived once by
  // sending it all again.
  for (int attempt = 0;; ++attempt) {
    if (PQstatus(conn_) != CONNECTION_OK) PQreset(conn_);
    auto r = Pipeline(writes, now);
    if (r || PQstatus(conn_) == CONNECTION_OK || attempt > 0) return r;
  }
}

Result<void> PostgresLedger::Pipeline(std::span<const LedgerWrite> writes, TimeMs now) {
  if (PQenterPipelineMode(conn_) != 1) return std::unexpected(PgError("ledger: pipeline"));
  bool sent = true;
  for (const LedgerWrite& w : writes) {
    const ledger_sql::Statement st = ledger_sql::StatementOf(w, now);
    const Params p(st.params);
    if (PQsendQueryParams(conn_, st.sql, p.size(), nullptr, p.values(), nullptr, nullptr, 0) != 1) {
      sent = false;
      break;
    }
  }
  if (sent && PQpipelineSync(conn_) != 1) sent = false;
  std::optional<Error> error;
  if (!sent) error = PgError("ledger: cannot send the batch");
  // Each statement's results end with a null; the sync's result ends the batch.
  for (size_t nulls = 0; sent && nulls <= writes.size() + 1;) {
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {
      if (PQstatus(conn_) != CONNECTION_OK) break;
      ++nulls;
      continue;
    }
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_FATAL_ERROR && !error) {
      std::string m = PQresultErrorMessage(r);
      while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
      error = Error{ErrorCode::kIo, "ledger: " + m, location_};
    }
    PQclear(r);
    if (status == PGRES_PIPELINE_SYNC) {
      PQexitPipelineMode(conn_);
      return error ? Result<void>(std::unexpected(*error)) : Result<void>();
    }
  }
  // Cut short (a lost connection): nothing of the batch is known to be in.
  PQexitPipelineMode(conn_);
  return std::unexpected(error ? *error : PgError("ledger: connection lost mid-batch"));
}

Result<std::vector<LedgerJob>> PostgresLedger::Jobs(TimeMs since) const {
  auto r = Exec(ledger_sql::kSelectJobs, {int64_t{since}});
  if (!r) return std::unexpected(r.error());
  std::vector<LedgerJob> out;
  const std::string host = LedgerHostName();
  const TimeMs now = WallNow();
  for (int i = 0; i < r->rows(); ++i) {
    out.push_back(ledger_sql::JobOf(PgRow(r->get(), i)));
    out.back().status = ReadStatus(out.back(), host, now);
  }
  return out;
}

Result<std::vector<LedgerDecision>> PostgresLedger::Decisions(TimeMs since) const {
  auto r = Exec(ledger_sql::kSelectDecisions, {int64_t{since}});
  if (!r) return std::unexpected(r.error());
  std::vector<LedgerDecision> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(ledger_sql::DecisionOf(PgRow(r->get(), i)));
  return out;
}

Result<bool> PostgresLedger::ClaimAlert(const LedgerAlert& alert) {
  auto r = Exec(ledger_sql::kClaimAlert, ledger_sql::AlertParams(alert));
  if (!r) return std::unexpected(r.error());
  return std::string(PQcmdTuples(r->get())) == "1";
}

Result<void> PostgresLedger::ReleaseAlert(const LedgerAlert& alert) {
  std::vector<ledger_sql::Value> key = ledger_sql::AlertParams(alert);
  key.resize(3);
  auto r = Exec(ledger_sql::kReleaseAlert, key);
  return r ? Result<void>() : std::unexpected(r.error());
}

Result<std::vector<LedgerAlert>> PostgresLedger::Alerts(const std::string& period) const {
  auto r = Exec(ledger_sql::kSelectAlerts, {period});
  if (!r) return std::unexpected(r.error());
  std::vector<LedgerAlert> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(ledger_sql::AlertOf(PgRow(r->get(), i)));
  return out;
}

Result<bool> PostgresLedger::AskKeep(const LedgerKeepRequest& request) {
  auto r = Exec(ledger_sql::kAskKeep, ledger_sql::KeepRequestParams(request));
  if (!r) return std::unexpected(r.error());
  return std::string(PQcmdTuples(r->get())) == "1";
}

Result<std::vector<LedgerKeepRequest>> PostgresLedger::PendingKeeps(const std::string& host) const {
  auto r = Exec(ledger_sql::kSelectPendingKeeps, {host});
  if (!r) return std::unexpected(r.error());
  std::vector<LedgerKeepRequest> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(ledger_sql::KeepRequestOf(PgRow(r->get(), i)));
  return out;
}

Result<std::optional<LedgerKeepRequest>> PostgresLedger::KeepRequestById(
    const std::string& id) const {
  auto r = Exec(ledger_sql::kSelectKeepById, {id});
  if (!r) return std::unexpected(r.error());
  if (r->rows() == 0) return std::optional<LedgerKeepRequest>();
  return ledger_sql::KeepRequestOf(PgRow(r->get(), 0));
}

}  // namespace

Result<std::unique_ptr<Ledger>> OpenPostgresLedger(const std::string& url, bool create) {
  auto ledger = std::make_unique<PostgresLedger>(url);
  if (auto r = ledger->Connect(); !r) return std::unexpected(r.error());
  if (auto r = ledger->Migrate(create); !r) return std::unexpected(r.error());
  return ledger;
}

}  // namespace gpuledger
