// Reads saved GitHub API pages from the documented layout:
//   DIR/OWNER/REPO/pulls/page-0001.json …             GET /repos/O/R/pulls?state=all
//   DIR/OWNER/REPO/pulls/N/reviews/page-0001.json …   GET /repos/O/R/pulls/N/reviews
//   DIR/OWNER/REPO/pulls/N/comments/page-0001.json …  GET /repos/O/R/pulls/N/comments
//   DIR/OWNER/REPO/issues/N/comments/page-0001.json … GET /repos/O/R/issues/N/comments
// and GitLab's (P: the project's full path with each '/' as %2F, as in its API URLs):
//   DIR/gitlab/P/merge_requests/page-0001.json …                GET /projects/P/merge_requests
//   DIR/gitlab/P/merge_requests/IID/approvals/page-0001.json    GET …/merge_requests/IID/approvals
//   DIR/gitlab/P/merge_requests/IID/discussions/page-0001.json  GET
//   …/merge_requests/IID/discussions
// read into the same model (gitlab_json.h says how).
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
