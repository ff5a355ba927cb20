#include "sources/jobs_csv.h"

#include <algorithm>
#include <unordered_set>

#include "core/csv_table.h"
#include "sources/table_fields.h"

namespace gpuledger {

KnownMachines MachinesNamedIn(std::string_view text) {
  CsvTable table(text);
  KnownMachines known;
  const auto c = table.Column({"machine", "host", "hostname", "node"});
  if (!c) return known;
  for (const CsvRecord& r : table.rows()) {
    if (*c < r.fields.size()) known.emplace(std::string(Trim(r.fields[*c])), 0);
  }
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
                     "end, status, exit_code, repo, commit, pr)",
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
  auto get = [](const CsvRecord& r, std::optional<size_t> c) {
    return c ? std::string(Trim(r.fields[*c])) : std::string();
  };

  ++stats->files;
  TimeParser parser(&zone);
  std::unordered_set<std::string> seen_ids;
  for (const CsvRecord& r : table.rows()) {
    ++stats->rows_read;
    const uint64_t order = InputOrder(file_index, r.line);
    auto reject = [&](std::string_view reason, std::string detail) {
      stats->rejected.Add(reason, file, r.line, order, detail);
    };
    if (r.fields.size() != table.header().size()) {
      reject("field_count", std::to_string(r.fields.size()) + " fields where the header has " +
                                std::to_string(table.header().size()));
      continue;
    }
    Job job;
    job.machine = get(r, c_machine);
    const auto known = machines.find(job.machine);
    if (known == machines.end()) {
      reject("unknown_machine", "machine '" + job.machine + "' is not in the audit");
      continue;
    }
    if (c_gpus && !ReadGpuList(r.fields[*c_gpus], &job.gpus)) {
      reject("bad_gpus", "gpus '" + get(r, c_gpus) + "'");
      continue;
    }
    const int gpu_count = known->second;
    if (gpu_count > 0 && !job.gpus.empty() &&
        *std::max_element(job.gpus.begin(), job.gpus.end()) >= gpu_count) {
      reject("unknown_gpu", "gpus '" + get(r, c_gpus) + "' on a machine with " +
                                std::to_string(gpu_count) + " GPUs");
      continue;
    }
    if (get(r, c_start).empty() || !ReadTime(&parser, r.fields[*c_start], 0, &job.start) ||
        (c_end && !ReadTime(&parser, r.fields[*c_end], kTimeMax, &job.end))) {
      reject("bad_time", "start '" + get(r, c_start) + "', end '" + get(r, c_end) + "'");
      continue;
    }
    if (job.end < job.start) {
      reject("end_before_start", "end is before start");
      continue;
    }
    job.status = get(r, c_status);
    if (job.status.empty()) {
      stats->notes.Add("missing_status", file, r.line, order, "taken as not failed");
    } else if (!ClassifyJobStatus(job.status, &job.failed)) {
      reject("unknown_status", "status '" + job.status + "'");
      continue;
    }
    job.id = get(r, c_id);
    if (job.id.empty()) job.id = file + ":" + std::to_string(r.line);
    if (!seen_ids.insert(job.id).second) {
      stats->notes.Add("duplicate_job_id", file, r.line, order, "job id '" + job.id + "'");
    }
    job.owner = get(r, c_owner);
    job.exit_code = get(r, c_exit);
    job.repo = get(r, c_repo);
    job.commit = get(r, c_commit);
    job.pr = get(r, c_pr);
    job.input_order = order;
    jobs->push_back(std::move(job));
    ++stats->rows_accepted;
  }
  return {};
}

}  // namespace gpuledger
