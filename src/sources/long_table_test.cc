// Long tables: the header and bad rows, memory in a column or a table of its own, and the same
// samples, lines and problems however the table is cut (cores, pieces of a file, a local clock).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <tuple>

#include "core/csv_table.h"
#include "sources/exported_telemetry.h"
#include "telemetry_test_util.h"
#include "temp_dir.h"

namespace gpuledger {
namespace {

using testing::Count;
using testing::Fed;
using testing::FeedAll;

TEST(LongTable, HeaderAndRows) {
  TelemetryBuckets b;
  SourceStats s;
  EXPECT_FALSE(ReadLongTable("when,what\n", "l.csv", 0, {}, TimeZone::Utc(),
                             LongTableRole::kUtilisation, &b, &s));
  SeriesMapping m;
  m.machine_col = "host", m.gpu_col = "gpu", m.value_scale = "ratio";
  ASSERT_TRUE(
      ReadLongTable("time,series,value,host,gpu\n"
                    "2025-01-01T00:00:00Z,util,0.5,h1,0\n"
                    "soon,util,0.5,h1,0\n"
                    "2025-01-01T00:00:00Z,util,0.5,h1,x\n"
                    "2025-01-01T00:00:00Z,util,[N/A],h1,0\n"
                    "2025-01-01T00:00:00Z,util,2,h1,0\n"
                    "2025-01-01T00:00:00Z,util,0.5\n",
                    "l.csv", 0, m, TimeZone::Utc(), LongTableRole::kUtilisation, &b, &s));
  for (const char* reason :
       {"bad_time", "bad_gpu_index", "util_not_a_number", "util_out_of_range", "field_count"}) {
    EXPECT_EQ(Count(s.rejected, reason), 1u) << reason;
  }
  EXPECT_EQ(s.rows_read, 6u);
}

TEST(LongTable, AMemoryTableGivenAsUtilisationIsRefusedNamingTheFlag) {
  TelemetryBuckets b;
  SourceStats s;
  const std::string memory_table =
      "time,series,value\n"
      "2025-01-01T00:00:00Z,h,0\n"
      "2025-01-01T00:00:00Z,g,23552\n"
      "2025-01-01T00:01:00Z,h,0\n"
      "2025-01-01T00:01:00Z,g,23552\n";
  auto r = ReadLongTable(memory_table, "mem.csv", 0, {}, TimeZone::Utc(),
                         LongTableRole::kUtilisation, &b, &s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().where, "mem.csv:3");
  EXPECT_NE(r.error().message.find("--memory-telemetry"), std::string::npos);
  // The same table read as memory, in MiB, joins the utilisation table's samples.
  TelemetryBuckets joined;
  SourceStats s2;
  ASSERT_TRUE(ReadLongTable("time,series,value\n2025-01-01T00:00:00Z,g,1\n", "util.csv", 0, {},
                            TimeZone::Utc(), LongTableRole::kUtilisation, &joined, &s2));
  ASSERT_TRUE(ReadLongTable(memory_table, "mem.csv", 1, {}, TimeZone::Utc(), LongTableRole::kMemory,
                            &joined, &s2));
  const std::vector<Fed> got = FeedAll(&joined);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].memory_mib, 23552);
}

TEST(LongTable, AMemoryColumnIsReadInItsUnit) {
  TelemetryBuckets b;
  SourceStats s;
  SeriesMapping m;
  m.memory_col = "fb", m.memory_unit = "bytes";
  ASSERT_TRUE(
      ReadLongTable("time,series,value,fb\n2025-01-01T00:00:00Z,g,1,2147483648\n"
                    "2025-01-01T00:01:00Z,g,1,[N/A]\n",
                    "t.csv", 0, m, TimeZone::Utc(), LongTableRole::kUtilisation, &b, &s));
  const std::vector<Fed> got = FeedAll(&b);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].memory_mib, 2048);
  EXPECT_TRUE(std::isnan(got[1].memory_mib));  // unknown memory never rejects the sample
}

// A long table big enough to be cut into a stretch per core (over 32 MiB), with bad rows in both
// halves: read on two cores it gives what one reading gives — the same samples in the same
// order, counts, and each problem's first line and count.
TEST(LongTable, ReadOnTwoCoresIsReadOnOne) {
  std::string text = "time,machine,gpu,util\n";
  const int rows = 2'000'000;
  for (int i = 0; i < rows; ++i) {
    const int64_t t = 1'735'689'600 + i / 8 * 10;
    if (i == 1000 || i == rows - 1000) {
      text += "not a time,m" + std::to_string(i % 3) + ",0,5\n";
    } else if (i == 2000 || i == rows - 2000) {
      text += std::to_string(t) + ",m1,0,250\n";  // out of range
    } else {
      text += std::to_string(t) + ",m" + std::to_string(i % 3) + "," + std::to_string(i % 8) + "," +
              std::to_string(i % 100) + "\n";
    }
  }
  ASSERT_GT(text.size(), 32u << 20);
  ASSERT_EQ(CsvTable(text).Split(2).size(), 2u);  // it is cut in two
  SeriesMapping m;
  m.machine_col = "machine", m.gpu_col = "gpu", m.value_col = "util", m.series_col = "machine";
  auto read = [&](int threads, SourceStats* stats) {
    TelemetryBuckets b;
    b.AddFile("long.csv");
    EXPECT_TRUE(ReadLongTable(text, "long.csv", 0, m, TimeZone::Utc(), LongTableRole::kUtilisation,
                              &b, stats, threads));
    std::vector<std::tuple<std::string, int, TimeMs, double, uint64_t>> got;
    struct Sink : SampleSink {
      std::vector<std::tuple<int, TimeMs, double, uint64_t>> got;
      SampleVerdict Add(int gpu, TimeMs t, double util, uint64_t order, double) override {
        got.emplace_back(gpu, t, util, order);
        return SampleVerdict::kAccepted;
      }
    };
    std::atomic<uint64_t> bytes{0};
    for (const TelemetrySource& src : b.Sources()) {
      Sink sink;
      (void)src.feed(&sink, stats, &bytes);
      for (const auto& [gpu, t, util, order] : sink.got)
        got.emplace_back(src.machine, gpu, t, util, order);
    }
    return got;
  };
  SourceStats one, two;
  const auto a = read(1, &one);
  const auto b = read(2, &two);
  EXPECT_EQ(a.size(), static_cast<size_t>(rows - 4));
  EXPECT_EQ(a, b);
  EXPECT_EQ(one.rows_read, two.rows_read);
  EXPECT_EQ(one.rows_accepted, two.rows_accepted);
  for (const char* reason : {"bad_time", "util_out_of_range"}) {
    const ProblemEntry& x = one.rejected.entries().at(reason);
    const ProblemEntry& y = two.rejected.entries().at(reason);
    EXPECT_EQ(x.count, 2u) << reason;
    EXPECT_EQ(y.count, 2u) << reason;
    EXPECT_EQ(x.first_line, y.first_line) << reason;
  }
  EXPECT_EQ(two.rejected.entries().at("bad_time").first_line, 1002u);  // the header is line 1
  EXPECT_EQ(two.files, 1u);

  // From the file, never read whole: pieces of about 1 MiB (48 of them), one or two at a time,
  // give the same again — samples, line numbers, counts and problems.
  testing::TempDir dir("long-pieces");
  const std::string path = dir / "long.csv";
  std::ofstream(path) << text;
  for (int threads : {1, 2}) {
    TelemetryBuckets pieces;
    pieces.AddFile("long.csv");
    SourceStats st;
    ASSERT_TRUE(ReadLongTableFile(path, 0, m, TimeZone::Utc(), LongTableRole::kUtilisation, &pieces,
                                  &st, threads, size_t{1} << 20));
    std::vector<std::tuple<std::string, int, TimeMs, double, uint64_t>> got;
    std::atomic<uint64_t> bytes{0};
    for (const TelemetrySource& src : pieces.Sources()) {
      struct Sink : SampleSink {
        std::vector<std::tuple<int, TimeMs, double, uint64_t>> got;
        SampleVerdict Add(int gpu, TimeMs t, double util, uint64_t order, double) override {
          got.emplace_back(gpu, t, util, order);
          return SampleVerdict::kAccepted;
        }
      } sink;
      (void)src.feed(&sink, &st, &bytes);
      for (const auto& [gpu, t, util, order] : sink.got)
        got.emplace_back(src.machine, gpu, t, util, order);
    }
    EXPECT_EQ(got, a) << threads << " at a time";
    EXPECT_EQ(st.rows_read, one.rows_read);
    EXPECT_EQ(st.files, 1u);
    for (const char* reason : {"bad_time", "util_out_of_range"}) {
      const ProblemEntry& x = one.rejected.entries().at(reason);
      const ProblemEntry& y = st.rejected.entries().at(reason);
      EXPECT_EQ(x.count, y.count) << reason;
      EXPECT_EQ(x.first_line, y.first_line) << reason;
    }
  }
}

// On a local clock the pieces are read in one stream: the repeated hour of a fall-back is
// resolved by the stream's order even where a piece ends inside it.
TEST(LongTable, PiecesOfALocalClockAreOneStream) {
  // Europe/Berlin, 2024-10-27: 02:00-03:00 happens twice (CEST, then CET). Every 10 minutes
  // from 01:00 to 03:50 local, the repeated hour written twice: 24 rows.
  std::string text = "time,machine,gpu,util\n";
  for (const char* hour : {"01", "02", "02", "03"}) {
    for (int minute = 0; minute < 60; minute += 10) {
      text += "2024-10-27 " + std::string(hour) + ":" + (minute ? std::to_string(minute) : "00") +
              ":00,h,0,50\n";
    }
  }
  SeriesMapping m;
  m.machine_col = "machine", m.gpu_col = "gpu", m.value_col = "util", m.series_col = "machine";
  auto berlin = TimeZone::Parse("Europe/Berlin");
  ASSERT_TRUE(berlin);
  testing::TempDir dir("long-local");
  const std::string path = dir / "local.csv";
  std::ofstream(path) << text;
  auto times = [&](TelemetryBuckets* b) {
    std::vector<TimeMs> ts;
    for (const Fed& f : FeedAll(b)) ts.push_back(f.t);
    return ts;
  };
  TelemetryBuckets whole, pieces;
  SourceStats s1, s2;
  ASSERT_TRUE(ReadLongTable(text, path, 0, m, *berlin, LongTableRole::kUtilisation, &whole, &s1));
  ASSERT_TRUE(ReadLongTableFile(path, 0, m, *berlin, LongTableRole::kUtilisation, &pieces, &s2, 2,
                                100));  // pieces of about 100 bytes: 3 rows each
  const std::vector<TimeMs> want = times(&whole);
  ASSERT_EQ(want.size(), 24u);
  // 01:00 CEST is 23:00 UTC the day before; then every 10 minutes, no gap and no repeat.
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(want[i], 1729983600000 + static_cast<TimeMs>(i) * 600000) << i;
  }
  EXPECT_EQ(times(&pieces), want);
  EXPECT_EQ(s2.notes.entries().at("ambiguous_local_time").count,
            s1.notes.entries().at("ambiguous_local_time").count);
}

// Quoted fields may hold commas, quotes and newlines: pieces are cut only between records, so
// every piece size, one or two at a time, reads what the whole text gives — the quoted pieces
// through CsvTable, the plain ones split in place.
TEST(LongTable, QuotedFieldsThatSpanLinesAreCutOnlyBetweenRecords) {
  std::string text = "time,series,gpu,util\n";
  for (int i = 0; i < 60; ++i) {
    const std::string t =
        "2025-01-01T00:" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ":00Z";
    if (i % 7 == 3) {  // a selector, its quotes doubled
      text += t + ",\"DCGM_FI_DEV_GPU_UTIL{Hostname=\"\"h\"\",gpu=\"\"0\"\"}\",0," +
              std::to_string(i) + "\n";
    } else if (i % 13 == 6) {  // a machine named over two lines
      text += t + ",\"h\nq\",1," + std::to_string(i) + "\n";
    } else if (i % 11 == 5) {  // a quoted plain field with a comma: no machine of that name
      text += t + ",\"h,x\",1," + std::to_string(i) + "\n";
    } else {
      text += t + ",h,1," + std::to_string(i) + "\n";
    }
  }
  SeriesMapping m;
  m.series_col = "series", m.gpu_col = "gpu", m.value_col = "util";
  testing::TempDir dir("long-quoted");
  const std::string path = dir / "quoted.csv";
  std::ofstream(path) << text;
  auto read = [&](TelemetryBuckets* b, SourceStats* st) {
    std::vector<std::tuple<std::string, int, TimeMs, double>> got;
    std::atomic<uint64_t> bytes{0};
    for (const TelemetrySource& src : b->Sources()) {
      struct Sink : SampleSink {
        std::vector<std::tuple<int, TimeMs, double>> got;
        SampleVerdict Add(int gpu, TimeMs t, double util, uint64_t, double) override {
          got.emplace_back(gpu, t, util);
          return SampleVerdict::kAccepted;
        }
      } sink;
      (void)src.feed(&sink, st, &bytes);
      for (const auto& [gpu, t, util] : sink.got) got.emplace_back(src.machine, gpu, t, util);
    }
    return got;
  };
  TelemetryBuckets whole;
  SourceStats s1;
  ASSERT_TRUE(
      ReadLongTable(text, path, 0, m, TimeZone::Utc(), LongTableRole::kUtilisation, &whole, &s1));
  const auto want = read(&whole, &s1);
  ASSERT_EQ(want.size(), 60u);
  EXPECT_EQ(std::count_if(want.begin(), want.end(),
                          [](const auto& w) { return std::get<0>(w) == "h,x"; }),
            4);  // i = 5, 16, 27, 49 (38 is a selector's)
  EXPECT_EQ(std::count_if(want.begin(), want.end(),
                          [](const auto& w) { return std::get<0>(w) == "h\nq"; }),
            4);  // i = 6, 19, 32, 58 (45 is a selector's)
  for (size_t piece : {size_t{1}, size_t{37}, size_t{64}, size_t{100}, size_t{1} << 20}) {
    for (int threads : {1, 2}) {
      TelemetryBuckets pieces;
      SourceStats s2;
      ASSERT_TRUE(ReadLongTableFile(path, 0, m, TimeZone::Utc(), LongTableRole::kUtilisation,
                                    &pieces, &s2, threads, piece));
      EXPECT_EQ(read(&pieces, &s2), want) << piece << " bytes, " << threads << " at a time";
      EXPECT_EQ(s2.rows_read, s1.rows_read);
    }
  }
}

}  // namespace
}  // namespace gpuledger
