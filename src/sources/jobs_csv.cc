#include "sources/jobs_csv.h"

#include <algorithm>
#include <unordered_set>

#include "core/csv_table.h"
#include "sources/table_fields.h"
#include "sources/table_rows.h"

namespace gpuledger {

KnownMachines MachinesNamedIn(std::string_view text) {
  CsvTable table(text);
  KnownMachines known;
  const auto c = table.Column({"machine", "host", "hostname", "node"});
  if (!c) return known;
  table.ForEachRecord([&](const CsvRecord& r) {
    if (*c < r.fields.size()) known.emplace(std::string(Trim(r.fields[*c])), 0);
  });
  return known;
}

Result<void> ReadJobs(std::string_view text, const std::string& file, uint32_t file_index,
                      const TimeZone& zone, const KnownMachines& machines, std::vector<Job>* jobs,
                      SourceStats* stats) {
  CsvTable table(text);
  const auto c_machine = table.Column({"machine", "host", "hostname", "node"});
  const auto c_start = table.Column({"start", "started_at"});
  if (!c_machine || !c_start) {
    return MakeError(ErrorCode::kParse,
                     "jobs header must name machine and start (optional: job_id, gpus, owner, "
                     "end, status, exit_code, repo, commit, pr, experiment, run)",
                     file + ":" + std::to_string(std::max<uint64_t>(table.header_line(), 1)));
  }
  const auto c_id = table.Column({"job_id", "id", "jobid"});
  const auto c_gpus = table.Column({"gpus"});
  const auto c_owner = table.Column({"owner", "user"});
  const auto c_end = table.Column({"end", "ended_at"});
  const auto c_status = table.Column({"status", "state"});
  const auto c_exit = table.Column({"exit_code", "exitcode"});
  const auto c_repo = table.Column({"repo", "repository"});
  const auto c_commit = table.Column({"commit", "sha"});
  const auto c_pr = table.Column({"pr", "pull_request"});
  const auto c_experiment = table.Column({"experiment", "experiment_id", "mlflow_experiment"});
  const auto c_run = table.Column({"run", "run_id", "mlflow_run_id", "wandb_run_id"});
  const auto c_interactive = table.Column({"interactive"});
  const auto c_kind = table.Column({"kind"});

  ++stats->files;
  TimeParser parser(&zone);
  std::unordered_set<std::string> seen_ids;
  ForEachTableRow(table, file, file_index, stats, [&](const TableRow& r) {
    Job job;
    job.machine = r.Get(c_machine);
    const auto known = machines.find(job.machine);
    if (known == machines.end()) {
      r.Reject("unknown_machine", "machine '" + job.machine + "' is not in the audit");
      return;
    }
    if (c_gpus && !ReadGpuList(r[*c_gpus], &job.gpus)) {
      r.Reject("bad_gpus", "gpus '" + r.Get(c_gpus) + "'");
      return;
    }
    const int gpu_count = known->second;
    if (gpu_count > 0 && !job.gpus.empty() &&
        *std::max_element(job.gpus.begin(), job.gpus.end()) >= gpu_count) {
      r.Reject("unknown_gpu", "gpus '" + r.Get(c_gpus) + "' on a machine with " +
                                  std::to_string(gpu_count) + " GPUs");
      return;
    }
    if (r.Get(c_start).empty() || !ReadTime(&parser, r[*c_start], 0, &job.start) ||
        (c_end && !ReadTime(&parser, r[*c_end], kTimeMax, &job.end))) {
      r.Reject("bad_time", "start '" + r.Get(c_start) + "', end '" + r.Get(c_end) + "'");
      return;
    }
    if (job.end < job.start) {
      r.Reject("end_before_start", "end is before start");
      return;
    }
    job.status = r.Get(c_status);
    if (job.status.empty()) {
      r.Note("missing_status", "taken as not failed");
    } else if (!ClassifyJobStatus(job.status, &job.failed)) {
      r.Reject("unknown_status", "status '" + job.status + "'");
      return;
    }
    job.id = r.Get(c_id);
    if (job.id.empty()) job.id = file + ":" + std::to_string(r.line());
    if (!seen_ids.insert(job.id).second) {
      r.Note("duplicate_job_id", "job id '" + job.id + "'");
    }
    job.owner = r.Get(c_owner);
    job.exit_code = r.Get(c_exit);
    job.repo = r.Get(c_repo);
    job.commit = r.Get(c_commit);
    job.pr = r.Get(c_pr);
    job.experiment = r.Get(c_experiment);
    job.run = r.Get(c_run);
    const std::string interactive = r.Get(c_interactive), kind = r.Get(c_kind);
    if (interactive == "true" || interactive == "yes" || interactive == "1") {
      job.interactive = true;
    } else if (!interactive.empty() && interactive != "false" && interactive != "no" &&
               interactive != "0") {
      r.Reject("bad_interactive", "interactive '" + interactive + "' (true or false)");
      return;
    }
    // The ledger's kinds: a Jupyter kernel seen by the guard is interactive work.
    if (kind == "jupyter" || kind == "notebook" || kind == "interactive") job.interactive = true;
    job.input_order = r.order();
    jobs->push_back(std::move(job));
    ++stats->rows_accepted;
  });
  return {};
}

}  // namespace gpuledger
