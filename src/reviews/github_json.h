// Pure parse steps for saved GitHub REST API pages: bytes → model, errors naming the file.
// A page is a JSON array as one API response returned it; several arrays back to back
// (`gh api --paginate` output, `[…][…]`) are read as one list.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "reviews/github_model.h"

namespace gpuledger {

// GET /repos/O/R/pulls. "repo" names the repository when an item lacks base.repo.full_name.
Result<std::vector<PullRequest>> ParsePullsPage(std::string_view json, const std::string& repo,
                                                const std::string& file);
// GET /repos/O/R/pulls/N/reviews
Result<std::vector<GhReview>> ParseReviewsPage(std::string_view json, const std::string& file);
// GET /repos/O/R/pulls/N/comments (inline) and GET /repos/O/R/issues/N/comments
Result<std::vector<GhComment>> ParseCommentsPage(std::string_view json, const std::string& file);
// GET /orgs/ORG/repos: the repositories' full names.
Result<std::vector<std::string>> ParseReposPage(std::string_view json, const std::string& file);

// The GitHub timestamp "2013-01-31T09:30:56Z"; nullopt for null or an unreadable one.
std::optional<TimeMs> ParseGitHubTime(std::string_view text);

}  // namespace gpuledger
