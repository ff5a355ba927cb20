#include "demo/demo_fleet.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "audit/audit_runner.h"
#include "sources/load_fleet.h"
#include "temp_dir.h"

namespace gpuledger {
namespace {

AuditResult AuditInMemory(const DemoFleet& demo) {
  const auto telemetry = DemoTelemetry(demo);
  AuditInputs in;
  in.fleet = &demo.fleet;
  in.telemetry = &telemetry;
  auto r = RunAudit(in, AuditOptions{});
  EXPECT_TRUE(r);
  return *r;
}

TEST(DemoFleet, RefusesImpossibleShapes) {
  DemoOptions o;
  o.never_used = o.machines + 1;
  EXPECT_FALSE(MakeDemoFleet(o));
  o = DemoOptions{};
  o.days = 0;
  EXPECT_FALSE(MakeDemoFleet(o));
}

TEST(DemoFleet, SameSeedSameFleetOtherSeedOtherFleet) {
  DemoOptions o;
  o.machines = 20, o.never_used = 8, o.days = 30;
  auto a = AuditInMemory(*MakeDemoFleet(o));
  auto b = AuditInMemory(*MakeDemoFleet(o));
  EXPECT_EQ(a.totals.Total().usd, b.totals.Total().usd);
  o.seed = 7;
  auto c = AuditInMemory(*MakeDemoFleet(o));
  EXPECT_NE(a.totals.Total().usd, c.totals.Total().usd);
}

TEST(DemoFleet, HasTheTalksShape) {
  auto demo = MakeDemoFleet(DemoOptions{});
  ASSERT_TRUE(demo);
  auto r = AuditInMemory(*demo);
  EXPECT_EQ(r.machines.size(), 510u);
  EXPECT_EQ(r.MachinesNeverUsed(), 293);
  const double share = r.totals.below_threshold.usd / r.totals.Total().usd;
  EXPECT_GT(share, 0.35);
  EXPECT_LT(share, 0.43);
  EXPECT_GT(r.totals.categories[static_cast<int>(Category::kFailedJob)].usd, 0);
  EXPECT_GT(r.totals.categories[static_cast<int>(Category::kIdleOutsideJobs)].usd, 0);
  EXPECT_TRUE(r.telemetry.rejected.empty());
}

TEST(DemoFleet, WrittenFilesAuditToTheSameFigures) {
  DemoOptions o;
  o.machines = 24, o.never_used = 10, o.days = 20;
  auto demo = MakeDemoFleet(o);
  ASSERT_TRUE(demo);
  const testing::TempDir tmp("demo_roundtrip");
  const auto dir = tmp.path();
  ASSERT_TRUE(WriteDemoFleet(*demo, dir.string()));

  const TimeZone utc = TimeZone::Utc();
  FleetPaths paths;
  paths.telemetry = {(dir / "telemetry").string()};
  paths.inventory = (dir / "inventory.csv").string();
  paths.jobs = (dir / "jobs.csv").string();
  auto loaded = LoadFleet(paths, std::nullopt, &utc);
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  const AuditInputs in = InputsOf(*loaded);
  auto from_files = RunAudit(in, AuditOptions{});
  ASSERT_TRUE(from_files);
  auto in_memory = AuditInMemory(*demo);

  EXPECT_TRUE(from_files->telemetry.rejected.empty());
  EXPECT_TRUE(from_files->inventory.rejected.empty());
  EXPECT_TRUE(from_files->jobs.rejected.empty());
  EXPECT_EQ(from_files->telemetry.rows_accepted, in_memory.telemetry.rows_accepted);
  ASSERT_EQ(from_files->machines.size(), in_memory.machines.size());
  // Totals are summed in a canonical order: equal to the last bit, whatever the input order.
  for (int c = 0; c < kCategoryCount; ++c) {
    EXPECT_EQ(from_files->totals.categories[c].usd, in_memory.totals.categories[c].usd);
    EXPECT_EQ(from_files->totals.categories[c].gpu_ms, in_memory.totals.categories[c].gpu_ms);
  }
  EXPECT_EQ(from_files->totals.below_threshold.usd, in_memory.totals.below_threshold.usd);
  EXPECT_EQ(from_files->totals.no_commit.usd, in_memory.totals.no_commit.usd);
  EXPECT_EQ(from_files->totals.unattributed.usd, in_memory.totals.unattributed.usd);
  EXPECT_EQ(from_files->totals.in_jobs.usd, in_memory.totals.in_jobs.usd);
  for (size_t i = 0; i < in_memory.machines.size(); ++i) {
    EXPECT_EQ(from_files->machines[i].name, in_memory.machines[i].name);
    EXPECT_EQ(from_files->machines[i].never_used, in_memory.machines[i].never_used);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gpuledger
