#include "notify/email.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>

#include "core/text_safety.h"
#include "sources/http_get.h"

namespace gpuledger {
namespace {

std::string OneLine(std::string_view s) {
  std::string out;
  for (char c : s) out += (c == '\r' || c == '\n') ? ' ' : c;
  return out;
}

// RFC 2047 encoded word for a Subject that is not plain ASCII.
std::string HeaderText(std::string_view s) {
  bool ascii = true;
  for (char c : s) ascii = ascii && static_cast<unsigned char>(c) < 128;
  if (ascii) return std::string(s);
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string b64;
  for (size_t i = 0; i < s.size(); i += 3) {
    const uint32_t n = (static_cast<unsigned char>(s[i]) << 16) |
                       (i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) << 8 : 0) |
                       (i + 2 < s.size() ? static_cast<unsigned char>(s[i + 2]) : 0);
    b64 += kB64[(n >> 18) & 63];
    b64 += kB64[(n >> 12) & 63];
    b64 += i + 1 < s.size() ? kB64[(n >> 6) & 63] : '=';
    b64 += i + 2 < s.size() ? kB64[n & 63] : '=';
  }
  return "=?UTF-8?B?" + b64 + "?=";
}

// A line of the text part: lines starting with '.' are SMTP's to escape (libcurl does it), and
// bare CR or LF become CRLF.
// "s" with CRLF line ends and no line over SMTP's 998 bytes (RFC 5321 §4.5.3.1.6): a longer
// line is folded at its last space before the limit (whitespace in text and between HTML
// attributes alike), else cut at a character boundary.
constexpr size_t kMaxSmtpLine = 998;
std::string CrLf(std::string_view s) {
  std::string out;
  size_t line_start = 0;  // in out
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') continue;
    if (s[i] == '\n') {
      out += "\r\n";
      line_start = out.size();
      continue;
    }
    if (out.size() - line_start >= kMaxSmtpLine) {
      const size_t space = out.rfind(' ');
      if (space != std::string::npos && space > line_start) {
        out.replace(space, 1, "\r\n");
        line_start = space + 2;
      } else {
        size_t cut = out.size();
        while (cut > line_start && (static_cast<unsigned char>(out[cut - 1]) & 0xC0) == 0x80) --cut;
        if (cut > line_start && static_cast<unsigned char>(out[cut - 1]) >= 0xC0) --cut;
        out.insert(cut, "\r\n");
        line_start = cut + 2;
      }
    }
    out += s[i];
  }
  return out;
}

struct Reader {
  const std::string* text;
  size_t at = 0;
};

size_t ReadMessage(char* buffer, size_t size, size_t n, void* p) {
  Reader* r = static_cast<Reader*>(p);
  const size_t take = std::min(size * n, r->text->size() - r->at);
  std::memcpy(buffer, r->text->data() + r->at, take);
  r->at += take;
  return take;
}

}  // namespace

std::string RenderEmail(const Notice& n, const std::string& from,
                        const std::vector<std::string>& to) {
  static std::atomic<uint64_t> counter{0};
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  const uint64_t id = static_cast<uint64_t>(now.time_since_epoch().count()) ^ ++counter;
  const std::string boundary = fmt::format("gpuledger-{:016x}", id);
  const std::string domain = from.substr(from.find('@') + 1);
  std::string to_line;
  for (const std::string& a : to) to_line += (to_line.empty() ? "" : ", ") + a;

  std::string text = n.text + "\n\n";
  std::string rows;
  for (const auto& [label, value] : n.facts) {
    text += label + ": " + value + "\n";
    rows += "<tr><th align=\"left\" style=\"padding-right:12px\">" + HtmlEscaped(label) +
            "</th><td>" + HtmlEscaped(value) + "</td></tr>\n";
  }
  std::string sections;
  for (const NoticeSection& section : n.sections) {
    text += "\n" + section.heading + "\n";
    sections += "<h4>" + HtmlEscaped(section.heading) + "</h4>\n<ul>\n";
    for (const std::string& line : section.lines) {
      text += "  - " + line + "\n";
      sections += "<li>" + HtmlEscaped(line) + "</li>\n";
    }
    sections += "</ul>\n";
  }
  if (!n.action.empty()) text += "\nTo keep it:\n  " + n.action + "\n";
  std::string html = "<html><body>\n<h3>" + HtmlEscaped(OneLine(n.title)) + "</h3>\n<p>" +
                     HtmlEscaped(n.text) + "</p>\n<table>\n" + rows + "</table>\n" + sections;
  if (!n.action.empty()) html += "<p>To keep it:</p>\n<pre>" + HtmlEscaped(n.action) + "</pre>\n";
  std::string links;
  for (const KeepOffer& o : n.keep_offers) {
    if (o.url.empty()) continue;
    text += "\n" + o.label + ": " + o.url + "\n";
    // Inline styles only: mail clients drop style sheets.
    links += "<a href=\"" + HtmlEscaped(o.url) +
             "\" style=\"display:inline-block;padding:6px 14px;margin-right:8px;background:"
             "#1264a3;color:#ffffff;text-decoration:none;border-radius:4px\">" +
             HtmlEscaped(o.label) + "</a>\n";
  }
  if (!links.empty()) {
    text += "(each link works once, until the workload is due to stop)\n";
    html += "<p>Or with one click (each link works once, until it is due to stop):\n" + links +
            "</p>\n";
  }
  html += "</body></html>";

  std::string m;
  m += "Date: " + std::string(date) + "\r\n";
  m += "From: " + from + "\r\n";
  m += "To: " + to_line + "\r\n";
  m += "Subject: " + HeaderText(OneLine(n.title)) + "\r\n";
  m += fmt::format("Message-ID: <{:016x}@{}>\r\n", id, domain);
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  m += "--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n\r\n" + CrLf(text) + "\r\n";
  m += "--" + boundary + "\r\nContent-Type: text/html; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n\r\n" + CrLf(html) + "\r\n";
  m += "--" + boundary + "--\r\n";
  return m;
}

PostResult SendEmail(const SmtpSettings& smtp, const std::vector<std::string>& to,
                     const std::string& message) {
  PostResult r;
  CURL* curl = NewCurlHandle();
  if (curl == nullptr) {
    r.error = "cannot initialise libcurl";
    return r;
  }
  curl_slist* rcpt = nullptr;
  for (const std::string& a : to) rcpt = curl_slist_append(rcpt, ("<" + a + ">").c_str());
  Reader reader{&message};
  const std::string from = "<" + smtp.from + ">";
  curl_easy_setopt(curl, CURLOPT_URL, smtp.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, &ReadMessage);
  curl_easy_setopt(curl, CURLOPT_READDATA, &reader);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));  // STARTTLS
  if (!smtp.user.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, smtp.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, smtp.password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);  // as a webhook's (Notifier::kPostTimeoutMs)
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(curl);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  const std::string server = smtp.url.substr(0, smtp.url.find('/', 7));
  r.status = code;
  if (rc == CURLE_OK) {
    r.delivered = true;
  } else {
    r.permanent = code >= 500;
    r.error = fmt::format("{}: {}{}", server, curl_easy_strerror(rc),
                          code ? fmt::format(" (SMTP {})", code) : "");
  }
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  return r;
}

}  // namespace gpuledger
