#include "guard/workload.h"

#include <algorithm>
#include <cctype>

namespace gpuledger {
namespace {

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// The first run of exactly "n" characters satisfying "ok" that starts at or after "from" and is
// bounded by characters that do not; npos when there is none.
template <typename Pred>
size_t FindRun(std::string_view s, size_t from, size_t n, Pred ok) {
  size_t i = from;
  while (i < s.size()) {
    if (!ok(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && ok(s[j])) ++j;
    if (j - i == n) return i;
    i = j;
  }
  return std::string_view::npos;
}

}  // namespace

std::string_view WorkloadKindId(WorkloadKind kind) {
  switch (kind) {
    case WorkloadKind::kSlurm:
      return "slurm";
    case WorkloadKind::kPod:
      return "k8s";
    case WorkloadKind::kJupyter:
      return "jupyter";
    case WorkloadKind::kContainer:
      return "container";
    case WorkloadKind::kRun:
      return "run";
    case WorkloadKind::kProcessGroup:
      return "pg";
  }
  return "pg";
}

std::string SlurmJobOfCgroup(std::string_view cgroup) {
  // cgroup v1: /slurm/uid_1000/job_42/step_0; v2: /system.slice/slurmstepd.scope/job_42/step_0
  for (size_t at = cgroup.find("/job_"); at != std::string_view::npos;
       at = cgroup.find("/job_", at + 1)) {
    size_t end = at + 5;
    while (end < cgroup.size() && std::isdigit(static_cast<unsigned char>(cgroup[end]))) ++end;
    if (end > at + 5 && (end == cgroup.size() || cgroup[end] == '/' || cgroup[end] == '\n'))
      return std::string(cgroup.substr(at + 5, end - at - 5));
  }
  return "";
}

std::string PodUidOfCgroup(std::string_view cgroup) {
  // cgroupfs: /kubepods/burstable/pod3b5d…-…/<container>; systemd:
  // /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3b5d…_…_….slice/…
  const size_t kube = cgroup.find("kubepods");
  if (kube == std::string_view::npos) return "";
  auto uid_char = [](char c) { return IsHex(c) || c == '-' || c == '_'; };
  for (size_t at = cgroup.find("pod", kube + 8); at != std::string_view::npos;
       at = cgroup.find("pod", at + 3)) {
    if (at + 3 + 36 > cgroup.size()) break;
    std::string uid(cgroup.substr(at + 3, 36));
    if (!std::all_of(uid.begin(), uid.end(), uid_char)) continue;
    if (at + 39 < cgroup.size() && uid_char(cgroup[at + 39])) continue;
    std::replace(uid.begin(), uid.end(), '_', '-');
    return uid;
  }
  return "";
}

std::string ContainerOfCgroup(std::string_view cgroup) {
  // docker-<64 hex>.scope, /docker/<64 hex>, cri-containerd-…, crio-…, libpod-…
  const size_t at = FindRun(cgroup, 0, 64, IsHex);
  return at == std::string_view::npos ? "" : std::string(cgroup.substr(at, 64));
}

std::string JupyterKernelOf(const std::vector<std::string>& argv) {
  const bool ipykernel = std::any_of(argv.begin(), argv.end(), [](const std::string& a) {
    return a.find("ipykernel") != std::string::npos;
  });
  if (!ipykernel) return "";
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string_view file;
    const std::string& a = argv[i];
    if ((a == "-f" || a == "--f") && i + 1 < argv.size()) file = argv[i + 1];
    if (a.starts_with("-f=")) file = std::string_view(a).substr(3);
    if (a.starts_with("--f=")) file = std::string_view(a).substr(4);
    if (file.empty()) continue;
    const size_t slash = file.rfind('/');
    std::string_view base = slash == std::string_view::npos ? file : file.substr(slash + 1);
    if (base.starts_with("kernel-") && base.ends_with(".json") && base.size() > 12)
      return std::string(base.substr(7, base.size() - 12));
  }
  return "";
}

WorkloadName ClassifyProcess(const ProcessFacts& p) {
  std::string slurm = SlurmJobOfCgroup(p.cgroup);
  if (slurm.empty()) slurm = p.slurm_job_id;
  if (!slurm.empty()) return {WorkloadKind::kSlurm, "slurm:" + slurm};
  if (std::string pod = PodUidOfCgroup(p.cgroup); !pod.empty())
    return {WorkloadKind::kPod, "k8s:" + pod};
  if (std::string kernel = JupyterKernelOf(p.argv); !kernel.empty())
    return {WorkloadKind::kJupyter, "jupyter:" + kernel};
  if (std::string c = ContainerOfCgroup(p.cgroup); !c.empty())
    return {WorkloadKind::kContainer, "container:" + c.substr(0, 12)};
  if (!p.gpuledger_job_id.empty()) return {WorkloadKind::kRun, "run:" + p.gpuledger_job_id};
  return {WorkloadKind::kProcessGroup, "pg:" + std::to_string(p.pgid)};
}

}  // namespace gpuledger
