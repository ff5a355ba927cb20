#include "reviews/forge_api.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>
#include <thread>

#include "core/json_writer.h"

namespace gpuledger {
namespace {

// A header's whole number, or nullopt when it is absent or malformed.
std::optional<int64_t> HeaderNumber(const HttpResponse& r, const char* name) {
  auto it = r.headers.find(name);
  if (it == r.headers.end()) return std::nullopt;
  int64_t v = 0;
  const std::string& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() ? std::optional<int64_t>(v) : std::nullopt;
}

void Sleep(DurationMs ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

std::string GitLabApiUrl(std::string instance) {
  while (!instance.empty() && instance.back() == '/') instance.pop_back();
  return instance.ends_with("/api/v4") ? instance : instance + "/api/v4";
}

std::string CommentJson(const std::string& body) {
  JsonWriter w(false);
  w.BeginObject().Key("body").String(body).EndObject();
  return w.str();
}

std::optional<DurationMs> RateLimitWait(const HttpResponse& r, TimeMs now) {
  if (r.status != 403 && r.status != 429) return std::nullopt;
  if (auto after = HeaderNumber(r, "retry-after")) return std::max<int64_t>(0, *after) * 1000;
  const bool github_spent = HeaderNumber(r, "x-ratelimit-remaining") == 0;
  const bool gitlab_spent = HeaderNumber(r, "ratelimit-remaining") == 0;
  if (github_spent || gitlab_spent) {
    const auto reset = HeaderNumber(r, github_spent ? "x-ratelimit-reset" : "ratelimit-reset");
    const TimeMs at = reset ? *reset * 1000 : now + 60000;
    return std::max<DurationMs>(0, at - now) + 1000;
  }
  // GitHub's secondary limit without Retry-After: "wait at least one minute", its docs say.
  if (r.body.find("secondary rate limit") != std::string::npos) return 60000;
  if (r.status == 429) return 60000;  // a limit that gave no time: a minute, then ask again
  return std::nullopt;
}

ForgeApi::ForgeApi(ForgeApiOptions options, std::FILE* log, std::string who)
    : o_(std::move(options)), log_(log), who_(std::move(who)) {
  while (!o_.api_url.empty() && o_.api_url.back() == '/') o_.api_url.pop_back();
}

std::string ForgeApi::Url(std::string_view path) const { return o_.api_url + std::string(path); }

Result<HttpResponse> ForgeApi::Send(const std::string& method, const std::string& url,
                                    const std::string& json_body) {
  return SendOrMissing(method, url, json_body, false);
}

Result<std::optional<HttpResponse>> ForgeApi::GetIfOffered(const std::string& url) {
  auto r = SendOrMissing("GET", url, "", true);
  if (!r) return std::unexpected(r.error());
  if (r->status == 403 || r->status == 404) return std::optional<HttpResponse>();
  return std::optional<HttpResponse>(std::move(*r));
}

Result<HttpResponse> ForgeApi::SendOrMissing(const std::string& method, const std::string& url,
                                             const std::string& json_body,
                                             bool missing_is_an_answer) {
  const HttpAuth auth{o_.token, "", "", OriginOf(o_.api_url), "Bearer"};
  for (int attempt = 0;; ++attempt) {
    ++counts_.requests;
    HttpResponse r = HttpRequest(method, url, auth, o_.accept, 0, 30, json_body);
    if (r.status >= 200 && r.status < 300) return r;
    if (auto wait = RateLimitWait(r, WallNow())) {
      if (*wait > o_.max_rate_wait_ms) {
        return MakeError(ErrorCode::kIo,
                         fmt::format("{} rate limit reached; it resets in {} s, longer than "
                                     "--max-wait. Run again later",
                                     o_.forge, *wait / 1000),
                         url);
      }
      fmt::print(log_, "{}: rate limited, waiting {} s\n", who_, (*wait + 999) / 1000);
      ++counts_.rate_waits;
      Sleep(*wait);
      continue;
    }
    if (missing_is_an_answer && (r.status == 403 || r.status == 404)) return r;
    const bool transient = r.status == 0 || r.status >= 500;
    if (!transient || attempt >= o_.max_retries) {
      const std::string what = r.status == 0 ? r.error : fmt::format("HTTP {}", r.status);
      return MakeError(ErrorCode::kIo,
                       fmt::format("{} failed: {} {}", method, what, RedactedExcerpt(r.body, auth)),
                       url);
    }
    const DurationMs backoff = o_.retry_base_ms << attempt;
    fmt::print(log_, "{}: {} on {}, retrying in {} ms\n", who_,
               r.status == 0 ? r.error : fmt::format("HTTP {}", r.status), url, backoff);
    ++counts_.retries;
    Sleep(backoff);
  }
}

Result<std::optional<std::string>> ForgeApi::TokenUser() {
  auto r = GetIfOffered(Url("/user"));
  if (!r) return std::unexpected(r.error());
  if (!*r) return std::optional<std::string>();
  simdjson::dom::parser parser;
  simdjson::dom::object user;
  std::string_view login;
  if (parser.parse(simdjson::padded_string((*r)->body)).get(user) != simdjson::SUCCESS ||
      (user["login"].get(login) != simdjson::SUCCESS &&
       user["username"].get(login) != simdjson::SUCCESS) ||
      login.empty()) {
    return MakeError(ErrorCode::kParse, "an answer with no login", Url("/user"));
  }
  return std::optional<std::string>(std::string(login));
}

Result<std::vector<std::string>> ForgeApi::Pages(const std::string& first_url) {
  std::vector<std::string> pages;
  for (std::string url = first_url; !url.empty();) {
    auto r = Send("GET", url);
    if (!r) return std::unexpected(r.error());
    pages.push_back(std::move(r->body));
    auto link = r->headers.find("link");
    url = link == r->headers.end() ? "" : NextLink(link->second);
  }
  return pages;
}

}  // namespace gpuledger
