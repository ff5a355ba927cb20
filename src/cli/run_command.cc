// gpuledger run [flags] -- CMD ARGS…: a GPU job run fail-fast, with a ledger.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "guard/job_runner.h"
#include "sources/table_fields.h"

namespace gpuledger::cli {
namespace {

struct RunFlags {
  RunOptions options;
  std::string policy_file;
  double budget_usd = -1;
  std::string gpus;
  std::string sample_every = "5s";
  std::string kill_grace = "30s";
  std::string ledger = Ledger::DefaultPath();
  bool no_ledger = false;
};

int RunRunCommand(RunFlags& f, const std::vector<std::string>& command) {
  if (command.empty()) {
    return ReportError(
        "run", Error{ErrorCode::kUsage,
                     "give the command after --: gpuledger run [FLAGS] -- CMD ARGS…", "--"});
  }
  f.options.argv = command;
  auto policy = LoadPolicy(f.policy_file);
  if (!policy) return ReportError("run", policy.error());
  RunOptions& o = f.options;
  o.policy = *policy;
  if (f.budget_usd >= 0) o.policy.budget_usd = f.budget_usd;
  if (!f.gpus.empty() && !ReadGpuList(f.gpus, &o.gpus)) {
    return ReportError("run",
                       Error{ErrorCode::kUsage, "'" + f.gpus + "' is no GPU list", "--gpus"});
  }
  if (auto r = ParseWatchFlags(f.sample_every, f.kill_grace, &o.sample_every_ms, &o.kill_grace_ms);
      !r)
    return ReportError("run", r.error());
  std::unique_ptr<Ledger> ledger;
  if (!f.no_ledger) {
    auto opened = Ledger::Open(f.ledger);
    if (!opened) return ReportError("run", opened.error());
    ledger = std::move(*opened);
  }
  auto outcome = RunJob(o, ledger.get(), stderr);
  if (!outcome) return ReportError("run", outcome.error());
  return outcome->exit_status;
}

}  // namespace

void AddRunCommand(CLI::App* app, Outcome* outcome) {
  auto f = std::make_shared<RunFlags>();
  CLI::App* cmd = app->add_subcommand(
      "run",
      "Run a GPU job fail-fast: preflight checks, then CMD in its own process group with its GPUs "
      "watched by the autokill policy; every run and decision goes to the ledger. Exits with "
      "CMD's status, 128+N if a signal N ended it, 124 if the policy killed it.");
  cmd->footer("CMD ARGS… after -- reach the job exactly as written (quoting, brackets, flags).");
  cmd->add_option("--policy", f->policy_file, "policy file (TOML); default: the default policy");
  cmd->add_option("--owner", f->options.owner, "who owns the job (default: $USER)");
  cmd->add_option("--label", f->options.labels, "a label k=v (repeatable)");
  cmd->add_option("--job-id", f->options.job_id, "the job's id (default: host-start-pid)");
  cmd->add_option("--budget", f->budget_usd, "kill when the job's cost reaches this many USD")
      ->check(NonNegative());
  cmd->add_option("--usd-per-gpu-hour", f->options.usd_per_gpu_hour,
                  "price of one of its GPUs, for budgets and the ledger")
      ->check(NonNegative());
  cmd->add_option("--gpus", f->gpus, "the job's GPUs, e.g. 0;1 (default: all that report)");
  cmd->add_option("--gpu-source", f->options.gpu_source,
                  "auto, nvml, nvidia-smi, replay:FILE[@SPEED] or none")
      ->capture_default_str();
  cmd->add_option("--sample-every", f->sample_every, "how often the GPUs are read")
      ->capture_default_str();
  cmd->add_option("--kill-grace", f->kill_grace, "SIGTERM, then SIGKILL after this long")
      ->capture_default_str();
  cmd->add_option("--output-dir", f->options.output_dir, "preflight: must be writable");
  cmd->add_option("--preflight", f->options.preflight_command,
                  "preflight: a shell command that must exit 0 first");
  cmd->add_flag("--require-gpu", f->options.require_gpu, "preflight: fail when no GPU is visible");
  cmd->add_option("--webhook", f->options.webhook_url, "POST warnings and kills here as JSON");
  cmd->add_option("--release-command", f->options.release_command,
                  "a shell command that gives the machine back when the job ends or dies");
  cmd->add_option("--repo", f->options.repo,
                  "repository the job runs (for the ledger; default: GITHUB_REPOSITORY or "
                  "CI_PROJECT_PATH)");
  cmd->add_option("--pr", f->options.pr,
                  "pull request the job runs for (for the ledger; default: GITHUB_REF's "
                  "refs/pull/N or CI_MERGE_REQUEST_IID)");
  cmd->add_option("--experiment", f->options.experiment,
                  "the experiment it belongs to (default: MLFLOW_EXPERIMENT_NAME/_ID or "
                  "WANDB_ENTITY/WANDB_PROJECT)");
  cmd->add_option("--run-id", f->options.run,
                  "its experiment tracker's run id (default: MLFLOW_RUN_ID or WANDB_RUN_ID)");
  cmd->add_flag("--dry-run", f->options.dry_run, "decide and log, but never kill");
  AddLedgerOptions(cmd, &f->ledger, "the ledger: a file, or postgresql://USER@HOST:PORT/DB");
  cmd->add_flag("--no-ledger", f->no_ledger, "keep no record");
  cmd->callback([f, outcome] { outcome->exit_code = RunRunCommand(*f, outcome->after_dashes); });
}

}  // namespace gpuledger::cli
