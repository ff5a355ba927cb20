// pr-check's pure part: which jobs are a PR's, its review state, and each guardrail's edge.
#include "reviews/pr_check.h"

#include <gtest/gtest.h>

#include "policy/policy.h"

namespace gpuledger {
namespace {

LedgerJob Job(std::string id, std::string repo, std::string commit, std::string pr, double usd) {
  LedgerJob j;
  j.job_id = std::move(id), j.repo = std::move(repo), j.commit = std::move(commit);
  j.pr = std::move(pr), j.cost_usd = usd, j.gpu_hours = usd / 4, j.status = "completed";
  j.start = static_cast<TimeMs>(usd) * kMsPerDay;  // day N for $N
  return j;
}

GhReview Review(int64_t id, const std::string& login, const std::string& state,
                const std::string& body) {
  GhReview r;
  r.id = id, r.user.login = login, r.state = state, r.body = body;
  return r;
}

PullRequest APr() {
  PullRequest pr;
  pr.repo = "acme/det", pr.number = 61, pr.author.login = "asha", pr.created_at = 0;
  return pr;
}

TEST(PrCheck, ItsJobsNameItOrRanAtItsCommits) {
  const std::vector<LedgerJob> jobs = {Job("named", "acme/det", "", "61", 10),
                                       Job("no-repo", "", "", "61", 5),
                                       Job("at-commit", "", "c2", "", 20),
                                       Job("other-repo", "acme/web", "", "61", 100),
                                       Job("other-pr", "acme/det", "", "62", 100),
                                       Job("other-repo-commit", "acme/web", "c2", "", 100)};
  const PrBill b = BillOf(jobs, APr(), {"c1", "c2"});
  ASSERT_EQ(b.jobs.size(), 3u);
  EXPECT_EQ(b.jobs[0]->job_id, "no-repo");  // by start
  EXPECT_DOUBLE_EQ(b.usd, 35);
  EXPECT_DOUBLE_EQ(b.days_firing, 20);  // the PR opened at day 0, its last job on day 20
  EXPECT_FALSE(b.idle_gpu_hours);       // no job's idle time known
}

TEST(PrCheck, OnlyOthersHumanReviewsCountAndWordsMakeThemSubstantive) {
  PullRequest pr = APr();
  pr.reviews.push_back(Review(1, "asha", "APPROVED", ""));  // the author's own
  pr.reviews.push_back(Review(2, "ci-bot[bot]", "APPROVED", ""));
  pr.reviews.push_back(Review(3, "bo", "APPROVED", "lgtm"));
  PrReviewState s = ReviewStateOf(pr);
  EXPECT_EQ(s.human_reviews, 1);
  EXPECT_EQ(s.substantive, 0);
  EXPECT_EQ(s.summary, "approved without a substantive review (a rubber stamp)");
  pr.reviews.push_back(Review(4, "chen", "CHANGES_REQUESTED", ""));
  EXPECT_EQ(ReviewStateOf(pr).substantive, 1);
}

TEST(PrCheck, EachLimitFailsJustPastIt) {
  PrBill bill;
  bill.usd = 50, bill.days_firing = 30;
  PrReviewState none{0, 0, 0, "no human review"};
  PrGuardrail g;
  g.max_usd_without_review = 50, g.require_review_over_usd = 50, g.max_open_days_firing_jobs = 30;
  EXPECT_TRUE(Judge(bill, none, g).pass);  // at the limits: within them
  bill.usd = 50.01, bill.days_firing = 30.1;
  const PrVerdict v = Judge(bill, none, g);
  EXPECT_FALSE(v.pass);
  EXPECT_EQ(v.reasons.size(), 3u);
  PrReviewState reviewed{1, 1, 1, "1 substantive review"};
  EXPECT_EQ(Judge(bill, reviewed, g).reasons.size(), 1u);  // only the days
  EXPECT_TRUE(Judge(bill, reviewed, PrGuardrail{}).pass);  // no limits set: nothing checked
}

TEST(PrCheck, TheGuardrailIsReadFromThePolicy) {
  auto p = ParsePolicy("[pr_guardrail]\nmax_usd_without_review = 25\n", "policy.toml");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->pr_guardrail.max_usd_without_review, 25);
  EXPECT_FALSE(p->pr_guardrail.require_review_over_usd);
  auto bad = ParsePolicy("[pr_guardrail]\nmax_usd = 25\n", "policy.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().ToString().find("policy.toml:2"), std::string::npos);
  EXPECT_NE(bad.error().message.find("unknown key pr_guardrail.max_usd"), std::string::npos);
}

TEST(PrCheck, TheStatusDescriptionFitsGitHubsLimit) {
  PrBill b;
  b.usd = 1e9;
  PrVerdict v{false, {std::string(300, 'x')}};
  EXPECT_LE(PrStatusDescription(b, v).size(), 140u);
}

}  // namespace
}  // namespace gpuledger
