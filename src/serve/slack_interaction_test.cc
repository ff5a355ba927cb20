// Slack's request signatures (its documented example) and the click payload.
#include "serve/slack_interaction.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

// api.slack.com/authentication/verifying-requests-from-slack, "Validating a request".
constexpr std::string_view kSecret = "8f742231b10e8888abcd99yyyzzz85a5";
constexpr std::string_view kTimestamp = "1531420618";
constexpr std::string_view kBody =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
    "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
    "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"
    "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
    "803a0bc887a14d10d2c447fce8b6703c";
constexpr std::string_view kSignature =
    "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
constexpr TimeMs kThen = 1531420618LL * 1000;

TEST(SlackSignature, SlacksOwnExampleVerifies) {
  EXPECT_EQ(SlackSignature(kSecret, kTimestamp, kBody), kSignature);
  EXPECT_TRUE(VerifySlackSignature(kSecret, kTimestamp, kSignature, kBody, kThen + 60'000));
}

TEST(SlackSignature, RefusesAChangedBodyAnotherSecretAndAStaleOrMissingTimestamp) {
  std::string body(kBody);
  body.back() = 'd';
  EXPECT_FALSE(VerifySlackSignature(kSecret, kTimestamp, kSignature, body, kThen));
  EXPECT_FALSE(VerifySlackSignature("another", kTimestamp, kSignature, kBody, kThen));
  EXPECT_FALSE(VerifySlackSignature(kSecret, kTimestamp, kSignature, kBody, kThen + 301'000));
  EXPECT_FALSE(VerifySlackSignature(kSecret, kTimestamp, kSignature, kBody, kThen - 301'000));
  EXPECT_TRUE(VerifySlackSignature(kSecret, kTimestamp, kSignature, kBody, kThen + 299'000));
  EXPECT_FALSE(VerifySlackSignature(kSecret, "", kSignature, kBody, kThen));
  EXPECT_FALSE(VerifySlackSignature(kSecret, "1531420618x", kSignature, kBody, kThen));
  EXPECT_FALSE(VerifySlackSignature(kSecret, kTimestamp, "", kBody, kThen));
}

TEST(SlackClick, ReadsTheClickAndDropsOnlyTheKeepButtonsFromTheMessage) {
  auto click = ParseSlackClick(R"({"type":"block_actions","user":{"id":"U1","username":"asha"},
    "actions":[{"action_id":"keep_0","value":"{\"host\":\"a\"}"}],
    "response_url":"https://hooks.slack.com/actions/T/1/x",
    "message":{"blocks":[{"type":"header","text":{"type":"plain_text","text":"h"}},
                         {"type":"actions","block_id":"gpuledger_keep","elements":[]},
                         {"type":"actions","block_id":"theirs","elements":[]}]}})");
  ASSERT_TRUE(click) << click.error().message;
  EXPECT_EQ(click->user_id, "U1");
  EXPECT_EQ(click->user_name, "asha");
  EXPECT_EQ(click->action_id, "keep_0");
  EXPECT_EQ(click->value, R"({"host":"a"})");
  EXPECT_EQ(click->response_url, "https://hooks.slack.com/actions/T/1/x");
  EXPECT_EQ(click->blocks_without_buttons,
            R"([{"type":"header","text":{"type":"plain_text","text":"h"}},)"
            R"({"type":"actions","block_id":"theirs","elements":[]}])");
}

TEST(SlackClick, OnlyABlockActionsPayloadWithOneActionAndAUser) {
  EXPECT_FALSE(ParseSlackClick(R"({"type":"view_submission","user":{"id":"U1"}})"));
  EXPECT_FALSE(
      ParseSlackClick(R"({"type":"block_actions","actions":[{"action_id":"a","value":"v"}]})"));
  EXPECT_FALSE(ParseSlackClick(R"({"type":"block_actions","user":{"id":"U1"},"actions":[]})"));
  EXPECT_FALSE(ParseSlackClick("payload"));
}

}  // namespace
}  // namespace gpuledger
