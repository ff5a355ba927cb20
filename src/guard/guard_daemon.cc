#include "guard/guard_daemon.h"

#include <fmt/format.h>
#include <poll.h>

#include "guard/guard_daemon_internal.h"

namespace gpuledger {
namespace guard_daemon {

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
    auto socket = KeepSocket::Listen(o_.socket_path, o_.socket_group);
    if (!socket) return std::unexpected(socket.error());
    socket_ = std::move(*socket);
  }
  if (!o_.metrics_listen.empty()) {
    auto metrics = MetricsServer::Start(o_.metrics_listen);
    if (!metrics) return std::unexpected(metrics.error());
    metrics_ = std::move(*metrics);
  }
  if (!o_.keep_url.empty()) {
    if (o_.ledger.empty())
      return MakeError(ErrorCode::kUsage, "needs a ledger shared with gpuledger serve",
                       "--keep-url");
    outbox_.WatchKeepRequests(host_);
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

// What an event is, as a notification's title says it.
std::string_view EventTitle(GuardEventKind kind) {
  switch (kind) {
    case GuardEventKind::kWarn:
      return "an idle GPU workload will be stopped";
    case GuardEventKind::kKill:
      return "an idle GPU workload was stopped";
    case GuardEventKind::kWarnOnly:
      return "an idle GPU workload (warned about only)";
    case GuardEventKind::kRelease:
      return "an idle machine was released";
    default:
      return GuardEventKindId(kind);
  }
}

void Guard::Post(const GuardEvent& e, TimeMs now) {
  if (notifier_.empty()) return;
  const auto it = guard_.workloads().find(e.workload);
  const TrackedWorkload* w = it == guard_.workloads().end() ? nullptr : &it->second;
  Notice n;
  n.title = fmt::format("gpuledger guard on {}: {}{}", host_, EventTitle(e.kind),
                        o_.dry_run && e.kind != GuardEventKind::kWarn ? " (dry run)" : "");
  n.text = e.message;
  if (w) n.Reach(FindPerson(o_.people, w->info.owner));
  n.facts.emplace_back("Node", host_);
  n.facts.emplace_back(e.kind == GuardEventKind::kRelease ? "Machine" : "Workload", e.workload);
  if (w) {
    n.facts.emplace_back("Owner", w->info.owner);
    std::string gpus;
    for (int g : w->gpus) gpus += (gpus.empty() ? "" : ", ") + std::to_string(g);
    if (!gpus.empty()) n.facts.emplace_back(w->gpus.size() == 1 ? "GPU" : "GPUs", gpus);
    if (auto idle = w->IdleSince()) n.facts.emplace_back("Idle for", FormatDuration(now - *idle));
    if (w->memory_known)
      n.facts.emplace_back("GPU memory held", fmt::format("{:.0f} MiB", w->memory_mib));
  }
  if (e.kind == GuardEventKind::kWarn) {
    n.facts.emplace_back("Stopped at", FormatIsoUtc(e.due_at));
    n.action = fmt::format("gpuledger keep {} 2h --reason \"what it is doing\"", e.workload);
    if (w) n.keep_offers = KeepOffersFor(e.workload, *w, e.due_at);
  }
  n.facts.emplace_back("Rule", e.kind == GuardEventKind::kRelease ? "machine" : KillRuleId(e.rule));
  // The generic webhook's body, as it has always been.
  JsonWriter j(false);
  j.BeginObject();
  j.Key("text").String(fmt::format("gpuledger guard on {}: {}", host_, e.message));
  j.Key("host").String(host_).Key("workload").String(e.workload);
  j.Key("kind").String(GuardEventKindId(e.kind)).Key("rule").String(KillRuleId(e.rule));
  j.Key("due_at").String(FormatIsoUtc(e.due_at));
  if (w) j.Key("owner").String(w->info.owner);
  j.EndObject();
  n.webhook_json = j.str();
  notifier_.Send(n);
}

void Guard::Act(const GuardEvent& e, TimeMs now, std::string* outcome) {
  if (e.kind == GuardEventKind::kRelease) {
    ++counters_.releases;
    if (last_) {
      counters_.freed_gpus += last_->gpus.size();
      for (const GpuReading& g : last_->gpus)
        counters_.freed_memory_bytes += g.memory_used_mib.value_or(0) * 1048576;
    }
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
    counters_.freed_gpus += w.gpus.size();
    if (w.memory_known) counters_.freed_memory_bytes += w.memory_mib * 1048576;
    killed_by_[e.workload] = KillRuleId(e.rule);
  } else {
    ++counters_.action_failures;
  }
  *outcome = r.what;
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
  if (e.kind != GuardEventKind::kExempt) Post(e, now);
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
      ApplyRemoteKeeps();  // before deciding: a keep asked in time spares the workload
      for (const GuardEvent& e : guard_.Advance(source_->ClockAt(now))) Handle(e, now);
      SayOutcomes(actions_->Tick(now));
      CheckPendingBudgets(now);
      RecordJobs(now);
      const Outbox::Counts out = outbox_.counts();
      counters_.ledger_queued = out.queued, counters_.ledger_failures = out.ledger_failures;
      counters_.ledger_dropped = out.dropped, counters_.ledger_quarantined = out.quarantined;
      counters_.notify = notifier_.counts();
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

}  // namespace guard_daemon

Result<void> RunGuard(const GuardOptions& options, std::FILE* log) {
  guard_daemon::Guard guard(options, log);
  if (auto r = guard.Setup(); !r) return r;
  guard.Loop();
  return {};
}

}  // namespace gpuledger
