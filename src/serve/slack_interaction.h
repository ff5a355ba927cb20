// A click on a Slack button, as Slack posts it to an app's interactivity URL: the request's
// signature checked (api.slack.com/authentication/verifying-requests-from-slack), then the
// payload read.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/time.h"

namespace gpuledger {

// How far a request's timestamp may be from now before it is refused as stale (or replayed).
inline constexpr int64_t kSlackMaxSkewSeconds = 5 * 60;

// Whether "signature" (X-Slack-Signature: "v0=" and hex) is the HMAC-SHA256, under
// "signing_secret", of "v0:{timestamp}:{body}", and "timestamp" (X-Slack-Request-Timestamp,
// Unix seconds) is within kSlackMaxSkewSeconds of "now". kInvalid saying which is wrong.
Result<void> VerifySlackSignature(std::string_view signing_secret, std::string_view timestamp,
                                  std::string_view signature, std::string_view body, TimeMs now);
// The signature a request with "timestamp" and "body" carries (for tests and tools).
std::string SlackSignature(std::string_view signing_secret, std::string_view timestamp,
                           std::string_view body);

struct SlackClick {
  std::string user_id;       // who clicked (U…)
  std::string user_name;     // their Slack name, for messages
  std::string action_id;     // the button's
  std::string value;         // the button's value
  std::string response_url;  // where the answer goes (replaces the message)
  // The message's blocks without the clicked actions block (block_id gpuledger_keep), as a JSON
  // array's text: the answer replaces the message keeping what it said. "[]" when absent.
  std::string blocks_without_buttons = "[]";
};

// The click in "payload" (the JSON of a block_actions interaction's payload= form field).
// kInvalid when it is not a block_actions payload with one action and a user.
Result<SlackClick> ParseSlackClick(std::string_view payload);

}  // namespace gpuledger
