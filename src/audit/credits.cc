#include "audit/credits.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

namespace gpuledger {
namespace {

constexpr double kEpsUsd = 1e-9;

// One stretch of spend accruing evenly: an audit segment, or a charge of the bill.
struct Item {
  TimeMs start, end;
  double usd;
  const SpendSegment* segment;  // null: a charge
  double scale = 1;             // what is left of the segment's figures after refunds
};

// The spend curve C(t): at breakpoint i, C(t[i]) = spent[i], growing at rate[i] until t[i + 1].
struct Curve {
  std::vector<TimeMs> t;
  std::vector<double> spent, rate;

  explicit Curve(const std::vector<Item>& items) {
    struct Event {
      TimeMs t;
      double rate;
      int active;
    };
    std::vector<Event> events;
    for (const Item& i : items) {
      const double r = i.usd / static_cast<double>(i.end - i.start);
      events.push_back({i.start, r, 1});
      events.push_back({i.end, -r, -1});
    }
    std::sort(events.begin(), events.end(),
              [](const Event& a, const Event& b) { return a.t < b.t; });
    double r = 0, c = 0;
    int active = 0;
    for (size_t k = 0; k < events.size();) {
      const TimeMs now = events[k].t;
      if (!t.empty()) c += rate.back() * static_cast<double>(now - t.back());
      for (; k < events.size() && events[k].t == now; ++k) {
        r += events[k].rate, active += events[k].active;
      }
      if (active == 0) r = 0;  // no drift carried across an idle gap
      t.push_back(now), spent.push_back(c), rate.push_back(std::max(r, 0.0));
    }
  }

  double Total() const { return spent.empty() ? 0 : spent.back(); }

  // The first instant at which C reaches "target" (strict: passes it), as fractional ms; none
  // when it never does.
  std::optional<double> Reach(double target, bool strict) const {
    for (size_t i = 0; i + 1 < t.size(); ++i) {
      const double next = spent[i] + rate[i] * static_cast<double>(t[i + 1] - t[i]);
      const bool reached = strict ? next > target + kEpsUsd : next >= target - kEpsUsd;
      if (!reached || rate[i] <= 0) continue;
      return static_cast<double>(t[i]) + std::max(0.0, target - spent[i]) / rate[i];
    }
    return std::nullopt;
  }
};

// Adds "fraction" of an item to a batch's figures; "day" is the UTC day that part falls in.
void Credit(const Item& item, double fraction, int64_t day, BatchResult* b,
            std::map<const Job*, double>* jobs) {
  const double usd = item.usd * fraction;
  b->spent_usd += usd;
  b->daily_teams[day][item.segment ? *item.segment->team : kNotGpuTime] += usd;
  if (item.segment == nullptr) {
    b->other_charges_usd += usd;
    b->outcomes["no_job"] += usd;
    b->owners[kNotGpuTime] += usd, b->teams[kNotGpuTime] += usd, b->projects[kNotGpuTime] += usd;
    return;
  }
  const SpendSegment& s = *item.segment;
  fraction *= item.scale;  // the segment's figures, net of refunds netted against it
  b->owners[*s.owner] += usd, b->teams[*s.team] += usd, b->projects[*s.project] += usd;
  b->outcomes[JobOutcome(s.job)] += usd;
  double idle = 0, waste = 0;
  for (Category c : kAllCategories) {
    const double part = s.category_usd[static_cast<int>(c)] * fraction;
    b->categories[static_cast<int>(c)] += part;
    if (c == Category::kNeverUsed || c == Category::kJobIdle || c == Category::kIdleOutsideJobs) {
      idle += part;
    }
    if (IsWaste(c)) waste += part;
  }
  b->teams_idle[*s.team] += idle;
  b->waste_usd += waste;
  b->held_idle_usd += s.held_idle_usd * fraction;
  if (s.job != nullptr) (*jobs)[s.job] += usd;
}

// Scales the items "in" selects down by "refund" in all, in proportion to their amounts (a
// segment's figures with them); returns what is left of the refund.
template <typename Select>
double Net(double refund, std::vector<Item>* items, Select&& in) {
  double total = 0;
  for (size_t i = 0; i < items->size(); ++i) total += in(i) ? (*items)[i].usd : 0;
  const double applied = std::min(refund, total);
  if (applied <= 0) return refund;
  for (size_t i = 0; i < items->size(); ++i) {
    if (!in(i)) continue;
    (*items)[i].usd *= 1 - applied / total;
    (*items)[i].scale *= 1 - applied / total;
  }
  return refund - applied;
}

// Spreads the part of "item" inside [from, to) over the UTC hours it falls in (it accrues
// evenly): a batch used up within a day gets an hourly burn-down.
void CreditHours(const Item& item, double from, double to, BatchResult* b) {
  const double a = std::max(static_cast<double>(item.start), from);
  const double z = std::min(static_cast<double>(item.end), to);
  if (z <= a) return;
  const double rate = item.usd / static_cast<double>(item.end - item.start);
  const std::string& team = item.segment ? *item.segment->team : std::string(kNotGpuTime);
  for (auto hour = static_cast<int64_t>(std::floor(a / kMsPerHour));
       static_cast<double>(hour) * kMsPerHour < z; ++hour) {
    const double h0 = std::max(a, static_cast<double>(hour) * kMsPerHour);
    const double h1 = std::min(z, static_cast<double>(hour + 1) * kMsPerHour);
    if (h1 > h0) b->hourly_teams[hour][team] += rate * (h1 - h0);
  }
}

// The bill's timed charges inside the audit window, prorated, with refunds (negative charges
// inside usage) netted against the positive charges of their own category in the window, then
// against all of them, in proportion to their amounts; returns them and puts in *left what no
// charge could absorb.
std::vector<Item> NetChargesOf(const AuditResult& audit, const std::vector<TimedCharge>& charges,
                               double* left) {
  std::vector<Item> items;
  std::vector<const std::string*> category_of;  // by item
  std::map<std::string, double> refunds;        // category → USD (positive)
  for (const TimedCharge& c : charges) {
    const TimeMs from = std::max(c.start, audit.options.window_from);
    const TimeMs to = std::min(c.end, audit.options.window_to);
    if (to <= from || c.usd == 0) continue;
    const double share = static_cast<double>(to - from) / static_cast<double>(c.end - c.start);
    if (c.usd < 0) {
      refunds[c.category] -= c.usd * share;
      continue;
    }
    items.push_back({from, to, c.usd * share, nullptr});
    category_of.push_back(&c.category);
  }
  double unabsorbed = 0;
  for (const auto& [category, refund] : refunds) {
    unabsorbed += Net(refund, &items, [&](size_t i) { return *category_of[i] == category; });
  }
  *left = Net(unabsorbed, &items, [](size_t) { return true; });
  return items;
}

std::vector<Item> ItemsOf(const AuditResult& audit, const std::vector<TimedCharge>& charges) {
  std::vector<Item> items;
  for (const MachineResult& m : audit.machines) {
    for (const SpendSegment& s : m.segments) {
      if (s.end > s.start && s.usd > 0) items.push_back({s.start, s.end, s.usd, &s});
    }
  }
  // Spend is the bill's net spend (GPU time plus other_charges_usd), and the curve never falls:
  // refunds net against charges, and what they cannot absorb against GPU time.
  double left = 0;
  for (const Item& charge : NetChargesOf(audit, charges, &left)) items.push_back(charge);
  if (left > 0) Net(left, &items, [&](size_t i) { return items[i].segment != nullptr; });
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.start < b.start; });
  return items;
}

double Overlap(const Item& i, double from, double to) {
  const double a = std::max(static_cast<double>(i.start), from);
  const double b = std::min(static_cast<double>(i.end), to);
  return b > a ? (b - a) / static_cast<double>(i.end - i.start) : 0;
}

Runway RunwayOf(const CreditsResult& r, const std::vector<Item>& items, const AuditResult& audit,
                const CreditsOptions& o) {
  Runway w;
  for (const BatchResult& b : r.batches) w.left_usd += b.left_usd;
  if (audit.window_from >= audit.window_to) return w;
  w.burn_to = audit.window_to;
  w.burn_from = std::max(audit.window_from, audit.window_to - o.burn_window_ms);
  const double days = static_cast<double>(w.burn_to - w.burn_from) / kMsPerDay;
  double spent = 0, waste = 0;
  for (const Item& i : items) {
    const double f = Overlap(i, static_cast<double>(w.burn_from), static_cast<double>(w.burn_to));
    if (f <= 0) continue;
    spent += i.usd * f;
    if (i.segment == nullptr) continue;
    for (Category c : kAllCategories) {
      if (IsWaste(c)) waste += i.segment->category_usd[static_cast<int>(c)] * f * i.scale;
    }
  }
  w.daily_burn_usd = spent / days;
  w.waste_per_day_usd = waste / days;
  if (w.daily_burn_usd > kEpsUsd) {
    w.days = w.left_usd / w.daily_burn_usd;
    w.runs_out = w.burn_to + std::llround(std::min(*w.days, kMaxRunwayDays) * kMsPerDay);
    const double without = w.daily_burn_usd - w.waste_per_day_usd;
    if (without > kEpsUsd) w.days_of_waste = w.left_usd / without - *w.days;
  }
  return w;
}

}  // namespace

double BatchResult::Outcome(const std::string& outcome) const {
  auto it = outcomes.find(outcome);
  return it == outcomes.end() ? 0 : it->second;
}

std::string JobOutcome(const Job* job) {
  if (job == nullptr) return "no_job";
  if (IsCompletedStatus(job->status)) return "completed";
  std::string status = job->status;
  for (char& c : status) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (status == "killed") return "killed";
  if (job->failed) return "failed";
  if (status == "running" || status == "pending" || status == "suspended") return "running";
  return "unknown";
}

CreditsResult ConsumeCredits(std::vector<CreditBatch> batches, const AuditResult& audit,
                             const std::vector<TimedCharge>& charges,
                             const CreditsOptions& options) {
  std::stable_sort(batches.begin(), batches.end(), [](const CreditBatch& a, const CreditBatch& b) {
    return a.date != b.date ? a.date < b.date : a.order < b.order;
  });
  const std::vector<Item> items = ItemsOf(audit, charges);
  const Curve curve(items);
  CreditsResult r;
  r.spent_usd = curve.Total();
  // Batch k pays for the time between bounds[k] and bounds[k + 1].
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> bounds = {-kInf};
  double before = 0;
  for (const CreditBatch& batch : batches) {
    BatchResult b;
    b.batch = batch;
    if (auto t = curve.Reach(before, true)) b.started = std::llround(*t);
    const double after = before + batch.amount_usd;
    const std::optional<double> out = curve.Reach(after, false);
    if (out) b.ran_out = std::llround(*out);
    bounds.push_back(out ? *out : kInf);
    r.batches.push_back(std::move(b));
    before = after;
  }
  std::vector<std::map<const Job*, double>> jobs(r.batches.size());
  std::vector<bool> by_hour(r.batches.size());  // used up within a day: an hourly burn-down
  for (size_t k = 0; k < r.batches.size(); ++k) {
    const BatchResult& b = r.batches[k];
    by_hour[k] = b.started && b.ran_out && *b.ran_out - *b.started <= kMsPerDay;
  }
  for (const Item& item : items) {
    if (item.end <= item.start) continue;
    // The first batch whose span ends after the item starts.
    size_t k = std::upper_bound(bounds.begin() + 1, bounds.end(), static_cast<double>(item.start)) -
               bounds.begin() - 1;
    double covered = 0;
    for (; k < r.batches.size() && bounds[k] < static_cast<double>(item.end); ++k) {
      const double f = Overlap(item, bounds[k], bounds[k + 1]);
      if (f > 0) {
        const double mid = (std::max(static_cast<double>(item.start), bounds[k]) +
                            std::min(static_cast<double>(item.end), bounds[k + 1])) /
                           2;
        Credit(item, f, DayOf(static_cast<TimeMs>(mid)), &r.batches[k], &jobs[k]);
        if (by_hour[k]) CreditHours(item, bounds[k], bounds[k + 1], &r.batches[k]);
      }
      covered += f;
    }
    r.uncovered_usd += item.usd * std::max(0.0, 1 - covered);
  }
  for (size_t k = 0; k < r.batches.size(); ++k) {
    BatchResult& b = r.batches[k];
    b.left_usd = std::max(0.0, b.batch.amount_usd - b.spent_usd);
    if (b.ran_out) b.left_usd = 0;
    for (const auto& [job, usd] : jobs[k]) b.top_jobs.push_back({job, usd});
    std::sort(b.top_jobs.begin(), b.top_jobs.end(), [](const BatchJob& x, const BatchJob& y) {
      return x.usd != y.usd ? x.usd > y.usd : x.job->id < y.job->id;
    });
    if (b.top_jobs.size() > kTopJobsPerBatch) b.top_jobs.resize(kTopJobsPerBatch);
  }
  if (r.uncovered_usd < kEpsUsd) r.uncovered_usd = 0;
  r.runway = RunwayOf(r, items, audit, options);
  return r;
}

}  // namespace gpuledger
