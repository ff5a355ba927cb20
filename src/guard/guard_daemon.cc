#include "guard/guard_daemon.h"

#include <fmt/format.h>
#include <poll.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "core/json_writer.h"
#include "core/text_safety.h"
#include "gpu/gpu_source.h"
#include "gpu/smi_csv_recorder.h"
#include "guard/guard_metrics.h"
#include "guard/guard_state.h"
#include "guard/hpc_job_mapping.h"
#include "guard/keep_socket.h"
#include "guard/node_guard.h"
#include "guard/outbox.h"
#include "guard/pid_namespace.h"
#include "guard/process_table.h"
#include "guard/stop_signals.h"
#include "guard/workload_actions.h"
#include "guard/workload_names.h"
#include "ledger/ledger.h"

namespace gpuledger {
namespace {

constexpr DurationMs kLedgerRefreshMs = 60 * 1000;  // running workloads' rows brought up to date

// A saved workload as the record its ledger row is written from.
WorkloadRecord RecordOf(const SavedWorkload& s) {
  WorkloadRecord r;
  r.info.name = {WorkloadKindOfId(s.id), s.id};
  r.info.owner = s.owner, r.info.command = s.command, r.info.uid = s.uid;
  r.info.processes = s.processes;
  r.gpus = s.gpus;
  r.first_seen = s.first_seen, r.last_seen = s.last_seen;
  r.gpu_ms = s.gpu_ms, r.idle_gpu_ms = s.idle_gpu_ms;
  return r;
}

class Guard {
 public:
  Guard(const GuardOptions& o, std::FILE* log)
      : o_(o),
        log_(log),
        host_(o.host.empty() ? LedgerHostName() : o.host),
        procs_(o.proc_root),
        guard_(o.policy, o.usd_per_gpu_hour),
        outbox_(o.ledger, o.webhook_url, log),
        names_(o.proc_root, o.pod_logs_dir, log) {}

  Result<void> Setup();
  void Loop();

 private:
  void Sample(TimeMs now);
  void Observe(const GpuSnapshot& snap);
  void Handle(const GuardEvent& e, TimeMs now);
  void Act(const GuardEvent& e, TimeMs now, std::string* outcome);
  std::string AnswerKeep(const Result<KeepRequest>& request, const Peer& peer);
  std::string ListJson() const;
  std::string JobId(const WorkloadInfo& info, TimeMs first_seen) const;
  LedgerJob JobRow(const WorkloadRecord& w, const std::string& status) const;
  // Policy over_budget for a workload just seen: warns, or stops it (its team — a pod's
  // namespace — or owner has a 100 % budget alert this month; Outbox::OverBudget).
  void CheckBudget(const std::string& workload, TimeMs now);
  void CheckPendingBudgets(TimeMs now);
  std::set<std::string> budget_pending_;  // seen before the ledger's budgets were first read
  void RecordJobs(TimeMs now);
  void Post(const GuardEvent& e);
  void SaveState();
  // One line of the log: what users wrote (names, reasons, command lines) cannot break it.
  void Say(std::string_view what) {
    fmt::print(log_, "gpuledger guard: {}\n", EscapeForLog(TruncateUtf8(what, kMaxLogLine)));
  }
  static constexpr size_t kMaxLogLine = 4096;
  void SayOutcomes(const std::vector<ActionOutcome>& outcomes);

  const GuardOptions& o_;
  std::FILE* log_;
  std::string host_;
  ProcessTable procs_;
  NodeGuard guard_;
  Outbox outbox_;
  std::unique_ptr<GpuSource> source_;
  std::unique_ptr<WorkloadActions> actions_;
  std::unique_ptr<KeepSocket> socket_;
  std::unique_ptr<MetricsServer> metrics_;
  std::unique_ptr<SmiCsvRecorder> recorder_;
  std::string state_path_, state_written_;
  std::optional<GpuSnapshot> last_;
  GuardCounters counters_;
  std::map<std::string, std::string> killed_by_;  // workload → rule, for its closing row
  WorkloadNames names_;
  std::unique_ptr<HpcJobMapping> hpc_;
  std::string last_errors_;
  TimeMs next_ledger_refresh_ = 0;
};

Result<void> Guard::Setup() {
  const TimeMs now = WallNow();
  auto source = MakeGpuSource(o_.gpu_source, now);
  if (!source) return std::unexpected(source.error());
  source_ = std::move(*source);
  if (!source_->HasGpus()) {
    return MakeError(ErrorCode::kIo, "nothing to guard: " + source_->Describe(), "--gpu-source");
  }
  const std::string no_signals = OutsideHostPidNamespace(o_.proc_root);
  if (!no_signals.empty())
    Say("no process will be signalled: " + no_signals +
        " (Slurm, Jupyter and k8s_action stops still run; signal stops are warnings only)");
  actions_ = o_.dry_run
                 ? MakeDryRunActions(&procs_, o_.policy.k8s_action)
                 : MakeSignalActions(&procs_, o_.kill_grace_ms, o_.policy.k8s_action, no_signals);
  if (!o_.state_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o_.state_dir, ec);
    if (ec) return MakeError(ErrorCode::kIo, "cannot create: " + ec.message(), o_.state_dir);
    state_path_ = o_.state_dir + "/guard-state.json";
    size_t damaged = 0;
    auto replayed = outbox_.UseJournal(o_.state_dir + "/outbox.jsonl", &damaged);
    if (!replayed) return std::unexpected(replayed.error());
    if (*replayed > 0 || damaged > 0)
      Say(fmt::format("writing {} ledger write{} an earlier guard left in its outbox journal{}",
                      *replayed, *replayed == 1 ? "" : "s",
                      damaged ? fmt::format(" ({} damaged lines skipped)", damaged) : ""));
    auto saved = LoadGuardState(state_path_);
    if (!saved) {
      Say(saved.error().ToString() + " (starting without it)");
    } else {
      // What died while the guard was down is forgotten (its pids may be reused by now), and
      // its ledger row closed: it ended at most when the guard last saw it.
      std::erase_if(*saved, [&](const SavedWorkload& s) {
        const bool gone = std::none_of(s.processes.begin(), s.processes.end(),
                                       [&](const ProcessKey& k) { return procs_.Alive(k); });
        if (gone && s.first_seen != 0) outbox_.PutJob(JobRow(RecordOf(s), "ended"));
        return gone;
      });
    }
    if (saved && !saved->empty()) {
      Say(fmt::format("carrying over {} workload{} from before the restart (keeps, warnings)",
                      saved->size(), saved->size() == 1 ? "" : "s"));
      guard_.Resume(std::move(*saved));
    }
  }
  if (!o_.socket_path.empty()) {
    auto socket = KeepSocket::Listen(o_.socket_path);
    if (!socket) return std::unexpected(socket.error());
    socket_ = std::move(*socket);
  }
  if (!o_.metrics_listen.empty()) {
    auto metrics = MetricsServer::Start(o_.metrics_listen);
    if (!metrics) return std::unexpected(metrics.error());
    metrics_ = std::move(*metrics);
  }
  if (!o_.record_dir.empty()) recorder_ = std::make_unique<SmiCsvRecorder>(o_.record_dir, host_);
  if (!o_.hpc_job_mapping_dir.empty())
    hpc_ = std::make_unique<HpcJobMapping>(o_.hpc_job_mapping_dir, log_);
  const Policy& p = o_.policy;
  Say(fmt::format(
      "watching {} on {} every {}{}: idle below {} % — setup {}, idle {}, "
      "notebooks {}/{}, warning {} ahead, release after {}{}; policy {}",
      source_->Describe(), host_, FormatDuration(o_.sample_every_ms),
      o_.dry_run ? " [dry run: nothing is signalled or released]" : "", p.threshold_pct,
      FormatDuration(p.setup_grace_ms), FormatDuration(p.idle_after_ms),
      FormatDuration(p.interactive_setup_grace_ms), FormatDuration(p.interactive_idle_after_ms),
      FormatDuration(p.warn_before_ms), FormatDuration(p.release_after_ms),
      metrics_ ? fmt::format("; /metrics on port {}", metrics_->port()) : "",
      o_.policy_file.empty() ? "(default)" : o_.policy_file));
  return {};
}

void Guard::Observe(const GpuSnapshot& snap) {
  std::vector<AttributedProcess> attributed;
  std::map<std::string, WorkloadInfo> workloads;
  attributed.reserve(snap.processes.size());
  for (const GpuProcessReading& p : snap.processes) {
    const ProcessTable::Entry* e = procs_.Lookup(p.pid);
    if (e == nullptr) {  // gone between the listing and now: it holds nothing any more
      attributed.push_back({&p, ""});
      continue;
    }
    attributed.push_back({&p, e->workload.name.id});
    auto [it, fresh] = workloads.try_emplace(e->workload.name.id, e->workload);
    if (fresh)
      names_.Fill(e->facts, &it->second);
    else
      it->second.processes.insert({e->facts.pid, e->facts.start_ticks});
  }
  procs_.Sweep();
  std::set<std::string> alive;  // what ended is forgotten: a later one of its id is named afresh
  for (const auto& [id, w] : workloads) alive.insert(id);
  for (const auto& [id, w] : guard_.workloads()) alive.insert(id);
  names_.KeepOnly(alive);
  guard_.Observe(snap, attributed, workloads);
}

void Guard::Sample(TimeMs now) {
  auto snaps = source_->Read(now);
  ++counters_.samples;
  if (!snaps) {
    ++counters_.reading_errors;
    if (snaps.error().message != last_errors_) Say("GPU source: " + snaps.error().ToString());
    last_errors_ = snaps.error().message;
    return;
  }
  for (GpuSnapshot& snap : *snaps) {
    counters_.reading_errors += snap.errors.size();
    std::string errors;
    for (const std::string& e : snap.errors) errors += (errors.empty() ? "" : "; ") + e;
    if (errors != last_errors_) {  // said once when it starts and once when it changes
      Say(errors.empty() ? "GPU readings are whole again"
                         : errors + " — unmonitored for now (missing data never kills)");
      last_errors_ = errors;
    }
    if (recorder_) {
      if (auto r = recorder_->Write(snap); !r) Say("--record: " + r.error().ToString());
    }
    Observe(snap);
    if (hpc_) hpc_->Write(snap, guard_.workloads());
    last_ = std::move(snap);
  }
}

// A Slurm job is recorded under its Slurm id, so `audit --jobs-format sacct` joins it; any other
// workload under host:id:first-seen (an id like pg:4242 recurs).
std::string Guard::JobId(const WorkloadInfo& info, TimeMs first_seen) const {
  const std::string slurm_id = SlurmJobIdOf(info.name.id);
  return slurm_id.empty() ? fmt::format("{}:{}:{}", host_, info.name.id, first_seen) : slurm_id;
}

LedgerJob Guard::JobRow(const WorkloadRecord& w, const std::string& status) const {
  LedgerJob j;
  j.job_id = JobId(w.info, w.first_seen);
  j.owner = w.info.owner;
  j.labels =
      "kind=" + std::string(WorkloadKindId(w.info.name.kind)) + ";workload=" + w.info.name.id;
  j.command = w.info.command;
  j.host = host_;
  for (int g : w.gpus) j.gpus += (j.gpus.empty() ? "" : ";") + std::to_string(g);
  j.start = w.first_seen;
  if (status != "running") j.end = w.gone_at != 0 ? w.gone_at : w.last_seen;
  j.status = status;
  if (auto it = killed_by_.find(w.info.name.id); it != killed_by_.end()) j.killed_by = it->second;
  j.gpu_hours = w.gpu_ms / kMsPerHour;
  j.idle_gpu_hours = w.idle_gpu_ms / kMsPerHour;
  j.cost_usd = j.gpu_hours * o_.usd_per_gpu_hour;
  j.kind = WorkloadKindId(w.info.name.kind);
  return j;
}

void Guard::RecordJobs(TimeMs now) {
  if (now < next_ledger_refresh_) return;
  next_ledger_refresh_ = now + kLedgerRefreshMs;
  for (const auto& [id, w] : guard_.workloads()) outbox_.PutJob(JobRow(w.Record(), "running"));
}

void Guard::Post(const GuardEvent& e) {
  JsonWriter w(false);
  w.BeginObject();
  w.Key("text").String(fmt::format("gpuledger guard on {}: {}", host_, e.message));
  w.Key("host").String(host_).Key("workload").String(e.workload);
  w.Key("kind").String(GuardEventKindId(e.kind)).Key("rule").String(KillRuleId(e.rule));
  w.Key("due_at").String(FormatIsoUtc(e.due_at));
  if (auto it = guard_.workloads().find(e.workload); it != guard_.workloads().end())
    w.Key("owner").String(it->second.info.owner);
  w.EndObject();
  outbox_.Post(w.str());
}

void Guard::Act(const GuardEvent& e, TimeMs now, std::string* outcome) {
  if (e.kind == GuardEventKind::kRelease) {
    ++counters_.releases;
    if (o_.policy.release_command.empty()) return;
    const ActionOutcome r = actions_->Release(o_.policy.release_command);
    if (!r.ok) ++counters_.action_failures;
    *outcome = r.what;
    return;
  }
  const TrackedWorkload& w = guard_.workloads().at(e.workload);
  StopTarget target;
  target.workload = e.workload;
  target.pgid = w.info.pgid;
  target.gpu_processes = w.info.processes;
  target.kind = w.info.name.kind;
  target.jupyter = w.info.jupyter;
  target.pod_namespace = w.info.pod_namespace;
  target.pod_name = w.info.pod_name;
  if (w.info.name.kind == WorkloadKind::kPod) target.pod_uid = w.info.name.id.substr(4);
  target.node = host_;
  const ActionOutcome r = actions_->Stop(target, now);
  if (r.ok) {
    ++counters_.kills;
    killed_by_[e.workload] = KillRuleId(e.rule);
  } else {
    ++counters_.action_failures;
  }
  *outcome = r.what;
}

void Guard::CheckBudget(const std::string& workload, TimeMs now) {
  if (o_.ledger.empty()) return;
  if (!outbox_.BudgetsRead()) {  // judged once the ledger has been read (CheckPendingBudgets)
    budget_pending_.insert(workload);
    return;
  }
  auto it = guard_.workloads().find(workload);
  if (it == guard_.workloads().end() || it->second.info.name.kind == WorkloadKind::kRun) return;
  const WorkloadInfo& info = it->second.info;
  // A pod's namespace is its team.
  const auto first =
      FirstOverBudget(outbox_.OverBudget(), BudgetKeysOf(info.owner, info.pod_namespace));
  if (!first) return;
  const bool refuse = o_.policy.over_budget == "refuse";
  GuardEvent e;
  e.kind = refuse ? GuardEventKind::kKill : GuardEventKind::kWarnOnly;
  e.workload = workload;
  e.rule = KillRule::kOverBudget;
  e.at = e.due_at = now;
  e.message = fmt::format(
      "{} of {}: {} is past its monthly budget ({}){}", workload, info.owner, first->first,
      first->second,
      refuse ? "; over_budget = \"refuse\": stopped" : "; over_budget = \"warn\": it runs");
  Handle(e, now);
}

void Guard::CheckPendingBudgets(TimeMs now) {
  if (budget_pending_.empty() || !outbox_.BudgetsRead()) return;
  const std::set<std::string> pending = std::move(budget_pending_);
  budget_pending_.clear();
  for (const std::string& w : pending) CheckBudget(w, now);
}

void Guard::SayOutcomes(const std::vector<ActionOutcome>& outcomes) {
  for (const ActionOutcome& a : outcomes) {
    Say(a.what);
    if (a.ok) continue;
    ++counters_.action_failures;
    killed_by_.erase(a.workload);  // not stopped after all: its row ends as it ends
  }
}

void Guard::Handle(const GuardEvent& e, TimeMs now) {
  std::string outcome;
  switch (e.kind) {
    case GuardEventKind::kStart:
    case GuardEventKind::kEnd: {
      Say(e.message);
      if (e.kind == GuardEventKind::kStart) CheckBudget(e.workload, now);
      if (e.ended) {
        outbox_.PutJob(JobRow(*e.ended, killed_by_.count(e.workload) ? "killed" : "ended"));
        killed_by_.erase(e.workload);
      } else if (auto it = guard_.workloads().find(e.workload); it != guard_.workloads().end()) {
        outbox_.PutJob(JobRow(it->second.Record(), "running"));
      }
      return;
    }
    case GuardEventKind::kWarn:
      ++counters_.warnings;
      break;
    case GuardEventKind::kWarnOnly:
      ++counters_.warn_only;
      break;
    case GuardEventKind::kExempt:
      ++counters_.exemptions;
      break;
    case GuardEventKind::kKill:
    case GuardEventKind::kRelease:
      Act(e, now, &outcome);
      break;
  }
  Say(fmt::format("{}: {}{}", GuardEventKindId(e.kind), e.message,
                  outcome.empty() ? "" : " — " + outcome));
  LedgerDecision d;
  d.job_id = e.workload;
  d.at = now;
  d.kind = GuardEventKindId(e.kind);
  d.rule = e.kind == GuardEventKind::kRelease ? "machine" : KillRuleId(e.rule);
  d.explanation = outcome.empty() ? e.message : e.message + " — " + outcome;
  if (auto it = guard_.workloads().find(e.workload); it != guard_.workloads().end()) {
    const TrackedWorkload& w = it->second;
    d.job_id = JobId(w.info, w.first_seen);
    d.gpu_hours_used = w.gpu_ms / kMsPerHour;
    if (e.kind == GuardEventKind::kKill) d.usd_per_hour_saved = o_.usd_per_gpu_hour * w.gpus.size();
    if (e.kind == GuardEventKind::kExempt) d.granted_by = o_.policy.exempt.granted_by;
  } else if (e.workload == "machine") {
    d.job_id = host_ + ":machine";
  }
  outbox_.AddDecision(d);
  if (e.kind != GuardEventKind::kExempt) Post(e);
}

std::string Guard::ListJson() const {
  const TimeMs now = WallNow();
  JsonWriter w(false);
  w.BeginObject().Key("ok").Bool(true).Key("host").String(host_).Key("workloads").BeginArray();
  for (const auto& [id, t] : guard_.workloads()) {
    w.BeginObject().Key("workload").String(id).Key("kind").String(WorkloadKindId(t.info.name.kind));
    w.Key("owner").String(t.info.owner).Key("uid").Int(t.info.uid);
    w.Key("command").String(t.info.command).Key("gpus").BeginArray();
    for (int g : t.gpus) w.Int(g);
    w.EndArray().Key("state").String(guard_.StateOf(t, now));
    w.Key("idle_seconds").Number(t.IdleSince() ? (now - *t.IdleSince()) / 1000.0 : 0, 1);
    w.Key("keep");
    if (t.keep) {
      w.BeginObject()
          .Key("until")
          .String(FormatIsoUtc(t.keep->until))
          .Key("who")
          .String(t.keep->who);
      w.Key("reason").String(t.keep->reason).EndObject();
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.str();
}

std::string Guard::AnswerKeep(const Result<KeepRequest>& request, const Peer& peer) {
  auto fail = [](const std::string& message) {
    JsonWriter w(false);
    w.BeginObject().Key("ok").Bool(false).Key("message").String(message).EndObject();
    return w.str();
  };
  if (!request) return fail(request.error().message);
  if (request->op == "list") return ListJson();
  const TimeMs now = WallNow();
  const std::string who = procs_.UserName(peer.uid);
  std::string note;
  auto grant = guard_.Keep(request->workload, peer.uid, who, request->duration_ms, request->reason,
                           now, &note);
  if (!grant) {
    Say(fmt::format("keep of {} asked by {} refused: {}", request->workload, who,
                    grant.error().message));
    return fail(grant.error().message);
  }
  ++counters_.keeps;
  const std::string message =
      fmt::format("{} kept until {} for {} ({}){}", grant->workload, FormatIsoUtc(grant->until),
                  who, grant->reason, note.empty() ? "" : "; " + note);
  Say(message);
  const TrackedWorkload& w = guard_.workloads().at(grant->workload);
  outbox_.AddDecision({JobId(w.info, w.first_seen), now, "keep", "keep", message,
                       w.gpu_ms / kMsPerHour, 0, 0, who, 0});
  SaveState();
  JsonWriter out(false);
  out.BeginObject().Key("ok").Bool(true).Key("message").String(message);
  out.Key("workload").String(grant->workload).Key("until").String(FormatIsoUtc(grant->until));
  out.EndObject();
  return out.str();
}

void Guard::SaveState() {
  if (state_path_.empty()) return;
  if (auto r = SaveGuardState(state_path_, guard_.Saved(), &state_written_); !r)
    Say(r.error().ToString());
}

void Guard::Loop() {
  const StopSignals stop;
  TimeMs next_sample = WallNow();
  while (stop.Pending() == 0) {
    TimeMs now = WallNow();
    if (now >= next_sample) {
      Sample(now);
      next_sample = std::max(next_sample + o_.sample_every_ms, now + 1);
      for (const GuardEvent& e : guard_.Advance(source_->ClockAt(now))) Handle(e, now);
      SayOutcomes(actions_->Tick(now));
      CheckPendingBudgets(now);
      RecordJobs(now);
      const Outbox::Counts out = outbox_.counts();
      counters_.ledger_queued = out.queued, counters_.ledger_failures = out.ledger_failures;
      counters_.ledger_dropped = out.dropped, counters_.ledger_quarantined = out.quarantined;
      counters_.webhook_failures = out.webhook_failures;
      counters_.webhook_dropped = out.webhook_dropped;
      if (metrics_)
        metrics_->Publish(RenderGuardMetrics(guard_, last_ ? &*last_ : nullptr, counters_, now));
      SaveState();
    } else {
      SayOutcomes(actions_->Tick(now));
    }
    const int wait = static_cast<int>(std::clamp<TimeMs>(next_sample - WallNow(), 0, 200));
    if (socket_) {
      socket_->Poll(wait, [this](const Result<KeepRequest>& r, const Peer& peer) {
        return AnswerKeep(r, peer);
      });
    } else {
      poll(nullptr, 0, wait);
    }
  }
  SaveState();
  for (const auto& [id, w] : guard_.workloads()) outbox_.PutJob(JobRow(w.Record(), "running"));
  Say(fmt::format("signal {} received: stopping; {} workload{} left running, nothing killed",
                  stop.Pending(), guard_.workloads().size(),
                  guard_.workloads().size() == 1 ? "" : "s"));
}

}  // namespace

Result<void> RunGuard(const GuardOptions& options, std::FILE* log) {
  Guard guard(options, log);
  if (auto r = guard.Setup(); !r) return r;
  guard.Loop();
  return {};
}

}  // namespace gpuledger
