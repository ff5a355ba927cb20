#include "guard/workload_actions.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <future>

#include "guard/preflight.h"

namespace gpuledger {

std::string SlurmJobIdOf(const std::string& workload) {
  if (!workload.starts_with("slurm:")) return "";
  const std::string id = workload.substr(6);
  const bool digits = !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
  return digits ? id : "";
}

namespace {

// RFC 1123 label (a namespace): 1–63 of [a-z0-9-], alphanumeric at both ends.
bool IsDnsLabel(std::string_view s) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (s.empty() || s.size() > 63 || !alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-'; });
}

// RFC 1123 subdomain (a pod name): up to 253 of [a-z0-9.-], alphanumeric at both ends.
bool IsDnsSubdomain(std::string_view s) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (s.empty() || s.size() > 253 || !alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

bool IsPodUid(std::string_view s) {
  return !s.empty() && s.size() <= 64 &&
         s.find_first_not_of("0123456789abcdef-") == std::string_view::npos;
}

}  // namespace

bool K8sActionNeedsName(const std::string& tmpl) {
  return tmpl.find("{namespace}") != std::string::npos || tmpl.find("{pod}") != std::string::npos;
}

Result<std::vector<std::string>> ExpandK8sAction(const std::string& tmpl, const StopTarget& pod) {
  if (K8sActionNeedsName(tmpl) && pod.pod_namespace.empty() && pod.pod_name.empty())
    return MakeError(ErrorCode::kInvalid,
                     "the kubelet's pod log directory does not name pod " + pod.pod_uid);
  if (tmpl.find("{namespace}") != std::string::npos && !IsDnsLabel(pod.pod_namespace))
    return MakeError(ErrorCode::kInvalid,
                     "not a Kubernetes namespace: '" + pod.pod_namespace + "'");
  if (tmpl.find("{pod}") != std::string::npos && !IsDnsSubdomain(pod.pod_name))
    return MakeError(ErrorCode::kInvalid, "not a Kubernetes pod name: '" + pod.pod_name + "'");
  if (!pod.pod_uid.empty() && !IsPodUid(pod.pod_uid))
    return MakeError(ErrorCode::kInvalid, "not a pod uid: '" + pod.pod_uid + "'");
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : tmpl) {
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        word += c;
    } else if (c == '\'' || c == '"') {
      quote = c, in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(std::move(word)), word.clear();
      in_word = false;
    } else {
      word += c, in_word = true;
    }
  }
  if (quote) return MakeError(ErrorCode::kInvalid, "k8s_action has an unclosed quote");
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) return MakeError(ErrorCode::kInvalid, "k8s_action is empty");
  const std::pair<std::string_view, const std::string*> fields[] = {
      {"{namespace}", &pod.pod_namespace},
      {"{pod}", &pod.pod_name},
      {"{uid}", &pod.pod_uid},
      {"{pod_uid}", &pod.pod_uid},
      {"{node}", &pod.node}};
  for (std::string& w : words) {
    std::string out;
    for (size_t i = 0; i < w.size();) {
      bool replaced = false;
      for (const auto& [name, value] : fields) {
        if (w.compare(i, name.size(), name) == 0) {
          out += *value, i += name.size(), replaced = true;
          break;
        }
      }
      if (replaced) continue;
      if (w[i] == '{' && w.find('}', i) != std::string::npos)
        return MakeError(ErrorCode::kInvalid,
                         "k8s_action: unknown placeholder in '" + w +
                             "' (known: {namespace}, {pod}, {uid}, {pod_uid}, {node})");
      out += w[i++];
    }
    w = std::move(out);
  }
  return words;
}

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

constexpr DurationMs kCommandTimeoutMs = 15'000;

std::string Joined(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

class SignalActions : public WorkloadActions {
 public:
  SignalActions(ProcessTable* procs, DurationMs grace, std::string k8s_action,
                std::string no_signals)
      : procs_(procs),
        grace_(grace),
        k8s_action_(std::move(k8s_action)),
        no_signals_(std::move(no_signals)) {}

  ~SignalActions() override {
    for (External& e : external_) e.result.wait();  // each ends by its own deadline
  }

  ActionOutcome Stop(const StopTarget& t, TimeMs now) override {
    switch (t.kind) {
      case WorkloadKind::kJupyter:
        return StopKernel(t);
      case WorkloadKind::kSlurm: {
        const std::string id = SlurmJobIdOf(t.workload);
        if (id.empty()) return {false, "not stopped: no Slurm job id in " + t.workload};
        return RunLater(t, {"scancel", id});
      }
      case WorkloadKind::kPod: {
        if (k8s_action_.empty()) return {false, "not stopped: the policy has no k8s_action"};
        auto argv = ExpandK8sAction(k8s_action_, t);
        if (!argv) return {false, "not stopped: " + argv.error().message};
        return RunLater(t, *argv);
      }
      case WorkloadKind::kRun:
        return {false, "not stopped: `gpuledger run` judges its own jobs"};
      default:
        return Signal(t, now);
    }
  }

  ActionOutcome Release(const std::string& command) override {
    StopTarget machine;
    machine.workload = "machine";
    return RunLater(machine, {"/bin/sh", "-c", command}, command);
  }

  std::vector<ActionOutcome> Tick(TimeMs now) override {
    std::vector<ActionOutcome> out;
    FinishExternal(now, &out);
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
      // Only what was warned about and sent SIGTERM (pid + start time, captured then): the
      // group's id may belong to someone else by now.
      const size_t sent = Send(it->plan, SIGKILL);
      out.push_back({true,
                     fmt::format("{}: sent SIGKILL to {} process{} that outlived SIGTERM "
                                 "by {}",
                                 it->workload, sent, sent == 1 ? "" : "es", FormatDuration(grace_)),
                     it->workload});
      it = pending_.erase(it);
    }
    return out;
  }

  size_t stopping() const override { return pending_.size() + external_.size(); }

 private:
  // A call to the system that owns a workload (its Jupyter server, scancel, k8s_action, the
  // release command), on a thread of its own with its own deadline, so the guard's loop never
  // waits for it; Tick reports how it went.
  struct External {
    StopTarget target;
    std::future<ActionOutcome> result;
    bool fall_back_to_signals = false;
  };

  ActionOutcome RunLater(const StopTarget& t, std::vector<std::string> argv,
                         std::string shown = "") {
    if (shown.empty()) shown = Joined(argv);
    std::string workload = t.workload;
    auto call = [argv = std::move(argv), shown, workload]() -> ActionOutcome {
      auto r = RunArgv(argv, kCommandTimeoutMs);
      return {r.has_value(), workload + ": " + (r ? "ran: " + shown : r.error().ToString()),
              workload};
    };
    external_.push_back({t, std::async(std::launch::async, std::move(call)), false});
    return {true, "running: " + shown};
  }

  // Through the kernel's Jupyter server; signals when it does not shut the kernel down.
  ActionOutcome StopKernel(const StopTarget& t) {
    if (!t.jupyter) {
      ActionOutcome out = Signal(t, 0);
      out.what = "no Jupyter server was vouched for it; falling back to signals: " + out.what;
      return out;
    }
    auto call = [k = *t.jupyter, workload = t.workload]() -> ActionOutcome {
      auto r = ShutdownJupyterKernel(k);
      if (!r) return {false, r.error().message, workload};
      return {true,
              fmt::format("{}: shut down kernel {}{} through the Jupyter server at {} (the "
                          "notebook and the server stay)",
                          workload, k.kernel_id, k.notebook.empty() ? "" : " of " + k.notebook,
                          k.server.url),
              workload};
    };
    external_.push_back({t, std::async(std::launch::async, std::move(call)), true});
    return {true, "asking the Jupyter server at " + t.jupyter->server.url +
                      " to shut down kernel " + t.jupyter->kernel_id};
  }

  void FinishExternal(TimeMs now, std::vector<ActionOutcome>* out) {
    for (auto it = external_.begin(); it != external_.end();) {
      if (it->result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        ++it;
        continue;
      }
      ActionOutcome r = it->result.get();
      if (!r.ok && it->fall_back_to_signals) {
        ActionOutcome s = Signal(it->target, now);
        r = {s.ok, it->target.workload + ": " + r.what + "; falling back to signals: " + s.what,
             it->target.workload};
      }
      out->push_back(std::move(r));
      it = external_.erase(it);
    }
  }

  // SIGTERM to the plan's processes now; SIGKILL to what is left by Tick after the grace.
  ActionOutcome Signal(const StopTarget& t, TimeMs now) {
    if (!no_signals_.empty()) return {false, "not signalled: " + no_signals_, t.workload};
    StopPlan plan = PlanStop(t, procs_);
    if (!plan.refusal.empty()) return {false, "not signalled: " + plan.refusal};
    const size_t sent = Send(plan, SIGTERM);
    pending_.push_back({t.workload, plan, now + grace_});
    return {sent > 0,
            fmt::format("sent SIGTERM to {} ({} process{}); SIGKILL in {} to what is left",
                        Whom(t, plan), sent, sent == 1 ? "" : "es", FormatDuration(grace_))};
  }

  struct Pending {
    std::string workload;
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
  std::string k8s_action_;
  std::string no_signals_;  // why no signal may be sent at all; empty: they may
  std::vector<Pending> pending_;
  std::vector<External> external_;
};

class DryRunActions : public WorkloadActions {
 public:
  DryRunActions(ProcessTable* procs, std::string k8s_action)
      : procs_(procs), k8s_action_(std::move(k8s_action)) {}
  ActionOutcome Stop(const StopTarget& t, TimeMs) override {
    if (t.kind == WorkloadKind::kJupyter && t.jupyter) {
      return {true,
              fmt::format("[dry run] would shut down kernel {} through the Jupyter server at {}",
                          t.jupyter->kernel_id, t.jupyter->server.url)};
    }
    if (t.kind == WorkloadKind::kSlurm)
      return {true, "[dry run] would run: scancel " + SlurmJobIdOf(t.workload)};
    if (t.kind == WorkloadKind::kPod) {
      if (k8s_action_.empty()) return {true, "[dry run] not stopped: the policy has no k8s_action"};
      auto argv = ExpandK8sAction(k8s_action_, t);
      return {true, argv ? "[dry run] would run: " + Joined(*argv)
                         : "[dry run] would not run k8s_action: " + argv.error().message};
    }
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
  std::string k8s_action_;
};

}  // namespace

std::unique_ptr<WorkloadActions> MakeSignalActions(ProcessTable* procs, DurationMs grace,
                                                   std::string k8s_action, std::string no_signals) {
  return std::make_unique<SignalActions>(procs, grace, std::move(k8s_action),
                                         std::move(no_signals));
}

std::unique_ptr<WorkloadActions> MakeDryRunActions(ProcessTable* procs, std::string k8s_action) {
  return std::make_unique<DryRunActions>(procs, std::move(k8s_action));
}

}  // namespace gpuledger
