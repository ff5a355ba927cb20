#include "ledger/ledger.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "core/csv_table.h"
#include "core/proc_stat.h"
#include "ledger/postgres_ledger.h"
#include "ledger/sqlite_ledger.h"

namespace gpuledger {

std::string Ledger::DefaultPath() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/gpuledger/ledger.db";
  }
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.local/share/gpuledger/ledger.db";
}

bool IsPostgresLocation(const std::string& location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

namespace {

// Where each "password=" value (URL parameter or key=value connection string) ends.
size_t PasswordValueEnd(const std::string& s, size_t from) {
  if (from < s.size() && s[from] == '\'') {  // key='quoted value'
    const size_t close = s.find('\'', from + 1);
    return close == std::string::npos ? s.size() : close + 1;
  }
  const size_t end = s.find_first_of("& \t\n", from);
  return end == std::string::npos ? s.size() : end;
}

// The userinfo password of scheme://user:password@host, as [begin, end); npos when none.
std::pair<size_t, size_t> UserinfoPassword(const std::string& s) {
  const size_t scheme = s.find("://");
  if (scheme == std::string::npos) return {std::string::npos, 0};
  const size_t from = scheme + 3;
  const size_t at = s.rfind('@', s.find_first_of("/?#", from));
  if (at == std::string::npos || at < from) return {std::string::npos, 0};
  const size_t colon = s.find(':', from);
  if (colon == std::string::npos || colon > at) return {std::string::npos, 0};
  return {colon + 1, at};
}

}  // namespace

std::vector<std::string> PasswordsOf(const std::string& location) {
  std::vector<std::string> out;
  if (auto [begin, end] = UserinfoPassword(location); begin != std::string::npos && end > begin)
    out.push_back(location.substr(begin, end - begin));
  for (size_t p = location.find("password="); p != std::string::npos;
       p = location.find("password=", p + 1)) {
    const size_t from = p + 9, to = PasswordValueEnd(location, from);
    std::string v = location.substr(from, to - from);
    if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
    if (!v.empty()) out.push_back(v);
  }
  return out;
}

std::string RedactedLocation(const std::string& location) {
  std::string out = location;
  if (auto [begin, end] = UserinfoPassword(out); begin != std::string::npos)
    out.replace(begin, end - begin, "***");
  for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    const size_t from = p + 9;
    out.replace(from, PasswordValueEnd(out, from) - from, "***");
  }
  return out;
}

std::string RedactSecrets(std::string text, const std::string& location) {
  for (const std::string& secret : PasswordsOf(location)) {
    for (size_t at; (at = text.find(secret)) != std::string::npos;)
      text.replace(at, secret.size(), "***");
  }
  for (size_t p = text.find("password="); p != std::string::npos;
       p = text.find("password=", p + 1)) {
    const size_t from = p + 9;
    text.replace(from, PasswordValueEnd(text, from) - from, "***");
  }
  return text;
}

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& location) {
  if (IsPostgresLocation(location)) return OpenPostgresLedger(location, true);
  return OpenSqliteLedger(location);
}

Result<std::unique_ptr<Ledger>> Ledger::OpenExisting(const std::string& location) {
  if (IsPostgresLocation(location)) return OpenPostgresLedger(location, false);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(location, ec)) {
    return MakeError(ErrorCode::kIo,
                     "no ledger here (gpuledger run and guard create one; --ledger names it)",
                     location);
  }
  return OpenSqliteLedger(location);
}

Result<void> Ledger::PutJob(const LedgerJob& job) {
  const LedgerWrite w = job;
  return Write({&w, 1});
}

Result<void> Ledger::AddDecision(const LedgerDecision& decision) {
  const LedgerWrite w = decision;
  return Write({&w, 1});
}

Result<std::vector<OwnerTotals>> Ledger::Owners(TimeMs since) const {
  auto jobs = Jobs(since);
  if (!jobs) return std::unexpected(jobs.error());
  std::map<std::string, OwnerTotals> by_owner;
  for (const LedgerJob& j : *jobs) {
    OwnerTotals& o = by_owner[j.owner];
    o.owner = j.owner;
    ++o.jobs;
    o.failed += j.status == "failed";
    o.killed += !j.killed_by.empty();
    o.gpu_hours += j.gpu_hours, o.cost_usd += j.cost_usd;
  }
  std::vector<OwnerTotals> out;
  for (auto& [owner, o] : by_owner) out.push_back(o);
  std::stable_sort(out.begin(), out.end(), [](const OwnerTotals& a, const OwnerTotals& b) {
    return a.cost_usd > b.cost_usd;
  });
  return out;
}

int64_t ProcessStartTicks(int64_t pid) {
  const std::optional<ProcStat> stat = ReadProcStat(pid);
  return stat ? stat->start_ticks : -1;
}

std::string LedgerHostName() {
  char buf[256] = {};
  return gethostname(buf, sizeof buf - 1) == 0 ? buf : "localhost";
}

namespace {

bool WriterSilent(const LedgerJob& j, TimeMs now) {
  return j.heartbeat && now - *j.heartbeat > kAbandonedAfterMs;
}

}  // namespace

bool IsAbandoned(const LedgerJob& j, const std::string& this_host, TimeMs now) {
  if (j.runner_pid > 0 && j.host == this_host) {
    const int64_t start = ProcessStartTicks(j.runner_pid);
    if (start < 0 || start != j.runner_start) return true;  // gone, or another process now
    return false;  // alive here, whatever its heartbeat says
  }
  return WriterSilent(j, now);
}

std::string ReadStatus(const LedgerJob& j, const std::string& this_host, TimeMs now) {
  if (j.status != "running") return j.status;
  if (j.kind == "run") return IsAbandoned(j, this_host, now) ? "abandoned" : j.status;
  return WriterSilent(j, now) ? "unknown" : j.status;
}

std::string JobsToCsv(const std::vector<LedgerJob>& jobs) {
  std::string out =
      "job_id,machine,gpus,owner,start,end,status,exit_code,repo,commit,pr,kind,experiment,run\n";
  for (const LedgerJob& j : jobs) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", CsvQuote(j.job_id),
                       CsvQuote(j.host), CsvQuote(j.gpus), CsvQuote(j.owner), FormatIsoUtc(j.start),
                       j.end ? FormatIsoUtc(*j.end) : "", CsvQuote(j.status),
                       j.exit_code ? std::to_string(*j.exit_code) : "", CsvQuote(j.repo),
                       CsvQuote(j.commit), CsvQuote(j.pr), CsvQuote(j.kind), CsvQuote(j.experiment),
                       CsvQuote(j.run));
  }
  return out;
}

}  // namespace gpuledger
