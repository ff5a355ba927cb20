// Exported telemetry readers: malformed input first, then the small hand-computed fleet in
// every export format auditing to the very figures of its nvidia-smi form.
#include "sources/exported_telemetry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <tuple>

#include "audit/audit_runner.h"
#include "core/csv_table.h"
#include "sources/load_fleet.h"
#include "telemetry_test_util.h"
#include "temp_dir.h"

namespace gpuledger {
namespace {

using testing::Count;
using testing::Fed;
using testing::FeedAll;

TEST(PrometheusMatrix, MalformedInputIsRejectedByReason) {
  TelemetryBuckets b;
  SourceStats s;
  ReadPrometheusMatrix("{not json", "a.json", 0, {}, &b, &s);
  ReadPrometheusMatrix(R"({"resultType":"vector","result":[]})", "b.json", 1, {}, &b, &s);
  EXPECT_EQ(Count(s.rejected, "bad_json"), 2u);
  ReadPrometheusMatrix(R"({"data":{"resultType":"matrix","result":[
      {"metric":{"gpu":"0"},"values":[[1,"5"],[2,"6"]]},
      {"metric":{"Hostname":"h"},"values":[[1,"5"]]},
      {"metric":{"Hostname":"h","gpu":"0"},"values":[[1,"NaN"],[2,"101"],[3,"9223372036854775794"],[4,"7"],[5]]}]}})",
                       "c.json", 2, {}, &b, &s);
  EXPECT_EQ(Count(s.rejected, "no_machine_label"), 2u);  // both rows of series 1
  EXPECT_EQ(s.rejected.entries().at("no_machine_label").Where(), "c.json:1");
  EXPECT_EQ(Count(s.rejected, "no_gpu_label"), 1u);
  EXPECT_EQ(Count(s.rejected, "util_not_a_number"), 1u);
  EXPECT_EQ(Count(s.rejected, "util_out_of_range"), 1u);
  EXPECT_EQ(Count(s.rejected, "no_value"), 1u);
  EXPECT_EQ(Count(s.rejected, "bad_json"), 3u);
  EXPECT_EQ(b.Sources().size(), 1u);
}

TEST(PrometheusMatrix, RatioFieldsAreScaledToPercent) {
  TelemetryBuckets b;
  SourceStats s;
  ReadPrometheusMatrix(
      R"({"resultType":"matrix","result":[{"metric":{"__name__":"DCGM_FI_PROF_GR_ENGINE_ACTIVE","hostname":"h","gpu":"3"},"values":[[1735689600.5,"0.5"],[1735689601,"1.5"]]}]})",
      "r.json", 0, {}, &b, &s);
  EXPECT_EQ(Count(s.rejected, "util_out_of_range"), 1u);  // 1.5 is 150 %
  EXPECT_EQ(s.rows_read, 2u);
}

TEST(DcgmScrape, LinesWithoutTimeOrGpuAreRejected) {
  TelemetryBuckets b;
  SourceStats s;
  ReadDcgmScrape(
      "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 5\n"
      "DCGM_FI_DEV_GPU_UTIL{UUID=\"x\"} 5 1000\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\" 5 1000\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 2147483647 1000\n"
      "DCGM_FI_DEV_SM_CLOCK{gpu=\"0\"} 1410 1000\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 42 2000\n",
      "h.prom", 0, "h", {}, std::nullopt, &b, &s);
  EXPECT_EQ(Count(s.rejected, "no_timestamp"), 1u);
  EXPECT_EQ(Count(s.rejected, "no_gpu_label"), 1u);
  EXPECT_EQ(Count(s.rejected, "bad_line"), 1u);
  EXPECT_EQ(Count(s.rejected, "no_value"), 1u);
  EXPECT_EQ(s.rows_read, 5u);  // the clock line is another metric: not a row of ours
  EXPECT_EQ(b.Sources().size(), 1u);
}

TEST(TelemetryBuckets, MemoryJoinsTheSampleOfTheSameGpuAndInstantLastReadWinning) {
  TelemetryBuckets b;
  b.Add("h", 0, 1000, 0, 1);
  b.Add("h", 1, 1000, 0, 2);
  b.Add("h", 0, 2000, 0, 3);
  b.AddMemory("h", 0, 1000, 500, 4);
  b.AddMemory("h", 0, 1000, 2048, 5);  // read later: wins
  b.AddMemory("h", 1, 2000, 9999, 6);  // no sample of GPU 1 at 2000: dropped
  b.AddMemory("x", 0, 1000, 1, 7);     // a machine with memory only: no samples, no source
  const std::vector<Fed> got = FeedAll(&b);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].memory_mib, 2048);
  EXPECT_TRUE(std::isnan(got[1].memory_mib));  // GPU 1 at 1000
  EXPECT_TRUE(std::isnan(got[2].memory_mib));  // GPU 0 at 2000
}

TEST(DcgmScrape, FbUsedIsTheMemoryOfTheSampleItWasScrapedWith) {
  TelemetryBuckets b;
  SourceStats s;
  ReadDcgmScrape(
      "DCGM_FI_DEV_FB_USED{gpu=\"0\",Hostname=\"h\"} 23552\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",Hostname=\"h\"} 0\n"
      "DCGM_FI_DEV_FB_USED{gpu=\"1\",Hostname=\"h\"} 9223372036854775794\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",Hostname=\"h\"} 3\n",
      "h.prom", 0, "h", {}, ScrapeTime{5000, "--scrape-time"}, &b, &s);
  EXPECT_EQ(Count(s.rejected, "memory_not_a_number"), 1u);   // the sentinel is not a reading
  EXPECT_EQ(s.notes.entries().at("scrape_time").count, 4u);  // every line lacked a timestamp
  const std::vector<Fed> got = FeedAll(&b);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].t, 5000);
  EXPECT_EQ(got[0].memory_mib, 23552);
  EXPECT_TRUE(std::isnan(got[1].memory_mib));
}

TEST(ExportedTelemetry, TimesOutsideYearsZeroToTenThousandAreRejected) {
  // Found by the mutation test under UBSan: such a time overflowed the interval arithmetic.
  TelemetryBuckets b;
  SourceStats s;
  ReadDcgmScrape(
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 5 -9223372036854775808\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 5 1740787200000\n",
      "h.prom", 0, "h", {}, std::nullopt, &b, &s);
  ReadPrometheusMatrix(R"({"resultType":"matrix","result":[{"metric":{"Hostname":"h","gpu":"1"},)"
                       R"("values":[[1e300,"5"],[-1e20,"5"],[1740787200,"5"]]}]})",
                       "m.json", 1, {}, &b, &s);
  EXPECT_EQ(Count(s.rejected, "bad_time"), 3u);
  EXPECT_EQ(FeedAll(&b).size(), 2u);
}

AuditResult AuditSmall(const std::string& telemetry, const std::string& format) {
  const std::string dir = std::string(GPULEDGER_SOURCE_DIR) + "/tests/data/audit/";
  const TimeZone utc = TimeZone::Utc();
  FleetPaths paths;
  paths.telemetry = {dir + telemetry};
  paths.telemetry_format = format;
  paths.inventory = dir + "small/inventory.csv";
  paths.jobs = dir + "small/jobs.csv";
  auto loaded = LoadFleet(paths, std::nullopt, &utc);
  EXPECT_TRUE(loaded) << loaded.error().ToString();
  const AuditInputs in = InputsOf(*loaded);
  auto r = RunAudit(in, AuditOptions{});
  EXPECT_TRUE(r);
  return *r;
}

TEST(ExportedTelemetry, EveryFormatAuditsLikeTheNvidiaSmiLogs) {
  const AuditResult want = AuditSmall("small/telemetry", "nvidia-smi");
  for (const auto& [path, format] :
       std::vector<std::pair<std::string, std::string>>{{"small-exports/prometheus", "prometheus"},
                                                        {"small-exports/dcgm", "dcgm"},
                                                        {"small-exports/long", "long"}}) {
    const AuditResult got = AuditSmall(path, format);
    ASSERT_EQ(got.machines.size(), want.machines.size()) << format;
    for (int c = 0; c < kCategoryCount; ++c) {
      EXPECT_EQ(got.totals.categories[c].gpu_ms, want.totals.categories[c].gpu_ms)
          << format << " " << c;
      EXPECT_NEAR(got.totals.categories[c].usd, want.totals.categories[c].usd, 1e-9) << format;
    }
    EXPECT_NEAR(got.totals.below_threshold.usd, want.totals.below_threshold.usd, 1e-9) << format;
    EXPECT_EQ(got.owners.size(), want.owners.size()) << format;
    EXPECT_EQ(got.MachinesNeverUsed(), want.MachinesNeverUsed()) << format;
    EXPECT_EQ(got.telemetry.rows_accepted, want.telemetry.rows_accepted) << format;
    EXPECT_EQ(Count(got.telemetry.rejected, "util_not_a_number"), 1u) << format;
    EXPECT_EQ(Count(got.telemetry.rejected, "unknown_machine"), 3u) << format;
  }
}

// Issue 24: a query_range answer saved with curl is one line, and any size: 4 GPUs × 250,000
// points (10 s apart, ~17 MiB on one line) audit exactly as the same samples as an nvidia-smi
// log. The utilisation cycles 0, 3, 50 %: the 0 and 3 % points are below 5 %.
TEST(PrometheusMatrix, AOneLineAnswerLargerThanAnyBufferIsRead) {
  testing::TempDir tmp("big-json");
  constexpr int kGpus = 4, kPoints = 250000;
  constexpr int64_t kStart = 1735689600;  // seconds
  const char* kValues[] = {"0", "3", "50"};
  std::string json = R"({"status":"success","data":{"resultType":"matrix","result":[)";
  std::string smi = "timestamp, index, utilization.gpu [%]\n";
  for (int g = 0; g < kGpus; ++g) {
    json += std::string(g ? "," : "") + R"({"metric":{"__name__":"DCGM_FI_DEV_GPU_UTIL","gpu":")" +
            std::to_string(g) + R"(","Hostname":"m"},"values":[)";
    for (int i = 0; i < kPoints; ++i) {
      json += (i ? ",[" : "[") + std::to_string(kStart + 10 * i) + ",\"" + kValues[i % 3] + "\"]";
    }
    json += "]}";
  }
  json += "]}}";
  for (int i = 0; i < kPoints; ++i) {
    for (int g = 0; g < kGpus; ++g) {
      smi += FormatIsoUtc((kStart + 10 * i) * 1000).substr(0, 19) + ", " + std::to_string(g) +
             ", " + kValues[i % 3] + " %\n";
    }
  }
  ASSERT_GT(json.size(), 16u << 20);
  std::ofstream(tmp.path() / "m.json") << json;
  std::ofstream(tmp.path() / "m.csv") << smi;
  const TimeZone utc = TimeZone::Utc();
  auto audit = [&](const std::string& file, const std::string& format) {
    FleetPaths paths;
    paths.telemetry = {(tmp.path() / file).string()};
    paths.telemetry_format = format;
    auto loaded = LoadFleet(paths, 1.0, &utc);
    EXPECT_TRUE(loaded) << loaded.error().ToString();
    AuditOptions options;
    options.price_per_gpu_hour = 1.0;
    auto r = RunAudit(InputsOf(*loaded), options);
    EXPECT_TRUE(r) << r.error().ToString();
    return *r;
  };
  const AuditResult from_json = audit("m.json", "prometheus");
  const AuditResult from_smi = audit("m.csv", "nvidia-smi");
  const DurationMs want = int64_t{kGpus} * kPoints * 10 * kMsPerSecond;  // each stands 10 s
  EXPECT_EQ(from_json.totals.Total().gpu_ms, want);
  DurationMs below = 0;  // a naive count of the 0 % and 3 % points
  for (int i = 0; i < kPoints; ++i) below += i % 3 != 2 ? kGpus * 10 * kMsPerSecond : 0;
  EXPECT_EQ(from_json.totals.below_threshold.gpu_ms, below);
  EXPECT_EQ(from_json.telemetry.rows_accepted, uint64_t{kGpus} * kPoints);
  for (int c = 0; c < kCategoryCount; ++c) {
    EXPECT_EQ(from_json.totals.categories[c].gpu_ms, from_smi.totals.categories[c].gpu_ms) << c;
    EXPECT_NEAR(from_json.totals.categories[c].usd, from_smi.totals.categories[c].usd, 1e-6);
  }
}

// Issue 24: a timestamped DCGM scrape of 10,000 series (1,250 machines × 8 GPUs, three scrapes
// 30 s apart). By a naive count: each sample stands 30 s (the last one the median interval,
// 30 s), so 90 s a GPU; the GPUs of every third machine read 2 %, the rest 60 %.
TEST(DcgmScrape, TenThousandSeriesAreRead) {
  testing::TempDir tmp("big-dcgm");
  constexpr int kMachines = 1250, kGpus = 8, kScrapes = 3;
  constexpr int64_t kStartMs = 1735689600000;
  std::string text = "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n";
  for (int s = 0; s < kScrapes; ++s) {
    for (int m = 0; m < kMachines; ++m) {
      for (int g = 0; g < kGpus; ++g) {
        text += "DCGM_FI_DEV_GPU_UTIL{gpu=\"" + std::to_string(g) + "\",Hostname=\"node-" +
                std::to_string(m) + "\",modelName=\"NVIDIA H100 80GB HBM3\"} " +
                (m % 3 == 0 ? "2" : "60") + " " + std::to_string(kStartMs + s * 30000) + "\n";
      }
    }
  }
  std::ofstream(tmp.path() / "scrape.prom") << text;
  const TimeZone utc = TimeZone::Utc();
  FleetPaths paths;
  paths.telemetry = {(tmp.path() / "scrape.prom").string()};
  paths.telemetry_format = "dcgm";
  auto loaded = LoadFleet(paths, 1.0, &utc);
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  AuditOptions options;
  options.price_per_gpu_hour = 1.0;
  auto r = RunAudit(InputsOf(*loaded), options);
  ASSERT_TRUE(r) << r.error().ToString();
  DurationMs total = 0, below = 0;
  for (int m = 0; m < kMachines; ++m) {
    for (int g = 0; g < kGpus; ++g) {
      total += kScrapes * 30000;
      below += m % 3 == 0 ? kScrapes * 30000 : 0;
    }
  }
  EXPECT_EQ(r->machines.size(), static_cast<size_t>(kMachines));
  EXPECT_EQ(r->telemetry.rows_accepted, uint64_t{kMachines} * kGpus * kScrapes);
  EXPECT_EQ(r->totals.Total().gpu_ms, total);
  EXPECT_EQ(r->totals.below_threshold.gpu_ms, below);
  EXPECT_EQ(r->MachinesNeverUsed(), (kMachines + 2) / 3);
}

}  // namespace
}  // namespace gpuledger

namespace gpuledger {
namespace {

// Two scrapes of one node, read one after the other into one set of buckets, and each into its
// own then merged in file order (as the loader does, a file per core): the same sources — the
// same samples, labels, workloads (numbered alike) and runs.
TEST(TelemetryBuckets, FilesReadApartThenMergedAreFilesReadInTurn) {
  const std::string day1 =
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",Hostname=\"n\",namespace=\"a\",pod=\"p1\"} 50 1735689600000\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",Hostname=\"n\",namespace=\"b\",pod=\"p2\"} 0 1735689600000\n"
      "DCGM_FI_DEV_FB_USED{gpu=\"1\",Hostname=\"n\",namespace=\"b\",pod=\"p2\"} 9000 "
      "1735689600000\n";
  const std::string day2 =  // p3 first: numbered 0 in its own buckets, 2 once merged
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",Hostname=\"n\",namespace=\"c\",pod=\"p3\"} 70 1735689660000\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",Hostname=\"n\",namespace=\"b\",pod=\"p2\"} 0 1735689660000\n"
      "DCGM_FI_DEV_FB_USED{gpu=\"1\",Hostname=\"n\",namespace=\"b\",pod=\"p2\"} 9100 "
      "1735689660000\n";
  TelemetryBuckets in_turn;
  SourceStats s1;
  const uint32_t f1 = in_turn.AddFile("d1.prom"), f2 = in_turn.AddFile("d2.prom");
  ReadDcgmScrape(day1, "d1.prom", f1, "", {}, std::nullopt, &in_turn, &s1);
  ReadDcgmScrape(day2, "d2.prom", f2, "", {}, std::nullopt, &in_turn, &s1);

  TelemetryBuckets merged, first, second;
  SourceStats s2;
  merged.AddFile("d1.prom");
  merged.AddFile("d2.prom");
  ReadDcgmScrape(day1, "d1.prom", f1, "", {}, std::nullopt, &first, &s2);
  ReadDcgmScrape(day2, "d2.prom", f2, "", {}, std::nullopt, &second, &s2);
  merged.Merge(std::move(first));
  merged.Merge(std::move(second));

  const std::vector<TelemetrySource> a = in_turn.Sources(), b = merged.Sources();
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].labels, b[0].labels);
  ASSERT_EQ(b[0].workloads.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(a[0].workloads[i].Name(), b[0].workloads[i].Name());
  ASSERT_EQ(a[0].workload_runs.size(), b[0].workload_runs.size());
  for (size_t i = 0; i < a[0].workload_runs.size(); ++i) {
    EXPECT_EQ(a[0].workload_runs[i].workload, b[0].workload_runs[i].workload);
    EXPECT_EQ(a[0].workload_runs[i].gpus, b[0].workload_runs[i].gpus);
    EXPECT_EQ(a[0].workload_runs[i].start, b[0].workload_runs[i].start);
    EXPECT_EQ(a[0].workload_runs[i].end, b[0].workload_runs[i].end);
  }
  struct Sink : SampleSink {
    std::vector<std::tuple<int, TimeMs, double, uint64_t, double>> got;
    SampleVerdict Add(int gpu, TimeMs t, double util, uint64_t order, double mib) override {
      got.emplace_back(gpu, t, util, order, std::isnan(mib) ? -1.0 : mib);  // NaN != NaN
      return SampleVerdict::kAccepted;
    }
  } sa, sb;
  SourceStats st;
  std::atomic<uint64_t> bytes{0};
  ASSERT_TRUE(a[0].feed(&sa, &st, &bytes));
  ASSERT_TRUE(b[0].feed(&sb, &st, &bytes));
  EXPECT_EQ(sa.got, sb.got);
  ASSERT_EQ(sb.got.size(), 4u);
  EXPECT_EQ(std::get<4>(sb.got[3]), 9100);  // GPU 1's memory joined on the second day
}

}  // namespace
}  // namespace gpuledger
