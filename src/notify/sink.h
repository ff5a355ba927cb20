// Where notifications go (--notify SINK, repeatable) and how each is written there.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "notify/email.h"
#include "notify/notice.h"
#include "notify/webhook.h"

namespace gpuledger {

struct NotifySink {
  enum class Kind { kSlack, kTeams, kWebhook, kEmail } kind = Kind::kWebhook;
  std::string url;    // the webhook's; for email, the address
  SmtpSettings smtp;  // email: the server (the CLI fills it from --smtp…)
  // "slack", "teams", "webhook" or "email": the sink's label in /metrics and logs.
  const char* Label() const;
};

// "s" with Slack's mrkdwn escapes (&, < and >): no text can mention or link anyone.
std::string SlackEscaped(std::string_view s);

// "slack:URL" (an incoming webhook), "teams:URL" (a Teams workflow webhook), "webhook:URL" (the
// generic JSON), URL http(s); or "email:ADDRESS" (a plain address; smtp left for the caller).
// kUsage naming --notify otherwise.
Result<NotifySink> ParseNotifySink(std::string_view spec);

// The body a sink of "kind" is posted: Slack Block Kit blocks with a plain-text fallback, within
// Slack's limits (at most 50 blocks, 3,000 characters a section, 150 a header, 10 fields of
// 2,000); a Teams message holding one Adaptive Card (1.4); or notice.webhook_json unchanged.
// Not for email (RenderEmail).
std::string RenderNotice(NotifySink::Kind kind, const Notice& notice);

// One notice as a sink sends it: the body, and an email's recipients (the sink's address, and
// the person's own when [[person]] gives one).
struct Outgoing {
  std::string body;
  std::vector<std::string> to;
};
Outgoing Prepare(const NotifySink& sink, const Notice& notice);

// One try at sending "out" through "sink": a POST, or SMTP for email.
PostResult Deliver(const NotifySink& sink, const Outgoing& out);

}  // namespace gpuledger
