#include "reviews/github_fetch.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "core/line_reader.h"
#include "reviews/github_json.h"
#include "sources/http_get.h"

namespace gpuledger {
namespace {

namespace fs = std::filesystem;
constexpr const char* kAccept = "application/vnd.github+json";

// A header's whole number, or nullopt when it is absent or malformed.
std::optional<int64_t> HeaderNumber(const HttpResponse& r, const char* name) {
  auto it = r.headers.find(name);
  if (it == r.headers.end()) return std::nullopt;
  int64_t v = 0;
  const std::string& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() ? std::optional<int64_t>(v) : std::nullopt;
}

TimeMs NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Sleep(DurationMs ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

class Fetcher {
 public:
  Fetcher(const FetchOptions& o, std::FILE* log) : o_(o), log_(log) {}

  Result<FetchStats> Run();

 private:
  Result<HttpResponse> Get(const std::string& url);
  std::optional<DurationMs> RateLimitWait(const HttpResponse& r) const;
  Result<std::vector<fs::path>> Listing(const std::string& first_url, const fs::path& dir,
                                        const std::function<bool(const std::string&)>& go_on);
  Result<std::vector<std::string>> OrgRepos();
  Result<void> Repo(const std::string& repo);

  const FetchOptions& o_;
  std::FILE* log_;
  FetchStats stats_;
};

// How long a rate-limited response asks us to wait, or nullopt when it is no rate limit.
std::optional<DurationMs> Fetcher::RateLimitWait(const HttpResponse& r) const {
  if (r.status != 403 && r.status != 429) return std::nullopt;
  if (auto after = HeaderNumber(r, "retry-after")) return std::max<int64_t>(0, *after) * 1000;
  if (HeaderNumber(r, "x-ratelimit-remaining") == 0) {
    const auto reset = HeaderNumber(r, "x-ratelimit-reset");
    const TimeMs at = reset ? *reset * 1000 : NowMs() + 60000;
    return std::max<DurationMs>(0, at - NowMs()) + 1000;
  }
  return std::nullopt;
}

Result<HttpResponse> Fetcher::Get(const std::string& url) {
  for (int attempt = 0;; ++attempt) {
    ++stats_.requests;
    const HttpAuth auth{o_.token, "", "", OriginOf(o_.api_url), "Bearer"};
    HttpResponse r = HttpGet(url, auth, kAccept);
    if (r.status == 200) return r;
    if (auto wait = RateLimitWait(r)) {
      if (*wait > o_.max_rate_wait_ms) {
        return MakeError(ErrorCode::kIo,
                         fmt::format("GitHub rate limit reached; it resets in {} s, longer than "
                                     "--max-wait. What was fetched is saved: run again later to "
                                     "resume",
                                     *wait / 1000),
                         url);
      }
      fmt::print(log_, "reviews fetch: rate limited, waiting {} s\n", (*wait + 999) / 1000);
      ++stats_.rate_waits;
      Sleep(*wait);
      continue;
    }
    const bool transient = r.status == 0 || r.status >= 500;
    if (!transient || attempt >= o_.max_retries) {
      const std::string what = r.status == 0 ? r.error : fmt::format("HTTP {}", r.status);
      const std::string message = RedactedExcerpt(r.body, auth);
      return MakeError(ErrorCode::kIo, fmt::format("GET failed: {} {}", what, message), url);
    }
    const DurationMs backoff = o_.retry_base_ms << attempt;
    fmt::print(log_, "reviews fetch: {} on {}, retrying in {} ms\n",
               r.status == 0 ? r.error : fmt::format("HTTP {}", r.status), url, backoff);
    ++stats_.retries;
    Sleep(backoff);
  }
}

// Fetches every page of a listing into dir/page-NNNN.json (skipped when dir/.complete exists),
// following Link rel="next" while go_on(page body) says so. Returns the page files.
Result<std::vector<fs::path>> Fetcher::Listing(
    const std::string& first_url, const fs::path& dir,
    const std::function<bool(const std::string&)>& go_on) {
  std::error_code ec;
  std::vector<fs::path> pages;
  if (fs::exists(dir / ".complete")) {
    ++stats_.listings_skipped;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".json") pages.push_back(e.path());
    }
    std::sort(pages.begin(), pages.end());
    return pages;
  }
  fs::create_directories(dir, ec);
  if (ec) return MakeError(ErrorCode::kIo, "cannot create: " + ec.message(), dir.string());
  std::string url = first_url;
  for (int n = 1; !url.empty(); ++n) {
    auto r = Get(url);
    if (!r) return std::unexpected(r.error());
    const fs::path page = dir / fmt::format("page-{:04}.json", n);
    if (auto w = WriteFileAtomically(page.string(), r->body); !w) return std::unexpected(w.error());
    ++stats_.pages_written;
    pages.push_back(page);
    auto link = r->headers.find("link");
    url = link != r->headers.end() && go_on(r->body) ? NextLink(link->second) : "";
  }
  std::ofstream(dir / ".complete") << "";
  return pages;
}

Result<std::vector<std::string>> Fetcher::OrgRepos() {
  std::vector<std::string> repos;
  std::string url = o_.api_url + "/orgs/" + o_.org + "/repos?per_page=100";
  while (!url.empty()) {
    auto r = Get(url);
    if (!r) return std::unexpected(r.error());
    auto names = ParseReposPage(r->body, url);
    if (!names) return std::unexpected(names.error());
    repos.insert(repos.end(), names->begin(), names->end());
    auto link = r->headers.find("link");
    url = link == r->headers.end() ? "" : NextLink(link->second);
  }
  return repos;
}

Result<void> Fetcher::Repo(const std::string& repo) {
  const fs::path root = fs::path(o_.out_dir) / repo;
  const std::string api = o_.api_url + "/repos/" + repo;
  std::string first = api + "/pulls?state=all&per_page=100";
  if (o_.since) first += "&sort=updated&direction=desc";
  // With --since, pages come newest first: stop after a page that reaches back past it.
  auto go_on = [&](const std::string& body) {
    if (!o_.since) return true;
    auto prs = ParsePullsPage(body, repo, "page");
    return prs && !prs->empty() && prs->back().updated_at.value_or(kTimeMax) >= *o_.since;
  };
  auto pages = Listing(first, root / "pulls", go_on);
  if (!pages) return std::unexpected(pages.error());
  ++stats_.repos;
  for (const fs::path& page : *pages) {
    auto text = ReadWholeFile(page.string());
    if (!text) return std::unexpected(text.error());
    auto prs = ParsePullsPage(*text, repo, page.string());
    if (!prs) return std::unexpected(prs.error());
    for (const PullRequest& pr : *prs) {
      if (o_.since && pr.updated_at.value_or(kTimeMax) < *o_.since) continue;
      ++stats_.prs;
      const std::string n = std::to_string(pr.number);
      auto all = [](const std::string&) { return true; };
      for (const auto& [path, dir] :
           {std::pair{"/pulls/" + n + "/reviews", root / "pulls" / n / "reviews"},
            std::pair{"/pulls/" + n + "/comments", root / "pulls" / n / "comments"},
            std::pair{"/issues/" + n + "/comments", root / "issues" / n / "comments"}}) {
        if (auto r = Listing(api + path + "?per_page=100", dir, all); !r)
          return std::unexpected(r.error());
      }
    }
  }
  fmt::print(log_, "reviews fetch: {}: {} pages written so far, {} listings already saved\n", repo,
             stats_.pages_written, stats_.listings_skipped);
  return {};
}

Result<FetchStats> Fetcher::Run() {
  std::vector<std::string> repos;
  for (const std::string& repo : o_.repos) {
    if (!IsValidRepoName(repo)) {
      return MakeError(ErrorCode::kUsage,
                       "a repository is OWNER/NAME (letters, digits, '-', and in the name '.', "
                       "'_')",
                       repo);
    }
    repos.push_back(repo);
  }
  if (!o_.org.empty() && !IsValidRepoName(o_.org + "/x")) {
    return MakeError(ErrorCode::kUsage, "an organisation is letters, digits and inner '-'", o_.org);
  }
  if (!o_.org.empty()) {
    auto org = OrgRepos();
    if (!org) return std::unexpected(org.error());
    for (const std::string& repo : *org) {
      if (IsValidRepoName(repo)) {
        repos.push_back(repo);
        continue;
      }
      ++stats_.repos_refused;  // a server's answer never picks a path outside --out
      fmt::print(log_, "reviews fetch: skipped '{}' from the --org listing: not OWNER/NAME\n",
                 repo.substr(0, 120));
    }
  }
  for (const std::string& repo : repos) {
    if (auto r = Repo(repo); !r) return std::unexpected(r.error());
  }
  return stats_;
}

}  // namespace

bool IsValidRepoName(std::string_view repo) {
  const size_t slash = repo.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string_view owner = repo.substr(0, slash), name = repo.substr(slash + 1);
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (owner.empty() || owner.size() > 39 || owner.front() == '-' || owner.back() == '-') {
    return false;
  }
  for (char c : owner) {
    if (!alnum(c) && c != '-') return false;
  }
  if (name.empty() || name.size() > 100 || name == "." || name == "..") return false;
  for (char c : name) {
    if (!alnum(c) && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

Result<FetchStats> FetchReviews(const FetchOptions& options, std::FILE* log) {
  Fetcher f(options, log);
  return f.Run();
}

}  // namespace gpuledger
