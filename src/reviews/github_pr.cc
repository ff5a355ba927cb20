#include "reviews/github_pr.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "core/json_writer.h"
#include "reviews/github_json.h"

namespace gpuledger {
namespace {

Result<std::vector<std::string>> CommitShas(const std::vector<std::string>& pages,
                                            const std::string& url) {
  std::vector<std::string> shas;
  simdjson::dom::parser parser;
  for (const std::string& page : pages) {
    simdjson::dom::array items;
    if (parser.parse(simdjson::padded_string(page)).get(items) != simdjson::SUCCESS)
      return MakeError(ErrorCode::kParse, "a commits page that is no JSON array", url);
    for (simdjson::dom::element item : items) {
      std::string_view sha;
      if (item["sha"].get(sha) == simdjson::SUCCESS) shas.emplace_back(sha);
    }
  }
  return shas;
}

}  // namespace

Result<FetchedPr> FetchPullRequest(ForgeApi& api, const std::string& repo, int64_t number) {
  const std::string base = api.Url(fmt::format("/repos/{}/pulls/{}", repo, number));
  auto pr = api.Send("GET", base);
  if (!pr) return std::unexpected(pr.error());
  auto parsed = ParsePullsPage("[" + pr->body + "]", repo, base);
  if (!parsed) return std::unexpected(parsed.error());
  if (parsed->size() != 1 || (*parsed)[0].number != number)
    return MakeError(ErrorCode::kParse, "not the pull request asked for", base);
  FetchedPr out{std::move((*parsed)[0]), {}};
  auto reviews = api.Pages(base + "/reviews?per_page=100");
  if (!reviews) return std::unexpected(reviews.error());
  for (const std::string& page : *reviews) {
    auto r = ParseReviewsPage(page, base + "/reviews");
    if (!r) return std::unexpected(r.error());
    out.pr.reviews.insert(out.pr.reviews.end(), r->begin(), r->end());
  }
  auto commits = api.Pages(base + "/commits?per_page=100");
  if (!commits) return std::unexpected(commits.error());
  auto shas = CommitShas(*commits, base + "/commits");
  if (!shas) return std::unexpected(shas.error());
  out.commits = std::move(*shas);
  return out;
}

bool WrittenByUs(const GhUser& author, const std::optional<std::string>& token_user) {
  return token_user ? author.login == *token_user : author.IsBot();
}

Result<std::string> UpsertMarkedComment(ForgeApi& api, const std::string& repo, int64_t number,
                                        std::string_view marker, const std::string& body,
                                        const std::optional<std::string>& token_user) {
  const std::string listing =
      api.Url(fmt::format("/repos/{}/issues/{}/comments?per_page=100", repo, number));
  auto pages = api.Pages(listing);
  if (!pages) return std::unexpected(pages.error());
  for (const std::string& page : *pages) {
    auto comments = ParseCommentsPage(page, listing);
    if (!comments) return std::unexpected(comments.error());
    for (const GhComment& c : *comments) {
      if (!c.body.starts_with(marker) || !WrittenByUs(c.user, token_user)) continue;
      auto edited =
          api.Send("PATCH", api.Url(fmt::format("/repos/{}/issues/comments/{}", repo, c.id)),
                   CommentJson(body));
      if (edited) return std::string("updated");
      break;  // not ours to edit after all: say it anew
    }
  }
  auto created =
      api.Send("POST", api.Url(fmt::format("/repos/{}/issues/{}/comments", repo, number)),
               CommentJson(body));
  if (!created) return std::unexpected(created.error());
  return std::string("created");
}

Result<void> SetCommitStatus(ForgeApi& api, const std::string& repo, const std::string& sha,
                             bool pass, std::string_view context, const std::string& description) {
  JsonWriter w(false);
  w.BeginObject().Key("state").String(pass ? "success" : "failure");
  w.Key("context").String(context).Key("description").String(description).EndObject();
  auto r = api.Send("POST", api.Url(fmt::format("/repos/{}/statuses/{}", repo, sha)), w.str());
  return r ? Result<void>() : std::unexpected(r.error());
}

}  // namespace gpuledger
