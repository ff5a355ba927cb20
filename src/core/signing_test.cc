// HMAC-SHA256, SHA-256 and URL-safe base64 against their published test vectors.
#include "core/signing.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TEST(Signing, HmacSha256MatchesRfc4231) {
  // RFC 4231 test case 2: key "Jefe".
  EXPECT_EQ(HexOf(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 1: twenty 0x0b bytes, "Hi There".
  EXPECT_EQ(HexOf(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(Signing, Sha256MatchesFips180) {
  EXPECT_EQ(HexOf(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Signing, Base64UrlMatchesRfc4648AndRefusesWhatItNeverWrites) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
  for (const auto& [bytes, text] : vectors) {
    EXPECT_EQ(Base64UrlEncode(bytes), text);
    auto back = Base64UrlDecode(text);
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(*back, bytes);
  }
  EXPECT_FALSE(Base64UrlDecode("Zm9v+"));  // the standard alphabet's + is not URL-safe
  EXPECT_FALSE(Base64UrlDecode("Zm9vY"));  // a lone sextet is no byte
  EXPECT_FALSE(Base64UrlDecode("Zh"));     // "f" is Zg: trailing bits must be zero
  EXPECT_FALSE(Base64UrlDecode("Zg=="));   // no padding
}

TEST(Signing, SameBytesComparesWholeStrings) {
  EXPECT_TRUE(SameBytes("abc", "abc"));
  EXPECT_FALSE(SameBytes("abc", "abd"));
  EXPECT_FALSE(SameBytes("abc", "ab"));
  EXPECT_NE(RandomHex(16), RandomHex(16));
  EXPECT_EQ(RandomHex(16).size(), 32u);
}

}  // namespace
}  // namespace gpuledger
