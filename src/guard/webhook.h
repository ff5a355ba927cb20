// Posting autokill warnings and kills to a webhook (Slack-compatible: {"text": …} plus fields).
#pragma once

#include <cstdio>
#include <string>

namespace gpuledger {

// POSTs "json" to "url" with a 5 s timeout. Failures are reported on "log", never fatal: a
// webhook that is down must not keep a kill from happening.
void PostWebhook(const std::string& url, const std::string& json, std::FILE* log);

}  // namespace gpuledger
