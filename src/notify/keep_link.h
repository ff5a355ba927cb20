// "Keep" from outside the node: the signed, expiring link an email warning carries (opened on
// `gpuledger serve`'s GET /keep), and the value a Slack button carries (sent back, signed by
// Slack, to POST /slack/interactions). Both name the host, the workload, its owner and how long.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/time.h"

namespace gpuledger {

// What a keep offer asks for.
struct KeepAsk {
  std::string host, workload;
  std::string owner;  // the workload's owner as the guard saw it (its uid's name)
  DurationMs duration_ms = 0;
};

// A signed link's contents: the ask, until when it may be used, and a nonce (its request id in
// the ledger, so it is used once).
struct KeepLink {
  KeepAsk ask;
  TimeMs expires = 0;
  std::string nonce;  // 32 hex characters
};

// The token of a link: base64url of its fields, ".", base64url of their HMAC-SHA256 under
// "secret". kInvalid when a field holds a newline.
Result<std::string> SignKeepLink(const KeepLink& link, std::string_view secret);
// The link "token" names, if its signature is right (compared in constant time) and it has not
// expired by "now"; kInvalid saying which is wrong otherwise.
Result<KeepLink> VerifyKeepLink(std::string_view token, std::string_view secret, TimeMs now);

// A Slack button's value (JSON, well under Slack's 2,000 characters), and back.
std::string KeepButtonValue(const KeepAsk& ask);
Result<KeepAsk> ParseKeepButtonValue(std::string_view value);

}  // namespace gpuledger
