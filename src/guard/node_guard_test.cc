#include "guard/node_guard.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1'790'000'000'000;
constexpr TimeMs kSec = 1000;

Policy Fast() {
  Policy p;
  p.setup_grace_ms = 60 * kSec;
  p.idle_after_ms = 120 * kSec;
  p.warn_before_ms = 30 * kSec;
  p.release_after_ms = 90 * kSec;
  p.max_gap_ms = 20 * kSec;
  p.max_keep_ms = 600 * kSec;
  p.interactive_setup_grace_ms = p.interactive_idle_after_ms = 300 * kSec;
  return p;
}

struct Proc {
  int gpu;
  int64_t pid;
  std::string workload;
  std::optional<double> util;
  double mib = 1024;
};

WorkloadInfo Info(const std::string& id, uint32_t uid, std::vector<int64_t> pids,
                  WorkloadKind kind = WorkloadKind::kProcessGroup) {
  WorkloadInfo w;
  w.name = {kind, id};
  w.owner = "user" + std::to_string(uid);
  w.uid = uid;
  w.pgid = pids.empty() ? 0 : pids[0];
  w.command = "python train.py";
  for (int64_t p : pids) w.processes.insert({p, p * 10});
  return w;
}

// A node whose GPUs and processes the test sets sample by sample.
class Node {
 public:
  explicit Node(Policy p = Fast()) : guard(p, 2.0) {}

  // One snapshot at kT0 + s seconds; "utils" per GPU index (a negative one failed to read).
  std::vector<GuardEvent> Step(int s, std::vector<double> utils, const std::vector<Proc>& procs,
                               std::vector<int> unlisted = {}) {
    GpuSnapshot snap;
    snap.t = kT0 + s * kSec;
    snap.processes_listed = true;
    snap.unlisted_gpus = unlisted;
    for (size_t i = 0; i < utils.size(); ++i) {
      if (utils[i] < 0) {
        snap.errors.push_back("GPU " + std::to_string(i) + ": GPU is lost");
        snap.unread_gpus.push_back(static_cast<int>(i));
        continue;
      }
      snap.gpus.push_back({static_cast<int>(i), utils[i], 4096.0});
    }
    for (const Proc& p : procs) snap.processes.push_back({p.gpu, p.pid, p.mib, p.util});
    std::vector<AttributedProcess> attributed;
    for (const GpuProcessReading& r : snap.processes) {
      auto it =
          std::find_if(procs.begin(), procs.end(), [&](const Proc& p) { return p.pid == r.pid; });
      attributed.push_back({&r, it->workload});
    }
    guard.Observe(snap, attributed, infos);
    return guard.Advance(snap.t);
  }

  // Runs from "from" to "to" seconds every 10 s with the same readings; all events.
  std::vector<GuardEvent> Run(int from, int to, std::vector<double> utils,
                              const std::vector<Proc>& procs, std::vector<int> unlisted = {}) {
    std::vector<GuardEvent> all;
    for (int s = from; s <= to; s += 10) {
      auto e = Step(s, utils, procs, unlisted);
      all.insert(all.end(), e.begin(), e.end());
    }
    return all;
  }

  NodeGuard guard;
  std::map<std::string, WorkloadInfo> infos;
};

std::vector<GuardEvent> Of(const std::vector<GuardEvent>& events, GuardEventKind kind) {
  std::vector<GuardEvent> out;
  for (const GuardEvent& e : events) {
    if (e.kind == kind) out.push_back(e);
  }
  return out;
}

TEST(NodeGuard, IdleWorkloadIsWarnedThenKilledAtItsFirstReadingPlusSetupGrace) {
  Node n;
  n.infos["pg:100"] = Info("pg:100", 1000, {100});
  auto events = n.Run(0, 70, {0}, {{0, 100, "pg:100", std::nullopt}});
  ASSERT_EQ(Of(events, GuardEventKind::kStart).size(), 1u);
  auto warns = Of(events, GuardEventKind::kWarn);
  auto kills = Of(events, GuardEventKind::kKill);
  ASSERT_EQ(warns.size(), 1u);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].due_at, kT0 + 60 * kSec);
  EXPECT_EQ(kills[0].rule, KillRule::kSetup);
  EXPECT_LE(warns[0].at, kT0 + 30 * kSec);
  // The warning says who, which GPU, memory, when, and how to ask for more time.
  EXPECT_NE(warns[0].message.find("user1000"), std::string::npos) << warns[0].message;
  EXPECT_NE(warns[0].message.find("GPU 0"), std::string::npos);
  EXPECT_NE(warns[0].message.find("1.0 GiB held"), std::string::npos);
  EXPECT_NE(warns[0].message.find("gpuledger keep pg:100"), std::string::npos);
  EXPECT_EQ(n.guard.StateOf(n.guard.workloads().at("pg:100"), kT0 + 70 * kSec), "stopping");
}

TEST(NodeGuard, ABusyWorkloadIsNeverKilled) {
  Node n;
  n.infos["pg:100"] = Info("pg:100", 1000, {100});
  auto events = n.Run(0, 600, {80}, {{0, 100, "pg:100", std::nullopt}});
  EXPECT_TRUE(Of(events, GuardEventKind::kKill).empty());
  EXPECT_TRUE(Of(events, GuardEventKind::kWarn).empty());
}

TEST(NodeGuard, SharedBusyGpuWithoutPerProcessFiguresKillsNobody) {
  Node n;
  n.infos["pg:1"] = Info("pg:1", 1000, {1});
  n.infos["pg:2"] = Info("pg:2", 1001, {2});
  auto events = n.Run(0, 600, {90}, {{0, 1, "pg:1", std::nullopt}, {0, 2, "pg:2", std::nullopt}});
  EXPECT_TRUE(Of(events, GuardEventKind::kKill).empty());
  EXPECT_TRUE(n.guard.workloads().at("pg:1").shared);
}

TEST(NodeGuard, SharedIdleGpuMakesEverySharerIdle) {
  Node n;
  n.infos["pg:1"] = Info("pg:1", 1000, {1});
  n.infos["pg:2"] = Info("pg:2", 1001, {2});
  auto events = n.Run(0, 70, {2}, {{0, 1, "pg:1", std::nullopt}, {0, 2, "pg:2", std::nullopt}});
  EXPECT_EQ(Of(events, GuardEventKind::kKill).size(), 2u);
}

TEST(NodeGuard, SharedBusyGpuWithPerProcessFiguresKillsOnlyTheIdleSharer) {
  Node n;
  n.infos["pg:1"] = Info("pg:1", 1000, {1});
  n.infos["pg:2"] = Info("pg:2", 1001, {2});
  auto events = n.Run(0, 70, {90}, {{0, 1, "pg:1", 88.0}, {0, 2, "pg:2", 0.0}});
  auto kills = Of(events, GuardEventKind::kKill);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].workload, "pg:2");
}

TEST(NodeGuard, PerProcessFiguresThatLeaveABusyGpuIdleAreNotTrusted) {
  Node n;
  n.infos["pg:1"] = Info("pg:1", 1000, {1});
  n.infos["pg:2"] = Info("pg:2", 1001, {2});
  auto events = n.Run(0, 200, {90}, {{0, 1, "pg:1", 1.0}, {0, 2, "pg:2", 0.0}});
  EXPECT_TRUE(Of(events, GuardEventKind::kKill).empty());
}

TEST(NodeGuard, ALostGpuIsUnmonitoredAndItsIdleStretchStartsAgain) {
  Node n;
  n.infos["pg:100"] = Info("pg:100", 1000, {100});
  const std::vector<Proc> procs = {{0, 100, "pg:100", std::nullopt}};
  auto events = n.Run(0, 40, {0}, procs);
  auto lost = n.Run(50, 120, {-1}, procs);  // GPU is lost: no reading for 70 s
  events.insert(events.end(), lost.begin(), lost.end());
  EXPECT_TRUE(Of(events, GuardEventKind::kKill).empty());
  // Back: a whole setup_grace of idle is needed again, from the first reading after the loss.
  auto back = n.Run(130, 200, {0}, procs);
  auto kills = Of(back, GuardEventKind::kKill);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].due_at, kT0 + 190 * kSec);
}

TEST(NodeGuard, AnUnlistedGpuKeepsItsWorkloadWithoutJudgingIt) {
  Node n;
  n.infos["pg:100"] = Info("pg:100", 1000, {100});
  n.Run(0, 10, {0}, {{0, 100, "pg:100", std::nullopt}});
  auto events = n.Run(20, 200, {0}, {}, {0});  // the process listing of GPU 0 fails
  EXPECT_TRUE(Of(events, GuardEventKind::kEnd).empty());
  EXPECT_TRUE(Of(events, GuardEventKind::kKill).empty());
  EXPECT_TRUE(Of(events, GuardEventKind::kRelease).empty());
  auto gone = n.Step(210, {0}, {});
  EXPECT_EQ(Of(gone, GuardEventKind::kEnd).size(), 1u);
  EXPECT_TRUE(n.guard.workloads().empty());
}

TEST(NodeGuard, KeepSparesTheWorkloadUntilItEndsThenIdleStartsAgain) {
  Node n;
  n.infos["pg:100"] = Info("pg:100", 1000, {100});
  const std::vector<Proc> procs = {{0, 100, "pg:100", std::nullopt}};
  auto events = n.Run(0, 20, {0}, procs);
  std::string note;
  auto refused =
      n.guard.Keep("pg:100", 1001, "mallory", 300 * kSec, "mine now", kT0 + 25 * kSec, &note);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("only they or root"), std::string::npos);
  auto kept = n.guard.Keep("100", 1000, "user1000", 9000 * kSec, "demo", kT0 + 25 * kSec, &note);
  ASSERT_TRUE(kept) << kept.error().ToString();
  EXPECT_EQ(kept->until, kT0 + 625 * kSec);  // capped at max_keep, 600 s
  EXPECT_NE(note.find("max_keep"), std::string::npos);
  auto during = n.Run(30, 620, {0}, procs);
  EXPECT_TRUE(Of(during, GuardEventKind::kKill).empty());
  EXPECT_EQ(n.guard.StateOf(n.guard.workloads().at("pg:100"), kT0 + 600 * kSec), "kept");
  auto after = n.Run(630, 720, {0}, procs);
  auto kills = Of(after, GuardEventKind::kKill);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].due_at, kT0 + 625 * kSec + 60 * kSec);
  EXPECT_FALSE(n.guard.Keep("pg:999", 0, "root", kSec, "x", kT0, &note));
}

TEST(NodeGuard, JupyterKernelsGetTheInteractiveGrace) {
  Node n;
  n.infos["jupyter:k1"] = Info("jupyter:k1", 1000, {100}, WorkloadKind::kJupyter);
  auto events = n.Run(0, 400, {0}, {{0, 100, "jupyter:k1", std::nullopt}});
  auto due = Of(events, GuardEventKind::kKill);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].due_at, kT0 + 300 * kSec);
  EXPECT_NE(due[0].message.find("Jupyter server"), std::string::npos) << due[0].message;
}

TEST(NodeGuard, WarningsNameWhatAPersonKnowsAndEachKindItsAction) {
  Node n;
  WorkloadInfo nb = Info("jupyter:k1", 1000, {100}, WorkloadKind::kJupyter);
  nb.title = "notebook analysis/idle.ipynb";
  n.infos["jupyter:k1"] = nb;
  n.infos["slurm:88"] = Info("slurm:88", 1000, {200}, WorkloadKind::kSlurm);
  n.infos["k8s:u1"] = Info("k8s:u1", 1000, {300}, WorkloadKind::kPod);
  auto events = n.Run(0, 400, {0, 0, 0},
                      {{0, 100, "jupyter:k1", std::nullopt},
                       {1, 200, "slurm:88", std::nullopt},
                       {2, 300, "k8s:u1", std::nullopt}});
  auto warns = Of(events, GuardEventKind::kWarn);
  ASSERT_FALSE(warns.empty());
  bool named = false;
  for (const GuardEvent& w : warns) {
    if (w.workload == "jupyter:k1") {
      named = w.message.find("notebook analysis/idle.ipynb") != std::string::npos &&
              w.message.find("gpuledger keep jupyter:k1") != std::string::npos;
    }
  }
  EXPECT_TRUE(named);
  auto kills = Of(events, GuardEventKind::kKill);
  ASSERT_EQ(kills.size(), 2u);  // the Slurm job (setup grace), then the kernel (interactive)
  EXPECT_EQ(kills[0].workload, "slurm:88");
  EXPECT_NE(kills[0].message.find("scancel"), std::string::npos) << kills[0].message;
  auto warn_only = Of(events, GuardEventKind::kWarnOnly);  // a pod, with no k8s_action
  ASSERT_EQ(warn_only.size(), 1u);
  EXPECT_NE(warn_only[0].message.find("no k8s_action"), std::string::npos);

  Policy p = Fast();
  p.k8s_action = "kubectl delete pod -n {namespace} {pod}";
  Node k(p);
  k.infos["k8s:u1"] = Info("k8s:u1", 1000, {300}, WorkloadKind::kPod);
  k.infos["k8s:u1"].pod_namespace = "ml", k.infos["k8s:u1"].pod_name = "trainer-0";  // kubelet's
  EXPECT_EQ(
      Of(k.Run(0, 100, {0}, {{0, 300, "k8s:u1", std::nullopt}}), GuardEventKind::kKill).size(), 1u);
  // A pod the kubelet does not name: k8s_action would need what the pod says of itself.
  Node unnamed(p);
  unnamed.infos["k8s:u2"] = Info("k8s:u2", 1000, {301}, WorkloadKind::kPod);
  auto only =
      Of(unnamed.Run(0, 100, {0}, {{0, 301, "k8s:u2", std::nullopt}}), GuardEventKind::kWarnOnly);
  ASSERT_EQ(only.size(), 1u);
  EXPECT_NE(only[0].message.find("not stopped: the kubelet's pod log directory does not name"),
            std::string::npos)
      << only[0].message;
}

TEST(NodeGuard, RunJobsAreLeftToRun) {
  Node n;
  n.infos["run:j1"] = Info("run:j1", 1000, {100}, WorkloadKind::kRun);
  auto events = n.Run(0, 400, {0}, {{0, 100, "run:j1", std::nullopt}});
  EXPECT_TRUE(Of(events, GuardEventKind::kKill).empty());
  EXPECT_TRUE(Of(events, GuardEventKind::kWarn).empty());
  EXPECT_EQ(n.guard.StateOf(n.guard.workloads().at("run:j1"), kT0), "left_to_run");
}

TEST(NodeGuard, AnExemptOwnerIsRecordedNotKilled) {
  Policy p = Fast();
  p.exempt.owners = {"user1000"};
  p.exempt.granted_by = "platform-team";
  Node n(p);
  n.infos["pg:100"] = Info("pg:100", 1000, {100});
  auto events = n.Run(0, 200, {0}, {{0, 100, "pg:100", std::nullopt}});
  auto exempt = Of(events, GuardEventKind::kExempt);
  ASSERT_EQ(exempt.size(), 1u);
  EXPECT_NE(exempt[0].message.find("platform-team"), std::string::npos);
  EXPECT_TRUE(Of(events, GuardEventKind::kKill).empty());
}

TEST(NodeGuard, AnIdleMachineIsReleasedOnceAfterReleaseAfter) {
  Node n;
  auto events = n.Run(0, 300, {0, 1}, {});
  auto releases = Of(events, GuardEventKind::kRelease);
  ASSERT_EQ(releases.size(), 1u);
  EXPECT_EQ(releases[0].due_at, kT0 + 90 * kSec);
  EXPECT_EQ(Of(events, GuardEventKind::kWarn).size(), 1u);  // warned ahead of it
}

TEST(NodeGuard, AMachineWhoseGpuIsHeldOrUnreadIsNotReleased) {
  Node held;
  held.infos["pg:100"] = Info("pg:100", 1000, {100});
  EXPECT_TRUE(
      Of(held.Run(0, 300, {0}, {{0, 100, "pg:100", 99.0}}), GuardEventKind::kRelease).empty());
  Node lost;
  EXPECT_TRUE(Of(lost.Run(0, 300, {0, -1}, {}), GuardEventKind::kRelease).empty());
}

TEST(NodeGuard, ARestartCarriesFirstActivityKeepsAndWarningsOver) {
  Node before;
  before.infos["pg:100"] = Info("pg:100", 1000, {100});
  before.Run(0, 30, {50}, {{0, 100, "pg:100", std::nullopt}});  // active
  std::string note;
  ASSERT_TRUE(before.guard.Keep("pg:100", 0, "root", 200 * kSec, "eval", kT0 + 35 * kSec, &note));
  const std::vector<SavedWorkload> saved = before.guard.Saved();
  ASSERT_EQ(saved.size(), 1u);
  ASSERT_TRUE(saved[0].first_active);
  ASSERT_TRUE(saved[0].keep);

  Node after;
  after.infos["pg:100"] = Info("pg:100", 1000, {100});
  after.guard.Resume(saved);
  // Idle from the restart on: the keep holds to kT0 + 235 s, then idle_after (not setup_grace).
  auto events = after.Run(100, 400, {0}, {{0, 100, "pg:100", std::nullopt}});
  auto kills = Of(events, GuardEventKind::kKill);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].rule, KillRule::kIdle);
  EXPECT_EQ(kills[0].due_at, kT0 + 235 * kSec + 120 * kSec);
}

TEST(NodeGuard, SavedStateOfAReusedPidIsNotApplied) {
  Node before;
  before.infos["pg:100"] = Info("pg:100", 1000, {100});
  before.Run(0, 30, {50}, {{0, 100, "pg:100", std::nullopt}});
  std::vector<SavedWorkload> saved = before.guard.Saved();
  Node after;
  WorkloadInfo reused = Info("pg:100", 1000, {100});
  reused.processes = {{100, 777}};  // same pid, another start time: another process
  after.infos["pg:100"] = reused;
  after.guard.Resume(saved);
  auto kills =
      Of(after.Run(100, 170, {0}, {{0, 100, "pg:100", std::nullopt}}), GuardEventKind::kKill);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].rule, KillRule::kSetup);  // judged as new, not by the old one's history
}

TEST(NodeGuard, AccountsGpuTimeAndItsIdlePart) {
  Node n;
  n.infos["pg:100"] = Info("pg:100", 1000, {100});
  n.Run(0, 30, {50, 0}, {{0, 100, "pg:100", std::nullopt}, {1, 100, "pg:100", std::nullopt}});
  const TrackedWorkload& w = n.guard.workloads().at("pg:100");
  EXPECT_DOUBLE_EQ(w.gpu_ms, 2 * 30 * kSec);
  EXPECT_DOUBLE_EQ(w.idle_gpu_ms, 30 * kSec);
  EXPECT_EQ(w.gpus, (std::set<int>{0, 1}));
}

}  // namespace
}  // namespace gpuledger
