#include "guard/workload_names.h"

#include <fmt/format.h>

#include "core/csv_table.h"
#include "core/line_reader.h"

namespace gpuledger {

WorkloadNames::Names WorkloadNames::Find(const ProcessFacts& facts,
                                         const WorkloadName& name) const {
  Names n;
  switch (name.kind) {
    case WorkloadKind::kJupyter: {
      const std::string kernel = name.id.substr(8);
      n.title = "Jupyter kernel " + kernel.substr(0, 8);
      auto found = LocateJupyterKernel(JupyterRuntimeDirOf(facts.argv), kernel);
      if (!found) {
        fmt::print(log_, "gpuledger guard: {}: {} (it would be stopped with signals)\n", name.id,
                   found.error().message);
        break;
      }
      if (!found->notebook.empty()) n.title = "notebook " + found->notebook;
      n.jupyter = std::move(*found);
      break;
    }
    case WorkloadKind::kSlurm:
      n.title = "Slurm job " + name.id.substr(6) +
                (facts.slurm_job_name.empty() ? "" : " (" + facts.slurm_job_name + ")");
      break;
    case WorkloadKind::kPod: {
      n.pod_namespace = facts.pod_namespace;
      if (n.pod_namespace.empty()) {  // the pod's own service-account view of its namespace
        auto ns = ReadWholeFile(proc_root_ + "/" + std::to_string(facts.pid) +
                                "/root/var/run/secrets/kubernetes.io/serviceaccount/namespace");
        if (ns) n.pod_namespace = std::string(Trim(*ns));
      }
      n.pod_name = !facts.pod_name.empty() ? facts.pod_name : facts.hostname;
      if (!n.pod_name.empty())
        n.title = "pod " + (n.pod_namespace.empty() ? "?" : n.pod_namespace) + "/" + n.pod_name;
      break;
    }
    default:
      break;
  }
  return n;
}

void WorkloadNames::Fill(const ProcessFacts& facts, WorkloadInfo* info) {
  auto it = names_.find(info->name.id);
  if (it == names_.end()) it = names_.emplace(info->name.id, Find(facts, info->name)).first;
  const Names& n = it->second;
  info->title = n.title;
  info->jupyter = n.jupyter;
  info->pod_namespace = n.pod_namespace;
  info->pod_name = n.pod_name;
}

void WorkloadNames::KeepOnly(const std::set<std::string>& alive) {
  std::erase_if(names_, [&](const auto& kv) { return !alive.count(kv.first); });
}

}  // namespace gpuledger
