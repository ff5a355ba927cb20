// The audit's jobs from the workloads GPU telemetry names by its labels (DESIGN.md,
// "Kubernetes"): Kubernetes pods (namespace, pod, container) and Slurm jobs (hpc_job).
#pragma once

#include <vector>

#include "core/problems.h"
#include "model/fleet.h"
#include "model/owner_rules.h"
#include "model/telemetry_source.h"

namespace gpuledger {

// Marks the pods that are GPU infrastructure, not workloads (OwnerRules::IgnoresWorkload: the
// dcgm-exporter scraped without honor_labels, the device plugin, the operator's validators,
// [[ignore]] rules) and drops their runs, so their GPUs' time is outside jobs. Notes
// not_workloads (the pods set aside) and exported_labels (pods named by exported_* labels).
void SetAsideInfrastructure(const OwnerRules& rules, std::vector<TelemetrySource>* telemetry,
                            SourceStats* stats);

// With no jobs file: each run of a workload on a machine of "fleet" becomes a job — id
// "namespace/pod" (a Slurm job: its hpc_job id; a later run of the same pod: "…#2", "#3"), on
// the GPUs it was seen on, from its first sample to the end of what its last one stands for,
// status "unknown". Its owner, team and project come from the first --owners rule matching its
// labels (namespace, pod, container, machine, label:NAME); without one the namespace is its team.
// Counted in stats as the note jobs_from_labels.
void JobsFromWorkloads(const std::vector<TelemetrySource>& telemetry, const OwnerRules* rules,
                       Fleet* fleet, SourceStats* stats);

// With a jobs file: a job on the machine whose id is a pod's name (or "namespace/pod") becomes
// that pod — its empty owner, team and project from the rules, its team else the namespace; a
// job whose id is an hpc_job id and which names no GPUs gets those its series were on. Pods no
// job matches are counted as the note pods_without_job.
void MatchWorkloadsToJobs(const std::vector<TelemetrySource>& telemetry, const OwnerRules* rules,
                          Fleet* fleet, SourceStats* stats);

}  // namespace gpuledger
