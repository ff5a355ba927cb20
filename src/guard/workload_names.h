// What a person knows a workload by, and what stopping it needs: the notebook and Jupyter
// server of a kernel, a Slurm job's name, a pod's namespace and name. Looked up once per
// workload id and kept while the workload lives. Names come only from sources users cannot
// write (docs/guard.md, "Threat model"): a Slurm job's name from slurmctld (ProcessFacts), a
// pod's namespace and name from the kubelet's pod log directory (root's
// /var/log/pods/<namespace>_<name>_<uid>), a kernel's server from the checks in
// jupyter_server.h. A pod's own environment or files never name it.
//
// Jupyter servers are asked over HTTP on threads of their own: Fill never waits for one, so a
// server that hangs (its user runs it) cannot delay the guard's sampling or its kills.
#pragma once

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "guard/node_guard.h"
#include "guard/workload.h"

namespace gpuledger {

// The namespace and name of pod "uid" from the kubelet's pod log directory "dir": the entry
// "<namespace>_<name>_<uid>", a directory owned by root. nullopt when there is none.
struct PodName {
  std::string pod_namespace, name;
};
std::optional<PodName> PodNameFromKubelet(const std::string& dir, const std::string& uid);

class WorkloadNames {
 public:
  // "proc_root": where /proc is; "pod_logs_dir": the kubelet's pod log directory (default: the
  // host's /var/log/pods through proc_root's pid 1); what cannot be found goes to "log".
  WorkloadNames(std::string proc_root, std::string pod_logs_dir, std::FILE* log);
  ~WorkloadNames();  // stops the lookup thread (a request in flight ends at its timeout)
  WorkloadNames(const WorkloadNames&) = delete;
  WorkloadNames& operator=(const WorkloadNames&) = delete;

  // Fills info's title, jupyter, pod_namespace and pod_name with what is known now, from
  // "facts" (one of its processes); the first time a kernel is seen its server is looked up in
  // the background.
  void Fill(const ProcessFacts& facts, WorkloadInfo* info);

  // Forgets every workload not in "alive".
  void KeepOnly(const std::set<std::string>& alive);

  // Waits until no lookup is queued or running (tests), at most "timeout_ms".
  bool Idle(int timeout_ms);

  static constexpr size_t kMaxQueued = 256;  // lookups beyond it are dropped (and said)
  // Lookups run this many at a time, taking turns between users, so one user's servers that
  // never answer delay another user's lookup by a few timeouts at most.
  static constexpr int kThreads = 4;

 private:
  struct Names {
    std::string title;
    std::optional<JupyterKernel> jupyter;
    std::string pod_namespace, pod_name;
  };
  struct Lookup {
    std::string id;
    KernelProcess process;
    std::string kernel_id;
  };
  Names Find(const ProcessFacts& facts, const WorkloadName& name);
  void LookupLoop();

  std::string proc_root_, pod_logs_dir_;
  std::FILE* log_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::map<std::string, Names> names_;
  std::deque<Lookup> queue_;
  int busy_ = 0;
  bool stopping_ = false;
  uint32_t last_uid_ = 0;  // whose lookup went last: the next goes to another user if any waits
  std::vector<std::thread> threads_;
};

}  // namespace gpuledger
