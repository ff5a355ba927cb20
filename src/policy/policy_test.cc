#include "policy/policy.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TEST(PolicyFile, SyntaxErrorsAreLinePrecise) {
  auto p = ParsePolicy("threshold = 5\nidle_after = \"30m\n", "p.toml");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().where.substr(0, 8), "p.toml:2");
}

TEST(PolicyFile, BadValuesNameTheirKeyAndLine) {
  struct Case {
    const char* text;
    const char* where;
    const char* says;
  } cases[] = {
      {"idle_after = \"soon\"", "p.toml:1:14", "idle_after must be a duration"},
      {"threshold = 5\nthreshold_pct = 3", "p.toml:2:17", "unknown key threshold_pct"},
      {"threshold = 250", "p.toml:1:13", "threshold must be a number in [0, 100]"},
      {"threshold = nan", "p.toml:1:13", "threshold must be a number in [0, 100]"},
      {"fatal_patterns = \"oom\"", "p.toml:1:18", "fatal_patterns must be an array"},
      {"[exempt]\nowners = [1]", "p.toml:2:11", "exempt.owners must hold strings"},
      {"[exempt]\nteams = []", "p.toml:2:9", "unknown key exempt.teams"},
      {"setup_grace = 20", "p.toml:1:15", "setup_grace must be a duration"},
  };
  for (const Case& c : cases) {
    auto p = ParsePolicy(c.text, "p.toml");
    ASSERT_FALSE(p) << c.text;
    EXPECT_EQ(p.error().where, c.where) << c.text;
    EXPECT_NE(p.error().message.find(c.says), std::string::npos) << p.error().message;
  }
}

TEST(PolicyFile, NoKeysMeansTheDefaults) {
  auto p = ParsePolicy("", "p.toml");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->threshold_pct, 5);
  EXPECT_EQ(p->setup_grace_ms, 20 * kMsPerMinute);
  EXPECT_EQ(p->idle_after_ms, 30 * kMsPerMinute);
  EXPECT_EQ(p->warn_before_ms, 10 * kMsPerMinute);
  EXPECT_EQ(p->release_after_ms, 15 * kMsPerMinute);
  EXPECT_EQ(p->max_gap_ms, 5 * kMsPerMinute);
  EXPECT_FALSE(p->max_runtime_ms);
  EXPECT_FALSE(p->budget_usd);
}

TEST(PolicyFile, TheDocumentedSchemaReadsAndWritesBack) {
  const char* text = R"(
threshold = 5              # percent; below it a GPU is idle
setup_grace = "20m"
idle_after = "1h30m"
warn_before = "10m"
release_after = "15m"
max_gap = "90s"
max_runtime = "48h"
budget_usd = 500
fatal_patterns = ["CUDA out of memory", "NCCL error"]
[exempt]
owners = ["asha"]
jobs = ["j1234"]
labels = ["interactive=true"]
granted_by = "platform-team"
)";
  auto p = ParsePolicy(text, "p.toml");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->idle_after_ms, 90 * kMsPerMinute);
  EXPECT_EQ(p->max_gap_ms, 90 * kMsPerSecond);
  EXPECT_EQ(*p->max_runtime_ms, 48 * kMsPerHour);
  EXPECT_EQ(*p->budget_usd, 500);
  EXPECT_EQ(p->fatal_patterns.size(), 2u);
  EXPECT_TRUE(IsExempt(*p, "j9", "asha", {}));
  EXPECT_TRUE(IsExempt(*p, "j1234", "bob", {}));
  EXPECT_TRUE(IsExempt(*p, "j9", "bob", {"interactive=true"}));
  EXPECT_FALSE(IsExempt(*p, "j9", "bob", {"interactive=false"}));
  auto again = ParsePolicy(PolicyToToml(*p), "effective.toml");
  ASSERT_TRUE(again) << again.error().ToString() << "\n" << PolicyToToml(*p);
  EXPECT_EQ(PolicyToToml(*again), PolicyToToml(*p));
}

}  // namespace
}  // namespace gpuledger
