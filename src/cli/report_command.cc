// gpuledger report: the million-dollar page — every percent of the spend mapped to a practice.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/fleet_flags.h"
#include "core/line_reader.h"
#include "demo/demo_fleet.h"
#include "policy/backtest.h"
#include "report/report_data.h"
#include "report/report_html.h"
#include "report/report_json.h"
#include "report/report_markdown.h"

namespace gpuledger::cli {
namespace {

struct ReportFlags {
  FleetFlags fleet;
  AuditFlags audit;
  bool demo = false;
  double budget_usd = -1;  // < 0: real dollars only
  std::string policy_file;
  std::string reviews_dir;
  std::string out = "-";
  std::string format;
  int top = 20;
  std::string group_by;  // --group-by
};

// What the report is made of: the fleet and its telemetry, from files or the built-in demo.
struct ReportInput {
  std::unique_ptr<FleetInput> files;
  std::optional<DemoFleet> demo;
  std::vector<TelemetrySource> demo_telemetry;
  AuditInputs inputs;
};

Result<std::unique_ptr<ReportInput>> LoadInput(const ReportFlags& f, DurationMs max_gap_ms) {
  auto in = std::make_unique<ReportInput>();
  if (f.demo) {
    auto demo = MakeDemoFleet(DemoOptions{});
    if (!demo) return std::unexpected(demo.error());
    in->demo = std::move(*demo);
    in->demo_telemetry = DemoTelemetry(*in->demo);
    in->inputs.fleet = &in->demo->fleet;
    in->inputs.telemetry = &in->demo_telemetry;
    return in;
  }
  auto files = LoadFleetFlags(f.fleet, f.audit.threshold_pct, max_gap_ms);
  if (!files) return std::unexpected(files.error());
  in->files = std::move(*files);
  const LoadedFleet& loaded = in->files->loaded;
  in->inputs = InputsOf(loaded);
  return in;
}

Result<std::optional<BacktestResult>> MaybeBacktest(const ReportFlags& f, const ReportInput& in,
                                                    const AuditOptions& audit) {
  if (f.policy_file.empty()) return std::optional<BacktestResult>();
  auto policy = LoadPolicy(f.policy_file);
  if (!policy) return std::unexpected(policy.error());
  BacktestOptions options;
  options.policy = *policy;
  options.window_from = audit.window_from;
  options.window_to = audit.window_to;
  options.price_per_gpu_hour = audit.price_per_gpu_hour;
  options.threads = audit.threads;
  auto result = RunBacktest(in.inputs, options);
  if (!result) return std::unexpected(result.error());
  return std::optional<BacktestResult>(std::move(*result));
}

// Reviews are judged as of the end of the audited window, so the report is reproducible.
Result<std::optional<ReviewAudit>> MaybeReviews(const ReportFlags& f, const ReportInput& in,
                                                const AuditResult& audit) {
  if (f.reviews_dir.empty()) return std::optional<ReviewAudit>();
  auto data = LoadReviewDir(f.reviews_dir);
  if (!data) return std::unexpected(data.error());
  ReviewOptions options;
  options.as_of = audit.window_to;
  auto result = AuditReviews(std::move(*data), options, in.inputs.fleet);
  if (!result) return std::unexpected(result.error());
  return std::optional<ReviewAudit>(std::move(*result));
}

Result<std::string> Render(const Report& report, const std::string& format, int top) {
  if (format == "json") return ReportToJson(report);
  if (format == "md") return ReportToMarkdown(report, top);
  return ReportToHtml(report);
}

Result<void> Write(const std::string& text, const std::string& out) {
  if (out == "-") {
    fmt::print("{}", text);
    return {};
  }
  return WriteFileAtomically(out, text);
}

int RunReportCommand(const ReportFlags& f) {
  constexpr std::string_view kName = "report";
  if (f.out == "-" && f.format == "html" && isatty(STDOUT_FILENO)) {
    return ReportError(kName, Error{ErrorCode::kUsage, "an HTML page goes to a file", "--out"});
  }
  if (f.demo && (!f.fleet.paths.telemetry.empty() || !f.fleet.prometheus_url.empty())) {
    return ReportError(kName,
                       Error{ErrorCode::kUsage, "give --demo or telemetry, not both", "--demo"});
  }
  auto options = MakeAuditOptions(f.audit, f.fleet.threads);
  if (!options) return ReportError(kName, options.error());
  options->breakdown = true;
  auto in = LoadInput(f, options->max_gap_ms);
  if (!in) return ReportError(kName, in.error());
  if ((*in)->files) UseInputWindow(*(*in)->files, &*options);
  if (f.demo) options->segments = true;  // the demo's credits
  WantGroups(f.group_by, &*options);
  auto audit = RunAuditWithProgress((*in)->inputs, *options);
  if (!audit) return ReportError(kName, audit.error());
  AttachGroups(f.group_by, &*audit);
  const TimeZone zone = (*in)->files ? (*in)->files->zone : TimeZone::Utc();
  if (auto r = AttachCreditsAndBudgets(f.audit, *(*in)->inputs.fleet, zone,
                                       (*in)->demo ? &(*in)->demo->credits : nullptr, &*audit);
      !r) {
    return ReportError(kName, r.error());
  }
  auto backtest = MaybeBacktest(f, **in, *options);
  if (!backtest) return ReportError(kName, backtest.error());
  auto reviews = MaybeReviews(f, **in, *audit);
  if (!reviews) return ReportError(kName, reviews.error());
  const std::optional<double> budget =
      f.budget_usd >= 0 ? std::optional<double>(f.budget_usd) : std::nullopt;
  const Report report = BuildReport(*audit, budget, *backtest ? &**backtest : nullptr,
                                    *reviews ? &**reviews : nullptr);
  auto text = Render(report, f.format, f.top);
  if (!text) return ReportError(kName, text.error());
  if (auto w = Write(*text, f.out); !w) return ReportError(kName, w.error());
  if (f.out != "-") fmt::print(stderr, "gpuledger report: wrote {}\n", f.out);
  return kExitOk;
}

}  // namespace

void AddReportCommand(CLI::App* app, Outcome* outcome) {
  auto f = std::make_shared<ReportFlags>();
  CLI::App* cmd = app->add_subcommand(
      "report",
      "The page to forward: the audit in real dollars (normalised to a budget with --budget), "
      "each category's dollars mapped to the practice that would have saved them, with charts "
      "(HTML, self-contained and offline), or the same as Markdown or JSON.");
  AddFleetOptions(cmd, &f->fleet);
  AddAuditKnobs(cmd, &f->audit);
  AddGroupByOption(cmd, &f->group_by);
  cmd->add_flag("--demo", f->demo, "report on the built-in demo fleet instead of files");
  cmd->add_option("--budget", f->budget_usd,
                  "also normalise the figures to this budget (USD): \"of every $1,000,000\"")
      ->check(Positive());
  cmd->add_option("--policy", f->policy_file,
                  "also backtest this autokill policy (TOML) and show what it would have saved");
  cmd->add_option("--reviews", f->reviews_dir,
                  "also classify the reviews `reviews fetch` saved in DIR, joined to the jobs");
  cmd->add_option("--out", f->out, "write the report here ('-': standard output)")
      ->capture_default_str();
  AddFormatOption(cmd, &f->format, {"html", "md", "json"});
  cmd->add_option("--top", f->top, "rows in each Markdown list")
      ->check(Positive())
      ->capture_default_str();
  cmd->callback([f, outcome] { outcome->exit_code = RunReportCommand(*f); });
}

}  // namespace gpuledger::cli
