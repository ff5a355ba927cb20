// GitLab's answers into the review model: the real recorded merge request and discussions of
// gitlab.kitware.com utils/rust-gitlab!35 (tests/data/real/gitlab), with the expectations read
// off the recordings by hand.
#include "reviews/gitlab_json.h"

#include <gtest/gtest.h>

#include "core/line_reader.h"
#include "reviews/classify.h"

namespace gpuledger {
namespace {

std::string Recorded(const std::string& name) {
  auto text = ReadWholeFile(std::string(GPULEDGER_SOURCE_DIR) + "/tests/data/real/gitlab/" + name);
  EXPECT_TRUE(text.has_value()) << name;
  return text.value_or("");
}

TEST(GitLabJson, TheRecordedMergeRequestIsAPullRequest) {
  auto mrs = ParseMergeRequestsPage("[" + Recorded("merge_request.json") + "]", "fallback/x", "f");
  ASSERT_TRUE(mrs.has_value()) << mrs.error().message;
  ASSERT_EQ(mrs->size(), 1u);
  const PullRequest& mr = (*mrs)[0];
  EXPECT_EQ(mr.repo, "utils/rust-gitlab");  // references.full, not the fallback
  EXPECT_EQ(mr.number, 35);
  EXPECT_EQ(mr.Ref(), "utils/rust-gitlab!35");
  EXPECT_EQ(mr.author.login, "ben.boeckel");
  EXPECT_FALSE(mr.author.IsBot());
  EXPECT_EQ(mr.head_sha, "04e94ae667024a62a90179f395bfdc2b35f3efd2");
  // 2016-10-04T15:56:43.276-04:00 and 16:18:57.914-04:00, in UTC.
  EXPECT_EQ(FormatIsoUtc(mr.created_at), "2016-10-04T19:56:43.276Z");
  ASSERT_TRUE(mr.merged_at.has_value());
  EXPECT_EQ(FormatIsoUtc(*mr.merged_at), "2016-10-04T20:18:57.914Z");
  EXPECT_EQ(mr.closed_at, mr.merged_at);  // GitLab leaves closed_at null on a merged MR
}

TEST(GitLabJson, HumanNotesAreReviewsAndDiffNotesCarryAnInlineComment) {
  auto notes = ParseDiscussionsPage(Recorded("discussion.json"), "f");
  ASSERT_TRUE(notes.has_value()) << notes.error().message;
  // 16 notes in 12 discussions; 6 are system notes ("Status changed to merged", …).
  ASSERT_EQ(notes->size(), 10u);
  int diff_notes = 0;
  for (const GitLabNote& n : *notes) diff_notes += n.on_diff;
  EXPECT_EQ(diff_notes, 3);  // 619272, 619273, 619274
  EXPECT_EQ((*notes)[0].comment.user.login, "kwrobot");
  EXPECT_EQ((*notes)[0].comment.id, 177359);

  PullRequest mr;
  mr.author.login = "ben.boeckel";
  std::vector<GitLabNote> with_ours = *notes;
  GitLabNote ours;
  ours.comment.id = 1;
  ours.comment.user.login = "gpuledger-bot";
  ours.comment.body = "<!-- gpuledger:pr-check -->\n### GPU cost …";
  with_ours.push_back(ours);
  AddNotesAsReviews(with_ours, &mr);
  EXPECT_EQ(mr.reviews.size(), 10u);  // gpuledger's own note is no review
  ASSERT_EQ(mr.review_comments.size(), 3u);
  int substantive = 0;
  for (const GhReview& r : mr.reviews) {
    EXPECT_EQ(r.state, "COMMENTED");
    substantive += IsSubstantive(r, mr, 10);
  }
  EXPECT_EQ(substantive, 3);  // the DiffNotes; no other note has 10 words
}

TEST(GitLabJson, ApprovalsAreApprovedReviews) {
  auto a = ParseApprovals(
      R"({"approved": true, "approved_by": [{"user": {"id": 10, "username": "brad.king"}},
          {"user": {"id": 77, "username": "project_855_bot_3f2a", "bot": false}},
          {"user": {"id": 78, "username": "deploy", "bot": true}}]})",
      "f");
  ASSERT_TRUE(a.has_value());
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ((*a)[0].state, "APPROVED");
  EXPECT_EQ((*a)[0].user.login, "brad.king");
  EXPECT_EQ((*a)[0].id, -10);  // apart from note ids
  EXPECT_FALSE((*a)[0].user.IsBot());
  EXPECT_TRUE((*a)[1].user.IsBot());  // an access token's bot user
  EXPECT_TRUE((*a)[2].user.IsBot());  // GitLab says so
  EXPECT_FALSE(ParseApprovals("[]", "f").has_value());
}

TEST(GitLabJson, ProjectPathsThatCouldNeverBeAPathOnDisk) {
  EXPECT_TRUE(IsValidGitLabProjectPath("utils/rust-gitlab"));
  EXPECT_TRUE(IsValidGitLabProjectPath("gitlab-org/ci-cd/tests/my_project.v2"));
  for (const char* bad :
       {"", "x", "a//b", "/a/b", "a/b/", "../etc", "a/..", "a/./b", "a/b c", "a/b%2Fc", "a\\b/c"}) {
    EXPECT_FALSE(IsValidGitLabProjectPath(bad)) << bad;
  }
  EXPECT_EQ(GitLabProjectId("gitlab-org/ci-cd/x"), "gitlab-org%2Fci-cd%2Fx");
}

}  // namespace
}  // namespace gpuledger
