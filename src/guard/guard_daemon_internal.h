// The node guard's daemon, inside: one Guard object owns the loop (guard_daemon.cc), the ledger
// rows it writes (guard_ledger_rows.cc), the keep socket's protocol (guard_keep_protocol.cc) and
// the over_budget checks (guard_budget_checks.cc). Internal to src/guard: RunGuard
// (guard_daemon.h) is the interface.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "core/json_writer.h"
#include "core/text_safety.h"
#include "gpu/gpu_source.h"
#include "gpu/smi_csv_recorder.h"
#include "guard/guard_daemon.h"
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
#include "notify/notifier.h"

namespace gpuledger::guard_daemon {

constexpr DurationMs kLedgerRefreshMs = 60 * 1000;  // running workloads' rows brought up to date

// A saved workload as the record its ledger row is written from.
WorkloadRecord RecordOf(const SavedWorkload& s);

class Guard {
 public:
  Guard(const GuardOptions& o, std::FILE* log)
      : o_(o),
        log_(log),
        host_(o.host.empty() ? LedgerHostName() : o.host),
        procs_(o.proc_root),
        guard_(o.policy, o.usd_per_gpu_hour),
        outbox_(o.ledger, log),
        notifier_(o.notify, log, "gpuledger guard"),
        names_(o.proc_root, o.pod_logs_dir, log) {}

  Result<void> Setup();
  void Loop();

 private:
  void Sample(TimeMs now);
  void Observe(const GpuSnapshot& snap);
  void Handle(const GuardEvent& e, TimeMs now);
  void Act(const GuardEvent& e, TimeMs now, std::string* outcome);
  std::string AnswerKeep(const Result<KeepRequest>& request, const Peer& peer);
  // Keeps "workload" for "who" (acting as "uid": the owner's, or 0 for root) under the socket's
  // rules, recording the decision; what was granted and said, or why not. "via" is added to the
  // log line.
  struct Granted {
    KeepGrant grant;
    std::string message;
  };
  Result<Granted> GrantKeep(const std::string& workload, uint32_t uid, const std::string& who,
                            DurationMs duration, const std::string& reason, std::string_view via);
  // Applies the keep requests the ledger holds for this host (asked through `gpuledger serve`)
  // and queues each one's answer; the ledger is read on the Outbox's thread, never here.
  void ApplyRemoteKeeps();
  static constexpr DurationMs kRemoteKeepMaxAgeMs = 10 * 60 * 1000;
  // The keep offers of a warning about "w" due at "due_at": Slack buttons and signed links.
  std::vector<KeepOffer> KeepOffersFor(const std::string& workload, const TrackedWorkload& w,
                                       TimeMs due_at) const;
  std::string ListJson() const;
  std::string JobId(const WorkloadInfo& info, TimeMs first_seen) const;
  LedgerJob JobRow(const WorkloadRecord& w, const std::string& status) const;
  // Policy over_budget for a workload just seen: warns, or stops it (its team — a pod's
  // namespace — or owner has a 100 % budget alert this month; Outbox::OverBudget).
  void CheckBudget(const std::string& workload, TimeMs now);
  void CheckPendingBudgets(TimeMs now);
  std::set<std::string> budget_pending_;  // seen before the ledger's budgets were first read
  void RecordJobs(TimeMs now);
  // Sends the event to every --notify sink (never waits for them).
  void Post(const GuardEvent& e, TimeMs now);
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
  Notifier notifier_;
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

}  // namespace gpuledger::guard_daemon
