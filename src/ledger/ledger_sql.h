// What the two ledger stores share: the schema's migrations, the statements (written once, with
// PostgreSQL's $1 placeholders; SQLite reads them as ?1), and the mapping between rows and
// LedgerJob / LedgerDecision. Internal to ledger/.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "ledger/ledger.h"

namespace gpuledger::ledger_sql {

enum class Dialect { kSqlite, kPostgres };

// The SQL that brings the schema from version "from" to from + 1 (0 <= from < kSchemaVersion).
std::string Migration(int from, Dialect dialect);

// A statement parameter: NULL, an integer, a real or a text.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

// One result row, whichever store it came from.
class Row {
 public:
  virtual ~Row() = default;
  virtual bool Null(int col) const = 0;
  virtual std::string Text(int col) const = 0;
  virtual int64_t Int(int col) const = 0;
  virtual double Real(int col) const = 0;
};

// Upserts a job: parameters JobParams(job, now).
extern const char* const kPutJob;
std::vector<Value> JobParams(const LedgerJob& job, TimeMs now);

// Adds a decision unless the same (job, instant, kind, rule) is there: DecisionParams(d).
extern const char* const kAddDecision;
std::vector<Value> DecisionParams(const LedgerDecision& decision);

// The statement (kPutJob, kAddDecision or kAnswerKeep) and parameters of one write.
struct Statement {
  const char* sql;
  std::vector<Value> params;
};
Statement StatementOf(const LedgerWrite& write, TimeMs now);

// Selects jobs started at or after $1, newest first: rows for JobOf.
extern const char* const kSelectJobs;
LedgerJob JobOf(const Row& row);

// Selects decisions made at or after $1, newest first: rows for DecisionOf.
extern const char* const kSelectDecisions;
LedgerDecision DecisionOf(const Row& row);

// Budget alerts: claim (insert unless there; parameters AlertParams; the first three are the
// key, which release takes), release, and select by period ($1).
extern const char* const kClaimAlert;
extern const char* const kReleaseAlert;
extern const char* const kSelectAlerts;
std::vector<Value> AlertParams(const LedgerAlert& alert);
LedgerAlert AlertOf(const Row& row);

// Keep requests: ask (insert unless its id is there; KeepRequestParams), answer (a pending one;
// parameters id, state, answer, at), select the pending of a host ($1) and one by id ($1):
// rows for KeepRequestOf.
extern const char* const kAskKeep;
extern const char* const kAnswerKeep;
extern const char* const kSelectPendingKeeps;
extern const char* const kSelectKeepById;
std::vector<Value> KeepRequestParams(const LedgerKeepRequest& request);
LedgerKeepRequest KeepRequestOf(const Row& row);

// "sql" with $N placeholders written ?N (SQLite's numbered form).
std::string SqliteText(const char* sql);

}  // namespace gpuledger::ledger_sql
