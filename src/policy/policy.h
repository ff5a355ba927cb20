// The autokill policy (DESIGN.md, "Autokill policy"): thresholds, grace periods, limits and
// exemptions. Every key of the TOML file is optional; no file at all is the default policy.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/time.h"

namespace gpuledger {

struct PolicyExemptions {
  std::vector<std::string> owners;
  std::vector<std::string> jobs;
  std::vector<std::string> labels;  // "key=value"
  std::string granted_by;           // who granted them, recorded with each exemption
};

// [pr_guardrail]: when `gpuledger pr-check` fails a pull request's commit status
// (gpuledger/gpu-cost). Each limit unset: not checked.
struct PrGuardrail {
  std::optional<double> max_usd_without_review;     // GPU dollars before any human review
  std::optional<double> require_review_over_usd;    // above this, a substantive review is required
  std::optional<double> max_open_days_firing_jobs;  // days open while it still fires GPU jobs
};

struct Policy {
  double threshold_pct = 5;                         // below it a GPU is idle
  DurationMs setup_grace_ms = 20 * kMsPerMinute;    // idle before the first active instant
  DurationMs idle_after_ms = 30 * kMsPerMinute;     // idle after it
  DurationMs warn_before_ms = 10 * kMsPerMinute;    // warning ahead of every kill
  DurationMs release_after_ms = 15 * kMsPerMinute;  // idle machine with no running job
  DurationMs max_gap_ms = 5 * kMsPerMinute;         // how long one sample stands
  std::optional<DurationMs> max_runtime_ms;         // per job, from its start
  std::optional<double> budget_usd;                 // per job
  std::vector<std::string> fatal_patterns;          // output lines that kill at once
  PolicyExemptions exempt;
  // The node guard's keys.
  DurationMs max_keep_ms = 8 * kMsPerHour;  // the longest `gpuledger keep` granted at once
  std::string release_command;              // run by /bin/sh -c to release an idle machine
  // How a pod is stopped: a command template, {namespace}, {pod}, {uid} and {node} filled in
  // per word (no shell). Empty: pods are warned about, never stopped.
  std::string k8s_action;
  // New work of a team or owner past 100 % of its monthly budget (a 100 % alert of
  // `gpuledger budgets check` in the ledger this month): "warn" says so and lets it run;
  // "refuse" — `run` does not start it, the guard stops it.
  std::string over_budget = "warn";
  // [interactive]: Jupyter kernels' own grace periods (people think between cells).
  DurationMs interactive_setup_grace_ms = 2 * kMsPerHour;
  DurationMs interactive_idle_after_ms = 2 * kMsPerHour;
  PrGuardrail pr_guardrail;
};

// The policy an interactive workload (a Jupyter kernel) is judged by: [interactive]'s
// setup_grace and idle_after in place of the top-level ones.
Policy InteractivePolicy(const Policy& policy);

// Parses a policy from TOML text. "source" names it in errors ("policy.toml:7:3: …"). Unknown
// keys, wrong types and malformed durations are errors.
Result<Policy> ParsePolicy(std::string_view toml, const std::string& source);

// Reads and parses a policy file; an empty path gives the default policy.
Result<Policy> LoadPolicy(const std::string& path);

// Sets one scalar key, as in the file ("idle_after", "20m"); for `backtest --sweep`.
// Keys: threshold, setup_grace, idle_after, warn_before, release_after, max_gap, max_runtime,
// budget_usd. Usage error naming the key or value otherwise.
Result<void> SetPolicyKey(Policy* policy, std::string_view key, std::string_view value);

// The effective policy as TOML, every key written out (defaults filled in).
std::string PolicyToToml(const Policy& policy);

// True when a job with this id, owner and labels ("k=v") may never be killed.
bool IsExempt(const Policy& policy, std::string_view job_id, std::string_view owner,
              const std::vector<std::string>& labels);

}  // namespace gpuledger
