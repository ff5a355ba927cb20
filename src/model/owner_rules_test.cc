#include "model/owner_rules.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>

namespace gpuledger {
namespace {

OwnerRules::Lookup From(std::map<std::string, std::string> values) {
  return [values](const std::string& key) -> std::optional<std::string> {
    auto it = values.find(key);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(OwnerRules, MalformedRulesNameTheirPlace) {
  EXPECT_FALSE(OwnerRules::Parse("[[owner]\n", "o.toml"));
  auto unknown_key =
      OwnerRules::Parse("[[owner]]\nmatch = { host = \"x\" }\nteam = \"a\"\n", "o.toml");
  ASSERT_FALSE(unknown_key);
  EXPECT_EQ(unknown_key.error().where, "o.toml:2:18");
  EXPECT_FALSE(OwnerRules::Parse("[[owner]]\nmatch = { pod = \"(\" }\nteam = \"a\"\n", "o.toml"));
  EXPECT_FALSE(OwnerRules::Parse("[[owner]]\nteam = \"a\"\n", "o.toml"));
  EXPECT_FALSE(OwnerRules::Parse("[[owner]]\nmatch = { pod = \"a\" }\n", "o.toml"));
  EXPECT_FALSE(OwnerRules::Parse("[[owner]]\nmatch = { pod = \"a\" }\nowners = \"x\"\n", "o.toml"));
  EXPECT_FALSE(OwnerRules::Parse("owner = \"x\"\n", "o.toml"));
}

TEST(OwnerRules, NoValueOrPatternCanHangOrCrashIt) {
  // std::regex recursed once per character (a 100,000-character tag overflowed the stack) and
  // backtracked exponentially on (a+)+$ (23 s for a 30-character name): RE2 is linear.
  auto rules = OwnerRules::Parse(R"toml(
[[owner]]
match = { machine = "(a+)+$" }
owner = "nested"

[[owner]]
match = { "tag:business_unit" = "(.*)" }
team = "$1"
)toml",
                                 "o.toml");
  ASSERT_TRUE(rules) << rules.error().ToString();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(rules->Apply(From({{"machine", std::string(5000, 'a') + "!"}})));
  const std::string huge(100'000, 'x');
  auto tag = rules->Apply(From({{"tag:business_unit", huge}}));
  ASSERT_TRUE(tag);
  EXPECT_EQ(tag->team, huge);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  // Patterns RE2 cannot run in linear time are refused with their place.
  auto backref =
      OwnerRules::Parse("[[owner]]\nmatch = { pod = \"(a)\\\\1\" }\nteam = \"a\"\n", "o.toml");
  ASSERT_FALSE(backref);
  EXPECT_EQ(backref.error().where, "o.toml:2:17");
}

TEST(OwnerRules, FirstMatchingRuleWinsWithItsCaptureGroups) {
  auto rules = OwnerRules::Parse(R"toml(
[[owner]]
match = { "tag:business_unit" = "(.*)" }
team = "$1"

[[owner]]
match = { namespace = "team-(\\w+)", pod = "(\\w+)-.*" }
team = "$1"
owner = "$2"
project = "k8s-$1"

[[owner]]
match = { machine = "gpu-.*" }
owner = "platform"
)toml",
                                 "o.toml");
  ASSERT_TRUE(rules) << rules.error().ToString();
  EXPECT_EQ(rules->size(), 3u);
  auto bill = rules->Apply(From({{"machine", "gpu-1"}, {"tag:business_unit", "vision"}}));
  ASSERT_TRUE(bill);
  EXPECT_EQ(bill->team, "vision");
  EXPECT_EQ(bill->owner, "");
  auto pod = rules->Apply(From({{"namespace", "team-nlp"}, {"pod", "bert-7f9c"}}));
  ASSERT_TRUE(pod);
  EXPECT_EQ(pod->team, "nlp");
  EXPECT_EQ(pod->owner, "bert");
  EXPECT_EQ(pod->project, "k8s-nlp");
  // A regex matches the whole value: "xgpu-1" is not "gpu-.*".
  EXPECT_FALSE(rules->Apply(From({{"machine", "xgpu-1"}})));
  EXPECT_EQ(rules->Apply(From({{"machine", "gpu-1"}}))->owner, "platform");
}

// Capture groups are numbered in the order the keys are written, not alphabetically (toml++
// hands keys sorted: "tag:application" came before "tag:environment" and took $1).
TEST(OwnerRules, CaptureGroupsFollowTheOrderTheKeysAreWritten) {
  auto rules = OwnerRules::Parse(R"toml(
[[owner]]
match = { "tag:environment" = "(.*)", "tag:application" = "(.*)" }
team = "$1"
project = "$2"
)toml",
                                 "o.toml");
  ASSERT_TRUE(rules) << rules.error().ToString();
  auto got = rules->Apply(From({{"tag:environment", "prod"}, {"tag:application", "search"}}));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->team, "prod");
  EXPECT_EQ(got->project, "search");
}

TEST(OwnerRules, GpuInfrastructurePodsAreNoWorkloadEvenWithoutAFile) {
  const OwnerRules none;
  // Pod names as the GPU Operator and dcgm-exporter's Helm chart create them.
  for (const char* pod : {"nvidia-dcgm-exporter-7xk2p", "dcgm-exporter-1700000000-abcde",
                          "nvidia-device-plugin-daemonset-9kq2x", "nvidia-operator-validator-4hzl6",
                          "nvidia-cuda-validator-bq8nm", "gpu-feature-discovery-x7d9k",
                          "nvidia-container-toolkit-daemonset-2mz5w"}) {
    EXPECT_TRUE(none.IgnoresWorkload(From({{"namespace", "gpu-operator"}, {"pod", pod}}))) << pod;
  }
  for (const char* pod : {"train-1", "jupyter-asha", "cuda-75454ffb9f-8ljq7", "my-dcgm-exporter"}) {
    EXPECT_FALSE(none.IgnoresWorkload(From({{"namespace", "default"}, {"pod", pod}}))) << pod;
  }
}

TEST(OwnerRules, IgnoreRulesExtendTheBuiltInList) {
  auto rules = OwnerRules::Parse(
      "[[ignore]]\nmatch = { namespace = \"monitoring\", pod = \"gpu-burn-check-.*\" }\n"
      "[[owner]]\nmatch = { namespace = \"(.*)\" }\nteam = \"$1\"\n",
      "o.toml");
  ASSERT_TRUE(rules) << rules.error().ToString();
  EXPECT_TRUE(
      rules->IgnoresWorkload(From({{"namespace", "monitoring"}, {"pod", "gpu-burn-check-1"}})));
  EXPECT_FALSE(rules->IgnoresWorkload(From({{"namespace", "ml"}, {"pod", "gpu-burn-check-1"}})));
  EXPECT_TRUE(
      rules->IgnoresWorkload(From({{"namespace", "ml"}, {"pod", "nvidia-dcgm-exporter-x"}})));
  EXPECT_EQ(rules->size(), 1u);
  auto extra = OwnerRules::Parse("[[ignore]]\nmatch = { pod = \"x\" }\nteam = \"a\"\n", "o.toml");
  ASSERT_FALSE(extra);
  EXPECT_EQ(extra.error().where, "o.toml:3:8");
  EXPECT_FALSE(OwnerRules::Parse("[[ignore]]\nmatch = { pod = \"(\" }\n", "o.toml"));
  EXPECT_FALSE(OwnerRules::Parse("[[ignore]]\n", "o.toml"));
}

}  // namespace
}  // namespace gpuledger

namespace gpuledger {
namespace {

TEST(OwnerRules, PeopleSayHowToReachAnOwner) {
  auto rules = OwnerRules::Parse(R"(
[[person]]
user = "asha"
slack = "U024BE7LH"
email = "asha@example.com"

[[person]]
users = ["bo", "bo.k"]
email = "bo@example.com"

[[owner]]
match = { machine = "gpu-.*" }
team = "vision"
)",
                                 "owners.toml");
  ASSERT_TRUE(rules) << rules.error().ToString();
  ASSERT_EQ(rules->people().size(), 2u);
  ASSERT_NE(rules->PersonOf("asha"), nullptr);
  EXPECT_EQ(rules->PersonOf("asha")->slack, "U024BE7LH");
  EXPECT_EQ(rules->PersonOf("bo.k")->email, "bo@example.com");
  EXPECT_EQ(rules->PersonOf("bo.k")->slack, "");
  EXPECT_EQ(rules->PersonOf("carol"), nullptr);
  EXPECT_EQ(rules->size(), 1u);  // the owner rule is still read
}

TEST(OwnerRules, APersonCannotCarryAHeaderOrAMentionOfEveryone) {
  auto parse = [](const std::string& body) {
    return OwnerRules::Parse("[[person]]\n" + body, "owners.toml");
  };
  EXPECT_FALSE(parse("user = \"a\"\nemail = \"a@x.io\\r\\nBcc: all@x.io\""));
  EXPECT_FALSE(parse("user = \"a\"\nemail = \"a@x.io, b@x.io\""));
  EXPECT_FALSE(parse("user = \"a\"\nslack = \"<!channel>\""));
  EXPECT_FALSE(parse("slack = \"U1\""));                 // whose?
  EXPECT_FALSE(parse("user = \"a\"\nphone = \"555\""));  // not a key it has
  auto bad = parse("user = \"a\"\nslack = \"here\"");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().ToString().find("owners.toml:3"), std::string::npos)
      << bad.error().ToString();
}

}  // namespace
}  // namespace gpuledger
