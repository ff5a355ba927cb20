#include "sources/prom_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/line_reader.h"
#include "prerequisite.h"
#include "sources/exported_telemetry.h"
#include "sources/telemetry_buckets.h"

namespace gpuledger {
namespace {

PromSample P(std::string_view line) {
  auto r = ParsePromLine(line);
  EXPECT_TRUE(r && *r) << line;
  return r && *r ? **r : PromSample{};
}

TEST(PromText, MalformedLinesAreErrors) {
  for (const char* bad : {"{gpu=\"0\"} 1", "9metric 1", "m{gpu=\"0\" 1", "m{gpu=0} 1",
                          "m{gpu=\"0} 1", "m{=\"x\"} 1", "m one", "m 1 soon", "m"}) {
    EXPECT_FALSE(ParsePromLine(bad)) << bad;
  }
}

TEST(PromText, CommentsAndBlanksAreNoSamples) {
  EXPECT_FALSE(*ParsePromLine("# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %)."));
  EXPECT_FALSE(*ParsePromLine("   "));
}

TEST(PromText, SamplesWithLabelsEscapesAndTimestamps) {
  PromSample s =
      P(R"(DCGM_FI_DEV_GPU_UTIL{gpu="1", UUID="GPU-x",Hostname="h\"1",pod=""} 87 1735689600000)");
  EXPECT_EQ(s.name, "DCGM_FI_DEV_GPU_UTIL");
  EXPECT_EQ(s.Label("gpu"), "1");
  EXPECT_EQ(s.Label("Hostname"), "h\"1");
  EXPECT_EQ(s.Label("pod"), "");
  EXPECT_EQ(s.value, 87);
  EXPECT_EQ(*s.timestamp_ms, 1735689600000);
  EXPECT_TRUE(std::isnan(P("m NaN").value));
  EXPECT_EQ(P("m +Inf").value, INFINITY);
  EXPECT_EQ(P("m 16.365000").value, 16.365);
}

// The samples a DCGM scrape gives, through the reader the commands use (ReadDcgmScrape).
struct Scraped {
  struct Sample {
    std::string machine;
    int gpu;
    double util;
  };
  std::vector<Sample> samples;
  SourceStats stats;
};

class CollectSink : public SampleSink {
 public:
  CollectSink(std::string machine, Scraped* out) : machine_(std::move(machine)), out_(out) {}
  SampleVerdict Add(int gpu, TimeMs, double util, uint64_t, double) override {
    out_->samples.push_back({machine_, gpu, util});
    return SampleVerdict::kAccepted;
  }

 private:
  std::string machine_;
  Scraped* out_;
};

Scraped Scrape(const std::string& text, const std::string& metric = "DCGM_FI_DEV_GPU_UTIL") {
  Scraped out;
  TelemetryBuckets buckets;
  SeriesMapping mapping;
  mapping.metric = metric;
  ReadDcgmScrape(text, "s.prom", buckets.AddFile("s.prom"), "file-machine", mapping, std::nullopt,
                 &buckets, &out.stats);
  for (const TelemetrySource& src : buckets.Sources()) {
    CollectSink sink(src.machine, &out);
    std::atomic<uint64_t> bytes{0};
    EXPECT_TRUE(src.feed(&sink, &out.stats, &bytes));
  }
  return out;
}

uint64_t Rejected(const Scraped& s, const std::string& reason) {
  auto it = s.stats.rejected.entries().find(reason);
  return it == s.stats.rejected.entries().end() ? 0 : it->second.count;
}

TEST(Dcgm, UtilizationPercentRatiosSentinelsAndMig) {
  const Scraped s = Scrape(
      "DCGM_FI_DEV_SM_CLOCK{gpu=\"0\"} 139 1000\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 9223372036854775794 1000\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 2147483632 1000\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 140 1000\n"
      "DCGM_FI_DEV_GPU_UTIL{UUID=\"x\"} 40 1000\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",Hostname=\"n1\"} 37 1000\n");
  EXPECT_EQ(Rejected(s, "no_value"), 2u);  // DCGM's int64 and int32 blanks
  EXPECT_EQ(Rejected(s, "util_out_of_range"), 1u);
  EXPECT_EQ(Rejected(s, "no_gpu_label"), 1u);
  EXPECT_EQ(s.stats.rows_read, 5u);  // the clock is another metric: no row of ours
  ASSERT_EQ(s.samples.size(), 1u);
  EXPECT_EQ(s.samples[0].machine, "n1");
  EXPECT_EQ(s.samples[0].gpu, 1);
  EXPECT_EQ(s.samples[0].util, 37);
  // A DCGM_FI_PROF_* field is a 0–1 ratio, read as percent; the machine from hostname.
  const Scraped prof =
      Scrape("DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu=\"2\",hostname=\"n2\"} 0.25 1000\n",
             "DCGM_FI_PROF_GR_ENGINE_ACTIVE");
  ASSERT_EQ(prof.samples.size(), 1u);
  EXPECT_EQ(prof.samples[0].machine, "n2");
  EXPECT_EQ(prof.samples[0].util, 25);
}

TEST(Dcgm, EveryRealCaptureParses) {
  const auto dir =
      std::filesystem::path(GPULEDGER_SOURCE_DIR) / ".." / "shared" / "realdata" / "dcgm-exporter";
  GPULEDGER_REQUIRE(std::filesystem::is_directory(dir), "no " << dir);
  int files = 0;
  size_t util = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    ++files;
    auto text = ReadWholeFile(entry.path().string());
    ASSERT_TRUE(text);
    ForEachLineIn(*text, [&](std::string_view line, uint64_t no) {
      auto s = ParsePromLine(line);
      EXPECT_TRUE(s) << entry.path() << ":" << no << ": " << (s ? "" : s.error().message);
      return true;
    });
    // The captures carry no timestamps: read as one scrape at a given instant.
    TelemetryBuckets buckets;
    SourceStats stats;
    ReadDcgmScrape(*text, entry.path().string(), buckets.AddFile(entry.path().string()), "m", {},
                   ScrapeTime{1764000000000, "--scrape-time"}, &buckets, &stats);
    EXPECT_EQ(stats.RowsRejected(), 0u) << entry.path();
    util += stats.rows_read;
  }
  EXPECT_EQ(files, 3);
  EXPECT_GE(util, 2u);  // the L4 on AWS and the RTX 4000 Ada report GPU utilisation
}

}  // namespace
}  // namespace gpuledger
