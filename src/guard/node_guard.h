// The node guard's judgement (DESIGN.md, "The node guard"): every GPU workload on a node,
// however it was started, watched by the same JobWatch that `run` and `backtest` use. Pure: GPU
// snapshots with their processes already attributed to workloads go in, events come out; the
// daemon (guard_daemon.h) reads /proc, acts, writes the ledger and serves /metrics and keeps.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "gpu/gpu_source.h"
#include "guard/gpu_shares.h"
#include "guard/jupyter_server.h"
#include "guard/workload.h"
#include "policy/job_watch.h"
#include "policy/policy.h"

namespace gpuledger {

// A process's identity: a pid and its start time (a reused pid is another process).
struct ProcessKey {
  int64_t pid = 0, start_ticks = 0;
  auto operator<=>(const ProcessKey&) const = default;
};

// A workload as /proc describes it at one snapshot.
struct WorkloadInfo {
  WorkloadName name;
  std::string owner;  // the Slurm or `run` owner, else the uid's user name
  uint32_t uid = 0;
  int64_t pgid = 0;
  std::string command;             // its first GPU process's command line, shortened
  std::set<ProcessKey> processes;  // its GPU processes
  // What a person knows it by ("notebook analysis/idle.ipynb", "Slurm job 88 (train)", "pod
  // ml/trainer-0"); empty: its command line.
  std::string title;
  std::optional<JupyterKernel> jupyter;  // the server that owns the kernel, when found
  std::string pod_namespace, pod_name;   // a pod's, when known
  RunIdentity identity;  // what its first process's environment says it is (attribution only)
};

// A keep: the workload is spared until "until" (gpuledger keep).
struct KeepGrant {
  std::string workload;
  TimeMs granted_at = 0, until = 0;
  std::string who, reason;
};

// What the guard remembers of a workload across a restart: enough to carry its judgement on
// (keeps, warnings) and its ledger row (the same row, found by first_seen; or, when its
// processes are gone, to close it).
struct SavedWorkload {
  std::string id;
  std::set<ProcessKey> processes;
  std::optional<TimeMs> first_active;
  int warnings = 0;
  std::optional<KeepGrant> keep;
  TimeMs first_seen = 0, last_seen = 0;  // 0: not saved (an older state file)
  double gpu_ms = 0, idle_gpu_ms = 0;
  std::string owner, command;
  uint32_t uid = 0;
  std::set<int> gpus;
};

enum class GuardEventKind {
  kStart,     // a workload was first seen holding a GPU
  kEnd,       // it holds no GPU any more
  kWarn,      // a kill (or a release) is coming
  kKill,      // stop the workload now (the daemon acts, or says it would in dry-run)
  kWarnOnly,  // a kill is due but its kind is not stopped by the guard: warned, never signalled
  kExempt,    // a kill was due; the policy exempts the workload
  kRelease,   // release the machine now
};

std::string_view GuardEventKindId(GuardEventKind kind);  // "start", "end", "warn", …

// What the ledger keeps of a workload.
struct WorkloadRecord {
  WorkloadInfo info;
  std::set<int> gpus;
  TimeMs first_seen = 0, last_seen = 0;
  double gpu_ms = 0, idle_gpu_ms = 0;
  // The snapshot that first found it gone: its end, as `run` records an exit (a kill decided at
  // its last sighting then falls before its end, as the backtest requires). 0 when unknown (a
  // workload that died while the guard was down ends at its last sighting).
  TimeMs gone_at = 0;
};

struct GuardEvent {
  GuardEventKind kind = GuardEventKind::kWarn;
  std::string workload;  // "machine" for releases and their warnings
  KillRule rule = KillRule::kIdle;
  TimeMs at = 0, due_at = 0;
  std::string message;  // for a person: who, which GPU, how long, what happens when, what to do
  std::optional<WorkloadRecord> ended;  // kEnd: the workload as it was last seen
};

// One workload being watched.
struct TrackedWorkload {
  WorkloadInfo info;
  std::unique_ptr<JobWatch> watch;  // none for a `gpuledger run` job: `run` judges it
  TimeMs first_seen = 0, last_seen = 0;
  std::set<int> gpus;  // held at the last snapshot
  double memory_mib = 0;
  bool memory_known = false;
  double gpu_ms = 0, idle_gpu_ms = 0;  // GPU time held, and the part of it below threshold
  std::optional<KeepGrant> keep;
  int warnings = 0;
  std::optional<TimeMs> warned_stretch;   // IdleSince() of the stretch last warned about
  std::optional<GuardEventKind> verdict;  // kKill, kWarnOnly or kExempt once decided
  bool shared = false;
  bool fresh = false;  // just seen for the first time

  // Since when every GPU of it has been monitored and below threshold, as its JobWatch (the
  // policy's one clock) counts it: a keep's time is not idle; nullopt when active or unwatched.
  std::optional<TimeMs> IdleSince() const {
    return watch ? watch->IdleSince() : std::optional<TimeMs>();
  }

  WorkloadRecord Record() const { return {info, gpus, first_seen, last_seen, gpu_ms, idle_gpu_ms}; }
};

class NodeGuard {
 public:
  NodeGuard(const Policy& policy, double usd_per_gpu_hour);

  // One snapshot: "procs" are its compute processes with their workloads, "workloads" what
  // /proc says of each. Snapshots come in time order.
  void Observe(const GpuSnapshot& snap, const std::vector<AttributedProcess>& procs,
               const std::map<std::string, WorkloadInfo>& workloads);

  // The events that became due by "now": starts and ends seen, warnings, kills, releases.
  std::vector<GuardEvent> Advance(TimeMs now);

  // Grants a keep of "workload" (an id, or the pid of one of its processes) to the user with
  // "peer_uid" (0: root, who may keep anything). Capped at the policy's max_keep (said in
  // *note). kNotFound when no such workload holds a GPU here, kPermission when the user owns it
  // not.
  Result<KeepGrant> Keep(const std::string& workload, uint32_t peer_uid, const std::string& who,
                         DurationMs duration, const std::string& reason, TimeMs now,
                         std::string* note);

  // State to carry over a restart, and taking it back (applied to a workload when it is first
  // seen again with one of the same processes).
  std::vector<SavedWorkload> Saved() const;
  void Resume(std::vector<SavedWorkload> saved);

  const std::map<std::string, TrackedWorkload>& workloads() const { return workloads_; }
  // "active", "idle", "warned", "kept", "exempt", "stopping", "warn_only", "left_to_run".
  std::string StateOf(const TrackedWorkload& w, TimeMs now) const;
  double usd_per_gpu_hour() const { return usd_per_gpu_hour_; }
  const Policy& policy() const { return policy_; }

 private:
  TrackedWorkload& Track(const std::string& id, const WorkloadInfo& info, TimeMs t);
  void Account(TrackedWorkload& w, const WorkloadShare& share, TimeMs t);
  void EndGone(const GpuSnapshot& snap, const std::set<std::string>& seen);
  void WatchMachine(const GpuSnapshot& snap, const std::vector<AttributedProcess>& procs);
  void AdvanceWorkload(TrackedWorkload& w, TimeMs now, std::vector<GuardEvent>* out);
  void AdvanceMachine(TimeMs now, std::vector<GuardEvent>* out);
  std::string Describe(const TrackedWorkload& w) const;
  std::string WarnMessage(const TrackedWorkload& w, const LiveDecision& d) const;
  std::string KillMessage(const TrackedWorkload& w, const LiveDecision& d) const;

  const Policy policy_;
  const Policy interactive_;
  const Policy machine_policy_;  // release_after as both grace periods
  double usd_per_gpu_hour_;
  std::map<std::string, TrackedWorkload> workloads_;
  std::vector<GuardEvent> pending_;  // starts and ends, handed out by the next Advance
  std::vector<SavedWorkload> to_resume_;
  std::unique_ptr<JobWatch> machine_;  // none while some GPU is held or active after a release
  bool machine_released_ = false;
  TimeMs last_t_ = kTimeMin;
};

}  // namespace gpuledger
