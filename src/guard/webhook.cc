#include "guard/webhook.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include "sources/http_get.h"

namespace gpuledger {
namespace {

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

// A webhook URL is a secret (Slack's carry their token in the path): messages show its origin.
std::string RedactedUrl(const std::string& url) {
  const std::string origin = OriginOf(url);
  return origin.empty() ? "(the webhook)" : origin + "/…";
}

}  // namespace

bool PostWebhook(const std::string& url, const std::string& json, std::FILE* log,
                 std::string_view who) {
  static const bool kInit = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  CURL* curl = kInit ? curl_easy_init() : nullptr;
  if (curl == nullptr) {
    fmt::print(log, "{}: webhook: cannot initialise libcurl\n", who);
    return false;
  }
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Discard);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK) {
    fmt::print(log, "{}: webhook {}: {}\n", who, RedactedUrl(url), curl_easy_strerror(rc));
  } else if (status < 200 || status >= 300) {
    fmt::print(log, "{}: webhook {}: HTTP {}{}\n", who, RedactedUrl(url), status,
               status >= 300 && status < 400 ? " (a redirect: not delivered)" : "");
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return rc == CURLE_OK && status >= 200 && status < 300;
}

}  // namespace gpuledger
