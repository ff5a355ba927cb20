// A forge's REST API as gpuledger speaks it (reviews fetch, pr-check): GitHub's, or GitLab's v4.
// A request is retried on transient failures (no answer, 5xx) with backoff; rate limits are
// waited out up to a bound (a 403 or 429 with Retry-After, or GitHub's x-ratelimit-remaining /
// GitLab's ratelimit-remaining at 0 until its reset); listings are followed page by page (Link
// rel="next", which both forges send). The token goes only to the API's own origin, as a
// bearer token (GitLab takes personal, project and group access tokens that way too).
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/time.h"
#include "sources/http_get.h"

namespace gpuledger {

struct ForgeApiOptions {
  std::string forge = "GitHub";  // names the forge in messages
  std::string api_url = "https://api.github.com";
  std::string accept = "application/vnd.github+json";
  std::string token;                // sent as a bearer token to api_url's origin, never printed
  int max_retries = 4;              // per request, for transient errors (connection, 5xx)
  DurationMs retry_base_ms = 1000;  // backoff: base × 2^attempt
  DurationMs max_rate_wait_ms = 15 * kMsPerMinute;  // wait this long at most for a rate limit
};

// GitLab's API v4 under an instance's URL ("https://gitlab.com/" → "https://gitlab.com/api/v4";
// a URL already ending in /api/v4 is kept).
std::string GitLabApiUrl(std::string instance);

// {"body": TEXT}: a comment (GitHub) or note (GitLab) as both forges take one.
std::string CommentJson(const std::string& body);

// How long a response asks us to wait before asking again, or nullopt when it is no rate limit:
// a 403 or 429 with Retry-After (seconds); GitHub's x-ratelimit-remaining or GitLab's
// ratelimit-remaining at 0, until the matching reset (epoch seconds) and a second more; GitHub's
// secondary rate limit without Retry-After, or a bare 429: a minute.
std::optional<DurationMs> RateLimitWait(const HttpResponse& response, TimeMs now);

class ForgeApi {
 public:
  // "who" prefixes the log lines ("reviews fetch", "pr-check").
  ForgeApi(ForgeApiOptions options, std::FILE* log, std::string who);

  // "path" (/repos/…) under the API's URL.
  std::string Url(std::string_view path) const;

  // One request; the response when its status is 2xx, else kIo naming the URL, the status and
  // an excerpt of the answer (secrets redacted). "json_body": sent as the body when not empty.
  Result<HttpResponse> Send(const std::string& method, const std::string& url,
                            const std::string& json_body = "");

  // A GET whose 403 or 404 (not a rate limit) is an answer, not a failure: nullopt then (an API
  // the forge's tier or the token does not offer, such as GitLab Free's approvals).
  Result<std::optional<HttpResponse>> GetIfOffered(const std::string& url);

  // The login of the token's user (GET /user: GitHub's "login", GitLab's "username"), or nullopt
  // when the forge does not say (a GitHub Actions token may not ask: 403).
  Result<std::optional<std::string>> TokenUser();

  // Every page of the listing at "url", following Link rel="next": each page's body.
  Result<std::vector<std::string>> Pages(const std::string& url);

  struct Counts {
    int64_t requests = 0, retries = 0, rate_waits = 0;
  };
  const Counts& counts() const { return counts_; }

 private:
  ForgeApiOptions o_;
  std::FILE* log_;
  std::string who_;
  Counts counts_;

  Result<HttpResponse> SendOrMissing(const std::string& method, const std::string& url,
                                     const std::string& json_body, bool missing_is_an_answer);
};

}  // namespace gpuledger
