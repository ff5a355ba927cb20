#include "report/report_json.h"

#include "audit/group_spend.h"
#include "core/json_writer.h"
#include "report/credits_text.h"
#include "report/json_input.h"

namespace gpuledger {
namespace {

constexpr int kShare = 6;  // decimals of shares (0-1)

void WriteTotals(JsonWriter& w, const Report& r) {
  const AuditResult& a = *r.audit;
  const Spend total = a.totals.Total();
  w.Key("totals").BeginObject();
  w.Key("cost_total_usd").Number(total.usd, kUsdDecimals);
  w.Key("gpu_hours_total").Number(total.GpuHours(), kGpuHourDecimals);
  w.Key("cost_below_threshold_usd").Number(a.totals.below_threshold.usd, kUsdDecimals);
  w.Key("share_below_threshold")
      .Number(total.usd > 0 ? a.totals.below_threshold.usd / total.usd : 0);
  w.Key("machines_total").Int(static_cast<int64_t>(a.machines.size()));
  w.Key("machines_never_used").Int(a.MachinesNeverUsed());
  w.Key("unattributed_usd").Number(a.totals.unattributed.usd, kUsdDecimals);
  w.Key("unowned_usd").Number(a.totals.unowned.usd, kUsdDecimals);
  w.Key("jobs_without_commit_usd").Number(a.totals.no_commit.usd, kUsdDecimals);
  w.Key("waste_usd").Number(a.totals.Waste().usd, kUsdDecimals);
  w.Key("held_idle_usd");
  if (a.memory_known)
    w.Number(a.totals.held_idle.usd, kUsdDecimals);
  else
    w.Null();
  w.Key("other_charges_usd").BeginObject();
  for (const auto& [category, usd] : a.other_charges_usd) w.Key(category).Number(usd, kUsdDecimals);
  w.EndObject();
  w.EndObject();
}

void WritePractices(JsonWriter& w, const Report& r) {
  w.Key("practices").BeginArray();
  for (const PracticeRow& p : r.practices) {
    w.BeginObject();
    w.Key("category").String(CategoryId(p.category));
    w.Key("cost_usd").Number(p.spend.usd, kUsdDecimals);
    w.Key("gpu_hours").Number(p.spend.GpuHours(), kGpuHourDecimals);
    w.Key("share").Number(p.share, kShare);
    w.Key("per_budget_usd");
    if (p.per_budget_usd)
      w.Number(*p.per_budget_usd, kUsdDecimals);
    else
      w.Null();
    w.Key("held_idle_usd");
    if (p.held_idle_usd)
      w.Number(*p.held_idle_usd, kUsdDecimals);
    else
      w.Null();
    w.Key("held_idle_practice");
    if (p.held_practice.empty())
      w.Null();
    else
      w.String(p.held_practice);
    w.Key("waste").Bool(IsWaste(p.category));
    w.Key("practice").String(p.practice);
    w.Key("gpuledger").String(p.offer);
    w.Key("backtest");
    if (p.saving) {
      w.BeginObject();
      w.Key("what").String(p.saving->what);
      w.Key("actions").Int(p.saving->actions);
      w.Key("saved_usd").Number(p.saving->usd, kUsdDecimals);
      w.Key("saved_per_budget_usd");
      if (r.budget_usd)
        w.Number(p.saving->usd * r.Scale(), kUsdDecimals);
      else
        w.Null();
      w.EndObject();
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndArray();
}

void WriteWeeks(JsonWriter& w, const Report& r) {
  w.Key("weeks").BeginArray();
  for (const WeekRow& week : r.weeks) {
    w.BeginObject();
    w.Key("week").String(FormatDay(week.first_day));
    w.Key("usd").BeginObject();
    for (Category c : kAllCategories)
      w.Key(CategoryId(c)).Number(week.usd[static_cast<int>(c)], kUsdDecimals);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
}

void WritePeriods(JsonWriter& w, const Report& r) {
  w.Key("spend_over_time").BeginObject();
  w.Key("period_days").Int(r.period_days);
  w.Key("rows").BeginArray();
  for (const WeekRow& p : r.periods) {
    w.BeginObject();
    w.Key("from").String(FormatDay(p.first_day));
    w.Key("usd").BeginObject();
    for (Category c : kAllCategories)
      w.Key(CategoryId(c)).Number(p.usd[static_cast<int>(c)], kUsdDecimals);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void WriteHeatmap(JsonWriter& w, const Report& r) {
  w.Key("heatmap").BeginObject();
  w.Key("first_day").String(FormatDay(r.first_day));
  w.Key("days").Int(std::max<int64_t>(0, r.last_day - r.first_day + 1));
  w.Key("threshold_pct").Number(r.audit->options.threshold_pct);
  w.Key("machines").BeginArray();
  for (const HeatRow& row : r.heat) {
    w.BeginObject();
    w.Key("name").String(row.machine->name);
    w.Key("never_used").Bool(row.machine->never_used);
    w.Key("active_share");
    if (row.active_share < 0)
      w.Null();
    else
      w.Number(row.active_share, 4);
    w.Key("cells").BeginArray();
    for (float v : row.cells) {
      if (v == kHeatNotBilled)
        w.Null();
      else
        w.Number(v, 1);
    }
    w.EndArray();
    w.Key("coverage").BeginArray();
    for (float v : row.coverage) {
      if (v < 0)
        w.Null();
      else
        w.Number(v, 3);
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

// "held" given: each entry also carries held_idle_usd, null when the telemetry had no memory.
void WriteSpendList(JsonWriter& w, std::string_view key, std::string_view name,
                    const std::vector<std::pair<std::string, Spend>>& list, double total,
                    const SpendByKey* held = nullptr, bool held_known = false) {
  w.Key(key).BeginArray();
  for (const auto& [who, spend] : list) {
    w.BeginObject();
    w.Key(name).String(who);
    w.Key("cost_usd").Number(spend.usd, kUsdDecimals);
    w.Key("gpu_hours").Number(spend.GpuHours(), kGpuHourDecimals);
    w.Key("share").Number(total > 0 ? spend.usd / total : 0, kShare);
    if (held != nullptr) {
      w.Key("held_idle_usd");
      auto it = held->find(who);
      if (held_known)
        w.Number(it == held->end() ? 0 : it->second.usd, kUsdDecimals);
      else
        w.Null();
    }
    w.EndObject();
  }
  w.EndArray();
}

// --group-by: {"by": "experiment", "rows": [{key, usd, gpu_hours, idle_usd, held_idle_usd,
// failed_usd, jobs}]}, costliest first; null without it.
void WriteGroups(JsonWriter& w, const Report& r) {
  w.Key("groups");
  if (r.audit == nullptr || !r.audit->groups) {
    w.Null();
    return;
  }
  w.BeginObject().Key("by").String(GroupById(r.audit->groups->by)).Key("rows").BeginArray();
  for (const GroupSpend& g : r.audit->groups->groups) {
    w.BeginObject().Key("key").String(g.key).Key("usd").Number(g.usd, kUsdDecimals);
    w.Key("gpu_hours").Number(g.gpu_hours, kGpuHourDecimals);
    w.Key("idle_usd").Number(g.idle_usd, kUsdDecimals).Key("held_idle_usd");
    r.audit->memory_known ? w.Number(g.held_idle_usd, kUsdDecimals) : w.Null();
    w.Key("failed_usd").Number(g.failed_usd, kUsdDecimals).Key("jobs").Int(g.jobs).EndObject();
  }
  w.EndArray().EndObject();
}

void WriteTopPods(JsonWriter& w, const Report& r) {
  w.Key("top_pods").BeginArray();
  for (const FailedJobRow& p : r.top_pods) {
    w.BeginObject();
    w.Key("pod").String(p.job->pod).Key("job").String(p.job->id);
    w.Key("machine").String(p.job->machine).Key("owner").String(p.job->owner);
    w.Key("team").String(p.job->team);
    w.Key("start");
    WriteTime(w, p.job->start);
    w.Key("end");
    WriteTime(w, p.job->end);
    w.Key("cost_usd").Number(p.spend.usd, kUsdDecimals);
    w.Key("gpu_hours").Number(p.spend.GpuHours(), kGpuHourDecimals);
    w.EndObject();
  }
  w.EndArray();
}

void WriteMachineList(JsonWriter& w, std::string_view key,
                      const std::vector<const MachineResult*>& list) {
  w.Key(key).BeginArray();
  for (const MachineResult* m : list) {
    w.BeginObject();
    w.Key("name").String(m->name);
    w.Key("owner").String(m->owner);
    w.Key("team").String(m->team);
    w.Key("gpu_count").Int(m->gpu_count);
    w.Key("gpu_model").String(m->gpu_model);
    w.Key("never_used").Bool(m->never_used);
    w.Key("has_telemetry").Bool(m->samples > 0);
    w.Key("billed_from");
    WriteTime(w, m->billed_from);
    w.Key("billed_to");
    WriteTime(w, m->billed_to);
    w.Key("cost_usd").Number(m->totals.Total().usd, kUsdDecimals);
    w.Key("waste_usd").Number(m->totals.Waste().usd, kUsdDecimals);
    w.EndObject();
  }
  w.EndArray();
}

void WriteFailedJobs(JsonWriter& w, const Report& r) {
  w.Key("failed_jobs").BeginArray();
  for (const FailedJobRow& f : r.failed_jobs) {
    w.BeginObject();
    w.Key("id").String(f.job->id);
    w.Key("machine").String(f.job->machine);
    w.Key("owner").String(f.job->owner);
    w.Key("status").String(f.job->status);
    w.Key("start");
    WriteTime(w, f.job->start);
    w.Key("end");
    WriteTime(w, f.job->end);
    w.Key("cost_usd").Number(f.spend.usd, kUsdDecimals);
    w.Key("gpu_hours").Number(f.spend.GpuHours(), kGpuHourDecimals);
    w.EndObject();
  }
  w.EndArray();
}

void WriteBacktest(JsonWriter& w, const Report& r) {
  w.Key("backtest");
  if (!r.backtest) {
    w.Null();
    return;
  }
  const BacktestSummary& b = *r.backtest;
  w.BeginObject();
  w.Key("rules").BeginArray();
  for (const KillRuleRow& row : b.rules) {
    w.BeginObject();
    w.Key("rule").String(KillRuleId(row.rule));
    w.Key("kills").Int(row.kills);
    w.Key("saved_usd").Number(row.saved_usd, kUsdDecimals);
    w.Key("false_kills").Int(row.false_kills);
    w.Key("false_kill_usd").Number(row.false_kill_usd, kUsdDecimals);
    w.EndObject();
  }
  w.EndArray();
  w.Key("releases").Int(b.releases);
  w.Key("releases_usd").Number(b.releases_usd, kUsdDecimals);
  w.Key("exempted").Int(b.exempted);
  w.EndObject();
}

void WriteReviews(JsonWriter& w, const Report& r) {
  w.Key("reviews");
  if (!r.reviews) {
    w.Null();
    return;
  }
  const ReviewsSummary& s = *r.reviews;
  w.BeginObject();
  w.Key("prs").Int(s.prs);
  w.Key("merged").Int(s.merged);
  w.Key("bot_warnings_ignored").Int(s.warnings_ignored);
  w.Key("jobs_matched").Int(s.jobs_matched);
  w.Key("have_prices").Bool(s.have_prices);
  w.Key("classes").BeginArray();
  for (const ReviewClassRow& c : s.classes) {
    w.BeginObject();
    w.Key("class").String(ReviewClassId(c.review_class));
    w.Key("merged_prs").Int(c.merged_prs);
    w.Key("jobs").Int(c.spend.jobs);
    w.Key("gpu_hours").Number(c.spend.gpu_hours, kGpuHourDecimals);
    w.Key("usd");
    if (s.have_prices)
      w.Number(c.spend.usd, kUsdDecimals);
    else
      w.Null();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

}  // namespace

std::string ReportToJson(const Report& r, bool pretty) {
  const AuditResult& a = *r.audit;
  JsonWriter w(pretty);
  w.BeginObject();
  w.Key("schema").String("gpuledger.report/1");
  w.Key("budget_usd");
  if (r.budget_usd)
    w.Number(*r.budget_usd, kUsdDecimals);
  else
    w.Null();
  w.Key("jobs_given").Bool(r.jobs_given);
  w.Key("memory_known").Bool(a.memory_known);
  w.Key("window").BeginObject();
  w.Key("from");
  WriteTime(w, a.window_from);
  w.Key("to");
  WriteTime(w, a.window_to);
  w.EndObject();
  w.Key("threshold_pct").Number(a.options.threshold_pct);
  w.Key("headline").BeginArray();
  for (const std::string& s : r.headline) w.String(s);
  w.EndArray();
  WriteTotals(w, r);
  WritePractices(w, r);
  WriteWeeks(w, r);
  WritePeriods(w, r);
  WriteHeatmap(w, r);
  const double total = a.totals.Total().usd;
  WriteSpendList(w, "owners", "owner", r.owners, total);
  WriteSpendList(w, "teams", "team", r.teams, total, &a.teams_held_idle, a.memory_known);
  WriteTopPods(w, r);
  WriteMachineList(w, "top_waste_machines", r.top_waste);
  WriteMachineList(w, "never_used_machines", r.never_used);
  WriteFailedJobs(w, r);
  WriteBacktest(w, r);
  WriteReviews(w, r);
  WriteGroups(w, r);
  WriteCreditsJson(w, a);
  w.EndObject();
  return w.str() + (pretty ? "\n" : "");
}

}  // namespace gpuledger
