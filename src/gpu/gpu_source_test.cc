#include "gpu/gpu_source.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace gpuledger {
namespace {

TEST(GpuSource, MalformedSpecsAreUsageErrors) {
  for (const char* spec : {"cuda", "replay:x.csv@fast", "replay:x.csv@0"}) {
    auto s = MakeGpuSource(spec, 0);
    ASSERT_FALSE(s) << spec;
    EXPECT_EQ(s.error().code, ErrorCode::kUsage) << spec;
  }
  EXPECT_EQ(MakeGpuSource("replay:/no/such.csv", 0).error().code, ErrorCode::kIo);
}

TEST(GpuSource, NvmlIsLoadedAtRunTimeAndAMissingSymbolDisablesOnlyItsMetric) {
  setenv("GPULEDGER_NVML_LIBRARY", GPULEDGER_FAKE_NVML_OLD, 1);
  setenv("FAKE_NVML_UTIL", "0,80", 1);
  auto s = MakeGpuSource("nvml", 0);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_NE((*s)->Describe().find("2 GPUs, no memory metric"), std::string::npos)
      << (*s)->Describe();
  auto snaps = (*s)->Read(1234);
  ASSERT_TRUE(snaps);
  ASSERT_EQ(snaps->size(), 1u);
  EXPECT_EQ((*snaps)[0].t, 1234);
  ASSERT_EQ((*snaps)[0].gpus.size(), 2u);
  EXPECT_EQ((*snaps)[0].gpus[1].util_pct, 80);
  EXPECT_FALSE((*snaps)[0].gpus[1].memory_used_mib);
  setenv("GPULEDGER_NVML_LIBRARY", "/no/such/libnvidia-ml.so.1", 1);
  EXPECT_FALSE(MakeGpuSource("nvml", 0));
  auto fallback = MakeGpuSource("auto", 0);  // no NVML here, nor nvidia-smi: no GPUs, and why
  ASSERT_TRUE(fallback);
  EXPECT_NE((*fallback)->Describe().find("NVML not available"), std::string::npos);
  unsetenv("GPULEDGER_NVML_LIBRARY");
}

TEST(GpuSource, NvidiaSmiQueryLines) {
  GpuReading r;
  EXPECT_FALSE(ParseGpuQueryLine("0, 87", &r));
  EXPECT_FALSE(ParseGpuQueryLine("0, 87, 1, 2", &r));
  EXPECT_FALSE(ParseGpuQueryLine("x, 87, 1", &r));
  EXPECT_FALSE(ParseGpuQueryLine("0, [N/A], 1", &r));
  ASSERT_TRUE(ParseGpuQueryLine("3, 87, 30123\n", &r));
  EXPECT_EQ(r.index, 3);
  EXPECT_EQ(r.util_pct, 87);
  EXPECT_EQ(*r.memory_used_mib, 30123);
  ASSERT_TRUE(ParseGpuQueryLine("1, 0, [N/A]", &r));
  EXPECT_FALSE(r.memory_used_mib);
}

TEST(GpuSource, ReplayDeliversEachRowOnceAtItsScaledTime) {
  const std::string path = ::testing::TempDir() + "/replay.csv";
  std::ofstream(path) << "timestamp, index, utilization.gpu [%]\n"
                         "2025/01/01 00:00:00.000, 0, 10 %\n2025/01/01 00:00:00.000, 1, 20 %\n"
                         "2025/01/01 00:00:10.000, 0, 30 %\n2025/01/01 00:00:20.000, 0, 40 %\n";
  auto s = MakeGpuSource("replay:" + path + "@10", 5000);  // 10 s of log per second
  ASSERT_TRUE(s);
  auto a = (*s)->Read(5000);
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ((*a)[0].gpus.size(), 2u);
  auto b = (*s)->Read(6500);
  ASSERT_EQ(b->size(), 1u);
  const TimeMs t0 = 1735689600000;  // 2025-01-01: snapshots carry the recorded times
  EXPECT_EQ((*b)[0].t, t0 + 10000);
  EXPECT_EQ((*b)[0].gpus[0].util_pct, 30);
  EXPECT_TRUE((*s)->Read(6900)->empty());
  EXPECT_EQ((*(*s)->Read(9000))[0].t, t0 + 20000);
  // The policy's clock is the recording's: 1.5 s of wall time is 15 s of log.
  EXPECT_EQ((*s)->ClockAt(5000), t0);
  EXPECT_EQ((*s)->ClockAt(6500), t0 + 15000);
}

}  // namespace
}  // namespace gpuledger
