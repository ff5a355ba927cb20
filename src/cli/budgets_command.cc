// gpuledger budgets check --budgets FILE [fleet flags] --webhook URL: alerts at 50, 80 and 100 %
// of each team's and owner's monthly budget, each sent once per period (remembered in the
// ledger), for running from cron.
#include <fmt/format.h>

#include <memory>

#include "audit/budget_use.h"
#include "cli/commands.h"
#include "cli/fleet_flags.h"
#include "core/json_writer.h"
#include "core/line_reader.h"
#include "ledger/ledger.h"
#include "model/owner_rules.h"
#include "notify/notifier.h"
#include "report/audit_text.h"
#include "report/credits_text.h"

namespace gpuledger::cli {
namespace {

struct BudgetsFlags {
  FleetFlags fleet;
  AuditFlags audit;
  std::string ledger = Ledger::DefaultPath();
  NotifyFlags notify;
  bool dry_run = false;
  std::string format;
};

// What one alert says, to a person and to the webhook.
std::string AlertJson(const BudgetUse& u, int level) {
  JsonWriter w(false);
  w.BeginObject();
  w.Key("text").String(fmt::format("gpuledger budgets: {} reached {} % of its budget: {}",
                                   u.budget.Key(), level, BudgetSentence(u)));
  w.Key("budget").String(u.budget.Key()).Key("period").String(u.period.Label());
  w.Key("level").Int(level).Key("used_usd").Number(u.used_usd, kUsdDecimals);
  w.Key("budget_usd").Number(u.budget.usd_per_period, kUsdDecimals);
  w.Key("used_pct").Number(u.used_pct, 2);
  w.Key("measured_to").String(FormatIsoUtc(u.measured_to));
  w.EndObject();
  return w.str();
}

struct Sent {
  const BudgetUse* use;
  int level;
  std::string outcome;  // sent, already sent, failed, dry run
};

// The alert for the sinks: the sentence, its figures as facts, the generic webhook's JSON; the
// owner of an owner's budget reached as [[person]] says.
Notice AlertNotice(const BudgetUse& u, int level, const std::vector<Person>& people) {
  Notice n;
  n.title = fmt::format("gpuledger budgets: {} reached {} % of its budget", u.budget.Key(), level);
  n.text = BudgetSentence(u);
  n.facts = {{"Budget", u.budget.Key()},
             {"Period", u.period.Label()},
             {"Used", fmt::format("${:.2f} ({:.1f} %)", u.used_usd, u.used_pct)},
             {"Budget per period", fmt::format("${:.2f}", u.budget.usd_per_period)},
             {"Measured to", FormatIsoUtc(u.measured_to)}};
  if (u.budget.kind == Budget::Kind::kOwner) n.Reach(FindPerson(people, u.budget.name));
  n.webhook_json = AlertJson(u, level);
  return n;
}

// Claims each level reached in the ledger and sends it; an alert a sink did not take is
// released, so the next check tries again (a sink that took it may then get it twice). Returns
// false when a sink did not take one.
bool SendAlerts(const std::vector<BudgetUse>& uses, const BudgetsFlags& f,
                const std::vector<NotifySink>& sinks, const std::vector<Person>& people,
                Ledger* ledger, std::vector<Sent>* sent) {
  bool ok = true;
  for (const BudgetUse& u : uses) {
    for (int level : kBudgetLevels) {
      if (u.used_pct < level) continue;
      if (f.dry_run) {
        sent->push_back({&u, level, "dry run"});
        continue;
      }
      const LedgerAlert alert{u.budget.Key(), u.period.Label(), level, WallNow(),
                              BudgetSentence(u)};
      auto claimed = ledger->ClaimAlert(alert);
      if (!claimed) {
        fmt::print(stderr, "gpuledger budgets: {}\n", claimed.error().ToString());
        ok = false;
        continue;
      }
      if (!*claimed) {
        sent->push_back({&u, level, "already sent"});
        continue;
      }
      if (!sinks.empty() &&
          !SendAll(sinks, {AlertNotice(u, level, people)}, stderr, "gpuledger budgets", 120'000)) {
        (void)ledger->ReleaseAlert(alert);
        sent->push_back({&u, level, "failed"});
        ok = false;
        continue;
      }
      sent->push_back({&u, level, sinks.empty() ? "recorded" : "sent"});
    }
  }
  return ok;
}

void Print(const std::vector<BudgetUse>& uses, const std::vector<Sent>& sent,
           const std::string& format) {
  if (format == "json") {
    JsonWriter w;
    w.BeginObject().Key("budgets");
    WriteBudgetsJson(w, uses);
    w.Key("alerts").BeginArray();
    for (const Sent& s : sent) {
      w.BeginObject();
      w.Key("budget").String(s.use->budget.Key()).Key("level").Int(s.level);
      w.Key("outcome").String(s.outcome);
      w.EndObject();
    }
    w.EndArray().EndObject();
    fmt::print("{}\n", w.str());
    return;
  }
  for (const BudgetUse& u : uses) fmt::print("{}\n", BudgetSentence(u));
  for (const Sent& s : sent) {
    fmt::print("  alert {} at {} %: {}\n", s.use->budget.Key(), s.level, s.outcome);
  }
}

int RunBudgetsCheck(const BudgetsFlags& f) {
  constexpr std::string_view kName = "budgets";
  if (f.audit.budgets.empty()) {
    return ReportError(kName, Error{ErrorCode::kUsage, "name the budgets file", "--budgets"});
  }
  auto options = MakeAuditOptions(f.audit, f.fleet.threads);
  if (!options) return ReportError(kName, options.error());
  auto in = LoadFleetFlags(f.fleet, f.audit.threshold_pct, options->max_gap_ms);
  if (!in) return ReportError(kName, in.error());
  UseInputWindow(**in, &*options);
  auto audit = RunAuditWithProgress(InputsOf((*in)->loaded), *options);
  if (!audit) return ReportError(kName, audit.error());
  AuditFlags budgets_only = f.audit;
  budgets_only.credits.clear();
  if (auto r =
          AttachCreditsAndBudgets(budgets_only, (*in)->loaded.fleet, (*in)->zone, nullptr, &*audit);
      !r) {
    return ReportError(kName, r.error());
  }
  std::unique_ptr<Ledger> ledger;
  if (!f.dry_run) {
    auto opened = Ledger::Open(f.ledger);
    if (!opened) return ReportError(kName, opened.error());
    ledger = std::move(*opened);
  }
  auto sinks = NotifySinksOf(f.notify);
  if (!sinks) return ReportError(kName, sinks.error());
  auto people = PeopleOf(f.fleet.paths.owners);
  if (!people) return ReportError(kName, people.error());
  std::vector<Sent> sent;
  const bool ok = SendAlerts(*audit->budgets, f, *sinks, *people, ledger.get(), &sent);
  Print(*audit->budgets, sent, f.format);
  return ok ? kExitOk : kExitFailure;
}

}  // namespace

void AddBudgetsCommand(CLI::App* app, Outcome* outcome) {
  CLI::App* budgets = app->add_subcommand("budgets", "Monthly budgets per team and owner.");
  budgets->require_subcommand(1);
  auto f = std::make_shared<BudgetsFlags>();
  CLI::App* check = budgets->add_subcommand(
      "check",
      "Audit the fleet flags' inputs and, for the month holding the end of the audited time, "
      "alert the webhook at 50, 80 and 100 % of each --budgets budget, each once per month "
      "(remembered in the ledger): for running from cron (e.g. --prometheus URL --from "
      "$(date -u +%Y-%m-01) --to $(date -u +%FT%TZ)). Exits 1 when an alert could not be sent (it "
      "is tried again next "
      "time).");
  AddFleetOptions(check, &f->fleet);
  AddAuditKnobs(check, &f->audit);
  AddLedgerOptions(check, &f->ledger, "the ledger: a file, or postgresql://USER@HOST:PORT/DB");
  AddNotifyOptions(check, &f->notify, "alerts (none: they are only recorded)");
  check->add_flag("--dry-run", f->dry_run, "say which alerts are due; send and record nothing");
  AddFormatOption(check, &f->format, {"table", "json"});
  check->callback([f, outcome] { outcome->exit_code = RunBudgetsCheck(*f); });
}

}  // namespace gpuledger::cli
