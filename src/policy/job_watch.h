// The autokill policy applied live to one running job: GPU readings, output lines and the
// clock go in; warnings and a kill come out. Pure: no processes, no I/O, no clock of its own —
// `gpuledger run` (and its tests) drive it. It uses the same SampleStream and IdleRules as
// the backtest, so a live run and a backtest of its history decide alike.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/gpu_reading.h"
#include "policy/idle_rules.h"
#include "policy/job_state.h"
#include "policy/kill_decision.h"
#include "policy/policy.h"

namespace gpuledger {

struct WatchedJob {
  std::string id, owner;
  std::vector<std::string> labels;  // "key=value"
  TimeMs start = 0;
  std::vector<int> gpus;        // empty: every GPU that reports
  double usd_per_gpu_hour = 0;  // for the budget; 0 when unknown
  // Resuming a watch (the guard after a restart): the job was already seen active, so the idle
  // rule (not setup) applies to its next idle stretch.
  std::optional<TimeMs> first_active;
};

enum class DecisionKind { kWarn, kKill, kExempt };

struct LiveDecision {
  DecisionKind kind = DecisionKind::kWarn;
  KillRule rule = KillRule::kIdle;
  TimeMs decided_at = 0;  // when the watch saw it
  TimeMs due_at = 0;      // when the rule fires (the kill) or fired
  std::string explanation;
};

class JobWatch {
 public:
  JobWatch(const Policy& policy, WatchedJob job);

  // Readings taken at "t" (non-decreasing). GPUs outside the job's list are ignored.
  void OnReadings(TimeMs t, const std::vector<GpuReading>& readings);

  // One line of the job's output, seen at "t"; a fatal pattern kills at once.
  void OnOutputLine(TimeMs t, std::string_view line);

  // Evaluates the rules up to "now" and returns the decisions that became due: at most one
  // warning per pending kill, and at most one kill (or, for an exempt job, one kExempt).
  std::vector<LiveDecision> Advance(TimeMs now);

  // Spares the job until "until" (a keep): idle time before it does not count, so an idle
  // stretch starts again then, and a hard limit (budget, max_runtime) reached before it waits
  // for it. Activity still counts.
  void SpareUntil(TimeMs until) { spare_until_ = std::max(spare_until_, until); }

  // GPU "index" could not be read at "t": its last sample stands no further than "t", so the
  // time until its next reading is unmonitored (missing data never kills).
  void OnUnread(TimeMs t, int index);

  // Stops watching GPU "index" (the job let go of it): its state no longer counts.
  void ForgetGpu(int index);

  // The start of the idle stretch the rules count now (the setup or idle rule's clock), as
  // evaluated by the last Advance; nullopt when not in one.
  std::optional<TimeMs> IdleSince() const;

  // The job's first active instant, once seen.
  std::optional<TimeMs> first_active() const { return idle_.first_active(); }

  bool killed() const { return done_; }

 private:
  struct Gpu {
    int index;
    SampleStream stream;
    GpuStateLog log;
    std::optional<TimeMs> unread_at;  // a failed reading since the last sample
  };
  Gpu* GpuFor(int index);
  std::optional<KillDue> NextDue(TimeMs now);
  std::string Explain(const KillDue& due) const;

  const Policy policy_;
  WatchedJob job_;
  bool exempt_;
  std::vector<Gpu> gpus_;
  IdleRules idle_;
  TimeMs evaluated_until_;
  std::optional<KillDue> fatal_;
  std::optional<TimeMs> warned_for_;  // due instant of the kill last warned about
  TimeMs spare_until_ = kTimeMin;
  bool done_ = false;
};

}  // namespace gpuledger
