// Real captures (tests/data/real, and ../shared/realdata when it is beside the project) read
// through the real readers and audited; each expectation is computed here from the samples by a
// naive loop, not by the engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "audit/audit_runner.h"
#include "core/line_reader.h"
#include "prerequisite.h"
#include "report/report_data.h"
#include "sources/load_fleet.h"
#include "sources/nvidia_smi_csv.h"

namespace gpuledger {
namespace {

namespace fs = std::filesystem;

struct Sample {
  TimeMs t;
  double util, memory_mib;
};

class Recorder : public SampleSink {
 public:
  SampleVerdict Add(int, TimeMs t, double util, uint64_t, double memory_mib) override {
    samples.push_back({t, util, memory_mib});
    return SampleVerdict::kAccepted;
  }
  std::vector<Sample> samples;
};

std::vector<fs::path> Captures(const std::string& kind, const std::string& ext) {
  std::vector<fs::path> out;
  for (const fs::path& dir :
       {fs::path(GPULEDGER_SOURCE_DIR) / "tests" / "data" / "real" / kind,
        fs::path(GPULEDGER_SOURCE_DIR) / ".." / "shared" / "realdata" / kind}) {
    if (!fs::is_directory(dir)) {
      // ../shared/realdata is beside the project in CI: without it these tests would prove less.
      if (testing::OnCi()) ADD_FAILURE() << "missing under CI=true: " << dir;
      continue;
    }
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ext) out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The single GPU's samples of an nvidia-smi log, sorted, one per instant.
std::vector<Sample> SamplesOf(const fs::path& file) {
  const TimeZone utc = TimeZone::Utc();
  Recorder rec;
  SourceStats stats;
  NvidiaSmiReader reader(file.string(), 0, &utc, &rec, &stats);
  (void)ForEachLine(file.string(),
                    [&](std::string_view line, uint64_t no) { return reader.Line(line, no); });
  std::stable_sort(rec.samples.begin(), rec.samples.end(),
                   [](const Sample& a, const Sample& b) { return a.t < b.t; });
  return rec.samples;
}

// What sample i stands for, by DESIGN.md "Samples", written out longhand.
DurationMs Stands(const std::vector<Sample>& s, size_t i, DurationMs max_gap) {
  if (i + 1 < s.size()) return std::min(s[i + 1].t - s[i].t, max_gap);
  std::vector<DurationMs> intervals;
  for (size_t k = 1; k < s.size(); ++k) intervals.push_back(s[k].t - s[k - 1].t);
  if (intervals.empty()) return max_gap;
  std::sort(intervals.begin(), intervals.end());
  return std::min(max_gap, intervals[(intervals.size() - 1) / 2]);
}

Result<AuditResult> AuditFile(const fs::path& file, const std::string& format = "nvidia-smi") {
  static const TimeZone utc = TimeZone::Utc();
  FleetPaths paths;
  paths.telemetry = {file.string()};
  paths.telemetry_format = format;
  paths.scrape_time = 1764000000000;  // 2025-11-24T16:00:00Z
  auto loaded = LoadFleet(paths, 1.0, &utc);
  if (!loaded) return std::unexpected(loaded.error());
  AuditOptions options;
  options.price_per_gpu_hour = 1.0;
  return RunAudit(InputsOf(*loaded), options);
}

TEST(RealData, NvidiaSmiCapturesAreBilledToWhatTheirLastSampleStandsFor) {
  const auto files = Captures("nvidia-smi", ".csv");
  ASSERT_FALSE(files.empty());
  for (const fs::path& file : files) {
    const std::vector<Sample> s = SamplesOf(file);
    ASSERT_GT(s.size(), 1u) << file;
    const DurationMs gap = 5 * kMsPerMinute;
    DurationMs monitored = 0, below = 0, held = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      const DurationMs d = Stands(s, i, gap);
      monitored += d;
      if (s[i].util < 5) below += d;
      if (s[i].util < 5 && s[i].memory_mib >= 1024) held += d;
    }
    auto r = AuditFile(file);
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->telemetry.rows_read, r->telemetry.rows_accepted) << file;
    EXPECT_TRUE(r->telemetry.rejected.empty()) << file;
    const DurationMs billed = s.back().t + Stands(s, s.size() - 1, gap) - s.front().t;
    EXPECT_EQ(r->totals.Total().gpu_ms, billed) << file;
    EXPECT_EQ(r->totals.below_threshold.gpu_ms, below) << file;
    EXPECT_EQ(r->totals.Total().gpu_ms - monitored,
              r->totals.categories[static_cast<int>(Category::kUnmonitored)].gpu_ms)
        << file;
    ASSERT_TRUE(r->memory_known) << file << ": these logs carry memory.used";
    EXPECT_EQ(r->totals.held_idle.gpu_ms, held) << file;
  }
}

TEST(RealData, ABusyOneSecondLogIsNotCalledIdle) {
  const fs::path file = fs::path(GPULEDGER_SOURCE_DIR) / ".." / "shared" / "realdata" /
                        "nvidia-smi" / "AkshayRoyal+gpu-usage__gpu_usage1.csv";
  GPULEDGER_REQUIRE(fs::exists(file), "no " << file);
  auto r = AuditFile(file);
  ASSERT_TRUE(r) << r.error().ToString();
  // 98 % of its samples are busy; the final idle sample once stood five minutes (57 % idle).
  EXPECT_LT(r->totals.below_threshold.usd / r->totals.Total().usd, 0.05);
}

TEST(RealData, HeldIdleOfTheRectifiedPointFlowLogWorkedOutByHand) {
  // Polled every 60 s. Three samples are at 0 %: 1 MiB, 442 MiB, then 4846 MiB (the model
  // loaded, the run not yet started). Only the last of them holds at least 1 GiB.
  const fs::path file =
      fs::path(GPULEDGER_SOURCE_DIR) / "tests/data/real/nvidia-smi/rckola-rectified-point-flow.csv";
  auto r = AuditFile(file);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->totals.below_threshold.gpu_ms, 3 * 60 * kMsPerSecond);
  EXPECT_EQ(r->totals.held_idle.gpu_ms, 60 * kMsPerSecond);
  EXPECT_EQ(r->owners_held_idle.at(kUnattributed).gpu_ms, 60 * kMsPerSecond);
  EXPECT_EQ(r->totals.held_idle_by_category[static_cast<int>(Category::kIdleOutsideJobs)].gpu_ms,
            60 * kMsPerSecond);
}

TEST(RealData, DcgmScrapesWithoutTimestampsAreOneScrapeAtTheGivenTime) {
  const fs::path file =
      fs::path(GPULEDGER_SOURCE_DIR) / "tests/data/real/dcgm-exporter/cncf-kops-l4.prom";
  auto r = AuditFile(file, "dcgm");
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->machines.size(), 1u);
  EXPECT_EQ(r->machines[0].name, "i-030791dc5a37cd257");
  EXPECT_EQ(r->machines[0].gpu_count, 1);
  EXPECT_EQ(r->window_from, 1764000000000);
  EXPECT_EQ(r->totals.Total().gpu_ms, 5 * kMsPerMinute);  // one sample stands max_gap
  EXPECT_TRUE(r->machines[0].memory_known);               // FB_USED joined to the sample
  EXPECT_TRUE(r->telemetry.notes.entries().contains("scrape_time"));
  EXPECT_TRUE(r->telemetry.rejected.empty());
  // Issue 23 item 3: the L4 read 0 % in its one scrape. That is "idle in the one sample read",
  // never "never ran a workload".
  // The capture prints DCGM_FI_DEV_GPU_UTIL twice, both 0 and untimed: one instant, one sample.
  ASSERT_TRUE(r->machines[0].never_used);
  EXPECT_EQ(r->machines[0].most_gpu_samples, 1u);
  const TelemetryCoverage c = r->Coverage();
  EXPECT_EQ(c.idle_in_one_sample, 1);
  EXPECT_EQ(c.never_used, 0);
  const Report report = BuildReport(*r, std::nullopt, nullptr, nullptr);
  bool said = false;
  for (const std::string& s : report.headline) {
    EXPECT_EQ(s.find("never ran"), std::string::npos) << s;
    said |= s.find("1 of 1 machines was idle in the one sample read") != std::string::npos;
  }
  EXPECT_TRUE(said);
}

TEST(RealData, AScrapeWithoutAUtilisationMetricIsAnErrorNotAnEmptyAudit) {
  const fs::path file =
      fs::path(GPULEDGER_SOURCE_DIR) / "tests/data/real/dcgm-exporter/nvidia-readme.prom";
  auto r = AuditFile(file, "dcgm");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no GPU sample"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("nvidia-readme.prom"), std::string::npos);
}

TEST(RealData, APodOnAKubernetesNodeIsAJobOfItsNamespace) {
  // Linode LKE's dcgm-exporter scrape: namespace="default", pod="cuda-…", container="cuda".
  const fs::path file = fs::path(GPULEDGER_SOURCE_DIR) / ".." / "shared" / "realdata" /
                        "dcgm-exporter" / "linode__lke-ai-conformance__README.prom";
  GPULEDGER_REQUIRE(fs::exists(file), "no " << file);
  auto r = AuditFile(file, "dcgm");
  ASSERT_TRUE(r) << r.error().ToString();
  const Spend total = r->totals.Total();
  ASSERT_GT(total.gpu_ms, 0);
  ASSERT_EQ(r->teams.size(), 1u);
  EXPECT_EQ(r->teams.begin()->first, "default");
  EXPECT_EQ(r->teams.begin()->second.gpu_ms, total.gpu_ms);
  const Spend& in_job = r->totals.categories[static_cast<int>(Category::kJobIdle)];
  const Spend& active = r->totals.categories[static_cast<int>(Category::kJobActive)];
  EXPECT_EQ(in_job.gpu_ms + active.gpu_ms, total.gpu_ms);  // the pod covers all of it
  EXPECT_EQ(r->jobs.notes.entries().at("jobs_from_labels").count, 1u);
}

}  // namespace
}  // namespace gpuledger
