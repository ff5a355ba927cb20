#include "core/memory_size.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TEST(MemorySize, MalformedSizesAreRefused) {
  EXPECT_FALSE(ParseMemorySize(""));
  EXPECT_FALSE(ParseMemorySize("lots"));
  EXPECT_FALSE(ParseMemorySize("-1GiB"));
  EXPECT_FALSE(ParseMemorySize("1 TiB"));
  EXPECT_FALSE(MibPerUnit("percent"));
}

TEST(MemorySize, UnitsAreBinaryAndBareNumbersAreBytes) {
  EXPECT_DOUBLE_EQ(*ParseMemorySize("1GiB"), 1024);
  EXPECT_DOUBLE_EQ(*ParseMemorySize("512 MiB"), 512);
  EXPECT_DOUBLE_EQ(*ParseMemorySize("1.5gib"), 1536);
  EXPECT_DOUBLE_EQ(*ParseMemorySize("1073741824"), 1024);
  EXPECT_DOUBLE_EQ(*ParseMemorySize("2048KiB"), 2);
  EXPECT_DOUBLE_EQ(*MibPerUnit("bytes"), 1.0 / (1024 * 1024));
}

}  // namespace
}  // namespace gpuledger
