#include "report/backtest_report.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/json_writer.h"
#include "report/audit_text.h"
#include "report/json_input.h"

namespace gpuledger {
namespace {

std::string Gpus(const std::vector<int>& gpus) {
  std::string out;
  for (int g : gpus) out += (out.empty() ? "" : ";") + std::to_string(g);
  return out;
}

void WritePolicy(JsonWriter& w, const Policy& p) {
  auto seconds = [](DurationMs d) { return static_cast<double>(d) / 1000; };
  w.BeginObject();
  w.Key("threshold_pct").Number(p.threshold_pct);
  w.Key("setup_grace_s").Number(seconds(p.setup_grace_ms), 3);
  w.Key("idle_after_s").Number(seconds(p.idle_after_ms), 3);
  w.Key("warn_before_s").Number(seconds(p.warn_before_ms), 3);
  w.Key("release_after_s").Number(seconds(p.release_after_ms), 3);
  w.Key("max_gap_s").Number(seconds(p.max_gap_ms), 3);
  w.Key("max_runtime_s");
  if (p.max_runtime_ms)
    w.Number(seconds(*p.max_runtime_ms), 3);
  else
    w.Null();
  w.Key("budget_usd");
  if (p.budget_usd)
    w.Number(*p.budget_usd);
  else
    w.Null();
  w.EndObject();
}

void WriteDecision(JsonWriter& w, const KillDecision& d, const std::string* granted_by) {
  w.BeginObject();
  w.Key("job_id").String(d.job_id);
  w.Key("machine").String(d.machine);
  w.Key("owner").String(d.owner);
  w.Key("rule").String(KillRuleId(d.rule));
  w.Key("at");
  WriteTime(w, d.at);
  w.Key("warn_at");
  WriteTime(w, d.warn_at);
  w.Key("job_end");
  WriteTime(w, d.job_end);
  w.Key("status").String(d.status);
  w.Key("false_kill").Bool(d.false_kill);
  w.Key("interactive").Bool(d.interactive);
  w.Key("came_back_at");
  if (d.came_back_at)
    WriteTime(w, *d.came_back_at);
  else
    w.Null();
  w.Key("gpus").BeginArray();
  for (int g : d.gpus) w.Int(g);
  w.EndArray();
  w.Key("gpu_hours_saved").Number(d.saved.GpuHours(), kGpuHourDecimals);
  w.Key("usd_saved").Number(d.saved.usd, kUsdDecimals);
  w.Key("explanation").String(d.explanation);
  if (granted_by) w.Key("granted_by").String(*granted_by);
  w.EndObject();
}

void WriteTotals(JsonWriter& w, const BacktestResult& r) {
  const Spend saved = r.Saved(), released = r.ReleasesSaved();
  w.Key("jobs").Int(r.jobs);
  w.Key("kills").Int(static_cast<int64_t>(r.decisions.size()));
  w.Key("false_kills").Int(r.FalseKills());
  w.Key("gpu_hours_saved").Number(saved.GpuHours(), kGpuHourDecimals);
  w.Key("usd_saved").Number(saved.usd, kUsdDecimals);
  w.Key("machine_releases").Int(static_cast<int64_t>(r.releases.size()));
  w.Key("machine_gpu_hours_saved").Number(released.GpuHours(), kGpuHourDecimals);
  w.Key("machine_usd_saved").Number(released.usd, kUsdDecimals);
}

}  // namespace

std::string BacktestToJson(const BacktestResult& r) {
  JsonWriter w;
  w.BeginObject();
  w.Key("schema").String("gpuledger.backtest/1");
  w.Key("policy");
  WritePolicy(w, r.options.policy);
  WriteTotals(w, r);
  w.Key("decisions").BeginArray();
  for (const KillDecision& d : r.decisions) WriteDecision(w, d, nullptr);
  w.EndArray();
  w.Key("exempted").BeginArray();
  for (const KillDecision& d : r.exempted) WriteDecision(w, d, &r.options.policy.exempt.granted_by);
  w.EndArray();
  w.Key("releases").BeginArray();
  for (const MachineRelease& m : r.releases) {
    w.BeginObject();
    w.Key("machine").String(m.machine);
    w.Key("idle_from");
    WriteTime(w, m.idle_from);
    w.Key("at");
    WriteTime(w, m.at);
    w.Key("idle_to");
    WriteTime(w, m.idle_to);
    w.Key("gpu_hours_saved").Number(m.saved.GpuHours(), kGpuHourDecimals);
    w.Key("usd_saved").Number(m.saved.usd, kUsdDecimals);
    w.EndObject();
  }
  w.EndArray();
  WriteInputSection(w, r.telemetry, r.inventory, r.jobs_input);
  w.EndObject();
  return w.str() + "\n";
}

std::string BacktestToCsv(const BacktestResult& r) {
  std::string out =
      "job_id,machine,owner,status,rule,at,warn_at,false_kill,gpus,gpu_hours_saved,usd_saved\n";
  for (const KillDecision& d : r.decisions) {
    fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{},{},{},{:.6f},{:.4f}\n", d.job_id,
                   d.machine, d.owner, d.status, KillRuleId(d.rule), FormatIsoUtc(d.at),
                   FormatIsoUtc(d.warn_at), d.false_kill ? "true" : "false", Gpus(d.gpus),
                   d.saved.GpuHours(), d.saved.usd);
  }
  return out;
}

std::string BacktestToTable(const BacktestResult& r, int top) {
  std::string out;
  const Spend saved = r.Saved(), released = r.ReleasesSaved();
  const Policy& p = r.options.policy;
  fmt::format_to(std::back_inserter(out),
                 "gpuledger backtest: {} jobs; setup_grace {}, idle_after {}, release_after {}, "
                 "threshold {} %\n\n",
                 r.jobs, FormatDuration(p.setup_grace_ms), FormatDuration(p.idle_after_ms),
                 FormatDuration(p.release_after_ms), p.threshold_pct);
  fmt::format_to(std::back_inserter(out),
                 "  kills              {:>8}  {:>12.1f} GPU-hours  {:>16} saved\n",
                 r.decisions.size(), saved.GpuHours(), FormatUsd(saved.usd));
  fmt::format_to(std::back_inserter(out),
                 "  false kills        {:>8}  (jobs recorded as completed; interactive work whose "
                 "GPUs became busy again)\n",
                 r.FalseKills());
  fmt::format_to(std::back_inserter(out),
                 "  machine releases   {:>8}  {:>12.1f} GPU-hours  {:>16} saved\n",
                 r.releases.size(), released.GpuHours(), FormatUsd(released.usd));
  if (!r.exempted.empty()) {
    fmt::format_to(std::back_inserter(out),
                   "  exempted           {:>8}  (would have been killed)\n", r.exempted.size());
  }
  auto list = [&](std::string_view title, std::vector<const KillDecision*> ds) {
    if (ds.empty()) return;
    fmt::format_to(std::back_inserter(out), "\n{} ({} in all)\n", title, ds.size());
    fmt::format_to(std::back_inserter(out), "  {:<12} {:<20} {:<10} {:<11} {:<24} {:>12}  {}\n",
                   "JOB", "MACHINE", "STATUS", "RULE", "KILLED AT", "SAVED", "WHY");
    for (size_t i = 0; i < std::min<size_t>(top, ds.size()); ++i) {
      const KillDecision& d = *ds[i];
      std::string why = d.explanation;
      if (d.came_back_at) why += "; busy again at " + FormatIsoUtc(*d.came_back_at);
      fmt::format_to(std::back_inserter(out), "  {:<12} {:<20} {:<10} {:<11} {:<24} {:>12}  {}\n",
                     d.job_id, d.machine, d.interactive ? d.status + "*" : d.status,
                     KillRuleId(d.rule), FormatIsoUtc(d.at), FormatUsd(d.saved.usd), why);
    }
  };
  std::vector<const KillDecision*> false_kills, largest;
  for (const KillDecision& d : r.decisions) (d.false_kill ? false_kills : largest).push_back(&d);
  std::stable_sort(largest.begin(), largest.end(),
                   [](auto* a, auto* b) { return a->saved.usd > b->saved.usd; });
  list("False kills: completed jobs, and interactive work that became busy again", false_kills);
  list("Kills, largest savings first", largest);
  if (!r.releases.empty()) {
    std::vector<const MachineRelease*> rs;
    for (const MachineRelease& m : r.releases) rs.push_back(&m);
    std::stable_sort(rs.begin(), rs.end(),
                     [](auto* a, auto* b) { return a->saved.usd > b->saved.usd; });
    fmt::format_to(std::back_inserter(out),
                   "\nMachine releases, largest savings first ({} in all)\n", rs.size());
    fmt::format_to(std::back_inserter(out), "  {:<20} {:<24} {:<24} {:<24} {:>12}\n", "MACHINE",
                   "IDLE FROM", "RELEASED AT", "IDLE UNTIL", "SAVED");
    for (size_t i = 0; i < std::min<size_t>(top, rs.size()); ++i) {
      const MachineRelease& m = *rs[i];
      fmt::format_to(std::back_inserter(out), "  {:<20} {:<24} {:<24} {:<24} {:>12}\n", m.machine,
                     FormatIsoUtc(m.idle_from), FormatIsoUtc(m.at), FormatIsoUtc(m.idle_to),
                     FormatUsd(m.saved.usd));
    }
  }
  if (std::any_of(r.decisions.begin(), r.decisions.end(),
                  [](const KillDecision& d) { return d.interactive; }))
    out += "\n  * interactive work, judged by [interactive]\n";
  return out;
}

std::string SweepToTable(const std::string& key, const std::vector<SweepRow>& rows) {
  std::string out =
      fmt::format("{:<14} {:>7} {:>12} {:>12} {:>16} {:>9} {:>16}\n", key, "kills", "false kills",
                  "GPU-h saved", "USD saved", "releases", "release USD");
  for (const SweepRow& row : rows) {
    const BacktestResult& r = row.result;
    fmt::format_to(std::back_inserter(out), "{:<14} {:>7} {:>12} {:>12.1f} {:>16} {:>9} {:>16}\n",
                   row.value, r.decisions.size(), r.FalseKills(), r.Saved().GpuHours(),
                   FormatUsd(r.Saved().usd), r.releases.size(), FormatUsd(r.ReleasesSaved().usd));
  }
  return out;
}

std::string SweepToJson(const std::string& key, const std::vector<SweepRow>& rows) {
  JsonWriter w;
  w.BeginObject();
  w.Key("schema").String("gpuledger.backtest-sweep/1");
  w.Key("key").String(key);
  w.Key("rows").BeginArray();
  for (const SweepRow& row : rows) {
    w.BeginObject();
    w.Key("value").String(row.value);
    WriteTotals(w, row.result);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.str() + "\n";
}

std::string SweepToCsv(const std::string& key, const std::vector<SweepRow>& rows) {
  std::string out =
      key + ",kills,false_kills,gpu_hours_saved,usd_saved,machine_releases,machine_usd_saved\n";
  for (const SweepRow& row : rows) {
    const BacktestResult& r = row.result;
    fmt::format_to(std::back_inserter(out), "{},{},{},{:.6f},{:.4f},{},{:.4f}\n", row.value,
                   r.decisions.size(), r.FalseKills(), r.Saved().GpuHours(), r.Saved().usd,
                   r.releases.size(), r.ReleasesSaved().usd);
  }
  return out;
}

}  // namespace gpuledger
