#include "report/audit_json.h"

#include "core/json_writer.h"
#include "report/credits_text.h"
#include "report/group_text.h"
#include "report/json_input.h"

namespace gpuledger {
namespace {

void WriteCategories(JsonWriter& w, const Totals& t, bool hours) {
  w.BeginObject();
  for (Category c : kAllCategories) {
    const Spend& s = t.categories[static_cast<int>(c)];
    w.Key(CategoryId(c));
    if (hours)
      w.Number(s.GpuHours(), kGpuHourDecimals);
    else
      w.Number(s.usd, kUsdDecimals);
  }
  w.EndObject();
}

void WriteSpendMap(JsonWriter& w, const SpendByKey& map) {
  w.BeginObject();
  for (const auto& [key, spend] : map) w.Key(key).Number(spend.usd, kUsdDecimals);
  w.EndObject();
}

// Held idle dollars, or null ("unknown") when no sample carried a memory reading.
void WriteHeldIdle(JsonWriter& w, bool known, const Spend& held) {
  if (known)
    w.Number(held.usd, kUsdDecimals);
  else
    w.Null();
}

void WriteMachine(JsonWriter& w, const MachineResult& m) {
  const Spend total = m.totals.Total();
  w.BeginObject();
  w.Key("name").String(m.name);
  w.Key("gpu_count").Int(m.gpu_count);
  w.Key("gpu_model").String(m.gpu_model);
  w.Key("owner").String(m.owner);
  w.Key("team").String(m.team);
  w.Key("project").String(m.project);
  w.Key("never_used").Bool(m.never_used);
  w.Key("has_jobs").Bool(m.has_jobs);
  w.Key("samples").Int(static_cast<int64_t>(m.samples));
  w.Key("billed_from");
  WriteTime(w, m.billed_from);
  w.Key("billed_to");
  WriteTime(w, m.billed_to);
  w.Key("gpu_hours").Number(total.GpuHours(), kGpuHourDecimals);
  w.Key("cost_usd").Number(total.usd, kUsdDecimals);
  w.Key("cost_below_threshold_usd").Number(m.totals.below_threshold.usd, kUsdDecimals);
  w.Key("waste_usd").Number(m.totals.Waste().usd, kUsdDecimals);
  w.Key("held_idle_usd");
  WriteHeldIdle(w, m.memory_known, m.totals.held_idle);
  w.Key("categories");
  WriteCategories(w, m.totals, false);
  w.EndObject();
}

}  // namespace

std::string AuditToJson(const AuditResult& r) {
  const Spend total = r.totals.Total();
  JsonWriter w;
  w.BeginObject();
  w.Key("schema").String("gpuledger.audit/1");
  w.Key("window").BeginObject();
  w.Key("from");
  WriteTime(w, r.window_from);
  w.Key("to");
  WriteTime(w, r.window_to);
  w.EndObject();
  w.Key("options").BeginObject();
  w.Key("threshold_pct").Number(r.options.threshold_pct);
  w.Key("max_gap_s").Number(static_cast<double>(r.options.max_gap_ms) / 1000, 3);
  w.Key("pricing").String(r.options.price_per_gpu_hour ? "per_gpu_hour" : "inventory");
  w.Key("price_per_gpu_hour");
  if (r.options.price_per_gpu_hour)
    w.Number(*r.options.price_per_gpu_hour);
  else
    w.Null();
  w.EndObject();

  w.Key("machines_total").Int(static_cast<int64_t>(r.machines.size()));
  w.Key("machines_never_used").Int(r.MachinesNeverUsed());
  w.Key("never_used").BeginArray();
  for (const MachineResult& m : r.machines) {
    if (m.never_used) w.String(m.name);
  }
  w.EndArray();
  w.Key("cost_total_usd").Number(total.usd, kUsdDecimals);
  w.Key("cost_below_threshold_usd").Number(r.totals.below_threshold.usd, kUsdDecimals);
  w.Key("share_below_threshold")
      .Number(total.usd > 0 ? r.totals.below_threshold.usd / total.usd : 0);
  w.Key("gpu_hours_total").Number(total.GpuHours(), kGpuHourDecimals);
  w.Key("gpu_hours_below_threshold").Number(r.totals.below_threshold.GpuHours(), kGpuHourDecimals);
  w.Key("categories");
  WriteCategories(w, r.totals, false);
  w.Key("category_gpu_hours");
  WriteCategories(w, r.totals, true);
  w.Key("practices").BeginObject();
  for (Category c : kAllCategories) w.Key(CategoryId(c)).String(CategoryPractice(c));
  w.EndObject();
  w.Key("owners");
  WriteSpendMap(w, r.owners);
  w.Key("teams");
  WriteSpendMap(w, r.teams);
  w.Key("projects");
  WriteSpendMap(w, r.projects);
  w.Key("lenses").BeginObject();
  w.Key("unattributed_usd").Number(r.totals.unattributed.usd, kUsdDecimals);
  w.Key("unowned_usd").Number(r.totals.unowned.usd, kUsdDecimals);
  w.Key("in_jobs_usd").Number(r.totals.in_jobs.usd, kUsdDecimals);
  w.Key("jobs_without_commit_usd").Number(r.totals.no_commit.usd, kUsdDecimals);
  w.Key("waste_usd").Number(r.totals.Waste().usd, kUsdDecimals);
  w.Key("held_idle_usd");
  WriteHeldIdle(w, r.memory_known, r.totals.held_idle);
  w.Key("held_idle_by_category");
  if (r.memory_known) {
    w.BeginObject();
    for (Category c : kAllCategories) {
      w.Key(CategoryId(c))
          .Number(r.totals.held_idle_by_category[static_cast<int>(c)].usd, kUsdDecimals);
    }
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("held_memory_mib").Number(r.options.held_memory_mib);
  w.EndObject();
  w.Key("owners_held_idle");
  if (r.memory_known)
    WriteSpendMap(w, r.owners_held_idle);
  else
    w.Null();
  w.Key("teams_held_idle");
  if (r.memory_known)
    WriteSpendMap(w, r.teams_held_idle);
  else
    w.Null();
  WriteCreditsJson(w, r);
  WriteGroupsJson(w, r);
  w.Key("other_charges_usd").BeginObject();
  for (const auto& [category, usd] : r.other_charges_usd) w.Key(category).Number(usd, kUsdDecimals);
  w.EndObject();
  w.Key("machines").BeginArray();
  for (const MachineResult& m : r.machines) WriteMachine(w, m);
  w.EndArray();
  WriteInputSection(w, r.telemetry, r.inventory, r.jobs);
  w.EndObject();
  return w.str() + "\n";
}

}  // namespace gpuledger
