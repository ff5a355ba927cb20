// GitLab's REST API v4 answers, read into the model GitHub's answers fill (github_model.h), so the
// reviews classifier, `reviews audit` and `pr-check` treat both forges alike (docs/reviews.md,
// "GitLab"):
//  - a merge request is a PullRequest: its iid is the number, the project's full path the repo,
//    "sha" the head, "merge_commit_sha" (or "squash_commit_sha") the merge commit;
//  - each approval (GET …/approvals, "approved_by") is an APPROVED review without a body;
//  - each human note (GET …/discussions; system notes are GitLab's own events and skipped) is a
//    COMMENTED review with the note's text; a DiffNote, a note on a line of the diff, also
//    carries an inline comment of its own, so it is substantive as a GitHub review with inline
//    comments is;
//  - gpuledger's own notes (their body starts with kOwnNotePrefix) are a bill, not a review.
// A user is a bot when GitLab says so ("bot": true) or is an access token's bot user
// (project_N_bot…, group_N_bot…).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "reviews/github_model.h"

namespace gpuledger {

inline constexpr std::string_view kOwnNotePrefix = "<!-- gpuledger:";

// GET /projects/:id/merge_requests (or one merge request, wrapped in [ ]). "project" names the
// repo when an item lacks references.full.
Result<std::vector<PullRequest>> ParseMergeRequestsPage(std::string_view json,
                                                        const std::string& project,
                                                        const std::string& file);

// GET /projects/:id/merge_requests/:iid/approvals: one APPROVED review per approver.
Result<std::vector<GhReview>> ParseApprovals(std::string_view json, const std::string& file);

// A human note of a merge request's discussions, as a comment (id, author, body, time).
struct GitLabNote {
  GhComment comment;
  bool on_diff = false;  // a DiffNote
};

// GET /projects/:id/merge_requests/:iid/discussions: the human notes of every discussion on the
// page, system notes left out.
Result<std::vector<GitLabNote>> ParseDiscussionsPage(std::string_view json,
                                                     const std::string& file);

// Adds "notes" to "pr" as reviews (and inline comments for DiffNotes), gpuledger's own left out.
void AddNotesAsReviews(const std::vector<GitLabNote>& notes, PullRequest* pr);

// GET /projects/:id/merge_requests/:iid/commits: the commits' SHAs.
Result<std::vector<std::string>> ParseGitLabCommitsPage(std::string_view json,
                                                        const std::string& file);

// GET /groups/:id/projects: the projects' full paths.
Result<std::vector<std::string>> ParseGitLabProjectsPage(std::string_view json,
                                                         const std::string& file);

// True for a project path GitLab could have made: "/"-separated segments of letters, digits,
// '_', '-' and '.', none empty, "." or "..", at most 20 of them and 255 bytes each. Anything else
// never becomes a path on disk.
bool IsValidGitLabProjectPath(std::string_view path);

// The project's id in an API URL: its path with each '/' as %2F.
std::string GitLabProjectId(std::string_view path);

}  // namespace gpuledger
