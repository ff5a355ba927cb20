// gpuledger serve: keep with one click (Slack buttons, emailed links) for the fleet's guards.
#include <fmt/format.h>
#include <poll.h>

#include <memory>

#include "cli/commands.h"
#include "core/signing.h"
#include "guard/stop_signals.h"
#include "ledger/ledger.h"
#include "serve/keep_service.h"

namespace gpuledger::cli {
namespace {

struct ServeFlags {
  KeepServiceOptions options;
  std::string owners, slack_secret_file, link_secret_file;
};

int RunServeCommand(ServeFlags& f) {
  KeepServiceOptions& o = f.options;
  if (o.ledger.empty()) {
    return ReportError("serve", Error{ErrorCode::kUsage,
                                      "needs the guards' ledger (--ledger, --ledger-file or "
                                      "$GPULEDGER_LEDGER)",
                                      "--ledger"});
  }
  if (f.slack_secret_file.empty() && f.link_secret_file.empty()) {
    return ReportError("serve", Error{ErrorCode::kUsage,
                                      "nothing to serve: give --slack-signing-secret-file, "
                                      "--link-secret-file or both",
                                      ""});
  }
  if (!f.slack_secret_file.empty()) {
    auto secret = ReadSecretFile(f.slack_secret_file, "--slack-signing-secret-file");
    if (!secret) return ReportError("serve", secret.error());
    o.slack_signing_secret = std::move(*secret);
  }
  if (!f.link_secret_file.empty()) {
    auto secret = ReadSecretFile(f.link_secret_file, "--link-secret-file");
    if (!secret) return ReportError("serve", secret.error());
    o.link_secret = std::move(*secret);
  }
  auto people = PeopleOf(f.owners);
  if (!people) return ReportError("serve", people.error());
  o.people = std::move(*people);
  // The ledger must exist (the guards create it); a first request would find out too late.
  auto ledger = Ledger::OpenExisting(o.ledger);
  if (!ledger) return ReportError("serve", ledger.error());
  const std::string where = (*ledger)->Location();
  ledger->reset();
  const StopSignals stop;
  auto service = KeepService::Start(o, stderr);
  if (!service) return ReportError("serve", service.error());
  fmt::print(stderr, "gpuledger serve: listening on port {} ({}{}{}), keep requests into {}\n",
             (*service)->port(), o.listen,
             o.slack_signing_secret.empty() ? "" : "; POST /slack/interactions",
             o.link_secret.empty() ? "" : "; GET/POST /keep", where);
  std::fflush(stderr);
  while (stop.Pending() == 0) poll(nullptr, 0, 200);
  fmt::print(stderr, "gpuledger serve: signal {} received: stopping\n", stop.Pending());
  return kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App* app, Outcome* outcome) {
  auto f = std::make_shared<ServeFlags>();
  CLI::App* cmd = app->add_subcommand(
      "serve",
      "Keep with one click: an HTTP service that takes Slack button clicks and emailed keep "
      "links and writes them to the fleet's ledger, where each host's guard applies them under "
      "the keep socket's rules. Runs until SIGTERM or SIGINT.");
  cmd->footer(
      "Guards offer the buttons and links with --keep-url (and --keep-link-secret-file).\n"
      "Put it behind your TLS proxy; see docs/notifications.md.");
  AddLedgerOptions(cmd, &f->options.ledger,
                   "the guards' ledger: postgresql://USER@HOST:PORT/DB (or a file they share)");
  cmd->add_option("--listen", f->options.listen, "HOST:PORT to listen on (port 0: any free one)")
      ->capture_default_str();
  cmd->add_option("--owners", f->owners,
                  "owners.toml whose [[person]] entries map Slack users to owners (and admin = "
                  "true to those who may keep anyone's)");
  cmd->add_option("--slack-signing-secret-file", f->slack_secret_file,
                  "the Slack app's signing secret (a file): enables POST /slack/interactions");
  cmd->add_option("--link-secret-file", f->link_secret_file,
                  "the key the guards sign keep links with (a file, the guards' "
                  "--keep-link-secret-file): enables GET/POST /keep");
  cmd->add_option("--slack-reply-origin", f->options.slack_reply_origin,
                  "answers are posted only to a click's response_url under this origin")
      ->capture_default_str();
  cmd->callback([f, outcome] { outcome->exit_code = RunServeCommand(*f); });
}

}  // namespace gpuledger::cli
