#include "notify/webhook.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <charconv>
#include <cstring>

#include "sources/http_get.h"

namespace gpuledger {
namespace {

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

// Reads "Retry-After: N" (seconds) among the answer's headers.
size_t RetryAfterHeader(char* data, size_t size, size_t n, void* out) {
  const std::string_view line(data, size * n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size() && strncasecmp(line.data(), kName.data(), kName.size()) == 0) {
    std::string_view v = line.substr(kName.size());
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    int seconds = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
    if (ec == std::errc() && seconds >= 0) *static_cast<int*>(out) = seconds;
  }
  return size * n;
}

}  // namespace

std::string RedactedUrl(const std::string& url) {
  const std::string origin = OriginOf(url);
  return origin.empty() ? "(the webhook)" : origin + "/…";
}

PostResult PostJson(const std::string& url, const std::string& json) {
  PostResult r;
  CURL* curl = NewCurlHandle();
  if (curl == nullptr) {
    r.error = "cannot initialise libcurl";
    return r;
  }
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(json.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Discard);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &RetryAfterHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.retry_after_s);
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  if (rc != CURLE_OK) {
    r.status = 0;
    r.error = fmt::format("{}: {}", RedactedUrl(url), curl_easy_strerror(rc));
  } else if (r.status < 200 || r.status >= 300) {
    r.error = fmt::format("{}: HTTP {}{}", RedactedUrl(url), r.status,
                          r.status >= 300 && r.status < 400 ? " (a redirect: not delivered)" : "");
  } else {
    r.delivered = true;
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return r;
}

bool PostWebhook(const std::string& url, const std::string& json, std::FILE* log,
                 std::string_view who) {
  const PostResult r = PostJson(url, json);
  if (!r.delivered) fmt::print(log, "{}: webhook {}\n", who, r.error);
  return r.delivered;
}

}  // namespace gpuledger
