#include "guard/job_runner.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>

#include "core/json_writer.h"
#include "gpu/gpu_source.h"
#include "guard/preflight.h"
#include "guard/process_group.h"
#include "guard/stop_signals.h"
#include "ledger/over_budget.h"
#include "model/budgets.h"
#include "model/run_identity.h"
#include "notify/webhook.h"

namespace gpuledger {
namespace {

constexpr size_t kTailLines = 100;

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : std::string(sep)) + p;
  return out;
}

std::string DecisionKindId(DecisionKind k) {
  return k == DecisionKind::kWarn ? "warn" : k == DecisionKind::kKill ? "kill" : "exempt";
}

// The state of one run, shared by the steps of RunJob.
class Run {
 public:
  Run(const RunOptions& o, Ledger* ledger, std::FILE* log)
      : o_(o), ledger_(ledger), log_(log), start_(WallNow()) {
    job_.job_id =
        o.job_id.empty() ? fmt::format("{}-{}-{}", LedgerHostName(), start_, getpid()) : o.job_id;
    const char* user = std::getenv("USER");
    job_.owner = !o.owner.empty() ? o.owner : (user ? user : "");
    job_.labels = Join(o.labels, ";");
    job_.command = Join(o.argv, " ");
    job_.host = LedgerHostName();
    for (int g : o.gpus) job_.gpus += (job_.gpus.empty() ? "" : ";") + std::to_string(g);
    job_.start = start_;
    job_.status = "running";
    // Flags first, then what the environment the command inherits names (MLflow, W&B, CI).
    RunIdentity id{o.experiment, o.run, o.repo, "", o.pr, ""};
    id.FillFrom(IdentityFromEnvironment([](std::string_view name) -> std::optional<std::string> {
      const char* v = std::getenv(std::string(name).c_str());
      return v && *v ? std::optional<std::string>(v) : std::nullopt;
    }));
    job_.repo = id.repo, job_.pr = id.pr, job_.experiment = id.experiment, job_.run = id.run;
    env_commit_ = id.commit;
    if (!id.pipeline.empty())
      job_.labels += (job_.labels.empty() ? "" : ";") + ("ci_run=" + id.pipeline);
    job_.runner_pid = getpid();
    job_.runner_start = ProcessStartTicks(getpid());
  }

  Result<RunOutcome> Go();

 private:
  std::string env_commit_;  // the CI's commit, when the working directory is no git checkout
  Result<void> Preflight();
  // Policy over_budget: a team or owner past its monthly budget (ledger/over_budget.h).
  Result<void> CheckBudget();
  void Record(const LedgerDecision& d);
  // Writes the running row again (with its GPU-hours so far), so readers on other hosts know
  // its writer lives (ledger.h, kAbandonedAfterMs).
  void Heartbeat(TimeMs now);
  void OnLine(int stream, std::string_view line);
  void Sample(TimeMs now);
  void Act(const LiveDecision& d, TimeMs now);
  void Interrupt(int sig, TimeMs now);
  void Finish(const ChildExit& exit);
  void ReleaseMachine(TimeMs now);
  double GpuHours(TimeMs now) const;

  const RunOptions& o_;
  Ledger* ledger_;
  std::FILE* log_;
  TimeMs start_;
  LedgerJob job_;
  std::unique_ptr<GpuSource> source_;
  std::unique_ptr<JobWatch> watch_;
  std::unique_ptr<ProcessGroup> proc_;
  std::deque<std::string> tail_;
  size_t gpus_seen_ = 0;
  RunOutcome outcome_;
  std::string budget_warning_;  // set when over budget and the policy only warns
};

Result<void> Run::Preflight() {
  if (auto r = CheckBudget(); !r) return r;
  auto source = MakeGpuSource(o_.gpu_source, start_);
  if (!source) return std::unexpected(source.error());
  source_ = std::move(*source);
  auto first = CheckGpus(source_.get(), start_, o_.policy.threshold_pct, o_.require_gpu, log_);
  if (!first) return std::unexpected(first.error());
  const GitState git = ReadGitState();
  job_.commit = git.commit.empty() ? env_commit_ : git.commit, job_.dirty = git.dirty;
  if (!git.commit.empty()) {
    fmt::print(log_, "gpuledger run: preflight: commit {}{}\n", git.commit.substr(0, 12),
               git.dirty ? " with uncommitted changes (not reproducible)" : "");
  }
  if (!o_.output_dir.empty()) {
    if (auto r = CheckWritableDir(o_.output_dir); !r) return r;
  }
  if (!o_.preflight_command.empty()) {
    if (auto r = RunShellCommand(o_.preflight_command); !r) return r;
  }
  // The policy runs on the source's clock (a replay's recording clock), the ledger on the wall's.
  WatchedJob watched{job_.job_id, job_.owner,          o_.labels,   source_->ClockAt(start_),
                     o_.gpus,     o_.usd_per_gpu_hour, std::nullopt};
  watch_ = std::make_unique<JobWatch>(o_.policy, watched);
  for (const GpuSnapshot& s : *first) {
    watch_->OnReadings(s.t, s.gpus);
    gpus_seen_ = std::max(gpus_seen_, s.gpus.size());
  }
  return {};
}

Result<void> Run::CheckBudget() {
  if (!ledger_) return {};
  auto over = ReadOverBudgets(*ledger_, start_);
  if (!over) {  // an unreadable ledger does not keep a job from starting
    fmt::print(log_, "gpuledger run: budget check: {}\n", over.error().ToString());
    return {};
  }
  std::string team;  // a team=X label names the job's team
  for (const std::string& l : o_.labels) {
    if (l.starts_with("team=")) team = l.substr(5);
  }
  const auto first = FirstOverBudget(*over, BudgetKeysOf(job_.owner, team));
  if (!first) return {};
  const std::string why = fmt::format("{} is past its budget for {}: {}", first->first,
                                      MonthOf(start_).Label(), first->second);
  if (o_.policy.over_budget == "refuse") {
    return MakeError(ErrorCode::kInvalid,
                     "preflight: " + why + " (policy over_budget = \"refuse\")");
  }
  fmt::print(log_, "gpuledger run: warning: {} (over_budget = \"warn\": it runs)\n", why);
  budget_warning_ = why;
  return {};
}

double Run::GpuHours(TimeMs now) const {
  const size_t gpus = o_.gpus.empty() ? gpus_seen_ : o_.gpus.size();
  return static_cast<double>(now - start_) * gpus / kMsPerHour;
}

void Run::Heartbeat(TimeMs now) {
  if (!ledger_) return;
  job_.gpu_hours = GpuHours(now);
  job_.cost_usd = job_.gpu_hours * o_.usd_per_gpu_hour;
  if (auto r = ledger_->PutJob(job_); !r)
    fmt::print(log_, "gpuledger run: {}\n", r.error().ToString());
}

void Run::Record(const LedgerDecision& d) {
  if (!ledger_) return;
  if (auto r = ledger_->AddDecision(d); !r)
    fmt::print(log_, "gpuledger run: {}\n", r.error().ToString());
}

void Run::OnLine(int stream, std::string_view line) {
  std::FILE* to = stream == 1 ? stdout : stderr;
  std::fwrite(line.data(), 1, line.size(), to);
  std::fputc('\n', to);
  std::fflush(to);
  tail_.emplace_back(line);
  if (tail_.size() > kTailLines) tail_.pop_front();
  watch_->OnOutputLine(source_->ClockAt(WallNow()), line);
}

void Run::Sample(TimeMs now) {
  auto snaps = source_->Read(now);
  if (!snaps) {
    fmt::print(log_, "gpuledger run: GPU source: {}\n", snaps.error().ToString());
    return;
  }
  for (const GpuSnapshot& s : *snaps) {
    watch_->OnReadings(s.t, s.gpus);
    gpus_seen_ = std::max(gpus_seen_, s.gpus.size());
  }
}

void Run::Act(const LiveDecision& d, TimeMs now) {
  const std::string kind = DecisionKindId(d.kind);
  fmt::print(log_, "gpuledger run: {} ({}): {}{}\n", kind, KillRuleId(d.rule), d.explanation,
             o_.dry_run && d.kind == DecisionKind::kKill ? " [dry run: not killed]" : "");
  // A live kill's end is unknown: it saves the job's rate for every hour it would have run on.
  const size_t gpus = o_.gpus.empty() ? gpus_seen_ : o_.gpus.size();
  const double usd_per_hour =
      d.kind == DecisionKind::kKill && !o_.dry_run ? o_.usd_per_gpu_hour * gpus : 0;
  Record({job_.job_id, now, kind, std::string(KillRuleId(d.rule)), d.explanation, GpuHours(now), 0,
          0, d.kind == DecisionKind::kExempt ? o_.policy.exempt.granted_by : "", usd_per_hour});
  if (!o_.webhook_url.empty() && d.kind != DecisionKind::kExempt) {
    JsonWriter w(false);
    w.BeginObject();
    w.Key("text").String(fmt::format("gpuledger: {} job {} of {} ({}): {}", kind, job_.job_id,
                                     job_.owner, KillRuleId(d.rule), d.explanation));
    w.Key("job_id").String(job_.job_id).Key("owner").String(job_.owner);
    w.Key("kind").String(kind).Key("rule").String(KillRuleId(d.rule));
    w.Key("due_at").String(FormatIsoUtc(d.due_at)).Key("host").String(job_.host);
    w.EndObject();
    PostWebhook(o_.webhook_url, w.str(), log_);
  }
  if (d.kind != DecisionKind::kKill || o_.dry_run) return;
  outcome_.killed_by = d.rule;
  job_.killed_by = KillRuleId(d.rule);
  const ChildExit exit = proc_->Terminate(
      o_.kill_grace_ms, [this](int s, std::string_view l) { OnLine(s, l); },
      &outcome_.signals_sent);
  fmt::print(
      log_, "gpuledger run: sent {} to process group {}\n",
      outcome_.signals_sent.size() > 1 ? "SIGTERM, then SIGKILL after the grace period" : "SIGTERM",
      proc_->pid());
  outcome_.child = exit;
}

// `run` itself was told to stop: the job gets the same signal (^C reaches it as it would
// without the wrapper), SIGKILL after the grace, and the row is closed as interrupted.
void Run::Interrupt(int sig, TimeMs now) {
  outcome_.interrupted_by = sig;
  fmt::print(log_, "gpuledger run: {} received: forwarding it to process group {}\n",
             strsignal(sig), proc_->pid());
  const ChildExit exit = proc_->Terminate(
      o_.kill_grace_ms, [this](int s, std::string_view l) { OnLine(s, l); }, &outcome_.signals_sent,
      sig);
  const std::string what =
      fmt::format("gpuledger run received signal {} ({})", sig, strsignal(sig));
  Record({job_.job_id, now, "interrupt", "signal", what, GpuHours(now), 0, 0, "", 0});
  outcome_.child = exit;
}

// The job is over: the configured stop command gives the machine back.
void Run::ReleaseMachine(TimeMs now) {
  std::string what;
  if (o_.dry_run) {
    what = "would run: " + o_.release_command + " [dry run]";
  } else {
    auto r = RunShellCommand(o_.release_command);
    what = r ? "ran: " + o_.release_command : r.error().ToString();
  }
  fmt::print(log_, "gpuledger run: release (machine): {}\n", what);
  Record({job_.job_id, now, "release", "machine", what, GpuHours(now), 0, 0, "", 0});
}

void Run::Finish(const ChildExit& exit) {
  const TimeMs end = WallNow();
  outcome_.child = exit;
  outcome_.leftovers_killed = proc_->KillLeftovers(o_.kill_grace_ms);
  // exit: the main process is gone, so its GPUs are released now.
  const std::string why =
      outcome_.leftovers_killed > 0
          ? fmt::format("main process exited; {} leftover process{} of its group killed",
                        outcome_.leftovers_killed, outcome_.leftovers_killed == 1 ? "" : "es")
          : "main process exited";
  fmt::print(log_, "gpuledger run: release (exit): {}\n", why);
  Record({job_.job_id, end, "release", "exit", why, GpuHours(end), 0, 0, "", 0});
  if (!o_.release_command.empty()) ReleaseMachine(end);
  outcome_.exit_status = outcome_.interrupted_by ? 128 + *outcome_.interrupted_by
                         : outcome_.killed_by    ? kExitAutokilled
                                                 : exit.ShellStatus();
  job_.end = end;
  job_.exit_code = outcome_.exit_status;  // what `run` returns, so the ledger and $? agree
  job_.status = outcome_.interrupted_by ? "interrupted"
                : outcome_.killed_by    ? "killed"
                                        : (exit.ShellStatus() == 0 ? "completed" : "failed");
  if (outcome_.interrupted_by) {
    job_.killed_by = fmt::format("signal:{}", sigabbrev_np(*outcome_.interrupted_by));
  }
  job_.gpu_hours = GpuHours(end);
  job_.cost_usd = job_.gpu_hours * o_.usd_per_gpu_hour;
  job_.output_tail = Join(std::vector<std::string>(tail_.begin(), tail_.end()), "\n");
  if (ledger_) {
    if (auto r = ledger_->PutJob(job_); !r)
      fmt::print(log_, "gpuledger run: {}\n", r.error().ToString());
  }
}

Result<RunOutcome> Run::Go() {
  outcome_.job_id = job_.job_id;
  if (auto r = Preflight(); !r) return std::unexpected(r.error());
  const StopSignals stop;  // from here on a stop signal ends the job, not just `run`
  // The job's processes carry its id, so a node guard knows them as this job's and leaves them
  // to `run` (DESIGN.md, "The node guard": Workload).
  setenv("GPULEDGER_JOB_ID", job_.job_id.c_str(), 1);
  setenv("GPULEDGER_OWNER", job_.owner.c_str(), 1);
  // The row goes in before the job starts, so a `run` SIGKILLed at any moment after the job
  // exists leaves a row that reads abandoned, never none.
  if (ledger_) (void)ledger_->PutJob(job_);
  auto proc = ProcessGroup::Start(o_.argv);
  if (!proc) {
    job_.end = WallNow(), job_.status = "failed", job_.output_tail = proc.error().ToString();
    if (ledger_) (void)ledger_->PutJob(job_);
    return std::unexpected(proc.error());
  }
  proc_ = std::move(*proc);
  if (!budget_warning_.empty()) {
    Record({job_.job_id, start_, "warn", "over_budget", budget_warning_, 0, 0, 0, "", 0});
  }
  fmt::print(log_, "gpuledger run: job {} started (pid {})\n", job_.job_id, proc_->pid());
  auto on_line = [this](int s, std::string_view l) { OnLine(s, l); };
  TimeMs next_sample = start_ + o_.sample_every_ms, next_heartbeat = start_ + kHeartbeatMs;
  while (true) {
    const TimeMs now = WallNow();
    if (now >= next_sample) {
      Sample(now);
      next_sample = now + o_.sample_every_ms;
    }
    if (now >= next_heartbeat) {
      Heartbeat(now);
      next_heartbeat = now + kHeartbeatMs;
    }
    if (const int sig = stop.Pending(); sig != 0) {
      Interrupt(sig, now);
      break;
    }
    for (const LiveDecision& d : watch_->Advance(source_->ClockAt(now))) Act(d, now);
    if (outcome_.child) break;  // killed by the policy
    const int wait = static_cast<int>(std::clamp<TimeMs>(next_sample - WallNow(), 1, 100));
    if (auto exit = proc_->Poll(wait, on_line)) {
      outcome_.child = exit;
      break;
    }
  }
  Finish(*outcome_.child);
  return outcome_;
}

}  // namespace

Result<RunOutcome> RunJob(const RunOptions& options, Ledger* ledger, std::FILE* log) {
  Run run(options, ledger, log);
  return run.Go();
}

}  // namespace gpuledger
