// What Slurm itself says of a process and a job, asked through its own commands with a
// deadline: `scontrol pidinfo PID` (slurmd, from its process tracking: which job a pid is in)
// and `scontrol show job -o ID` (slurmctld: the job's user and name). The guard believes a
// process is in a Slurm job only from slurmd's cgroup or from this, never from SLURM_JOB_ID.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.h"

namespace gpuledger {

struct SlurmJobInfo {
  std::string user;  // "alice"
  uint32_t uid = 0;
  std::string name;  // JobName
};

// Pure parsers of the two commands' output. The job id of a pidinfo answer ("Slurm job id 42
// ends at …"), "" when it names none; a job line's user, uid and name, nullopt when absent.
std::string ParsePidInfo(std::string_view output);
std::optional<SlurmJobInfo> ParseShowJob(std::string_view output);

class SlurmQuery {
 public:
  // "scontrol": the command (a test may point it at a script). Each call waits at most
  // "timeout_ms".
  explicit SlurmQuery(std::string scontrol = "scontrol", DurationMs timeout_ms = 3000)
      : scontrol_(std::move(scontrol)), timeout_ms_(timeout_ms) {}

  // The job slurmd puts "pid" in; "" when none (or Slurm is not there or did not answer).
  std::string JobOfPid(int64_t pid);
  // The job's user and name from slurmctld, cached; nullopt when it did not answer.
  std::optional<SlurmJobInfo> Job(const std::string& job_id);
  // False once scontrol turned out not to be installed: then nothing is asked again.
  bool available() const { return available_; }

 private:
  std::string scontrol_;
  DurationMs timeout_ms_;
  bool available_ = true;
  std::map<std::string, SlurmJobInfo> jobs_;
};

}  // namespace gpuledger
