// Rate limits as GitHub and GitLab say them: each header alone, and what is no rate limit.
#include "reviews/forge_api.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

HttpResponse Answer(long status, std::map<std::string, std::string> headers,
                    std::string body = "") {
  HttpResponse r;
  r.status = status, r.headers = std::move(headers), r.body = std::move(body);
  return r;
}

constexpr TimeMs kNow = 1'700'000'000'000;

TEST(RateLimitWait, EachForgesHeaders) {
  EXPECT_EQ(RateLimitWait(Answer(403, {{"retry-after", "7"}}), kNow), 7000);
  EXPECT_EQ(RateLimitWait(Answer(429, {{"retry-after", "1"}}), kNow), 1000);  // GitLab
  // GitHub: spent until x-ratelimit-reset (epoch seconds), and a second more.
  EXPECT_EQ(
      RateLimitWait(
          Answer(403, {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "1700000030"}}), kNow),
      31000);
  // GitLab: the same with its own names.
  EXPECT_EQ(
      RateLimitWait(Answer(429, {{"ratelimit-remaining", "0"}, {"ratelimit-reset", "1700000010"}}),
                    kNow),
      11000);
  // GitHub's secondary limit with no Retry-After: a minute.
  EXPECT_EQ(RateLimitWait(Answer(403, {{"x-ratelimit-remaining", "4000"}},
                                 R"({"message": "You have exceeded a secondary rate limit."})"),
                          kNow),
            60000);
}

TEST(RateLimitWait, WhatIsNoRateLimit) {
  EXPECT_FALSE(RateLimitWait(Answer(403, {{"x-ratelimit-remaining", "4999"}},
                                    R"({"message": "Resource not accessible by integration"})"),
                             kNow));
  EXPECT_FALSE(RateLimitWait(Answer(404, {{"retry-after", "5"}}), kNow));
  EXPECT_FALSE(RateLimitWait(Answer(500, {}), kNow));
}

}  // namespace
}  // namespace gpuledger
