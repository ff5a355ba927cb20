#include "sources/focus_billing.h"

#include <gtest/gtest.h>

#include "audit/audit_runner.h"
#include "core/line_reader.h"
#include "sources/load_fleet.h"

namespace gpuledger {
namespace {

TEST(FocusBilling, HeaderMustNameTheColumns) {
  Fleet fleet;
  SourceStats stats;
  auto r = ReadFocusBilling("ChargePeriodStart,ResourceId\n", "f.csv", 0, TimeZone::Utc(), {}, {},
                            {}, &fleet, &stats);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("EffectiveCost"), std::string::npos);
}

TEST(FocusBilling, OverlapsAndUnknownGpuCountsAreRejected) {
  Fleet fleet;
  SourceStats stats;
  ASSERT_TRUE(ReadFocusBilling(
      "ChargePeriodStart,ChargePeriodEnd,ResourceId,EffectiveCost\n"
      "2025-01-01 00:00:00,2025-01-01 02:00:00,g1,4\n"
      "2025-01-01 01:00:00,2025-01-01 03:00:00,g1,4\n"   // overlaps, not equal
      "2025-01-01 00:00:00,2025-01-01 01:00:00,g2,4\n"   // GPU machine, no GPU count
      "2025-01-01 02:00:00,2025-01-01 01:00:00,g1,4\n",  // ends before it starts
      "f.csv", 0, TimeZone::Utc(), {}, {"g1", "g2"}, {}, &fleet, &stats));
  EXPECT_EQ(stats.rejected.entries().at("no_gpu_count").count, 3u);  // g1 has no count either
  FocusOptions o;
  o.gpus_per_machine = 4;
  Fleet f2;
  SourceStats s2;
  ASSERT_TRUE(
      ReadFocusBilling("ChargePeriodStart,ChargePeriodEnd,ResourceId,EffectiveCost\n"
                       "2025-01-01 00:00:00,2025-01-01 02:00:00,g1,4\n"
                       "2025-01-01 01:00:00,2025-01-01 03:00:00,g1,4\n"
                       "2025-01-01 02:00:00,2025-01-01 01:00:00,g1,4\n",
                       "f.csv", 0, TimeZone::Utc(), o, {"g1"}, {}, &f2, &s2));
  EXPECT_EQ(s2.rejected.entries().at("overlapping_charge").count, 1u);
  EXPECT_EQ(s2.rejected.entries().at("overlapping_charge").Where(), "f.csv:3");
  EXPECT_EQ(s2.rejected.entries().at("end_before_start").count, 1u);
  ASSERT_EQ(f2.machines.size(), 1u);
  EXPECT_EQ(f2.machines[0].gpu_count, 4);
  EXPECT_DOUBLE_EQ(f2.machines[0].billing[0].hourly_usd, 2);
}

TEST(FocusBilling, GpuCountsComeFromTelemetryWhenNothingElseGivesThem) {
  Fleet fleet;
  SourceStats stats;
  int asked = 0;
  auto telemetry_gpus = [&](const std::string& machine) {
    ++asked;
    return machine == "g1" ? 8 : 0;  // g1's telemetry names GPU 7; g2's names none
  };
  ASSERT_TRUE(ReadFocusBilling(
      "ChargePeriodStart,ChargePeriodEnd,ResourceId,EffectiveCost\n"
      "2025-01-01 00:00:00,2025-01-01 02:00:00,g1,16\n"
      "2025-01-01 02:00:00,2025-01-01 04:00:00,g1,16\n"
      "2025-01-01 00:00:00,2025-01-01 01:00:00,g2,4\n",
      "f.csv", 0, TimeZone::Utc(), {}, {"g1", "g2"}, telemetry_gpus, &fleet, &stats));
  EXPECT_EQ(asked, 2);  // once per machine, not per row
  ASSERT_EQ(fleet.machines.size(), 1u);
  EXPECT_EQ(fleet.machines[0].gpu_count, 8);
  EXPECT_EQ(stats.notes.entries().at("gpu_count_from_telemetry").Where(), "f.csv:2");
  EXPECT_EQ(stats.rejected.entries().at("no_gpu_count").Where(), "f.csv:4");
}

AuditResult AuditWithBill(const std::string& cost_column) {
  const std::string dir = std::string(GPULEDGER_SOURCE_DIR) + "/tests/data/audit/small/";
  const TimeZone utc = TimeZone::Utc();
  FleetPaths paths;
  paths.telemetry = {dir + "telemetry"};
  paths.inventory = dir + "inventory.csv";
  paths.billing = dir + "focus.csv";
  paths.focus.cost_column = cost_column;
  paths.jobs = dir + "jobs.csv";
  auto loaded = LoadFleet(paths, std::nullopt, &utc);
  EXPECT_TRUE(loaded) << loaded.error().ToString();
  const AuditInputs in = InputsOf(*loaded);
  return *RunAudit(in, AuditOptions{});
}

TEST(FocusBilling, TheBillPricesTheSmallFleetLikeItsInventory) {
  // focus.csv bills node-a $7.20 for the hour over two rows and node-b $0.90 over two half hours:
  // the inventory's prices, so the partition is the inventory audit's (tests/data/audit/small).
  const AuditResult r = AuditWithBill("EffectiveCost");
  EXPECT_NEAR(r.totals.Total().usd, 8.10, 1e-9);
  EXPECT_NEAR(r.totals.categories[static_cast<int>(Category::kNeverUsed)].usd, 0.90, 1e-9);
  EXPECT_NEAR(r.totals.categories[static_cast<int>(Category::kIdleOutsideJobs)].usd, 4.50, 1e-9);
  EXPECT_NEAR(r.owners.at("erin").usd, 0.90, 1e-9);  // from the bill's owner tag
  EXPECT_NEAR(r.other_charges_usd.at("Storage/Usage"), 1.50, 1e-9);
  EXPECT_NEAR(r.other_charges_usd.at("(no service)/Tax"), 0.70, 1e-9);
  EXPECT_NEAR(r.other_charges_usd.at("Compute/Credit"), -2.00, 1e-9);
  EXPECT_NEAR(r.other_charges_usd.at("Compute/Usage (no GPU machine)"), 3.00, 1e-9);
  EXPECT_EQ(r.inventory.rejected.entries().at("bad_time").count, 1u);
  EXPECT_EQ(r.inventory.rejected.entries().at("bad_cost").count, 1u);
  // BilledCost instead: node-a 9.99 + 9.99 + 1.00 (the row whose EffectiveCost is "abc" has a
  // valid BilledCost) for the hour, node-b 1.00 + 1.00.
  const AuditResult billed = AuditWithBill("BilledCost");
  EXPECT_NEAR(billed.totals.Total().usd, 20.98 + 2.00, 1e-9);
  EXPECT_EQ(billed.inventory.rejected.entries().count("bad_cost"), 0u);
}

TEST(FocusBilling, ABillAloneFindsGpuMachinesByInstanceType) {
  // tests/data/focus/README.md works this bill out by hand.
  const TimeZone utc = TimeZone::Utc();
  FleetPaths paths;
  paths.billing = std::string(GPULEDGER_SOURCE_DIR) + "/tests/data/focus/focus-1.0-aws-gpu.csv";
  auto loaded = LoadFleet(paths, std::nullopt, &utc);
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  auto r = RunAudit(InputsOf(*loaded), AuditOptions{});
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->machines.size(), 1u);
  EXPECT_EQ(r->machines[0].name, "i-0a1b2c3d4e5f60718");
  EXPECT_EQ(r->machines[0].gpu_count, 1);
  EXPECT_EQ(r->machines[0].gpu_model, "A10G");
  EXPECT_EQ(r->machines[0].team, "vision");
  EXPECT_NEAR(r->totals.Total().usd, 4.872, 1e-9);
  EXPECT_NEAR(r->totals.categories[static_cast<int>(Category::kUnmonitored)].usd, 4.872, 1e-9);
  EXPECT_NEAR(r->owners.at("asha").usd, 4.872, 1e-9);
  EXPECT_NEAR(r->other_charges_usd.at("Compute/Usage (no GPU machine)"), 1.536, 1e-9);
  EXPECT_NEAR(r->other_charges_usd.at("Compute/Credit"), -1.00, 1e-9);
  EXPECT_EQ(r->inventory.notes.entries().at("gpu_count_from_instance_type").count, 1u);
}

TEST(FocusBilling, InstanceTypeColumnsAndSkuDetailsNameGpuMachines) {
  Fleet fleet;
  SourceStats stats;
  ASSERT_TRUE(ReadFocusBilling(
      "ChargePeriodStart,ChargePeriodEnd,ResourceId,EffectiveCost,x_InstanceType,SkuPriceDetails\n"
      "2025-01-01 00:00:00,2025-01-01 01:00:00,a,98.32,p4d.24xlarge,NULL\n"
      "2025-01-01 00:00:00,2025-01-01 01:00:00,b,3.67,NULL,\"{\"\"InstanceType\"\": "
      "\"\"a2-highgpu-1g\"\"}\"\n"
      "2025-01-01 00:00:00,2025-01-01 01:00:00,c,0.1,t3.micro,NULL\n",
      "f.csv", 0, TimeZone::Utc(), {}, {}, {}, &fleet, &stats));
  ASSERT_EQ(fleet.machines.size(), 2u);
  EXPECT_EQ(fleet.machines[fleet.Find("a")].gpu_count, 8);
  EXPECT_EQ(fleet.machines[fleet.Find("b")].gpu_count, 1);
  EXPECT_NEAR(fleet.other_charges_usd.at("(no service)/(no charge category) (no GPU machine)"), 0.1,
              1e-9);
}

TEST(FocusBilling, ABillAndTelemetryOfOtherTimesAreSaidNotToOverlap) {
  const TimeZone utc = TimeZone::Utc();
  const std::string dir = std::string(GPULEDGER_SOURCE_DIR) + "/tests/data/audit/small/";
  FleetPaths paths;
  paths.telemetry = {dir + "telemetry/node-c.csv"};  // 2025-03-01
  paths.machine = "i-0a1b2c3d4e5f60718";             // the bill's g5.4xlarge, billed 2024-09-02
  paths.billing = std::string(GPULEDGER_SOURCE_DIR) + "/tests/data/focus/focus-1.0-aws-gpu.csv";
  auto loaded = LoadFleet(paths, std::nullopt, &utc);
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  auto r = RunAudit(InputsOf(*loaded), AuditOptions{});
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_TRUE(r->telemetry.notes.entries().contains("no_overlap"));
  EXPECT_NE(r->telemetry.notes.entries().at("no_overlap").detail.find("2024-09-02T00:00:00.000Z"),
            std::string::npos);
}

}  // namespace
}  // namespace gpuledger
