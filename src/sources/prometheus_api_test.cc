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
  };
  for (const auto& [body, says] : cases) {
    HttpTestServer server([&](const TestRequest&) -> TestResponse { return {200, {}, body}; });
    TelemetryBuckets b;
    SourceStats s;
    auto r = Fetch(Query(server), &b, &s);
    ASSERT_FALSE(r) << body;
    EXPECT_NE(r.error().message.find(says), std::string::npos) << r.error().message;
  }
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
