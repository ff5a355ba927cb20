#include "core/text_safety.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TEST(TextSafety, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(ValidUtf8("plain ascii"), "plain ascii");
  EXPECT_EQ(ValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(ValidUtf8("cut \xE2\x82"),
            "cut \xEF\xBF\xBD\xEF\xBF\xBD");                     // a sequence cut at the end
  EXPECT_EQ(ValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(ValidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  EXPECT_EQ(ValidUtf8("\xF4\x90\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(ValidUtf8("\xFF"), "\xEF\xBF\xBD");
}

TEST(TextSafety, LogTextCannotStartALine) {
  EXPECT_EQ(EscapeForLog("a\nkill: pg:1"), "a\\nkill: pg:1");
  EXPECT_EQ(EscapeForLog("tab\there\r\x1b[31m"), "tab\\there\\r\\x1b[31m");
  EXPECT_EQ(EscapeForLog("back\\slash"), "back\\\\slash");
  EXPECT_EQ(EscapeForLog("c1 \xC2\x85 next line"), "c1 \\x85 next line");
  EXPECT_EQ(EscapeForLog("del\x7f"), "del\\x7f");
  EXPECT_EQ(EscapeForLog("bad \xFF"), "bad \xEF\xBF\xBD");
}

TEST(TextSafety, TruncationNeverCutsACharacter) {
  const std::string euro = "ab\xE2\x82\xAC";  // 2 + 3 bytes
  EXPECT_EQ(TruncateUtf8(euro, 5), euro);
  EXPECT_EQ(TruncateUtf8(euro, 4), "ab");
  EXPECT_EQ(TruncateUtf8(euro, 3), "ab");
  EXPECT_EQ(TruncateUtf8(euro, 2), "ab");
  EXPECT_EQ(TruncateUtf8(euro, 1), "a");
}

}  // namespace
}  // namespace gpuledger
