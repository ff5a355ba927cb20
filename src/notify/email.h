// Notifications by email: a MIME message (text and HTML) and its delivery over SMTP (libcurl;
// STARTTLS whenever the server offers it).
#pragma once

#include <string>
#include <vector>

#include "notify/notice.h"
#include "notify/webhook.h"

namespace gpuledger {

// Where and as whom mail is sent (--smtp HOST:PORT, --smtp-from, --smtp-credentials FILE).
struct SmtpSettings {
  std::string url;             // smtp://HOST:PORT
  std::string from;            // the sender's address
  std::string user, password;  // empty: no AUTH
};

// The message: Date, From, To, Subject (the title, one line), Message-ID, and a
// multipart/alternative body of the text (with the facts and the action) and the same as HTML,
// every user-given text escaped. "to" are plain addresses (IsPlainEmail).
std::string RenderEmail(const Notice& notice, const std::string& from,
                        const std::vector<std::string>& to);

// Sends "message" to "to" through "smtp" once, with a 5 s timeout (3 s to connect). Delivered
// when the server took the message; status is the last SMTP reply code; permanent on a 5xx
// reply (no connection and a 4xx reply are worth trying again).
PostResult SendEmail(const SmtpSettings& smtp, const std::vector<std::string>& to,
                     const std::string& message);

}  // namespace gpuledger
