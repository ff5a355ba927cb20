#include "model/gpu_instance_types.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TEST(GpuInstanceTypes, UnknownAndCpuTypesAreNotGpuMachines) {
  EXPECT_FALSE(FindGpuInstanceType(""));
  EXPECT_FALSE(FindGpuInstanceType("m5.4xlarge"));
  EXPECT_FALSE(FindGpuInstanceType("n2-standard-8"));
  EXPECT_FALSE(FindGpuInstanceTypeIn("$0.768 per On Demand Linux m5.4xlarge Instance Hour"));
}

TEST(GpuInstanceTypes, EachCloudsNamesAreFound) {
  auto g5 = FindGpuInstanceType("g5.4xlarge");
  ASSERT_TRUE(g5);
  EXPECT_EQ(g5->gpu_count, 1);
  EXPECT_EQ(g5->gpu_model, "A10G");
  EXPECT_EQ(FindGpuInstanceType("p4d.24xlarge")->gpu_count, 8);
  EXPECT_EQ(FindGpuInstanceType("a2-megagpu-16g")->gpu_count, 16);
  EXPECT_EQ(FindGpuInstanceType("Standard_ND96asr_v4")->gpu_count, 8);
  EXPECT_EQ(FindGpuInstanceType("standard_nc24ads_a100_v4")->provider, "azure");
  EXPECT_EQ(FindGpuInstanceType("NC24ads A100 v4")->gpu_model, "A100 80GB");
}

TEST(GpuInstanceTypes, FoundInChargeDescriptionsAndSkuDetails) {
  // The official FOCUS 1.0 sample's wording, and FOCUS 1.1's SkuPriceDetails JSON.
  auto t = FindGpuInstanceTypeIn("$1.624 per On Demand Linux g5.4xlarge Instance Hour");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->instance_type, "g5.4xlarge");
  EXPECT_EQ(FindGpuInstanceTypeIn(R"({"InstanceType":"p5.48xlarge","OperatingSystem":"Linux"})")
                ->gpu_model,
            "H100");
  EXPECT_EQ(FindGpuInstanceTypeIn("Virtual Machines NCads A100 v4 Series - NC24ads A100 v4 - "
                                  "US East")
                ->instance_type,
            "Standard_NC24ads_A100_v4");
}

}  // namespace
}  // namespace gpuledger
