// Acting on the node guard's decisions: the one place the guard sends signals or runs the
// release command, with a dry-run twin that says what it would do and touches nothing.
//
// A process group gets SIGTERM, then SIGKILL after the grace period for what outlived it —
// never pid 1, never the guard's own group, and never a login or interactive shell's group
// (then only the GPU processes and their descendants). Every signal goes to a process checked
// to be the same (pid and start time) as the one judged, so a reused pid is never signalled.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/time.h"
#include "guard/node_guard.h"
#include "guard/process_table.h"

namespace gpuledger {

struct StopTarget {
  std::string workload;
  int64_t pgid = 0;
  std::set<ProcessKey> gpu_processes;  // the processes the GPUs listed for it
};

struct ActionOutcome {
  bool ok = true;
  std::string what;  // "sent SIGTERM to process group 4242 (3 processes)"
};

class WorkloadActions {
 public:
  virtual ~WorkloadActions() = default;
  // Starts stopping a workload: SIGTERM now, SIGKILL by a later Tick after the grace period.
  virtual ActionOutcome Stop(const StopTarget& target, TimeMs now) = 0;
  // Runs the release command (/bin/sh -c).
  virtual ActionOutcome Release(const std::string& command) = 0;
  // Escalations that became due by "now" (SIGKILL to what outlived SIGTERM's grace).
  virtual std::vector<ActionOutcome> Tick(TimeMs now) = 0;
  // Stops that are still waiting for their processes to go.
  virtual size_t stopping() const = 0;
};

std::unique_ptr<WorkloadActions> MakeSignalActions(ProcessTable* procs, DurationMs kill_grace_ms);
std::unique_ptr<WorkloadActions> MakeDryRunActions(ProcessTable* procs);

// The processes a stop would signal, and how: the whole group, or (a shell's group) only the
// GPU processes with their descendants. Empty with *refusal set when nothing may be signalled.
struct StopPlan {
  bool whole_group = false;
  std::vector<ProcessKey> processes;
  std::string refusal;
};
StopPlan PlanStop(const StopTarget& target, ProcessTable* procs);

}  // namespace gpuledger
