// gpuledger demo: audits the built-in synthetic fleet, or writes it out as real files.
#include <fmt/format.h>

#include <memory>

#include "audit/audit_runner.h"
#include "cli/commands.h"
#include "cli/fleet_flags.h"
#include "demo/demo_fleet.h"

namespace gpuledger::cli {
namespace {

struct DemoFlags {
  DemoOptions demo;
  std::string write_dir;
  std::string format;
  int top = 10;
};

int WriteFiles(const DemoFleet& demo, const std::string& dir) {
  if (auto r = WriteDemoFleet(demo, dir); !r) return ReportError("demo", r.error());
  fmt::print(
      "wrote {} machines and {} jobs to {}\n"
      "audit them with:\n"
      "  gpuledger audit --telemetry {}/telemetry --inventory {}/inventory.csv --jobs "
      "{}/jobs.csv --credits {}/credits.csv\n",
      demo.fleet.machines.size(), demo.fleet.jobs.size(), dir, dir, dir, dir, dir);
  return kExitOk;
}

int RunDemoCommand(const DemoFlags& flags) {
  auto demo = MakeDemoFleet(flags.demo);
  if (!demo) return ReportError("demo", demo.error());
  if (!flags.write_dir.empty()) return WriteFiles(*demo, flags.write_dir);

  const std::vector<TelemetrySource> telemetry = DemoTelemetry(*demo);
  AuditInputs inputs;
  inputs.fleet = &demo->fleet;
  inputs.telemetry = &telemetry;
  AuditOptions options;
  options.segments = true;  // the demo's credits
  return AuditAndPrint("demo", inputs, options, flags.format, flags.top, [&](AuditResult* r) {
    return AttachCreditsAndBudgets(AuditFlags{}, demo->fleet, TimeZone::Utc(), &demo->credits, r);
  });
}

}  // namespace

void AddDemoCommand(CLI::App* app, Outcome* outcome) {
  auto flags = std::make_shared<DemoFlags>();
  CLI::App* cmd = app->add_subcommand(
      "demo",
      "Audit a built-in synthetic fleet shaped like the talk's (510 machines, two quarters, "
      "293 never used), or write it as nvidia-smi CSVs, inventory, jobs and credits with --write.");
  cmd->add_option("--machines", flags->demo.machines, "machines in the fleet")
      ->check(Positive())
      ->capture_default_str();
  cmd->add_option("--never-used", flags->demo.never_used, "machines that never run a workload")
      ->check(NonNegative())
      ->capture_default_str();
  cmd->add_option("--days", flags->demo.days, "length of the fleet's history")
      ->check(Positive())
      ->capture_default_str();
  cmd->add_option("--seed", flags->demo.seed, "seed of the generator")->capture_default_str();
  cmd->add_option("--write", flags->write_dir,
                  "write DIR/telemetry/*.csv, DIR/inventory.csv and DIR/jobs.csv instead of "
                  "auditing (about 3.7 GB at the default size)");
  AddFormatOption(cmd, &flags->format, {"table", "json", "csv"});
  cmd->add_option("--top", flags->top, "rows in each list of the table")
      ->check(Positive())
      ->capture_default_str();
  cmd->callback([flags, outcome] { outcome->exit_code = RunDemoCommand(*flags); });
}

}  // namespace gpuledger::cli
