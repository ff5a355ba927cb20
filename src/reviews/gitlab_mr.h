// One merge request on GitLab (REST API v4), as `gpuledger pr-check --gitlab` reads and writes it:
// the merge request with its approvals, notes (as reviews: gitlab_json.h) and commits; its one
// gpuledger note, created or edited in place; a commit status. github_pr.h does the same on
// GitHub.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "reviews/forge_api.h"
#include "reviews/github_pr.h"

namespace gpuledger {

// GET /projects/:id/merge_requests/:iid, its approvals (when the instance offers them: a 403 or
// 404 there is said on "log" and read as none), discussions and commits (every page of each).
Result<FetchedPr> FetchMergeRequest(ForgeApi& api, const std::string& project, int64_t iid,
                                    std::FILE* log);

// Edits the first note of merge request "iid" that starts with "marker" and is ours
// (WrittenByUs) to "body" (PUT), or creates one (POST) when there is none; "created" or
// "updated". An edit refused (403, 404) creates a new one.
Result<std::string> UpsertMarkedNote(ForgeApi& api, const std::string& project, int64_t iid,
                                     std::string_view marker, const std::string& body,
                                     const std::optional<std::string>& token_user);

// POST /projects/:id/statuses/:sha: state success or failed under "name".
Result<void> SetGitLabCommitStatus(ForgeApi& api, const std::string& project,
                                   const std::string& sha, bool pass, std::string_view name,
                                   const std::string& description);

}  // namespace gpuledger
