#include "reviews/review_fetch.h"

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
#include "reviews/forge_api.h"
#include "reviews/github_json.h"
#include "reviews/gitlab_json.h"
#include "sources/http_get.h"

namespace gpuledger {
namespace {

namespace fs = std::filesystem;

class Fetcher {
 public:
  Fetcher(const FetchOptions& o, std::FILE* log)
      : o_(o),
        log_(log),
        api_({o.gitlab ? "GitLab" : "GitHub", o.api_url,
              o.gitlab ? "application/json" : "application/vnd.github+json", o.token, o.max_retries,
              o.retry_base_ms, o.max_rate_wait_ms},
             log, "reviews fetch") {}

  Result<FetchStats> Run();

 private:
  Result<HttpResponse> Get(const std::string& url);
  void CountRequests();  // the API's request counts into stats_
  // Fetches a repository's PR (merge request) listing into "dir" — newest-updated first with
  // --since, stopping after a page that reaches back past it — then calls each(pr) for every PR
  // of the saved pages updated since. "parse" reads a page (ParsePullsPage,
  // ParseMergeRequestsPage).
  using PageParser = Result<std::vector<PullRequest>> (*)(std::string_view, const std::string&,
                                                          const std::string&);
  Result<void> EachListedPr(const std::string& first_url, const fs::path& dir,
                            const std::string& repo, PageParser parse,
                            const std::function<Result<void>(const PullRequest&)>& each);
  Result<std::vector<fs::path>> Listing(const std::string& first_url, const fs::path& dir,
                                        const std::function<bool(const std::string&)>& go_on);
  Result<void> Repo(const std::string& repo);
  Result<std::vector<std::string>> Names(
      const std::string& first_url,
      Result<std::vector<std::string>> (*parse)(std::string_view, const std::string&));
  Result<std::vector<std::string>> Repos();
  Result<void> GitLabProject(const std::string& project);
  Result<void> GitLabApprovals(const std::string& url, const fs::path& dir);

  const FetchOptions& o_;
  std::FILE* log_;
  FetchStats stats_;
  ForgeApi api_;
};

void Fetcher::CountRequests() {
  stats_.requests = api_.counts().requests, stats_.retries = api_.counts().retries;
  stats_.rate_waits = api_.counts().rate_waits;
}

Result<HttpResponse> Fetcher::Get(const std::string& url) {
  auto r = api_.Send("GET", url);
  CountRequests();
  if (!r && r.error().message.find(" rate limit reached") != std::string::npos) {
    r.error().message += ". What was fetched is saved: run again to resume";
  }
  return r;
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

// Every name of a listing of repositories or projects.
Result<std::vector<std::string>> Fetcher::Names(
    const std::string& first_url,
    Result<std::vector<std::string>> (*parse)(std::string_view, const std::string&)) {
  std::vector<std::string> names;
  for (std::string url = first_url; !url.empty();) {
    auto r = Get(url);
    if (!r) return std::unexpected(r.error());
    auto page = parse(r->body, url);
    if (!page) return std::unexpected(page.error());
    names.insert(names.end(), page->begin(), page->end());
    auto link = r->headers.find("link");
    url = link == r->headers.end() ? "" : NextLink(link->second);
  }
  return names;
}

Result<void> Fetcher::EachListedPr(const std::string& first_url, const fs::path& dir,
                                   const std::string& repo, PageParser parse,
                                   const std::function<Result<void>(const PullRequest&)>& each) {
  auto go_on = [&](const std::string& body) {
    if (!o_.since) return true;
    auto prs = parse(body, repo, "page");
    return prs && !prs->empty() && prs->back().updated_at.value_or(kTimeMax) >= *o_.since;
  };
  auto pages = Listing(first_url, dir, go_on);
  if (!pages) return std::unexpected(pages.error());
  ++stats_.repos;
  for (const fs::path& page : *pages) {
    auto text = ReadWholeFile(page.string());
    if (!text) return std::unexpected(text.error());
    auto prs = parse(*text, repo, page.string());
    if (!prs) return std::unexpected(prs.error());
    for (const PullRequest& pr : *prs) {
      if (o_.since && pr.updated_at.value_or(kTimeMax) < *o_.since) continue;
      ++stats_.prs;
      if (auto r = each(pr); !r) return r;
    }
  }
  fmt::print(log_, "reviews fetch: {}: {} pages written so far, {} listings already saved\n", repo,
             stats_.pages_written, stats_.listings_skipped);
  return {};
}

Result<void> Fetcher::Repo(const std::string& repo) {
  const fs::path root = fs::path(o_.out_dir) / repo;
  const std::string api = o_.api_url + "/repos/" + repo;
  std::string first = api + "/pulls?state=all&per_page=100";
  if (o_.since) first += "&sort=updated&direction=desc";
  auto all = [](const std::string&) { return true; };
  return EachListedPr(
      first, root / "pulls", repo, &ParsePullsPage, [&](const PullRequest& pr) -> Result<void> {
        const std::string n = std::to_string(pr.number);
        for (const auto& [path, dir] :
             {std::pair{"/pulls/" + n + "/reviews", root / "pulls" / n / "reviews"},
              std::pair{"/pulls/" + n + "/comments", root / "pulls" / n / "comments"},
              std::pair{"/issues/" + n + "/comments", root / "issues" / n / "comments"}}) {
          auto r = Listing(api + path + "?per_page=100", dir, all);
          if (!r) return std::unexpected(r.error());
        }
        return {};
      });
}

// GitLab's approvals answer is one object, saved as page-0001.json; an instance or token that
// does not offer it (403, 404: GitLab Free before 13.x, a guest) leaves the folder empty.
Result<void> Fetcher::GitLabApprovals(const std::string& url, const fs::path& dir) {
  if (fs::exists(dir / ".complete")) {
    ++stats_.listings_skipped;
    return {};
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return MakeError(ErrorCode::kIo, "cannot create: " + ec.message(), dir.string());
  auto r = api_.GetIfOffered(url);
  CountRequests();
  if (!r) return std::unexpected(r.error());
  if (*r) {
    auto w = WriteFileAtomically((dir / "page-0001.json").string(), (*r)->body);
    if (!w) return std::unexpected(w.error());
    ++stats_.pages_written;
  }
  std::ofstream(dir / ".complete") << "";
  return {};
}

Result<void> Fetcher::GitLabProject(const std::string& project) {
  const fs::path root = fs::path(o_.out_dir) / "gitlab" / GitLabProjectId(project);
  const std::string api = o_.api_url + "/projects/" + GitLabProjectId(project);
  std::string first = api + "/merge_requests?state=all&scope=all&per_page=100";
  if (o_.since) first += "&order_by=updated_at&sort=desc";
  auto all = [](const std::string&) { return true; };
  return EachListedPr(first, root / "merge_requests", project, &ParseMergeRequestsPage,
                      [&](const PullRequest& mr) -> Result<void> {
                        const std::string iid = std::to_string(mr.number);
                        const fs::path dir = root / "merge_requests" / iid;
                        const std::string url = api + "/merge_requests/" + iid;
                        if (auto r = GitLabApprovals(url + "/approvals", dir / "approvals"); !r)
                          return r;
                        auto d =
                            Listing(url + "/discussions?per_page=100", dir / "discussions", all);
                        return d ? Result<void>() : std::unexpected(d.error());
                      });
}

// The --repo names and those of the --org (--group) listing, each valid for its forge.
Result<std::vector<std::string>> Fetcher::Repos() {
  auto valid = [&](const std::string& name) {
    return o_.gitlab ? IsValidGitLabProjectPath(name) : IsValidRepoName(name);
  };
  std::vector<std::string> repos;
  for (const std::string& repo : o_.repos) {
    if (!valid(repo)) {
      return MakeError(ErrorCode::kUsage,
                       o_.gitlab ? "a project is its full path, GROUP/…/PROJECT (letters, digits, "
                                   "'_', '-', '.')"
                                 : "a repository is OWNER/NAME (letters, digits, '-', and in the "
                                   "name '.', '_')",
                       repo);
    }
    repos.push_back(repo);
  }
  if (o_.org.empty()) return repos;
  const bool org_ok =
      o_.gitlab ? IsValidGitLabProjectPath(o_.org + "/x") : IsValidRepoName(o_.org + "/x");
  if (!org_ok) {
    return MakeError(ErrorCode::kUsage,
                     o_.gitlab ? "a group is its full path (letters, digits, '_', '-', '.')"
                               : "an organisation is letters, digits and inner '-'",
                     o_.org);
  }
  auto listed =
      o_.gitlab ? Names(o_.api_url + "/groups/" + GitLabProjectId(o_.org) +
                            "/projects?include_subgroups=true&per_page=100",
                        &ParseGitLabProjectsPage)
                : Names(o_.api_url + "/orgs/" + o_.org + "/repos?per_page=100", &ParseReposPage);
  if (!listed) return std::unexpected(listed.error());
  for (const std::string& repo : *listed) {
    if (valid(repo)) {
      repos.push_back(repo);
      continue;
    }
    ++stats_.repos_refused;  // a server's answer never picks a path outside --out
    fmt::print(log_, "reviews fetch: skipped '{}' from the {} listing: not a valid name\n",
               repo.substr(0, 120), o_.gitlab ? "--group" : "--org");
  }
  return repos;
}

Result<FetchStats> Fetcher::Run() {
  auto repos = Repos();
  if (!repos) return std::unexpected(repos.error());
  for (const std::string& repo : *repos) {
    if (auto r = o_.gitlab ? GitLabProject(repo) : Repo(repo); !r)
      return std::unexpected(r.error());
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
