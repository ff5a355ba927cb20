#include "audit/audit_runner.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>

#include "audit/billing.h"
#include "audit/fleet_ingest.h"
#include "audit/machine_audit.h"

namespace gpuledger {
namespace {

// Samples were accepted but none stands for billed time: the telemetry and the billing cover
// different times (a wrong --tz, --from/--to, or another month's bill). Say so.
void NoteNoOverlap(TimeMs data_from, TimeMs data_end, AuditResult* r) {
  const Spend total = r->totals.Total();
  const Spend& unmonitored = r->totals.categories[static_cast<int>(Category::kUnmonitored)];
  const Spend& never = r->totals.categories[static_cast<int>(Category::kNeverUsed)];
  if (data_from >= data_end || total.gpu_ms == 0 || r->totals.below_threshold.gpu_ms > 0 ||
      unmonitored.gpu_ms + never.gpu_ms < total.gpu_ms || r->window_from >= r->window_to) {
    return;
  }
  for (const MachineResult& m : r->machines) {
    if (m.never_used) return;  // some sample did stand for billed time
  }
  r->telemetry.notes.Add("no_overlap", "(telemetry)", 0, 0,
                         "the telemetry (" + FormatIsoUtc(data_from) + " to " +
                             FormatIsoUtc(data_end) + ") and the billed time (" +
                             FormatIsoUtc(r->window_from) + " to " + FormatIsoUtc(r->window_to) +
                             ") do not overlap: every billed hour is unmonitored");
}

// Billed time the input cannot vouch for: a --to after now counts time that has not happened,
// and an open-ended billing period that runs on for more than a week past the last sample is
// likely a row that should have ended (a machine returned, a cluster torn down). Say so.
void NoteBilledPastTheData(const Fleet& fleet, const AuditOptions& options, TimeMs data_end,
                           AuditResult* r) {
  const TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  if (options.window_to != kTimeMax && options.window_to > now) {
    r->inventory.notes.Add("window_in_future", "--to", 0, 0,
                           "--to " + FormatIsoUtc(options.window_to) + " is after now (" +
                               FormatIsoUtc(now) +
                               "): open-ended billing is counted up to it, time that has not "
                               "happened yet");
  }
  if (data_end == kTimeMin) return;
  uint64_t past = 0;
  std::string first;
  for (const MachineResult& m : r->machines) {
    const int64_t index = fleet.Find(m.name);
    if (index < 0 || m.billed_to <= data_end + 7 * kMsPerDay) continue;
    const std::vector<BillingPeriod>& billing = fleet.machines[static_cast<size_t>(index)].billing;
    const bool open = std::any_of(billing.begin(), billing.end(),
                                  [](const BillingPeriod& p) { return p.end == kTimeMax; });
    if (!open) continue;
    if (past++ == 0) {
      first = m.name + " billed to " + FormatIsoUtc(m.billed_to) + ", " +
              std::to_string((m.billed_to - data_end) / kMsPerDay) +
              " days past the last sample of any machine (" + FormatIsoUtc(data_end) + ")";
    }
  }
  if (past > 0) {
    r->inventory.notes.Add("billed_past_telemetry", "(inventory)", 0, 1,
                           "open-ended billing periods run more than a week past the telemetry "
                           "(an inventory row that should have ended? --to bounds it): " +
                               first,
                           past);
  }
}

void RollUp(const MachineResult& m, AuditResult* out) {
  out->totals.Add(m.totals);
  for (const auto& [owner, spend] : m.owners) out->owners[owner].Add(spend);
  for (const auto& [owner, spend] : m.owners_held_idle) out->owners_held_idle[owner].Add(spend);
  for (const auto& [team, spend] : m.teams) out->teams[team].Add(spend);
  for (const auto& [project, spend] : m.projects) out->projects[project].Add(spend);
  for (const auto& [team, spend] : m.teams_held_idle) out->teams_held_idle[team].Add(spend);
  out->memory_known = out->memory_known || m.memory_known;
  if (m.billed_from < m.billed_to) {
    out->window_from = std::min(out->window_from, m.billed_from);
    out->window_to = std::max(out->window_to, m.billed_to);
  }
}

}  // namespace

Result<AuditResult> RunAudit(const AuditInputs& in, const AuditOptions& options,
                             AuditProgress* progress) {
  auto ingest = IngestFleet(
      in, options.max_gap_ms, options.threads,
      [&](const Machine& m, const std::vector<const Job*>& jobs) -> std::unique_ptr<MachineSink> {
        return std::make_unique<MachineAudit>(m, jobs, options);
      },
      progress);
  if (!ingest) return std::unexpected(ingest.error());
  AuditResult result;
  result.options = options;
  result.inventory = in.inventory_stats;
  result.jobs = in.jobs_stats;
  result.telemetry = std::move(ingest->telemetry);
  std::vector<const MachineAudit*> audits;
  for (const MachineIngest& m : ingest->machines) {
    if (m.sink) audits.push_back(static_cast<const MachineAudit*>(m.sink.get()));
  }
  TimeMs data_end = kTimeMin, data_from = kTimeMax;
  for (const MachineAudit* a : audits) {
    data_end = std::max(data_end, a->DataEnd());
    data_from = std::min(data_from, a->FirstSample());
  }
  const TimeMs open_end = OpenEnd(*in.fleet, options.window_to, data_end);
  for (const MachineAudit* a : audits) {
    MachineResult m = a->Result(open_end);
    if (m.billed_from >= m.billed_to) continue;  // not billed inside the window
    result.machines.push_back(std::move(m));
  }
  // Totals are summed in name order, so they do not depend on the order of the input files.
  std::sort(result.machines.begin(), result.machines.end(),
            [](const MachineResult& a, const MachineResult& b) { return a.name < b.name; });
  for (const MachineResult& m : result.machines) RollUp(m, &result);
  NoteNoOverlap(data_from, data_end, &result);
  NoteBilledPastTheData(*in.fleet, options, data_end, &result);
  result.other_charges_usd = in.fleet->other_charges_usd;
  return result;
}

}  // namespace gpuledger
