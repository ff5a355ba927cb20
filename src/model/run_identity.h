// What a run says it is: the experiment tracker's experiment and run (MLflow, Weights & Biases)
// and the CI's repository, commit, pull request and pipeline (GitHub Actions, GitLab CI), as
// the run's own environment names them. Attribution only — who may do what is never read from
// it (docs/guard.md, "Threat model"): it groups spend by experiment, run, pull request and
// repository (audit --group-by).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gpuledger {

struct RunIdentity {
  std::string experiment;  // MLflow experiment name or id; W&B ENTITY/PROJECT
  std::string run;         // MLflow run id; W&B run id
  std::string repo;        // OWNER/NAME (GitHub), group/project path (GitLab)
  std::string commit;
  std::string pr;        // the pull or merge request number
  std::string pipeline;  // the CI run (GITHUB_RUN_ID, CI_PIPELINE_ID)

  bool empty() const {
    return experiment.empty() && run.empty() && repo.empty() && commit.empty() && pr.empty() &&
           pipeline.empty();
  }
  // Fills what this lacks from "other" (a flag given wins over the environment).
  void FillFrom(const RunIdentity& other);
};

// A variable of the environment, or none.
using EnvironmentLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The identity the variables name: MLFLOW_EXPERIMENT_NAME (else MLFLOW_EXPERIMENT_ID, else
// WANDB_ENTITY/WANDB_PROJECT), MLFLOW_RUN_ID (else WANDB_RUN_ID); GITHUB_REPOSITORY, GITHUB_SHA,
// GITHUB_REF refs/pull/N/merge → N, GITHUB_RUN_ID; or GitLab's CI_PROJECT_PATH, CI_COMMIT_SHA,
// CI_MERGE_REQUEST_IID, CI_PIPELINE_ID. Values are cut to 200 bytes.
RunIdentity IdentityFromEnvironment(const EnvironmentLookup& lookup);

// Whether "name" is one of the variables IdentityFromEnvironment reads.
bool IsIdentityVariable(std::string_view name);

// The pull request a GITHUB_REF names (refs/pull/N/merge or refs/pull/N/head → N); "" otherwise.
std::string PullRequestOfRef(std::string_view ref);

}  // namespace gpuledger
