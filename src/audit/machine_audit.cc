#include "audit/machine_audit.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <span>

namespace gpuledger {

MachineAudit::MachineAudit(const Machine& machine, std::vector<const Job*> jobs,
                           const AuditOptions& options)
    : machine_(machine), jobs_(std::move(jobs)), options_(options) {
  if (!machine_.billed_from_telemetry) {
    for (int g = 0; g < machine_.gpu_count; ++g) Gpu(g);
  }
}

GpuAccumulator* MachineAudit::Gpu(int gpu) {
  if (!KnowsGpu(gpu)) return nullptr;
  std::unique_ptr<GpuAccumulator>* slot = nullptr;
  if (IsMigIndex(gpu)) {
    slot = &migs_[gpu];
  } else {
    if (static_cast<size_t>(gpu) >= gpus_.size()) gpus_.resize(gpu + 1);
    slot = &gpus_[gpu];
  }
  if (!*slot) {
    std::vector<Piece> pieces = BuildGpuTimeline(machine_, gpu, jobs_, options_.window_from,
                                                 options_.window_to, &share_groups_);
    *slot = std::make_unique<GpuAccumulator>(
        std::move(pieces), options_.max_gap_ms, options_.threshold_pct,
        options_.breakdown || options_.segments, options_.held_memory_mib);
  }
  return slot->get();
}

bool MachineAudit::KnowsGpu(int gpu) const {
  const int physical = PhysicalGpu(gpu);
  return physical >= 0 && physical <= kMaxGpuIndex &&
         (machine_.billed_from_telemetry || physical < machine_.gpu_count);
}

std::vector<std::pair<int, const GpuAccumulator*>> MachineAudit::Accumulators() const {
  std::vector<std::pair<int, const GpuAccumulator*>> out;
  for (size_t g = 0; g < gpus_.size(); ++g) {
    if (gpus_[g]) out.emplace_back(static_cast<int>(g), gpus_[g].get());
  }
  for (const auto& [index, acc] : migs_) out.emplace_back(index, acc.get());
  return out;
}

SampleVerdict MachineAudit::Add(int gpu, TimeMs t, double util_pct, uint64_t /*order*/,
                                double memory_mib) {
  GpuAccumulator* acc = Gpu(gpu);
  if (acc == nullptr) return SampleVerdict::kUnknownGpu;
  return acc->Add(t, util_pct, memory_mib);
}

SampleVerdict MachineAudit::AddSpan(int gpu, TimeMs from, TimeMs to, DurationMs below_ms,
                                    DurationMs above_ms, uint64_t /*order*/) {
  GpuAccumulator* acc = Gpu(gpu);
  if (acc == nullptr) return SampleVerdict::kUnknownGpu;
  acc->AddSpan(from, to, below_ms, above_ms);
  return SampleVerdict::kAccepted;
}

void MachineAudit::Finish() {
  for (auto& g : gpus_) {
    if (g) g->Finish();
  }
  for (auto& [index, g] : migs_) g->Finish();
}

TimeMs MachineAudit::DataEnd() const {
  TimeMs end = kTimeMin;
  for (const auto& [index, g] : Accumulators()) {
    if (g->has_samples()) end = std::max(end, g->stood_end());
  }
  return end;
}

TimeMs MachineAudit::FirstSample() const {
  TimeMs first = kTimeMax;
  for (const auto& [index, g] : Accumulators()) {
    if (g->has_samples()) first = std::min(first, g->first_sample());
  }
  return first;
}

DurationMs MachineAudit::TypicalIntervalMs() const {
  DurationMs typical = 0;
  for (const auto& [index, g] : Accumulators())
    typical = std::max(typical, g->typical_interval_ms());
  return typical;
}

namespace {

// Segments of different GPUs over the same stretch with the same job and names are one: an
// 8-GPU machine's idle day is one segment, not eight (the demo's segments took 124 MB). The
// result is by time, each stretch's segments in the order their first GPU gave them.
void MergeAcrossGpus(std::vector<SpendSegment>* segments) {
  std::stable_sort(segments->begin(), segments->end(),
                   [](const SpendSegment& a, const SpendSegment& b) {
                     return a.start != b.start ? a.start < b.start : a.end < b.end;
                   });
  std::vector<SpendSegment> merged;
  size_t group = 0;  // where the current stretch's segments start in "merged"
  for (const SpendSegment& s : *segments) {
    if (!merged.empty() && (merged.back().start != s.start || merged.back().end != s.end)) {
      group = merged.size();
    }
    auto same = std::find_if(
        merged.begin() + static_cast<ptrdiff_t>(group), merged.end(), [&](const SpendSegment& m) {
          return m.job == s.job && m.owner == s.owner && m.team == s.team && m.project == s.project;
        });
    if (same == merged.end()) {
      merged.push_back(s);
      continue;
    }
    same->usd += s.usd, same->held_idle_usd += s.held_idle_usd;
    for (int c = 0; c < kCategoryCount; ++c) same->category_usd[c] += s.category_usd[c];
  }
  *segments = std::move(merged);
}

}  // namespace

MachineResult MachineAudit::Result(TimeMs open_end) const {
  MachineResult out;
  out.name = machine_.name;
  out.has_jobs = !jobs_.empty();
  TimeMs clip_from = kTimeMin, clip_to = open_end;
  int gpus_billed = 0;
  if (machine_.billed_from_telemetry) {
    clip_from = kTimeMax;
    std::set<int> physical;  // a GPU carved into MIG instances counts once
    for (const auto& [index, g] : Accumulators()) {
      if (!g->has_samples()) continue;
      clip_from = std::min(clip_from, g->first_sample());
      physical.insert(PhysicalGpu(index));
    }
    gpus_billed = static_cast<int>(physical.size());
    clip_to = std::min(open_end, DataEnd());
  }
  out.gpu_count = machine_.billed_from_telemetry ? gpus_billed : machine_.gpu_count;

  // Never used: some valid sample stands for billed time, none at or above threshold, no job.
  DurationMs monitored = 0, active = 0;
  const auto accumulators = Accumulators();
  for (const auto& [index, g] : accumulators) {
    out.samples += g->samples();
    out.most_gpu_samples = std::max<uint64_t>(out.most_gpu_samples, g->samples());
    out.memory_known = out.memory_known || g->has_memory();
    for (const Piece& p : g->pieces()) monitored += p.below_ms + p.above_ms, active += p.above_ms;
  }
  out.never_used = monitored > 0 && active == 0 && !out.has_jobs;

  int32_t last_period = -1;
  Breakdown breakdown;
  std::vector<int> indices;
  for (const auto& [index, g] : accumulators) indices.push_back(index);
  const std::map<int, double> shares = PriceShares(indices);
  for (const auto& [index, g] : accumulators) {
    const double share = shares.at(index);
    for (const Piece& p : g->ClippedPieces(clip_from, clip_to)) {
      out.billed_from = std::min(out.billed_from, p.start);
      out.billed_to = std::max(out.billed_to, p.end);
      last_period = std::max(last_period, p.period);
      AddPiece(p, p.end - p.start, share, out.never_used, &out,
               options_.breakdown ? &breakdown : nullptr);
    }
  }
  if (options_.segments) MergeAcrossGpus(&out.segments);
  for (auto& [day, d] : breakdown.days) out.days.push_back(d);
  for (auto& [job, spend] : breakdown.jobs) out.jobs.push_back({jobs_[job], spend});
  if (last_period >= 0) {
    const BillingPeriod& bp = machine_.billing[last_period];
    out.owner = bp.owner, out.team = bp.team, out.project = bp.project;
    out.gpu_model = bp.gpu_model;
  }
  return out;
}

void MachineAudit::AddPiece(const Piece& p, DurationMs length_ms, double share, bool never_used,
                            MachineResult* out, Breakdown* breakdown) const {
  const BillingPeriod& period = machine_.billing[p.period];
  const double usd_per_ms = machine_.billed_from_telemetry
                                ? machine_.price_per_gpu_hour / kMsPerHour
                                : period.hourly_usd / machine_.gpu_count / kMsPerHour;
  // A MIG instance costs and counts its share of a GPU; a GPU carved into instances, the rest.
  auto spend = [&](DurationMs ms) {
    return share == 1.0 ? Spend{static_cast<double>(ms) * usd_per_ms, ms}
                        : Spend{static_cast<double>(ms) * usd_per_ms * share,
                                std::llround(static_cast<double>(ms) * share)};
  };
  Totals& t = out->totals;
  DayResult* day = nullptr;
  if (breakdown != nullptr) {
    day = &breakdown->days[DayOf(p.start)];
    day->day = DayOf(p.start);
    day->billed_ms += length_ms;
    day->monitored_ms += std::min(length_ms, p.below_ms + p.above_ms);
    day->active_ms += std::min(length_ms, p.above_ms);
  }
  std::array<double, kCategoryCount> piece_usd{};  // the piece's spend by category
  std::array<Spend, kCategoryCount> piece_spend{};
  auto add = [&](Category c, DurationMs ms) {
    if (ms <= 0) return;
    const Spend s = spend(ms);
    t.categories[static_cast<int>(c)].Add(s);
    piece_usd[static_cast<int>(c)] += s.usd;
    piece_spend[static_cast<int>(c)].Add(s);
    if (day != nullptr) day->usd[static_cast<int>(c)] += s.usd;
  };

  const bool in_job = p.cover == JobCover::kLive;
  if (never_used) {
    add(Category::kNeverUsed, length_ms);
  } else if (p.cover == JobCover::kFailedOnly) {
    add(Category::kFailedJob, length_ms);
  } else {
    add(Category::kUnmonitored, length_ms - p.below_ms - p.above_ms);
    add(in_job ? Category::kJobIdle : Category::kIdleOutsideJobs, p.below_ms);
    add(in_job ? Category::kJobActive : Category::kActiveOutsideJobs, p.above_ms);
  }
  if (p.below_ms > 0) t.below_threshold.Add(spend(p.below_ms));
  const DurationMs held_ms = std::min(p.held_ms, length_ms);
  Category held_where = Category::kIdleOutsideJobs;
  if (held_ms > 0) {
    const Category where = never_used                         ? Category::kNeverUsed
                           : p.cover == JobCover::kFailedOnly ? Category::kFailedJob
                           : in_job                           ? Category::kJobIdle
                                                              : Category::kIdleOutsideJobs;
    t.held_idle.Add(spend(held_ms));
    t.held_idle_by_category[static_cast<int>(where)].Add(spend(held_ms));
    held_where = where;
  }

  const Spend whole = spend(length_ms);
  const Spend held = held_ms > 0 ? spend(held_ms) : Spend{};
  if (p.job >= 0) t.in_jobs.Add(whole);
  // The jobs the piece is attributed to, and each one's share of it: one job, or the pods
  // time-sliced on the GPU in equal parts (GPU-milliseconds split so that they add up).
  const std::span<const int32_t> takers =
      p.share_group >= 0 ? std::span<const int32_t>(share_groups_[p.share_group])
                         : std::span<const int32_t>(&p.job, 1);
  const auto n = static_cast<int64_t>(takers.size());
  for (int64_t k = 0; k < n; ++k) {
    auto part = [&](const Spend& s) {
      const DurationMs ms = s.gpu_ms / n + (k < s.gpu_ms % n ? 1 : 0);
      return Spend{s.usd / static_cast<double>(n), ms};
    };
    const Job* job = takers[k] >= 0 ? jobs_[takers[k]] : nullptr;
    const Spend mine = n == 1 ? whole : part(whole);
    const Spend mine_held = n == 1 ? held : part(held);
    if (job != nullptr) {
      if (breakdown != nullptr) breakdown->jobs[takers[k]].Add(mine);
      if (job->commit.empty()) t.no_commit.Add(mine);
    }
    // The job's name for it, else the billing period's, else "none".
    auto pick = [&](const std::string* of_job, const std::string& of_machine,
                    const std::string& none) -> const std::string& {
      return job != nullptr && !of_job->empty() ? *of_job : !of_machine.empty() ? of_machine : none;
    };
    const std::string& owner = pick(job ? &job->owner : nullptr, period.owner, UnattributedName());
    if (&owner == &UnattributedName()) t.unattributed.Add(mine);
    out->owners[owner].Add(mine);
    const std::string& team = pick(job ? &job->team : nullptr, period.team, NoneName());
    out->teams[team].Add(mine);
    const std::string& project = pick(job ? &job->project : nullptr, period.project, NoneName());
    out->projects[project].Add(mine);
    if (&owner == &UnattributedName() && &project == &NoneName() &&
        (&team == &NoneName() || team == kUnallocatedTeam)) {
      t.unowned.Add(mine);
    }
    if (held_ms > 0) {
      out->owners_held_idle[owner].Add(mine_held);
      out->teams_held_idle[team].Add(mine_held);
    }
    TakerSpend& taker = out->by_taker[TakerKey{&owner, &team, &project}];
    for (int c = 0; c < kCategoryCount; ++c) {
      if (piece_spend[c].gpu_ms > 0)
        taker.categories[c].Add(n == 1 ? piece_spend[c] : part(piece_spend[c]));
    }
    taker.held_idle_usd[static_cast<int>(held_where)] += mine_held.usd;
    if (options_.segments) {
      SpendSegment seg{p.start, p.end,  mine.usd, piece_usd, mine_held.usd,
                       job,     &owner, &team,    &project};
      if (n > 1) {
        for (double& c : seg.category_usd) c /= static_cast<double>(n);
      }
      out->segments.push_back(seg);
    }
  }
}

}  // namespace gpuledger
