// Review classification (DESIGN.md, "Reviews"): substantive reviews, rubber stamps, ignored
// bot warnings, long-open PRs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reviews/github_model.h"

namespace re2 {
class RE2;
}

namespace gpuledger {

enum class ReviewClass { kSubstantive, kRubberStamped, kCommentedOnly, kNoReview };
inline constexpr int kReviewClassCount = 4;

// "substantive", "rubber_stamped", "commented_only", "no_review".
std::string_view ReviewClassId(ReviewClass c);

struct ReviewOptions {
  int substantive_words = 10;  // a review body this long (split on white space) is substantive
  // Case-insensitive regular expressions (RE2 syntax: linear time in the text, no recursion, so a
  // PR's text cannot stall or crash the audit) a bot's text must match to be a warning.
  std::vector<std::string> warning_patterns = {"cost increase", "guardrail", "security",
                                               R"(\b\d+x cost)"};
  TimeMs as_of = 0;                                  // "now", for PRs still open
  DurationMs long_open_ms = 30 * kMsPerDay;          // open at least this long: long-open
  DurationMs quick_approval_ms = 10 * kMsPerMinute;  // an approval this soon after opening…
  int64_t large_diff_lines = 500;                    // …on a diff this large is flagged
};

struct BotWarning {
  std::string bot;
  std::string sentence;  // the sentence of the bot's text that matched
  std::string where;     // review, inline_comment, comment
  TimeMs at = 0;
  bool ignored = false;        // merged with no substantive human review after it
  std::string approving_text;  // the human approval that let it through ("" when none)
  std::string approver;
};

struct PrReviewFacts {
  const PullRequest* pr = nullptr;
  std::optional<ReviewClass> review_class;  // merged PRs only
  int human_reviews = 0, substantive_reviews = 0, rubber_stamps = 0;
  int bot_reviews = 0, bot_comments = 0;
  std::optional<DurationMs> to_first_review, to_merge;
  bool quick_large_approval = false;
  double days_open = 0;  // to close, or to as_of when open
  bool long_open = false;
  std::vector<BotWarning> warnings;
};

using WarningPatterns = std::vector<std::shared_ptr<const re2::RE2>>;

// The compiled patterns; fails (kUsage) naming a pattern that is no regex.
Result<WarningPatterns> CompileWarningPatterns(const std::vector<std::string>& patterns);

PrReviewFacts ClassifyPr(const PullRequest& pr, const ReviewOptions& options,
                         const WarningPatterns& patterns);

// True when a human review (not by the author, not a bot) is substantive: it requests changes,
// has an inline comment of its own, or a body of at least "words" words.
bool IsSubstantive(const GhReview& review, const PullRequest& pr, int words);

}  // namespace gpuledger
