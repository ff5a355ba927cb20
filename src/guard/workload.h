// What the node guard judges and acts on: a workload, found from what /proc says of the GPU's
// processes (DESIGN.md, "The node guard"). Classification is a pure function of those facts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/run_identity.h"

namespace gpuledger {

enum class WorkloadKind : uint8_t {
  kSlurm,         // slurm:<job id>
  kPod,           // k8s:<pod uid>
  kJupyter,       // jupyter:<kernel id>
  kContainer,     // container:<first 12 of its id>
  kRun,           // a live `gpuledger run` job: run:<job id>, left to `run`
  kProcessGroup,  // pg:<pgid>
};

// "slurm", "k8s", "jupyter", "container", "run", "pg": the prefix of a workload id.
std::string_view WorkloadKindId(WorkloadKind kind);
// The kind of a workload id by its prefix ("slurm:42" → kSlurm); kProcessGroup when unknown.
WorkloadKind WorkloadKindOfId(std::string_view id);

// What /proc/PID says of one process (stat, status, cgroup, cmdline, environ), and what the
// systems that own it vouch for. The process writes its own argv and environment, so those
// never name a job or an owner by themselves (docs/guard.md, "Threat model"): the fields below
// marked "vouched" are set only from the kernel or the owning system.
struct ProcessFacts {
  int64_t pid = 0, ppid = 0, pgid = 0, session = 0;
  int64_t start_ticks = 0;  // with pid, the process's identity: a reused pid is another process
  uint32_t uid = 0;
  std::string cgroup;             // /proc/PID/cgroup, every line (the kernel's)
  std::vector<std::string> argv;  // /proc/PID/cmdline (the process's own)
  // From /proc/PID/environ (the process's own): hints that make the guard ask, never answers.
  std::string env_slurm_job_id, env_gpuledger_job_id, env_gpuledger_owner;
  // What it says it is (MLflow, W&B, CI variables): recorded for attribution, never trusted.
  RunIdentity env_identity;
  // Vouched: the Slurm job the cgroup or slurmd (`scontrol pidinfo`) puts it in, with the job's
  // user and name as slurmctld gives them (empty where Slurm did not answer).
  std::string slurm_job, slurm_user, slurm_job_name;
  // Vouched: a live `gpuledger run` (this very binary) is among its ancestors, so its
  // GPULEDGER_JOB_ID and GPULEDGER_OWNER are `run`'s.
  bool under_gpuledger_run = false;
  // Vouched: its -f kernel connection file is a regular file owned by its own uid (a kernel id
  // copied from another user's command line names nothing).
  bool owns_kernel_file = false;
};

struct WorkloadName {
  WorkloadKind kind = WorkloadKind::kProcessGroup;
  std::string id;  // "slurm:4242", "pg:913", …
};

// The workload a process belongs to, first that applies: a vouched Slurm job, a Kubernetes pod
// (cgroup /kubepods…pod<uid>), a Jupyter kernel (ipykernel with -f …/kernel-<id>.json that it
// owns), a container (docker, containerd, cri-o or podman cgroup outside any user's delegated
// subtree), a process under a live `gpuledger run` (GPULEDGER_JOB_ID), else its process group.
WorkloadName ClassifyProcess(const ProcessFacts& p);

// Pieces of a cgroup file, empty when absent: the Slurm job id, the pod uid (with dashes), the
// container id (full). Only paths that the kernel and root-owned managers create count: a path
// is read from its root (a "/.." prefix, seen from another cgroup namespace, is skipped), and
// nothing under user.slice (where systemd delegates subtrees that users may name freely).
// SlurmJobOfCgroup takes slurmd's layouts only: v1 /slurm[_NODE]/uid_<uid>/job_<id>/… (the uid
// returned in *uid when given) and v2 /system.slice/[NODE_]slurmstepd.scope/job_<id>/….
std::string SlurmJobOfCgroup(std::string_view cgroup, std::optional<uint32_t>* uid = nullptr);
std::string PodUidOfCgroup(std::string_view cgroup);
std::string ContainerOfCgroup(std::string_view cgroup);
// True when "s" may be part of a workload id: 1 to 128 of [A-Za-z0-9._:-] (ids reach logs,
// metrics labels and command lines).
bool IsWorkloadIdText(std::string_view s);
// The kernel connection file of a command line: the first -f/--f value named kernel-<id>.json;
// "" when there is none. The kernel id and the file whose owner is checked are this one file.
std::string JupyterConnectionFileOf(const std::vector<std::string>& argv);
// The kernel id of an ipykernel command line, empty when it is not one (or not id text).
std::string JupyterKernelOf(const std::vector<std::string>& argv);

}  // namespace gpuledger
