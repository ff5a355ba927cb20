// gpuledger digest --ledger L [--since 7d] [--to T] [--notify SINK…]: what autokill did and saved
// in the window, per owner and for the fleet (ledger/digest.h), printed and sent.
#include <fmt/format.h>

#include <chrono>

#include "cli/commands.h"
#include "cli/fleet_flags.h"
#include "core/time.h"
#include "ledger/digest.h"
#include "notify/notifier.h"
#include "report/credits_text.h"
#include "report/digest_text.h"

namespace gpuledger::cli {
namespace {

struct DigestFlags {
  std::string ledger = Ledger::DefaultPath();
  std::string since = "7d";
  std::string to;  // default: now
  double usd_per_gpu_hour = 0;
  std::string owners;
  NotifyFlags notify;
  std::string format = "md";
  FleetFlags fleet;  // the telemetry, when given: spend, idle, practices per team and owner
  AuditFlags audit;
};

// With --telemetry or --prometheus: the fleet audited over the window and the one before (the
// --owners rules name teams and owners), and the credits' runway; none without either.
Result<std::optional<DigestTelemetry>> ReadTelemetry(const DigestFlags& f, TimeMs from, TimeMs to) {
  if (f.fleet.paths.telemetry.empty() && f.fleet.prometheus_url.empty())
    return std::optional<DigestTelemetry>();
  const TimeMs before = from - (to - from);
  FleetFlags fleet = f.fleet;
  fleet.paths.owners = f.owners;
  fleet.from = FormatIsoUtc(before), fleet.to = FormatIsoUtc(to);
  auto options = MakeAuditOptions(f.audit, fleet.threads);
  if (!options) return std::unexpected(options.error());
  auto in = LoadFleetFlags(fleet, f.audit.threshold_pct, options->max_gap_ms);
  if (!in) return std::unexpected(in.error());
  UseInputWindow(**in, &*options);
  const AuditInputs inputs = InputsOf((*in)->loaded);
  AuditOptions window = *options, previous = *options;
  window.window_from = from, previous.window_to = from;
  auto now = RunAudit(inputs, window);
  if (!now) return std::unexpected(now.error());
  previous.segments = false;  // credits and budgets are this window's only
  auto then = RunAudit(inputs, previous);
  if (!then) return std::unexpected(then.error());
  AuditFlags credits_only = f.audit;
  credits_only.budgets.clear();
  if (auto r =
          AttachCreditsAndBudgets(credits_only, (*in)->loaded.fleet, (*in)->zone, nullptr, &*now);
      !r)
    return std::unexpected(r.error());
  DigestTelemetry t{BuildSpendDigest(*now, *then),
                    now->credits ? RunwaySentence(*now->credits) : ""};
  return std::optional<DigestTelemetry>(std::move(t));
}

// The fleet's message and one per owner with work in the window, each owner reached as
// [[person]] says.
std::vector<Notice> DigestNotices(const Digest& d, const std::vector<Person>& people,
                                  const DigestTelemetry* t) {
  std::vector<Notice> out = {DigestNotice(d, d.fleet, t)};
  for (const OwnerDigest& o : d.owners) {
    if (o.jobs == 0 && o.kills == 0 && o.keeps.empty()) continue;  // the window before only
    out.push_back(DigestNotice(d, o, t));
    out.back().Reach(FindPerson(people, o.owner));
  }
  if (t != nullptr) {
    for (const auto& [team, spend] : t->spend.teams) {
      if (spend.usd > 0) out.push_back(TeamDigestNotice(d, team, spend));
    }
  }
  return out;
}

int RunDigest(const DigestFlags& f) {
  constexpr std::string_view kName = "digest";
  const TimeMs now = WallNow();
  TimeMs to = now;
  if (!f.to.empty()) {
    auto t = ParseTimeFlag("--to", f.to, TimeZone::Utc(), kTimeMax);
    if (!t) return ReportError(kName, t.error());
    to = *t;
  }
  auto window = ParseDuration(f.since);
  if (!window || *window <= 0)
    return ReportError(kName, Error{ErrorCode::kUsage, "must be a duration, e.g. 7d", "--since"});
  const TimeMs from = to - *window;
  auto sinks = NotifySinksOf(f.notify);
  if (!sinks) return ReportError(kName, sinks.error());
  auto people = PeopleOf(f.owners);
  if (!people) return ReportError(kName, people.error());
  std::vector<LedgerJob> jobs;
  std::vector<LedgerDecision> decisions;
  const bool has_telemetry = !f.fleet.paths.telemetry.empty() || !f.fleet.prometheus_url.empty();
  auto ledger = Ledger::OpenExisting(f.ledger);
  if (!ledger && !has_telemetry) return ReportError(kName, ledger.error());
  if (!ledger) {  // a fleet without guards: the telemetry's part only
    fmt::print(stderr, "gpuledger digest: {} — the digest says nothing of jobs or autokill\n",
               ledger.error().ToString());
  } else {
    // Jobs that started up to two windows before "from": one that began before the window
    // before and ran into it still counts where it ran (older ones are not read).
    auto read_jobs = (*ledger)->Jobs(from - 2 * *window);
    if (!read_jobs) return ReportError(kName, read_jobs.error());
    auto read_decisions = (*ledger)->Decisions(from);
    if (!read_decisions) return ReportError(kName, read_decisions.error());
    jobs = std::move(*read_jobs), decisions = std::move(*read_decisions);
  }
  const Digest digest = BuildDigest(jobs, decisions, from, to, f.usd_per_gpu_hour);
  auto telemetry = ReadTelemetry(f, from, to);
  if (!telemetry) return ReportError(kName, telemetry.error());
  const DigestTelemetry* t = *telemetry ? &**telemetry : nullptr;
  if (f.format == "json") {
    JsonWriter w;
    WriteDigestJson(w, digest, t);
    fmt::print("{}\n", w.str());
  } else {
    fmt::print("{}", DigestMarkdown(digest, t));
  }
  if (!sinks->empty() && !SendAll(*sinks, DigestNotices(digest, *people, t), stderr,
                                  "gpuledger digest", 10 * 60 * 1000)) {
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void AddDigestCommand(CLI::App* app, Outcome* outcome) {
  auto f = std::make_shared<DigestFlags>();
  CLI::App* cmd = app->add_subcommand(
      "digest",
      "What autokill did and saved, per owner and for the fleet, from the ledger: GPU spend this "
      "window and the one before, warnings, kills, releases and keeps, the GPU-hours kills "
      "freed, and kills that may have been wrong. Printed, and sent with --notify.");
  cmd->footer("Run weekly from cron or a systemd timer; see docs/notifications.md.");
  AddLedgerOptions(cmd, &f->ledger, "the ledger the guards and `run` write");
  cmd->add_option("--since", f->since, "the window's length, ending at --to")
      ->capture_default_str();
  cmd->add_option("--to", f->to, "the window's end (default: now)");
  cmd->add_option("--usd-per-gpu-hour", f->usd_per_gpu_hour,
                  "prices freed GPU-hours of jobs whose ledger rows carry no cost")
      ->check(NonNegative());
  cmd->add_option("--owners", f->owners,
                  "owners.toml whose [[person]] entries say how to reach each owner (and whose "
                  "[[owner]] rules name the telemetry's owners and teams)");
  AddNotifyOptions(cmd, &f->notify, "the fleet's digest and each owner's (and each team's)");
  // The telemetry (optional): spend, idle and held-idle shares and the top practices of the
  // fleet, each team and owner, the window before, and with --credits the runway.
  AddFleetOptions(cmd, &f->fleet, false);
  AddAuditKnobs(cmd, &f->audit);
  AddFormatOption(cmd, &f->format, {"md", "json"});
  cmd->callback([f, outcome] { outcome->exit_code = RunDigest(*f); });
}

}  // namespace gpuledger::cli
