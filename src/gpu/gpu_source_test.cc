#include "gpu/gpu_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
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

namespace gpuledger {
namespace {

// Writes a fake NVML state file and points the fake at it; returns its path.
std::string FakeState(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(text.c_str(), f);
  std::fclose(f);
  setenv("FAKE_NVML_STATE", path.c_str(), 1);
  return path;
}

TEST(NvmlSource, ListsComputeProcessesPastABufferTooSmallWithPerProcessUtilisation) {
  setenv("GPULEDGER_NVML_LIBRARY", GPULEDGER_FAKE_NVML, 1);
  std::string state = "gpu 0 util 70 mem 30000\ngpu 1 util 0 mem 100\n";
  for (int pid = 1000; pid < 1020; ++pid)  // 20 processes: more than the first buffer holds
    state += "proc 0 " + std::to_string(pid) + " 512 util " + std::to_string(pid == 1000 ? 60 : 0) +
             "\n";
  state += "proc 1 2000 100\n";
  FakeState("nvml_many.state", state);
  auto s = MakeGpuSource("nvml", 0);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_NE((*s)->Describe().find("nvmlDeviceGetComputeRunningProcesses_v3"), std::string::npos)
      << (*s)->Describe();
  auto snaps = (*s)->Read(5000);
  ASSERT_TRUE(snaps);
  const GpuSnapshot& snap = (*snaps)[0];
  EXPECT_TRUE(snap.processes_listed);
  EXPECT_TRUE(snap.unlisted_gpus.empty());
  ASSERT_EQ(snap.gpus.size(), 2u);
  EXPECT_DOUBLE_EQ(*snap.gpus[0].memory_used_mib, 30000);
  ASSERT_EQ(snap.processes.size(), 21u);
  EXPECT_EQ(snap.processes[0].pid, 1000);
  EXPECT_DOUBLE_EQ(*snap.processes[0].memory_mib, 512);
  EXPECT_DOUBLE_EQ(*snap.processes[0].util_pct, 60);
  EXPECT_DOUBLE_EQ(*snap.processes[5].util_pct, 0);
  EXPECT_EQ(snap.processes[20].gpu, 1);
  // GPU 1 has a process with no sample: per-process figures are kept, so it counts as 0 %.
  EXPECT_DOUBLE_EQ(*snap.processes[20].util_pct, 0);
}

TEST(NvmlSource, ALostGpuIsUnreadAndNamedTheOthersStillRead) {
  setenv("GPULEDGER_NVML_LIBRARY", GPULEDGER_FAKE_NVML, 1);
  FakeState("nvml_lost.state", "gpu 0 util 10\ngpu 1 util 0 lost\nproc 0 77 100\n");
  auto s = MakeGpuSource("nvml", 0);
  ASSERT_TRUE(s);
  auto snaps = (*s)->Read(1);
  ASSERT_TRUE(snaps);
  const GpuSnapshot& snap = (*snaps)[0];
  ASSERT_EQ(snap.gpus.size(), 1u);
  EXPECT_EQ(snap.gpus[0].index, 0);
  EXPECT_EQ(snap.unread_gpus, std::vector<int>{1});
  ASSERT_EQ(snap.errors.size(), 1u);
  EXPECT_NE(snap.errors[0].find("GPU is lost (NVML error 15)"), std::string::npos)
      << snap.errors[0];
  EXPECT_EQ(snap.processes.size(), 1u);
}

TEST(NvmlSource, AnOldDriverFallsBackToTheUnversionedListing) {
  setenv("GPULEDGER_NVML_LIBRARY", GPULEDGER_FAKE_NVML_OLD, 1);
  FakeState("nvml_old.state", "gpu 0 util 10\nproc 0 77 100\nproc 0 78 200\n");
  auto s = MakeGpuSource("nvml", 0);
  ASSERT_TRUE(s);
  EXPECT_NE((*s)->Describe().find("processes: nvmlDeviceGetComputeRunningProcesses"),
            std::string::npos);
  EXPECT_EQ((*s)->Describe().find("per-process utilisation"), std::string::npos);
  auto snaps = (*s)->Read(1);
  ASSERT_TRUE(snaps);
  const GpuSnapshot& snap = (*snaps)[0];
  ASSERT_EQ(snap.processes.size(), 2u);  // the 16-byte v1 layout read right
  EXPECT_EQ(snap.processes[1].pid, 78);
  EXPECT_DOUBLE_EQ(*snap.processes[1].memory_mib, 200);
  EXPECT_FALSE(snap.processes[1].util_pct);  // no per-process figures on this driver
  unsetenv("FAKE_NVML_STATE");
}

TEST(NvidiaSmiSource, ComputeAppLines) {
  ComputeAppLine app;
  ASSERT_TRUE(ParseComputeAppLine("4242, GPU-5fb4c3a2-1d2e-3f4a-5b6c-7d8e9f0a1b2c, 30123\n", &app));
  EXPECT_EQ(app.pid, 4242);
  EXPECT_EQ(app.gpu_uuid, "GPU-5fb4c3a2-1d2e-3f4a-5b6c-7d8e9f0a1b2c");
  EXPECT_DOUBLE_EQ(*app.memory_mib, 30123);
  ASSERT_TRUE(ParseComputeAppLine("17, GPU-a, [N/A]", &app));
  EXPECT_FALSE(app.memory_mib);
  EXPECT_FALSE(ParseComputeAppLine("x, GPU-a, 1", &app));
  EXPECT_FALSE(ParseComputeAppLine("17, GPU-a", &app));
  GpuReading r;
  std::string uuid;
  ASSERT_TRUE(ParseGpuQueryLine("1, 55, 1000, GPU-b\n", &r, &uuid));
  EXPECT_EQ(uuid, "GPU-b");
  EXPECT_EQ(r.index, 1);
}

}  // namespace
}  // namespace gpuledger

namespace gpuledger {
namespace {

// A stand-in nvidia-smi on PATH answering the two queries the source makes.
TEST(NvidiaSmiSource, ReadsGpusAndTheirComputeAppsByUuid) {
  const std::string dir = ::testing::TempDir() + "/fake-smi-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  {
    std::ofstream script(dir + "/nvidia-smi");
    script
        << "#!/bin/sh\n"
           "case \"$1\" in\n"
           "  --query-gpu=*) printf '0, 3, 20000, GPU-aaaa\\n1, 97, 70000, GPU-bbbb\\n' ;;\n"
           "  --query-compute-apps=*) printf '4242, GPU-bbbb, 69000\\n77, GPU-aaaa, [N/A]\\n' ;;\n"
           "  *) exit 9 ;;\n"
           "esac\n";
  }
  std::filesystem::permissions(dir + "/nvidia-smi", std::filesystem::perms::owner_all);
  const std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  setenv("PATH", (dir + ":" + old_path).c_str(), 1);
  auto s = MakeGpuSource("nvidia-smi", 0);
  ASSERT_TRUE(s) << s.error().ToString();
  auto snaps = (*s)->Read(10);
  setenv("PATH", old_path.c_str(), 1);
  ASSERT_TRUE(snaps);
  const GpuSnapshot& snap = (*snaps)[0];
  EXPECT_TRUE(snap.processes_listed);
  ASSERT_EQ(snap.gpus.size(), 2u);
  EXPECT_DOUBLE_EQ(snap.gpus[1].util_pct, 97);
  ASSERT_EQ(snap.processes.size(), 2u);
  EXPECT_EQ(snap.processes[0].pid, 4242);
  EXPECT_EQ(snap.processes[0].gpu, 1);  // GPU-bbbb is index 1
  EXPECT_DOUBLE_EQ(*snap.processes[0].memory_mib, 69000);
  EXPECT_EQ(snap.processes[1].gpu, 0);
  EXPECT_FALSE(snap.processes[1].memory_mib);
  EXPECT_FALSE(snap.processes[1].util_pct);  // nvidia-smi gives no per-process utilisation
}

}  // namespace
}  // namespace gpuledger
