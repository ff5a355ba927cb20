#include "cli/common.h"

#include <fmt/format.h>

#include "cli/progress.h"
#include "core/time_parser.h"
#include "report/audit_json.h"
#include "report/audit_text.h"

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
                  const std::string& format, int top) {
  Result<AuditResult> result = RunAuditWithProgress(inputs, options);
  if (!result) return ReportError(command, result.error());
  if (format == "json")
    fmt::print("{}", AuditToJson(*result));
  else if (format == "csv")
    fmt::print("{}", AuditToCsv(*result));
  else
    fmt::print("{}", AuditToTable(*result, top));
  return kExitOk;
}

int Run(CLI::App& app, int argc, char** argv, const Outcome& outcome) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  return outcome.exit_code;
}

}  // namespace gpuledger::cli
