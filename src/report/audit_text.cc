#include "report/audit_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/csv_table.h"
#include "report/credits_text.h"
#include "report/group_text.h"

namespace gpuledger {
namespace {

// "1 GiB", "512 MiB".
std::string FormatMib(double mib) {
  if (mib >= 1024 && std::fmod(mib, 1024) == 0) return fmt::format("{} GiB", mib / 1024);
  return fmt::format("{} MiB", mib);
}

std::string Share(double part, double whole) {
  return whole > 0 ? fmt::format("{:5.1f} %", 100 * part / whole) : "    - ";
}

void Section(std::string* out, std::string_view title) {
  fmt::format_to(std::back_inserter(*out), "\n{}\n", title);
}

void Categories(const AuditResult& r, std::string* out) {
  const double total = r.totals.Total().usd;
  Section(out, "Where the money went");
  fmt::format_to(std::back_inserter(*out), "  {:<20} {:>12} {:>16} {:>8}  {}\n", "category",
                 "GPU-hours", "USD", "share", "what would have saved it");
  for (Category c : kAllCategories) {
    const Spend& s = r.totals.categories[static_cast<int>(c)];
    fmt::format_to(std::back_inserter(*out), "  {:<20} {:>12.1f} {:>16} {:>8}  {}\n", CategoryId(c),
                   s.GpuHours(), FormatUsd(s.usd), Share(s.usd, total), CategoryPractice(c));
  }
}

void Owners(const AuditResult& r, int top, std::string* out) {
  std::vector<std::pair<std::string, Spend>> owners(r.owners.begin(), r.owners.end());
  std::sort(owners.begin(), owners.end(),
            [](const auto& a, const auto& b) { return a.second.usd > b.second.usd; });
  Section(out, fmt::format("Top owners ({} in all)", owners.size()));
  const double total = r.totals.Total().usd;
  if (r.memory_known) {
    fmt::format_to(std::back_inserter(*out), "  {:<24} {:>16} {:>8} {:>16}\n", "owner", "cost",
                   "share", "held idle");
  }
  for (int i = 0; i < std::min<int>(top, owners.size()); ++i) {
    std::string held;
    if (r.memory_known) {
      auto it = r.owners_held_idle.find(owners[i].first);
      held = fmt::format(" {:>16}", FormatUsd(it == r.owners_held_idle.end() ? 0 : it->second.usd));
    }
    fmt::format_to(std::back_inserter(*out), "  {:<24} {:>16} {:>8}{}\n", owners[i].first,
                   FormatUsd(owners[i].second.usd), Share(owners[i].second.usd, total), held);
  }
}

// Spend by team; a Kubernetes node's own time that nothing names, "(unallocated)", says so.
void Teams(const AuditResult& r, int top, std::string* out) {
  if (r.teams.size() == 1 && r.teams.begin()->first == NoneName()) return;  // no team anywhere
  std::vector<std::pair<std::string, Spend>> teams(r.teams.begin(), r.teams.end());
  std::sort(teams.begin(), teams.end(),
            [](const auto& a, const auto& b) { return a.second.usd > b.second.usd; });
  Section(out, fmt::format("Teams ({} in all)", teams.size()));
  const double total = r.totals.Total().usd;
  fmt::format_to(std::back_inserter(*out), "  {:<40} {:>16} {:>8} {:>16}\n", "team", "cost",
                 "share", "held idle");
  for (int i = 0; i < std::min<int>(top, teams.size()); ++i) {
    const auto& [team, spend] = teams[i];
    auto it = r.teams_held_idle.find(team);
    const std::string held = !r.memory_known                 ? "unknown"
                             : it == r.teams_held_idle.end() ? FormatUsd(0)
                                                             : FormatUsd(it->second.usd);
    const std::string name = team == kUnallocatedTeam ? team + " GPU time no pod held" : team;
    fmt::format_to(std::back_inserter(*out), "  {:<40} {:>16} {:>8} {:>16}\n", name,
                   FormatUsd(spend.usd), Share(spend.usd, total), held);
  }
}

void Machines(const AuditResult& r, int top, std::string* out) {
  std::vector<const MachineResult*> ms;
  for (const MachineResult& m : r.machines) ms.push_back(&m);
  std::sort(ms.begin(), ms.end(), [](const MachineResult* a, const MachineResult* b) {
    return a->totals.Waste().usd != b->totals.Waste().usd
               ? a->totals.Waste().usd > b->totals.Waste().usd
               : a->name < b->name;
  });
  Section(out, "Top wasteful machines (never used + failed jobs + idle in and outside jobs)");
  fmt::format_to(std::back_inserter(*out), "  {:<24} {:>4} {:<14} {:>14} {:>14} {:>14}  {}\n",
                 "machine", "GPUs", "owner", "cost", "waste", "held idle", "never used");
  for (int i = 0; i < std::min<int>(top, ms.size()); ++i) {
    const MachineResult& m = *ms[i];
    fmt::format_to(std::back_inserter(*out), "  {:<24} {:>4} {:<14} {:>14} {:>14} {:>14}  {}\n",
                   m.name, m.gpu_count, m.owner.empty() ? kUnattributed : m.owner,
                   FormatUsd(m.totals.Total().usd),
                   m.samples == 0 ? "no telemetry" : FormatUsd(m.totals.Waste().usd),
                   m.memory_known ? FormatUsd(m.totals.held_idle.usd) : "unknown",
                   m.never_used ? (m.most_gpu_samples == 1 ? "one sample" : "yes") : "");
  }
}

void NeverUsed(const AuditResult& r, int top, std::string* out) {
  std::vector<const MachineResult*> ms;
  for (const MachineResult& m : r.machines) {
    if (m.never_used) ms.push_back(&m);
  }
  std::sort(ms.begin(), ms.end(), [](const MachineResult* a, const MachineResult* b) {
    return a->totals.Total().usd > b->totals.Total().usd;
  });
  Section(out, fmt::format("Never-used machines: {} of {}", ms.size(), r.machines.size()));
  for (int i = 0; i < std::min<int>(top, ms.size()); ++i) {
    const MachineResult& m = *ms[i];
    fmt::format_to(std::back_inserter(*out), "  {:<24} {:>4} GPUs  {:<14} {:>14}  {} → {}\n",
                   m.name, m.gpu_count, m.owner.empty() ? kUnattributed : m.owner,
                   FormatUsd(m.totals.Total().usd), FormatIsoUtc(m.billed_from).substr(0, 10),
                   FormatIsoUtc(m.billed_to).substr(0, 10));
  }
  if (static_cast<int>(ms.size()) > top) {
    fmt::format_to(std::back_inserter(*out), "  … and {} more (--format json lists them all)\n",
                   ms.size() - top);
  }
}

void Input(std::string_view name, const SourceStats& s, std::string* out) {
  if (s.files == 0 && s.rows_read == 0 && s.notes.entries().empty() &&
      s.rejected.entries().empty()) {
    return;
  }
  if (s.files == 0 && s.rows_read == 0) {
    fmt::format_to(std::back_inserter(*out), "  {:<10} (none given)\n", name);
  } else {
    fmt::format_to(std::back_inserter(*out),
                   "  {:<10} {} file(s), {} rows read, {} accepted, {} rejected\n", name, s.files,
                   s.rows_read, s.rows_accepted, s.RowsRejected());
  }
  auto list = [&](std::string_view kind, const Problems& problems) {
    for (const auto& [reason, e] : problems.entries()) {
      fmt::format_to(std::back_inserter(*out), "    {:<8} {:<18} {:>10}  first at {}{}\n", kind,
                     reason, e.count, e.Where(), e.detail.empty() ? "" : "  (" + e.detail + ")");
    }
  };
  list("rejected", s.rejected);
  list("note", s.notes);
}

}  // namespace

std::string FormatUsd(double usd, bool cents) {
  const bool negative = usd < 0;
  const long long in_cents = std::llround(std::fabs(usd) * 100);
  const long long dollars = cents ? in_cents / 100 : std::llround(std::fabs(usd));
  std::string whole = std::to_string(dollars);
  for (int i = static_cast<int>(whole.size()) - 3; i > 0; i -= 3) whole.insert(i, ",");
  const std::string sign = negative && (cents ? in_cents : dollars) != 0 ? "-" : "";
  return cents ? fmt::format("{}${}.{:02}", sign, whole, in_cents % 100) : sign + "$" + whole;
}

std::string AuditToTable(const AuditResult& r, int top) {
  std::string out;
  const Spend total = r.totals.Total();
  const DurationMs span = r.window_from < r.window_to ? r.window_to - r.window_from : 0;
  fmt::format_to(std::back_inserter(out),
                 "gpuledger audit: {} machines, {} → {} ({}), threshold {} %, max gap {}\n",
                 r.machines.size(), FormatIsoUtc(r.window_from), FormatIsoUtc(r.window_to),
                 FormatDuration(span / kMsPerMinute * kMsPerMinute), r.options.threshold_pct,
                 FormatDuration(r.options.max_gap_ms));
  auto line = [&](const std::string& label, const std::string& hours, const Spend& spend) {
    fmt::format_to(std::back_inserter(out), "  {:<32} {:>20} {:>16} {:>8}\n", label, hours,
                   FormatUsd(spend.usd), Share(spend.usd, total.usd));
  };
  auto hours = [](const Spend& s) { return fmt::format("{:.1f} GPU-hours", s.GpuHours()); };
  out += "\n";
  line("billed GPU time", hours(total), total);
  const TelemetryCoverage coverage = r.Coverage();
  if (coverage.machines_with_telemetry == 0) {
    fmt::format_to(std::back_inserter(out), "  {:<32} {:>20}  ({})\n",
                   fmt::format("below {} %", r.options.threshold_pct), "unknown",
                   "no telemetry: --telemetry FILE or --prometheus URL adds it");
  } else {
    line(fmt::format("below {} % (measured)", r.options.threshold_pct),
         hours(r.totals.below_threshold), r.totals.below_threshold);
    line(fmt::format("never used: {} of {} machines", coverage.never_used,
                     coverage.machines_with_telemetry),
         hours(coverage.never_used_spend), coverage.never_used_spend);
    if (coverage.idle_in_one_sample > 0) {
      line(fmt::format("idle in the one sample read: {}", coverage.idle_in_one_sample),
           hours(coverage.idle_in_one_sample_spend), coverage.idle_in_one_sample_spend);
    }
    if (coverage.machines_without > 0) {
      line(fmt::format("sent no telemetry: {} machines", coverage.machines_without),
           hours(coverage.without), coverage.without);
    }
  }
  line("no owner (unattributed)", hours(r.totals.unattributed), r.totals.unattributed);
  line("no owner, team or project", hours(r.totals.unowned), r.totals.unowned);
  line("jobs without a commit", hours(r.totals.no_commit), r.totals.no_commit);
  if (r.memory_known) {
    line(fmt::format("held idle (memory >= {})", FormatMib(r.options.held_memory_mib)),
         hours(r.totals.held_idle), r.totals.held_idle);
    const Spend& outside =
        r.totals.held_idle_by_category[static_cast<int>(Category::kIdleOutsideJobs)];
    if (outside.usd > 0) {
      fmt::format_to(std::back_inserter(out),
                     "    of idle_outside_jobs, {} had GPU memory held: {}\n",
                     FormatUsd(outside.usd), kHeldIdlePractice);
    }
  } else {
    fmt::format_to(
        std::back_inserter(out), "  {:<32} {:>20}  ({})\n", "held idle", "unknown",
        r.telemetry.rows_accepted == 0 ? "no telemetry" : "the telemetry has no memory readings");
  }
  if (!r.other_charges_usd.empty()) {
    double other = 0;
    for (const auto& [category, usd] : r.other_charges_usd) other += usd;
    fmt::format_to(std::back_inserter(out),
                   "  other charges of the bill (not GPU time, not above): {}\n", FormatUsd(other));
    for (const auto& [category, usd] : r.other_charges_usd) {
      fmt::format_to(std::back_inserter(out), "    {:<44} {:>16}\n", category, FormatUsd(usd));
    }
  }
  out += CreditsTable(r);
  Categories(r, &out);
  Owners(r, top, &out);
  Teams(r, top, &out);
  out += GroupsTable(r, top);
  Machines(r, top, &out);
  NeverUsed(r, top, &out);
  Section(&out, "Input");
  Input("telemetry", r.telemetry, &out);
  Input("inventory", r.inventory, &out);
  Input("jobs", r.jobs, &out);
  return out;
}

std::string AuditToCsv(const AuditResult& r) {
  // One row per machine, owner, team, project and category with billed time: the owner, team
  // and project of the GPU-seconds (the job's where a job holds them, else the machine's; empty
  // when none). held_idle_usd: the held idle dollars inside the row; empty when the machine's
  // telemetry has no memory readings (unknown, not zero).
  std::string out = "machine,owner,team,project,category,gpu_hours,cost_usd,held_idle_usd\n";
  auto name = [](const std::string* s) {
    return s == &UnattributedName() || s == &NoneName() ? std::string() : *s;
  };
  for (const MachineResult& m : r.machines) {
    std::vector<std::pair<std::array<std::string, 3>, const TakerSpend*>> takers;
    for (const auto& [key, spend] : m.by_taker) {
      const auto& [owner, team, project] = key;
      takers.push_back({{name(owner), name(team), name(project)}, &spend});
    }
    std::sort(takers.begin(), takers.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [names, spend] : takers) {
      for (Category c : kAllCategories) {
        const Spend& s = spend->categories[static_cast<int>(c)];
        if (s.gpu_ms == 0 && s.usd == 0) continue;
        const std::string held =
            m.memory_known ? fmt::format("{:.4f}", spend->held_idle_usd[static_cast<int>(c)]) : "";
        fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{:.6f},{:.4f},{}\n",
                       CsvQuote(m.name), CsvQuote(names[0]), CsvQuote(names[1]), CsvQuote(names[2]),
                       CategoryId(c), s.GpuHours(), s.usd, held);
      }
    }
  }
  return out;
}

}  // namespace gpuledger
