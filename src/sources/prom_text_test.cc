#include "sources/prom_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/line_reader.h"

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

TEST(Dcgm, UtilizationPercentRatiosSentinelsAndMig) {
  DcgmUtilization u;
  EXPECT_EQ(
      ReadDcgmUtilization(P(R"(DCGM_FI_DEV_SM_CLOCK{gpu="0"} 139)"), "DCGM_FI_DEV_GPU_UTIL", &u),
      DcgmVerdict::kOtherMetric);
  EXPECT_EQ(ReadDcgmUtilization(P(R"(DCGM_FI_DEV_GPU_UTIL{gpu="0"} 9223372036854775794)"),
                                "DCGM_FI_DEV_GPU_UTIL", &u),
            DcgmVerdict::kNoValue);
  EXPECT_EQ(ReadDcgmUtilization(P(R"(DCGM_FI_DEV_GPU_UTIL{gpu="0"} 2147483632)"),
                                "DCGM_FI_DEV_GPU_UTIL", &u),
            DcgmVerdict::kNoValue);
  EXPECT_EQ(
      ReadDcgmUtilization(P(R"(DCGM_FI_DEV_GPU_UTIL{gpu="0"} 140)"), "DCGM_FI_DEV_GPU_UTIL", &u),
      DcgmVerdict::kOutOfRange);
  EXPECT_EQ(
      ReadDcgmUtilization(P(R"(DCGM_FI_DEV_GPU_UTIL{UUID="x"} 40)"), "DCGM_FI_DEV_GPU_UTIL", &u),
      DcgmVerdict::kNoGpuLabel);
  ASSERT_EQ(ReadDcgmUtilization(
                P(R"(DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="2",hostname="n1",GPU_I_ID="3"} 0.25)"),
                "DCGM_FI_PROF_GR_ENGINE_ACTIVE", &u),
            DcgmVerdict::kReading);
  EXPECT_EQ(u.machine, "n1");
  EXPECT_EQ(u.gpu, 2);
  EXPECT_EQ(*u.mig_instance, 3);
  EXPECT_EQ(u.util_pct, 25);
}

TEST(Dcgm, EveryRealCaptureParses) {
  const auto dir =
      std::filesystem::path(GPULEDGER_SOURCE_DIR) / ".." / "shared" / "realdata" / "dcgm-exporter";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no " << dir;
  int files = 0, util = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    ++files;
    auto text = ReadWholeFile(entry.path().string());
    ASSERT_TRUE(text);
    ForEachLineIn(*text, [&](std::string_view line, uint64_t no) {
      auto s = ParsePromLine(line);
      EXPECT_TRUE(s) << entry.path() << ":" << no << ": " << (s ? "" : s.error().message);
      DcgmUtilization u;
      if (s && *s &&
          ReadDcgmUtilization(**s, "DCGM_FI_DEV_GPU_UTIL", &u) == DcgmVerdict::kReading) {
        ++util;
        EXPECT_FALSE(u.machine.empty()) << entry.path();
      }
      return true;
    });
  }
  EXPECT_EQ(files, 3);
  EXPECT_GE(util, 2);  // the L4 on AWS and the RTX 4000 Ada report GPU utilisation
}

}  // namespace
}  // namespace gpuledger
