// The query_range scanner: every way of cutting an answer into pieces gives what reading it
// whole gives; the shapes Prometheus, VictoriaMetrics and hand edits produce; broken answers.
#include "sources/query_range_scanner.h"

#include <gtest/gtest.h>

#include <charconv>
#include <random>
#include <string>
#include <vector>

namespace gpuledger {
namespace {

// Writes down every event as text, so two readings compare as strings.
class Recorder : public QueryRangeHandler {
 public:
  std::string log;
  uint64_t skip = 0;  // a series whose points are not wanted
  bool SkipsPoints(uint64_t series) const override { return series == skip; }
  void OnSeries(uint64_t series, const Labels& labels) override {
    log += "S" + std::to_string(series) + "{";
    for (const auto& [k, v] : labels) log += k + "=" + v + ";";
    log += "}\n";
  }
  void OnPoint(uint64_t series, uint64_t point, double t, std::string_view v) override {
    char ts[64];
    std::snprintf(ts, sizeof ts, "%.3f", t);
    log += "P" + std::to_string(series) + "." + std::to_string(point) + "@" + ts + "=" +
           std::string(v) + "\n";
  }
  void OnBadPoint(uint64_t series, uint64_t point) override {
    log += "B" + std::to_string(series) + "." + std::to_string(point) + "\n";
  }
  void OnSeriesEnd(uint64_t series, uint64_t points, bool metric, bool values) override {
    log += "E" + std::to_string(series) + ":" + std::to_string(points) + (metric ? "m" : "") +
           (values ? "v" : "") + "\n";
  }
};

// The events and the outcome of reading "json" in pieces of "piece" bytes (0: whole), the
// points of series "skip" not wanted.
std::string Read(std::string_view json, size_t piece = 0, uint64_t skip = 0) {
  Recorder r;
  r.skip = skip;
  QueryRangeScanner s(&r);
  if (piece == 0) piece = json.size() + 1;
  for (size_t at = 0; at < json.size(); at += piece) s.Feed(json.substr(at, piece));
  const std::string failure = s.Finish();
  return r.log + "=> " + (failure.empty() ? "ok" : failure) + " status=" + s.status();
}

constexpr std::string_view kAnswer = R"({"status":"success","data":{"resultType":"matrix",
  "result":[{"metric":{"__name__":"DCGM_FI_DEV_GPU_UTIL","gpu":"0","Hostname":"h\u00e9\"1"},
  "values":[[1735689600,"5"],[1735689610.25,"17.5"] , [ 1735689620 , "0" ]]},
  {"values":[[1,"7"],[2,"x"],["3","8"],[4],null],"metric":{"gpu":"1","n":3,"a":{"b":[1]}},"extra":[1,{"x":"y"}]},
  {"metric":{"gpu":"2"}},
  7]},"warnings":["a \u0022quoted\u0022 warning"]})";

TEST(QueryRangeScanner, ReadsTheAnswersShapes) {
  EXPECT_EQ(Read(kAnswer),
            "S1{__name__=DCGM_FI_DEV_GPU_UTIL;gpu=0;Hostname=h\xc3\xa9\"1;}\n"
            "P1.1@1735689600.000=5\nP1.2@1735689610.250=17.5\nP1.3@1735689620.000=0\n"
            "E1:3mv\n"
            // values before metric: held, then handed over; labels that are no string left out
            "S2{gpu=1;}\nP2.1@1.000=7\nP2.2@2.000=x\nB2.3\nB2.4\nB2.5\nE2:5mv\n"
            "S3{gpu=2;}\nE3:0m\n"  // a series without values
            "E4:0\n"               // an item that is no series
            "=> ok status=success");
}

TEST(QueryRangeScanner, EveryCutGivesWhatTheWholeGives) {
  const std::string whole = Read(kAnswer);
  for (size_t piece = 1; piece <= 64; ++piece) {
    ASSERT_EQ(Read(kAnswer, piece), whole) << "pieces of " << piece << " bytes";
  }
}

TEST(QueryRangeScanner, PointsNotWantedAreSkippedUnreadInAnyCut) {
  // The skipped values hold a string with brackets and an escaped quote, and a nested array.
  constexpr std::string_view json =
      R"({"resultType":"matrix","result":[{"metric":{"gpu":"0"},"values":[[1,"5"],)"
      R"(["2","a]\"[\\"] , [3,[4,"]"]]],"extra":1},{"metric":{"gpu":"1"},"values":[[9,"1"]]}]})";
  const std::string want = "S1{gpu=0;}\nE1:3mv\nS2{gpu=1;}\nP2.1@9.000=1\nE2:1mv\n=> ok status=";
  EXPECT_EQ(Read(json, 0, 1), want);
  for (size_t piece = 1; piece <= 64; ++piece) {
    ASSERT_EQ(Read(json, piece, 1), want) << "pieces of " << piece << " bytes";
  }
  // Not skipped, the same answer hands its points over (and the odd ones as bad).
  EXPECT_EQ(Read(json),
            "S1{gpu=0;}\nP1.1@1.000=5\nB1.2\nB1.3\nE1:3mv\nS2{gpu=1;}\n"
            "P2.1@9.000=1\nE2:1mv\n=> ok status=");
  // Values before the metric are read, not skipped: they are handed over once it comes.
  EXPECT_EQ(Read(R"({"resultType":"matrix","result":[{"values":[[1,"5"]],"metric":{}}]})", 0, 1),
            "S1{}\nP1.1@1.000=5\nE1:1mv\n=> ok status=");
}

TEST(QueryRangeScanner, PointTimesAreTheDoublesFromCharsGives) {
  // The fast path for "seconds.mmm" gives exactly the double the general number parser does,
  // whatever the decimals; other forms (more decimals, exponents) take the general path.
  struct Times : QueryRangeHandler {
    std::vector<double> got;
    void OnSeries(uint64_t, const Labels&) override {}
    void OnPoint(uint64_t, uint64_t, double t, std::string_view) override { got.push_back(t); }
    void OnBadPoint(uint64_t, uint64_t) override { got.push_back(-1); }
    void OnSeriesEnd(uint64_t, uint64_t, bool, bool) override {}
  } h;
  std::mt19937_64 rng(7);
  std::vector<std::string> texts = {
      "0",           "1735689600",      "1735689600.5", "1735689600.034", "1735689600.0345",
      "1.7356896e9", "17356896001234.5"};
  for (int i = 0; i < 2000; ++i) {
    const uint64_t ms = rng() % 4000000000000;
    const int decimals = static_cast<int>(rng() % 4);
    std::string t = std::to_string(ms / 1000);
    if (decimals > 0) {
      char frac[8];
      std::snprintf(frac, sizeof frac, "%03d", static_cast<int>(ms % 1000));
      t += "." + std::string(frac).substr(0, static_cast<size_t>(decimals));
    }
    texts.push_back(t);
  }
  std::string json = R"({"resultType":"matrix","result":[{"metric":{},"values":[)";
  for (size_t i = 0; i < texts.size(); ++i) json += (i ? ",[" : "[") + texts[i] + ",\"1\"]";
  json += "]}]}";
  QueryRangeScanner scanner(&h);
  scanner.Feed(json);
  ASSERT_EQ(scanner.Finish(), "");
  ASSERT_EQ(h.got.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    double want = 0;
    const auto [end, ec] =
        std::from_chars(texts[i].data(), texts[i].data() + texts[i].size(), want);
    ASSERT_EQ(ec, std::errc());
    EXPECT_EQ(h.got[i], want) << texts[i];
  }
}

TEST(QueryRangeScanner, TheDataObjectAloneIsAnAnswerToo) {
  EXPECT_EQ(Read(R"({"resultType":"matrix","result":[{"metric":{},"values":[[1.5,"2"]]}]})"),
            "S1{}\nP1.1@1.500=2\nE1:1mv\n=> ok status=");
}

TEST(QueryRangeScanner, WhatIsNoAnswerSaysWhy) {
  EXPECT_EQ(Read(""), "=> not JSON: no answer status=");
  EXPECT_EQ(Read("{not json"), "=> not JSON: unexpected 'n' status=");
  EXPECT_EQ(Read("[1,2]"),
            "=> expected a query_range response: the answer is no JSON object status=");
  EXPECT_EQ(Read(R"({"status":"error","errorType":"bad_data","error":"parse error"})"),
            "=> expected a query_range response: data.resultType \"matrix\" status=error");
  // A vector answer: its result is skipped, not read as series.
  EXPECT_EQ(Read(R"({"resultType":"vector","result":[{"metric":{},"value":[1,"2"]}]})"),
            "=> expected a query_range response: data.resultType \"matrix\" status=");
  EXPECT_EQ(Read(R"({"resultType":"matrix","result":[]} {})"),
            "=> not JSON: text after the answer status=");
}

TEST(QueryRangeScanner, ACutOffAnswerKeepsWhatCameBeforeTheCut) {
  const std::string cut = R"({"resultType":"matrix","result":[{"metric":{"gpu":"0"},)"
                          R"("values":[[1,"5"],[2,"6"],[3,")";
  const std::string want =
      "S1{gpu=0;}\nP1.1@1.000=5\nP1.2@2.000=6\nE1:2mv\n"
      "=> not JSON: the answer is cut off status=";
  EXPECT_EQ(Read(cut), want);
  EXPECT_EQ(Read(cut, 3), want);
}

TEST(QueryRangeScanner, AnswersInManyPiecesAreReadInBoundedMemory) {
  // 200,000 points on one line, fed 4 KiB at a time: only an unfinished token is ever kept.
  std::string json = R"({"resultType":"matrix","result":[{"metric":{"gpu":"0"},"values":[)";
  for (int i = 0; i < 200000; ++i)
    json += (i ? "," : "") + std::string("[") + std::to_string(1700000000 + i) + ",\"50\"]";
  json += "]}]}";
  Recorder r;
  QueryRangeScanner s(&r);
  for (size_t at = 0; at < json.size(); at += 4096) s.Feed(std::string_view(json).substr(at, 4096));
  EXPECT_EQ(s.Finish(), "");
  EXPECT_NE(r.log.find("E1:200000mv"), std::string::npos);
  EXPECT_EQ(s.bytes(), json.size());
}

}  // namespace
}  // namespace gpuledger
