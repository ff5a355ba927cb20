#include "guard/webhook.h"

#include <curl/curl.h>
#include <fmt/format.h>

namespace gpuledger {
namespace {

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

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
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Discard);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK) {
    fmt::print(log, "{}: webhook {}: {}\n", who, url, curl_easy_strerror(rc));
  } else if (status >= 400) {
    fmt::print(log, "{}: webhook {}: HTTP {}\n", who, url, status);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return rc == CURLE_OK && status < 400;
}

}  // namespace gpuledger
