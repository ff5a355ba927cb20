#include "audit/group_spend.h"

#include <algorithm>
#include <map>
#include <set>

#include "audit/category.h"

namespace gpuledger {
namespace {

constexpr std::string_view kNone = "(none)";

const std::string& KeyOf(const Job& job, GroupBy by) {
  switch (by) {
    case GroupBy::kExperiment:
      return job.experiment;
    case GroupBy::kRun:
      return job.run;
    case GroupBy::kPr:
      return job.pr;
    case GroupBy::kRepo:
      return job.repo;
  }
  return job.experiment;
}

}  // namespace

Result<GroupBy> ParseGroupBy(std::string_view text) {
  if (text == "experiment") return GroupBy::kExperiment;
  if (text == "run") return GroupBy::kRun;
  if (text == "pr") return GroupBy::kPr;
  if (text == "repo") return GroupBy::kRepo;
  return MakeError(ErrorCode::kUsage,
                   "must be experiment, run, pr or repo, not '" + std::string(text) + "'",
                   "--group-by");
}

std::string_view GroupById(GroupBy by) {
  switch (by) {
    case GroupBy::kExperiment:
      return "experiment";
    case GroupBy::kRun:
      return "run";
    case GroupBy::kPr:
      return "pr";
    case GroupBy::kRepo:
      return "repo";
  }
  return "experiment";
}

std::string_view GroupListName(GroupBy by) {
  switch (by) {
    case GroupBy::kExperiment:
      return "experiments";
    case GroupBy::kRun:
      return "runs";
    case GroupBy::kPr:
      return "prs";
    case GroupBy::kRepo:
      return "repos";
  }
  return "experiments";
}

std::vector<GroupSpend> SpendByGroup(const AuditResult& audit, GroupBy by) {
  std::map<std::string, GroupSpend, std::less<>> groups;
  std::map<std::string, std::set<const Job*>, std::less<>> jobs;
  auto group = [&](const Job* job) -> GroupSpend& {
    const std::string& key = job ? KeyOf(*job, by) : std::string();
    const std::string name = key.empty() ? std::string(kNone) : key;
    GroupSpend& g = groups[name];
    g.key = name;
    return g;
  };
  for (const MachineResult& m : audit.machines) {
    for (const SpendSegment& s : m.segments) {
      GroupSpend& g = group(s.job);
      g.usd += s.usd, g.held_idle_usd += s.held_idle_usd;
      for (int c = 0; c < kCategoryCount; ++c) {
        if (IsIdle(static_cast<Category>(c))) g.idle_usd += s.category_usd[c];
        if (static_cast<Category>(c) == Category::kFailedJob) g.failed_usd += s.category_usd[c];
      }
    }
    // GPU time: the jobs' own, and the machine's outside them (its total less theirs).
    double outside_ms = 0;
    for (const Spend& c : m.totals.categories) outside_ms += static_cast<double>(c.gpu_ms);
    for (const JobResult& j : m.jobs) {
      GroupSpend& g = group(j.job);
      g.gpu_hours += j.spend.GpuHours();
      outside_ms -= static_cast<double>(j.spend.gpu_ms);
      if (j.spend.usd > 0 || j.spend.gpu_ms > 0) jobs[g.key].insert(j.job);
    }
    if (outside_ms > 0.5) group(nullptr).gpu_hours += outside_ms / kMsPerHour;
  }
  std::vector<GroupSpend> out;
  for (auto& [key, g] : groups) {
    g.jobs = static_cast<int>(jobs[key].size());
    out.push_back(g);
  }
  std::sort(out.begin(), out.end(), [](const GroupSpend& a, const GroupSpend& b) {
    return a.usd != b.usd ? a.usd > b.usd : a.key < b.key;
  });
  return out;
}

}  // namespace gpuledger
