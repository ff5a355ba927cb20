// gpuledger: who burned the GPU credits, on what, and did the run finish?
#include "cli/commands.h"
#include "cli/common.h"
#include "core/build_info.h"

int main(int argc, char** argv) {
  CLI::App app{
      "gpuledger: makes GPU spend owned. Who burned the GPU credits, on what, and did "
      "the run finish?",
      "gpuledger"};
  app.require_subcommand(1);
  app.set_version_flag("--version", gpuledger::VersionLine());
  gpuledger::cli::Outcome outcome;
  gpuledger::cli::AddAuditCommand(&app, &outcome);
  gpuledger::cli::AddRunCommand(&app, &outcome);
  gpuledger::cli::AddGuardCommand(&app, &outcome);
  gpuledger::cli::AddKeepCommand(&app, &outcome);
  gpuledger::cli::AddLedgerCommand(&app, &outcome);
  gpuledger::cli::AddBacktestCommand(&app, &outcome);
  gpuledger::cli::AddReviewsCommand(&app, &outcome);
  gpuledger::cli::AddPolicyCommand(&app, &outcome);
  gpuledger::cli::AddReportCommand(&app, &outcome);
  gpuledger::cli::AddBudgetsCommand(&app, &outcome);
  gpuledger::cli::AddDigestCommand(&app, &outcome);
  gpuledger::cli::AddServeCommand(&app, &outcome);
  gpuledger::cli::AddPrCheckCommand(&app, &outcome);
  gpuledger::cli::AddDemoCommand(&app, &outcome);
  return gpuledger::cli::Run(app, argc, argv, outcome);
}
