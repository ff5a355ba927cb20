// Every real capture in ../shared/realdata/nvidia-smi parses without a rejected row.
#include <gtest/gtest.h>

#include <filesystem>

#include "audit/audit_runner.h"
#include "sources/load_fleet.h"

namespace gpuledger {
namespace {

namespace fs = std::filesystem;

TEST(RealData, EveryNvidiaSmiCaptureParsesCleanly) {
  const fs::path dir = fs::path(GPULEDGER_SOURCE_DIR) / ".." / "shared" / "realdata" / "nvidia-smi";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "no " << dir;
  const TimeZone utc = TimeZone::Utc();
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".csv") continue;
    ++files;
    FleetPaths paths;
    paths.telemetry = {entry.path().string()};
    auto loaded = LoadFleet(paths, 1.0, &utc);
    ASSERT_TRUE(loaded) << loaded.error().ToString();
    AuditOptions options;
    options.price_per_gpu_hour = 1.0;
    AuditInputs in;
    in.fleet = &loaded->fleet;
    in.telemetry = &loaded->telemetry;
    auto result = RunAudit(in, options);
    ASSERT_TRUE(result) << result.error().ToString();
    EXPECT_GT(result->telemetry.rows_read, 0u) << entry.path();
    EXPECT_EQ(result->telemetry.rows_read, result->telemetry.rows_accepted) << entry.path();
    EXPECT_TRUE(result->telemetry.rejected.empty()) << entry.path();
    EXPECT_GT(result->totals.Total().usd, 0) << entry.path();
    EXPECT_NEAR(result->totals.categories[static_cast<int>(Category::kUnmonitored)].usd, 0, 1e-9)
        << entry.path() << ": every poll gap in these captures is under 5 minutes";
  }
  EXPECT_GE(files, 2);
}

}  // namespace
}  // namespace gpuledger
