// What every subcommand shares: exit codes, output formats, flag parsing helpers, progress.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "audit/audit_runner.h"
#include "core/error.h"
#include "core/time_zone.h"
#include "model/owner_rules.h"
#include "notify/sink.h"

namespace gpuledger::cli {

// Exit codes, the same for every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // unreadable required input, or the work failed
inline constexpr int kExitUsage = 2;    // malformed command line

// Set by a subcommand's callback; main returns it.
struct Outcome {
  int exit_code = kExitOk;
  // `gpuledger run … -- CMD ARGS…`: everything after the first "--", verbatim (CLI11 would
  // split '[1,2]' as a list and take '--lr' as its own flag). Run() fills it before parsing.
  std::vector<std::string> after_dashes;
};

// Adds --format with the given choices (the first is the default) to "cmd".
CLI::Option* AddFormatOption(CLI::App* cmd, std::string* format,
                             std::initializer_list<std::string> choices);

// Adds --ledger (and --ledger-file) to "cmd", writing the location to *ledger. So that no
// password need be on a command line (where `ps` shows it to every user): --ledger-file PATH
// reads the location from the first line of a file (one only root or its user can read), and
// $GPULEDGER_LEDGER, when set, is the default that either flag overrides. libpq's own
// PGPASSFILE works too (a URL without a password). Where a ledger is optional (an alternative
// to another input), "from_environment" false leaves $GPULEDGER_LEDGER out of it.
void AddLedgerOptions(CLI::App* cmd, std::string* ledger, const std::string& help,
                      bool from_environment = true);

// Where a command's notifications go: --notify SINK (repeatable), --notify-file PATH,
// --webhook URL (a webhook sink), and for email sinks --smtp HOST:PORT, --smtp-from ADDRESS and
// --smtp-credentials FILE (its first line USER:PASSWORD; never a flag, which `ps` would show).
struct NotifyFlags {
  std::vector<std::string> notify;
  // --notify-file PATH: sinks one a line (# comments), so that no webhook URL — Slack's and
  // Teams' carry their secret — is on the command line, where `ps` shows it to every user.
  std::string notify_file;
  std::string webhook;
  std::string smtp, smtp_from, smtp_credentials;
};
void AddNotifyOptions(CLI::App* cmd, NotifyFlags* flags, const std::string& what);

// The sinks those flags name, email sinks with their server (smtp://HOST:PORT, the sender —
// default gpuledger@HOSTNAME — and the credentials read from the file). kUsage for a bad sink,
// an email sink without --smtp or a bad --smtp-from; kIo naming the credentials file when it
// cannot be read or has no USER:PASSWORD line.
Result<std::vector<NotifySink>> NotifySinksOf(const NotifyFlags& flags);

// The [[person]] entries of owners.toml at "path" (none when "path" is empty).
Result<std::vector<Person>> PeopleOf(const std::string& path);

// Validators whose errors fit on one line: "--price-per-gpu-hour: 'two' is not a number >= 0".
CLI::Validator NonNegative();
CLI::Validator Positive();

// The closest of "candidates" to "typed" (edit distance at most max(2, a third of its length),
// and 3),
// or "" when none is close: the "did you mean" of unknown commands and flags.
std::string ClosestName(std::string_view typed, const std::vector<std::string>& candidates);

// Prints "gpuledger <command>: <error>" on stderr; returns the exit code for the error.
int ReportError(std::string_view command, const Error& error);

// Parses a time flag (any accepted time format) in "zone"; empty text gives "if_empty".
Result<TimeMs> ParseTimeFlag(std::string_view flag, const std::string& text, const TimeZone& zone,
                             TimeMs if_empty);

// --sample-every (a positive duration) and --kill-grace (a duration), shared by `run` and
// `guard`; a usage error naming the flag.
Result<void> ParseWatchFlags(const std::string& sample_every, const std::string& kill_grace,
                             DurationMs* every_ms, DurationMs* grace_ms);

// The jobs of a jobs CSV ("jobs") or of a ledger ("ledger"; the one given is read), with the
// machines of an inventory CSV ("inventory", optional) for their prices; nullptr when neither
// jobs nor ledger is given. Errors name the file and line.
Result<std::unique_ptr<Fleet>> LoadJobsFleet(const std::string& jobs, const std::string& ledger,
                                             const std::string& inventory, SourceStats* jobs_stats,
                                             SourceStats* inventory_stats);

// Runs the audit with a progress line on stderr (when it is a terminal).
Result<AuditResult> RunAuditWithProgress(const AuditInputs& inputs, const AuditOptions& options);

// Runs the audit with a progress line on stderr, prints it on stdout as table, json or csv,
// and returns the exit code.
// "attach", when given, adds to the result before it is printed (credits, budgets).
int AuditAndPrint(std::string_view command, const AuditInputs& inputs, const AuditOptions& options,
                  const std::string& format, int top,
                  const std::function<Result<void>(AuditResult*)>& attach = {});

// Parses and runs "app"; maps parse errors to kExitUsage and --help to kExitOk.
int Run(CLI::App& app, int argc, char** argv, Outcome& outcome);

}  // namespace gpuledger::cli
