// Each subcommand registers itself on the root app; its callback sets outcome->exit_code.
#pragma once

#include "cli/common.h"

namespace gpuledger::cli {

void AddAuditCommand(CLI::App* app, Outcome* outcome);     // audit_command.cc
void AddDemoCommand(CLI::App* app, Outcome* outcome);      // demo_command.cc
void AddPolicyCommand(CLI::App* app, Outcome* outcome);    // policy_command.cc
void AddBacktestCommand(CLI::App* app, Outcome* outcome);  // backtest_command.cc
void AddRunCommand(CLI::App* app, Outcome* outcome);       // run_command.cc
void AddGuardCommand(CLI::App* app, Outcome* outcome);     // guard_command.cc
void AddKeepCommand(CLI::App* app, Outcome* outcome);      // keep_command.cc
void AddLedgerCommand(CLI::App* app, Outcome* outcome);    // ledger_command.cc
void AddReviewsCommand(CLI::App* app, Outcome* outcome);   // reviews_command.cc
void AddReportCommand(CLI::App* app, Outcome* outcome);    // report_command.cc
void AddBudgetsCommand(CLI::App* app, Outcome* outcome);   // budgets_command.cc
void AddDigestCommand(CLI::App* app, Outcome* outcome);    // digest_command.cc
void AddServeCommand(CLI::App* app, Outcome* outcome);     // serve_command.cc
void AddPrCheckCommand(CLI::App* app, Outcome* outcome);   // pr_check_command.cc
void AddFetchVerb(CLI::App* reviews, Outcome* outcome);    // reviews_fetch_command.cc

}  // namespace gpuledger::cli
