// Workloads that GPU telemetry names by its labels (DESIGN.md, "Kubernetes"): dcgm-exporter puts
// namespace, pod and container on the series of a GPU a pod holds, and hpc_job on those of a
// Slurm job. Without a jobs file they become the audit's jobs; with one they are matched to it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"

namespace gpuledger {

struct SeriesWorkload {
  std::string ns, pod, container;  // a pod (ns may be empty: an exporter without namespaces)
  std::string hpc_job;             // a Slurm job id
  // Every label of the first series seen of it: what --owners rules on label:NAME read.
  std::map<std::string, std::string> labels;
  bool from_exported = false;   // named by exported_* labels (a scrape without honor_labels)
  bool infrastructure = false;  // GPU infrastructure (OwnerRules::IgnoresWorkload): no workload

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

// The workload a series' labels name: namespace/pod/container, else hpc_job; false when they
// name none (dcgm-exporter writes pod="" for a GPU no pod holds). exported_pod/
// exported_namespace/exported_container win when present: Prometheus writes them when it
// scrapes the exporter without honor_labels, and then pod/namespace/container are the
// exporter's own. Older exporters write pod_namespace/pod_name/container_name.
template <typename LabelFn>
bool SeriesWorkloadOf(LabelFn&& label, SeriesWorkload* out) {
  auto first = [&](std::initializer_list<const char*> keys) {
    for (const char* k : keys) {
      if (std::string v = label(k); !v.empty()) return v;
    }
    return std::string();
  };
  out->pod = label("exported_pod");
  out->from_exported = !out->pod.empty();
  if (!out->from_exported) out->pod = first({"pod", "pod_name"});
  out->hpc_job = label("hpc_job");
  if (out->pod.empty() && out->hpc_job.empty()) return false;  // most series: no more lookups
  out->ns =
      out->from_exported ? label("exported_namespace") : first({"namespace", "pod_namespace"});
  out->container =
      out->from_exported ? label("exported_container") : first({"container", "container_name"});
  return true;
}

// Labels that describe a pod (or Slurm job) rather than its node: a node's own GPU time is never
// named by them (DESIGN.md, "Kubernetes": idle node time belongs to the node).
inline bool IsWorkloadLabel(std::string_view key) {
  for (std::string_view k :
       {"namespace", "pod", "container", "exported_namespace", "exported_pod", "exported_container",
        "pod_namespace", "pod_name", "container_name", "hpc_job", "pod_uid", "uid"}) {
    if (key == k) return true;
  }
  return false;
}

// Labels that describe the node or the GPU whatever series carries them (dcgm-exporter's own,
// Prometheus's target labels, the hostname labels of Kubernetes node discovery). Any other
// label seen only on series that name a workload may be a pod label and is not the node's.
inline bool IsNodeLabel(std::string_view key) {
  for (std::string_view k :
       {"Hostname", "hostname", "node", "nodename", "instance", "job", "cluster", "gpu", "UUID",
        "device", "modelName", "pci_bus_id", "DCGM_FI_DRIVER_VERSION", "GPU_I_ID", "GPU_I_PROFILE",
        "__name__", "kubernetes_io_hostname", "label_kubernetes_io_hostname"}) {
    if (key == k) return true;
  }
  return false;
}

}  // namespace gpuledger
