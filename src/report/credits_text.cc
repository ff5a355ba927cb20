#include "report/credits_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "report/audit_text.h"

namespace gpuledger {
namespace {

constexpr const char* kOutcomes[] = {"completed", "failed",  "killed",
                                     "running",   "unknown", "no_job"};

std::vector<std::pair<std::string, double>> Largest(const std::map<std::string, double>& m,
                                                    size_t n) {
  std::vector<std::pair<std::string, double>> v(m.begin(), m.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (v.size() > n) v.resize(n);
  return v;
}

// Whole dollars for sums people read at a glance; cents below $1,000.
std::string Money(double usd) { return FormatUsd(usd, std::fabs(usd) < 1000); }

std::string Percent(double part, double whole) {
  return fmt::format("{:.0f} %", whole > 0 ? 100 * part / whole : 0);
}

void WriteUsdMap(JsonWriter& w, const std::map<std::string, double>& m) {
  w.BeginObject();
  for (const auto& [k, v] : m) w.Key(k).Number(v, kUsdDecimals);
  w.EndObject();
}

void WriteOptionalTime(JsonWriter& w, const std::optional<TimeMs>& t) {
  if (t)
    w.String(FormatIsoUtc(*t));
  else
    w.Null();
}

void WriteBatch(JsonWriter& w, const BatchResult& b, bool memory_known) {
  w.BeginObject();
  w.Key("label").String(b.batch.label).Key("date").String(FormatIsoUtc(b.batch.date));
  w.Key("amount_usd").Number(b.batch.amount_usd, kUsdDecimals);
  w.Key("started");
  WriteOptionalTime(w, b.started);
  w.Key("ran_out");
  WriteOptionalTime(w, b.ran_out);
  w.Key("spent_usd").Number(b.spent_usd, kUsdDecimals);
  w.Key("left_usd").Number(b.left_usd, kUsdDecimals);
  w.Key("owners");
  WriteUsdMap(w, b.owners);
  w.Key("teams");
  WriteUsdMap(w, b.teams);
  w.Key("projects");
  WriteUsdMap(w, b.projects);
  w.Key("categories").BeginObject();
  for (Category c : kAllCategories) {
    w.Key(CategoryId(c)).Number(b.categories[static_cast<int>(c)], kUsdDecimals);
  }
  w.Key("other_charges").Number(b.other_charges_usd, kUsdDecimals);
  w.EndObject();
  w.Key("outcomes").BeginObject();
  for (const char* o : kOutcomes) w.Key(o).Number(b.Outcome(o), kUsdDecimals);
  w.EndObject();
  w.Key("held_idle_usd");
  if (memory_known)
    w.Number(b.held_idle_usd, kUsdDecimals);
  else
    w.Null();
  w.Key("waste_usd").Number(b.waste_usd, kUsdDecimals);
  w.Key("top_jobs").BeginArray();
  for (const BatchJob& j : b.top_jobs) {
    w.BeginObject();
    w.Key("id").String(j.job->id).Key("machine").String(j.job->machine);
    w.Key("owner").String(j.job->owner).Key("outcome").String(JobOutcome(j.job));
    w.Key("usd").Number(j.usd, kUsdDecimals);
    w.EndObject();
  }
  w.EndArray();
  w.Key("daily").BeginArray();
  for (const auto& [day, teams] : b.daily_teams) {
    w.BeginObject();
    w.Key("day").String(FormatIsoUtc(day * kMsPerDay).substr(0, 10));
    w.Key("teams");
    WriteUsdMap(w, teams);
    w.EndObject();
  }
  w.EndArray();
  w.Key("hourly").BeginArray();  // only for a batch used up within a day
  for (const auto& [hour, teams] : b.hourly_teams) {
    w.BeginObject();
    w.Key("hour").String(FormatIsoUtc(hour * kMsPerHour).substr(0, 16) + "Z");
    w.Key("teams");
    WriteUsdMap(w, teams);
    w.EndObject();
  }
  w.EndArray();
  w.Key("summary").String(BatchSentence(b));
  w.EndObject();
}

}  // namespace

std::string ShortDate(TimeMs t) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::string iso = FormatIsoUtc(t);  // YYYY-MM-DDT…
  const int month = std::stoi(iso.substr(5, 2)), day = std::stoi(iso.substr(8, 2));
  return fmt::format("{} {} {}", day, kMonths[month - 1], iso.substr(0, 4));
}

std::string BatchSentence(const BatchResult& b) {
  std::string out = fmt::format("{} ({}, bought {}) ", b.batch.label, Money(b.batch.amount_usd),
                                ShortDate(b.batch.date));
  if (b.ran_out) {
    out += "ran out on " + ShortDate(*b.ran_out);
  } else if (!b.started) {
    out += "is unused";
    return out;
  } else {
    out += "has " + Money(b.left_usd) + " left";
  }
  out += ": ";
  const auto teams = Largest(b.teams, 3);
  for (size_t i = 0; i < teams.size(); ++i) {
    const auto& [team, usd] = teams[i];
    auto idle = b.teams_idle.find(team);
    out += fmt::format("{}{} {} ({} idle)", i ? ", " : "", team, Money(usd),
                       Percent(idle == b.teams_idle.end() ? 0 : idle->second, usd));
  }
  if (b.teams.size() > teams.size())
    out += fmt::format(" and {} more", b.teams.size() - teams.size());
  out +=
      "; " + Percent(b.FailedOrKilled(), b.spent_usd) + " paid for runs that failed or were killed";
  return out;
}

std::string RunwaySentence(const CreditsResult& c) {
  if (c.batches.empty()) return "";
  const Runway& w = c.runway;
  std::string out = Money(w.left_usd) + " left";
  if (!w.days) return out + ": no spend in the burn window to project a run-out from.";
  out += fmt::format(": at {} a day (the mean of the last {}) it ", Money(w.daily_burn_usd),
                     FormatDuration(w.burn_to - w.burn_from));
  if (w.left_usd <= 0)
    out += "has run out";
  else if (*w.days > kMaxRunwayDays)
    out += "lasts more than a century (past " + ShortDate(*w.runs_out) + ")";
  else
    out += "runs out on " + ShortDate(*w.runs_out);
  if (c.uncovered_usd > 0) out += "; " + Money(c.uncovered_usd) + " spent is uncovered";
  out += fmt::format("; the waste categories cost {} a day", Money(w.waste_per_day_usd));
  if (w.days_of_waste && w.left_usd > 0)
    out += fmt::format(", {:.1f} days of runway", *w.days_of_waste);
  return out + ".";
}

std::string BudgetSentence(const BudgetUse& u) {
  return fmt::format("{} {}: {} of {} in {} ({:.0f} %{})",
                     u.budget.kind == Budget::Kind::kTeam ? "team" : "owner", u.budget.name,
                     Money(u.used_usd), Money(u.budget.usd_per_period), u.period.Label(),
                     u.used_pct, u.level >= 100 ? ", over budget" : "");
}

std::string CreditsTable(const AuditResult& r) {
  std::string out;
  auto o = std::back_inserter(out);
  if (r.credits) {
    const CreditsResult& c = *r.credits;
    fmt::format_to(o, "\nWho burned the last batch\n");
    for (auto it = c.batches.rbegin(); it != c.batches.rend(); ++it) {
      fmt::format_to(o, "  {}\n", BatchSentence(*it));
    }
    if (c.batches.empty()) fmt::format_to(o, "  no batches\n");
    fmt::format_to(o, "  {}\n", RunwaySentence(c));
    fmt::format_to(o, "  {:<20} {:<11} {:>12} {:<11} {:<11} {:>12} {:>12} {:>12}\n", "batch",
                   "bought", "amount", "started", "ran out", "spent", "left", "waste");
    for (const BatchResult& b : c.batches) {
      fmt::format_to(o, "  {:<20} {:<11} {:>12} {:<11} {:<11} {:>12} {:>12} {:>12}\n",
                     b.batch.label, FormatIsoUtc(b.batch.date).substr(0, 10),
                     FormatUsd(b.batch.amount_usd),
                     b.started ? FormatIsoUtc(*b.started).substr(0, 10) : "-",
                     b.ran_out ? FormatIsoUtc(*b.ran_out).substr(0, 10) : "-",
                     FormatUsd(b.spent_usd), FormatUsd(b.left_usd), FormatUsd(b.waste_usd));
    }
    if (c.uncovered_usd > 0) fmt::format_to(o, "  uncovered: {}\n", FormatUsd(c.uncovered_usd));
  }
  if (r.budgets) {
    fmt::format_to(o, "\nBudgets\n");
    for (const BudgetUse& u : *r.budgets) fmt::format_to(o, "  {}\n", BudgetSentence(u));
  }
  return out;
}

void WriteCreditsJson(JsonWriter& w, const AuditResult& r) {
  w.Key("credits");
  if (!r.credits) {
    w.Null();
  } else {
    const CreditsResult& c = *r.credits;
    w.BeginObject();
    w.Key("batches").BeginArray();
    for (const BatchResult& b : c.batches) WriteBatch(w, b, r.memory_known);
    w.EndArray();
    w.Key("spent_usd").Number(c.spent_usd, kUsdDecimals);
    w.Key("uncovered_usd").Number(c.uncovered_usd, kUsdDecimals);
    const Runway& run = c.runway;
    w.Key("runway").BeginObject();
    w.Key("left_usd").Number(run.left_usd, kUsdDecimals);
    w.Key("burn_from").String(FormatIsoUtc(run.burn_from));
    w.Key("burn_to").String(FormatIsoUtc(run.burn_to));
    w.Key("daily_burn_usd").Number(run.daily_burn_usd, kUsdDecimals);
    w.Key("runs_out");
    if (run.runs_out)
      w.String(FormatIsoUtc(*run.runs_out).substr(0, 10));
    else
      w.Null();
    w.Key("days");
    if (run.days)
      w.Number(*run.days, 2);
    else
      w.Null();
    w.Key("waste_per_day_usd").Number(run.waste_per_day_usd, kUsdDecimals);
    w.Key("days_of_waste");
    if (run.days_of_waste)
      w.Number(*run.days_of_waste, 2);
    else
      w.Null();
    w.Key("summary").String(RunwaySentence(c));
    w.EndObject();
    w.EndObject();
  }
  w.Key("budgets");
  if (r.budgets)
    WriteBudgetsJson(w, *r.budgets);
  else
    w.Null();
}

void WriteBudgetsJson(JsonWriter& w, const std::vector<BudgetUse>& uses) {
  w.BeginArray();
  for (const BudgetUse& u : uses) {
    w.BeginObject();
    w.Key("kind").String(u.budget.kind == Budget::Kind::kTeam ? "team" : "owner");
    w.Key("name").String(u.budget.name).Key("budget").String(u.budget.Key());
    w.Key("period").String(u.period.Label());
    w.Key("period_start").String(FormatIsoUtc(u.period.from));
    w.Key("measured_to").String(FormatIsoUtc(u.measured_to));
    w.Key("budget_usd").Number(u.budget.usd_per_period, kUsdDecimals);
    w.Key("used_usd").Number(u.used_usd, kUsdDecimals);
    w.Key("used_pct").Number(u.used_pct, 2);
    w.Key("level").Int(u.level);
    w.Key("summary").String(BudgetSentence(u));
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace gpuledger
