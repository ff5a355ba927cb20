// The GitHub REST API as gpuledger speaks it (reviews fetch, pr-check): a request retried on
// transient failures (no answer, 5xx) with backoff, waiting out rate limits (a 403 or 429 with
// Retry-After, or x-ratelimit-remaining 0 until x-ratelimit-reset) up to a bound, listings
// followed page by page (Link rel="next"). The token goes only to the API's own origin.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/time.h"
#include "sources/http_get.h"

namespace gpuledger {

struct GitHubApiOptions {
  std::string api_url = "https://api.github.com";
  std::string token;                // sent as a bearer token to api_url's origin, never printed
  int max_retries = 4;              // per request, for transient errors (connection, 5xx)
  DurationMs retry_base_ms = 1000;  // backoff: base × 2^attempt
  DurationMs max_rate_wait_ms = 15 * kMsPerMinute;  // wait this long at most for a rate limit
};

class GitHubApi {
 public:
  // "who" prefixes the log lines ("reviews fetch", "pr-check").
  GitHubApi(GitHubApiOptions options, std::FILE* log, std::string who);

  // "path" (/repos/…) under the API's URL.
  std::string Url(std::string_view path) const;

  // One request; the response when its status is 2xx, else kIo naming the URL, the status and
  // an excerpt of the answer (secrets redacted). "json_body": sent as the body when not empty.
  Result<HttpResponse> Send(const std::string& method, const std::string& url,
                            const std::string& json_body = "");

  // Every page of the listing at "url", following Link rel="next": each page's body.
  Result<std::vector<std::string>> Pages(const std::string& url);

  struct Counts {
    int64_t requests = 0, retries = 0, rate_waits = 0;
  };
  const Counts& counts() const { return counts_; }

 private:
  GitHubApiOptions o_;
  std::FILE* log_;
  std::string who_;
  Counts counts_;
};

}  // namespace gpuledger
