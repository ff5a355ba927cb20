// Posting autokill warnings and kills to a webhook (Slack-compatible: {"text": …} plus fields).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace gpuledger {

// POSTs "json" to "url" with a 5 s timeout (3 s to connect). Failures are reported on "log" after
// "who" ("gpuledger run"), never fatal: a webhook that is down must not keep a kill from
// happening. True only when the hook answered 2xx: a redirect is not followed (the body would
// not reach its target) and counts as a failure, as does any other answer. Only http(s).
bool PostWebhook(const std::string& url, const std::string& json, std::FILE* log,
                 std::string_view who = "gpuledger run");

}  // namespace gpuledger
