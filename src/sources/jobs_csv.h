// Job records: job_id,machine,gpus,owner,start,end,status,exit_code,repo,commit,pr
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/problems.h"
#include "core/time_zone.h"
#include "model/fleet.h"

namespace gpuledger {

// Machines jobs may name: name → GPU count (0 when not known yet, as with machines billed
// from telemetry, whose GPU indices are then not checked).
using KnownMachines = std::unordered_map<std::string, int>;

// Every machine the jobs CSV "text" names, with an unknown GPU count: for readers that need the
// jobs without an inventory (review analysis).
KnownMachines MachinesNamedIn(std::string_view text);

// Appends the jobs in jobs CSV "text" to "jobs". Columns are found by name; machine and start
// are required. `gpus` is "0;1;3" or empty for all of the machine's GPUs; an empty `end` means
// the job is still running. Rows are rejected, counted in "stats" by reason with their first
// file:line: field_count, unknown_machine, bad_gpus, unknown_gpu, bad_time, end_before_start,
// unknown_status. Noted: duplicate_job_id, missing_status (taken as not failed).
// Fails (kParse) only when the header lacks a required column.
Result<void> ReadJobs(std::string_view text, const std::string& file, uint32_t file_index,
                      const TimeZone& zone, const KnownMachines& machines, std::vector<Job>* jobs,
                      SourceStats* stats);

}  // namespace gpuledger
