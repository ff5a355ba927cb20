// Signed keep links and Slack keep buttons: what is signed is what is read back, and a link
// changed in any way, signed with another key or past its time is refused.
#include "notify/keep_link.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

constexpr std::string_view kSecret = "a-link-secret-of-32-bytes-000000";

KeepLink ALink() { return {{"node-a", "pg:4242", "asha", 2 * kMsPerHour}, 1'000'000, "00ff"}; }

TEST(KeepLink, ReadsBackWhatWasSigned) {
  auto token = SignKeepLink(ALink(), kSecret);
  ASSERT_TRUE(token);
  EXPECT_EQ(
      token->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
      std::string::npos);  // goes in a URL as it is
  auto link = VerifyKeepLink(*token, kSecret, 999'999);
  ASSERT_TRUE(link) << link.error().message;
  EXPECT_EQ(link->ask.host, "node-a");
  EXPECT_EQ(link->ask.workload, "pg:4242");
  EXPECT_EQ(link->ask.owner, "asha");
  EXPECT_EQ(link->ask.duration_ms, 2 * kMsPerHour);
  EXPECT_EQ(link->expires, 1'000'000);
  EXPECT_EQ(link->nonce, "00ff");
}

TEST(KeepLink, RefusesAnotherKeyAChangedByteAndTheEnd) {
  const std::string token = *SignKeepLink(ALink(), kSecret);
  EXPECT_FALSE(VerifyKeepLink(token, "another-secret-of-32-bytes-00000", 0));
  for (size_t i = 0; i < token.size(); ++i) {  // every byte matters
    std::string changed = token;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(VerifyKeepLink(changed, kSecret, 0)) << "byte " << i;
  }
  auto late = VerifyKeepLink(token, kSecret, 1'000'000);
  ASSERT_FALSE(late);
  EXPECT_NE(late.error().message.find("expired"), std::string::npos);
  EXPECT_FALSE(VerifyKeepLink("", kSecret, 0));
  EXPECT_FALSE(VerifyKeepLink(".", kSecret, 0));
}

TEST(KeepLink, AFieldCannotSmuggleAnotherField) {
  KeepLink link = ALink();
  link.ask.owner = "asha\n99999999";  // would shift the duration into place
  EXPECT_FALSE(SignKeepLink(link, kSecret));
}

TEST(KeepButton, ValueRoundTripsAndOnlyAWholeOneIsRead) {
  const KeepAsk ask{"node-a", "pod:1f2e", "asha", 8 * kMsPerHour};
  auto back = ParseKeepButtonValue(KeepButtonValue(ask));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->host, ask.host);
  EXPECT_EQ(back->workload, ask.workload);
  EXPECT_EQ(back->owner, ask.owner);
  EXPECT_EQ(back->duration_ms, ask.duration_ms);
  EXPECT_FALSE(ParseKeepButtonValue(R"({"host":"a","workload":"b","owner":"c"})"));
  EXPECT_FALSE(ParseKeepButtonValue(R"({"host":"a","workload":"b","owner":"c","duration_ms":0})"));
  EXPECT_FALSE(ParseKeepButtonValue("keep"));
}

}  // namespace
}  // namespace gpuledger
