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

bool IsWorkloadIdText(std::string_view s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == ':';
  });
}

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

namespace {

// Each line's path ("ID:CONTROLLERS:PATH"), read from its root: the "/.." steps that a reader in
// another cgroup namespace sees before a path outside its own are dropped. Paths in a user's
// delegated subtree (user.slice) are skipped: a user may create any name there.
template <typename Fn>
void ForEachCgroupPath(std::string_view cgroup, Fn fn) {
  while (!cgroup.empty()) {
    size_t nl = cgroup.find('\n');
    std::string_view line = cgroup.substr(0, nl);
    cgroup.remove_prefix(nl == std::string_view::npos ? cgroup.size() : nl + 1);
    const size_t c1 = line.find(':');
    const size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view path = line.substr(c2 + 1);
    while (path.starts_with("/..")) path.remove_prefix(3);
    if (path.starts_with("/user.slice")) continue;
    if (fn(path)) return;
  }
}

// The component of "path" after "at" (a '/'), and what follows it.
std::string_view Component(std::string_view path, size_t at) {
  if (at >= path.size() || path[at] != '/') return {};
  const size_t end = path.find('/', at + 1);
  return path.substr(at + 1, end == std::string_view::npos ? std::string_view::npos : end - at - 1);
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

}  // namespace

WorkloadKind WorkloadKindOfId(std::string_view id) {
  for (WorkloadKind k : {WorkloadKind::kSlurm, WorkloadKind::kPod, WorkloadKind::kJupyter,
                         WorkloadKind::kContainer, WorkloadKind::kRun}) {
    const std::string_view prefix = WorkloadKindId(k);
    if (id.size() > prefix.size() && id.starts_with(prefix) && id[prefix.size()] == ':') return k;
  }
  return WorkloadKind::kProcessGroup;
}

std::string SlurmJobOfCgroup(std::string_view cgroup, std::optional<uint32_t>* uid) {
  // v1: /slurm/uid_1000/job_42/step_0 (or /slurm_NODE/…); v2:
  // /system.slice/slurmstepd.scope/job_42/step_0 (or NODE_slurmstepd.scope).
  std::string job;
  ForEachCgroupPath(cgroup, [&](std::string_view path) {
    std::string_view first = Component(path, 0);
    size_t at = first.size() + 1;
    std::optional<uint32_t> owner;
    if (first == "slurm" || first.starts_with("slurm_")) {
      std::string_view u = Component(path, at);
      if (!u.starts_with("uid_") || !AllDigits(u.substr(4))) return false;
      owner = static_cast<uint32_t>(std::stoul(std::string(u.substr(4))));
      at += u.size() + 1;
    } else if (first == "system.slice") {
      std::string_view scope = Component(path, at);
      if (scope != "slurmstepd.scope" && !scope.ends_with("_slurmstepd.scope")) return false;
      at += scope.size() + 1;
    } else {
      return false;
    }
    std::string_view j = Component(path, at);
    if (!j.starts_with("job_") || !AllDigits(j.substr(4)) || j.size() > 24) return false;
    job = std::string(j.substr(4));
    if (uid) *uid = owner;
    return true;
  });
  return job;
}

std::string PodUidOfCgroup(std::string_view cgroup) {
  // cgroupfs: /kubepods/burstable/pod3b5d…-…/<container>; systemd:
  // /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3b5d…_…_….slice/…
  auto uid_char = [](char c) { return IsHex(c) || c == '-' || c == '_'; };
  std::string found;
  ForEachCgroupPath(cgroup, [&](std::string_view path) {
    if (!Component(path, 0).starts_with("kubepods")) return false;
    for (size_t at = path.find("pod", 9); at != std::string_view::npos;
         at = path.find("pod", at + 3)) {
      if (at + 3 + 36 > path.size()) break;
      std::string uid(path.substr(at + 3, 36));
      if (!std::all_of(uid.begin(), uid.end(), uid_char)) continue;
      if (at + 39 < path.size() && uid_char(path[at + 39])) continue;
      std::replace(uid.begin(), uid.end(), '_', '-');
      found = std::move(uid);
      return true;
    }
    return false;
  });
  return found;
}

std::string ContainerOfCgroup(std::string_view cgroup) {
  // docker-<64 hex>.scope, /docker/<64 hex>, cri-containerd-…, crio-…, libpod-…
  std::string found;
  ForEachCgroupPath(cgroup, [&](std::string_view path) {
    const size_t at = FindRun(path, 0, 64, IsHex);
    if (at != std::string_view::npos) found = std::string(path.substr(at, 64));
    return !found.empty();
  });
  return found;
}

namespace {

// "kernel-<id>.json" → "<id>"; "" for any other file name.
std::string_view KernelIdOfFile(std::string_view file) {
  const size_t slash = file.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? file : file.substr(slash + 1);
  if (!base.starts_with("kernel-") || !base.ends_with(".json") || base.size() <= 12) return {};
  return base.substr(7, base.size() - 12);
}

}  // namespace

std::string JupyterConnectionFileOf(const std::vector<std::string>& argv) {
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string_view file;
    const std::string& a = argv[i];
    if ((a == "-f" || a == "--f") && i + 1 < argv.size()) file = argv[i + 1];
    if (a.starts_with("-f=")) file = std::string_view(a).substr(3);
    if (a.starts_with("--f=")) file = std::string_view(a).substr(4);
    if (!KernelIdOfFile(file).empty()) return std::string(file);
  }
  return "";
}

std::string JupyterKernelOf(const std::vector<std::string>& argv) {
  const bool ipykernel = std::any_of(argv.begin(), argv.end(), [](const std::string& a) {
    return a.find("ipykernel") != std::string::npos;
  });
  if (!ipykernel) return "";
  const std::string file = JupyterConnectionFileOf(argv);
  const std::string_view id = KernelIdOfFile(file);
  return IsWorkloadIdText(id) ? std::string(id) : "";
}

WorkloadName ClassifyProcess(const ProcessFacts& p) {
  if (!p.slurm_job.empty()) return {WorkloadKind::kSlurm, "slurm:" + p.slurm_job};
  if (std::string pod = PodUidOfCgroup(p.cgroup); !pod.empty())
    return {WorkloadKind::kPod, "k8s:" + pod};
  if (std::string kernel = JupyterKernelOf(p.argv); !kernel.empty() && p.owns_kernel_file)
    return {WorkloadKind::kJupyter, "jupyter:" + kernel};
  if (std::string c = ContainerOfCgroup(p.cgroup); !c.empty())
    return {WorkloadKind::kContainer, "container:" + c.substr(0, 12)};
  if (p.under_gpuledger_run && IsWorkloadIdText(p.env_gpuledger_job_id))
    return {WorkloadKind::kRun, "run:" + p.env_gpuledger_job_id};
  return {WorkloadKind::kProcessGroup, "pg:" + std::to_string(p.pgid)};
}

}  // namespace gpuledger
