// What a run's environment says it is, for MLflow, W&B, GitHub Actions and GitLab CI.
#include "model/run_identity.h"

#include <gtest/gtest.h>

#include <map>

namespace gpuledger {
namespace {

RunIdentity Of(std::map<std::string, std::string, std::less<>> env) {
  return IdentityFromEnvironment([&](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
}

TEST(RunIdentity, MlflowAndGithubActions) {
  const RunIdentity id = Of({{"MLFLOW_EXPERIMENT_NAME", "detector-v2"},
                             {"MLFLOW_EXPERIMENT_ID", "17"},
                             {"MLFLOW_RUN_ID", "a1b2c3"},
                             {"GITHUB_REPOSITORY", "acme/det"},
                             {"GITHUB_SHA", "0123abcd"},
                             {"GITHUB_REF", "refs/pull/61/merge"},
                             {"GITHUB_RUN_ID", "9001"}});
  EXPECT_EQ(id.experiment, "detector-v2");  // the name, where both are set
  EXPECT_EQ(id.run, "a1b2c3");
  EXPECT_EQ(id.repo, "acme/det");
  EXPECT_EQ(id.commit, "0123abcd");
  EXPECT_EQ(id.pr, "61");
  EXPECT_EQ(id.pipeline, "9001");
}

TEST(RunIdentity, WeightsAndBiasesAndGitlabCi) {
  const RunIdentity id = Of({{"WANDB_ENTITY", "acme"},
                             {"WANDB_PROJECT", "det"},
                             {"WANDB_RUN_ID", "3kq9"},
                             {"CI_PROJECT_PATH", "ml/det"},
                             {"CI_COMMIT_SHA", "feed"},
                             {"CI_MERGE_REQUEST_IID", "14"},
                             {"CI_PIPELINE_ID", "77"}});
  EXPECT_EQ(id.experiment, "acme/det");
  EXPECT_EQ(id.run, "3kq9");
  EXPECT_EQ(id.repo, "ml/det");
  EXPECT_EQ(id.commit, "feed");
  EXPECT_EQ(id.pr, "14");
  EXPECT_EQ(id.pipeline, "77");
  EXPECT_EQ(Of({{"WANDB_PROJECT", "det"}}).experiment, "det");  // no entity
  EXPECT_EQ(Of({{"MLFLOW_EXPERIMENT_ID", "17"}}).experiment, "17");
}

TEST(RunIdentity, OnlyAPullRequestRefNamesAPullRequest) {
  EXPECT_EQ(PullRequestOfRef("refs/pull/7/merge"), "7");
  EXPECT_EQ(PullRequestOfRef("refs/pull/7/head"), "7");
  EXPECT_EQ(PullRequestOfRef("refs/heads/main"), "");
  EXPECT_EQ(PullRequestOfRef("refs/pull/x/merge"), "");
  EXPECT_EQ(PullRequestOfRef("refs/pull//merge"), "");
  EXPECT_TRUE(Of({}).empty());
}

TEST(RunIdentity, FlagsWinAndLongValuesAreCut) {
  RunIdentity flags{"given", "", "", "", "3", ""};
  flags.FillFrom(Of({{"MLFLOW_EXPERIMENT_NAME", "env"},
                     {"MLFLOW_RUN_ID", "r"},
                     {"GITHUB_REF", "refs/pull/9/merge"}}));
  EXPECT_EQ(flags.experiment, "given");
  EXPECT_EQ(flags.run, "r");
  EXPECT_EQ(flags.pr, "3");
  EXPECT_EQ(Of({{"MLFLOW_RUN_ID", std::string(5000, 'x')}}).run.size(), 200u);
}

}  // namespace
}  // namespace gpuledger
