// One HTTP GET through libcurl: the fetch step kept apart from parsing (osquery's split).
#pragma once

#include <map>
#include <string>

namespace gpuledger {

struct HttpResponse {
  long status = 0;                             // 0: no response (see error)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string error;  // transport error, when status is 0
};

// Credentials for a request; never logged.
struct HttpAuth {
  std::string bearer_token;    // Authorization: Bearer …, when set
  std::string user, password;  // HTTP basic authentication, when user is set
};

// GETs "url" with a 30 s timeout, following up to 3 redirects (GitHub redirects renamed
// repositories).
HttpResponse HttpGet(const std::string& url, const HttpAuth& auth, const std::string& accept);

// "s" escaped for a URL query value.
std::string UrlEncode(std::string_view s);

// The rel="next" URL of a Link header, or "".
std::string NextLink(const std::string& link_header);

}  // namespace gpuledger
