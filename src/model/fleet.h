// The fleet as the audit sees it: machines with their billing, and the jobs that ran on them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/time.h"
#include "model/credits.h"

namespace gpuledger {

// One stretch during which a machine was paid for, [start, end).
// The team of a Kubernetes node's own GPU time (no pod held it) when nothing names the node's
// owner: the cluster's idle, apart from any pod's team (docs/sources/kubernetes.md).
inline constexpr const char* kUnallocatedTeam = "(unallocated)";

struct BillingPeriod {
  TimeMs start = kTimeMin;
  TimeMs end = kTimeMax;  // kTimeMax: still billed (open-ended)
  double hourly_usd = 0;  // the whole machine's price per hour
  std::string owner;      // may be empty
  std::string team;
  std::string project;
  std::string gpu_model;
  // The bill line's Tags (FOCUS), keys lower-cased: what --owners rules on tag:KEY read.
  std::vector<std::pair<std::string, std::string>> tags;
};

struct Machine {
  std::string name;
  int gpu_count = 0;                   // 0 until known when billed from telemetry
  std::vector<BillingPeriod> billing;  // sorted by start, non-overlapping
  // True in --price-per-gpu-hour mode: billed from its first to its last sample (+ max_gap),
  // at price_per_gpu_hour per GPU seen; billing then holds one open period of that price.
  bool billed_from_telemetry = false;
  double price_per_gpu_hour = 0;
};

// A job on one machine. "failed" covers failed, cancelled, timed out, killed, out of memory,
// node failure and preempted (DESIGN.md, categories).
struct Job {
  std::string id;
  std::string machine;
  std::vector<int> gpus;  // empty: all of the machine's GPUs
  std::string owner;
  std::string team, project;  // empty: the machine's
  TimeMs start = 0;
  TimeMs end = kTimeMax;  // kTimeMax: still running
  std::string status;     // as recorded
  bool failed = false;
  std::string exit_code;
  std::string repo;
  std::string commit;
  std::string pr;
  std::string experiment, run;  // its tracker's (model/run_identity.h); empty: none
  // Interactive work (a notebook): judged by the policy's [interactive] grace periods, and a
  // kill of it is false only when its GPUs became active again before its end.
  bool interactive = false;
  // A Kubernetes pod ("namespace/pod", from telemetry labels). Pods time-sliced on one GPU
  // split each of its GPU-seconds equally (DESIGN.md, Shared GPUs).
  std::string pod;
  uint64_t input_order = 0;  // rank in the jobs file, to break ties deterministically

  bool CoversGpu(int gpu) const;
};

struct Fleet {
  std::vector<Machine> machines;
  std::unordered_map<std::string, size_t> machine_index;  // name → index in machines
  std::vector<Job> jobs;
  // Charges of the bill that are not GPU time (storage, tax, credits, CPU-only instances), by
  // "ServiceCategory/ChargeCategory": reported beside the audit, never attributed to GPUs.
  std::map<std::string, double> other_charges_usd;
  // The same charges with their periods (positive ones; credits and purchases excluded), and the
  // bill's credit and purchase rows as batches (`--credits focus`).
  std::vector<TimedCharge> timed_charges;
  std::vector<CreditBatch> bill_credits;

  // Index of a machine by name, or -1.
  int64_t Find(const std::string& name) const;
  Machine& AddMachine(std::string name);
};

// Maps a recorded job status to failed / not failed. Returns false when the status is not one
// gpuledger knows (the caller rejects the row rather than guess).
// Known failed: failed, cancelled/canceled (also Slurm's "CANCELLED by 123"), timeout/timed out,
// killed, out of memory/oom, node failure/node_fail, preempted, boot_fail, deadline, requeued,
// and the ledger's interrupted (`run` stopped by a signal) and abandoned (`run` died).
// Known not failed: completed/complete/succeeded/success/ok, running, pending, suspended, ended
// (the guard's) and unknown (pods from telemetry labels).
bool ClassifyJobStatus(std::string_view status, bool* failed);

// True for a status that records success: completed, complete, succeeded, success, ok, done,
// finished (matched like ClassifyJobStatus).
bool IsCompletedStatus(std::string_view status);

}  // namespace gpuledger
