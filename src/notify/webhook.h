// Posting JSON to webhooks: autokill warnings and kills (Slack-compatible {"text": …} plus
// fields), Slack and Teams messages, budget alerts.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace gpuledger {

// What one POST came to.
struct PostResult {
  bool delivered = false;  // a 2xx answer
  long status = 0;         // the HTTP status; 0 when none came (connection, timeout)
  std::string error;       // why not delivered, for a log line (the URL redacted)
  int retry_after_s = -1;  // the answer's Retry-After in seconds, when it gave one
  bool permanent = false;  // the answer says trying again will not help (SMTP's 5xx)
  // Worth trying again: no answer, 429 or a 5xx. A 4xx other than 429 or a redirect is not.
  bool Retryable() const {
    return !delivered && !permanent && (status == 0 || status == 429 || status >= 500);
  }
};

// POSTs "json" to "url" with a 5 s timeout (3 s to connect), once. A redirect is not followed
// (the body would not reach its target) and counts as not delivered. Only http(s).
PostResult PostJson(const std::string& url, const std::string& json);

// PostJson, with a failure reported on "log" after "who" ("gpuledger run"), never fatal: a
// webhook that is down must not keep a kill from happening. True only when delivered.
bool PostWebhook(const std::string& url, const std::string& json, std::FILE* log,
                 std::string_view who = "gpuledger run");

// The URL as a log may show it: its origin only (Slack's carry their token in the path).
std::string RedactedUrl(const std::string& url);

}  // namespace gpuledger
