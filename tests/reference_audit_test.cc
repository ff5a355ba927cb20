// Cross-checks the streaming engine against a deliberately naive reference: every rule of
// DESIGN.md "Attribution of GPU time" evaluated second by second, on random small fleets whose
// times all fall on whole seconds (so per-second evaluation is exact).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "audit_harness.h"
#include "random_fleet.h"

namespace gpuledger {
namespace {

using namespace gpuledger::testing;

struct RefMachine {
  double usd[kCategoryCount] = {};
  double below = 0;
  std::map<std::string, double> owners;
  bool never_used = false;
};

std::map<std::string, RefMachine> Reference(const RefFleet& r) {
  const int64_t gap_s = r.options.max_gap_ms / 1000;
  const int64_t from =
      r.options.window_from == kTimeMin ? -100000 : (r.options.window_from - kT0) / 1000;
  // Open ends: the window's end, else the latest instant any input speaks of.
  int64_t open_end = -100000;
  for (auto& [name, gpus] : r.samples)
    for (auto& g : gpus)
      if (!g.empty()) {
        const auto sorted = Sorted(g);
        open_end = std::max(open_end, StandsUntil(sorted, sorted.size() - 1, gap_s));
      }
  for (auto& m : r.fleet.machines)
    for (auto& b : m.billing) {
      if (b.start != kTimeMin) open_end = std::max(open_end, (b.start - kT0) / 1000);
      if (b.end != kTimeMax) open_end = std::max(open_end, (b.end - kT0) / 1000);
    }
  for (auto& j : r.fleet.jobs) {
    open_end = std::max(open_end, (j.start - kT0) / 1000);
    if (j.end != kTimeMax) open_end = std::max(open_end, (j.end - kT0) / 1000);
  }
  if (r.options.window_to != kTimeMax) open_end = (r.options.window_to - kT0) / 1000;

  std::map<std::string, RefMachine> out;
  for (const Machine& m : r.fleet.machines) {
    std::vector<std::vector<RefSample>> gpus;
    for (auto& g : r.samples.at(m.name)) gpus.push_back(Sorted(g));
    std::vector<const Job*> jobs;
    for (auto& j : r.fleet.jobs)
      if (j.machine == m.name) jobs.push_back(&j);
    std::stable_sort(jobs.begin(), jobs.end(), [](auto a, auto b) { return a->start < b->start; });
    int gpu_count = m.gpu_count;
    int64_t bill_lo = -100000, bill_hi = open_end;
    if (m.billed_from_telemetry) {
      gpu_count = 0;
      bill_lo = INT64_MAX, bill_hi = INT64_MIN;
      for (auto& g : gpus) {
        if (g.empty()) continue;
        ++gpu_count;
        bill_lo = std::min(bill_lo, g.front().s);
        bill_hi = std::max(bill_hi, StandsUntil(g, g.size() - 1, gap_s));
      }
      bill_hi = std::min(bill_hi, open_end);
    }
    // Per second and GPU: billed? price, owner of the period; standing sample.
    struct Second {
      int category;
      bool below;
      std::string owner;
      double usd;
    };
    std::vector<Second> seconds;
    bool any_monitored = false, any_active = false;
    for (int g = 0; g < static_cast<int>(gpus.size()); ++g) {
      if (m.billed_from_telemetry && gpus[g].empty()) continue;
      for (int64_t s = std::max(from, bill_lo); s < bill_hi; ++s) {
        const TimeMs t = Sec(s);
        const BillingPeriod* period = nullptr;
        for (auto& b : m.billing)
          if (b.start <= t && t < b.end) period = &b;
        if (period == nullptr) continue;
        const RefSample* standing = nullptr;
        for (size_t i = 0; i < gpus[g].size(); ++i) {
          const auto& x = gpus[g][i];
          const int64_t until = StandsUntil(gpus[g], i, gap_s);
          if (x.s <= s && s < until) standing = &x;
        }
        const Job* live = nullptr;
        const Job* failed = nullptr;
        for (const Job* j : jobs) {
          if (j->start <= t && t < j->end && j->CoversGpu(g)) {
            if (!j->failed && live == nullptr) live = j;
            if (j->failed && failed == nullptr) failed = j;
          }
        }
        const bool below = standing && standing->util < r.options.threshold_pct;
        any_monitored |= standing != nullptr;
        any_active |= standing && !below;
        int cat;
        if (failed && !live)
          cat = static_cast<int>(Category::kFailedJob);
        else if (!standing)
          cat = static_cast<int>(Category::kUnmonitored);
        else if (live)
          cat = static_cast<int>(below ? Category::kJobIdle : Category::kJobActive);
        else
          cat = static_cast<int>(below ? Category::kIdleOutsideJobs : Category::kActiveOutsideJobs);
        const Job* owner_job = live ? live : failed;
        std::string owner =
            owner_job && !owner_job->owner.empty() ? owner_job->owner : period->owner;
        if (owner.empty()) owner = kUnattributed;
        const double usd = m.billed_from_telemetry ? m.price_per_gpu_hour / 3600
                                                   : period->hourly_usd / m.gpu_count / 3600;
        seconds.push_back({cat, standing && below, owner, usd});
      }
    }
    (void)gpu_count;
    RefMachine& rm = out[m.name];
    rm.never_used = any_monitored && !any_active && jobs.empty();
    for (auto& x : seconds) {
      rm.usd[rm.never_used ? 0 : x.category] += x.usd;
      if (x.below) rm.below += x.usd;
      rm.owners[x.owner] += x.usd;
    }
  }
  return out;
}

void CheckAgainstReference(bool price_mode, uint32_t seed) {
  std::mt19937 rng(seed);
  RefFleet r = RandomFleet(rng, price_mode);
  std::vector<TelemetrySource> sources;
  uint32_t index = 0;
  for (auto& [name, text] : r.text) sources.push_back(SourceFromText(name, text, index++));
  AuditInputs in;
  in.fleet = &r.fleet;
  in.telemetry = &sources;
  auto got = RunAudit(in, r.options);
  ASSERT_TRUE(got);
  const auto want = Reference(r);
  double want_total = 0;
  for (auto& [name, rm] : want)
    for (double u : rm.usd) want_total += u;
  EXPECT_NEAR(got->totals.Total().usd, want_total, 1e-6) << "seed " << seed;
  for (const MachineResult& m : got->machines) {
    const RefMachine& rm = want.at(m.name);
    EXPECT_EQ(m.never_used, rm.never_used) << "seed " << seed << " " << m.name;
    for (int c = 0; c < kCategoryCount; ++c) {
      EXPECT_NEAR(m.totals.categories[c].usd, rm.usd[c], 1e-6)
          << "seed " << seed << " " << m.name << " " << CategoryId(kAllCategories[c]);
    }
    EXPECT_NEAR(m.totals.below_threshold.usd, rm.below, 1e-6) << "seed " << seed << " " << m.name;
    for (auto& [owner, usd] : rm.owners) {
      auto it = m.owners.find(owner);
      EXPECT_NEAR(it == m.owners.end() ? 0 : it->second.usd, usd, 1e-6)
          << "seed " << seed << " " << m.name << " owner " << owner;
    }
  }
}

TEST(ReferenceAudit, InventoryFleetsAgreeWithThePerSecondReference) {
  for (uint32_t seed = 1; seed <= 150; ++seed) CheckAgainstReference(false, seed);
}

TEST(ReferenceAudit, PricedFleetsAgreeWithThePerSecondReference) {
  for (uint32_t seed = 1; seed <= 60; ++seed) CheckAgainstReference(true, seed);
}

}  // namespace
}  // namespace gpuledger
