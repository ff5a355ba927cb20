#include "guard/hpc_job_mapping.h"

#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "core/line_reader.h"
#include "guard/workload_actions.h"

namespace gpuledger {

void HpcJobMapping::Write(const GpuSnapshot& snap,
                          const std::map<std::string, TrackedWorkload>& workloads) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  for (const GpuReading& g : snap.gpus) {
    if (!snap.Listed(g.index)) continue;
    std::set<std::string> jobs;
    for (const auto& [id, w] : workloads) {
      const std::string job = SlurmJobIdOf(id);
      if (!job.empty() && w.gpus.count(g.index)) jobs.insert(job);
    }
    std::string content;
    for (const std::string& j : jobs) content += j + "\n";
    auto it = written_.find(g.index);
    if (it != written_.end() && it->second == content) continue;
    if (auto r = WriteFileAtomically(dir_ + "/" + std::to_string(g.index), content); !r) {
      fmt::print(log_, "gpuledger guard: --hpc-job-mapping-dir: {}\n", r.error().ToString());
      continue;
    }
    written_[g.index] = content;
  }
}

}  // namespace gpuledger
