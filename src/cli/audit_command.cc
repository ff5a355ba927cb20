// gpuledger audit: where every GPU dollar went.
#include <fmt/format.h>

#include <memory>

#include "audit/audit_runner.h"
#include "cli/commands.h"
#include "core/time.h"
#include "sources/load_fleet.h"

namespace gpuledger::cli {
namespace {

struct AuditFlags {
  FleetPaths paths;
  double price_per_gpu_hour = -1;
  double threshold_pct = 5;
  std::string max_gap = "5m";
  std::string from, to;
  std::string tz = "UTC";
  std::string format;
  int top = 10;
  int threads = 0;
};

// Turns the flags into audit options; usage errors name their flag.
Result<AuditOptions> MakeOptions(const AuditFlags& f, const TimeZone& zone) {
  AuditOptions o;
  o.threshold_pct = f.threshold_pct;
  o.threads = f.threads;
  if (f.price_per_gpu_hour >= 0) o.price_per_gpu_hour = f.price_per_gpu_hour;
  auto gap = ParseDuration(f.max_gap);
  if (!gap || *gap <= 0) {
    return MakeError(ErrorCode::kUsage, "must be a positive duration like 5m", "--max-gap");
  }
  o.max_gap_ms = *gap;
  auto from = ParseTimeFlag("--from", f.from, zone, kTimeMin);
  if (!from) return std::unexpected(from.error());
  auto to = ParseTimeFlag("--to", f.to, zone, kTimeMax);
  if (!to) return std::unexpected(to.error());
  if (*from >= *to) return MakeError(ErrorCode::kUsage, "--from must be before --to");
  o.window_from = *from;
  o.window_to = *to;
  return o;
}

int RunAuditCommand(const AuditFlags& flags) {
  if (flags.paths.inventory.empty() == (flags.price_per_gpu_hour < 0)) {
    return ReportError(
        "audit",
        Error{ErrorCode::kUsage, "give either --inventory FILE or --price-per-gpu-hour X", ""});
  }
  auto zone = TimeZone::Parse(flags.tz);
  if (!zone) return ReportError("audit", zone.error());
  auto options = MakeOptions(flags, *zone);
  if (!options) return ReportError("audit", options.error());
  auto loaded = LoadFleet(flags.paths, options->price_per_gpu_hour, &*zone);
  if (!loaded) return ReportError("audit", loaded.error());

  AuditInputs inputs{&loaded->fleet, &loaded->telemetry, loaded->inventory_stats,
                     loaded->jobs_stats};
  return AuditAndPrint("audit", inputs, *options, flags.format, flags.top);
}

}  // namespace

void AddAuditCommand(CLI::App* app, Outcome* outcome) {
  auto flags = std::make_shared<AuditFlags>();
  CLI::App* cmd = app->add_subcommand(
      "audit",
      "Partition billed GPU time into never_used, failed_job, unmonitored, job_idle, job_active, "
      "idle_outside_jobs and active_outside_jobs, with dollars, owners and input problems.");
  cmd->add_option("--telemetry", flags->paths.telemetry,
                  "nvidia-smi --query-gpu CSV logs: files, or directories of <machine>.csv")
      ->required()
      ->expected(1, -1);
  cmd->add_option("--machine", flags->paths.machine,
                  "machine name for telemetry files given directly (default: the file name)");
  cmd->add_option("--inventory", flags->paths.inventory,
                  "inventory CSV: machine,gpu_count,gpu_model,hourly_usd,owner,team,project,"
                  "start,end");
  cmd->add_option("--price-per-gpu-hour", flags->price_per_gpu_hour,
                  "no inventory: bill every machine seen from its first to its last sample "
                  "(+ max gap) at this price per GPU-hour")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--jobs", flags->paths.jobs,
                  "jobs CSV: job_id,machine,gpus,owner,start,end,status,exit_code,repo,commit,pr");
  cmd->add_option("--threshold", flags->threshold_pct, "utilisation below this percent is idle")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--max-gap", flags->max_gap, "how long one sample stands at most, e.g. 5m")
      ->capture_default_str();
  cmd->add_option("--from", flags->from, "audit window start (inclusive), e.g. 2025-01-01");
  cmd->add_option("--to", flags->to, "audit window end (exclusive)");
  cmd->add_option("--tz", flags->tz,
                  "zone of timestamps that carry none: UTC, +02:00 or an IANA name")
      ->capture_default_str();
  AddFormatOption(cmd, &flags->format, {"table", "json", "csv"});
  cmd->add_option("--top", flags->top, "rows in each list of the table")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--threads", flags->threads, "worker threads (default: one per core)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([flags, outcome] { outcome->exit_code = RunAuditCommand(*flags); });
}

}  // namespace gpuledger::cli
