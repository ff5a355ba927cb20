// `reviews fetch` against a local HTTP server: pagination, a 502, a rate limit, the token,
// resuming, and errors that must stop it.
#include "reviews/review_fetch.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include "http_test_server.h"
#include "reviews/review_store.h"
#include "sources/http_get.h"
#include "temp_dir.h"
#include "test_log.h"

namespace gpuledger {
namespace {

namespace fs = std::filesystem;
using testing::HttpTestServer;
using testing::TestRequest;
using testing::TestResponse;

std::string Pr(int n, const char* updated = "2025-02-01T00:00:00Z") {
  return "{\"number\":" + std::to_string(n) +
         ",\"user\":{\"login\":\"alice\",\"type\":\"User\"},\"created_at\":\"2025-01-01T00:00:"
         "00Z\","
         "\"updated_at\":\"" +
         updated +
         "\",\"merged_at\":null,\"closed_at\":null,"
         "\"base\":{\"repo\":{\"full_name\":\"acme/train\"}}}";
}

int64_t Epoch() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class FetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = std::make_unique<testing::TempDir>("fetch");
    out_ = tmp_->path() / "out";
  }

  FetchOptions Options(const HttpTestServer& server) {
    FetchOptions o;
    o.repos = {"acme/train"};
    o.out_dir = out_.string();
    o.api_url = server.url();
    o.token = "s3cret-token";
    o.retry_base_ms = 10;
    o.max_rate_wait_ms = 5000;
    return o;
  }

  std::string Log() const { return log_file_.Text(); }

  std::unique_ptr<testing::TempDir> tmp_;

  fs::path out_;
  testing::TestLog log_file_;
  std::FILE* log_ = log_file_.file();
};

TEST_F(FetchTest, PaginatesRetriesWaitsForTheRateLimitAndResumes) {
  int page2_calls = 0, reviews_calls = 0;
  std::string base;
  HttpTestServer server([&](const TestRequest& r) -> TestResponse {
    if (r.target == "/repos/acme/train/pulls?state=all&per_page=100") {
      return {200,
              {{"Link", "<" + base +
                            "/repos/acme/train/pulls?state=all&per_page=100&page=2>; "
                            "rel=\"next\", <" +
                            base + "/x>; rel=\"last\""}},
              "[" + Pr(1) + "," + Pr(2) + "]"};
    }
    if (r.target == "/repos/acme/train/pulls?state=all&per_page=100&page=2") {
      if (page2_calls++ == 0) return {502, {}, "bad gateway"};
      return {200, {}, "[" + Pr(3) + "]"};
    }
    if (r.target == "/repos/acme/train/pulls/1/reviews?per_page=100") {
      if (reviews_calls++ == 0) {
        return {403,
                {{"X-RateLimit-Remaining", "0"}, {"X-RateLimit-Reset", std::to_string(Epoch())}},
                "{\"message\":\"API rate limit exceeded\"}"};
      }
      return {200,
              {},
              "[{\"id\":5,\"user\":{\"login\":\"bob\",\"type\":\"User\"},\"state\":\"APPROVED\","
              "\"body\":\"lgtm\",\"submitted_at\":\"2025-01-02T00:00:00Z\"}]"};
    }
    return {200, {}, "[]"};
  });
  base = server.url();
  auto stats = FetchReviews(Options(server), log_);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ(stats->prs, 3);
  EXPECT_EQ(stats->retries, 1);
  EXPECT_EQ(stats->rate_waits, 1);
  EXPECT_EQ(stats->pages_written, 2 + 3 * 3);
  EXPECT_TRUE(fs::exists(out_ / "acme/train/pulls/page-0002.json"));
  EXPECT_TRUE(fs::exists(out_ / "acme/train/issues/3/comments/page-0001.json"));
  for (const TestRequest& r : server.requests()) {
    EXPECT_EQ(r.headers.at("authorization"), "Bearer s3cret-token") << r.target;
  }
  EXPECT_EQ(Log().find("s3cret"), std::string::npos);  // the token is never printed

  auto data = LoadReviewDir(out_.string());
  ASSERT_TRUE(data) << data.error().ToString();
  ASSERT_EQ(data->prs.size(), 3u);
  EXPECT_EQ(data->prs[0].reviews.size(), 1u);

  const size_t before = server.requests().size();
  auto again = FetchReviews(Options(server), log_);  // resumes: everything is saved
  ASSERT_TRUE(again);
  EXPECT_EQ(again->requests, 0);
  EXPECT_EQ(again->pages_written, 0);
  EXPECT_EQ(again->listings_skipped, 1 + 3 * 3);
  EXPECT_EQ(server.requests().size(), before);
}

TEST_F(FetchTest, ANotFoundStopsWithTheUrl) {
  HttpTestServer server([](const TestRequest&) -> TestResponse {
    return {404, {}, "{\"message\":\"Not Found\"}"};
  });
  auto stats = FetchReviews(Options(server), log_);
  ASSERT_FALSE(stats);
  EXPECT_NE(stats.error().message.find("HTTP 404"), std::string::npos);
  EXPECT_NE(stats.error().where.find("/repos/acme/train/pulls"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 1u);  // not retried
}

TEST_F(FetchTest, ARateLimitTooFarAwayStopsWithAClearMessage) {
  HttpTestServer server([](const TestRequest&) -> TestResponse {
    return {403,
            {{"X-RateLimit-Remaining", "0"}, {"X-RateLimit-Reset", std::to_string(Epoch() + 3600)}},
            "{}"};
  });
  auto stats = FetchReviews(Options(server), log_);
  ASSERT_FALSE(stats);
  EXPECT_NE(stats.error().message.find("rate limit"), std::string::npos);
  EXPECT_NE(stats.error().message.find("resume"), std::string::npos);
}

TEST_F(FetchTest, TransientErrorsAreRetriedThenGiveUp) {
  HttpTestServer server([](const TestRequest&) -> TestResponse {
    return {502, {}, "bad gateway"};
  });
  FetchOptions o = Options(server);
  o.max_retries = 2;
  auto stats = FetchReviews(o, log_);
  ASSERT_FALSE(stats);
  EXPECT_NE(stats.error().message.find("HTTP 502"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST_F(FetchTest, SinceStopsPaginatingAndSkipsOlderPrs) {
  std::string base;
  HttpTestServer server([&](const TestRequest& r) -> TestResponse {
    if (r.target.starts_with("/repos/acme/train/pulls?") &&
        r.target.find("page=2") == std::string::npos) {
      return {200,
              {{"Link", "<" + base + "/repos/acme/train/pulls?page=2>; rel=\"next\""}},
              "[" + Pr(9, "2025-03-01T00:00:00Z") + "," + Pr(8, "2024-01-01T00:00:00Z") + "]"};
    }
    if (r.target.find("page=2") != std::string::npos) return {500, {}, "must not be asked"};
    return {200, {}, "[]"};
  });
  base = server.url();
  FetchOptions o = Options(server);
  o.since = 1735689600000;  // 2025-01-01
  auto stats = FetchReviews(o, log_);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ(stats->prs, 1);
  EXPECT_TRUE(fs::exists(out_ / "acme/train/pulls/9/reviews/page-0001.json"));
  EXPECT_FALSE(fs::exists(out_ / "acme/train/pulls/8"));
}

TEST(RepoName, OnlyNamesGitHubCouldHaveMadeBecomePaths) {
  for (const char* ok : {"acme/train", "a/b", "Acme-Labs/x.y_z-1", "o/.github"}) {
    EXPECT_TRUE(IsValidRepoName(ok)) << ok;
  }
  for (const char* bad : {"nameonly", "../../x", "acme/..", "acme/.", "/etc/passwd", "a/b/c",
                          "-acme/x", "acme-/x", "acme/", "/x", "ac me/x", "acme/x y", "a\\b/c"}) {
    EXPECT_FALSE(IsValidRepoName(bad)) << bad;
  }
}

TEST_F(FetchTest, NamesFromTheServerNeverLeaveOut) {
  HttpTestServer server([&](const TestRequest& r) -> TestResponse {
    if (r.target.starts_with("/orgs/acme/repos")) {
      return {200,
              {},
              R"([{"full_name":"../../escaped"},{"full_name":"/tmp/abs"},)"
              R"({"full_name":"acme/good"}])"};
    }
    return {200, {}, "[]"};
  });
  FetchOptions o = Options(server);
  o.repos.clear();
  o.org = "acme";
  auto stats = FetchReviews(o, log_);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ(stats->repos, 1);
  EXPECT_EQ(stats->repos_refused, 2);
  EXPECT_TRUE(fs::exists(out_ / "acme" / "good" / "pulls"));
  EXPECT_FALSE(fs::exists(out_.parent_path().parent_path() / "escaped"));
  EXPECT_FALSE(fs::exists("/tmp/abs"));
  o.org.clear();
  o.repos = {"../../x"};
  auto refused = FetchReviews(o, log_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUsage);
}

TEST_F(FetchTest, TheTokenGoesOnlyToTheApiOriginAndNeverIntoMessages) {
  std::vector<std::string> foreign_auth;
  HttpTestServer foreign([&](const TestRequest& r) -> TestResponse {
    auto a = r.headers.find("authorization");
    foreign_auth.push_back(a == r.headers.end() ? "" : a->second);
    return {200, {}, "[]"};
  });
  HttpTestServer server([&](const TestRequest& r) -> TestResponse {
    if (r.target == "/repos/acme/train/pulls?state=all&per_page=100") {
      // A next page on another host: followed, but without the token.
      return {200, {{"Link", "<" + foreign.url() + "/page2>; rel=\"next\""}}, "[]"};
    }
    return {200, {}, "[]"};
  });
  auto stats = FetchReviews(Options(server), log_);
  ASSERT_TRUE(stats) << stats.error().ToString();
  ASSERT_EQ(foreign_auth.size(), 1u);
  EXPECT_EQ(foreign_auth[0], "");

  // A server that echoes the request's Authorization in its error body.
  HttpTestServer echo([&](const TestRequest& r) -> TestResponse {
    return {
        401,
        {},
        "{\"message\":\"Bad credentials\",\"you_sent\":\"" + r.headers.at("authorization") + "\"}"};
  });
  FetchOptions o = Options(echo);
  o.out_dir = (out_ / "echo").string();
  auto failed = FetchReviews(o, log_);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message.find("s3cret-token"), std::string::npos)
      << failed.error().message;
  EXPECT_NE(failed.error().message.find("Bad credentials"), std::string::npos);
  EXPECT_EQ(Log().find("s3cret-token"), std::string::npos);
}

TEST(HttpOrigin, SchemesHostsAndPortsAreCompared) {
  EXPECT_EQ(OriginOf("https://api.github.com/repos/a/b"), "https://api.github.com:443");
  EXPECT_EQ(OriginOf("HTTPS://API.GitHub.com:443"), "https://api.github.com:443");
  EXPECT_EQ(OriginOf("http://127.0.0.1:9090/api/v1/query?x=1"), "http://127.0.0.1:9090");
  EXPECT_EQ(OriginOf("http://user:pw@evil.example/x"), "http://evil.example:80");
  EXPECT_NE(OriginOf("https://api.github.com.evil.example/"), OriginOf("https://api.github.com/"));
  EXPECT_EQ(OriginOf("no-scheme"), "");
}

}  // namespace
}  // namespace gpuledger
