// gpuledger digest --ledger L [--since 7d] [--to T] [--notify SINK…]: what autokill did and saved
// in the window, per owner and for the fleet (ledger/digest.h), printed and sent.
#include <fmt/format.h>

#include <chrono>

#include "cli/commands.h"
#include "core/time.h"
#include "ledger/digest.h"
#include "notify/notifier.h"
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
};

// The fleet's message and one per owner with work in the window, each owner reached as
// [[person]] says.
std::vector<Notice> DigestNotices(const Digest& d, const std::vector<Person>& people) {
  std::vector<Notice> out = {DigestNotice(d, d.fleet)};
  for (const OwnerDigest& o : d.owners) {
    if (o.jobs == 0 && o.kills == 0 && o.keeps.empty()) continue;  // the window before only
    out.push_back(DigestNotice(d, o));
    out.back().Reach(FindPerson(people, o.owner));
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
  auto ledger = Ledger::OpenExisting(f.ledger);
  if (!ledger) return ReportError(kName, ledger.error());
  // Jobs that started up to two windows before "from": one that began before the window before
  // and ran into it still counts where it ran (older ones are not read).
  auto jobs = (*ledger)->Jobs(from - 2 * *window);
  if (!jobs) return ReportError(kName, jobs.error());
  auto decisions = (*ledger)->Decisions(from);
  if (!decisions) return ReportError(kName, decisions.error());
  const Digest digest = BuildDigest(*jobs, *decisions, from, to, f.usd_per_gpu_hour);
  if (f.format == "json") {
    JsonWriter w;
    WriteDigestJson(w, digest);
    fmt::print("{}\n", w.str());
  } else {
    fmt::print("{}", DigestMarkdown(digest));
  }
  if (!sinks->empty() && !SendAll(*sinks, DigestNotices(digest, *people), stderr,
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
                  "owners.toml whose [[person]] entries say how to reach each owner");
  AddNotifyOptions(cmd, &f->notify, "the fleet's digest and each owner's");
  AddFormatOption(cmd, &f->format, {"md", "json"});
  cmd->callback([f, outcome] { outcome->exit_code = RunDigest(*f); });
}

}  // namespace gpuledger::cli
