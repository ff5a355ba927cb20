// Long tables: the header and bad rows, memory in a column or a table of its own, and the same
// samples, lines and problems however the table is cut (cores, pieces of a file, a local clock).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
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

TEST(LongTable, RangesWidenSpansToCheckpointsAndJoinThoseThatMeet) {
  const std::vector<TableCheckpoint> at = {{100, 2}, {1000, 30}, {2000, 60}, {3000, 90}};
  auto ranges = [&](std::vector<std::pair<uint64_t, uint64_t>> spans) {
    std::vector<std::tuple<uint64_t, uint64_t, uint64_t>> out;
    for (const TableRange& r : RangesFor(at, std::move(spans)))
      out.emplace_back(r.from, r.to, r.line);
    return out;
  };
  using R = std::vector<std::tuple<uint64_t, uint64_t, uint64_t>>;
  EXPECT_EQ(ranges({{35, 40}}), (R{{1000, 2000, 30}}));
  EXPECT_EQ(ranges({{30, 59}}), (R{{1000, 2000, 30}}));  // a checkpoint's own line is in it
  EXPECT_EQ(ranges({{95, 99}, {2, 2}}), (R{{100, 1000, 2}, {3000, UINT64_MAX, 90}}));
  EXPECT_EQ(ranges({{61, 70}, {31, 59}}), (R{{1000, 3000, 30}}));  // they meet at 2000
  EXPECT_EQ(ranges({{3, 3}, {29, 29}}), (R{{100, 1000, 2}}));
}

// A table written machine by machine, m0 again at the end: reading only the ranges of one
// machine's spans (learnt by a first reading, in small pieces so that there are checkpoints)
// gives that machine's samples, orders and all, as the whole file does; and reads less of it.
TEST(LongTable, AMachinesRangesHoldAllItsRows) {
  std::string text = "\xEF\xBB\xBFtime,machine,gpu,util\n";  // a BOM before the header
  auto block = [&](const char* machine, int rows, int from_s) {
    for (int i = 0; i < rows; ++i) {
      char line[96];
      std::snprintf(line, sizeof line, "%d,%s,%d,%d\n", 1735689600 + from_s + i / 2, machine, i % 2,
                    i % 101);
      text += line;
    }
  };
  block("m0", 3000, 0);
  block("m1", 9000, 0);
  text += "1735689590,\"m2\",0,5\n";  // a quoted field: its piece is read with quotes
  block("m2", 9000, 0);
  block("m0", 3000, 1500);
  testing::TempDir dir("long-ranges");
  const std::string path = dir / "long.csv";
  std::ofstream(path) << text;
  SeriesMapping m;
  m.time_col = "time", m.series_col = "machine", m.machine_col = "machine", m.gpu_col = "gpu";
  m.value_col = "util";

  TelemetryBuckets index(TelemetryBuckets::Kind::kIndex);
  index.AddFile(path);
  SourceStats counted;
  std::vector<TableCheckpoint> at;
  TableParts learn;
  learn.learn = &at;
  ASSERT_TRUE(ReadLongTableFile(path, 0, m, TimeZone::Utc(), LongTableRole::kUtilisation, &index,
                                &counted, 1, 4096, learn));
  ASSERT_GT(at.size(), 100u);
  EXPECT_EQ(at.front().line, 2u);
  EXPECT_EQ(at.front().offset, text.find("\n") + 1);  // the BOM counted in
  for (size_t k = 1; k < at.size(); ++k) {            // each at a line start, its line number right
    ASSERT_EQ(text[at[k].offset - 1], '\n');
    ASSERT_EQ(std::count(text.begin(), text.begin() + at[k].offset, '\n') + 1, at[k].line);
  }
  std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> lines;
  for (const TelemetryBuckets::Indexed& x : index.Index(5 * kMsPerMinute)) {
    for (const TelemetryBuckets::OrderSpan& span : x.seen)
      lines[x.source.machine].emplace_back(span.first & 0xFFFFFFFFFF, span.last & 0xFFFFFFFFFF);
  }
  EXPECT_EQ(lines["m0"].size(), 2u);  // 18,001 lines apart: two spans
  EXPECT_EQ(lines["m1"].size(), 1u);

  auto samples = [&](const std::string& machine, const std::vector<TableRange>* only) {
    TelemetryBuckets held;
    held.HoldOnly(machine);
    held.AddFile(path);
    SourceStats st;
    TableParts parts;
    parts.only = only, parts.header_end = at.front().offset;
    EXPECT_TRUE(ReadLongTableFile(path, 0, m, TimeZone::Utc(), LongTableRole::kUtilisation, &held,
                                  &st, 1, 4096, parts));
    std::vector<std::tuple<int, TimeMs, double, uint64_t>> got;
    struct Sink : SampleSink {
      std::vector<std::tuple<int, TimeMs, double, uint64_t>>* got;
      SampleVerdict Add(int gpu, TimeMs t, double util, uint64_t order, double) override {
        got->emplace_back(gpu, t, util, order);
        return SampleVerdict::kAccepted;
      }
    } sink;
    sink.got = &got;
    std::atomic<uint64_t> bytes{0};
    for (const TelemetrySource& src : held.Sources()) {
      if (src.machine == machine) (void)src.feed(&sink, &st, &bytes);
    }
    return got;
  };
  for (const char* machine : {"m0", "m1", "m2"}) {
    const std::vector<TableRange> ranges = RangesFor(at, lines[machine]);
    uint64_t bytes = 0;
    for (const TableRange& r : ranges) bytes += std::min<uint64_t>(r.to, text.size()) - r.from;
    EXPECT_LT(bytes, text.size() / 2) << machine;
    const auto want = samples(machine, nullptr);
    EXPECT_EQ(want.size(), machine[1] == '0' ? 6000u : machine[1] == '1' ? 9000u : 9001u);
    EXPECT_EQ(samples(machine, &ranges), want) << machine;
  }
}

}  // namespace
}  // namespace gpuledger
