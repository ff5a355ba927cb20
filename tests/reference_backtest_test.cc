// Cross-checks the backtest against a naive reference: the autokill rules of DESIGN.md
// evaluated second by second on random small fleets (see random_fleet.h).
#include <gtest/gtest.h>

#include <cmath>

#include "policy/backtest.h"
#include "random_fleet.h"

namespace gpuledger {
namespace {

using namespace gpuledger::testing;

struct RefKill {
  std::string job;
  KillRule rule;
  double at_ms;  // ms after kT0
  double usd;
  bool exempt;
};

struct RefRelease {
  std::string machine;
  int64_t at_s, to_s;
  double usd;
};

// Everything the reference needs to know of one machine, per second.
struct MachineSeconds {
  std::vector<int> gpus;                    // the GPUs billed
  std::map<int64_t, double> usd_per_gpu_s;  // billed seconds → price of one GPU-second
  std::vector<std::vector<RefSample>> sorted;
  int64_t gap_s = 0;

  bool Billed(int64_t s) const { return usd_per_gpu_s.count(s) > 0; }
  // -1 unmonitored, 0 idle, 1 active — for one GPU.
  int GpuState(int g, int64_t s, double threshold) const {
    const auto& v = sorted[g];
    for (size_t i = 0; i < v.size(); ++i) {
      const int64_t until = StandsUntil(v, i, gap_s);
      if (v[i].s <= s && s < until) return v[i].util < threshold ? 0 : 1;
    }
    return -1;
  }
  // Combined: 1 active if any GPU is, 0 idle if all are, -1 otherwise.
  int State(const std::vector<int>& gs, int64_t s, double threshold) const {
    bool all_idle = true;
    for (int g : gs) {
      const int st = GpuState(g, s, threshold);
      if (st == 1) return 1;
      if (st != 0) all_idle = false;
    }
    return all_idle ? 0 : -1;
  }
  // Cost of n GPUs over [from_ms, to_ms) of billed time.
  double Cost(double from_ms, double to_ms, int n) const {
    double usd = 0;
    for (const auto& [s, price] : usd_per_gpu_s) {
      const double a = std::max<double>(s * 1000.0, from_ms),
                   b = std::min<double>((s + 1) * 1000.0, to_ms);
      if (b > a) usd += (b - a) / 1000.0 * price * n;
    }
    return usd;
  }
};

void ReferenceBacktest(const RefFleet& r, const Policy& p, std::vector<RefKill>* kills,
                       std::vector<RefRelease>* releases) {
  const int64_t gap_s = p.max_gap_ms / 1000;
  int64_t data_end = INT64_MIN / 4;
  for (auto& [name, gpus] : r.samples)
    for (auto& g : gpus)
      if (!g.empty()) {
        const auto sorted = Sorted(g);
        data_end = std::max(data_end, StandsUntil(sorted, sorted.size() - 1, gap_s));
      }
  int64_t open_end = data_end;  // the latest instant any input speaks of, unless --to
  for (const Machine& m : r.fleet.machines) {
    for (const BillingPeriod& b : m.billing) {
      if (b.start != kTimeMin) open_end = std::max<int64_t>(open_end, (b.start - kT0) / 1000);
      if (b.end != kTimeMax) open_end = std::max<int64_t>(open_end, (b.end - kT0) / 1000);
    }
  }
  for (const Job& j : r.fleet.jobs) {
    open_end = std::max<int64_t>(open_end, (j.start - kT0) / 1000);
    if (j.end != kTimeMax) open_end = std::max<int64_t>(open_end, (j.end - kT0) / 1000);
  }
  if (r.options.window_to != kTimeMax) open_end = (r.options.window_to - kT0) / 1000;
  const int64_t from_s =
      r.options.window_from == kTimeMin ? -100000 : (r.options.window_from - kT0) / 1000;
  for (const Machine& m : r.fleet.machines) {
    MachineSeconds ms;
    ms.gap_s = gap_s;
    for (auto& g : r.samples.at(m.name)) ms.sorted.push_back(Sorted(g));
    int64_t lo = from_s, hi = open_end;
    for (int g = 0; g < static_cast<int>(ms.sorted.size()); ++g) {
      if (!m.billed_from_telemetry || !ms.sorted[g].empty()) ms.gpus.push_back(g);
    }
    if (m.billed_from_telemetry) {
      int64_t first = INT64_MAX, last = INT64_MIN;
      for (int g : ms.gpus)
        first = std::min(first, ms.sorted[g].front().s),
        last = std::max(last, StandsUntil(ms.sorted[g], ms.sorted[g].size() - 1, gap_s));
      lo = std::max(lo, first), hi = std::min(hi, last);
    }
    for (int64_t s = lo; s < hi; ++s) {
      for (const BillingPeriod& b : m.billing) {
        if (b.start <= Sec(s) && Sec(s) < b.end) {
          ms.usd_per_gpu_s[s] =
              (m.billed_from_telemetry ? m.price_per_gpu_hour : b.hourly_usd / m.gpu_count) / 3600;
        }
      }
    }
    if (ms.usd_per_gpu_s.empty()) continue;
    const int64_t billed_from = ms.usd_per_gpu_s.begin()->first;
    const int64_t billed_to = ms.usd_per_gpu_s.rbegin()->first + 1;
    std::vector<const Job*> jobs;
    for (const Job& j : r.fleet.jobs)
      if (j.machine == m.name) jobs.push_back(&j);
    auto end_s = [&](const Job* j) {
      return j->end == kTimeMax ? INT64_MAX / 4 : (j->end - kT0) / 1000;
    };

    for (const Job* j : jobs) {
      const int64_t start = (j->start - kT0) / 1000;
      const int64_t from = std::max(start, billed_from), to = std::min(end_s(j), billed_to);
      if (from >= to) continue;
      std::vector<int> gs;
      for (int g : ms.gpus)
        if (j->CoversGpu(g)) gs.push_back(g);
      if (gs.empty()) continue;
      std::optional<RefKill> kill;
      std::optional<int64_t> first_active;
      int64_t stretch = INT64_MIN, limit = 0;  // stretch: start of the idle stretch, if any
      for (int64_t s = from; s < to && !kill; ++s) {
        const int st = ms.Billed(s) ? ms.State(gs, s, p.threshold_pct) : -1;
        if (st == 1 && !first_active) first_active = s;
        if (st != 0) {
          stretch = INT64_MIN;
          continue;
        }
        if (stretch == INT64_MIN)
          stretch = s, limit = (first_active ? p.idle_after_ms : p.setup_grace_ms) / 1000;
        if (s + 1 - stretch >= limit) {
          kill = RefKill{j->id, first_active ? KillRule::kIdle : KillRule::kSetup,
                         (stretch + limit) * 1000.0, 0, false};
        }
      }
      if (p.budget_usd) {
        double spent = 0;
        for (int64_t s = from; s < to + 100000; ++s) {
          if (!ms.Billed(s)) {
            if (s > billed_to) break;
            continue;
          }
          const double rate = ms.usd_per_gpu_s.at(s) * gs.size();  // per second
          if (spent + rate >= *p.budget_usd) {
            const double at = s * 1000.0 + std::ceil((*p.budget_usd - spent) / (rate / 1000.0));
            if (!kill || at < kill->at_ms) kill = RefKill{j->id, KillRule::kBudget, at, 0, false};
            break;
          }
          spent += rate;
        }
      }
      if (p.max_runtime_ms) {
        const double at = std::max<double>(from * 1000.0, start * 1000.0 + *p.max_runtime_ms);
        if (!kill || at < kill->at_ms) kill = RefKill{j->id, KillRule::kMaxRuntime, at, 0, false};
      }
      if (!kill || kill->at_ms >= to * 1000.0) continue;
      kill->usd = ms.Cost(kill->at_ms, to * 1000.0, static_cast<int>(gs.size()));
      kill->exempt = IsExempt(p, j->id, j->owner, {});
      kills->push_back(*kill);
    }

    // Releases: idle on every GPU with no job running, for release_after or longer; a released
    // machine stays released until it is in use again (a job runs or a GPU is active).
    std::optional<int64_t> stretch;
    bool holding = false;
    auto close = [&](int64_t end) {
      if (stretch && (end - *stretch) * 1000 >= p.release_after_ms) {
        const int64_t at = *stretch + p.release_after_ms / 1000;
        releases->push_back({m.name, at, end,
                             ms.Cost(at * 1000.0, end * 1000.0, static_cast<int>(ms.gpus.size()))});
        holding = true;
      }
      stretch.reset();
    };
    for (int64_t s = billed_from; s < billed_to; ++s) {
      bool running = false;
      for (const Job* j : jobs)
        running |= (j->start - kT0) / 1000 <= s && s < std::min(end_s(j), hi);
      const int state = ms.State(ms.gpus, s, p.threshold_pct);
      const bool idle = ms.Billed(s) && !running && state == 0;
      if (!idle) close(s);
      if (ms.Billed(s) && (running || state == 1)) holding = false;
      if (idle && !stretch && !holding) stretch = s;
    }
    close(billed_to);
  }
}

void CheckBacktest(bool price_mode, uint32_t seed) {
  std::mt19937 rng(seed);
  RefFleet r = RandomFleet(rng, price_mode);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Policy p;
  p.max_gap_ms = r.options.max_gap_ms;
  p.setup_grace_ms = pick(1, 20) * kMsPerMinute;
  p.idle_after_ms = pick(1, 30) * kMsPerMinute;
  p.release_after_ms = pick(1, 20) * kMsPerMinute;
  if (pick(0, 3) == 0) p.budget_usd = pick(1, 40);
  if (pick(0, 3) == 0) p.max_runtime_ms = pick(1, 60) * kMsPerMinute;
  if (pick(0, 2) == 0) p.exempt.owners = {"bob"};

  std::vector<TelemetrySource> sources;
  uint32_t index = 0;
  for (auto& [name, text] : r.text) sources.push_back(SourceFromText(name, text, index++));
  AuditInputs in;
  in.fleet = &r.fleet;
  in.telemetry = &sources;
  BacktestOptions o;
  o.policy = p;
  o.window_from = r.options.window_from;
  o.window_to = r.options.window_to;
  o.price_per_gpu_hour = r.options.price_per_gpu_hour;
  o.threads = r.options.threads;
  auto got = RunBacktest(in, o);
  ASSERT_TRUE(got);

  std::vector<RefKill> kills;
  std::vector<RefRelease> releases;
  ReferenceBacktest(r, p, &kills, &releases);
  std::map<std::string, const KillDecision*> by_job;
  for (const auto& d : got->decisions) by_job[d.job_id] = &d;
  for (const auto& d : got->exempted) by_job[d.job_id] = &d;
  ASSERT_EQ(by_job.size(), kills.size()) << "seed " << seed;
  size_t exempt = 0;
  for (const RefKill& k : kills) {
    ASSERT_TRUE(by_job.count(k.job)) << "seed " << seed << " job " << k.job;
    const KillDecision& d = *by_job.at(k.job);
    EXPECT_EQ(d.rule, k.rule) << "seed " << seed << " job " << k.job;
    EXPECT_NEAR(static_cast<double>(d.at - kT0), k.at_ms, 1.0)
        << "seed " << seed << " job " << k.job;
    // A budget kill's instant is rounded up to the millisecond; the two may differ by one.
    const double tolerance = k.rule == KillRule::kBudget ? 1e-4 : 1e-6;
    EXPECT_NEAR(d.saved.usd, k.usd, tolerance) << "seed " << seed << " job " << k.job;
    exempt += k.exempt;
  }
  EXPECT_EQ(got->exempted.size(), exempt) << "seed " << seed;
  ASSERT_EQ(got->releases.size(), releases.size()) << "seed " << seed;
  for (size_t i = 0; i < releases.size(); ++i) {
    EXPECT_EQ(got->releases[i].machine, releases[i].machine) << "seed " << seed;
    EXPECT_EQ(got->releases[i].at, Sec(releases[i].at_s)) << "seed " << seed;
    EXPECT_EQ(got->releases[i].idle_to, Sec(releases[i].to_s)) << "seed " << seed;
    EXPECT_NEAR(got->releases[i].saved.usd, releases[i].usd, 1e-6) << "seed " << seed;
  }
}

TEST(ReferenceBacktest, InventoryFleetsAgreeWithThePerSecondReference) {
  for (uint32_t seed = 1; seed <= 500; ++seed) CheckBacktest(false, seed);
}

TEST(ReferenceBacktest, PricedFleetsAgreeWithThePerSecondReference) {
  for (uint32_t seed = 1; seed <= 200; ++seed) CheckBacktest(true, seed);
}

}  // namespace
}  // namespace gpuledger
