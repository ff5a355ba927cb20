// Review parsing (malformed input first, then the real API captures) and classification.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/line_reader.h"
#include "prerequisite.h"
#include "report/reviews_report.h"
#include "reviews/classify.h"
#include "reviews/github_json.h"
#include "reviews/review_audit.h"
#include "reviews/review_store.h"
#include "temp_dir.h"

namespace gpuledger {
namespace {

TEST(GitHubJson, MalformedPagesNameTheFile) {
  EXPECT_EQ(ParsePullsPage("[{\"number\": 1,", "o/r", "p.json").error().where, "p.json");
  EXPECT_FALSE(ParsePullsPage("{\"message\": \"Not Found\"}", "o/r", "p.json"));  // not an array
  EXPECT_FALSE(ParsePullsPage("[1, 2]", "o/r", "p.json"));
  EXPECT_FALSE(ParsePullsPage("[{\"number\": 3}]", "o/r", "p.json"));  // no created_at
  EXPECT_FALSE(ParseReviewsPage("nonsense", "r.json"));
  EXPECT_TRUE(ParseReviewsPage("[]", "r.json")->empty());
  EXPECT_TRUE(ParseCommentsPage("  ", "c.json")->empty());
}

TEST(GitHubJson, GhPaginateOutputIsArraysBackToBack) {
  auto v =
      ParseReviewsPage(R"([{"id":1,"user":{"login":"a","type":"User"},"state":"APPROVED"}])"
                       R"([{"id":2,"user":{"login":"b[bot]","type":"User"},"state":"COMMENTED"}])",
                       "r.json");
  ASSERT_TRUE(v) << v.error().ToString();
  ASSERT_EQ(v->size(), 2u);
  EXPECT_FALSE((*v)[0].user.IsBot());
  EXPECT_TRUE((*v)[1].user.IsBot());  // a login ending [bot] is a bot whatever its type
  EXPECT_FALSE((*v)[0].submitted_at);
}

std::string RealData(const std::string& name) {
  const auto path = std::filesystem::path(GPULEDGER_SOURCE_DIR) / ".." / "shared" / "realdata" /
                    "github-api" / name;
  auto text = ReadWholeFile(path.string());
  return text ? *text : std::string();
}

TEST(GitHubJson, RealCapturesParse) {
  const std::string pulls = RealData("pulls_ome-documentation_closed.json");
  GPULEDGER_REQUIRE(!pulls.empty(), "no ../shared/realdata/github-api");
  auto prs = ParsePullsPage(pulls, "x/y", "pulls.json");
  ASSERT_TRUE(prs) << prs.error().ToString();
  ASSERT_EQ(prs->size(), 30u);
  EXPECT_EQ((*prs)[0].repo, "openmicroscopy/ome-documentation");
  EXPECT_EQ((*prs)[0].number, 234);
  EXPECT_EQ((*prs)[0].author.login, "sbesson");
  EXPECT_EQ(FormatIsoUtc(*(*prs)[0].merged_at), "2013-02-01T11:04:37.000Z");
  EXPECT_EQ((*prs)[0].head_sha, "4c2b874e9e20667d610b71454551e0807013f2b4");
  auto reviews = ParseReviewsPage(RealData("reviews_PyGithub_538.json"), "reviews.json");
  ASSERT_TRUE(reviews);
  ASSERT_EQ(reviews->size(), 5u);
  EXPECT_EQ((*reviews)[0].state, "APPROVED");
  EXPECT_EQ((*reviews)[0].user.login, "jzelinskie");
  auto comments = ParseCommentsPage(RealData("review_comments_PyGithub_31.json"), "c.json");
  ASSERT_TRUE(comments);
  ASSERT_EQ(comments->size(), 2u);
  EXPECT_EQ(*(*comments)[0].review_id, 131593233);
  EXPECT_FALSE((*comments)[1].review_id);
}

PullRequest Pr() {
  PullRequest pr;
  pr.repo = "o/r", pr.number = 7, pr.author = {"alice", false};
  pr.created_at = 0, pr.merged_at = 10 * kMsPerHour;
  return pr;
}

GhReview Review(int64_t id, std::string who, std::string state, std::string body, TimeMs at,
                bool bot = false) {
  return {id, {std::move(who), bot}, std::move(state), std::move(body), at};
}

PrReviewFacts Classify(const PullRequest& pr, ReviewOptions o = {}) {
  auto patterns = CompileWarningPatterns(o.warning_patterns);
  return ClassifyPr(pr, o, *patterns);
}

TEST(ReviewClassify, ClassesByPrecedence) {
  PullRequest pr = Pr();
  EXPECT_EQ(*Classify(pr).review_class, ReviewClass::kNoReview);
  pr.reviews = {Review(1, "alice", "APPROVED", "", 1)};  // the author's own review
  EXPECT_EQ(*Classify(pr).review_class, ReviewClass::kNoReview);
  pr.reviews.push_back(Review(2, "ci[bot]", "APPROVED", "", 1));
  EXPECT_EQ(*Classify(pr).review_class, ReviewClass::kNoReview);
  pr.reviews.push_back(Review(3, "bob", "DISMISSED", "meh", 2));
  EXPECT_EQ(*Classify(pr).review_class, ReviewClass::kCommentedOnly);
  pr.reviews.push_back(Review(4, "bob", "APPROVED", "+1 🚀", 3));
  EXPECT_EQ(*Classify(pr).review_class, ReviewClass::kRubberStamped);
  pr.reviews.push_back(Review(5, "carol", "CHANGES_REQUESTED", "", 4));
  EXPECT_EQ(*Classify(pr).review_class, ReviewClass::kSubstantive);
  pr.merged_at.reset();
  EXPECT_FALSE(Classify(pr).review_class);  // only merged PRs have a class
}

TEST(ReviewClassify, SubstantiveByWordsOrInlineComment) {
  PullRequest pr = Pr();
  GhReview nine = Review(1, "bob", "APPROVED", "one two three four five six seven eight nine", 1);
  EXPECT_FALSE(IsSubstantive(nine, pr, 10));
  GhReview ten =
      Review(2, "bob", "APPROVED", "one two  three\nfour five six seven eight nine ten", 1);
  EXPECT_TRUE(IsSubstantive(ten, pr, 10));
  GhComment inline_comment;
  inline_comment.id = 9;
  inline_comment.user.login = "bob";
  inline_comment.body = "nit";
  inline_comment.review_id = 1;
  pr.review_comments.push_back(inline_comment);
  EXPECT_TRUE(IsSubstantive(nine, pr, 10));  // review 1 has an inline comment of its own
  EXPECT_FALSE(IsSubstantive(Review(3, "bob", "APPROVED", "lgtm", 1), pr, 10));
}

TEST(ReviewClassify, BotWarningsAreIgnoredUnlessASubstantiveReviewFollows) {
  PullRequest pr = Pr();
  pr.reviews = {Review(1, "reviewbot", "COMMENTED",
                       "Careful. This adds a 12x cost with no cap! Thanks.", 2 * kMsPerHour, true),
                Review(2, "bob", "APPROVED", "lgtm", 3 * kMsPerHour)};
  auto f = Classify(pr);
  ASSERT_EQ(f.warnings.size(), 1u);
  EXPECT_TRUE(f.warnings[0].ignored);
  EXPECT_EQ(f.warnings[0].sentence, "This adds a 12x cost with no cap!");
  EXPECT_EQ(f.warnings[0].approving_text, "lgtm");
  pr.reviews.push_back(Review(3, "carol", "CHANGES_REQUESTED", "", 1 * kMsPerHour));  // before it
  EXPECT_TRUE(Classify(pr).warnings[0].ignored);
  pr.reviews.push_back(Review(4, "carol", "CHANGES_REQUESTED", "", 4 * kMsPerHour));  // after it
  EXPECT_FALSE(Classify(pr).warnings[0].ignored);
  ReviewOptions o;
  o.warning_patterns = {"no cap"};
  EXPECT_EQ(Classify(pr, o).warnings.size(), 1u);
  o.warning_patterns = {"budget"};
  EXPECT_TRUE(Classify(pr, o).warnings.empty());
  EXPECT_FALSE(CompileWarningPatterns({"(unclosed"}));
}

// A bot's text is anyone's text: with std::regex, "(a+)+$" took seconds per character added and
// a 100,000-character body overflowed the stack. RE2 is linear and does not recurse.
TEST(ReviewClassify, WarningPatternsAreLinearInTheText) {
  PullRequest pr = Pr();
  pr.reviews.push_back(Review(1, "cost-bot[bot]", "COMMENTED", std::string(100000, 'a') + "!", 0));
  ReviewOptions o;
  o.warning_patterns = {"(a+)+$", "(x|xy)*z"};
  EXPECT_TRUE(Classify(pr, o).warnings.empty());
  o.warning_patterns = {"COST Increase"};
  pr.reviews.back().body = "Warning: cost increase of 40 %.";
  ASSERT_EQ(Classify(pr, o).warnings.size(), 1u);  // case-insensitive
  EXPECT_EQ(Classify(pr, o).warnings[0].sentence, "Warning: cost increase of 40 %.");
}

TEST(ReviewClassify, LongOpenToCloseOrAsOf) {
  PullRequest pr = Pr();
  pr.merged_at.reset();
  ReviewOptions o;
  o.as_of = 30 * kMsPerDay;
  EXPECT_TRUE(Classify(pr, o).long_open);
  o.as_of = 30 * kMsPerDay - 1;
  EXPECT_FALSE(Classify(pr, o).long_open);
  pr.closed_at = 31 * kMsPerDay;
  EXPECT_TRUE(Classify(pr, o).long_open);
  EXPECT_NEAR(Classify(pr, o).days_open, 31, 1e-9);
}

TEST(ReviewClassify, QuickApprovalOfALargeDiffIsFlagged) {
  PullRequest pr = Pr();
  pr.additions = 900, pr.deletions = 200;
  pr.reviews = {Review(1, "bob", "APPROVED", "", 3 * kMsPerMinute)};
  EXPECT_TRUE(Classify(pr).quick_large_approval);
  EXPECT_EQ(*Classify(pr).to_first_review, 3 * kMsPerMinute);
  pr.additions = 10;
  EXPECT_FALSE(Classify(pr).quick_large_approval);
}

// Jobs name their repository as CI variables, clone URLs or paths; GitLab's nested groups and
// "!IID" merge request references join too.
TEST(ReviewAudit, JobsJoinWhateverFormTheirRepositoryIsWrittenIn) {
  ReviewData data;
  PullRequest mr;
  mr.repo = "ml/vision/train", mr.number = 12, mr.merge_request = true, mr.created_at = 0;
  data.repos = {mr.repo};
  data.prs = {mr};
  Fleet fleet;
  int id = 0;
  for (const char* repo : {"ml/vision/train", "https://gitlab.example.com/ml/vision/train.git",
                           "git@gitlab.example.com:ml/vision/train.git", "ML/Vision/Train/",
                           "ml/vision/other", "https://gitlab.example.com/vision/train"}) {
    Job j;
    j.id = "j" + std::to_string(++id), j.machine = "n1", j.gpus = {0};
    j.start = 0, j.end = kMsPerHour, j.repo = repo, j.pr = "!12";
    fleet.jobs.push_back(j);
  }
  auto a = AuditReviews(data, ReviewOptions{}, &fleet);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->spend[0].jobs, 4);  // the last two are other projects
  EXPECT_EQ(a->jobs_unmatched, 2);
}

TEST(ReviewStore, LoadsTheDocumentedLayout) {
  auto data = LoadReviewDir(std::string(GPULEDGER_SOURCE_DIR) + "/tests/data/reviews/fixture");
  ASSERT_TRUE(data) << data.error().ToString();
  EXPECT_EQ(data->repos, (std::vector<std::string>{"acme/infra", "acme/train"}));
  ASSERT_EQ(data->prs.size(), 11u);
  EXPECT_EQ(data->prs[1].Ref(), "acme/train#1");
  EXPECT_EQ(data->prs[1].reviews.size(), 2u);
  EXPECT_EQ(data->prs[8].issue_comments.size(), 1u);  // acme/train#8
  EXPECT_FALSE(LoadReviewDir("/no/such/dir"));
}

// Issue 23 item 12: a folder with the real pulls listing and no reviews saved says the reviews
// are unknown, not "29 of 29 merged with no review".
TEST(ReviewStore, PullsWithoutReviewsSavedAreUnknownNotUnreviewed) {
  const std::string pulls = RealData("pulls_ome-documentation_closed.json");
  GPULEDGER_REQUIRE(!pulls.empty(), "no ../shared/realdata/github-api");
  testing::TempDir tmp("reviews-unknown");
  const auto dir = tmp.path() / "openmicroscopy" / "ome-documentation" / "pulls";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "page-0001.json") << pulls;
  auto data = LoadReviewDir(tmp.path().string());
  ASSERT_TRUE(data) << data.error().ToString();
  int64_t merged = 0;
  for (const PullRequest& pr : data->prs) {
    EXPECT_FALSE(pr.reviews_fetched);
    merged += pr.merged();
  }
  ASSERT_GT(merged, 0);
  auto audit = AuditReviews(std::move(*data), ReviewOptions{}, nullptr);
  ASSERT_TRUE(audit) << audit.error().ToString();
  EXPECT_EQ(audit->MergedWithNoReview(), 0);
  EXPECT_EQ(audit->MergedReviewsUnknown(), merged);
  const std::string table = ReviewsToTable(*audit, 5);
  EXPECT_NE(table.find("whether they were reviewed is unknown"), std::string::npos) << table;
  EXPECT_EQ(table.find("merged with no review"), std::string::npos) << table;
}

}  // namespace
}  // namespace gpuledger
