// gpuledger ledger jobs|owners|decisions|export: who burned the last batch, on what, and did
// it finish.
#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "cli/commands.h"
#include "core/csv_table.h"
#include "core/json_writer.h"
#include "ledger/ledger.h"
#include "report/audit_text.h"

namespace gpuledger::cli {
namespace {

struct LedgerFlags {
  std::string ledger = Ledger::DefaultPath();
  std::string since;
  std::string format;
};

// Prints "items" as a JSON array of objects, each written by write_one(w, item).
template <typename T, typename Fn>
void PrintJsonArray(const std::vector<T>& items, Fn&& write_one) {
  JsonWriter w;
  w.BeginArray();
  for (const T& item : items) {
    w.BeginObject();
    write_one(w, item);
    w.EndObject();
  }
  w.EndArray();
  fmt::print("{}\n", w.str());
}

Result<TimeMs> Since(const std::string& text) {
  if (text.empty()) return kTimeMin;
  const TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  if (auto d = ParseDuration(text); d && !text.empty() && !std::isdigit(text.back()))
    return now - *d;
  return ParseTimeFlag("--since", text, TimeZone::Utc(), kTimeMin);
}

int PrintJobs(const std::vector<LedgerJob>& jobs, const std::string& format) {
  if (format == "csv") {
    fmt::print("{}", JobsToCsv(jobs));
    return kExitOk;
  }
  if (format == "json") {
    PrintJsonArray(jobs, [](JsonWriter& w, const LedgerJob& j) {
      w.Key("job_id").String(j.job_id).Key("owner").String(j.owner).Key("host").String(j.host);
      w.Key("command").String(j.command).Key("labels").String(j.labels).Key("gpus").String(j.gpus);
      w.Key("start").String(FormatIsoUtc(j.start)).Key("end");
      if (j.end)
        w.String(FormatIsoUtc(*j.end));
      else
        w.Null();
      w.Key("status").String(j.status).Key("exit_code");
      if (j.exit_code)
        w.Int(*j.exit_code);
      else
        w.Null();
      w.Key("killed_by").String(j.killed_by).Key("gpu_hours").Number(j.gpu_hours);
      w.Key("cost_usd").Number(j.cost_usd, kUsdDecimals).Key("repo").String(j.repo);
      w.Key("commit").String(j.commit).Key("dirty").Bool(j.dirty).Key("pr").String(j.pr);
      w.Key("output_tail").String(j.output_tail).Key("kind").String(j.kind);
      w.Key("experiment").String(j.experiment).Key("run").String(j.run);
      w.Key("idle_gpu_hours");
      if (j.idle_gpu_hours)
        w.Number(*j.idle_gpu_hours);
      else
        w.Null();
    });
    return kExitOk;
  }
  fmt::print("{:<28} {:<10} {:<20} {:<10} {:>5} {:<12} {:>10} {:>12}  {}\n", "job", "owner",
             "start", "status", "exit", "killed by", "GPU-hours", "cost", "command");
  for (const LedgerJob& j : jobs) {
    fmt::print("{:<28} {:<10} {:<20} {:<10} {:>5} {:<12} {:>10.3f} {:>12}  {}\n", j.job_id, j.owner,
               FormatIsoUtc(j.start).substr(0, 19), j.status,
               j.exit_code ? std::to_string(*j.exit_code) : "", j.killed_by, j.gpu_hours,
               FormatUsd(j.cost_usd), j.command);
  }
  return kExitOk;
}

int PrintDecisions(const std::vector<LedgerDecision>& ds, const std::string& format) {
  if (format == "json") {
    PrintJsonArray(ds, [](JsonWriter& w, const LedgerDecision& d) {
      w.Key("job_id").String(d.job_id).Key("at").String(FormatIsoUtc(d.at));
      w.Key("kind")
          .String(d.kind)
          .Key("rule")
          .String(d.rule)
          .Key("explanation")
          .String(d.explanation);
      w.Key("gpu_hours_used").Number(d.gpu_hours_used).Key("granted_by").String(d.granted_by);
      w.Key("usd_per_hour_saved").Number(d.usd_per_hour_saved, kUsdDecimals);
    });
    return kExitOk;
  }
  const bool csv = format == "csv";
  if (csv)
    fmt::print("job_id,at,kind,rule,gpu_hours_used,explanation\n");
  else
    fmt::print("{:<28} {:<24} {:<8} {:<12} {}\n", "job", "at", "kind", "rule", "why");
  for (const LedgerDecision& d : ds) {
    if (csv) {
      fmt::print("{},{},{},{},{:.6f},{}\n", CsvQuote(d.job_id), FormatIsoUtc(d.at), d.kind, d.rule,
                 d.gpu_hours_used, CsvQuote(d.explanation));
    } else {
      fmt::print("{:<28} {:<24} {:<8} {:<12} {}\n", d.job_id, FormatIsoUtc(d.at), d.kind, d.rule,
                 d.explanation);
    }
  }
  return kExitOk;
}

int PrintOwners(const std::vector<OwnerTotals>& owners, const std::string& format) {
  if (format == "json") {
    PrintJsonArray(owners, [](JsonWriter& w, const OwnerTotals& o) {
      w.Key("owner").String(o.owner).Key("jobs").Int(o.jobs).Key("failed").Int(o.failed);
      w.Key("killed").Int(o.killed).Key("gpu_hours").Number(o.gpu_hours);
      w.Key("cost_usd").Number(o.cost_usd, kUsdDecimals);
    });
    return kExitOk;
  }
  const bool csv = format == "csv";
  if (csv)
    fmt::print("owner,jobs,failed,killed,gpu_hours,cost_usd\n");
  else
    fmt::print("{:<16} {:>6} {:>7} {:>7} {:>11} {:>14}\n", "owner", "jobs", "failed", "killed",
               "GPU-hours", "cost");
  for (const OwnerTotals& o : owners) {
    if (csv) {
      fmt::print("{},{},{},{},{:.6f},{:.4f}\n", CsvQuote(o.owner), o.jobs, o.failed, o.killed,
                 o.gpu_hours, o.cost_usd);
    } else {
      fmt::print("{:<16} {:>6} {:>7} {:>7} {:>11.3f} {:>14}\n", o.owner, o.jobs, o.failed, o.killed,
                 o.gpu_hours, FormatUsd(o.cost_usd));
    }
  }
  return kExitOk;
}

int RunLedger(const std::string& what, const LedgerFlags& f) {
  auto since = Since(f.since);
  if (!since) return ReportError("ledger", since.error());
  auto ledger = Ledger::OpenExisting(f.ledger);  // reading never creates a ledger
  if (!ledger) return ReportError("ledger", ledger.error());
  if (what == "jobs" || what == "export") {
    auto jobs = (*ledger)->Jobs(*since);
    if (!jobs) return ReportError("ledger", jobs.error());
    return PrintJobs(*jobs, what == "export" ? "csv" : f.format);
  }
  if (what == "decisions") {
    auto ds = (*ledger)->Decisions(*since);
    if (!ds) return ReportError("ledger", ds.error());
    return PrintDecisions(*ds, f.format);
  }
  auto owners = (*ledger)->Owners(*since);
  if (!owners) return ReportError("ledger", owners.error());
  return PrintOwners(*owners, f.format);
}

}  // namespace

void AddLedgerCommand(CLI::App* app, Outcome* outcome) {
  CLI::App* ledger = app->add_subcommand("ledger", "Read the ledger of runs and decisions.");
  ledger->require_subcommand(1);
  const struct {
    const char* name;
    const char* help;
  } verbs[] = {
      {"jobs", "jobs, newest first: who ran what, did it finish, what it cost"},
      {"owners", "totals by owner: jobs, failures, kills, GPU-hours, cost"},
      {"decisions", "the policy's warnings, kills, exemptions and releases, newest first"},
      {"export", "the jobs as the jobs CSV that `gpuledger audit --jobs` reads"},
  };
  for (const auto& v : verbs) {
    auto f = std::make_shared<LedgerFlags>();
    CLI::App* cmd = ledger->add_subcommand(v.name, v.help);
    AddLedgerOptions(cmd, &f->ledger, "the ledger: a file, or postgresql://USER@HOST:PORT/DB");
    cmd->add_option("--since", f->since, "only what started since, e.g. 7d or 2025-01-01");
    if (std::string(v.name) == "export") {
      AddFormatOption(cmd, &f->format, {"csv"});
    } else {
      AddFormatOption(cmd, &f->format, {"table", "json", "csv"});
    }
    const std::string name = v.name;
    cmd->callback([f, outcome, name] { outcome->exit_code = RunLedger(name, *f); });
  }
}

}  // namespace gpuledger::cli
