#include "report/report_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "report/audit_text.h"

namespace gpuledger {
namespace {

// What gpuledger offers against each category's spend.
std::string_view CategoryOffer(Category c) {
  switch (c) {
    case Category::kNeverUsed:
      return "audit lists every never-used machine with its owner and cost; the backtest shows "
             "what releasing idle machines would have saved";
    case Category::kFailedJob:
      return "gpuledger run: preflight (GPUs visible, commit recorded) and the setup and "
             "fatal_output rules kill a dying job in minutes";
    case Category::kUnmonitored:
      return "read the DCGM exporter through Prometheus (audit --prometheus), or wrap jobs in "
             "gpuledger run, which samples every GPU through NVML";
    case Category::kJobIdle:
      return "the autokill idle rule (policy idle_after) with a warning first and exemptions "
             "for those who ask";
    case Category::kJobActive:
      return "keep it; reviews audit shows whether the PRs behind it were reviewed";
    case Category::kIdleOutsideJobs:
      return "gpuledger run --release-command: release the machine when its job ends or dies";
    case Category::kActiveOutsideJobs:
      return "launch through gpuledger run so the ledger records owner, commit and PR";
  }
  return "";
}

std::string Dollars(double usd) { return FormatUsd(usd, false); }

std::vector<std::pair<std::string, Spend>> SortedBySpend(const SpendByKey& map) {
  std::vector<std::pair<std::string, Spend>> v(map.begin(), map.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return a.second.usd > b.second.usd; });
  return v;
}

int64_t MondayOf(int64_t day) { return day - (((day + 3) % 7) + 7) % 7; }  // 1970-01-01: a Thu

// Every week of the window, those without spend too: the chart's axis is time.
void AddWeeks(const AuditResult& a, Report* r) {
  std::map<int64_t, WeekRow> weeks;
  if (r->first_day <= r->last_day) {
    for (int64_t monday = MondayOf(r->first_day); monday <= r->last_day; monday += 7) {
      weeks[monday].first_day = monday;
    }
  }
  for (const MachineResult& m : a.machines) {
    for (const DayResult& d : m.days) {
      const int64_t monday = MondayOf(d.day);
      WeekRow& w = weeks[monday];
      w.first_day = monday;
      for (int c = 0; c < kCategoryCount; ++c) w.usd[c] += d.usd[c];
    }
  }
  for (auto& [day, w] : weeks) r->weeks.push_back(w);
}

// The spend-over-time chart's rows: days for a short window, else the weeks; every one of the
// window, those without spend too.
void AddPeriods(const AuditResult& a, Report* r) {
  if (r->last_day - r->first_day + 1 > kDailyUpToDays) {
    r->period_days = 7;
    r->periods = r->weeks;
    return;
  }
  r->period_days = 1;
  std::map<int64_t, WeekRow> days;
  for (int64_t day = r->first_day; day <= r->last_day; ++day) days[day].first_day = day;
  for (const MachineResult& m : a.machines) {
    for (const DayResult& d : m.days) {
      WeekRow& row = days[d.day];
      row.first_day = d.day;
      for (int c = 0; c < kCategoryCount; ++c) row.usd[c] += d.usd[c];
    }
  }
  for (auto& [day, row] : days) r->periods.push_back(row);
}

HeatRow MakeHeatRow(const MachineResult& m, int64_t first_day, int64_t days) {
  HeatRow row;
  row.machine = &m;
  row.cells.assign(days, kHeatNotBilled);
  row.coverage.assign(days, -1);
  DurationMs monitored = 0, active = 0;
  for (const DayResult& d : m.days) {
    monitored += d.monitored_ms, active += d.active_ms;
    const int64_t i = d.day - first_day;
    if (i < 0 || i >= days || d.billed_ms == 0) continue;
    // Of the whole day's GPU time, so a partial day (the window's last, a machine's first) is
    // shaded as the part of a day it is.
    const double day_ms =
        std::max(static_cast<double>(d.billed_ms), static_cast<double>(m.gpu_count) * kMsPerDay);
    row.coverage[i] = static_cast<float>(
        std::round(1000.0 * std::min(d.monitored_ms, d.billed_ms) / day_ms) / 1000);
    row.cells[i] = d.monitored_ms == 0
                       ? kHeatNoTelemetry
                       : static_cast<float>(std::round(1000.0 * d.active_ms / d.monitored_ms) / 10);
  }
  if (monitored > 0) row.active_share = static_cast<double>(active) / monitored;
  return row;
}

void AddHeat(const AuditResult& a, Report* r) {
  const int64_t days = std::max<int64_t>(0, r->last_day - r->first_day + 1);
  for (const MachineResult& m : a.machines) r->heat.push_back(MakeHeatRow(m, r->first_day, days));
  std::stable_sort(r->heat.begin(), r->heat.end(), [](const HeatRow& x, const HeatRow& y) {
    if (x.machine->never_used != y.machine->never_used) return x.machine->never_used;
    return x.active_share < y.active_share;
  });
}

void AddMachineTables(const AuditResult& a, int top, Report* r) {
  for (const MachineResult& m : a.machines) {
    r->top_waste.push_back(&m);
    if (m.never_used) r->never_used.push_back(&m);
    for (const JobResult& j : m.jobs) {
      if (j.job->failed) r->failed_jobs.push_back({j.job, j.spend});
      if (!j.job->pod.empty()) r->top_pods.push_back({j.job, j.spend});
    }
  }
  std::stable_sort(r->top_pods.begin(), r->top_pods.end(),
                   [](const auto& x, const auto& y) { return x.spend.usd > y.spend.usd; });
  if (r->top_pods.size() > kTopPods) r->top_pods.resize(kTopPods);
  auto by_waste = [](const MachineResult* x, const MachineResult* y) {
    return x->totals.Waste().usd > y->totals.Waste().usd;
  };
  std::stable_sort(r->top_waste.begin(), r->top_waste.end(), by_waste);
  if (static_cast<int>(r->top_waste.size()) > top) r->top_waste.resize(top);
  std::stable_sort(r->never_used.begin(), r->never_used.end(),
                   [](auto* x, auto* y) { return x->totals.Total().usd > y->totals.Total().usd; });
  std::stable_sort(r->failed_jobs.begin(), r->failed_jobs.end(),
                   [](const auto& x, const auto& y) { return x.spend.usd > y.spend.usd; });
}

BacktestSummary SummariseBacktest(const BacktestResult& b, const AuditResult& a, Report* r) {
  BacktestSummary s;
  for (KillRule rule : {KillRule::kSetup, KillRule::kIdle, KillRule::kBudget, KillRule::kMaxRuntime,
                        KillRule::kFatalOutput}) {
    s.rules.push_back({rule});
  }
  PracticeSaving failed{0, 0, "kills of jobs that went on to fail"};
  PracticeSaving idle{0, 0, "kills of idle jobs still running at the end"};
  for (const KillDecision& d : b.decisions) {
    KillRuleRow& row = s.rules[static_cast<int>(d.rule)];
    if (d.false_kill) {
      ++row.false_kills, row.false_kill_usd += d.saved.usd;
      continue;
    }
    ++row.kills, row.saved_usd += d.saved.usd;
    bool job_failed = false;
    ClassifyJobStatus(d.status, &job_failed);
    PracticeSaving& into = job_failed ? failed : idle;
    ++into.actions, into.usd += d.saved.usd;
  }
  std::map<std::string, bool> never_used;
  for (const MachineResult& m : a.machines) never_used[m.name] = m.never_used;
  PracticeSaving unused{0, 0, "releases of never-used machines"};
  PracticeSaving outside{0, 0, "releases of machines idle between jobs"};
  for (const MachineRelease& rel : b.releases) {
    PracticeSaving& into = never_used[rel.machine] ? unused : outside;
    ++into.actions, into.usd += rel.saved.usd;
    ++s.releases, s.releases_usd += rel.saved.usd;
  }
  s.exempted = static_cast<int64_t>(b.exempted.size());
  for (PracticeRow& p : r->practices) {
    if (p.category == Category::kFailedJob) p.saving = failed;
    if (p.category == Category::kJobIdle) p.saving = idle;
    if (p.category == Category::kNeverUsed) p.saving = unused;
    if (p.category == Category::kIdleOutsideJobs) p.saving = outside;
  }
  return s;
}

ReviewsSummary SummariseReviews(const ReviewAudit& a) {
  ReviewsSummary s;
  s.prs = static_cast<int64_t>(a.prs.size());
  s.merged = a.Merged();
  s.have_prices = a.have_prices;
  s.jobs_matched = a.jobs_matched;
  for (const RepoReviewSummary& repo : a.ByRepo()) s.warnings_ignored += repo.warnings_ignored;
  for (ReviewClass c : {ReviewClass::kSubstantive, ReviewClass::kRubberStamped,
                        ReviewClass::kCommentedOnly, ReviewClass::kNoReview}) {
    s.classes.push_back({c, a.ByClass(c), a.SpendByClass(c)});
  }
  return s;
}

// "$5.91 (73.0 %)", and with a budget "$5.91 (73.0 %; $730,000 of every $1,000,000)".
std::string Amount(const Report& r, double usd) {
  const double total = r.audit->totals.Total().usd;
  std::string s = FormatUsd(usd) + fmt::format(" ({:.1f} %", total > 0 ? 100 * usd / total : 0);
  if (r.budget_usd) {
    s += fmt::format("; {} of every {}", Dollars(usd * r.Scale()), Dollars(*r.budget_usd));
  }
  return s + ")";
}

void AddIdleSentences(const AuditResult& a, Report* r) {
  auto usd = [&](Category c) { return a.totals.categories[static_cast<int>(c)].usd; };
  if (r->jobs_given) {
    r->headline.push_back(fmt::format(
        "{} paid for jobs that failed; {} for idle machines between jobs; {} for idle GPUs "
        "inside jobs.",
        Amount(*r, usd(Category::kFailedJob)), Amount(*r, usd(Category::kIdleOutsideJobs)),
        Amount(*r, usd(Category::kJobIdle))));
  } else {
    r->headline.push_back(fmt::format(
        "No job records were given, so the {} of idle GPU time outside never-used machines "
        "cannot be told apart as failed runs, idle jobs or machines left on: add --jobs FILE "
        "(or --jobs-format sacct).",
        FormatUsd(usd(Category::kIdleOutsideJobs))));
  }
  if (!a.memory_known) {
    r->headline.push_back(
        "Held idle (a GPU idle with its memory in use: the notebook left open) is unknown: the "
        "telemetry has no memory readings (nvidia-smi memory.used, DCGM_FI_DEV_FB_USED).");
  } else if (a.totals.held_idle.usd > 0) {
    r->headline.push_back(fmt::format(
        "{} paid for GPUs idle with memory held (at least {:g} MiB in use): {}.",
        Amount(*r, a.totals.held_idle.usd), a.options.held_memory_mib, kHeldIdlePractice));
  }
}

void AddBacktestSentence(Report* r) {
  if (!r->backtest) return;
  double saved = r->backtest->releases_usd;
  int64_t false_kills = 0;
  for (const KillRuleRow& row : r->backtest->rules) {
    saved += row.saved_usd, false_kills += row.false_kills;
  }
  if (r->jobs_given) {
    r->headline.push_back(fmt::format(
        "The autokill policy, replayed on this history, would have saved {}, with {} false "
        "kill{}.",
        Amount(*r, saved), false_kills, false_kills == 1 ? "" : "s"));
  } else {
    r->headline.push_back(fmt::format(
        "The autokill policy, replayed on this history, would have saved {} by releasing idle "
        "machines; what it would kill, and whether any kill would be false, needs job records "
        "(--jobs).",
        Amount(*r, saved)));
  }
}

// What the telemetry shows of utilisation, and no more: machines that sent none are unknown,
// and a machine idle in the one sample read was idle then, not "never ran" (TelemetryCoverage).
void AddUtilisationSentences(const AuditResult& a, Report* r) {
  const TelemetryCoverage c = a.Coverage();
  if (c.machines_with_telemetry == 0) {
    r->headline.push_back(fmt::format(
        "The utilisation of all {} machines ({}) is unknown: no telemetry was read. Add "
        "--telemetry FILE (nvidia-smi log, DCGM scrape, Prometheus export) or --prometheus URL.",
        a.machines.size(), Amount(*r, a.totals.Total().usd)));
    return;
  }
  r->headline.push_back(fmt::format("{} paid for GPUs under {:g} % utilisation.",
                                    Amount(*r, a.totals.below_threshold.usd),
                                    a.options.threshold_pct));
  if (c.machines_without > 0) {
    r->headline.push_back(fmt::format(
        "{} machine{} billed {} sent no telemetry: {} utilisation is unknown (--telemetry adds "
        "it).",
        c.machines_without, c.machines_without == 1 ? "" : "s", Amount(*r, c.without.usd),
        c.machines_without == 1 ? "its" : "their"));
  }
  const std::string of =
      c.machines_without > 0
          ? fmt::format("of the {} machines that sent telemetry", c.machines_with_telemetry)
          : fmt::format("of {} machines", a.machines.size());
  if (c.never_used > 0 || c.idle_in_one_sample == 0) {
    r->headline.push_back(fmt::format("{} {} never ran a workload: {}.", c.never_used, of,
                                      Amount(*r, c.never_used_spend.usd)));
  }
  if (c.idle_in_one_sample > 0) {
    r->headline.push_back(fmt::format(
        "{} {} {} idle in the one sample read (one scrape cannot tell whether a machine ever ran "
        "a workload): {}.",
        c.idle_in_one_sample, of, c.idle_in_one_sample == 1 ? "was" : "were",
        Amount(*r, c.idle_in_one_sample_spend.usd)));
  }
}

void AddHeadline(const AuditResult& a, Report* r) {
  auto usd = [&](Category c) { return a.totals.categories[static_cast<int>(c)].usd; };
  AddUtilisationSentences(a, r);
  AddIdleSentences(a, r);
  if (a.totals.categories[static_cast<int>(Category::kUnmonitored)].gpu_ms > 0) {
    r->headline.push_back(fmt::format("{} paid for GPU time no telemetry covers.",
                                      Amount(*r, usd(Category::kUnmonitored))));
  }
  r->headline.push_back(
      fmt::format("{} has no owner, team or project; {} bought GPU work that was measured busy.",
                  Amount(*r, a.totals.unowned.usd),
                  Amount(*r, usd(Category::kJobActive) + usd(Category::kActiveOutsideJobs))));
  AddBacktestSentence(r);
  if (r->reviews && r->reviews->have_prices && r->reviews->jobs_matched > 0) {
    double unreviewed = 0;
    for (const ReviewClassRow& c : r->reviews->classes) {
      if (c.review_class != ReviewClass::kSubstantive) unreviewed += c.spend.usd;
    }
    r->headline.push_back(
        fmt::format("{} paid for jobs running code merged without a substantive review.",
                    Amount(*r, unreviewed)));
  }
}

}  // namespace

double Report::Scale() const {
  const double total = audit->totals.Total().usd;
  return total > 0 && budget_usd ? *budget_usd / total : 0;
}

Report BuildReport(const AuditResult& audit, std::optional<double> budget_usd,
                   const BacktestResult* backtest, const ReviewAudit* reviews, int top) {
  Report r;
  r.budget_usd = budget_usd;
  r.audit = &audit;
  r.jobs_given = audit.jobs.files > 0 || audit.jobs.rows_read > 0 ||
                 std::any_of(audit.machines.begin(), audit.machines.end(),
                             [](const MachineResult& m) { return m.has_jobs; });
  const double total = audit.totals.Total().usd;
  for (Category c : kAllCategories) {
    PracticeRow p;
    p.category = c;
    p.spend = audit.totals.categories[static_cast<int>(c)];
    p.share = total > 0 ? p.spend.usd / total : 0;
    if (budget_usd) p.per_budget_usd = p.share * *budget_usd;
    p.practice = CategoryPractice(c);
    p.offer = CategoryOffer(c);
    if (audit.memory_known)
      p.held_idle_usd = audit.totals.held_idle_by_category[static_cast<int>(c)].usd;
    if (c == Category::kIdleOutsideJobs) p.held_practice = kHeldIdlePractice;
    r.practices.push_back(p);
  }
  if (audit.window_from < audit.window_to) {
    r.first_day = DayOf(audit.window_from);
    r.last_day = DayOf(audit.window_to - 1);
  }
  AddWeeks(audit, &r);
  AddPeriods(audit, &r);
  AddHeat(audit, &r);
  r.owners = SortedBySpend(audit.owners);
  r.teams = SortedBySpend(audit.teams);
  AddMachineTables(audit, top, &r);
  if (backtest != nullptr) r.backtest = SummariseBacktest(*backtest, audit, &r);
  if (reviews != nullptr) r.reviews = SummariseReviews(*reviews);
  AddHeadline(audit, &r);
  return r;
}

}  // namespace gpuledger
