// What the backtest promises is what the guard does (DESIGN.md, "One decision function"):
// random histories of one machine — jobs on some of its GPUs, shared GPUs, notebooks, exempt
// owners, budgets and max_runtime, snapshots the guard missed, idle stretches long enough to
// release the machine — fed once through the live path (NodeGuard, one snapshot at a time, as
// the guard drives it) and once through the backtest (the same readings as nvidia-smi CSV, the
// jobs as job records). Every kill, exemption, the warning before each kill and every release
// must fall on the same millisecond, by the same rule.
//
// Not covered here, and why: keeps (a history has none to replay); a GPU whose reading failed
// (live, its last sample stops standing at the failed read; a recording has no row for it, so
// the backtest lets the sample stand max_gap — the live path is the stricter, see the note in
// docs/autokill.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>

#include "audit_harness.h"
#include "guard/node_guard.h"
#include "policy/backtest.h"

namespace gpuledger {
namespace {

using namespace gpuledger::testing;

constexpr DurationMs kTick = 60 * 1000;  // one snapshot a minute

struct HistoryJob {
  std::string id, owner;
  int from = 0, to = 0;  // ticks: holds its GPUs over [from, to)
  std::vector<int> gpus;
  bool interactive = false;
};

struct History {
  Policy policy;
  int gpus = 1;
  int ticks = 0;
  std::vector<std::vector<double>> util;  // [tick][gpu]
  std::vector<bool> missed;               // the guard took no snapshot at that tick
  std::vector<HistoryJob> jobs;
};

History RandomHistory(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto minutes = [](int m) { return static_cast<DurationMs>(m) * kTick; };
  History h;
  Policy& p = h.policy;
  p.setup_grace_ms = minutes(pick(3, 30));
  p.idle_after_ms = minutes(pick(3, 40));
  p.interactive_setup_grace_ms = minutes(pick(3, 60));
  p.interactive_idle_after_ms = minutes(pick(3, 60));
  const int shortest =
      static_cast<int>(std::min({p.setup_grace_ms, p.idle_after_ms, p.interactive_setup_grace_ms,
                                 p.interactive_idle_after_ms}) /
                       kTick);
  // A warning goes out only once the idle stretch is known (a sample later): warn_before leaves
  // a minute of it, as any real policy does (10 minutes against 20 and 30).
  p.warn_before_ms = minutes(pick(1, std::max(1, shortest - 1)));
  p.max_gap_ms = minutes(pick(1, 6));
  p.release_after_ms = minutes(pick(2, 30));
  if (pick(0, 3) == 0) p.max_runtime_ms = minutes(pick(20, 150));
  h.gpus = pick(1, 3);
  if (pick(0, 3) == 0) p.budget_usd = 6.0 * pick(2, 40);  // $1 a GPU-minute: on whole minutes
  if (pick(0, 2) == 0) p.exempt.owners = {"carol"};
  h.ticks = pick(60, 240);
  // Each GPU alternates idle and active regimes of random length.
  h.util.assign(h.ticks, std::vector<double>(h.gpus, 0));
  for (int g = 0; g < h.gpus; ++g) {
    int t = 0;
    while (t < h.ticks) {
      const bool active = pick(0, 2) == 0;
      const int len = pick(1, 45);
      for (int k = t; k < std::min(h.ticks, t + len); ++k)
        h.util[k][g] = active ? pick(5, 100) : pick(0, 4);
      t += len;
    }
  }
  const char* owners[] = {"ann", "bob", "carol"};
  for (int j = pick(1, 4); j > 0; --j) {
    HistoryJob job;
    job.from = pick(0, h.ticks - 12);
    job.to = pick(job.from + 5, h.ticks - 2);
    for (int g = 0; g < h.gpus; ++g) {
      if (pick(0, 1) == 0) job.gpus.push_back(g);
    }
    if (job.gpus.empty()) job.gpus.push_back(pick(0, h.gpus - 1));
    job.interactive = pick(0, 3) == 0;
    job.owner = owners[pick(0, 2)];
    job.id = (job.interactive ? "jupyter:k" : "pg:") + std::to_string(100 + h.jobs.size());
    h.jobs.push_back(job);
  }
  // Missed snapshots, in runs, never at tick 0 or where a job starts or ends (the live path
  // learns of a job at its first snapshot; a record knows its start).
  h.missed.assign(h.ticks, false);
  for (int t = 1; t < h.ticks; ++t) {
    if (pick(0, 40) != 0) continue;
    for (int k = t; k < std::min(h.ticks - 1, t + pick(1, 8)); ++k) h.missed[k] = true;
  }
  for (const HistoryJob& j : h.jobs) h.missed[j.from] = h.missed[j.to] = false;
  return h;
}

TimeMs At(int tick) { return kT0 + tick * kTick; }

// What a decision is compared by.
struct Decided {
  std::string what;  // "kill", "exempt", "warn", "release"
  std::string job;
  KillRule rule = KillRule::kIdle;
  TimeMs at = 0;
  auto operator<=>(const Decided&) const = default;
};

std::string Show(const std::vector<Decided>& v) {
  std::string out;
  for (const Decided& d : v)
    out += d.what + " " + d.job + " " + std::string(KillRuleId(d.rule)) + " " + FormatIsoUtc(d.at) +
           "\n";
  return out;
}

// The live path: the guard's NodeGuard, one snapshot per tick, advanced every tick.
std::vector<Decided> Live(const History& h) {
  NodeGuard guard(h.policy, 60.0);
  std::map<std::string, WorkloadInfo> infos;
  for (size_t i = 0; i < h.jobs.size(); ++i) {
    const HistoryJob& j = h.jobs[i];
    WorkloadInfo w;
    w.name = {j.interactive ? WorkloadKind::kJupyter : WorkloadKind::kProcessGroup, j.id};
    w.owner = j.owner;
    w.uid = 1000;
    w.pgid = 5000 + static_cast<int64_t>(i);
    for (int g : j.gpus) w.processes.insert({w.pgid * 10 + g, 1});
    infos[j.id] = w;
  }
  std::vector<Decided> out;
  std::map<std::pair<std::string, TimeMs>, TimeMs> warned;  // (job, due) → first warning
  // Ticks up to the end of billing: the guard still judges at that instant what it last read.
  for (int t = 0; t <= h.ticks; ++t) {
    if (t < h.ticks && !h.missed[t]) {
      GpuSnapshot snap;
      snap.t = At(t);
      snap.processes_listed = true;
      for (int g = 0; g < h.gpus; ++g) snap.gpus.push_back({g, h.util[t][g], 1024.0});
      std::vector<std::string> owner_of;
      for (const HistoryJob& j : h.jobs) {
        if (t < j.from || t >= j.to) continue;
        for (int g : j.gpus) {
          snap.processes.push_back({g, infos[j.id].pgid * 10 + g, 512.0, std::nullopt});
          owner_of.push_back(j.id);
        }
      }
      std::vector<AttributedProcess> procs;
      for (size_t k = 0; k < snap.processes.size(); ++k)
        procs.push_back({&snap.processes[k], owner_of[k]});
      guard.Observe(snap, procs, infos);
    }
    for (const GuardEvent& e : guard.Advance(At(t))) {
      switch (e.kind) {
        case GuardEventKind::kKill:
        case GuardEventKind::kWarnOnly:
          out.push_back({"kill", e.workload, e.rule, e.due_at});
          break;
        case GuardEventKind::kExempt:
          out.push_back({"exempt", e.workload, e.rule, e.due_at});
          break;
        case GuardEventKind::kWarn:
          if (e.workload != "machine") warned.try_emplace({e.workload, e.due_at}, e.at);
          break;
        case GuardEventKind::kRelease:
          out.push_back({"release", "m", KillRule::kIdle, e.due_at});
          break;
        default:
          break;
      }
    }
  }
  // The warning that preceded each kill: the first one about that kill's instant.
  for (size_t i = 0, n = out.size(); i < n; ++i) {
    if (out[i].what != "kill") continue;
    auto w = warned.find({out[i].job, out[i].at});
    if (w != warned.end()) out.push_back({"warn", out[i].job, out[i].rule, w->second});
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The backtest: the same readings as an nvidia-smi CSV, the jobs as records.
std::vector<Decided> Backtested(const History& h) {
  Fleet fleet;
  AddMachine(&fleet, "m", h.gpus, 0, static_cast<double>(h.ticks));
  for (const HistoryJob& j : h.jobs) {
    Job& job = AddJob(&fleet, "m", j.from, j.to, "failed", j.gpus, j.owner);
    job.id = j.id;
    job.interactive = j.interactive;
  }
  std::vector<Row> rows;
  for (int t = 0; t < h.ticks; ++t) {
    if (h.missed[t]) continue;
    for (int g = 0; g < h.gpus; ++g)
      rows.push_back({g, static_cast<double>(t), std::to_string(static_cast<int>(h.util[t][g]))});
  }
  std::vector<TelemetrySource> telemetry = {SourceFromText("m", SmiText(rows))};
  AuditInputs inputs;
  inputs.fleet = &fleet;
  inputs.telemetry = &telemetry;
  BacktestOptions options;
  options.policy = h.policy;
  options.threads = 1;
  auto r = RunBacktest(inputs, options);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().ToString());
  std::vector<Decided> out;
  if (!r) return out;
  for (const KillDecision& d : r->decisions) {
    out.push_back({"kill", d.job_id, d.rule, d.at});
    out.push_back({"warn", d.job_id, d.rule, d.warn_at});
  }
  for (const KillDecision& d : r->exempted) out.push_back({"exempt", d.job_id, d.rule, d.at});
  for (const MachineRelease& m : r->releases)
    out.push_back({"release", "m", KillRule::kIdle, m.at});
  std::sort(out.begin(), out.end());
  return out;
}

TEST(OneEngine, TheGuardAndTheBacktestDecideAlikeOnRandomHistories) {
  int kills = 0, releases = 0, exempt = 0, budget = 0, runtime = 0, interactive = 0;
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    std::mt19937 rng(seed);
    const History h = RandomHistory(rng);
    const std::vector<Decided> live = Live(h), backtest = Backtested(h);
    ASSERT_EQ(Show(live), Show(backtest)) << "seed " << seed;
    for (const Decided& d : live) {
      kills += d.what == "kill";
      releases += d.what == "release";
      exempt += d.what == "exempt";
      budget += d.what == "kill" && d.rule == KillRule::kBudget;
      runtime += d.what == "kill" && d.rule == KillRule::kMaxRuntime;
      interactive += d.what == "kill" && d.job.starts_with("jupyter:");
    }
  }
  // The histories exercise every kind of decision, many times over.
  EXPECT_GT(kills, 100);
  EXPECT_GT(releases, 50);
  EXPECT_GT(exempt, 10);
  EXPECT_GT(budget, 5);
  EXPECT_GT(runtime, 5);
  EXPECT_GT(interactive, 10);
  std::printf(
      "compared: %d kills (%d budget, %d max_runtime, %d notebooks), %d exemptions, "
      "%d releases\n",
      kills, budget, runtime, interactive, exempt, releases);
}

}  // namespace
}  // namespace gpuledger
