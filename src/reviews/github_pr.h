// One pull request on GitHub, as `gpuledger pr-check` reads and writes it: the PR with its
// reviews and commits; its one gpuledger comment, created or edited in place; a commit status.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reviews/forge_api.h"
#include "reviews/github_model.h"

namespace gpuledger {

struct FetchedPr {
  PullRequest pr;                    // with its reviews
  std::vector<std::string> commits;  // the SHAs of its commits
};

// GET /repos/R/pulls/N, its reviews and its commits (every page of each).
Result<FetchedPr> FetchPullRequest(ForgeApi& api, const std::string& repo, int64_t number);

// Whether a comment starting with the marker is gpuledger's: written by the token's user, or —
// when the forge does not say who that is (a GitHub Actions token) — by a bot account, which no
// person can write as. Anyone may write the marker; only such a comment is edited.
bool WrittenByUs(const GhUser& author, const std::optional<std::string>& token_user);

// Edits the first comment of issue N that starts with "marker" and is ours (WrittenByUs) to
// "body", or creates one when there is none (a comment that names the marker anywhere but at its
// start is not ours). "created" or "updated"; an edit refused (403, 404) creates a new one.
Result<std::string> UpsertMarkedComment(ForgeApi& api, const std::string& repo, int64_t number,
                                        std::string_view marker, const std::string& body,
                                        const std::optional<std::string>& token_user);

// POST /repos/R/statuses/SHA: success or failure under "context".
Result<void> SetCommitStatus(ForgeApi& api, const std::string& repo, const std::string& sha,
                             bool pass, std::string_view context, const std::string& description);

}  // namespace gpuledger
