#include "guard/workload_actions.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <regex>

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

Result<std::vector<std::string>> ExpandK8sAction(const std::string& tmpl, const StopTarget& pod) {
  static const std::regex kLabel("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  static const std::regex kSubdomain("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
  static const std::regex kUid("[0-9a-f-]{1,64}");
  if (!std::regex_match(pod.pod_namespace, kLabel))
    return MakeError(ErrorCode::kInvalid,
                     "not a Kubernetes namespace: '" + pod.pod_namespace + "'");
  if (!std::regex_match(pod.pod_name, kSubdomain))
    return MakeError(ErrorCode::kInvalid, "not a Kubernetes pod name: '" + pod.pod_name + "'");
  if (!pod.pod_uid.empty() && !std::regex_match(pod.pod_uid, kUid))
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
        return MakeError(ErrorCode::kInvalid, "k8s_action: unknown placeholder in '" + w +
                                                  "' (known: {namespace}, {pod}, {uid}, {node})");
      out += w[i++];
    }
    w = std::move(out);
  }
  return words;
}

Result<void> RunArgv(const std::vector<std::string>& argv, DurationMs timeout_ms) {
  if (argv.empty()) return MakeError(ErrorCode::kUsage, "no command");
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return MakeError(ErrorCode::kIo, "pipe failed");
  const pid_t child = fork();
  if (child < 0) return MakeError(ErrorCode::kIo, "fork failed");
  if (child == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  std::string output;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool timed_out = false;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      kill(child, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[1024];
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    output.append(buf, static_cast<size_t>(n));
    if (output.size() > 8192) output.erase(0, output.size() - 8192);
  }
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  const std::string last =
      output.substr(output.rfind('\n') == std::string::npos ? 0 : output.rfind('\n') + 1);
  if (timed_out) return MakeError(ErrorCode::kIo, argv[0] + " did not finish in time");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  return MakeError(ErrorCode::kIo,
                   fmt::format("{} exited {}{}", argv[0],
                               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                               last.empty() ? "" : ": " + last));
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

constexpr DurationMs kCommandTimeoutMs = 30'000;

std::string Joined(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

class SignalActions : public WorkloadActions {
 public:
  SignalActions(ProcessTable* procs, DurationMs grace, std::string k8s_action)
      : procs_(procs), grace_(grace), k8s_action_(std::move(k8s_action)) {}

  ActionOutcome Stop(const StopTarget& t, TimeMs now) override {
    switch (t.kind) {
      case WorkloadKind::kJupyter:
        return StopKernel(t, now);
      case WorkloadKind::kSlurm: {
        const std::string id = SlurmJobIdOf(t.workload);
        if (id.empty()) return {false, "not stopped: no Slurm job id in " + t.workload};
        auto r = RunArgv({"scancel", id}, kCommandTimeoutMs);
        return {r.has_value(), r ? "ran: scancel " + id : r.error().ToString()};
      }
      case WorkloadKind::kPod: {
        if (k8s_action_.empty()) return {false, "not stopped: the policy has no k8s_action"};
        auto argv = ExpandK8sAction(k8s_action_, t);
        if (!argv) return {false, "not stopped: " + argv.error().message};
        auto r = RunArgv(*argv, kCommandTimeoutMs);
        return {r.has_value(), r ? "ran: " + Joined(*argv) : r.error().ToString()};
      }
      case WorkloadKind::kRun:
        return {false, "not stopped: `gpuledger run` judges its own jobs"};
      default:
        return Signal(t, now);
    }
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
  // Through the kernel's Jupyter server; signals when none answers.
  ActionOutcome StopKernel(const StopTarget& t, TimeMs now) {
    std::string why = "no Jupyter server was found for it";
    if (t.jupyter) {
      auto r = ShutdownJupyterKernel(*t.jupyter);
      if (r) {
        return {true, fmt::format("shut down kernel {}{} through the Jupyter server at {} (the "
                                  "notebook and the server stay)",
                                  t.jupyter->kernel_id,
                                  t.jupyter->notebook.empty() ? "" : " of " + t.jupyter->notebook,
                                  t.jupyter->server.url)};
      }
      why = r.error().message;
    }
    ActionOutcome out = Signal(t, now);
    out.what = why + "; falling back to signals: " + out.what;
    return out;
  }

  // SIGTERM to the plan's processes now; SIGKILL to what is left by Tick after the grace.
  ActionOutcome Signal(const StopTarget& t, TimeMs now) {
    StopPlan plan = PlanStop(t, procs_);
    if (!plan.refusal.empty()) return {false, "not signalled: " + plan.refusal};
    const size_t sent = Send(plan, SIGTERM);
    pending_.push_back({t.workload, t.pgid, plan, now + grace_});
    return {sent > 0,
            fmt::format("sent SIGTERM to {} ({} process{}); SIGKILL in {} to what is left",
                        Whom(t, plan), sent, sent == 1 ? "" : "es", FormatDuration(grace_))};
  }

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
  std::string k8s_action_;
  std::vector<Pending> pending_;
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
                                                   std::string k8s_action) {
  return std::make_unique<SignalActions>(procs, grace, std::move(k8s_action));
}

std::unique_ptr<WorkloadActions> MakeDryRunActions(ProcessTable* procs, std::string k8s_action) {
  return std::make_unique<DryRunActions>(procs, std::move(k8s_action));
}

}  // namespace gpuledger
