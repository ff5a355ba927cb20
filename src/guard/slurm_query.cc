#include "guard/slurm_query.h"

#include <charconv>

#include "guard/external_command.h"

namespace gpuledger {
namespace {

bool Digits(std::string_view s) {
  return !s.empty() && s.size() <= 24 &&
         s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

std::string ParsePidInfo(std::string_view output) {
  // "Slurm JobId=42 ends at …" (Slurm 22.05 and later), "Slurm job id 42 ends at …" (older).
  std::string_view rest;
  for (std::string_view lead : {"Slurm JobId=", "Slurm job id "}) {
    if (const size_t at = output.find(lead); at != std::string_view::npos) {
      rest = output.substr(at + lead.size());
      break;
    }
  }
  if (rest.empty()) return "";
  const size_t end = rest.find_first_not_of("0123456789");
  std::string_view id = rest.substr(0, end);
  return Digits(id) ? std::string(id) : "";
}

std::optional<SlurmJobInfo> ParseShowJob(std::string_view output) {
  // "JobId=42 JobName=train big UserId=alice(1000) GroupId=…": the name may hold spaces.
  const size_t user_at = output.find(" UserId=");
  if (user_at == std::string_view::npos) return std::nullopt;
  std::string_view user = output.substr(user_at + 8);
  const size_t open = user.find('('), close = user.find(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return std::nullopt;
  SlurmJobInfo info;
  std::string_view uid = user.substr(open + 1, close - open - 1);
  if (!Digits(uid)) return std::nullopt;
  std::from_chars(uid.data(), uid.data() + uid.size(), info.uid);
  info.user = std::string(user.substr(0, open));
  const size_t name_at = output.find("JobName=");
  if (name_at != std::string_view::npos && name_at < user_at)
    info.name = std::string(output.substr(name_at + 8, user_at - name_at - 8));
  return info;
}

std::string SlurmQuery::JobOfPid(int64_t pid) {
  if (!available_) return "";
  auto r = CaptureArgv({scontrol_, "pidinfo", std::to_string(pid)}, timeout_ms_);
  if (!r || r->not_found) {
    available_ = false;
    return "";
  }
  return r->status == 0 ? ParsePidInfo(r->output) : "";
}

std::optional<SlurmJobInfo> SlurmQuery::Job(const std::string& job_id) {
  if (auto it = jobs_.find(job_id); it != jobs_.end()) return it->second;
  if (!available_ || !Digits(job_id)) return std::nullopt;
  auto r = CaptureArgv({scontrol_, "show", "job", "-o", job_id}, timeout_ms_);
  if (!r || r->not_found) {
    available_ = false;
    return std::nullopt;
  }
  if (r->status != 0) return std::nullopt;
  auto info = ParseShowJob(r->output);
  if (jobs_.size() >= 4096) jobs_.clear();  // a node's jobs come and go: the cache stays small
  if (info) jobs_[job_id] = *info;
  return info;
}

}  // namespace gpuledger
