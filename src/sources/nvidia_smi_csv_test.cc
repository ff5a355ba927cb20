#include "sources/nvidia_smi_csv.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/line_reader.h"

namespace gpuledger {
namespace {

struct Got {
  int gpu;
  TimeMs t;
  double util;
  double memory_mib;
};

class RecordingSink : public SampleSink {
 public:
  SampleVerdict Add(int gpu, TimeMs t, double util, uint64_t, double memory_mib) override {
    got.push_back({gpu, t, util, memory_mib});
    return SampleVerdict::kAccepted;
  }
  std::vector<Got> got;
};

struct Parsed {
  std::vector<Got> samples;
  SourceStats stats;
};

Parsed Parse(std::string_view text) {
  static const TimeZone kUtc = TimeZone::Utc();
  Parsed p;
  RecordingSink sink;
  NvidiaSmiReader reader("f.csv", 0, &kUtc, &sink, &p.stats);
  ForEachLineIn(text, [&](std::string_view line, uint64_t no) { return reader.Line(line, no); });
  p.samples = sink.got;
  return p;
}

uint64_t Rejected(const Parsed& p, const std::string& reason) {
  auto it = p.stats.rejected.entries().find(reason);
  return it == p.stats.rejected.entries().end() ? 0 : it->second.count;
}

TEST(NvidiaSmiCsv, RowsBeforeAnyHeaderAreRejected) {
  auto p = Parse("2023/06/22 18:53:36.635, 0, 16 %\n");
  EXPECT_TRUE(p.samples.empty());
  EXPECT_EQ(Rejected(p, "no_header"), 1u);
  EXPECT_EQ(p.stats.rejected.entries().at("no_header").Where(), "f.csv:1");
}

TEST(NvidiaSmiCsv, HeaderWithoutUtilizationIsNoHeader) {
  auto p = Parse("timestamp, index, memory.used [MiB]\n2023/06/22 18:53:36.635, 0, 5 MiB\n");
  // Both lines are rejected: the header that names no utilization, and the row under it.
  EXPECT_EQ(Rejected(p, "no_header"), 2u);
  EXPECT_EQ(p.stats.rejected.entries().at("no_header").Where(), "f.csv:1");
}

TEST(NvidiaSmiCsv, FieldCountMustMatchTheHeader) {
  auto p = Parse(
      "timestamp, index, utilization.gpu [%]\n2023/06/22 18:53:36.635, 0\n"
      "2023/06/22 18:53:37.635, 0, 5 %, extra\n");
  EXPECT_EQ(Rejected(p, "field_count"), 2u);
  EXPECT_EQ(p.stats.rejected.entries().at("field_count").Where(), "f.csv:2");
}

TEST(NvidiaSmiCsv, BadTimesIndicesAndValuesAreRejectedByReason) {
  auto p = Parse(
      "timestamp, index, utilization.gpu [%]\n"
      "yesterday, 0, 5 %\n"
      "2023/02/30 00:00:00.000, 0, 5 %\n"
      "2023/06/22 25:00:00.000, 0, 5 %\n"
      "2023/06/22 18:53:36.635, x, 5 %\n"
      "2023/06/22 18:53:36.635, -1, 5 %\n"
      "2023/06/22 18:53:36.635, 0, [N/A]\n"
      "2023/06/22 18:53:36.635, 0, [Not Supported]\n"
      "2023/06/22 18:53:36.635, 0, NA\n"
      "2023/06/22 18:53:36.635, 0, \n"
      "2023/06/22 18:53:36.635, 0, nan\n"
      "2023/06/22 18:53:36.635, 0, -1 %\n"
      "2023/06/22 18:53:36.635, 0, 100.5 %\n"
      "2023/06/22 18:53:36.635, 0, 250\n");
  EXPECT_TRUE(p.samples.empty());
  EXPECT_EQ(Rejected(p, "bad_time"), 3u);
  EXPECT_EQ(Rejected(p, "bad_gpu_index"), 2u);
  EXPECT_EQ(Rejected(p, "util_not_a_number"), 5u);
  EXPECT_EQ(Rejected(p, "util_out_of_range"), 3u);
  EXPECT_EQ(p.stats.rows_read, 13u);
  EXPECT_EQ(p.stats.rejected.entries().at("util_not_a_number").detail, "utilization '[N/A]'");
}

TEST(NvidiaSmiCsv, ReadsValuesWithUnitsAndLeadingSpaces) {
  auto p = Parse(
      "timestamp, index, name, pci.bus_id, utilization.gpu [%], utilization.memory [%], "
      "memory.used [MiB]\n"
      "2023/06/22 18:53:36.635, 1, NVIDIA GeForce RTX 2070, 00000000:01:00.0, 16 %, 4 %, 754 "
      "MiB\n");
  ASSERT_EQ(p.samples.size(), 1u);
  EXPECT_EQ(p.samples[0].gpu, 1);
  EXPECT_EQ(p.samples[0].util, 16);
  EXPECT_EQ(FormatIsoUtc(p.samples[0].t), "2023-06-22T18:53:36.635Z");
}

TEST(NvidiaSmiCsv, NoUnitsEpochSecondsAndNoIndexMeansGpuZero) {
  auto p = Parse(
      "timestamp,memory.used,memory.total,utilization.gpu\n1764189075,1, 24576, 0\n"
      "1764189135.5,442, 24576, 93\n");
  ASSERT_EQ(p.samples.size(), 2u);
  EXPECT_EQ(p.samples[0].gpu, 0);
  EXPECT_EQ(p.samples[0].t, 1764189075000);
  EXPECT_EQ(p.samples[1].t, 1764189135500);
  EXPECT_EQ(p.samples[1].util, 93);
}

TEST(NvidiaSmiCsv, RepeatedHeadersAreSkippedAndNoted) {
  auto p = Parse(
      "timestamp, index, utilization.gpu [%]\n2023/06/22 18:53:36.635, 0, 5 %\n"
      "timestamp, index, utilization.gpu [%]\n2023/06/22 18:53:37.635, 0, 6 %\n");
  EXPECT_EQ(p.samples.size(), 2u);
  EXPECT_EQ(p.stats.notes.entries().at("repeated_header").count, 1u);
  EXPECT_EQ(p.stats.rows_read, 2u);
}

TEST(NvidiaSmiCsv, HeaderMayChangeColumnOrder) {
  auto p = Parse(
      "timestamp, index, utilization.gpu [%]\n2023/06/22 18:53:36.635, 0, 5 %\n"
      "utilization.gpu [%], timestamp, index\n 7 %, 2023/06/22 18:53:37.635, 1\n");
  ASSERT_EQ(p.samples.size(), 2u);
  EXPECT_EQ(p.samples[1].gpu, 1);
  EXPECT_EQ(p.samples[1].util, 7);
}

TEST(NvidiaSmiCsv, CrlfBomAndBlankLines) {
  auto p =
      Parse("\xEF\xBB\xBFtimestamp, utilization.gpu [%]\r\n\r\n2023/06/22 18:53:36.635, 5 %\r\n");
  ASSERT_EQ(p.samples.size(), 1u);
  EXPECT_EQ(p.samples[0].util, 5);
  EXPECT_TRUE(p.stats.rejected.empty());
}

TEST(NvidiaSmiCsv, UtilizationParsing) {
  double v = 0;
  EXPECT_EQ(ParseUtilization(" 16 %", &v), 1);
  EXPECT_EQ(v, 16);
  EXPECT_EQ(ParseUtilization("4.5", &v), 1);
  EXPECT_EQ(v, 4.5);
  EXPECT_EQ(ParseUtilization("100", &v), 1);
  EXPECT_EQ(ParseUtilization("0", &v), 1);
  EXPECT_EQ(ParseUtilization("101", &v), -1);
  EXPECT_EQ(ParseUtilization("-0.5", &v), -1);
  EXPECT_EQ(ParseUtilization("[N/A]", &v), 0);
  EXPECT_EQ(ParseUtilization("inf", &v), 0);
  EXPECT_EQ(ParseUtilization("5 5", &v), 0);
}

}  // namespace
}  // namespace gpuledger
