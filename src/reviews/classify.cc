#include "reviews/classify.h"

#include <re2/re2.h>

#include <algorithm>
#include <sstream>

#include "core/error.h"

namespace gpuledger {
namespace {

int WordCount(const std::string& text) {
  std::istringstream in(text);
  int n = 0;
  for (std::string w; in >> w;) ++n;
  return n;
}

bool IsHumanReview(const GhReview& r, const PullRequest& pr) {
  return !r.user.IsBot() && !r.user.login.empty() && r.user.login != pr.author.login;
}

// The sentence of "text" around [pos, pos + len), trimmed.
std::string SentenceAround(const std::string& text, size_t pos, size_t len) {
  size_t begin = text.find_last_of(".!?\n", pos == 0 ? 0 : pos - 1);
  begin = begin == std::string::npos || begin >= pos ? 0 : begin + 1;
  size_t end = text.find_first_of(".!?\n", pos + len);
  end = end == std::string::npos ? text.size() : end + (text[end] == '\n' ? 0 : 1);
  std::string s = text.substr(begin, end - begin);
  s.erase(0, s.find_first_not_of(" \t\r\n"));
  s.erase(s.find_last_not_of(" \t\r\n") + 1);
  return s;
}

std::optional<std::string> MatchWarning(const std::string& text, const WarningPatterns& patterns) {
  for (const auto& re : patterns) {
    re2::StringPiece m;
    if (re->Match(text, 0, text.size(), re2::RE2::UNANCHORED, &m, 1)) {
      return SentenceAround(text, static_cast<size_t>(m.data() - text.data()), m.size());
    }
  }
  return std::nullopt;
}

void FindWarnings(const PullRequest& pr, const WarningPatterns& patterns, PrReviewFacts* f) {
  auto add = [&](const GhUser& user, const std::string& body, TimeMs at, const char* where) {
    if (!user.IsBot()) return;
    if (auto sentence = MatchWarning(body, patterns)) {
      f->warnings.push_back({user.login, *sentence, where, at, false, "", ""});
    }
  };
  for (const GhReview& r : pr.reviews)
    add(r.user, r.body, r.submitted_at.value_or(pr.created_at), "review");
  for (const GhComment& c : pr.review_comments) add(c.user, c.body, c.created_at, "inline_comment");
  for (const GhComment& c : pr.issue_comments) add(c.user, c.body, c.created_at, "comment");
}

}  // namespace

std::string_view ReviewClassId(ReviewClass c) {
  switch (c) {
    case ReviewClass::kSubstantive:
      return "substantive";
    case ReviewClass::kRubberStamped:
      return "rubber_stamped";
    case ReviewClass::kCommentedOnly:
      return "commented_only";
    case ReviewClass::kNoReview:
      return "no_review";
  }
  return "?";
}

Result<WarningPatterns> CompileWarningPatterns(const std::vector<std::string>& patterns) {
  WarningPatterns out;
  for (const std::string& p : patterns) {
    re2::RE2::Options options;
    options.set_case_sensitive(false);
    options.set_log_errors(false);
    auto re = std::make_shared<const re2::RE2>(p, options);
    if (!re->ok())
      return MakeError(ErrorCode::kUsage, "not a regular expression (RE2): " + re->error(), p);
    out.push_back(std::move(re));
  }
  return out;
}

bool IsSubstantive(const GhReview& r, const PullRequest& pr, int words) {
  if (r.state == "CHANGES_REQUESTED") return true;
  if (WordCount(r.body) >= words) return true;
  return std::any_of(pr.review_comments.begin(), pr.review_comments.end(),
                     [&](const GhComment& c) { return c.review_id && *c.review_id == r.id; });
}

PrReviewFacts ClassifyPr(const PullRequest& pr, const ReviewOptions& o,
                         const WarningPatterns& patterns) {
  PrReviewFacts f;
  f.pr = &pr;
  bool approved = false, any_human = false;
  std::vector<const GhReview*> human;
  for (const GhReview& r : pr.reviews) {
    if (r.user.IsBot()) {
      ++f.bot_reviews;
      continue;
    }
    if (!IsHumanReview(r, pr)) continue;
    any_human = true;
    ++f.human_reviews;
    human.push_back(&r);
    const bool substantive = IsSubstantive(r, pr, o.substantive_words);
    if (substantive) ++f.substantive_reviews;
    if (r.state == "APPROVED") {
      approved = true;
      if (!substantive) ++f.rubber_stamps;
      if (r.submitted_at && *r.submitted_at - pr.created_at <= o.quick_approval_ms &&
          pr.additions.value_or(0) + pr.deletions.value_or(0) >= o.large_diff_lines) {
        f.quick_large_approval = true;
      }
    }
    if (r.submitted_at &&
        (!f.to_first_review || *r.submitted_at - pr.created_at < *f.to_first_review)) {
      f.to_first_review = *r.submitted_at - pr.created_at;
    }
  }
  for (const GhComment& c : pr.review_comments) f.bot_comments += c.user.IsBot();
  for (const GhComment& c : pr.issue_comments) f.bot_comments += c.user.IsBot();
  if (pr.merged()) {
    f.to_merge = *pr.merged_at - pr.created_at;
    f.review_class = f.substantive_reviews > 0 ? ReviewClass::kSubstantive
                     : approved                ? ReviewClass::kRubberStamped
                     : any_human               ? ReviewClass::kCommentedOnly
                                               : ReviewClass::kNoReview;
  }
  const TimeMs until = pr.closed_at.value_or(pr.merged_at.value_or(o.as_of));
  f.days_open = static_cast<double>(until - pr.created_at) / kMsPerDay;
  f.long_open = until - pr.created_at >= o.long_open_ms;

  FindWarnings(pr, patterns, &f);
  for (BotWarning& w : f.warnings) {
    const bool answered = std::any_of(human.begin(), human.end(), [&](const GhReview* r) {
      return r->submitted_at && *r->submitted_at >= w.at &&
             IsSubstantive(*r, pr, o.substantive_words);
    });
    w.ignored = pr.merged() && !answered;
    // The approval that let it through: the first human approval after it, else the last one.
    const GhReview* approval = nullptr;
    for (const GhReview* r : human) {
      if (r->state != "APPROVED") continue;
      if (r->submitted_at && *r->submitted_at >= w.at) {
        approval = r;
        break;
      }
      approval = r;
    }
    if (approval) w.approving_text = approval->body, w.approver = approval->user.login;
  }
  return f;
}

}  // namespace gpuledger
