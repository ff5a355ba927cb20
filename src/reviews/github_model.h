// Pull requests as the GitHub REST API describes them, reduced to what review analysis needs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"

namespace gpuledger {

struct GhUser {
  std::string login;
  bool bot = false;  // the API said type "Bot"

  // DESIGN.md: a bot is a user of type Bot or a login ending "[bot]".
  bool IsBot() const { return bot || login.ends_with("[bot]"); }
};

struct GhReview {
  int64_t id = 0;
  GhUser user;
  std::string state;  // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
  std::string body;
  std::optional<TimeMs> submitted_at;
};

// An inline review comment (review_id set) or a conversation comment on the PR's issue.
struct GhComment {
  int64_t id = 0;
  GhUser user;
  std::string body;
  TimeMs created_at = 0;
  std::optional<int64_t> review_id;  // pull_request_review_id
};

struct PullRequest {
  std::string repo;  // OWNER/REPO
  int64_t number = 0;
  std::string title;
  GhUser author;
  TimeMs created_at = 0;
  std::optional<TimeMs> merged_at, closed_at, updated_at;
  std::optional<int64_t> additions, deletions;  // present on single-PR responses only
  std::string head_sha, merge_commit_sha;
  std::vector<GhReview> reviews;
  std::vector<GhComment> review_comments;  // inline
  std::vector<GhComment> issue_comments;   // conversation
  // Whether its repo's reviews were saved at all (LoadReviewDir): false when the folder holds
  // the pulls listing of the repo and nothing of any PR's reviews or comments — "no review"
  // would then be a claim the input cannot make.
  bool reviews_fetched = true;
  bool merge_request = false;  // GitLab's: its number is the iid, written !N

  bool merged() const { return merged_at.has_value(); }
  // OWNER/REPO#N, or GROUP/PROJECT!N for a GitLab merge request.
  std::string Ref() const { return repo + (merge_request ? "!" : "#") + std::to_string(number); }
};

}  // namespace gpuledger
