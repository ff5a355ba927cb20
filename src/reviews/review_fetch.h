// `gpuledger reviews fetch`: GitHub or GitLab history saved as raw API pages in the layout
// review_store.h reads. Resumable: a listing whose folder holds ".complete" is not fetched again.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/time.h"

namespace gpuledger {

struct FetchOptions {
  bool gitlab = false;             // GitLab's API v4: repos are projects' full paths, org a group
  std::vector<std::string> repos;  // OWNER/REPO (GitLab: GROUP/…/PROJECT)
  std::string org;                 // also every repository of this organisation (GitLab: group,
                                   // with its subgroups)
  std::optional<TimeMs> since;     // only PRs updated since (their reviews and comments)
  std::string out_dir;
  std::string api_url = "https://api.github.com";
  std::string token;                // sent as a bearer token, never printed
  int max_retries = 4;              // per request, for transient errors (connection, 5xx)
  DurationMs retry_base_ms = 1000;  // backoff: base × 2^attempt
  DurationMs max_rate_wait_ms = 15 * kMsPerMinute;  // wait this long at most for a rate limit
};

struct FetchStats {
  int64_t requests = 0, pages_written = 0, listings_skipped = 0, retries = 0, rate_waits = 0;
  int64_t repos = 0, prs = 0;
  int64_t repos_refused = 0;  // names an --org listing returned that are no OWNER/NAME
};

// True for a repository name GitHub could have made: OWNER/NAME with an owner of 1-39
// letters, digits and inner hyphens, and a name of 1-100 letters, digits, '.', '-' and '_' that
// is not "." or "..". Anything else (../../x, /etc, a/b/c) never becomes a path.
bool IsValidRepoName(std::string_view repo);

// Fetches every listing into OUT/OWNER/NAME, or for GitLab OUT/gitlab/GROUP%2FPROJECT (never
// outside OUT: a --repo that is no valid name is a usage error, an --org or --group listing's
// invalid name is skipped and counted). Progress goes to
// "log". Fails with a clear message on an HTTP error
// that is not transient (401, 404, …), when retries run out, or when the rate limit would need a
// longer wait than allowed; what was saved stays, and a re-run resumes.
Result<FetchStats> FetchReviews(const FetchOptions& options, std::FILE* log);

}  // namespace gpuledger
