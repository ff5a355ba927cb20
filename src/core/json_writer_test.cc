#include "core/json_writer.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TEST(JsonQuote, InvalidUtf8BecomesTheReplacementCharacter) {
  EXPECT_EQ(JsonQuote("a\xff"
                      "b"),
            "\"a\\uFFFDb\"");
  EXPECT_EQ(JsonQuote("\xc3"), "\"\\uFFFD\"");                        // truncated sequence
  EXPECT_EQ(JsonQuote("\xc0\xaf"), "\"\\uFFFD\\uFFFD\"");             // overlong '/'
  EXPECT_EQ(JsonQuote("\xed\xa0\x80"), "\"\\uFFFD\\uFFFD\\uFFFD\"");  // a surrogate
  EXPECT_EQ(JsonQuote("\xf4\x90\x80\x80"), "\"\\uFFFD\\uFFFD\\uFFFD\\uFFFD\"");  // > U+10FFFF
}

TEST(JsonQuote, ValidUtf8AndControlsAreKept) {
  EXPECT_EQ(JsonQuote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80\"");
  EXPECT_EQ(JsonQuote("\"\\\n\x01"), "\"\\\"\\\\\\n\\u0001\"");
}

}  // namespace
}  // namespace gpuledger
