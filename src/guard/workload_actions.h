// Acting on the node guard's decisions: the one place the guard stops workloads or runs the
// release command, with a dry-run twin that says what it would do and touches nothing. Each
// kind is stopped through the system that owns it:
//
// - a process group (and a container's) gets SIGTERM, then SIGKILL after the grace period for
//   what outlived it — never pid 1, never the guard's own group, and never a login or
//   interactive shell's group (then only the GPU processes and their descendants). Every signal
//   goes to a process checked to be the same (pid and start time) as the one judged, so a reused
//   pid is never signalled;
// - a Jupyter kernel is shut down through its server (DELETE /api/kernels/<id>), falling back to
//   signals only when no server answers (said in the outcome);
// - a Slurm job gets `scancel <id>` (it ends CANCELLED, with Slurm's own KillWait);
// - a pod gets the policy's k8s_action, its words filled in and run without a shell.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/time.h"
#include "guard/external_command.h"
#include "guard/node_guard.h"
#include "guard/process_table.h"

namespace gpuledger {

struct StopTarget {
  std::string workload;
  int64_t pgid = 0;
  std::set<ProcessKey> gpu_processes;  // the processes the GPUs listed for it
  WorkloadKind kind = WorkloadKind::kProcessGroup;
  std::optional<JupyterKernel> jupyter;
  std::string pod_namespace, pod_name, pod_uid, node;
};

struct ActionOutcome {
  ActionOutcome(bool ok_ = true, std::string what_ = "", std::string workload_ = "")
      : ok(ok_), what(std::move(what_)), workload(std::move(workload_)) {}
  bool ok = true;
  std::string what;      // "sent SIGTERM to process group 4242 (3 processes)"
  std::string workload;  // whose stop it was ("machine" for the release command), when known
};

class WorkloadActions {
 public:
  virtual ~WorkloadActions() = default;
  // Starts stopping a workload and never waits on anything outside the guard: SIGTERM now,
  // SIGKILL by a later Tick after the grace period; a call to the system that owns it (its
  // Jupyter server, scancel, k8s_action) on a thread of its own, reported by a later Tick.
  virtual ActionOutcome Stop(const StopTarget& target, TimeMs now) = 0;
  // Starts the release command (/bin/sh -c) the same way.
  virtual ActionOutcome Release(const std::string& command) = 0;
  // What became due or finished by "now": SIGKILL to what outlived SIGTERM's grace, and how
  // each outside call ended (a kernel its server did not shut down falls back to signals).
  virtual std::vector<ActionOutcome> Tick(TimeMs now) = 0;
  // Stops that are still waiting for their processes to go.
  virtual size_t stopping() const = 0;
};

// "k8s_action" is the policy's template (empty: pods are never stopped). "no_signals" non-empty
// says why no process may be signalled at all (the guard is not in the host's PID namespace):
// then only the owning systems' calls are made.
std::unique_ptr<WorkloadActions> MakeSignalActions(ProcessTable* procs, DurationMs kill_grace_ms,
                                                   std::string k8s_action = "",
                                                   std::string no_signals = "");
std::unique_ptr<WorkloadActions> MakeDryRunActions(ProcessTable* procs,
                                                   std::string k8s_action = "");

// The k8s_action template as argv: split into words at spaces (a word may be quoted with ' or
// "), then {namespace}, {pod}, {uid} (= {pod_uid}) and {node} replaced inside each word. No
// shell ever sees it, and a namespace or pod name that is not a Kubernetes name (DNS-1123) is
// refused, so a name cannot inject a word, a flag or a command. A template that uses
// {namespace} or {pod} for a pod the kubelet does not name is refused too (the pod's own
// environment never names it). kInvalid naming what is wrong.
bool K8sActionNeedsName(const std::string& tmpl);
Result<std::vector<std::string>> ExpandK8sAction(const std::string& tmpl, const StopTarget& pod);

// The Slurm job id of a slurm:<id> workload, "" otherwise.
std::string SlurmJobIdOf(const std::string& workload);

// The processes a stop would signal, and how: the whole group, or (a shell's group) only the
// GPU processes with their descendants. Empty with *refusal set when nothing may be signalled.
struct StopPlan {
  bool whole_group = false;
  std::vector<ProcessKey> processes;
  std::string refusal;
};
StopPlan PlanStop(const StopTarget& target, ProcessTable* procs);

}  // namespace gpuledger
