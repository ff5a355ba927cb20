#include "reviews/github_json.h"

#include "core/time_parser.h"
#include "reviews/api_json.h"

namespace gpuledger {
namespace {

using api_json::ForEachItem;
using api_json::Int;
using api_json::object;
using api_json::Str;
using api_json::Time;

GhUser User(const object& o, std::string_view key) {
  GhUser u;
  object user;
  if (o[key].get(user) != simdjson::SUCCESS) return u;  // null: a deleted ("ghost") account
  u.login = Str(user, "login");
  u.bot = Str(user, "type") == "Bot";
  return u;
}

}  // namespace

std::optional<TimeMs> api_json::Time(const object& o, std::string_view key) {
  std::string_view v;
  if (o[key].get(v) != simdjson::SUCCESS) return std::nullopt;
  return ParseGitHubTime(v);
}

std::optional<TimeMs> ParseGitHubTime(std::string_view text) {
  static const TimeZone kUtc = TimeZone::Utc();
  TimeParser parser(&kUtc);
  TimeMs t = 0;
  return parser.Parse(text, &t) ? std::optional<TimeMs>(t) : std::nullopt;
}

Result<std::vector<PullRequest>> ParsePullsPage(std::string_view json, const std::string& repo,
                                                const std::string& file) {
  std::vector<PullRequest> out;
  bool bad = false;
  auto r = ForEachItem(json, file, [&](const object& o) {
    PullRequest pr;
    pr.number = Int(o, "number").value_or(0);
    auto created = Time(o, "created_at");
    if (pr.number <= 0 || !created) {
      bad = true;
      return;
    }
    pr.created_at = *created;
    pr.title = Str(o, "title");
    pr.author = User(o, "user");
    pr.merged_at = Time(o, "merged_at");
    pr.closed_at = Time(o, "closed_at");
    pr.updated_at = Time(o, "updated_at");
    pr.additions = Int(o, "additions");
    pr.deletions = Int(o, "deletions");
    pr.merge_commit_sha = Str(o, "merge_commit_sha");
    pr.repo = repo;
    object head, base, base_repo;
    if (o["head"].get(head) == simdjson::SUCCESS) pr.head_sha = Str(head, "sha");
    if (o["base"].get(base) == simdjson::SUCCESS &&
        base["repo"].get(base_repo) == simdjson::SUCCESS) {
      if (auto name = Str(base_repo, "full_name"); !name.empty()) pr.repo = name;
    }
    out.push_back(std::move(pr));
  });
  if (!r) return std::unexpected(r.error());
  if (bad) return MakeError(ErrorCode::kParse, "a pull request lacks number or created_at", file);
  return out;
}

Result<std::vector<GhReview>> ParseReviewsPage(std::string_view json, const std::string& file) {
  std::vector<GhReview> out;
  auto r = ForEachItem(json, file, [&](const object& o) {
    out.push_back({Int(o, "id").value_or(0), User(o, "user"), Str(o, "state"), Str(o, "body"),
                   Time(o, "submitted_at")});
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<std::vector<GhComment>> ParseCommentsPage(std::string_view json, const std::string& file) {
  std::vector<GhComment> out;
  auto r = ForEachItem(json, file, [&](const object& o) {
    out.push_back({Int(o, "id").value_or(0), User(o, "user"), Str(o, "body"),
                   Time(o, "created_at").value_or(0), Int(o, "pull_request_review_id")});
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<std::vector<std::string>> ParseReposPage(std::string_view json, const std::string& file) {
  std::vector<std::string> out;
  auto r = ForEachItem(json, file, [&](const object& o) { out.push_back(Str(o, "full_name")); });
  if (!r) return std::unexpected(r.error());
  return out;
}

}  // namespace gpuledger
