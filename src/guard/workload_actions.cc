#include "guard/workload_actions.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>

#include "guard/preflight.h"

namespace gpuledger {

StopPlan PlanStop(const StopTarget& t, ProcessTable* procs) {
  StopPlan plan;
  std::vector<ProcessKey> alive;
  for (const ProcessKey& k : t.gpu_processes) {
    if (procs->Alive(k)) alive.push_back(k);
  }
  if (alive.empty()) {
    plan.refusal = "its GPU processes are gone already";
    return plan;
  }
  const int64_t self = getpid();
  if (t.pgid <= 1 || t.pgid == getpgrp()) {
    plan.refusal = fmt::format("process group {} is pid 1's or the guard's own", t.pgid);
    return plan;
  }
  if (procs->IsShellGroup(t.pgid)) {
    std::set<ProcessKey> seen;
    for (const ProcessKey& k : alive) {
      for (const ProcessKey& d : procs->WithDescendants(k)) seen.insert(d);
    }
    plan.processes.assign(seen.begin(), seen.end());
  } else {
    plan.whole_group = true;
    plan.processes = procs->GroupMembers(t.pgid);
  }
  std::erase_if(plan.processes, [&](const ProcessKey& k) { return k.pid <= 1 || k.pid == self; });
  if (plan.processes.empty()) plan.refusal = "no process of it may be signalled";
  return plan;
}

namespace {

class SignalActions : public WorkloadActions {
 public:
  SignalActions(ProcessTable* procs, DurationMs grace) : procs_(procs), grace_(grace) {}

  ActionOutcome Stop(const StopTarget& t, TimeMs now) override {
    StopPlan plan = PlanStop(t, procs_);
    if (!plan.refusal.empty()) return {false, "not signalled: " + plan.refusal};
    const size_t sent = Send(plan, SIGTERM);
    pending_.push_back({t.workload, t.pgid, plan, now + grace_});
    return {sent > 0,
            fmt::format("sent SIGTERM to {} ({} process{}); SIGKILL in {} to what is left",
                        Whom(t, plan), sent, sent == 1 ? "" : "es", FormatDuration(grace_))};
  }

  ActionOutcome Release(const std::string& command) override {
    auto r = RunShellCommand(command);
    return {r.has_value(), r ? "ran: " + command : r.error().ToString()};
  }

  std::vector<ActionOutcome> Tick(TimeMs now) override {
    std::vector<ActionOutcome> out;
    for (auto it = pending_.begin(); it != pending_.end();) {
      std::erase_if(it->plan.processes, [&](const ProcessKey& k) { return !procs_->Alive(k); });
      if (it->plan.processes.empty()) {
        it = pending_.erase(it);
        continue;
      }
      if (now < it->kill_at) {
        ++it;
        continue;
      }
      if (it->plan.whole_group) {  // the group lives on: what joined it since goes too
        for (const ProcessKey& k : procs_->GroupMembers(it->pgid)) {
          if (std::find(it->plan.processes.begin(), it->plan.processes.end(), k) ==
              it->plan.processes.end())
            it->plan.processes.push_back(k);
        }
      }
      const size_t sent = Send(it->plan, SIGKILL);
      out.push_back(
          {true, fmt::format("{}: sent SIGKILL to {} process{} that outlived SIGTERM "
                             "by {}",
                             it->workload, sent, sent == 1 ? "" : "es", FormatDuration(grace_))});
      it = pending_.erase(it);
    }
    return out;
  }

  size_t stopping() const override { return pending_.size(); }

 private:
  struct Pending {
    std::string workload;
    int64_t pgid;
    StopPlan plan;
    TimeMs kill_at;
  };

  static std::string Whom(const StopTarget& t, const StopPlan& plan) {
    return plan.whole_group
               ? fmt::format("process group {}", t.pgid)
               : fmt::format("the GPU processes of shell group {} and their children", t.pgid);
  }

  // Signals each planned process still the same one; returns how many were signalled.
  size_t Send(const StopPlan& plan, int sig) {
    size_t sent = 0;
    for (const ProcessKey& k : plan.processes) {
      if (procs_->Alive(k) && kill(static_cast<pid_t>(k.pid), sig) == 0) ++sent;
    }
    return sent;
  }

  ProcessTable* procs_;
  DurationMs grace_;
  std::vector<Pending> pending_;
};

class DryRunActions : public WorkloadActions {
 public:
  explicit DryRunActions(ProcessTable* procs) : procs_(procs) {}
  ActionOutcome Stop(const StopTarget& t, TimeMs) override {
    StopPlan plan = PlanStop(t, procs_);
    if (!plan.refusal.empty()) return {true, "[dry run] would not signal: " + plan.refusal};
    return {true,
            fmt::format("[dry run] would send SIGTERM to {} {} ({} process{}), then SIGKILL",
                        plan.whole_group ? "process group" : "the GPU processes of group", t.pgid,
                        plan.processes.size(), plan.processes.size() == 1 ? "" : "es")};
  }
  ActionOutcome Release(const std::string& command) override {
    return {true, "[dry run] would run: " + command};
  }
  std::vector<ActionOutcome> Tick(TimeMs) override { return {}; }
  size_t stopping() const override { return 0; }

 private:
  ProcessTable* procs_;
};

}  // namespace

std::unique_ptr<WorkloadActions> MakeSignalActions(ProcessTable* procs, DurationMs grace) {
  return std::make_unique<SignalActions>(procs, grace);
}

std::unique_ptr<WorkloadActions> MakeDryRunActions(ProcessTable* procs) {
  return std::make_unique<DryRunActions>(procs);
}

}  // namespace gpuledger
