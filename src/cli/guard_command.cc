// gpuledger guard: the node guard, autokill for every GPU workload on this node.
#include <fmt/format.h>

#include <cstdlib>
#include <memory>

#include "cli/commands.h"
#include "core/signing.h"
#include "guard/guard_daemon.h"

namespace gpuledger::cli {
namespace {

struct GuardFlags {
  GuardOptions options;
  std::string sample_every = "5s";
  std::string kill_grace = "30s";
  bool no_ledger = false;
  bool no_socket = false;
  NotifyFlags notify;
  std::string owners;  // --owners: [[person]] entries
  std::string keep_link_secret_file;
};

// The state directory: $STATE_DIRECTORY (systemd's StateDirectory=), else /var/lib/gpuledger.
std::string DefaultStateDir() {
  const char* env = std::getenv("STATE_DIRECTORY");
  return env && *env ? std::string(env) : "/var/lib/gpuledger";
}

int RunGuardCommand(GuardFlags& f) {
  GuardOptions& o = f.options;
  auto policy = LoadPolicy(o.policy_file);
  if (!policy) return ReportError("guard", policy.error());
  o.policy = *policy;
  if (auto r = ParseWatchFlags(f.sample_every, f.kill_grace, &o.sample_every_ms, &o.kill_grace_ms);
      !r)
    return ReportError("guard", r.error());
  if (o.state_dir.empty()) o.state_dir = DefaultStateDir();
  if (f.no_ledger)
    o.ledger.clear();
  else if (o.ledger.empty())
    o.ledger = o.state_dir + "/ledger.db";
  if (f.no_socket) o.socket_path.clear();
  auto sinks = NotifySinksOf(f.notify);
  if (!sinks) return ReportError("guard", sinks.error());
  o.notify = std::move(*sinks);
  auto people = PeopleOf(f.owners);
  if (!people) return ReportError("guard", people.error());
  o.people = std::move(*people);
  if (!f.keep_link_secret_file.empty()) {
    if (o.keep_url.empty()) {
      return ReportError("guard", Error{ErrorCode::kUsage,
                                        "--keep-link-secret-file needs --keep-url (where the "
                                        "links lead: gpuledger serve)",
                                        "--keep-link-secret-file"});
    }
    auto secret = ReadSecretFile(f.keep_link_secret_file, "--keep-link-secret-file");
    if (!secret) return ReportError("guard", secret.error());
    o.keep_link_secret = std::move(*secret);
  }
  if (auto r = RunGuard(o, stderr); !r) return ReportError("guard", r.error());
  return kExitOk;
}

}  // namespace

void AddGuardCommand(CLI::App* app, Outcome* outcome) {
  auto f = std::make_shared<GuardFlags>();
  f->options.socket_path = "/run/gpuledger/guard.sock";
  CLI::App* cmd = app->add_subcommand(
      "guard",
      "The node guard: applies the autokill policy to every GPU workload on this node (notebooks, "
      "scripts over SSH, Slurm jobs, containers), however it was started. Runs until SIGTERM or "
      "SIGINT, then exits killing nothing.");
  cmd->footer(
      "Roll out as backtest → guard --dry-run → guard. Users ask for time with\n"
      "  gpuledger keep WORKLOAD DURATION --reason TEXT\n"
      "See docs/guard.md.");
  cmd->add_option("--policy", f->options.policy_file,
                  "policy file (TOML); default: the default policy");
  cmd->add_option("--gpu-source", f->options.gpu_source,
                  "auto, nvml, nvidia-smi or replay:FILE[@SPEED]")
      ->capture_default_str();
  cmd->add_option("--sample-every", f->sample_every, "how often the GPUs are read")
      ->capture_default_str();
  cmd->add_option("--kill-grace", f->kill_grace, "SIGTERM, then SIGKILL after this long")
      ->capture_default_str();
  AddLedgerOptions(cmd, &f->options.ledger,
                   "the ledger: a file, or postgresql://USER@HOST:PORT/DB shared by the fleet "
                   "(STATE_DIR/ledger.db without one)");
  cmd->add_flag("--no-ledger", f->no_ledger, "keep no ledger");
  cmd->add_option("--metrics-listen", f->options.metrics_listen,
                  "serve Prometheus /metrics on HOST:PORT, e.g. 127.0.0.1:9400");
  cmd->add_option("--socket", f->options.socket_path, "the Unix socket `gpuledger keep` talks to")
      ->capture_default_str();
  cmd->add_option("--socket-group", f->options.socket_group,
                  "only this group's members (and root) may ask for keeps: the socket is 0660 "
                  "and the group's (default: every user, 0666)");
  cmd->add_flag("--no-socket", f->no_socket, "take no keep requests");
  AddNotifyOptions(cmd, &f->notify, "warnings, kills and releases");
  cmd->add_option("--owners", f->owners,
                  "owners.toml whose [[person]] entries say how to reach a workload's owner "
                  "(a Slack mention, an email)");
  cmd->add_option("--keep-url", f->options.keep_url,
                  "the public URL of `gpuledger serve`: take keeps asked there (Slack buttons, "
                  "emailed links) from the ledger, and offer them on warnings");
  cmd->add_option("--keep-link-secret-file", f->keep_link_secret_file,
                  "the key (a file, at least 16 bytes) that signs the keep links emails and Teams "
                  "cards carry; serve's --link-secret-file");
  cmd->add_option("--hpc-job-mapping-dir", f->options.hpc_job_mapping_dir,
                  "write dcgm-exporter's HPC job mapping files (one per GPU index) here");
  cmd->add_option("--record", f->options.record_dir,
                  "write the readings as daily nvidia-smi CSV files DIR/YYYY-MM-DD/HOST.csv");
  cmd->add_option("--state-dir", f->options.state_dir,
                  "keeps and warnings kept over restarts (default: $STATE_DIRECTORY or "
                  "/var/lib/gpuledger)");
  cmd->add_option("--usd-per-gpu-hour", f->options.usd_per_gpu_hour,
                  "price of one GPU, for the ledger's cost and a kill's saving")
      ->check(NonNegative());
  cmd->add_option("--host", f->options.host, "this node's name in the ledger and the recording");
  cmd->add_flag("--dry-run", f->options.dry_run,
                "decide, warn and record, but never signal or release");
  cmd->add_option("--pod-logs-dir", f->options.pod_logs_dir,
                  "the kubelet's pod log directory, which names pods (default: the host's "
                  "/var/log/pods through PROC_ROOT/1/root)");
  cmd->add_option("--proc-root", f->options.proc_root,
                  "where /proc is (a container's view of the host)")
      ->capture_default_str();
  cmd->callback([f, outcome] { outcome->exit_code = RunGuardCommand(*f); });
}

}  // namespace gpuledger::cli
