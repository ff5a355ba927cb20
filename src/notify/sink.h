// Where notifications go (--notify SINK, repeatable) and how each is written there.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "notify/notice.h"

namespace gpuledger {

struct NotifySink {
  enum class Kind { kSlack, kTeams, kWebhook } kind = Kind::kWebhook;
  std::string url;
  // "slack", "teams" or "webhook": the sink's label in /metrics and logs.
  const char* Label() const;
};

// "slack:URL" (an incoming webhook), "teams:URL" (a Teams workflow webhook) or "webhook:URL"
// (the generic JSON); URL http(s). kUsage naming --notify otherwise.
Result<NotifySink> ParseNotifySink(std::string_view spec);

// The body a sink of "kind" is posted: Slack Block Kit blocks with a plain-text fallback, within
// Slack's limits (at most 50 blocks, 3,000 characters a section, 150 a header, 10 fields of
// 2,000); a Teams message holding one Adaptive Card (1.4); or notice.webhook_json unchanged.
std::string RenderNotice(NotifySink::Kind kind, const Notice& notice);

}  // namespace gpuledger
