// Reads saved GitHub API pages from the documented layout:
//   DIR/OWNER/REPO/pulls/page-0001.json …             GET /repos/O/R/pulls?state=all
//   DIR/OWNER/REPO/pulls/N/reviews/page-0001.json …   GET /repos/O/R/pulls/N/reviews
//   DIR/OWNER/REPO/pulls/N/comments/page-0001.json …  GET /repos/O/R/pulls/N/comments
//   DIR/OWNER/REPO/issues/N/comments/page-0001.json … GET /repos/O/R/issues/N/comments
#pragma once

#include <string>
#include <vector>

#include "core/error.h"
#include "reviews/github_model.h"

namespace gpuledger {

struct ReviewData {
  std::vector<std::string> repos;  // OWNER/REPO, sorted
  std::vector<PullRequest> prs;    // by repo, then number
  int64_t pages = 0;               // files read
};

// Fails naming the file when one cannot be read or parsed, or when DIR is no directory.
Result<ReviewData> LoadReviewDir(const std::string& dir);

}  // namespace gpuledger
