// Workloads that GPU telemetry names by its labels (DESIGN.md, "Kubernetes"): dcgm-exporter puts
// namespace, pod and container on the series of a GPU a pod holds, and hpc_job on those of a
// Slurm job. Without a jobs file they become the audit's jobs; with one they are matched to it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/time.h"

namespace gpuledger {

struct SeriesWorkload {
  std::string ns, pod, container;  // a pod (ns may be empty: an exporter without namespaces)
  std::string hpc_job;             // a Slurm job id
  // Every label of the first series seen of it: what --owners rules on label:NAME read.
  std::map<std::string, std::string> labels;

  bool IsPod() const { return !pod.empty(); }
  // "namespace/pod", or the hpc_job id.
  std::string Name() const { return IsPod() ? (ns.empty() ? pod : ns + "/" + pod) : hpc_job; }
};

// One stretch of a workload on one machine: from its first sample to the end of what its last
// one stands for (a gap over max_gap between its samples ends a run), on the GPUs it was seen on.
struct WorkloadRun {
  int32_t workload = 0;  // index into the source's workloads
  TimeMs start = 0, end = 0;
  std::vector<int> gpus;  // sorted
};

// The workload a series' labels name: namespace/pod/container (also as exported_* after a
// Prometheus relabel, and pod_namespace/pod_name/container_name of older exporters), else
// hpc_job; false when they name none (dcgm-exporter writes pod="" for a GPU no pod holds).
template <typename LabelFn>
bool SeriesWorkloadOf(LabelFn&& label, SeriesWorkload* out) {
  auto first = [&](std::initializer_list<const char*> keys) {
    for (const char* k : keys) {
      if (std::string v = label(k); !v.empty()) return v;
    }
    return std::string();
  };
  out->pod = first({"pod", "exported_pod", "pod_name"});
  out->hpc_job = label("hpc_job");
  if (out->pod.empty() && out->hpc_job.empty()) return false;  // most series: no more lookups
  out->ns = first({"namespace", "exported_namespace", "pod_namespace"});
  out->container = first({"container", "exported_container", "container_name"});
  return true;
}

}  // namespace gpuledger
