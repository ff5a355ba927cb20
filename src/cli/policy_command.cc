// gpuledger policy check FILE: validates an autokill policy and prints it with defaults filled.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "policy/policy.h"

namespace gpuledger::cli {

void AddPolicyCommand(CLI::App* app, Outcome* outcome) {
  CLI::App* policy = app->add_subcommand("policy", "Work with autokill policy files.");
  policy->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  CLI::App* check = policy->add_subcommand(
      "check", "Validate a policy file (TOML) and print the effective policy, defaults filled in.");
  check->add_option("FILE", *file, "the policy file")->required();
  check->callback([file, outcome] {
    auto p = LoadPolicy(*file);
    if (!p) {
      outcome->exit_code = ReportError("policy check", p.error());
      return;
    }
    fmt::print("# effective policy of {}\n{}", *file, PolicyToToml(*p));
  });
}

}  // namespace gpuledger::cli
