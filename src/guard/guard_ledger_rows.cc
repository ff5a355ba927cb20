// The guard's ledger rows: a workload's job id and row, written as it runs and when it ends.
#include "guard/guard_daemon_internal.h"

namespace gpuledger::guard_daemon {

// A saved workload as the record its ledger row is written from.
WorkloadRecord RecordOf(const SavedWorkload& s) {
  WorkloadRecord r;
  r.info.name = {WorkloadKindOfId(s.id), s.id};
  r.info.owner = s.owner, r.info.command = s.command, r.info.uid = s.uid;
  r.info.processes = s.processes;
  r.gpus = s.gpus;
  r.first_seen = s.first_seen, r.last_seen = s.last_seen;
  r.gpu_ms = s.gpu_ms, r.idle_gpu_ms = s.idle_gpu_ms;
  return r;
}

std::string Guard::JobId(const WorkloadInfo& info, TimeMs first_seen) const {
  const std::string slurm_id = SlurmJobIdOf(info.name.id);
  return slurm_id.empty() ? fmt::format("{}:{}:{}", host_, info.name.id, first_seen) : slurm_id;
}

LedgerJob Guard::JobRow(const WorkloadRecord& w, const std::string& status) const {
  LedgerJob j;
  j.job_id = JobId(w.info, w.first_seen);
  j.owner = w.info.owner;
  j.labels =
      "kind=" + std::string(WorkloadKindId(w.info.name.kind)) + ";workload=" + w.info.name.id;
  j.command = w.info.command;
  j.host = host_;
  for (int g : w.gpus) j.gpus += (j.gpus.empty() ? "" : ";") + std::to_string(g);
  j.start = w.first_seen;
  if (status != "running") j.end = w.gone_at != 0 ? w.gone_at : w.last_seen;
  j.status = status;
  if (auto it = killed_by_.find(w.info.name.id); it != killed_by_.end()) j.killed_by = it->second;
  j.gpu_hours = w.gpu_ms / kMsPerHour;
  j.idle_gpu_hours = w.idle_gpu_ms / kMsPerHour;
  j.cost_usd = j.gpu_hours * o_.usd_per_gpu_hour;
  j.kind = WorkloadKindId(w.info.name.kind);
  const RunIdentity& id = w.info.identity;
  j.experiment = id.experiment, j.run = id.run, j.repo = id.repo, j.commit = id.commit;
  j.pr = id.pr;
  if (!id.pipeline.empty()) j.labels += ";ci_run=" + id.pipeline;
  return j;
}

void Guard::RecordJobs(TimeMs now) {
  if (now < next_ledger_refresh_) return;
  next_ledger_refresh_ = now + kLedgerRefreshMs;
  for (const auto& [id, w] : guard_.workloads()) outbox_.PutJob(JobRow(w.Record(), "running"));
}

}  // namespace gpuledger::guard_daemon
