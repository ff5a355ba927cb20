// The live Prometheus path against a test server: broken answers are errors quoting the
// server, never an audit of nothing; answers too large to read whole are asked for in halves.
#include "sources/prometheus_api.h"

#include <gtest/gtest.h>

#include <atomic>

#include "http_test_server.h"
#include "test_log.h"

namespace gpuledger {
namespace {

using testing::HttpTestServer;
using testing::TestRequest;
using testing::TestResponse;

PrometheusQuery Query(const HttpTestServer& server, DurationMs chunk = kMsPerHour) {
  PrometheusQuery q;
  q.url = server.url();
  q.from = 1735689600000;  // 2025-01-01
  q.to = q.from + chunk;
  q.chunk_ms = chunk;
  q.max_retries = 0;
  q.retry_base_ms = 1;
  return q;
}

Result<void> Fetch(const PrometheusQuery& q, TelemetryBuckets* b, SourceStats* s) {
  testing::TestLog log;
  return FetchPrometheusRaw(q, SeriesMapping{}, b, s, log.file());
}

TEST(PrometheusApi, BrokenAnswersAreErrorsThatQuoteTheServer) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"status":"error","errorType":"bad_data","error":"parse error at char 3"})",
       "bad_data: parse error at char 3"},
      {R"({"status":"success","data":{"resultType":"matr)", "not whole JSON"},
      {R"({"status":"success","data":{"resultType":"vector","result":[]}})", "not a matrix"},
      {"<html>proxy login</html>", "not whole JSON"},
      // Cut off after a point: the point read before the cut is not kept either.
      {R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{"Hostname":"h",)"
       R"("gpu":"0"},"values":[[1735689600,"5"],[17356)",
       "not whole JSON"},
  };
  for (const auto& [body, says] : cases) {
    HttpTestServer server([&](const TestRequest&) -> TestResponse { return {200, {}, body}; });
    TelemetryBuckets b;
    SourceStats s;
    auto r = Fetch(Query(server), &b, &s);
    ASSERT_FALSE(r) << body;
    EXPECT_NE(r.error().message.find(says), std::string::npos) << r.error().message;
    EXPECT_TRUE(b.Sources().empty()) << body;
  }
}

TEST(PrometheusApi, AnAnswerIsReadAsItArrivesNotHeldWhole) {
  // 200,000 points of one GPU on one line (~5 MB): handed over in pieces, never kept whole.
  std::string json = R"({"status":"success","data":{"resultType":"matrix","result":[)"
                     R"({"metric":{"Hostname":"h","gpu":"0"},"values":[)";
  for (int i = 0; i < 200000; ++i)
    json += (i ? ",[" : "[") + std::to_string(1735689600 + i) + ".5,\"50\"]";
  json += "]}]}}";
  HttpTestServer server([&](const TestRequest&) -> TestResponse { return {200, {}, json}; });
  int pieces = 0;
  size_t bytes = 0;
  const HttpResponse r = HttpGetStreamed(
      server.url() + "/api/v1/query", HttpAuth{}, "application/json", 0,
      [&](std::string_view piece) { return ++pieces, bytes += piece.size(), true; });
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(bytes, json.size());
  EXPECT_GT(pieces, 1);
  // The same answer through the raw path: every point read.
  TelemetryBuckets b;
  SourceStats s;
  PrometheusQuery q = Query(server);
  q.max_response_bytes = json.size() + 1;
  ASSERT_TRUE(Fetch(q, &b, &s));
  EXPECT_EQ(s.rows_read, 200000u);
  EXPECT_EQ(s.RowsRejected(), 0u);
  ASSERT_EQ(b.Sources().size(), 1u);  // machine h (samples are counted accepted as fed)
  // An error's body is kept for its message, and never handed over.
  HttpTestServer refusing([&](const TestRequest&) -> TestResponse {
    return {503, {}, "overloaded, try later"};
  });
  pieces = 0;
  const HttpResponse refused = HttpGetStreamed(refusing.url(), HttpAuth{}, "application/json", 0,
                                               [&](std::string_view) { return ++pieces, true; });
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.body, "overloaded, try later");
  EXPECT_EQ(pieces, 0);
}

TEST(PrometheusApi, AnAnswerTooLargeIsAskedForInHalves) {
  std::atomic<int> calls{0};
  HttpTestServer server([&](const TestRequest& r) -> TestResponse {
    ++calls;
    // The whole hour answers with a body past the cap; each half answers small.
    if (r.target.find("3600000ms") != std::string::npos) return {200, {}, std::string(4096, ' ')};
    return {200,
            {},
            R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":)"
            R"({"__name__":"DCGM_FI_DEV_GPU_UTIL","Hostname":"h","gpu":"0"},)"
            R"("values":[[1735689600,"50"]]}]}})"};
  });
  PrometheusQuery q = Query(server);
  q.max_response_bytes = 1024;
  TelemetryBuckets b;
  SourceStats s;
  auto r = Fetch(q, &b, &s);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(calls.load(), 3);  // the hour, then its two halves
  EXPECT_EQ(b.Sources().size(), 1u);
}

}  // namespace
}  // namespace gpuledger
