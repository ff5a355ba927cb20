#include "model/run_identity.h"

#include <array>
#include <cctype>

#include "core/text_safety.h"

namespace gpuledger {
namespace {

constexpr size_t kMaxValue = 200;

constexpr std::array<std::string_view, 14> kVariables = {
    "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID", "MLFLOW_RUN_ID",
    "WANDB_ENTITY",           "WANDB_PROJECT",        "WANDB_RUN_ID",
    "GITHUB_REPOSITORY",      "GITHUB_SHA",           "GITHUB_REF",
    "GITHUB_RUN_ID",          "CI_PROJECT_PATH",      "CI_COMMIT_SHA",
    "CI_MERGE_REQUEST_IID",   "CI_PIPELINE_ID"};

void Fill(std::string* field, const std::string& value) {
  if (field->empty()) *field = value;
}

}  // namespace

void RunIdentity::FillFrom(const RunIdentity& o) {
  Fill(&experiment, o.experiment), Fill(&run, o.run), Fill(&repo, o.repo);
  Fill(&commit, o.commit), Fill(&pr, o.pr), Fill(&pipeline, o.pipeline);
}

bool IsIdentityVariable(std::string_view name) {
  for (std::string_view v : kVariables)
    if (v == name) return true;
  return false;
}

std::string PullRequestOfRef(std::string_view ref) {
  constexpr std::string_view kPrefix = "refs/pull/";
  if (!ref.starts_with(kPrefix)) return "";
  ref.remove_prefix(kPrefix.size());
  const size_t slash = ref.find('/');
  const std::string_view number = ref.substr(0, slash);
  if (number.empty() || number.size() > 12) return "";
  for (char c : number)
    if (!std::isdigit(static_cast<unsigned char>(c))) return "";
  return std::string(number);
}

RunIdentity IdentityFromEnvironment(const EnvironmentLookup& lookup) {
  auto get = [&](std::string_view name) {
    std::optional<std::string> v = lookup(name);
    return v ? std::string(TruncateUtf8(*v, kMaxValue)) : std::string();
  };
  RunIdentity id;
  id.experiment = get("MLFLOW_EXPERIMENT_NAME");
  if (id.experiment.empty()) id.experiment = get("MLFLOW_EXPERIMENT_ID");
  if (id.experiment.empty() && !get("WANDB_PROJECT").empty()) {
    const std::string entity = get("WANDB_ENTITY");
    id.experiment = (entity.empty() ? "" : entity + "/") + get("WANDB_PROJECT");
  }
  id.run = get("MLFLOW_RUN_ID");
  if (id.run.empty()) id.run = get("WANDB_RUN_ID");
  id.repo = get("GITHUB_REPOSITORY");
  id.commit = get("GITHUB_SHA");
  id.pr = PullRequestOfRef(get("GITHUB_REF"));
  id.pipeline = get("GITHUB_RUN_ID");
  if (id.repo.empty()) id.repo = get("CI_PROJECT_PATH");
  if (id.commit.empty()) id.commit = get("CI_COMMIT_SHA");
  if (id.pr.empty()) id.pr = get("CI_MERGE_REQUEST_IID");
  if (id.pipeline.empty()) id.pipeline = get("CI_PIPELINE_ID");
  return id;
}

}  // namespace gpuledger
