#include "sources/http_get.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>

namespace gpuledger {
namespace {

struct Body {
  std::string* text;
  uint64_t max_bytes;  // 0: no limit
  bool* too_large;
  // Streaming (HttpGetStreamed): a 2xx body goes here instead of into text.
  const std::function<bool(std::string_view)>* on_body = nullptr;
  CURL* curl = nullptr;
  uint64_t streamed = 0;
};

constexpr size_t kErrorBodyBytes = 64 << 10;

size_t OnBody(char* data, size_t size, size_t n, void* out) {
  Body* body = static_cast<Body*>(out);
  const size_t bytes = size * n;
  if (body->on_body != nullptr) {
    long status = 0;
    curl_easy_getinfo(body->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status >= 300) {  // an error's body: kept for the message
      body->text->append(
          data, std::min(bytes, kErrorBodyBytes - std::min(kErrorBodyBytes, body->text->size())));
      return bytes;
    }
    if (body->max_bytes > 0 && body->streamed + bytes > body->max_bytes) {
      *body->too_large = true;
      return 0;
    }
    body->streamed += bytes;
    return (*body->on_body)(std::string_view(data, bytes)) ? bytes : 0;
  }
  if (body->max_bytes > 0 && body->text->size() + bytes > body->max_bytes) {
    *body->too_large = true;
    return 0;  // stops the transfer
  }
  body->text->append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r\n") + 1);
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

// One request; a 2xx body to *on_body as it arrives when on_body is set (HttpGetStreamed).
HttpResponse Perform(const std::string& method, const std::string& url, const HttpAuth& auth,
                     const std::string& accept, uint64_t max_body_bytes, long timeout_s,
                     const std::string& json_body,
                     const std::function<bool(std::string_view)>* on_body) {
  HttpResponse r;
  CURL* curl = NewCurlHandle();
  if (curl == nullptr) {
    r.error = "cannot initialise libcurl";
    return r;
  }
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Accept: " + accept).c_str());
  if (accept.find("github") != std::string::npos)
    headers = curl_slist_append(headers, "X-GitHub-Api-Version: 2022-11-28");
  const bool own_origin = !auth.origin.empty() && OriginOf(url) == auth.origin;
  if (own_origin && !auth.bearer_token.empty()) {
    headers = curl_slist_append(
        headers, ("Authorization: " + auth.scheme + " " + auth.bearer_token).c_str());
  }
  const std::string user_password = auth.user + ":" + auth.password;
  if (own_origin && !auth.user.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERPWD, user_password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_UNRESTRICTED_AUTH, 0L);  // redirects elsewhere: no credentials
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "gpuledger");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
  if (method != "GET") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!json_body.empty()) {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json_body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json_body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 3L);
  // Only HTTP(S), redirects included: a URL from a file a user wrote cannot reach gopher://,
  // file:// or any other protocol libcurl speaks.
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  Body body{&r.body, max_body_bytes, &r.too_large, on_body, curl};
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  else
    r.error = r.too_large ? "the response is larger than the limit" : curl_easy_strerror(rc);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return r;
}

}  // namespace

std::string UrlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      static const char* kHex = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string OriginOf(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "";
  std::string scheme(url.substr(0, scheme_end));
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  std::string host(rest), port;
  const size_t colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']', colon) == std::string::npos) {
    port = host.substr(colon + 1);
    host.erase(colon);
  }
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  scheme = lower(scheme), host = lower(host);
  if (port.empty()) port = scheme == "https" ? "443" : scheme == "http" ? "80" : "";
  return scheme + "://" + host + ":" + port;
}

std::string RedactedExcerpt(std::string_view body, const HttpAuth& auth, size_t max_bytes) {
  std::string s(body.substr(0, std::min<size_t>(body.size(), 4096)));
  for (const std::string& secret : {auth.bearer_token, auth.password}) {
    if (secret.size() < 4) continue;
    for (size_t at; (at = s.find(secret)) != std::string::npos;)
      s.replace(at, secret.size(), "[redacted]");
  }
  for (std::string_view marker : {"Bearer ", "bearer ", "Authorization:", "authorization:"}) {
    for (size_t at = s.find(marker); at != std::string::npos; at = s.find(marker, at + 1)) {
      size_t end = at + marker.size();
      while (end < s.size() && s[end] == ' ') ++end;
      const size_t stop = s.find_first_of(" \"',}\r\n", end);
      s.replace(end, (stop == std::string::npos ? s.size() : stop) - end, "[redacted]");
    }
  }
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (s.size() > max_bytes) s = s.substr(0, max_bytes) + "…";
  return s;
}

HttpResponse HttpGet(const std::string& url, const HttpAuth& auth, const std::string& accept,
                     uint64_t max_body_bytes) {
  return HttpRequest("GET", url, auth, accept, max_body_bytes, 30);
}

void* NewCurlHandle() {
  static const bool kInit = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return kInit ? curl_easy_init() : nullptr;
}

HttpResponse HttpRequest(const std::string& method, const std::string& url, const HttpAuth& auth,
                         const std::string& accept, uint64_t max_body_bytes, long timeout_s,
                         const std::string& json_body) {
  return Perform(method, url, auth, accept, max_body_bytes, timeout_s, json_body, nullptr);
}

HttpResponse HttpGetStreamed(const std::string& url, const HttpAuth& auth,
                             const std::string& accept, uint64_t max_body_bytes,
                             const std::function<bool(std::string_view)>& on_body) {
  return Perform("GET", url, auth, accept, max_body_bytes, 30, "", &on_body);
}

std::string NextLink(const std::string& link) {
  // <https://api.github.com/…&page=2>; rel="next", <…>; rel="last"
  for (size_t pos = 0; pos < link.size();) {
    const size_t open = link.find('<', pos), close = link.find('>', open);
    if (open == std::string::npos || close == std::string::npos) break;
    const size_t end = std::min(link.find(',', close), link.size());
    if (link.substr(close, end - close).find("rel=\"next\"") != std::string::npos) {
      return link.substr(open + 1, close - open - 1);
    }
    pos = end + 1;
  }
  return "";
}

}  // namespace gpuledger
