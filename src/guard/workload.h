// What the node guard judges and acts on: a workload, found from what /proc says of the GPU's
// processes (DESIGN.md, "The node guard"). Classification is a pure function of those facts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

// What /proc/PID says of one process (stat, status, cgroup, cmdline, environ).
struct ProcessFacts {
  int64_t pid = 0, ppid = 0, pgid = 0, session = 0;
  int64_t start_ticks = 0;  // with pid, the process's identity: a reused pid is another process
  uint32_t uid = 0;
  std::string cgroup;             // /proc/PID/cgroup, every line
  std::vector<std::string> argv;  // /proc/PID/cmdline
  // From /proc/PID/environ where it could be read (root, or the same user).
  std::string slurm_job_id, slurm_job_user, slurm_job_name, gpuledger_job_id, gpuledger_owner;
  std::string hostname, pod_name, pod_namespace;  // HOSTNAME, POD_NAME, POD_NAMESPACE
};

struct WorkloadName {
  WorkloadKind kind = WorkloadKind::kProcessGroup;
  std::string id;  // "slurm:4242", "pg:913", …
};

// The workload a process belongs to, first that applies: a Slurm job (cgroup …/job_<id>/… or
// SLURM_JOB_ID), a Kubernetes pod (cgroup kubepods…pod<uid>), a Jupyter kernel (ipykernel with
// -f …/kernel-<id>.json), a container (docker, containerd, cri-o or podman cgroup), a process of
// a live `gpuledger run` (GPULEDGER_JOB_ID), else its process group.
WorkloadName ClassifyProcess(const ProcessFacts& p);

// Pieces of a cgroup path, empty when absent: the Slurm job id, the pod uid (with dashes), the
// container id (full). Exposed for tests.
std::string SlurmJobOfCgroup(std::string_view cgroup);
std::string PodUidOfCgroup(std::string_view cgroup);
std::string ContainerOfCgroup(std::string_view cgroup);
// The kernel id of an ipykernel command line, empty when it is not one.
std::string JupyterKernelOf(const std::vector<std::string>& argv);

}  // namespace gpuledger
