#include "report/group_text.h"

#include <fmt/format.h>

#include <iterator>

#include "audit/group_spend.h"
#include "core/csv_table.h"
#include "report/audit_text.h"

namespace gpuledger {
namespace {

double ShareOf(double part, double whole) { return whole > 0 ? part / whole : 0; }

std::string Percent(double part, double whole) {
  return whole > 0 ? fmt::format("{:.1f} %", part / whole * 100) : "-";
}

}  // namespace

std::string GroupsTable(const AuditResult& r, int top) {
  if (!r.groups) return "";
  const std::vector<GroupSpend>& groups = r.groups->groups;
  const std::string_view key = GroupById(r.groups->by);
  std::string out =
      fmt::format("\nCost per {} ({} in all; \"(none)\": outside jobs, or jobs naming none)\n", key,
                  groups.size());
  auto row = std::back_inserter(out);
  fmt::format_to(row, "  {:<36} {:>14} {:>10} {:>8} {:>10} {:>8} {:>6}\n", key, "cost", "GPU-hours",
                 "idle", "held idle", "failed", "jobs");
  for (int i = 0; i < std::min<int>(top, static_cast<int>(groups.size())); ++i) {
    const GroupSpend& g = groups[i];
    fmt::format_to(row, "  {:<36} {:>14} {:>10.2f} {:>8} {:>10} {:>8} {:>6}\n", g.key,
                   FormatUsd(g.usd), g.gpu_hours, Percent(g.idle_usd, g.usd),
                   r.memory_known ? Percent(g.held_idle_usd, g.usd) : "unknown",
                   Percent(g.failed_usd, g.usd), g.jobs);
  }
  return out;
}

void WriteGroupsJson(JsonWriter& w, const AuditResult& r) {
  if (!r.groups) return;
  const std::string key(GroupById(r.groups->by));
  w.Key(GroupListName(r.groups->by)).BeginArray();
  for (const GroupSpend& g : r.groups->groups) {
    w.BeginObject().Key(key).String(g.key).Key("usd").Number(g.usd, kUsdDecimals);
    w.Key("gpu_hours").Number(g.gpu_hours, 4);
    w.Key("idle_usd").Number(g.idle_usd, kUsdDecimals);
    w.Key("idle_share").Number(ShareOf(g.idle_usd, g.usd), 6);
    w.Key("held_idle_usd");
    r.memory_known ? w.Number(g.held_idle_usd, kUsdDecimals) : w.Null();
    w.Key("held_idle_share");
    r.memory_known ? w.Number(ShareOf(g.held_idle_usd, g.usd), 6) : w.Null();
    w.Key("failed_usd").Number(g.failed_usd, kUsdDecimals);
    w.Key("failed_share").Number(ShareOf(g.failed_usd, g.usd), 6);
    w.Key("jobs").Int(g.jobs).EndObject();
  }
  w.EndArray();
}

std::string GroupsCsv(const AuditResult& r) {
  if (!r.groups) return "";
  std::string out = fmt::format("{},usd,gpu_hours,idle_usd,held_idle_usd,failed_usd,jobs\n",
                                GroupById(r.groups->by));
  for (const GroupSpend& g : r.groups->groups) {
    fmt::format_to(std::back_inserter(out), "{},{:.2f},{:.4f},{:.2f},{},{:.2f},{}\n",
                   CsvQuote(g.key), g.usd, g.gpu_hours, g.idle_usd,
                   r.memory_known ? fmt::format("{:.2f}", g.held_idle_usd) : "", g.failed_usd,
                   g.jobs);
  }
  return out;
}

}  // namespace gpuledger
