#include "audit/category.h"

namespace gpuledger {

std::string_view CategoryId(Category c) {
  switch (c) {
    case Category::kNeverUsed:
      return "never_used";
    case Category::kFailedJob:
      return "failed_job";
    case Category::kUnmonitored:
      return "unmonitored";
    case Category::kJobIdle:
      return "job_idle";
    case Category::kJobActive:
      return "job_active";
    case Category::kIdleOutsideJobs:
      return "idle_outside_jobs";
    case Category::kActiveOutsideJobs:
      return "active_outside_jobs";
  }
  return "?";
}

std::string_view CategoryPractice(Category c) {
  switch (c) {
    case Category::kNeverUsed:
      return "provision through code with an owner and a time-to-live; reclaim machines that "
             "never run work";
    case Category::kFailedJob:
      return "fail fast: preflight checks, a smoke run in CI, review before GPU time";
    case Category::kUnmonitored:
      return "measure every GPU (DCGM exporter or the guard) - you can't own what you can't see";
    case Category::kJobIdle:
      return "autokill idle jobs; fix the input pipeline that starves the GPU";
    case Category::kIdleOutsideJobs:
      return "job-scoped machines: release a machine when its job ends or dies";
    case Category::kActiveOutsideJobs:
      return "run work through the ledger so every GPU-hour has an owner and a commit";
    case Category::kJobActive:
      return "productive spend";
  }
  return "";
}

bool IsWaste(Category c) {
  return c == Category::kNeverUsed || c == Category::kFailedJob || c == Category::kJobIdle ||
         c == Category::kIdleOutsideJobs;
}

bool IsIdle(Category c) {
  return c == Category::kNeverUsed || c == Category::kJobIdle || c == Category::kIdleOutsideJobs;
}

}  // namespace gpuledger
