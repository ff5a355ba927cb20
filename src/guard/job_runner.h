// `gpuledger run`: a job run fail-fast. Preflight checks that fail in seconds, then the command
// in its own process group, its GPUs sampled and the policy applied live, every decision and
// the run itself written to the ledger.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "guard/process_group.h"
#include "ledger/ledger.h"
#include "policy/job_watch.h"
#include "policy/policy.h"

namespace gpuledger {

// The exit status `run` returns when the policy killed the command (as timeout(1) does).
inline constexpr int kExitAutokilled = 124;

struct RunOptions {
  std::vector<std::string> argv;
  Policy policy;
  std::string job_id;               // default: <host>-<start ms>-<pid>
  std::string owner;                // default: $USER
  std::vector<std::string> labels;  // "k=v"
  std::vector<int> gpus;            // the job's GPUs; empty: all that report
  std::string gpu_source = "auto";  // see MakeGpuSource
  DurationMs sample_every_ms = 5000;
  DurationMs kill_grace_ms = 30000;  // SIGTERM → this long → SIGKILL
  double usd_per_gpu_hour = 0;       // for budgets and the ledger's cost
  std::string output_dir;            // must be writable, when set
  std::string preflight_command;     // must exit 0, when set (run by /bin/sh -c)
  std::string webhook_url;           // warnings and kills are POSTed here as JSON, when set
  std::string release_command;       // run by /bin/sh -c when the job ends: releases the machine
  std::string repo, pr;
  std::string experiment, run;  // default: what its environment names (model/run_identity.h)
  bool require_gpu = false;     // fail the preflight when no GPU is visible
  bool dry_run = false;         // decide and log, never signal
};

struct RunOutcome {
  int exit_status = 0;  // what `run` exits with
  std::optional<ChildExit> child;
  std::optional<KillRule> killed_by;
  // SIGTERM, SIGINT or SIGHUP that `run` itself received: forwarded to the job's group,
  // escalated to SIGKILL after the grace, the row closed "interrupted", exit 128 + it.
  std::optional<int> interrupted_by;
  std::vector<int> signals_sent;
  int leftovers_killed = 0;
  std::string job_id;
};

// Runs the job. Status lines go to "log" (stderr in the CLI); the command's own output passes
// through to stdout/stderr. Fails only when a preflight check fails or the command cannot be
// started; the ledger, when given, receives the job and every decision. While the job runs,
// SIGTERM, SIGINT and SIGHUP are caught and forwarded to it (RunOutcome::interrupted_by); the
// previous handlers are restored before returning.
Result<RunOutcome> RunJob(const RunOptions& options, Ledger* ledger, std::FILE* log);

}  // namespace gpuledger
