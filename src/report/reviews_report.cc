#include "report/reviews_report.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/csv_table.h"
#include "core/json_writer.h"
#include "report/audit_text.h"

namespace gpuledger {
namespace {

constexpr ReviewClass kClasses[] = {ReviewClass::kSubstantive, ReviewClass::kRubberStamped,
                                    ReviewClass::kCommentedOnly, ReviewClass::kNoReview};

struct IgnoredWarning {
  const PullRequest* pr;
  const BotWarning* warning;
};

std::vector<IgnoredWarning> Ignored(const ReviewAudit& a) {
  std::vector<IgnoredWarning> out;
  for (const PrReviewFacts& f : a.facts) {
    for (const BotWarning& w : f.warnings) {
      if (w.ignored) out.push_back({f.pr, &w});
    }
  }
  return out;
}

// Long-open PRs, the ones that fired most GPU jobs first.
std::vector<size_t> LongOpen(const ReviewAudit& a) {
  std::vector<size_t> out;
  for (size_t i = 0; i < a.facts.size(); ++i) {
    if (a.facts[i].long_open) out.push_back(i);
  }
  std::stable_sort(out.begin(), out.end(), [&](size_t x, size_t y) {
    return a.spend[x].jobs != a.spend[y].jobs ? a.spend[x].jobs > a.spend[y].jobs
                                              : a.facts[x].days_open > a.facts[y].days_open;
  });
  return out;
}

std::string Quote(std::string s, size_t max = 120) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return "'" + s + "'";
}

void WriteOptionalHours(JsonWriter& w, const std::optional<DurationMs>& d) {
  if (d)
    w.Number(static_cast<double>(*d) / kMsPerHour, 3);
  else
    w.Null();
}

// {class id: value(class)} for the four review classes.
template <typename Fn>
void WriteByClass(JsonWriter& w, Fn&& value) {
  w.BeginObject();
  for (ReviewClass c : kClasses) {
    w.Key(ReviewClassId(c));
    value(c);
  }
  w.EndObject();
}

void WriteIgnoredWarnings(JsonWriter& w, const ReviewAudit& a) {
  w.BeginArray();
  for (const IgnoredWarning& iw : Ignored(a)) {
    w.BeginObject();
    w.Key("pr").String(iw.pr->Ref()).Key("bot").String(iw.warning->bot);
    w.Key("sentence").String(iw.warning->sentence).Key("where").String(iw.warning->where);
    w.Key("at").String(FormatIsoUtc(iw.warning->at));
    w.Key("approving_text").String(iw.warning->approving_text);
    w.Key("approver").String(iw.warning->approver);
    w.EndObject();
  }
  w.EndArray();
}

void WriteLongOpen(JsonWriter& w, const ReviewAudit& a) {
  w.BeginArray();
  for (size_t i : LongOpen(a)) {
    w.BeginObject();
    w.Key("pr").String(a.prs[i].Ref()).Key("days_open").Number(a.facts[i].days_open, 2);
    w.Key("state").String(a.prs[i].merged() ? "merged" : a.prs[i].closed_at ? "closed" : "open");
    w.Key("jobs").Int(a.spend[i].jobs).Key("gpu_hours").Number(a.spend[i].gpu_hours);
    w.Key("usd").Number(a.spend[i].usd, kUsdDecimals);
    w.EndObject();
  }
  w.EndArray();
}

void WriteByRepo(JsonWriter& w, const ReviewAudit& a) {
  w.BeginArray();
  for (const RepoReviewSummary& r : a.ByRepo()) {
    w.BeginObject();
    w.Key("repo").String(r.repo).Key("prs").Int(r.prs).Key("merged").Int(r.merged);
    w.Key("by_class");
    WriteByClass(w, [&](ReviewClass c) { w.Int(r.by_class[static_cast<int>(c)]); });
    w.Key("substantive_reviews").Int(r.substantive_reviews);
    w.Key("bot_warnings_ignored").Int(r.warnings_ignored);
    w.Key("jobs").Int(r.spend.jobs).Key("gpu_hours").Number(r.spend.gpu_hours);
    if (a.have_prices) w.Key("usd").Number(r.spend.usd, kUsdDecimals);
    w.EndObject();
  }
  w.EndArray();
}

// The join to GPU jobs: present only when jobs were given.
void WriteJobJoin(JsonWriter& w, const ReviewAudit& a) {
  if (!a.have_jobs) return;
  w.Key("jobs_matched").Int(a.jobs_matched).Key("jobs_unmatched").Int(a.jobs_unmatched);
  w.Key("jobs_by_class");
  WriteByClass(w, [&](ReviewClass c) { w.Int(a.SpendByClass(c).jobs); });
  w.Key("gpu_hours_by_class");
  WriteByClass(w, [&](ReviewClass c) { w.Number(a.SpendByClass(c).gpu_hours); });
  if (a.have_prices) {
    w.Key("spend_by_class");
    WriteByClass(w, [&](ReviewClass c) { w.Number(a.SpendByClass(c).usd, kUsdDecimals); });
  }
}

void WritePullRequest(JsonWriter& w, const ReviewAudit& a, size_t i) {
  const PullRequest& p = a.prs[i];
  const PrReviewFacts& f = a.facts[i];
  w.BeginObject();
  w.Key("pr").String(p.Ref()).Key("author").String(p.author.login).Key("title").String(p.title);
  w.Key("created_at").String(FormatIsoUtc(p.created_at));
  w.Key("merged_at");
  if (p.merged_at)
    w.String(FormatIsoUtc(*p.merged_at));
  else
    w.Null();
  w.Key("class");
  if (f.review_class)
    w.String(ReviewClassId(*f.review_class));
  else
    w.Null();
  w.Key("human_reviews").Int(f.human_reviews);
  w.Key("substantive_reviews").Int(f.substantive_reviews);
  w.Key("rubber_stamps").Int(f.rubber_stamps).Key("bot_reviews").Int(f.bot_reviews);
  w.Key("bot_comments").Int(f.bot_comments);
  w.Key("hours_to_first_review");
  WriteOptionalHours(w, f.to_first_review);
  w.Key("hours_to_merge");
  WriteOptionalHours(w, f.to_merge);
  w.Key("days_open").Number(f.days_open, 2).Key("long_open").Bool(f.long_open);
  w.Key("jobs").Int(a.spend[i].jobs).Key("gpu_hours").Number(a.spend[i].gpu_hours);
  w.Key("usd").Number(a.spend[i].usd, kUsdDecimals);
  w.EndObject();
}

}  // namespace

std::string ReviewsToJson(const ReviewAudit& a) {
  JsonWriter w;
  w.BeginObject();
  w.Key("schema").String("gpuledger.reviews/1");
  w.Key("as_of").String(FormatIsoUtc(a.options.as_of));
  w.Key("repos").Int(static_cast<int64_t>(a.repos.size()));
  w.Key("prs").Int(static_cast<int64_t>(a.prs.size()));
  w.Key("merged").Int(a.Merged());
  w.Key("by_class");
  WriteByClass(w, [&](ReviewClass c) { w.Int(a.ByClass(c)); });
  w.Key("merged_without_review").Int(a.MergedWithNoReview());
  w.Key("merged_reviews_unknown").Int(a.MergedReviewsUnknown());
  w.Key("substantive_reviews").Int(a.SubstantiveReviews());
  w.Key("bot_warnings_ignored");
  WriteIgnoredWarnings(w, a);
  w.Key("long_open");
  WriteLongOpen(w, a);
  w.Key("quick_approvals_on_large_diffs").BeginArray();
  for (const PrReviewFacts& f : a.facts) {
    if (f.quick_large_approval) w.String(f.pr->Ref());
  }
  w.EndArray();
  w.Key("by_repo");
  WriteByRepo(w, a);
  WriteJobJoin(w, a);
  w.Key("pull_requests").BeginArray();
  for (size_t i = 0; i < a.prs.size(); ++i) WritePullRequest(w, a, i);
  w.EndArray();
  w.EndObject();
  return w.str() + "\n";
}

std::string ReviewsToTable(const ReviewAudit& a, int top) {
  std::string out;
  auto line = [&](const std::string& s) { out += s + "\n"; };
  const int64_t merged = a.Merged();
  const int64_t unknown = a.MergedReviewsUnknown();
  if (unknown == merged && merged > 0) {
    line(fmt::format(
        "{} pull requests across {} repos, {} merged: no reviews or comments were saved for any "
        "of them, so whether they were reviewed is unknown — `gpuledger reviews fetch` saves "
        "them (pulls/N/reviews).",
        a.prs.size(), a.repos.size(), merged));
  } else {
    line(fmt::format(
        "{} pull requests across {} repos: {} substantive code review{} in the lot; "
        "{} of {} merged PRs merged with no review, {} rubber-stamped.{}",
        a.prs.size(), a.repos.size(), a.SubstantiveReviews(),
        a.SubstantiveReviews() == 1 ? "" : "s", a.MergedWithNoReview(), merged - unknown,
        a.ByClass(ReviewClass::kRubberStamped),
        unknown == 0 ? ""
                     : fmt::format(" {} more merged PRs are of repos whose reviews were not "
                                   "saved: unknown.",
                                   unknown)));
  }
  const auto ignored = Ignored(a);
  for (size_t i = 0; i < std::min<size_t>(top, ignored.size()); ++i) {
    const auto& iw = ignored[i];
    line(iw.warning->approving_text.empty() && iw.warning->approver.empty()
             ? fmt::format("An automated reviewer ({}) flagged {} on {}, and it was merged with "
                           "no substantive review after it.",
                           iw.warning->bot, Quote(iw.warning->sentence), iw.pr->Ref())
             : fmt::format("An automated reviewer ({}) flagged {} on {} while {} waved it "
                           "through with {}.",
                           iw.warning->bot, Quote(iw.warning->sentence), iw.pr->Ref(),
                           iw.warning->approver, Quote(iw.warning->approving_text, 60)));
  }
  for (size_t i : LongOpen(a)) {
    if (a.spend[i].jobs == 0) break;
    line(fmt::format("{} was held open {:.0f} days and fired {} GPU job{} ({:.1f} GPU-hours{}).",
                     a.prs[i].Ref(), a.facts[i].days_open, a.spend[i].jobs,
                     a.spend[i].jobs == 1 ? "" : "s", a.spend[i].gpu_hours,
                     a.have_prices ? ", " + FormatUsd(a.spend[i].usd) : ""));
  }
  if (a.have_jobs) {
    const PrSpend none = a.SpendByClass(ReviewClass::kNoReview);
    const PrSpend stamped = a.SpendByClass(ReviewClass::kRubberStamped);
    line(
        fmt::format("{} of GPU time ({:.1f} GPU-hours, {} jobs) came from PRs nobody reviewed; "
                    "{} ({:.1f} GPU-hours) from rubber-stamped ones.",
                    a.have_prices ? FormatUsd(none.usd) : "-", none.gpu_hours, none.jobs,
                    a.have_prices ? FormatUsd(stamped.usd) : "-", stamped.gpu_hours));
  }
  out += fmt::format("\n{:<32} {:>5} {:>7} {:>12} {:>14} {:>15} {:>10} {:>8}\n", "repo", "PRs",
                     "merged", "substantive", "rubber-stamped", "commented-only", "no review",
                     "GPU jobs");
  for (const RepoReviewSummary& r : a.ByRepo()) {
    out += fmt::format("{:<32} {:>5} {:>7} {:>12} {:>14} {:>15} {:>10} {:>8}\n", r.repo, r.prs,
                       r.merged, r.by_class[0], r.by_class[1], r.by_class[2], r.by_class[3],
                       r.spend.jobs);
  }
  return out;
}

std::string ReviewsToCsv(const ReviewAudit& a) {
  std::string out =
      "pr,author,created_at,merged_at,class,human_reviews,substantive_reviews,rubber_stamps,"
      "bot_warnings,bot_warnings_ignored,days_open,long_open,jobs,gpu_hours,usd\n";
  for (size_t i = 0; i < a.prs.size(); ++i) {
    const PullRequest& p = a.prs[i];
    const PrReviewFacts& f = a.facts[i];
    const auto ignored = std::count_if(f.warnings.begin(), f.warnings.end(),
                                       [](const BotWarning& w) { return w.ignored; });
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{:.2f},{},{},{:.6f},{:.4f}\n",
                       CsvQuote(p.Ref()), CsvQuote(p.author.login), FormatIsoUtc(p.created_at),
                       p.merged_at ? FormatIsoUtc(*p.merged_at) : "",
                       f.review_class ? ReviewClassId(*f.review_class) : "", f.human_reviews,
                       f.substantive_reviews, f.rubber_stamps, f.warnings.size(), ignored,
                       f.days_open, f.long_open ? "true" : "false", a.spend[i].jobs,
                       a.spend[i].gpu_hours, a.spend[i].usd);
  }
  return out;
}

}  // namespace gpuledger
