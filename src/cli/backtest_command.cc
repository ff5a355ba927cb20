// gpuledger backtest: the autokill policy replayed on history, before anyone turns it on.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "cli/fleet_flags.h"
#include "policy/backtest.h"
#include "report/backtest_report.h"

namespace gpuledger::cli {
namespace {

struct BacktestFlags {
  FleetFlags fleet;
  std::string policy_file;
  std::string sweep;  // key=v1,v2,…
  std::string format;
  int top = 10;
};

struct Sweep {
  std::string key;
  std::vector<std::string> values;
};

Result<Sweep> ParseSweep(const std::string& text) {
  Sweep s;
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    return MakeError(ErrorCode::kUsage, "use KEY=V1,V2,… e.g. idle_after=10m,20m,30m", "--sweep");
  }
  s.key = text.substr(0, eq);
  for (size_t i = eq + 1; i <= text.size();) {
    size_t j = text.find(',', i);
    if (j == std::string::npos) j = text.size();
    if (j > i) s.values.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return s;
}

int RunBacktestCommand(const BacktestFlags& flags) {
  auto policy = LoadPolicy(flags.policy_file);
  if (!policy) return ReportError("backtest", policy.error());
  std::optional<Sweep> sweep;
  if (!flags.sweep.empty()) {
    auto s = ParseSweep(flags.sweep);
    if (!s) return ReportError("backtest", s.error());
    for (const std::string& v : s->values) {
      Policy probe = *policy;
      if (auto r = SetPolicyKey(&probe, s->key, v); !r) return ReportError("backtest", r.error());
    }
    sweep = *s;
  }
  if (!flags.fleet.rollup.empty()) {
    return ReportError(
        "backtest",
        Error{ErrorCode::kUsage, "the backtest replays raw samples; drop --rollup", "--rollup"});
  }
  auto in = LoadFleetFlags(flags.fleet, 5, policy->max_gap_ms);
  if (!in) return ReportError("backtest", in.error());
  const LoadedFleet& loaded = (*in)->loaded;
  const AuditInputs inputs = InputsOf(loaded);
  BacktestOptions options;
  options.policy = *policy;
  options.window_from = (*in)->from;
  options.window_to = (*in)->to;
  options.price_per_gpu_hour = (*in)->price_per_gpu_hour;
  options.threads = flags.fleet.threads;
  if (!sweep) {
    auto r = RunBacktest(inputs, options);
    if (!r) return ReportError("backtest", r.error());
    if (flags.format == "json")
      fmt::print("{}", BacktestToJson(*r));
    else if (flags.format == "csv")
      fmt::print("{}", BacktestToCsv(*r));
    else
      fmt::print("{}", BacktestToTable(*r, flags.top));
    return kExitOk;
  }
  std::vector<SweepRow> rows;
  for (const std::string& v : sweep->values) {
    BacktestOptions o = options;
    (void)SetPolicyKey(&o.policy, sweep->key, v);  // checked above
    auto r = RunBacktest(inputs, o);
    if (!r) return ReportError("backtest", r.error());
    rows.push_back({v, std::move(*r)});
  }
  if (flags.format == "json")
    fmt::print("{}", SweepToJson(sweep->key, rows));
  else if (flags.format == "csv")
    fmt::print("{}", SweepToCsv(sweep->key, rows));
  else
    fmt::print("{}", SweepToTable(sweep->key, rows));
  return kExitOk;
}

}  // namespace

void AddBacktestCommand(CLI::App* app, Outcome* outcome) {
  auto flags = std::make_shared<BacktestFlags>();
  CLI::App* cmd = app->add_subcommand(
      "backtest",
      "Replay history through the autokill policy: which jobs it would have killed, when, by "
      "which rule, what that would have saved, and which completed jobs it would have killed.");
  AddFleetOptions(cmd, &flags->fleet);
  cmd->add_option("--policy", flags->policy_file,
                  "policy file (TOML); default: the default policy");
  cmd->add_option("--sweep", flags->sweep,
                  "KEY=V1,V2,…: one backtest per value, as a savings / false-kill table, e.g. "
                  "idle_after=10m,20m,30m,60m");
  AddFormatOption(cmd, &flags->format, {"table", "json", "csv"});
  cmd->add_option("--top", flags->top, "rows in each list of the table")
      ->check(Positive())
      ->capture_default_str();
  cmd->callback([flags, outcome] { outcome->exit_code = RunBacktestCommand(*flags); });
}

}  // namespace gpuledger::cli
