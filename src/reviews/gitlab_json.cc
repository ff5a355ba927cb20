#include "reviews/gitlab_json.h"

#include <cctype>

#include "reviews/api_json.h"

namespace gpuledger {
namespace {

using api_json::ForEachItem;
using api_json::Int;
using api_json::object;
using api_json::Str;
using api_json::Time;

// project_123_bot, project_123_bot_0a1b…, group_45_bot…: the users GitLab makes for access tokens.
bool IsTokenBotName(std::string_view name) {
  for (std::string_view kind : {"project_", "group_"}) {
    if (!name.starts_with(kind)) continue;
    size_t i = kind.size(), digits = 0;
    while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) ++i, ++digits;
    if (digits > 0 && name.substr(i).starts_with("_bot")) return true;
  }
  return false;
}

GhUser User(const object& o, std::string_view key) {
  GhUser u;
  object user;
  if (o[key].get(user) != simdjson::SUCCESS) return u;
  u.login = Str(user, "username");
  u.bot = api_json::Bool(user, "bot") || IsTokenBotName(u.login);
  return u;
}

// "group/sub/project!35" → "group/sub/project"; "" when it is no full reference.
std::string ProjectOfReference(const object& mr) {
  object refs;
  if (mr["references"].get(refs) != simdjson::SUCCESS) return "";
  const std::string full = Str(refs, "full");
  const size_t bang = full.rfind('!');
  return bang == std::string::npos ? "" : full.substr(0, bang);
}

// Calls item(object) for the one object "json" is.
template <typename Fn>
Result<void> WithObject(std::string_view json, const std::string& file, Fn&& item) {
  simdjson::dom::parser parser;
  object o;
  if (parser.parse(simdjson::padded_string(json)).get(o) != simdjson::SUCCESS)
    return MakeError(ErrorCode::kParse, "expected a JSON object", file);
  item(o);
  return {};
}

}  // namespace

Result<std::vector<PullRequest>> ParseMergeRequestsPage(std::string_view json,
                                                        const std::string& project,
                                                        const std::string& file) {
  std::vector<PullRequest> out;
  bool bad = false;
  auto r = ForEachItem(json, file, [&](const object& o) {
    PullRequest pr;
    pr.number = Int(o, "iid").value_or(0);
    pr.merge_request = true;
    auto created = Time(o, "created_at");
    if (pr.number <= 0 || !created) {
      bad = true;
      return;
    }
    pr.created_at = *created;
    pr.title = Str(o, "title");
    pr.author = User(o, "author");
    pr.merged_at = Time(o, "merged_at");
    pr.closed_at = Time(o, "closed_at");
    if (!pr.closed_at && pr.merged_at) pr.closed_at = pr.merged_at;
    pr.updated_at = Time(o, "updated_at");
    pr.head_sha = Str(o, "sha");
    pr.merge_commit_sha = Str(o, "merge_commit_sha");
    if (pr.merge_commit_sha.empty()) pr.merge_commit_sha = Str(o, "squash_commit_sha");
    pr.repo = ProjectOfReference(o);
    if (pr.repo.empty()) pr.repo = project;
    out.push_back(std::move(pr));
  });
  if (!r) return std::unexpected(r.error());
  if (bad) return MakeError(ErrorCode::kParse, "a merge request lacks iid or created_at", file);
  return out;
}

Result<std::vector<GhReview>> ParseApprovals(std::string_view json, const std::string& file) {
  std::vector<GhReview> out;
  auto r = WithObject(json, file, [&](const object& o) {
    simdjson::dom::array approvers;
    if (o["approved_by"].get(approvers) != simdjson::SUCCESS) return;
    for (simdjson::dom::element a : approvers) {
      object approver;
      if (a.get(approver) != simdjson::SUCCESS) continue;
      GhReview review{0, User(approver, "user"), "APPROVED", "", Time(approver, "approved_at")};
      object user;
      if (approver["user"].get(user) == simdjson::SUCCESS) review.id = -Int(user, "id").value_or(0);
      out.push_back(std::move(review));
    }
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<std::vector<GitLabNote>> ParseDiscussionsPage(std::string_view json,
                                                     const std::string& file) {
  std::vector<GitLabNote> out;
  auto r = ForEachItem(json, file, [&](const object& discussion) {
    simdjson::dom::array notes;
    if (discussion["notes"].get(notes) != simdjson::SUCCESS) return;
    for (simdjson::dom::element n : notes) {
      object note;
      if (n.get(note) != simdjson::SUCCESS || api_json::Bool(note, "system")) continue;
      GitLabNote g;
      g.comment = {Int(note, "id").value_or(0), User(note, "author"), Str(note, "body"),
                   Time(note, "created_at").value_or(0), std::nullopt};
      g.on_diff = Str(note, "type") == "DiffNote";
      out.push_back(std::move(g));
    }
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

void AddNotesAsReviews(const std::vector<GitLabNote>& notes, PullRequest* pr) {
  for (const GitLabNote& n : notes) {
    if (n.comment.body.starts_with(kOwnNotePrefix)) continue;
    pr->reviews.push_back(
        {n.comment.id, n.comment.user, "COMMENTED", n.comment.body, n.comment.created_at});
    if (!n.on_diff) continue;
    GhComment inline_comment = n.comment;
    inline_comment.review_id = n.comment.id;
    pr->review_comments.push_back(std::move(inline_comment));
  }
}

Result<std::vector<std::string>> ParseGitLabCommitsPage(std::string_view json,
                                                        const std::string& file) {
  std::vector<std::string> out;
  auto r = ForEachItem(json, file, [&](const object& o) { out.push_back(Str(o, "id")); });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<std::vector<std::string>> ParseGitLabProjectsPage(std::string_view json,
                                                         const std::string& file) {
  std::vector<std::string> out;
  auto r = ForEachItem(json, file,
                       [&](const object& o) { out.push_back(Str(o, "path_with_namespace")); });
  if (!r) return std::unexpected(r.error());
  return out;
}

bool IsValidGitLabProjectPath(std::string_view path) {
  int segments = 0;
  for (size_t start = 0;;) {
    const size_t slash = std::min(path.find('/', start), path.size());
    const std::string_view seg = path.substr(start, slash - start);
    if (seg.empty() || seg.size() > 255 || seg == "." || seg == ".." || ++segments > 20)
      return false;
    for (char c : seg) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
        return false;
    }
    if (slash == path.size()) return segments >= 2;
    start = slash + 1;
  }
}

std::string GitLabProjectId(std::string_view path) {
  std::string out;
  for (char c : path) out += c == '/' ? std::string("%2F") : std::string(1, c);
  return out;
}

}  // namespace gpuledger
