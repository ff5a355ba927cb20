// Slurm job records: `sacct -a -X -P -o JobID,User,Account,Partition,State,ExitCode,Start,End,
// NodeList,AllocTRES` (pipe-separated, with its header line).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/problems.h"
#include "core/time_zone.h"
#include "model/fleet.h"
#include "sources/jobs_csv.h"

namespace gpuledger {

// "gpu[01-04,07],cpu5" → gpu01 gpu02 gpu03 gpu04 gpu07 cpu5 (zero padding kept). Empty on a
// malformed list.
std::vector<std::string> ExpandNodeList(std::string_view list);

// The GPU count of an AllocTRES string: the sum of gres/gpu=N or gres/gpu:TYPE=N; 0 when none.
int TresGpuCount(std::string_view tres);

// Appends the jobs of sacct output "text". A job on several nodes becomes one job per node
// (id "JOBID@NODE"), its GPUs split evenly between them. A node's job names GPUs 0…k-1 when it
// holds k of fewer than all the machine's GPUs: sacct does not say which (noted
// gpu_indices_assumed). Rows are rejected by reason with their first file:line: field_count,
// bad_time, unknown_status, unknown_machine (no node of the job is known), bad_nodelist,
// not_started (no Start). Job steps ("123.batch") are skipped and noted. Times without a zone
// are read in "zone". Fails (kParse) when the header lacks JobID, State, Start or NodeList.
Result<void> ReadSacct(std::string_view text, const std::string& file, uint32_t file_index,
                       const TimeZone& zone, const KnownMachines& machines, std::vector<Job>* jobs,
                       SourceStats* stats);

}  // namespace gpuledger
