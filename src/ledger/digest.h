// The weekly digest of what the guard and `run` did, from the ledger: per owner and for the
// fleet, GPU spend this window and the one before, what autokill did (warnings, kills, releases,
// keeps), the GPU-hours its kills freed, and the kills that may have been wrong. A pure function
// of ledger rows; rendered by report/digest_text.h, sent by `gpuledger digest`.
#pragma once

#include <string>
#include <vector>

#include "core/time.h"
#include "ledger/ledger.h"

namespace gpuledger {

struct DigestKeep {
  std::string job_id, granted_by, explanation;  // who asked, and what the guard recorded
  TimeMs at = 0;
};

struct DigestFreed {
  std::string job_id;
  TimeMs killed_at = 0, until = 0;  // until: the next use of one of its GPUs, or the window's end
  int gpus = 0;
  double gpu_hours = 0, usd = 0;
};

struct OwnerDigest {
  std::string owner;  // "" for the fleet
  // GPU-hours, idle GPU-hours and dollars of the jobs that ran in the window (a job's totals
  // spread evenly over its run, so the part inside the window counts), and in the window before.
  double gpu_hours = 0, idle_gpu_hours = 0, usd = 0;
  double previous_gpu_hours = 0, previous_usd = 0;
  int jobs = 0, failed = 0, killed = 0;  // jobs that ran in the window; of them failed, killed
  int warnings = 0, kills = 0, releases = 0, warn_only = 0;
  std::vector<DigestKeep> keeps;
  std::vector<DigestFreed> freed;  // one per kill that stopped a job
  double freed_gpu_hours = 0, freed_usd = 0;
  // Killed jobs whose owner started the same command again within an hour of the kill.
  std::vector<std::string> possible_false_kills;
};

struct Digest {
  TimeMs from = 0, to = 0;  // [from, to); the window before is [2 * from - to, from)
  OwnerDigest fleet;
  std::vector<OwnerDigest> owners;  // by dollars this window, highest first
};

// The digest of [from, to). A kill frees its job's GPUs from the kill until one of them is next
// used by any job on the same host (the ledger holds every workload the guard saw), or "to";
// priced at the job's own rate (cost / GPU-hours), else "usd_per_gpu_hour". Only kills whose
// job ended killed count as freeing (a dry-run kill frees nothing). A release is counted, not
// priced (the ledger does not say how many GPUs the machine has).
Digest BuildDigest(const std::vector<LedgerJob>& jobs, const std::vector<LedgerDecision>& decisions,
                   TimeMs from, TimeMs to, double usd_per_gpu_hour);

}  // namespace gpuledger
