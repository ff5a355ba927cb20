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

// GETs "url" with a 30 s timeout, following no redirects but GitHub's (it redirects renamed
// repositories). "bearer_token", when not empty, goes in the Authorization header only.
HttpResponse HttpGet(const std::string& url, const std::string& bearer_token,
                     const std::string& accept);

// The rel="next" URL of a Link header, or "".
std::string NextLink(const std::string& link_header);

}  // namespace gpuledger
