// gpuledger audit: where every GPU dollar went.
#include <memory>

#include "audit/group_spend.h"
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
  std::optional<GroupBy> group_by;
  if (!flags.group_by.empty()) {
    auto by = ParseGroupBy(flags.group_by);
    if (!by) return ReportError("audit", by.error());
    group_by = *by;
    options->segments = options->breakdown = true;  // the jobs' spend by category
  }
  auto in = LoadFleetFlags(flags.fleet, flags.audit.threshold_pct, options->max_gap_ms);
  if (!in) return ReportError("audit", in.error());
  UseInputWindow(**in, &*options);
  const LoadedFleet& loaded = (*in)->loaded;
  const AuditInputs inputs = InputsOf(loaded);
  return AuditAndPrint("audit", inputs, *options, flags.format, flags.top, [&](AuditResult* r) {
    if (group_by)
      r->groups =
          std::make_shared<GroupedSpend>(GroupedSpend{*group_by, SpendByGroup(*r, *group_by)});
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
  cmd->add_option("--group-by", flags->group_by,
                  "also the spend per experiment, run, pr or repo of the jobs (the jobs CSV's "
                  "experiment/run/pr/repo columns, the ledger's): a table section, a JSON list "
                  "(experiments, runs, prs, repos), or the CSV itself")
      ->check(CLI::IsMember({"experiment", "run", "pr", "repo"}));
  cmd->add_option("--top", flags->top, "rows in each list of the table")
      ->check(Positive())
      ->capture_default_str();
  cmd->callback([flags, outcome] { outcome->exit_code = RunAuditCommand(*flags); });
}

}  // namespace gpuledger::cli
