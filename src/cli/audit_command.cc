// gpuledger audit: where every GPU dollar went.
#include <memory>

#include "cli/commands.h"
#include "cli/fleet_flags.h"

namespace gpuledger::cli {
namespace {

struct AuditCommandFlags {
  FleetFlags fleet;
  AuditFlags audit;
  std::string format;
  int top = 10;
  std::string group_by;  // experiment, run, pr, repo; empty: none
};

int RunAuditCommand(const AuditCommandFlags& flags) {
  auto options = MakeAuditOptions(flags.audit, flags.fleet.threads);
  if (!options) return ReportError("audit", options.error());
  WantGroups(flags.group_by, &*options);
  auto in = LoadFleetFlags(flags.fleet, flags.audit.threshold_pct, options->max_gap_ms);
  if (!in) return ReportError("audit", in.error());
  UseInputWindow(**in, &*options);
  const LoadedFleet& loaded = (*in)->loaded;
  const AuditInputs inputs = InputsOf(loaded);
  return AuditAndPrint("audit", inputs, *options, flags.format, flags.top, [&](AuditResult* r) {
    AttachGroups(flags.group_by, r);
    return AttachCreditsAndBudgets(flags.audit, loaded.fleet, (*in)->zone, nullptr, r);
  });
}

}  // namespace

void AddAuditCommand(CLI::App* app, Outcome* outcome) {
  auto flags = std::make_shared<AuditCommandFlags>();
  CLI::App* cmd = app->add_subcommand(
      "audit",
      "Partition billed GPU time into never_used, failed_job, unmonitored, job_idle, job_active, "
      "idle_outside_jobs and active_outside_jobs, with dollars, owners and input problems.");
  AddFleetOptions(cmd, &flags->fleet);
  AddAuditKnobs(cmd, &flags->audit);
  AddFormatOption(cmd, &flags->format, {"table", "json", "csv"});
  AddGroupByOption(cmd, &flags->group_by);
  cmd->add_option("--top", flags->top, "rows in each list of the table")
      ->check(Positive())
      ->capture_default_str();
  cmd->callback([flags, outcome] { outcome->exit_code = RunAuditCommand(*flags); });
}

}  // namespace gpuledger::cli
