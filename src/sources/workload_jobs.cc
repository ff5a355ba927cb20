#include "sources/workload_jobs.h"

#include <map>
#include <set>

namespace gpuledger {
namespace {

// What the rules read of a workload: its namespace, pod, container, machine and labels.
OwnerRules::Lookup LookupOf(const SeriesWorkload& w, const std::string& machine) {
  return [&w, &machine](const std::string& key) -> std::optional<std::string> {
    auto known = [](const std::string& v) {
      return v.empty() ? std::nullopt : std::optional<std::string>(v);
    };
    if (key == "machine") return machine;
    if (key == "namespace") return known(w.ns);
    if (key == "pod") return known(w.pod);
    if (key == "container") return known(w.container);
    if (!key.starts_with("label:")) return std::nullopt;
    auto it = w.labels.find(key.substr(6));
    return it == w.labels.end() ? std::nullopt : std::optional(it->second);
  };
}

// Fills the job's empty owner, team and project from the rules on the workload's labels; the
// namespace is the team when nothing else names one.
void Attribute(const SeriesWorkload& w, const std::string& machine, const OwnerRules* rules,
               Job* job) {
  if (rules != nullptr) {
    if (const std::optional<Attribution> a = rules->Apply(LookupOf(w, machine))) {
      if (job->owner.empty()) job->owner = a->owner;
      if (job->team.empty()) job->team = a->team;
      if (job->project.empty()) job->project = a->project;
      if (job->experiment.empty()) job->experiment = a->experiment;
      if (job->run.empty()) job->run = a->run;
      if (job->repo.empty()) job->repo = a->repo;
      if (job->pr.empty()) job->pr = a->pr;
    }
  }
  if (job->team.empty()) job->team = w.ns;
  if (w.IsPod()) job->pod = w.Name();
}

}  // namespace

void SetAsideInfrastructure(const OwnerRules& rules, std::vector<TelemetrySource>* telemetry,
                            SourceStats* stats) {
  uint64_t set_aside = 0, exported = 0;
  std::string names;
  for (TelemetrySource& src : *telemetry) {
    for (SeriesWorkload& w : src.workloads) {
      w.infrastructure = w.IsPod() && rules.IgnoresWorkload(LookupOf(w, src.machine));
      exported += w.from_exported && !w.infrastructure;
      if (!w.infrastructure) continue;
      if (++set_aside <= 3) names += (names.empty() ? "" : ", ") + w.Name();
    }
    std::erase_if(src.workload_runs, [&](const WorkloadRun& run) {
      return src.workloads[static_cast<size_t>(run.workload)].infrastructure;
    });
  }
  if (set_aside > 0) {
    stats->notes.Add("not_workloads", "(telemetry)", 0, UINT64_MAX - 3,
                     "pods that are GPU infrastructure, not workloads (the exporter, device "
                     "plugin, operator validators, [[ignore]] rules): their GPUs' time is outside "
                     "jobs; " +
                         names + (set_aside > 3 ? ", …" : ""),
                     set_aside);
  }
  if (exported > 0) {
    stats->notes.Add("exported_labels", "(telemetry)", 0, UINT64_MAX - 3,
                     "pods named by exported_namespace/exported_pod (scraped without "
                     "honor_labels: namespace/pod there are the exporter's own)",
                     exported);
  }
}

void JobsFromWorkloads(const std::vector<TelemetrySource>& telemetry, const OwnerRules* rules,
                       Fleet* fleet, SourceStats* stats) {
  uint64_t made = 0;
  uint64_t order = uint64_t{1} << 62;  // after any file's rows
  for (const TelemetrySource& src : telemetry) {
    if (fleet->Find(src.machine) < 0) continue;
    std::map<int32_t, int> runs_seen;
    for (const WorkloadRun& run : src.workload_runs) {
      const SeriesWorkload& w = src.workloads[run.workload];
      const int k = ++runs_seen[run.workload];
      Job job;
      job.id = k == 1 ? w.Name() : w.Name() + "#" + std::to_string(k);
      job.machine = src.machine;
      job.gpus = run.gpus;
      job.start = run.start, job.end = run.end;
      job.status = "unknown";
      job.input_order = order++;
      Attribute(w, src.machine, rules, &job);
      fleet->jobs.push_back(std::move(job));
      ++made;
    }
  }
  if (made > 0) {
    stats->notes.Add("jobs_from_labels", "(telemetry)", 0, UINT64_MAX - 2,
                     "runs of pods and Slurm jobs named by telemetry labels (namespace/pod, "
                     "hpc_job), taken as jobs: no jobs file was given",
                     made);
  }
}

void MatchWorkloadsToJobs(const std::vector<TelemetrySource>& telemetry, const OwnerRules* rules,
                          Fleet* fleet, SourceStats* stats) {
  std::map<std::pair<std::string, std::string>, std::vector<Job*>> by_id;  // (machine, id)
  for (Job& j : fleet->jobs) by_id[{j.machine, j.id}].push_back(&j);
  uint64_t unmatched = 0;
  for (const TelemetrySource& src : telemetry) {
    for (size_t i = 0; i < src.workloads.size(); ++i) {
      const SeriesWorkload& w = src.workloads[i];
      if (w.infrastructure) continue;
      std::vector<Job*> jobs;
      for (const std::string& id : {w.pod, w.Name(), w.hpc_job}) {
        if (id.empty()) continue;
        auto it = by_id.find({src.machine, id});
        if (it != by_id.end()) jobs = it->second;
        if (!jobs.empty()) break;
      }
      if (jobs.empty()) {
        unmatched += w.IsPod();
        continue;
      }
      std::set<int> gpus;
      for (const WorkloadRun& run : src.workload_runs) {
        if (run.workload == static_cast<int32_t>(i)) gpus.insert(run.gpus.begin(), run.gpus.end());
      }
      for (Job* job : jobs) {
        Attribute(w, src.machine, rules, job);
        if (!w.IsPod() && job->gpus.empty()) job->gpus.assign(gpus.begin(), gpus.end());
      }
    }
  }
  if (unmatched > 0) {
    stats->notes.Add("pods_without_job", "(telemetry)", 0, UINT64_MAX - 2,
                     "pods named by telemetry labels that no job of the jobs file names (by pod "
                     "or namespace/pod on the same machine): their time is outside jobs",
                     unmatched);
  }
}

}  // namespace gpuledger
