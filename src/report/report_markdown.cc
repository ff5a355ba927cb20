#include "report/report_markdown.h"

#include <fmt/format.h>

#include <iterator>

#include "audit/group_spend.h"
#include "report/audit_text.h"
#include "report/credits_text.h"

namespace gpuledger {
namespace {

using Out = std::back_insert_iterator<std::string>;

// Text safe inside a Markdown table cell: no table breaks, emphasis or raw HTML.
std::string Cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '<' || c == '>' || c == '&') {
      out += c == '<' ? "&lt;" : (c == '>' ? "&gt;" : "&amp;");
      continue;
    }
    if (c == '|' || c == '\\' || c == '*' || c == '_' || c == '`') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out.empty() ? "-" : out;
}

std::string Percent(double share) { return fmt::format("{:.1f} %", 100 * share); }

void LeftOut(Out out, size_t shown, size_t all) {
  if (all > shown) fmt::format_to(out, "\n… and {} more.\n", all - shown);
}

void Practices(Out out, const Report& r) {
  fmt::format_to(out, "\n## Where the money went, and what would have saved it\n\n");
  const std::string per_budget =
      r.budget_usd ? fmt::format(" of every {} |", FormatUsd(*r.budget_usd, false)) : "";
  fmt::format_to(out, "| category | GPU-hours | USD | share |{} practice | gpuledger |",
                 per_budget);
  fmt::format_to(out, "{}\n", r.backtest ? " backtest |" : "");
  fmt::format_to(out, "|---|---:|---:|---:|{}---|---|{}\n", r.budget_usd ? "---:|" : "",
                 r.backtest ? "---|" : "");
  for (const PracticeRow& p : r.practices) {
    std::string practice = Cell(p.practice);
    if (!p.held_practice.empty() && p.held_idle_usd && *p.held_idle_usd > 0) {
      practice += fmt::format("; of it {} had GPU memory held: {}", FormatUsd(*p.held_idle_usd),
                              Cell(p.held_practice));
    }
    fmt::format_to(out, "| {} | {:.1f} | {} | {} |{} {} | {} |", CategoryId(p.category),
                   p.spend.GpuHours(), FormatUsd(p.spend.usd), Percent(p.share),
                   p.per_budget_usd ? " " + FormatUsd(*p.per_budget_usd, false) + " |" : "",
                   practice, Cell(p.offer));
    if (r.backtest) {
      fmt::format_to(out, " {} |",
                     p.saving ? fmt::format("{}: {}, saving {}", Cell(p.saving->what),
                                            p.saving->actions, FormatUsd(p.saving->usd))
                              : "-");
    }
    fmt::format_to(out, "\n");
  }
}

void Owners(Out out, const Report& r, int top) {
  const double total = r.audit->totals.Total().usd;
  fmt::format_to(out, "\n## Spend by owner\n\n| owner | USD | share |\n|---|---:|---:|\n");
  size_t shown = 0;  // the top owners, and the unattributed share wherever it ranks
  for (size_t i = 0; i < r.owners.size(); ++i) {
    const auto& [owner, spend] = r.owners[i];
    if (static_cast<int>(i) >= top && owner != kUnattributed) continue;
    fmt::format_to(out, "| {} | {} | {} |\n", Cell(owner), FormatUsd(spend.usd),
                   Percent(total > 0 ? spend.usd / total : 0));
    ++shown;
  }
  LeftOut(out, shown, r.owners.size());
}

void Teams(Out out, const Report& r) {
  if (r.teams.empty()) return;
  const AuditResult& a = *r.audit;
  const double total = a.totals.Total().usd;
  fmt::format_to(out,
                 "\n## Spend by team\n\nThe team of a GPU-second is its job's (a pod: its "
                 "namespace, or an --owners rule), else the machine's.\n\n"
                 "| team | USD | share | held idle |\n|---|---:|---:|---:|\n");
  for (const auto& [team, spend] : r.teams) {
    auto held = a.teams_held_idle.find(team);
    fmt::format_to(out, "| {} | {} | {} | {} |\n", Cell(team.empty() ? "(none)" : team),
                   FormatUsd(spend.usd), Percent(total > 0 ? spend.usd / total : 0),
                   !a.memory_known                   ? "unknown"
                   : held == a.teams_held_idle.end() ? FormatUsd(0)
                                                     : FormatUsd(held->second.usd));
  }
}

// --group-by's table: every group, costliest first.
void Groups(Out out, const Report& r) {
  if (r.audit == nullptr || !r.audit->groups) return;
  const std::string_view by = GroupById(r.audit->groups->by);
  fmt::format_to(
      out,
      "\n## Cost per {}\n\n\"(none)\": GPU time outside jobs, or of jobs naming none.\n\n"
      "| {} | cost | GPU-hours | idle | held idle | failed | jobs |\n"
      "|---|---:|---:|---:|---:|---:|---:|\n",
      by, by);
  auto share = [](double part, double whole) {
    return whole > 0 ? fmt::format("{:.1f} %", part / whole * 100) : std::string("-");
  };
  for (const GroupSpend& g : r.audit->groups->groups) {
    fmt::format_to(out, "| {} | {} | {:.2f} | {} | {} | {} | {} |\n", Cell(g.key), FormatUsd(g.usd),
                   g.gpu_hours, share(g.idle_usd, g.usd),
                   r.audit->memory_known ? share(g.held_idle_usd, g.usd) : "unknown",
                   share(g.failed_usd, g.usd), g.jobs);
  }
}

void TopPods(Out out, const Report& r) {
  if (r.top_pods.empty()) return;
  fmt::format_to(out,
                 "\n## Top pods\n\n| pod | machine | owner | team | start | cost |\n"
                 "|---|---|---|---|---|---:|\n");
  for (const FailedJobRow& p : r.top_pods) {
    fmt::format_to(out, "| {} | {} | {} | {} | {} | {} |\n", Cell(p.job->id), Cell(p.job->machine),
                   Cell(p.job->owner), Cell(p.job->team), FormatIsoUtc(p.job->start),
                   FormatUsd(p.spend.usd));
  }
}

// The first "top" machines of "list" (which may hold fewer than "all", the machines there are),
// under a title that says how many it lists of how many.
void Machines(Out out, std::string_view title, const std::vector<const MachineResult*>& list,
              size_t all, int top) {
  const size_t shown = std::min<size_t>(top, list.size());
  if (shown == all) {
    fmt::format_to(out, "\n## {} ({})\n\n", title, all);
  } else {
    fmt::format_to(out, "\n## {}: the top {} of {}\n\n", title, shown, all);
  }
  if (list.empty()) return;
  fmt::format_to(
      out, "| machine | owner | team | GPUs | cost | waste |\n|---|---|---|---:|---:|---:|\n");
  for (size_t i = 0; i < list.size() && static_cast<int>(i) < top; ++i) {
    const MachineResult& m = *list[i];
    fmt::format_to(out, "| {} | {} | {} | {} | {} | {} |\n", Cell(m.name), Cell(m.owner),
                   Cell(m.team), m.gpu_count, FormatUsd(m.totals.Total().usd),
                   m.samples == 0 ? "no telemetry" : FormatUsd(m.totals.Waste().usd));
  }
  LeftOut(out, shown, all);
}

void FailedJobs(Out out, const Report& r, int top) {
  if (!r.jobs_given) return;  // no job records: nothing to say about failed jobs
  fmt::format_to(out, "\n## Failed jobs ({})\n\n", r.failed_jobs.size());
  if (r.failed_jobs.empty()) return;
  fmt::format_to(out,
                 "| job | machine | owner | status | start | cost |\n|---|---|---|---|---|---:|\n");
  for (size_t i = 0; i < r.failed_jobs.size() && static_cast<int>(i) < top; ++i) {
    const FailedJobRow& f = r.failed_jobs[i];
    fmt::format_to(out, "| {} | {} | {} | {} | {} | {} |\n", Cell(f.job->id), Cell(f.job->machine),
                   Cell(f.job->owner), Cell(f.job->status), FormatIsoUtc(f.job->start),
                   FormatUsd(f.spend.usd));
  }
  LeftOut(out, std::min<size_t>(top, r.failed_jobs.size()), r.failed_jobs.size());
}

void Backtest(Out out, const Report& r) {
  if (!r.backtest) return;
  const BacktestSummary& b = *r.backtest;
  fmt::format_to(out,
                 "\n## The autokill policy, replayed\n\n| rule | kills | saved | false kills | "
                 "healthy work cut short |\n|---|---:|---:|---:|---:|\n");
  for (const KillRuleRow& row : b.rules) {
    fmt::format_to(out, "| {} | {} | {} | {} | {} |\n", KillRuleId(row.rule), row.kills,
                   FormatUsd(row.saved_usd), row.false_kills, FormatUsd(row.false_kill_usd));
  }
  fmt::format_to(out, "| machine releases | {} | {} | - | - |\n", b.releases,
                 FormatUsd(b.releases_usd));
}

void Reviews(Out out, const Report& r) {
  if (!r.reviews) return;
  const ReviewsSummary& s = *r.reviews;
  fmt::format_to(out,
                 "\n## Code review and GPU spend\n\n{} PRs, {} merged, {} bot warnings "
                 "ignored.\n\n| review class | merged PRs | jobs | GPU-hours | USD |\n"
                 "|---|---:|---:|---:|---:|\n",
                 s.prs, s.merged, s.warnings_ignored);
  for (const ReviewClassRow& c : s.classes) {
    fmt::format_to(out, "| {} | {} | {} | {:.1f} | {} |\n", ReviewClassId(c.review_class),
                   c.merged_prs, c.spend.jobs, c.spend.gpu_hours,
                   s.have_prices ? FormatUsd(c.spend.usd) : "-");
  }
}

// "Who burned the last batch": the runway, one sentence per batch (the last first), the table.
void Credits(Out out, const AuditResult& a) {
  if (a.credits) {
    const CreditsResult& c = *a.credits;
    fmt::format_to(out, "\n## Who burned the last batch\n\n{}\n\n", RunwaySentence(c));
    for (auto it = c.batches.rbegin(); it != c.batches.rend(); ++it) {
      fmt::format_to(out, "- {}\n", Cell(BatchSentence(*it)));
    }
    fmt::format_to(out,
                   "\n| batch | bought | amount | started | ran out | spent | left | waste | "
                   "failed or killed |\n|---|---|---:|---|---|---:|---:|---:|---:|\n");
    for (const BatchResult& b : c.batches) {
      fmt::format_to(out, "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", Cell(b.batch.label),
                     FormatIsoUtc(b.batch.date).substr(0, 10), FormatUsd(b.batch.amount_usd),
                     b.started ? FormatIsoUtc(*b.started).substr(0, 16) : "-",
                     b.ran_out ? FormatIsoUtc(*b.ran_out).substr(0, 16) : "-",
                     FormatUsd(b.spent_usd), FormatUsd(b.left_usd), FormatUsd(b.waste_usd),
                     FormatUsd(b.FailedOrKilled()));
    }
    if (c.uncovered_usd > 0) {
      fmt::format_to(out, "\nSpend past the last batch (uncovered): {}.\n",
                     FormatUsd(c.uncovered_usd));
    }
  }
  if (a.budgets) {
    fmt::format_to(out, "\n## Budgets\n\n");
    for (const BudgetUse& u : *a.budgets) fmt::format_to(out, "- {}\n", BudgetSentence(u));
  }
}

}  // namespace

std::string ReportToMarkdown(const Report& r, int top) {
  const AuditResult& a = *r.audit;
  std::string s;
  Out out(s);
  fmt::format_to(out, "# Where the GPU money went\n\n{} to {}: {} machines, {} of GPU time.\n\n",
                 FormatIsoUtc(a.window_from), FormatIsoUtc(a.window_to), a.machines.size(),
                 FormatUsd(a.totals.Total().usd));
  for (const std::string& line : r.headline) fmt::format_to(out, "- {}\n", line);
  Credits(out, a);
  Practices(out, r);
  Owners(out, r, top);
  Teams(out, r);
  Groups(out, r);
  TopPods(out, r);
  Machines(out, "Most wasteful machines", r.top_waste, r.audit->machines.size(), top);
  if (!r.never_used.empty()) {
    Machines(out, "Never-used machines", r.never_used, r.never_used.size(), top);
  }
  FailedJobs(out, r, top);
  Backtest(out, r);
  Reviews(out, r);
  fmt::format_to(out,
                 "\n_Made by gpuledger report; the figures equal `gpuledger audit --format json` "
                 "for the same inputs._\n");
  return s;
}

}  // namespace gpuledger
