#include "demo/demo_fleet.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace gpuledger {
namespace {

// splitmix64: a small, well-mixed generator with fully specified output on every platform
// (std:: distributions are not), so the demo is the same everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int64_t Uniform(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Chance(int percent) { return Uniform(0, 99) < percent; }

 private:
  uint64_t state_;
};

struct MachineType {
  const char* tag;
  const char* model;
  int gpus;
  double hourly_usd;
};

constexpr std::array<MachineType, 5> kTypes = {{
    {"h100", "NVIDIA H100 80GB HBM3", 8, 98.32},
    {"a100", "NVIDIA A100-SXM4-40GB", 8, 32.77},
    {"a10g", "NVIDIA A10G", 4, 5.67},
    {"a10g", "NVIDIA A10G", 1, 1.21},
    {"l4", "NVIDIA L4", 1, 0.98},
}};

constexpr std::array<const char*, 12> kPeople = {"asha", "bruno", "chen", "dana", "eli",  "farah",
                                                 "gus",  "hiro",  "ines", "jon",  "kemi", "lars"};
constexpr std::array<const char*, 5> kTeams = {"vision", "nlp", "speech", "recsys", "platform"};
constexpr std::array<const char*, 5> kProjects = {"detector-v3", "llm-finetune", "asr-large",
                                                  "ranker", "infra"};

const MachineType& PickType(Rng& rng, bool never_used) {
  const int r = static_cast<int>(rng.Uniform(0, 99));
  if (never_used) {
    return r < 6    ? kTypes[0]
           : r < 16 ? kTypes[1]
           : r < 36 ? kTypes[2]
           : r < 65 ? kTypes[3]
                    : kTypes[4];
  }
  return r < 30 ? kTypes[0] : r < 65 ? kTypes[1] : kTypes[2];
}

std::string Hex(Rng& rng, int digits) {
  std::string s;
  while (static_cast<int>(s.size()) < digits) s += fmt::format("{:016x}", rng.Next());
  return s.substr(0, digits);
}

// Adds a job of "kind" at "t"; returns when the GPU work it caused ends.
TimeMs AddJob(Rng& rng, const Machine& m, int team, TimeMs t, TimeMs end, Fleet* fleet,
              DemoMachinePlan* plan) {
  Job job;
  job.id = fmt::format("j{:06}", fleet->jobs.size() + 1);
  job.machine = m.name;
  job.owner = rng.Chance(80) ? m.billing[0].owner : kPeople[rng.Uniform(0, kPeople.size() - 1)];
  if (job.owner.empty()) job.owner = kPeople[rng.Uniform(0, kPeople.size() - 1)];
  job.start = t;
  uint32_t mask = ~0u;
  if (m.gpu_count > 1 && rng.Chance(15)) {
    const int half = m.gpu_count / 2;
    mask = (1u << half) - 1;
    for (int g = 0; g < half; ++g) job.gpus.push_back(g);
  }
  const int kind = static_cast<int>(rng.Uniform(0, 99));
  Activity activity = Activity::kBusy;
  DurationMs duration = 0;
  if (kind < 62) {
    job.status = "completed", job.exit_code = "0";
    duration = rng.Uniform(6 * 60, 96 * 60) * kMsPerMinute;
  } else if (kind < 84) {
    job.status = "failed", job.exit_code = "1";  // died at setup, GPU still allocated
    activity = Activity::kSetupHang;
    duration = rng.Uniform(10, 45) * kMsPerMinute;
  } else if (kind < 92) {
    job.status = "out_of_memory", job.exit_code = "137";
    duration = rng.Uniform(60, 20 * 60) * kMsPerMinute;
  } else {
    job.status = "cancelled", job.exit_code = "143";
    duration = rng.Uniform(30, 6 * 60) * kMsPerMinute;
  }
  job.end = t + duration;
  if (job.end >= end) {
    job.end = kTimeMax;  // still running when the data ends
    job.status = "running", job.exit_code = "";
  }
  job.repo = fmt::format("acme/{}", kProjects[team]);
  if (rng.Chance(85)) job.commit = Hex(rng, 40);
  if (rng.Chance(60)) job.pr = std::to_string(rng.Uniform(100, 2400));
  job.failed = job.status != "completed" && job.status != "running";
  plan->segments.push_back({t, std::min(t + duration, end), activity, mask});
  fleet->jobs.push_back(std::move(job));
  return std::min(t + duration, end);
}

// Fills a used machine's billed time with jobs, idle gaps and some work outside the ledger.
void PlanUsedMachine(Rng& rng, const Machine& m, int team, Fleet* fleet, DemoMachinePlan* plan) {
  const TimeMs end = m.billing[0].end;
  TimeMs t = m.billing[0].start + rng.Uniform(0, 6 * 60) * kMsPerMinute;
  while (t < end) {
    const size_t before = fleet->jobs.size();
    t = AddJob(rng, m, team, t, end, fleet, plan);
    const bool died_at_setup = fleet->jobs[before].status == "failed";
    // After a setup failure nobody notices for hours: the machine idles on a live GPU.
    DurationMs gap = died_at_setup ? rng.Uniform(3 * 60, 26 * 60) * kMsPerMinute
                                   : rng.Uniform(20, 5 * 60) * kMsPerMinute;
    if (rng.Chance(10)) {  // someone runs work outside the ledger
      const DurationMs work = rng.Uniform(2 * 60, 10 * 60) * kMsPerMinute;
      const TimeMs from = t + gap / 3;
      if (from + work < end) plan->segments.push_back({from, from + work, Activity::kBusy, ~0u});
      gap += work;
    }
    t += gap;
  }
}

void PlanOutages(Rng& rng, const BillingPeriod& b, DemoMachinePlan* plan) {
  const int n = static_cast<int>(rng.Uniform(0, 3));
  for (int i = 0; i < n; ++i) {
    const TimeMs from = b.start + rng.Uniform(0, (b.end - b.start) / kMsPerHour) * kMsPerHour;
    plan->outages.push_back({from, std::min(b.end, from + rng.Uniform(2, 24) * kMsPerHour)});
  }
  std::sort(plan->outages.begin(), plan->outages.end(),
            [](const Outage& a, const Outage& b) { return a.from < b.from; });
  // Merge overlaps so the list stays disjoint.
  std::vector<Outage> merged;
  for (const Outage& o : plan->outages) {
    if (!merged.empty() && o.from <= merged.back().to)
      merged.back().to = std::max(merged.back().to, o.to);
    else
      merged.push_back(o);
  }
  plan->outages = std::move(merged);
}

}  // namespace

namespace {

std::vector<CreditBatch> DemoCredits(const Fleet& fleet, const DemoOptions& options) {
  double bill = 0;
  for (const Machine& m : fleet.machines) {
    for (const BillingPeriod& b : m.billing) {
      bill += b.hourly_usd * static_cast<double>(b.end - b.start) / kMsPerHour;
    }
  }
  static constexpr double kWeights[] = {1.0, 0.8, 1.2, 0.9, 1.1, 1.0, 1.3};
  double weights = 0;
  for (double w : kWeights) weights += w;
  const double span = static_cast<double>(options.days) * kMsPerDay;
  std::vector<CreditBatch> out;
  double bought = 0;
  for (size_t i = 0; i < std::size(kWeights); ++i) {
    // Bought five days before the batches so far were due to run out, at the mean burn.
    const TimeMs due = options.start + static_cast<TimeMs>(span * bought / std::max(bill, 1.0));
    const TimeMs date = std::max(options.start - 7 * kMsPerDay, due - 5 * kMsPerDay);
    const double amount =
        std::max(10000.0, std::round(bill * 1.06 * kWeights[i] / weights / 10000) * 10000);
    out.push_back({fmt::format("batch-{}", i + 1), date, amount, i});
    bought += amount;
  }
  return out;
}

}  // namespace

Result<DemoFleet> MakeDemoFleet(const DemoOptions& options) {
  if (options.machines <= 0 || options.days <= 0 || options.never_used < 0 ||
      options.never_used > options.machines || options.poll_ms <= 0) {
    return MakeError(ErrorCode::kUsage,
                     "demo needs machines > 0, days > 0 and 0 <= never-used <= machines");
  }
  DemoFleet demo;
  demo.options = options;
  Rng pick(options.seed);
  // Which machines are never used: a seeded shuffle, so they are spread through the names.
  std::vector<char> never(options.machines, 0);
  std::fill(never.begin(), never.begin() + options.never_used, 1);
  for (int i = options.machines - 1; i > 0; --i) std::swap(never[i], never[pick.Uniform(0, i)]);

  const TimeMs fleet_end = options.start + options.days * kMsPerDay;
  for (int i = 0; i < options.machines; ++i) {
    Rng rng(options.seed * 1000003 + static_cast<uint64_t>(i) + 1);
    const MachineType& type = PickType(rng, never[i]);
    const int team = static_cast<int>(rng.Uniform(0, kTeams.size() - 1));
    Machine& m = demo.fleet.AddMachine(
        fmt::format("{}-{}x{}-{:03}", kTeams[team], type.tag, type.gpus, i + 1));
    m.gpu_count = type.gpus;
    const int max_life = std::max(1, options.days);
    const int64_t life_days = never[i] ? rng.Uniform(std::min(5, max_life), std::min(120, max_life))
                                       : rng.Uniform(std::min(45, max_life), max_life);
    const int64_t offset_days = rng.Uniform(0, options.days - life_days);
    BillingPeriod b;
    b.start = options.start + offset_days * kMsPerDay;
    b.end = std::min(fleet_end, b.start + life_days * kMsPerDay);
    b.hourly_usd = type.hourly_usd;
    b.gpu_model = type.model;
    b.owner = rng.Chance(never[i] ? 45 : 10) ? "" : kPeople[rng.Uniform(0, kPeople.size() - 1)];
    b.team = kTeams[team];
    b.project = kProjects[team];
    m.billing.push_back(b);
    DemoMachinePlan plan;
    if (!never[i]) PlanUsedMachine(rng, m, team, &demo.fleet, &plan);
    PlanOutages(rng, b, &plan);
    demo.plans.push_back(std::move(plan));
  }
  for (size_t j = 0; j < demo.fleet.jobs.size(); ++j) demo.fleet.jobs[j].input_order = j + 2;
  demo.credits = DemoCredits(demo.fleet, options);
  return demo;
}

}  // namespace gpuledger
