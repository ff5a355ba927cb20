// What a person knows a workload by, and what stopping it needs: the notebook and Jupyter
// server of a kernel, a Slurm job's name, a pod's namespace and name. Looked up once per
// workload id (a Jupyter server is asked over HTTP) and kept while the workload lives.
#pragma once

#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "guard/node_guard.h"
#include "guard/workload.h"

namespace gpuledger {

class WorkloadNames {
 public:
  // "proc_root" for a pod's service-account namespace file; what cannot be found goes to "log".
  WorkloadNames(std::string proc_root, std::FILE* log)
      : proc_root_(std::move(proc_root)), log_(log) {}

  // Fills info's title, jupyter, pod_namespace and pod_name, from "facts" (one of its
  // processes) the first time the workload is seen.
  void Fill(const ProcessFacts& facts, WorkloadInfo* info);

  // Forgets every workload not in "alive".
  void KeepOnly(const std::set<std::string>& alive);

 private:
  struct Names {
    std::string title;
    std::optional<JupyterKernel> jupyter;
    std::string pod_namespace, pod_name;
  };
  Names Find(const ProcessFacts& facts, const WorkloadName& name) const;

  std::string proc_root_;
  std::FILE* log_;
  std::map<std::string, Names> names_;
};

}  // namespace gpuledger
