#include "reviews/gitlab_mr.h"

#include <fmt/format.h>

#include "core/json_writer.h"
#include "reviews/gitlab_json.h"

namespace gpuledger {
namespace {

std::string MrUrl(ForgeApi& api, const std::string& project, int64_t iid) {
  return api.Url(fmt::format("/projects/{}/merge_requests/{}", GitLabProjectId(project), iid));
}

// Every human note of the merge request's discussions.
Result<std::vector<GitLabNote>> Notes(ForgeApi& api, const std::string& mr) {
  const std::string url = mr + "/discussions?per_page=100";
  auto pages = api.Pages(url);
  if (!pages) return std::unexpected(pages.error());
  std::vector<GitLabNote> notes;
  for (const std::string& page : *pages) {
    auto n = ParseDiscussionsPage(page, url);
    if (!n) return std::unexpected(n.error());
    notes.insert(notes.end(), n->begin(), n->end());
  }
  return notes;
}

}  // namespace

Result<FetchedPr> FetchMergeRequest(ForgeApi& api, const std::string& project, int64_t iid,
                                    std::FILE* log) {
  const std::string mr = MrUrl(api, project, iid);
  auto got = api.Send("GET", mr);
  if (!got) return std::unexpected(got.error());
  auto parsed = ParseMergeRequestsPage("[" + got->body + "]", project, mr);
  if (!parsed) return std::unexpected(parsed.error());
  if (parsed->size() != 1 || (*parsed)[0].number != iid)
    return MakeError(ErrorCode::kParse, "not the merge request asked for", mr);
  FetchedPr out{std::move((*parsed)[0]), {}};
  auto approvals = api.GetIfOffered(mr + "/approvals");
  if (!approvals) return std::unexpected(approvals.error());
  if (!*approvals) {
    fmt::print(log, "pr-check: {}/approvals is not offered (403 or 404): read as no approvals\n",
               mr);
  } else {
    auto a = ParseApprovals((*approvals)->body, mr + "/approvals");
    if (!a) return std::unexpected(a.error());
    out.pr.reviews = std::move(*a);
  }
  auto notes = Notes(api, mr);
  if (!notes) return std::unexpected(notes.error());
  AddNotesAsReviews(*notes, &out.pr);
  const std::string commits = mr + "/commits?per_page=100";
  auto pages = api.Pages(commits);
  if (!pages) return std::unexpected(pages.error());
  for (const std::string& page : *pages) {
    auto shas = ParseGitLabCommitsPage(page, commits);
    if (!shas) return std::unexpected(shas.error());
    out.commits.insert(out.commits.end(), shas->begin(), shas->end());
  }
  return out;
}

Result<std::string> UpsertMarkedNote(ForgeApi& api, const std::string& project, int64_t iid,
                                     std::string_view marker, const std::string& body,
                                     const std::optional<std::string>& token_user) {
  const std::string mr = MrUrl(api, project, iid);
  auto notes = Notes(api, mr);
  if (!notes) return std::unexpected(notes.error());
  for (const GitLabNote& n : *notes) {
    if (!n.comment.body.starts_with(marker) || !WrittenByUs(n.comment.user, token_user)) continue;
    auto edited = api.Send("PUT", fmt::format("{}/notes/{}", mr, n.comment.id), CommentJson(body));
    if (edited) return std::string("updated");
    break;  // not ours to edit after all: say it anew
  }
  auto created = api.Send("POST", mr + "/notes", CommentJson(body));
  if (!created) return std::unexpected(created.error());
  return std::string("created");
}

Result<void> SetGitLabCommitStatus(ForgeApi& api, const std::string& project,
                                   const std::string& sha, bool pass, std::string_view name,
                                   const std::string& description) {
  JsonWriter w(false);
  w.BeginObject().Key("state").String(pass ? "success" : "failed");
  w.Key("name").String(name).Key("description").String(description).EndObject();
  auto r = api.Send("POST",
                    api.Url(fmt::format("/projects/{}/statuses/{}", GitLabProjectId(project), sha)),
                    w.str());
  return r ? Result<void>() : std::unexpected(r.error());
}

}  // namespace gpuledger
