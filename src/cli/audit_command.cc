// gpuledger audit: where every GPU dollar went.
#include <memory>

#include "cli/commands.h"
#include "cli/fleet_flags.h"

namespace gpuledger::cli {
namespace {

struct AuditFlags {
  FleetFlags fleet;
  double threshold_pct = 5;
  std::string max_gap = "5m";
  std::string format;
  int top = 10;
};

int RunAuditCommand(const AuditFlags& flags) {
  auto gap = ParseDuration(flags.max_gap);
  if (!gap || *gap <= 0) {
    return ReportError(
        "audit", Error{ErrorCode::kUsage, "must be a positive duration like 5m", "--max-gap"});
  }
  auto in = LoadFleetFlags(flags.fleet);
  if (!in) return ReportError("audit", in.error());
  AuditOptions options;
  options.threshold_pct = flags.threshold_pct;
  options.max_gap_ms = *gap;
  options.window_from = (*in)->from;
  options.window_to = (*in)->to;
  options.price_per_gpu_hour = (*in)->price_per_gpu_hour;
  options.threads = flags.fleet.threads;
  const LoadedFleet& loaded = (*in)->loaded;
  AuditInputs inputs{&loaded.fleet, &loaded.telemetry, loaded.inventory_stats, loaded.jobs_stats,
                     loaded.telemetry_stats};
  return AuditAndPrint("audit", inputs, options, flags.format, flags.top);
}

}  // namespace

void AddAuditCommand(CLI::App* app, Outcome* outcome) {
  auto flags = std::make_shared<AuditFlags>();
  CLI::App* cmd = app->add_subcommand(
      "audit",
      "Partition billed GPU time into never_used, failed_job, unmonitored, job_idle, job_active, "
      "idle_outside_jobs and active_outside_jobs, with dollars, owners and input problems.");
  AddFleetOptions(cmd, &flags->fleet);
  cmd->add_option("--threshold", flags->threshold_pct, "utilisation below this percent is idle")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--max-gap", flags->max_gap, "how long one sample stands at most, e.g. 5m")
      ->capture_default_str();
  AddFormatOption(cmd, &flags->format, {"table", "json", "csv"});
  cmd->add_option("--top", flags->top, "rows in each list of the table")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->callback([flags, outcome] { outcome->exit_code = RunAuditCommand(*flags); });
}

}  // namespace gpuledger::cli
