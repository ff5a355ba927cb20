// One HTTP GET through libcurl: the fetch step kept apart from parsing (osquery's split).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace gpuledger {

struct HttpResponse {
  long status = 0;                             // 0: no response (see error)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string error;       // transport error, when status is 0
  bool too_large = false;  // the body passed the caller's limit: the transfer was stopped
};

// Credentials for a request; never logged. They are sent only to "origin" (OriginOf the URL
// the user gave: --api-url, --prometheus): a next-page link or redirect to any other host gets
// the request without them. An empty origin sends them nowhere.
struct HttpAuth {
  std::string bearer_token;    // Authorization: <scheme> …, when set
  std::string user, password;  // HTTP basic authentication, when user is set
  std::string origin;
  std::string scheme = "Bearer";  // of bearer_token; Jupyter servers take "token"
};

// A fresh libcurl easy handle (a CURL*; libcurl initialised once per process), or null when
// libcurl cannot make one. The caller cleans it up (curl_easy_cleanup).
void* NewCurlHandle();

// "scheme://host:port" of a URL, lower-cased, the port written out (80, 443 by default); "" when
// it has no scheme.
std::string OriginOf(std::string_view url);

// At most "max_bytes" of a response body fit for an error message: control characters as
// spaces, every given secret and anything after "Bearer " or "Authorization:" redacted.
std::string RedactedExcerpt(std::string_view body, const HttpAuth& auth, size_t max_bytes = 160);

// GETs "url" with a 30 s timeout, following up to 3 redirects (GitHub redirects renamed
// repositories; libcurl drops credentials when a redirect leaves the host).
// A body larger than "max_body_bytes" (0: no limit) stops the transfer: status 0, too_large.
HttpResponse HttpGet(const std::string& url, const HttpAuth& auth, const std::string& accept,
                     uint64_t max_body_bytes = 0);

// The same with another method ("DELETE", "POST", "PATCH") and a timeout in seconds; a
// non-empty "json_body" is sent as the request's body (Content-Type: application/json).
HttpResponse HttpRequest(const std::string& method, const std::string& url, const HttpAuth& auth,
                         const std::string& accept, uint64_t max_body_bytes, long timeout_s,
                         const std::string& json_body = "");

// GETs "url" as HttpGet does, handing a 2xx answer's body to on_body as it arrives instead of
// keeping it (the response's body stays empty): an answer of any size in bounded memory. Another
// status's body (its first 64 KiB) is kept, for the error message. More than "max_body_bytes"
// (0: no limit), or on_body returning false, stops the transfer: status 0, too_large set for
// the first.
HttpResponse HttpGetStreamed(const std::string& url, const HttpAuth& auth,
                             const std::string& accept, uint64_t max_body_bytes,
                             const std::function<bool(std::string_view)>& on_body);

// "s" escaped for a URL query value.
std::string UrlEncode(std::string_view s);

// The rel="next" URL of a Link header, or "".
std::string NextLink(const std::string& link_header);

}  // namespace gpuledger
