#include "reviews/review_store.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/line_reader.h"
#include "reviews/github_json.h"
#include "reviews/gitlab_json.h"

namespace gpuledger {
namespace {

namespace fs = std::filesystem;

// The *.json files of "dir", sorted; none when it does not exist.
std::vector<fs::path> Pages(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".json") out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Calls parse(text, file) on each page of "dir".
template <typename Fn>
Result<void> ReadPages(const fs::path& dir, int64_t* pages, Fn&& parse) {
  for (const fs::path& p : Pages(dir)) {
    auto text = ReadWholeFile(p.string());
    if (!text) return std::unexpected(text.error());
    ++*pages;
    if (auto r = parse(*text, p.string()); !r) return r;
  }
  return {};
}

Result<void> LoadPr(const fs::path& repo_dir, PullRequest* pr, int64_t* pages) {
  const std::string n = std::to_string(pr->number);
  auto reviews = ReadPages(repo_dir / "pulls" / n / "reviews", pages,
                           [&](const std::string& text, const std::string& file) -> Result<void> {
                             auto v = ParseReviewsPage(text, file);
                             if (!v) return std::unexpected(v.error());
                             pr->reviews.insert(pr->reviews.end(), v->begin(), v->end());
                             return {};
                           });
  if (!reviews) return reviews;
  auto comments = [&](const fs::path& dir, std::vector<GhComment>* into) {
    return ReadPages(dir, pages,
                     [&](const std::string& text, const std::string& file) -> Result<void> {
                       auto v = ParseCommentsPage(text, file);
                       if (!v) return std::unexpected(v.error());
                       into->insert(into->end(), v->begin(), v->end());
                       return {};
                     });
  };
  if (auto r = comments(repo_dir / "pulls" / n / "comments", &pr->review_comments); !r) return r;
  return comments(repo_dir / "issues" / n / "comments", &pr->issue_comments);
}

// Whether any PR of the repo has its reviews or comments saved (pulls/N/, issues/N/).
bool AnyPrSaved(const fs::path& repo_dir) {
  for (const char* kind : {"pulls", "issues"}) {
    std::error_code ec;
    for (fs::directory_iterator it(repo_dir / kind, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_directory()) return true;
    }
  }
  return false;
}

// "group%2Fsub%2Fproject" → "group/sub/project".
std::string ProjectOfFolder(std::string name) {
  for (size_t at; (at = name.find("%2F")) != std::string::npos;) name.replace(at, 3, "/");
  return name;
}

Result<void> LoadMergeRequest(const fs::path& mr_dir, PullRequest* mr, int64_t* pages) {
  auto approvals = ReadPages(mr_dir / "approvals", pages,
                             [&](const std::string& text, const std::string& file) -> Result<void> {
                               auto v = ParseApprovals(text, file);
                               if (!v) return std::unexpected(v.error());
                               mr->reviews.insert(mr->reviews.end(), v->begin(), v->end());
                               return {};
                             });
  if (!approvals) return approvals;
  return ReadPages(mr_dir / "discussions", pages,
                   [&](const std::string& text, const std::string& file) -> Result<void> {
                     auto v = ParseDiscussionsPage(text, file);
                     if (!v) return std::unexpected(v.error());
                     AddNotesAsReviews(*v, mr);
                     return {};
                   });
}

// Every project under DIR/gitlab.
Result<void> LoadGitLab(const fs::path& dir, ReviewData* data) {
  std::error_code ec;
  for (fs::directory_iterator p(dir / "gitlab", ec), end; !ec && p != end; p.increment(ec)) {
    const fs::path listing = p->path() / "merge_requests";
    if (!p->is_directory() || !fs::is_directory(listing)) continue;
    const std::string project = ProjectOfFolder(p->path().filename().string());
    data->repos.push_back(project);
    std::map<int64_t, PullRequest> mrs;  // the first listing of an iid wins
    auto r = ReadPages(listing, &data->pages,
                       [&](const std::string& text, const std::string& file) -> Result<void> {
                         auto v = ParseMergeRequestsPage(text, project, file);
                         if (!v) return std::unexpected(v.error());
                         for (PullRequest& mr : *v) mrs.emplace(mr.number, std::move(mr));
                         return {};
                       });
    if (!r) return r;
    bool fetched = false;
    for (fs::directory_iterator it(listing, ec), e2; !ec && it != e2; it.increment(ec))
      fetched = fetched || it->is_directory();
    for (auto& [iid, mr] : mrs) {
      if (auto l = LoadMergeRequest(listing / std::to_string(iid), &mr, &data->pages); !l) return l;
      mr.reviews_fetched = fetched;
      data->prs.push_back(std::move(mr));
    }
  }
  return {};
}

}  // namespace

Result<ReviewData> LoadReviewDir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return MakeError(ErrorCode::kIo, "not a directory", dir);
  ReviewData data;
  for (fs::directory_iterator owner(dir, ec), end; !ec && owner != end; owner.increment(ec)) {
    if (!owner->is_directory()) continue;
    std::error_code ec2;
    for (fs::directory_iterator repo(owner->path(), ec2), end2; !ec2 && repo != end2;
         repo.increment(ec2)) {
      if (!repo->is_directory() || !fs::is_directory(repo->path() / "pulls")) continue;
      const std::string name =
          owner->path().filename().string() + "/" + repo->path().filename().string();
      data.repos.push_back(name);
      std::map<int64_t, PullRequest> prs;  // the first listing of a number wins
      auto r = ReadPages(repo->path() / "pulls", &data.pages,
                         [&](const std::string& text, const std::string& file) -> Result<void> {
                           auto v = ParsePullsPage(text, name, file);
                           if (!v) return std::unexpected(v.error());
                           for (PullRequest& pr : *v) prs.emplace(pr.number, std::move(pr));
                           return {};
                         });
      if (!r) return std::unexpected(r.error());
      const bool fetched = AnyPrSaved(repo->path());
      for (auto& [number, pr] : prs) {
        if (auto l = LoadPr(repo->path(), &pr, &data.pages); !l) return std::unexpected(l.error());
        pr.reviews_fetched = fetched;
        data.prs.push_back(std::move(pr));
      }
    }
  }
  if (auto g = LoadGitLab(dir, &data); !g) return std::unexpected(g.error());
  std::sort(data.repos.begin(), data.repos.end());
  std::sort(data.prs.begin(), data.prs.end(), [](const PullRequest& a, const PullRequest& b) {
    return a.repo != b.repo ? a.repo < b.repo : a.number < b.number;
  });
  return data;
}

}  // namespace gpuledger
