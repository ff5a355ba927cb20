#include "cli/common.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "cli/progress.h"
#include "core/csv_table.h"
#include "core/line_reader.h"
#include "core/text_safety.h"
#include "core/time_parser.h"
#include "ledger/ledger.h"
#include "report/audit_json.h"
#include "report/audit_text.h"
#include "report/group_text.h"
#include "sources/inventory_csv.h"
#include "sources/jobs_csv.h"

namespace gpuledger::cli {

CLI::Option* AddFormatOption(CLI::App* cmd, std::string* format,
                             std::initializer_list<std::string> choices) {
  *format = *choices.begin();
  return cmd->add_option("--format", *format, "output format")
      ->check(CLI::IsMember(std::vector<std::string>(choices)))
      ->capture_default_str();
}

int ReportError(std::string_view command, const Error& error) {
  fmt::print(stderr, "gpuledger {}: {}\n", command, error.ToString());
  return error.code == ErrorCode::kUsage ? kExitUsage : kExitFailure;
}

Result<TimeMs> ParseTimeFlag(std::string_view flag, const std::string& text, const TimeZone& zone,
                             TimeMs if_empty) {
  if (text.empty()) return if_empty;
  TimeParser parser(&zone);
  TimeMs t = 0;
  if (!parser.Parse(text, &t)) {
    return MakeError(ErrorCode::kUsage,
                     "'" + text +
                         "' is not a time (use e.g. 2025-01-01, 2025-01-01T12:00:00Z or "
                         "epoch seconds)",
                     std::string(flag));
  }
  return t;
}

Result<AuditResult> RunAuditWithProgress(const AuditInputs& inputs, const AuditOptions& options) {
  AuditProgress progress;
  ProgressLine line(&progress);
  return RunAudit(inputs, options, &progress);
}

int AuditAndPrint(std::string_view command, const AuditInputs& inputs, const AuditOptions& options,
                  const std::string& format, int top,
                  const std::function<Result<void>(AuditResult*)>& attach) {
  Result<AuditResult> result = RunAuditWithProgress(inputs, options);
  if (!result) return ReportError(command, result.error());
  if (attach) {
    if (auto r = attach(&*result); !r) return ReportError(command, r.error());
  }
  if (format == "json")
    fmt::print("{}", AuditToJson(*result));
  else if (format == "csv")  // with --group-by, the groups: what finance asks for
    fmt::print("{}", result->groups ? GroupsCsv(*result) : AuditToCsv(*result));
  else
    fmt::print("{}", AuditToTable(*result, top));
  return kExitOk;
}

namespace {

CLI::Validator NumberAtLeast(double floor, bool inclusive, const std::string& what) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double v = 0;
        const char* end = text.data() + text.size();
        auto [ptr, ec] = std::from_chars(text.data(), end, v);
        if (ec != std::errc() || ptr != end || !std::isfinite(v) || v < floor ||
            (!inclusive && v == floor)) {
          return "'" + text + "' is not " + what;
        }
        return std::string();
      },
      what);
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The subcommand the command line selected (the deepest), or the app itself.
const CLI::App* Selected(const CLI::App& app) {
  const CLI::App* at = &app;
  for (bool deeper = true; deeper;) {
    deeper = false;
    for (const CLI::App* sub : at->get_subcommands()) at = sub, deeper = true;
  }
  return at;
}

// "unknown command 'audti' (did you mean 'audit'?)" / "unknown flag '--telemetri' of audit
// (did you mean '--telemetry'?)", or "" when nothing on the line is unknown that way.
// A transposition counts two edits, so short names get a distance of two.
std::string DidYouMean(const CLI::App& app) {
  const CLI::App* at = Selected(app);
  std::vector<std::string> commands, flags;
  for (const CLI::App* sub : at->get_subcommands({})) commands.push_back(sub->get_name());
  for (const CLI::Option* opt : at->get_options()) {
    for (const std::string& name : opt->get_lnames()) flags.push_back("--" + name);
  }
  for (const std::string& extra : at->remaining()) {
    const bool flag = extra.starts_with("-");
    if (!flag && commands.empty()) continue;  // a stray value: CLI11 says so
    std::string typed = flag ? extra.substr(0, extra.find('=')) : extra;
    const std::string near = ClosestName(typed, flag ? flags : commands);
    const std::string where = at == &app ? "" : " of " + at->get_name();
    return fmt::format("unknown {} '{}'{}{}", flag ? "flag" : "command", typed, where,
                       near.empty() ? "" : " (did you mean '" + near + "'?)");
  }
  return "";
}

}  // namespace

void AddNotifyOptions(CLI::App* cmd, NotifyFlags* f, const std::string& what) {
  cmd->add_option("--notify", f->notify,
                  "send " + what +
                      " to SINK (repeatable): slack:URL (an incoming webhook), teams:URL (a "
                      "workflow webhook), webhook:URL (JSON) or email:ADDRESS (with --smtp)");
  cmd->add_option("--notify-file", f->notify_file,
                  "read sinks from this file, one a line (# comments): a webhook URL is a "
                  "secret, and a command line is not");
  cmd->add_option("--webhook", f->webhook, "the same as --notify webhook:URL");
  cmd->add_option("--smtp", f->smtp, "the mail server for email:ADDRESS sinks, HOST:PORT");
  cmd->add_option("--smtp-from", f->smtp_from, "the sender's address (default gpuledger@HOSTNAME)");
  cmd->add_option("--smtp-credentials", f->smtp_credentials,
                  "a file whose first line is USER:PASSWORD for the mail server");
}

namespace {

Result<SmtpSettings> SmtpSettingsOf(const std::string& smtp, const std::string& from,
                                    const std::string& credentials) {
  if (smtp.empty() || smtp.find(':') == std::string::npos || smtp.find('/') != std::string::npos)
    return MakeError(ErrorCode::kUsage, "an email sink needs --smtp HOST:PORT", "--smtp");
  SmtpSettings s;
  s.url = "smtp://" + smtp;
  if (from.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    s.from = std::string("gpuledger@") + (host[0] ? host : "localhost");
  } else {
    s.from = from;
  }
  if (!IsPlainEmail(s.from))
    return MakeError(ErrorCode::kUsage, "must be one plain address", "--smtp-from");
  if (!credentials.empty()) {
    std::ifstream in(credentials);
    std::string line;
    if (!in || !std::getline(in, line))
      return MakeError(ErrorCode::kIo, "cannot read the SMTP credentials", credentials);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0)
      return MakeError(ErrorCode::kIo, "the first line must be USER:PASSWORD", credentials);
    s.user = line.substr(0, colon);
    s.password = line.substr(colon + 1);
  }
  return s;
}

}  // namespace

Result<std::vector<NotifySink>> NotifySinksOf(const NotifyFlags& f) {
  std::vector<std::string> specs = f.notify;
  if (!f.webhook.empty()) specs.push_back("webhook:" + f.webhook);
  if (!f.notify_file.empty()) {
    std::ifstream in(f.notify_file);
    if (!in) return MakeError(ErrorCode::kIo, "cannot read the notification sinks", f.notify_file);
    std::string line;
    uint64_t no = 0;
    while (std::getline(in, line)) {
      ++no;
      const std::string_view spec = Trim(line);
      if (spec.empty() || spec.front() == '#') continue;
      auto sink = ParseNotifySink(spec);
      if (!sink) {
        return MakeError(ErrorCode::kUsage, sink.error().message,
                         f.notify_file + ":" + std::to_string(no));
      }
      specs.emplace_back(spec);
    }
  }
  std::vector<NotifySink> sinks;
  for (const std::string& spec : specs) {
    auto sink = ParseNotifySink(spec);
    if (!sink) return std::unexpected(sink.error());
    if (sink->kind == NotifySink::Kind::kEmail) {
      auto smtp = SmtpSettingsOf(f.smtp, f.smtp_from, f.smtp_credentials);
      if (!smtp) return std::unexpected(smtp.error());
      sink->smtp = *smtp;
    }
    sinks.push_back(std::move(*sink));
  }
  return sinks;
}

Result<std::vector<Person>> PeopleOf(const std::string& path) {
  if (path.empty()) return std::vector<Person>();
  auto text = ReadWholeFile(path);
  if (!text) return std::unexpected(text.error());
  auto rules = OwnerRules::Parse(*text, path);
  if (!rules) return std::unexpected(rules.error());
  return rules->people();
}

CLI::Validator NonNegative() { return NumberAtLeast(0, true, "a number >= 0"); }
CLI::Validator Positive() { return NumberAtLeast(0, false, "a number > 0"); }

std::string ClosestName(std::string_view typed, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::min<size_t>(3, std::max<size_t>(2, typed.size() / 3)) + 1;
  for (const std::string& c : candidates) {
    const size_t d = EditDistance(typed, c);
    if (d < best_distance) best = c, best_distance = d;
  }
  return best;
}

int Run(CLI::App& app, int argc, char** argv, Outcome& outcome) {
  // `run`'s command goes to the job verbatim: cut it off before CLI11 sees it.
  if (argc > 1 && std::string_view(argv[1]) == "run") {
    for (int i = 2; i < argc; ++i) {
      if (std::string_view(argv[i]) != "--") continue;
      outcome.after_dashes.assign(argv + i + 1, argv + argc);
      argc = i;
      break;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (const std::string hint = DidYouMean(app); !hint.empty()) {
      fmt::print(stderr, "gpuledger: {}\nRun with --help for more information.\n", hint);
      return kExitUsage;
    }
    app.exit(e);
    return kExitUsage;
  }
  return outcome.exit_code;
}

Result<void> ParseWatchFlags(const std::string& sample_every, const std::string& kill_grace,
                             DurationMs* every_ms, DurationMs* grace_ms) {
  auto every = ParseDuration(sample_every);
  auto grace = ParseDuration(kill_grace);
  if (!every || *every <= 0)
    return MakeError(ErrorCode::kUsage, "must be a positive duration", "--sample-every");
  if (!grace) return MakeError(ErrorCode::kUsage, "must be a duration", "--kill-grace");
  *every_ms = *every;
  *grace_ms = *grace;
  return {};
}

void AddLedgerOptions(CLI::App* cmd, std::string* ledger, const std::string& help,
                      bool from_environment) {
  const char* env = from_environment ? std::getenv("GPULEDGER_LEDGER") : nullptr;
  if (env != nullptr && *env != '\0') *ledger = env;
  CLI::Option* direct = cmd->add_option(
      "--ledger", *ledger, from_environment ? help + " (default: $GPULEDGER_LEDGER)" : help);
  CLI::Option* file = cmd->add_option_function<std::string>(
      "--ledger-file",
      [ledger](const std::string& path) {
        std::ifstream in(path);
        std::string line;
        if (!in || !std::getline(in, line))
          throw CLI::ValidationError("--ledger-file", "cannot read " + path);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (line.empty()) throw CLI::ValidationError("--ledger-file", path + " is empty");
        *ledger = line;
      },
      "read the ledger's location (e.g. a postgresql:// URL with its password) from the first "
      "line of this file, so no password is on the command line");
  direct->excludes(file);
}

Result<std::unique_ptr<Fleet>> LoadJobsFleet(const std::string& jobs, const std::string& ledger,
                                             const std::string& inventory, SourceStats* jobs_stats,
                                             SourceStats* inventory_stats) {
  if (jobs.empty() && ledger.empty()) return std::unique_ptr<Fleet>();
  auto fleet = std::make_unique<Fleet>();
  const TimeZone utc = TimeZone::Utc();
  if (!inventory.empty()) {
    auto text = ReadWholeFile(inventory);
    if (!text) return std::unexpected(text.error());
    if (auto r = ReadInventory(*text, inventory, 0, utc, fleet.get(), inventory_stats); !r) {
      return std::unexpected(r.error());
    }
  }
  std::string text, source = jobs;
  if (!jobs.empty()) {
    auto t = ReadWholeFile(jobs);
    if (!t) return std::unexpected(t.error());
    text = std::move(*t);
  } else {
    auto opened = Ledger::OpenExisting(ledger);
    if (!opened) return std::unexpected(opened.error());
    auto rows = (*opened)->Jobs(kTimeMin);
    if (!rows) return std::unexpected(rows.error());
    text = JobsToCsv(*rows);
    source = ledger;
  }
  KnownMachines known = MachinesNamedIn(text);
  for (const Machine& m : fleet->machines) known[m.name] = m.gpu_count;
  if (auto r = ReadJobs(text, source, 1, utc, known, &fleet->jobs, jobs_stats); !r) {
    return std::unexpected(r.error());
  }
  return fleet;
}

}  // namespace gpuledger::cli
