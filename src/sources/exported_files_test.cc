// Exported telemetry read twice (an index, then a stream into the audit's sinks) against the
// samples held and sorted: the same samples, verdicts and figures, in flat memory.
#include "sources/exported_files.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>

#include "audit/audit_runner.h"
#include "sources/exported_telemetry.h"
#include "sources/telemetry_buckets.h"
#include "telemetry_test_util.h"
#include "temp_dir.h"

namespace gpuledger {
namespace {

using testing::Count;

// Records what it is fed and answers as the audit's sinks do: a GPU's second sample at one
// instant is a duplicate, an earlier one out of order.
struct Recorder : SampleSink {
  std::vector<std::tuple<int, TimeMs, double, uint64_t, double>> got;
  std::map<int, TimeMs> last;
  SampleVerdict Add(int gpu, TimeMs t, double util, uint64_t order, double mib) override {
    auto it = last.find(gpu);
    if (it != last.end() && t < it->second) return SampleVerdict::kOutOfOrder;
    const bool again = it != last.end() && t == it->second;
    last[gpu] = t;
    got.emplace_back(gpu, t, util, order, std::isnan(mib) ? -1.0 : mib);  // NaN != NaN
    return again ? SampleVerdict::kDuplicate : SampleVerdict::kAccepted;
  }
};

// Machine a: memory after utilisation in each block, a duplicate instant whose later memory
// reading wins; b goes backwards at 2.5 s; c has memory readings alone (no source).
const char* const kScrape =
    "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",Hostname=\"a\"} 10 1000\n"
    "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",Hostname=\"a\"} 20 1000\n"
    "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",Hostname=\"b\"} 30 1000\n"
    "DCGM_FI_DEV_FB_USED{gpu=\"0\",Hostname=\"a\"} 100 1000\n"
    "DCGM_FI_DEV_FB_USED{gpu=\"1\",Hostname=\"a\"} 200 1000\n"
    "DCGM_FI_DEV_FB_USED{gpu=\"0\",Hostname=\"b\"} 300 1000\n"
    "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",Hostname=\"a\"} 11 2000\n"
    "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",Hostname=\"a\"} 12 2000\n"
    "DCGM_FI_DEV_FB_USED{gpu=\"0\",Hostname=\"a\"} 101 2000\n"
    "DCGM_FI_DEV_FB_USED{gpu=\"0\",Hostname=\"a\"} 102 2000\n"
    "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",Hostname=\"b\"} 31 3000\n"
    "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",Hostname=\"b\"} 32 2500\n"
    "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",Hostname=\"a\"} 21 3000\n"
    "DCGM_FI_DEV_FB_USED{gpu=\"0\",Hostname=\"c\"} 5 3000\n";

void Read(TelemetryBuckets* b, SourceStats* s) {
  const uint32_t file = b->AddFile("scrape.prom");
  ReadDcgmScrape(kScrape, "scrape.prom", file, "", {}, std::nullopt, b, s);
}

TEST(TelemetryBuckets, AStreamFeedsEachSinkWhatItsHeldSourceFeeds) {
  TelemetryBuckets held;
  SourceStats read;
  Read(&held, &read);
  std::map<std::string, Recorder> from_held;
  std::map<std::string, SourceStats> held_stats;
  std::atomic<uint64_t> bytes{0};
  for (const TelemetrySource& src : held.Sources()) {
    ASSERT_TRUE(src.feed(&from_held[src.machine], &held_stats[src.machine], &bytes));
  }
  ASSERT_EQ(from_held.size(), 2u);  // a and b; c has no sample

  TelemetryBuckets index(TelemetryBuckets::Kind::kIndex);
  SourceStats read_again;
  Read(&index, &read_again);
  EXPECT_EQ(read_again.rows_read, read.rows_read);
  const std::vector<TelemetryBuckets::Indexed> indexed = index.Index(5 * kMsPerMinute);
  ASSERT_EQ(indexed.size(), 2u);
  EXPECT_EQ(indexed[0].source.machine, "a");
  EXPECT_EQ(indexed[0].source.gpus, 2);
  EXPECT_EQ(indexed[1].source.gpus, 1);
  ASSERT_FALSE(indexed[0].seen.empty());
  for (const TelemetryBuckets::OrderSpan& s : indexed[0].seen) EXPECT_EQ(s.first >> 40, 0u);
  EXPECT_TRUE(indexed[0].separate_memory);

  TelemetryBuckets stream(TelemetryBuckets::Kind::kStream);
  std::map<std::string, Recorder> streamed;
  std::map<std::string, SourceStats> stream_stats;
  for (const char* m : {"a", "b"}) stream.Bind(m, {&streamed[m], &stream_stats[m]}, true);
  SourceStats scratch;
  Read(&stream, &scratch);
  EXPECT_EQ(stream.EndStream(), std::vector<std::string>{"b"});  // went back to 2.5 s
  EXPECT_EQ(streamed["a"].got, from_held["a"].got);
  ASSERT_EQ(streamed["a"].got.size(), 5u);
  EXPECT_EQ(std::get<4>(streamed["a"].got[3]), 102);  // the later reading of the instant
  EXPECT_EQ(stream_stats["a"].rows_accepted, held_stats["a"].rows_accepted);
  EXPECT_EQ(Count(stream_stats["a"].notes, "duplicate_time"), 1u);

  // b read again on its own, held and sorted: what the whole held read gives it.
  TelemetryBuckets only_b;
  only_b.HoldOnly("b");
  Read(&only_b, &scratch);
  const std::vector<TelemetrySource> b = only_b.Sources();
  ASSERT_EQ(b.size(), 1u);
  Recorder again;
  SourceStats again_stats;
  ASSERT_TRUE(b[0].feed(&again, &again_stats, &bytes));
  EXPECT_EQ(again.got, from_held["b"].got);
  EXPECT_EQ(std::get<1>(again.got[1]), 2500);
}

TEST(TelemetryBuckets, AStreamWithoutJoinsFeedsAsRead) {
  // Memory readings that come apart from samples, for a machine bound without joins, break it
  // (they would be lost); samples whose memory is on their own row stream straight through.
  TelemetryBuckets stream(TelemetryBuckets::Kind::kStream);
  Recorder a;
  SourceStats sa;
  stream.Bind("a", {&a, &sa}, false);
  SourceStats scratch;
  Read(&stream, &scratch);
  EXPECT_EQ(stream.EndStream(), std::vector<std::string>{"a"});
}

// A scrape a minute of two GPUs for three hours: pod a on GPU 0 leaves for 20 minutes and comes
// back (two runs); pods b and c share GPU 1 (time-sliced) for an hour; then GPU 1 is the node's.
std::string PodScrapes() {
  std::string text;
  for (int minute = 0; minute < 180; ++minute) {
    const std::string ts = " " + std::to_string(1735689600000 + minute * 60000LL) + "\n";
    const bool a_here = minute < 50 || minute >= 70;
    text += std::string("DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",Hostname=\"n\",namespace=\"ml\",pod=\"") +
            (a_here ? "a" : "") + "\"} 50" + ts;
    if (minute < 60) {
      text += "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",Hostname=\"n\",namespace=\"ml\",pod=\"b\"} 20" + ts;
      text += "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",Hostname=\"n\",namespace=\"ml\",pod=\"c\"} 20" + ts;
    } else {
      text += "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",Hostname=\"n\",pod=\"\"} 0" + ts;
    }
  }
  return text;
}

// "text"'s lines (each ending in a newline), last first.
std::string LinesBackwards(const std::string& text) {
  std::string out;
  for (size_t end = text.size(); end > 0;) {
    const size_t start = text.rfind('\n', end - 2);
    const size_t from = start == std::string::npos ? 0 : start + 1;
    out += text.substr(from, end - from);
    end = from;
  }
  return out;
}

TEST(TelemetryBuckets, TheIndexTracksPodRunsAsTheHeldSamplesGiveThem) {
  const std::string text = PodScrapes();
  TelemetryBuckets held, index(TelemetryBuckets::Kind::kIndex);
  index.TrackRuns(5 * kMsPerMinute);
  SourceStats s1, s2;
  for (TelemetryBuckets* b : {&held, &index}) {
    b->AddFile("pods.prom");
    ReadDcgmScrape(text, "pods.prom", 0, "", {}, std::nullopt, b, b == &held ? &s1 : &s2);
  }
  const std::vector<TelemetrySource> want = held.Sources();
  const std::vector<TelemetryBuckets::Indexed> got = index.Index(5 * kMsPerMinute);
  ASSERT_EQ(want.size(), 1u);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].runs_known);
  const std::vector<WorkloadRun>& w = want[0].workload_runs;
  const std::vector<WorkloadRun>& g = got[0].source.workload_runs;
  ASSERT_EQ(w.size(), 4u);  // a twice, b, c
  ASSERT_EQ(g.size(), w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_EQ(got[0].source.workloads[g[i].workload].Name(),
              want[0].workloads[w[i].workload].Name());
    EXPECT_EQ(g[i].start, w[i].start) << i;
    EXPECT_EQ(g[i].end, w[i].end) << i;
    EXPECT_EQ(g[i].gpus, w[i].gpus) << i;
  }
  // a's first run: minutes 0 to 49, the last standing a minute (the usual interval).
  EXPECT_EQ(w[0].start, 1735689600000);
  EXPECT_EQ(w[0].end, 1735689600000 + 50 * 60000LL);

  // Read backwards, a GPU goes back in time: the runs are unknown, to be worked out held.
  const std::string backwards = LinesBackwards(text);
  TelemetryBuckets reversed(TelemetryBuckets::Kind::kIndex);
  reversed.TrackRuns(5 * kMsPerMinute);
  reversed.AddFile("pods.prom");
  SourceStats s3;
  ReadDcgmScrape(backwards, "pods.prom", 0, "", {}, std::nullopt, &reversed, &s3);
  const std::vector<TelemetryBuckets::Indexed> unknown = reversed.Index(5 * kMsPerMinute);
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_FALSE(unknown[0].runs_known);
}

TEST(ExportedFiles, PodRunsAreTheSameWhetherTrackedOrWorkedOutHeld) {
  // In time order the index tracks the runs; backwards it reads the machine again holding its
  // samples: the jobs the pods become are the same.
  const std::string text = PodScrapes();
  const std::string backwards = LinesBackwards(text);
  testing::TempDir dir("pod-runs");
  std::vector<std::vector<Job>> jobs;
  for (const std::string* t : {&text, &backwards}) {
    const std::string path =
        (dir.path() / (t == &text ? "forward.prom" : "backward.prom")).string();
    std::ofstream(path) << *t;
    FleetPaths paths;
    paths.telemetry = {path};
    paths.telemetry_format = "dcgm";
    const TimeZone utc = TimeZone::Utc();
    auto loaded = LoadFleet(paths, 2.0, &utc);
    ASSERT_TRUE(loaded) << loaded.error().ToString();
    jobs.push_back(loaded->fleet.jobs);
    std::sort(jobs.back().begin(), jobs.back().end(),  // workloads are numbered as first read
              [](const Job& a, const Job& b) { return a.id < b.id; });
  }
  ASSERT_EQ(jobs[0].size(), 4u);
  ASSERT_EQ(jobs[1].size(), jobs[0].size());
  for (size_t i = 0; i < jobs[0].size(); ++i) {
    EXPECT_EQ(jobs[1][i].id, jobs[0][i].id);
    EXPECT_EQ(jobs[1][i].start, jobs[0][i].start);
    EXPECT_EQ(jobs[1][i].end, jobs[0][i].end);
    EXPECT_EQ(jobs[1][i].gpus, jobs[0][i].gpus);
  }
  EXPECT_EQ(jobs[0][1].id, "ml/a#2");
  EXPECT_EQ(jobs[0][1].start, 1735689600000 + 70 * 60000LL);
}

// A long table of 3 machines × 2 GPUs, 10 s polls (20,000 a GPU: 5.6 MB, so that the index
// notes record starts inside it and each feed core reads only the byte ranges of its
// machines), in the order given; utilisation cycles 0, 3, 40, 90 %, so half of the samples are
// below 5 %.
struct Row {
  TimeMs t;
  int machine, gpu, util;
};

std::vector<Row> Rows() {
  std::vector<Row> rows;
  for (int m = 0; m < 3; ++m) {
    for (int g = 0; g < 2; ++g) {
      for (int i = 0; i < 20000; ++i) {
        rows.push_back({1735689600000 + i * 10000LL, m, g,
                        (i + m + g) % 4 == 0   ? 0
                        : (i + m + g) % 4 == 1 ? 3
                        : (i + m + g) % 4 == 2 ? 40
                                               : 90});
      }
    }
  }
  return rows;
}

std::string Write(const std::string& path, const std::vector<Row>& rows) {
  std::ofstream out(path);
  out << "time,machine,gpu,util,memory\n";
  for (const Row& r : rows) {
    out << FormatIsoUtc(r.t) << ",node-" << r.machine << "," << r.gpu << "," << r.util << ","
        << 1000 + r.util << "\n";
  }
  return path;
}

TEST(ExportedFiles, ALongTableInAnyRowOrderAuditsAlikeAndIsNeverHeld) {
  const std::vector<Row> machine_major = Rows();
  std::vector<Row> time_major = machine_major, backwards = machine_major;
  std::stable_sort(time_major.begin(), time_major.end(),
                   [](const Row& a, const Row& b) { return a.t < b.t; });
  std::reverse(backwards.begin(), backwards.end());  // every GPU backwards: read again, sorted
  // Blocks of 5,000 polls, machine after machine: each machine in four stretches of the file.
  std::vector<Row> blocks = machine_major;
  std::stable_sort(blocks.begin(), blocks.end(), [](const Row& a, const Row& b) {
    const TimeMs block_a = (a.t - 1735689600000) / 50000000,
                 block_b = (b.t - 1735689600000) / 50000000;
    return std::tie(block_a, a.machine) < std::tie(block_b, b.machine);
  });
  // By a naive loop: every sample stands 10 s (its GPU's next one, or the usual interval), at
  // $2 an hour; those under 5 % are below the threshold.
  double below_usd = 0, billed_usd = 0;
  for (const Row& r : machine_major) {
    billed_usd += 10.0 * 2 / 3600;
    if (r.util < 5) below_usd += 10.0 * 2 / 3600;
  }
  testing::TempDir dir("long-orders");
  for (const auto& [name, rows] :
       std::vector<std::pair<std::string, std::vector<Row>>>{{"machine_major", machine_major},
                                                             {"time_major", time_major},
                                                             {"blocks", blocks},
                                                             {"backwards", backwards}}) {
    FleetPaths paths;
    paths.telemetry = {Write((dir.path() / (name + ".csv")).string(), rows)};
    paths.telemetry_format = "long";
    paths.mapping.time_col = "time", paths.mapping.series_col = "machine";
    paths.mapping.machine_col = "machine", paths.mapping.gpu_col = "gpu";
    paths.mapping.value_col = "util", paths.mapping.memory_col = "memory";
    const TimeZone utc = TimeZone::Utc();
    auto loaded = LoadFleet(paths, 2.0, &utc);
    ASSERT_TRUE(loaded) << loaded.error().ToString();
    ASSERT_EQ(loaded->telemetry.size(), 3u);
    for (const TelemetrySource& src : loaded->telemetry) {
      EXPECT_TRUE(src.shared) << name << ": the samples would be held";
      EXPECT_EQ(src.gpus, 2);
    }
    auto r = RunAudit(InputsOf(*loaded), AuditOptions{});
    ASSERT_TRUE(r) << r.error().ToString();
    double total = 0;
    for (const Spend& c : r->totals.categories) total += c.usd;
    EXPECT_NEAR(total, billed_usd, 1e-6) << name;
    EXPECT_NEAR(r->totals.below_threshold.usd, below_usd, 1e-6) << name;
    EXPECT_EQ(r->telemetry.rows_accepted, machine_major.size()) << name;
    EXPECT_EQ(r->telemetry.rows_read, machine_major.size()) << name;
  }
}

TEST(ExportedFiles, AFileThatChangesBetweenItsTwoReadingsIsAnError) {
  testing::TempDir dir("long-changed");
  const std::string path = Write((dir.path() / "long.csv").string(), Rows());
  FleetPaths paths;
  paths.telemetry = {path};
  paths.telemetry_format = "long";
  paths.mapping.series_col = "machine", paths.mapping.machine_col = "machine";
  paths.mapping.gpu_col = "gpu", paths.mapping.value_col = "util";
  const TimeZone utc = TimeZone::Utc();
  auto loaded = LoadFleet(paths, 2.0, &utc);
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  std::ofstream(path, std::ios::app) << "2025-01-02T00:00:00Z,node-0,0,50,1000\n";  // appended
  auto r = RunAudit(InputsOf(*loaded), AuditOptions{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_NE(r.error().ToString().find("changed while it was read"), std::string::npos);
  EXPECT_NE(r.error().ToString().find(path), std::string::npos);
}

// query_range answers of "rows" (each GPU's in time order), utilisation and memory series.
void WriteJson(const std::string& path, const std::vector<Row>& rows) {
  std::map<std::pair<int, int>, std::vector<const Row*>> series;
  for (const Row& r : rows) series[{r.machine, r.gpu}].push_back(&r);
  std::ofstream out(path);
  out << R"({"status":"success","data":{"resultType":"matrix","result":[)";
  bool first = true;
  for (const char* metric : {"DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_GPU_UTIL"}) {
    for (const auto& [key, points] : series) {
      out << (first ? "" : ",") << R"({"metric":{"__name__":")" << metric
          << R"(","Hostname":"node-)" << key.first << R"(","gpu":")" << key.second
          << R"("},"values":[)";
      first = false;
      for (size_t i = 0; i < points.size(); ++i) {
        const int v = metric[12] == 'F' ? 2000 + points[i]->util : points[i]->util;  // MiB
        out << (i ? "," : "") << "[" << points[i]->t / 1000 << ".000,\"" << v << "\"]";
      }
      out << "]}";
    }
  }
  out << "]}}";
}

TEST(ExportedFiles, QueryRangeFilesAreHeldAFileAtATimeInEitherOrder) {
  const std::vector<Row> rows = Rows();
  std::vector<Row> early, late;
  for (const Row& r : rows) (r.t < rows[250].t ? early : late).push_back(r);
  double below_usd = 0, billed_usd = 0;
  for (const Row& r : rows) {
    billed_usd += 10.0 * 2 / 3600;
    if (r.util < 5) below_usd += 10.0 * 2 / 3600;
  }
  testing::TempDir dir("json-orders");
  // Files named so that the days are listed in order, then backwards (each machine read again
  // alone, held and sorted).
  for (const auto& [first, second] : std::vector<std::pair<std::string, std::string>>{
           {"in_order/1.json", "in_order/2.json"}, {"backwards/2.json", "backwards/1.json"}}) {
    std::filesystem::create_directories(dir.path() / first.substr(0, first.find('/')));
    WriteJson((dir.path() / first).string(), early);
    WriteJson((dir.path() / second).string(), late);
    FleetPaths paths;
    paths.telemetry = {(dir.path() / first.substr(0, first.find('/'))).string()};
    paths.telemetry_format = "prometheus";
    const TimeZone utc = TimeZone::Utc();
    auto loaded = LoadFleet(paths, 2.0, &utc);
    ASSERT_TRUE(loaded) << loaded.error().ToString();
    ASSERT_EQ(loaded->telemetry.size(), 3u);
    for (const TelemetrySource& src : loaded->telemetry) EXPECT_TRUE(src.shared) << first;
    auto r = RunAudit(InputsOf(*loaded), AuditOptions{});
    ASSERT_TRUE(r) << r.error().ToString();
    double total = 0;
    for (const Spend& c : r->totals.categories) total += c.usd;
    EXPECT_NEAR(total, billed_usd, 1e-6) << first;
    EXPECT_NEAR(r->totals.below_threshold.usd, below_usd, 1e-6) << first;
    EXPECT_EQ(r->telemetry.rows_accepted, 2 * rows.size()) << first;  // memory points too
    // Memory joined a file at a time: every sample holds 2 GiB, so all below-threshold time is
    // held idle (a sample left without its reading would not be).
    EXPECT_NEAR(r->totals.held_idle.usd, below_usd, 1e-6) << first;
  }
}

}  // namespace
}  // namespace gpuledger
