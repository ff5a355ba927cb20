// `gpuledger guard`: the node guard's loop. Every --sample-every it reads the GPUs and their
// compute processes, finds each process's workload in /proc, hands both to the NodeGuard and
// acts on what it decides (WorkloadActions, or their dry-run twin); it records the readings
// (--record), serves /metrics and keeps (the Unix socket), writes the ledger through the Outbox
// and sends notifications through the Notifier. It runs until SIGTERM, SIGINT or SIGHUP and then
// exits killing nothing.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/owner_rules.h"
#include "notify/sink.h"
#include "policy/policy.h"

namespace gpuledger {

struct GuardOptions {
  Policy policy;
  std::string policy_file;          // named in the start-up line
  std::string gpu_source = "auto";  // see MakeGpuSource
  DurationMs sample_every_ms = 5000;
  DurationMs kill_grace_ms = 30000;
  std::string ledger;          // empty: none
  std::string metrics_listen;  // HOST:PORT; empty: no /metrics
  std::string socket_path;     // empty: no keeps
  // The group whose members may connect to the socket (then 0660, root's and that group's);
  // empty: every user may (0666). Who asked is the kernel's answer either way.
  std::string socket_group;
  std::vector<NotifySink> notify;  // where warnings, kills and releases are sent (--notify)
  std::vector<Person> people;      // how to reach owners ([[person]] of --owners)
  // Keeps from outside the node (`gpuledger serve`): with keep_url set, the guard reads keep
  // requests for this host from the ledger and applies them under the socket's rules, Slack
  // warnings carry keep buttons, and — with keep_link_secret — emails and Teams cards carry
  // signed links to keep_url/keep. Empty: none of these.
  std::string keep_url;          // serve's public base URL, e.g. https://gpuledger.example.com
  std::string keep_link_secret;  // the key links are signed with (--keep-link-secret-file)
  std::string record_dir;        // empty: no recording
  // dcgm-exporter's HPC job mapping (DCGM_HPC_JOB_MAPPING_DIR): one file per GPU index holding
  // the Slurm job ids on it, so DCGM series carry hpc_job. Empty: not written.
  std::string hpc_job_mapping_dir;
  std::string state_dir;  // keeps and warnings carried over a restart
  double usd_per_gpu_hour = 0;
  bool dry_run = false;
  std::string proc_root = "/proc";
  // The kubelet's pod log directory, which names pods (<namespace>_<name>_<uid>); empty: the
  // host's /var/log/pods seen through proc_root's pid 1.
  std::string pod_logs_dir;
  std::string host;  // default: the host name
};

// Runs the guard until a stop signal. Fails (before watching anything) when the GPU source,
// the socket, the metrics address or the state directory cannot be used.
Result<void> RunGuard(const GuardOptions& options, std::FILE* log);

}  // namespace gpuledger
