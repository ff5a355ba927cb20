#include "guard/node_guard.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "guard/workload_actions.h"

namespace gpuledger {
namespace {

std::string Clock(TimeMs t) { return FormatIsoUtc(t).substr(11, 8); }

std::string GpuList(const std::set<int>& gpus) {
  std::string out;
  for (int g : gpus) out += (out.empty() ? "" : ",") + std::to_string(g);
  return out.empty() ? "-" : out;
}

// Why the guard only warns about this workload; empty when it stops it.
std::string_view WhyNotStopped(const WorkloadInfo& w, const Policy& policy) {
  if (w.name.kind == WorkloadKind::kRun) return "the guard only warns about this kind";
  if (w.name.kind != WorkloadKind::kPod) return "";
  if (policy.k8s_action.empty()) return "the policy has no k8s_action";
  // k8s_action would have to trust what the pod says of itself.
  if (K8sActionNeedsName(policy.k8s_action) && w.pod_name.empty())
    return "the kubelet's pod log directory does not name this pod";
  return "";
}

// How the guard stops this workload; empty when it does not (it only warns: WhyNotStopped).
std::string_view StopAction(const WorkloadInfo& w, const Policy& policy) {
  if (!WhyNotStopped(w, policy).empty()) return "";
  switch (w.name.kind) {
    case WorkloadKind::kJupyter:
      return "its kernel shut down through its Jupyter server (the notebook and server stay)";
    case WorkloadKind::kSlurm:
      return "scancel (the job ends CANCELLED, after Slurm's KillWait)";
    case WorkloadKind::kPod:
      return "the policy's k8s_action";
    default:
      return "SIGTERM to its process group, SIGKILL after the grace period";
  }
}

}  // namespace

std::string_view GuardEventKindId(GuardEventKind kind) {
  switch (kind) {
    case GuardEventKind::kStart:
      return "start";
    case GuardEventKind::kEnd:
      return "end";
    case GuardEventKind::kWarn:
      return "warn";
    case GuardEventKind::kKill:
      return "kill";
    case GuardEventKind::kWarnOnly:
      return "warn_only";
    case GuardEventKind::kExempt:
      return "exempt";
    case GuardEventKind::kRelease:
      return "release";
  }
  return "?";
}

NodeGuard::NodeGuard(const Policy& policy, double usd_per_gpu_hour)
    : policy_(policy),
      interactive_(InteractivePolicy(policy)),
      machine_policy_(MachineReleasePolicy(policy)),
      usd_per_gpu_hour_(usd_per_gpu_hour) {}

TrackedWorkload& NodeGuard::Track(const std::string& id, const WorkloadInfo& info, TimeMs t) {
  auto it = workloads_.find(id);
  if (it != workloads_.end()) {
    it->second.info = info;
    return it->second;
  }
  TrackedWorkload& w = workloads_[id];
  w.info = info;
  w.first_seen = t;
  WatchedJob job{id,          info.owner, {"kind=" + std::string(WorkloadKindId(info.name.kind))},
                 t,           {},         usd_per_gpu_hour_,
                 std::nullopt};
  // A workload seen before a restart (one of its processes is the same) carries on.
  auto saved = std::find_if(to_resume_.begin(), to_resume_.end(), [&](const SavedWorkload& s) {
    return s.id == id && std::any_of(s.processes.begin(), s.processes.end(),
                                     [&](const ProcessKey& k) { return info.processes.count(k); });
  });
  if (saved != to_resume_.end()) {
    job.first_active = saved->first_active;
    if (saved->first_seen != 0) {  // the same ledger row, its GPU time carried on
      w.first_seen = saved->first_seen;
      w.gpu_ms = saved->gpu_ms;
      w.idle_gpu_ms = saved->idle_gpu_ms;
    }
    w.warnings = saved->warnings;
    if (saved->keep && saved->keep->until > t) w.keep = saved->keep;
    to_resume_.erase(saved);
  }
  if (info.name.kind != WorkloadKind::kRun) {
    const Policy& p = info.name.kind == WorkloadKind::kJupyter ? interactive_ : policy_;
    w.watch = std::make_unique<JobWatch>(p, job);
    if (w.keep) w.watch->SpareUntil(w.keep->until);
  }
  w.fresh = true;  // its start event goes out once its GPUs are known (Observe)
  return w;
}

void NodeGuard::Account(TrackedWorkload& w, const WorkloadShare& share, TimeMs t) {
  const double dt =
      last_t_ == kTimeMin ? 0 : static_cast<double>(std::min(t - last_t_, policy_.max_gap_ms));
  w.memory_mib = 0;
  w.memory_known = true;
  for (const GpuReading& r : share.gpus) {
    const bool idle = r.util_pct < policy_.threshold_pct;
    w.gpu_ms += dt;
    if (idle) w.idle_gpu_ms += dt;
    if (r.memory_used_mib)
      w.memory_mib += *r.memory_used_mib;
    else
      w.memory_known = false;
  }
  w.shared = share.shared;
  w.last_seen = t;
}

void NodeGuard::Observe(const GpuSnapshot& snap, const std::vector<AttributedProcess>& procs,
                        const std::map<std::string, WorkloadInfo>& workloads) {
  const auto shares = ShareGpus(snap, procs, policy_.threshold_pct);
  std::set<std::string> seen;
  for (const auto& [id, share] : shares) {
    auto info = workloads.find(id);
    if (info == workloads.end()) continue;
    seen.insert(id);
    TrackedWorkload& w = Track(id, info->second, snap.t);
    std::set<int> now_held;
    for (const GpuReading& r : share.gpus) now_held.insert(r.index);
    for (int g : w.gpus) {  // let go of a GPU it was seen to leave; keep those not read now
      if (now_held.count(g)) continue;
      if (snap.Listed(g)) {
        if (w.watch) w.watch->ForgetGpu(g);
      } else {
        now_held.insert(g);
      }
    }
    w.gpus = now_held;
    Account(w, share, snap.t);
    if (w.fresh) {
      w.fresh = false;
      pending_.push_back({GuardEventKind::kStart, id, KillRule::kIdle, snap.t, snap.t,
                          fmt::format("{} appeared: {}", id, Describe(w)), std::nullopt});
    }
    if (w.watch) w.watch->OnReadings(snap.t, share.gpus);
  }
  // A GPU not read (or its processes not listed) now: unmonitored for the workloads on it.
  for (auto& [id, w] : workloads_) {
    for (int g : w.gpus) {
      if (w.watch && !snap.Listed(g)) w.watch->OnUnread(snap.t, g);
    }
  }
  EndGone(snap, seen);
  WatchMachine(snap, procs);
  last_t_ = snap.t;
}

void NodeGuard::EndGone(const GpuSnapshot& snap, const std::set<std::string>& seen) {
  if (!snap.processes_listed) return;
  for (auto it = workloads_.begin(); it != workloads_.end();) {
    const TrackedWorkload& w = it->second;
    const bool gone = !seen.count(it->first) && std::all_of(w.gpus.begin(), w.gpus.end(),
                                                            [&](int g) { return snap.Listed(g); });
    if (!gone) {
      ++it;
      continue;
    }
    WorkloadRecord record = w.Record();
    record.gone_at = snap.t;
    pending_.push_back(
        {GuardEventKind::kEnd, it->first, KillRule::kIdle, snap.t, snap.t,
         fmt::format("{} holds no GPU any more ({:.2f} GPU-hours, {:.0f} % idle)", it->first,
                     w.gpu_ms / kMsPerHour, w.gpu_ms > 0 ? 100 * w.idle_gpu_ms / w.gpu_ms : 0.0),
         std::move(record)});
    it = workloads_.erase(it);
  }
}

void NodeGuard::WatchMachine(const GpuSnapshot& snap, const std::vector<AttributedProcess>& procs) {
  if (!snap.processes_listed) return;  // who holds the GPUs is unknown: never release
  std::vector<GpuReading> readings;
  bool busy = false;
  for (const GpuReading& g : snap.gpus) {
    if (!snap.Listed(g.index)) continue;  // no reading: unmonitored, so no release
    const bool held = std::any_of(procs.begin(), procs.end(), [&](const AttributedProcess& p) {
      return p.reading->gpu == g.index;
    });
    GpuReading r = g;
    if (held) r.util_pct = 100;  // a GPU some workload holds is in use, for the machine
    busy = busy || r.util_pct >= policy_.threshold_pct;
    readings.push_back(r);
  }
  if (machine_released_ && busy) {  // in use again after a release: a later idle stretch counts
    machine_released_ = false;
    machine_.reset();
  }
  if (machine_released_) return;
  if (!machine_)
    machine_ = std::make_unique<JobWatch>(
        machine_policy_, WatchedJob{"machine", "", {}, snap.t, {}, 0, std::nullopt});
  machine_->OnReadings(snap.t, readings);
  if (!snap.unread_gpus.empty() || !snap.unlisted_gpus.empty()) {
    // Part of the machine is unknown now: none of it counts as idle.
    for (const GpuReading& r : readings) machine_->OnUnread(snap.t, r.index);
  }
}

std::string NodeGuard::Describe(const TrackedWorkload& w) const {
  std::string memory;
  if (w.memory_known && w.memory_mib > 0)
    memory = fmt::format(", {:.1f} GiB held", w.memory_mib / 1024);
  const std::string& what = !w.info.title.empty() ? w.info.title : w.info.command;
  return fmt::format("{} of {} on GPU {}{}{}", what.empty() ? "(no command)" : what, w.info.owner,
                     GpuList(w.gpus), memory, w.shared ? ", shared" : "");
}

std::string NodeGuard::WarnMessage(const TrackedWorkload& w, const LiveDecision& d) const {
  const std::string_view how = StopAction(w.info, policy_);
  const std::optional<TimeMs> since = w.IdleSince();
  const std::string idle =
      since ? fmt::format("idle below {} % since {} ({})", policy_.threshold_pct, Clock(*since),
                          FormatDuration((d.decided_at - *since) / 1000 * 1000))
            : d.explanation;
  return fmt::format(
      "{} ({}) is {}; {} at {} UTC unless its GPUs get busy. To keep it: gpuledger keep {} 2h "
      "--reason '…' (at most {})",
      w.info.name.id, Describe(w), idle,
      how.empty() ? "it will be reported as idle (the guard does not stop this kind)"
                  : "stopping it",
      Clock(d.due_at), w.info.name.id, FormatDuration(policy_.max_keep_ms));
}

std::string NodeGuard::KillMessage(const TrackedWorkload& w, const LiveDecision& d) const {
  const std::string_view how = StopAction(w.info, policy_);
  return fmt::format("{} ({}): {}; {}", w.info.name.id, Describe(w), d.explanation,
                     how.empty() ? "not stopped: " + std::string(WhyNotStopped(w.info, policy_))
                                 : "stopping it: " + std::string(how));
}

void NodeGuard::AdvanceWorkload(TrackedWorkload& w, TimeMs now, std::vector<GuardEvent>* out) {
  if (!w.watch || w.verdict) return;
  for (const LiveDecision& d : w.watch->Advance(now)) {
    GuardEvent e{GuardEventKind::kWarn, w.info.name.id, d.rule, now, d.due_at, "", std::nullopt};
    switch (d.kind) {
      case DecisionKind::kWarn:
        ++w.warnings;
        w.warned_stretch = w.IdleSince();
        e.message = WarnMessage(w, d);
        break;
      case DecisionKind::kKill:
        e.kind =
            StopAction(w.info, policy_).empty() ? GuardEventKind::kWarnOnly : GuardEventKind::kKill;
        e.message = KillMessage(w, d);
        w.verdict = e.kind;
        break;
      case DecisionKind::kExempt:
        e.kind = GuardEventKind::kExempt;
        e.message = fmt::format(
            "{} ({}): {}; exempt by the policy{}", w.info.name.id, Describe(w), d.explanation,
            policy_.exempt.granted_by.empty() ? ""
                                              : " (granted by " + policy_.exempt.granted_by + ")");
        w.verdict = e.kind;
        break;
    }
    out->push_back(std::move(e));
  }
}

void NodeGuard::AdvanceMachine(TimeMs now, std::vector<GuardEvent>* out) {
  if (!machine_ || machine_released_) return;
  const std::string command =
      policy_.release_command.empty() ? "no release_command is set" : policy_.release_command;
  for (const LiveDecision& d : machine_->Advance(now)) {
    GuardEvent e{GuardEventKind::kWarn, "machine", d.rule, now, d.due_at, "", std::nullopt};
    if (d.kind == DecisionKind::kWarn) {
      e.message = fmt::format(
          "no workload holds a GPU and every GPU is below {} %: releasing the machine at {} UTC "
          "({})",
          policy_.threshold_pct, Clock(d.due_at), command);
    } else {
      e.kind = GuardEventKind::kRelease;
      e.message = fmt::format(
          "no workload held a GPU and every GPU stayed below {} % for {}: "
          "releasing the machine ({})",
          policy_.threshold_pct, FormatDuration(policy_.release_after_ms), command);
      machine_released_ = true;
    }
    out->push_back(std::move(e));
  }
}

std::vector<GuardEvent> NodeGuard::Advance(TimeMs now) {
  std::vector<GuardEvent> out = std::move(pending_);
  pending_.clear();
  for (auto& [id, w] : workloads_) AdvanceWorkload(w, now, &out);
  AdvanceMachine(now, &out);
  return out;
}

Result<KeepGrant> NodeGuard::Keep(const std::string& workload, uint32_t peer_uid,
                                  const std::string& who, DurationMs duration,
                                  const std::string& reason, TimeMs now, std::string* note) {
  auto it = workloads_.find(workload);
  int64_t pid = 0;
  auto [end, ec] = std::from_chars(workload.data(), workload.data() + workload.size(), pid);
  if (it == workloads_.end() && ec == std::errc() && end == workload.data() + workload.size()) {
    it = std::find_if(workloads_.begin(), workloads_.end(), [&](const auto& kv) {
      return std::any_of(kv.second.info.processes.begin(), kv.second.info.processes.end(),
                         [&](const ProcessKey& k) { return k.pid == pid; });
    });
  }
  if (it == workloads_.end()) {
    return MakeError(ErrorCode::kInvalid,
                     "no workload '" + workload +
                         "' holds a GPU here (gpuledger keep --list shows those that do)");
  }
  TrackedWorkload& w = it->second;
  if (peer_uid != 0 && peer_uid != w.info.uid) {
    return MakeError(ErrorCode::kInvalid,
                     fmt::format("{} belongs to {} (uid {}): only they or root may keep it",
                                 it->first, w.info.owner, w.info.uid));
  }
  if (duration <= 0) return MakeError(ErrorCode::kUsage, "the duration must be positive");
  if (reason.empty()) return MakeError(ErrorCode::kUsage, "say why: --reason TEXT");
  if (w.verdict == GuardEventKind::kKill)
    return MakeError(ErrorCode::kInvalid, it->first + " is already being stopped");
  if (duration > policy_.max_keep_ms) {
    if (note) *note = "capped at the policy's max_keep of " + FormatDuration(policy_.max_keep_ms);
    duration = policy_.max_keep_ms;
  }
  KeepGrant grant{it->first, now, now + duration, who, reason};
  w.keep = grant;
  if (w.watch) w.watch->SpareUntil(grant.until);
  return grant;
}

std::string NodeGuard::StateOf(const TrackedWorkload& w, TimeMs now) const {
  if (!w.watch) return "left_to_run";
  if (w.verdict == GuardEventKind::kKill) return "stopping";
  if (w.verdict == GuardEventKind::kWarnOnly) return "warn_only";
  if (w.verdict == GuardEventKind::kExempt) return "exempt";
  if (w.keep && w.keep->until > now) return "kept";
  const std::optional<TimeMs> since = w.IdleSince();
  if (!since) return "active";
  return w.warned_stretch == since ? "warned" : "idle";
}

std::vector<SavedWorkload> NodeGuard::Saved() const {
  std::vector<SavedWorkload> out;
  for (const auto& [id, w] : workloads_) {
    SavedWorkload& s = out.emplace_back();
    s.id = id, s.processes = w.info.processes;
    s.first_active = w.watch ? w.watch->first_active() : std::nullopt;
    s.warnings = w.warnings, s.keep = w.keep;
    s.first_seen = w.first_seen, s.last_seen = w.last_seen;
    s.gpu_ms = w.gpu_ms, s.idle_gpu_ms = w.idle_gpu_ms;
    s.owner = w.info.owner, s.command = w.info.command, s.uid = w.info.uid, s.gpus = w.gpus;
  }
  // Workloads not seen again yet since a restart are remembered still.
  for (const SavedWorkload& s : to_resume_) out.push_back(s);
  return out;
}

void NodeGuard::Resume(std::vector<SavedWorkload> saved) { to_resume_ = std::move(saved); }

}  // namespace gpuledger
