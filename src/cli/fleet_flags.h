// The input flags `audit` and `backtest` share: telemetry, inventory or a flat price, jobs,
// the window and the zone of zone-less times.
#pragma once

#include <memory>
#include <optional>

#include "cli/common.h"
#include "sources/load_fleet.h"

namespace gpuledger::cli {

struct FleetFlags {
  FleetPaths paths;
  double price_per_gpu_hour = -1;  // < 0: not given
  std::string from, to;
  std::string tz = "UTC";
  int threads = 0;
  std::string prometheus_url;
  std::string prometheus_chunk;  // default: 1h raw, 24 buckets with --rollup
  std::string rollup;            // --rollup DURATION: server-side roll-ups
  std::string step = "30s";      // --step: the roll-up subqueries' resolution
  std::string prometheus_user;
  std::string scrape_time;  // --scrape-time: the instant of DCGM scrapes without timestamps
  std::string max_response = "256MiB";  // --max-response-bytes: cap of one Prometheus answer
};

// Declares --telemetry, --machine, --inventory, --price-per-gpu-hour, --jobs, --owners, --from,
// --to, --tz and --threads on "cmd". "window_and_owners" false leaves out --from, --to and
// --owners, for a command that has its own (`digest`: --since/--to, and people in --owners).
void AddFleetOptions(CLI::App* cmd, FleetFlags* flags, bool window_and_owners = true);

// What the flags name, read: the zone (the telemetry sources read with it, so it lives here),
// the window, and the fleet.
struct FleetInput {
  TimeZone zone = TimeZone::Utc();
  TimeMs from = kTimeMin, to = kTimeMax;
  std::optional<double> price_per_gpu_hour;
  LoadedFleet loaded;
};

// Checks the flags (usage errors name their flag) and loads the fleet (kIo / kParse errors
// name the file).
// "threshold_pct" is needed up front only by --rollup, whose server-side queries count the
// samples below it.
// "max_gap_ms" ends the runs of pods named by telemetry labels (FleetPaths::max_gap_ms).
Result<std::unique_ptr<FleetInput>> LoadFleetFlags(const FleetFlags& flags,
                                                   double threshold_pct = 5,
                                                   DurationMs max_gap_ms = 5 * kMsPerMinute);

// The audit's own knobs, shared by `audit` and `report`.
struct AuditFlags {
  double threshold_pct = 5;
  std::string max_gap = "5m";
  std::string held_memory = "1GiB";
  std::string credits;  // --credits FILE, or "focus": the bill's credit and purchase rows
  std::string burn_window = "14d";
  std::string budgets;  // --budgets budgets.toml
};

// Declares --threshold, --max-gap, --held-memory, --credits, --burn-window and --budgets on
// "cmd".
void AddAuditKnobs(CLI::App* cmd, AuditFlags* flags);

// Reads --credits and --budgets and attaches what they say to "audit" (audited with
// AuditOptions::segments, which MakeAuditOptions sets when either is given). "fallback" are the
// batches to use without --credits (the demo's), or null.
Result<void> AttachCreditsAndBudgets(const AuditFlags& flags, const Fleet& fleet,
                                     const TimeZone& zone, const std::vector<CreditBatch>* fallback,
                                     AuditResult* audit);

// The audit options the knobs say (usage errors name their flag); check them before loading.
Result<AuditOptions> MakeAuditOptions(const AuditFlags& flags, int threads);

// --group-by experiment|run|pr|repo (audit, report): the spend of each group of jobs.
void AddGroupByOption(CLI::App* cmd, std::string* group_by);
// Asks of the audit what --group-by needs (the jobs' segments and breakdown); false without it.
bool WantGroups(const std::string& group_by, AuditOptions* options);
// Attaches the groups to "audit" (audited with the options WantGroups set); none without it.
void AttachGroups(const std::string& group_by, AuditResult* audit);

// Sets the window and the flat price the loaded input names.
void UseInputWindow(const FleetInput& in, AuditOptions* options);

}  // namespace gpuledger::cli
