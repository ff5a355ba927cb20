#include "policy/policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "core/line_reader.h"
#include "core/toml_text.h"

namespace gpuledger {
namespace {

std::string Where(const std::string& source, const toml::source_region& r) {
  return TomlWhere(source, r);
}

Error BadKey(const std::string& source, const toml::node& node, std::string message) {
  return Error{ErrorCode::kParse, std::move(message), Where(source, node.source())};
}

Result<DurationMs> Duration(const std::string& source, std::string_view key,
                            const toml::node& node) {
  if (auto s = node.value<std::string>()) {
    auto d = ParseDuration(*s);
    if (d) return *d;
  }
  return std::unexpected(
      BadKey(source, node, fmt::format("{} must be a duration like \"20m\" or \"1h30m\"", key)));
}

Result<double> Number(const std::string& source, std::string_view key, const toml::node& node,
                      double lo, double hi) {
  auto v = node.value<double>();
  if (!v || !std::isfinite(*v) || *v < lo || *v > hi) {  // nan compares false to both bounds
    return std::unexpected(
        BadKey(source, node, fmt::format("{} must be a number in [{}, {}]", key, lo, hi)));
  }
  return *v;
}

Result<std::vector<std::string>> Strings(const std::string& source, std::string_view key,
                                         const toml::node& node) {
  const toml::array* arr = node.as_array();
  if (arr == nullptr) {
    return std::unexpected(
        BadKey(source, node, fmt::format("{} must be an array of strings", key)));
  }
  std::vector<std::string> out;
  for (const toml::node& item : *arr) {
    auto s = item.value<std::string>();
    if (!s) return std::unexpected(BadKey(source, item, fmt::format("{} must hold strings", key)));
    out.push_back(*s);
  }
  return out;
}

Result<void> ReadExempt(const std::string& source, const toml::node& node, PolicyExemptions* out) {
  const toml::table* table = node.as_table();
  if (table == nullptr) return std::unexpected(BadKey(source, node, "exempt must be a table"));
  for (const auto& [key, value] : *table) {
    const std::string k(key.str());
    Result<std::vector<std::string>> list;
    if (k == "granted_by") {
      auto s = value.value<std::string>();
      if (!s) return std::unexpected(BadKey(source, value, "exempt.granted_by must be a string"));
      out->granted_by = *s;
      continue;
    }
    if (k != "owners" && k != "jobs" && k != "labels") {
      return std::unexpected(BadKey(
          source, value, "unknown key exempt." + k + " (known: owners, jobs, labels, granted_by)"));
    }
    list = Strings(source, "exempt." + k, value);
    if (!list) return std::unexpected(list.error());
    (k == "owners" ? out->owners : k == "jobs" ? out->jobs : out->labels) = *list;
  }
  return {};
}

Result<void> ReadInteractive(const std::string& source, const toml::node& node, Policy* p) {
  const toml::table* table = node.as_table();
  if (table == nullptr) return std::unexpected(BadKey(source, node, "interactive must be a table"));
  for (const auto& [key, value] : *table) {
    const std::string k(key.str());
    DurationMs* field = k == "setup_grace"  ? &p->interactive_setup_grace_ms
                        : k == "idle_after" ? &p->interactive_idle_after_ms
                                            : nullptr;
    if (field == nullptr) {
      return std::unexpected(BadKey(
          source, value, "unknown key interactive." + k + " (known: setup_grace, idle_after)"));
    }
    auto d = Duration(source, "interactive." + k, value);
    if (!d) return std::unexpected(d.error());
    *field = *d;
  }
  return {};
}

Result<void> ReadPrGuardrail(const std::string& source, const toml::node& node, PrGuardrail* g) {
  const toml::table* table = node.as_table();
  if (table == nullptr)
    return std::unexpected(BadKey(source, node, "pr_guardrail must be a table"));
  for (const auto& [key, value] : *table) {
    const std::string k(key.str());
    std::optional<double>* field = k == "max_usd_without_review"    ? &g->max_usd_without_review
                                   : k == "require_review_over_usd" ? &g->require_review_over_usd
                                   : k == "max_open_days_firing_jobs"
                                       ? &g->max_open_days_firing_jobs
                                       : nullptr;
    if (field == nullptr) {
      return std::unexpected(BadKey(source, value,
                                    "unknown key pr_guardrail." + k +
                                        " (known: max_usd_without_review, "
                                        "require_review_over_usd, max_open_days_firing_jobs)"));
    }
    auto v = Number(source, "pr_guardrail." + k, value, 0, 1e12);
    if (!v) return std::unexpected(v.error());
    *field = *v;
  }
  return {};
}

// Applies one top-level key to the policy.
Result<void> ReadKey(const std::string& source, const std::string& key, const toml::node& value,
                     Policy* p) {
  auto set_duration = [&](DurationMs* field) -> Result<void> {
    auto d = Duration(source, key, value);
    if (!d) return std::unexpected(d.error());
    *field = *d;
    return {};
  };
  if (key == "threshold") {
    auto v = Number(source, key, value, 0, 100);
    if (!v) return std::unexpected(v.error());
    p->threshold_pct = *v;
    return {};
  }
  if (key == "setup_grace") return set_duration(&p->setup_grace_ms);
  if (key == "idle_after") return set_duration(&p->idle_after_ms);
  if (key == "warn_before") return set_duration(&p->warn_before_ms);
  if (key == "release_after") return set_duration(&p->release_after_ms);
  if (key == "max_gap") return set_duration(&p->max_gap_ms);
  if (key == "max_runtime") {
    DurationMs d = 0;
    if (auto r = set_duration(&d); !r) return r;
    p->max_runtime_ms = d;
    return {};
  }
  if (key == "budget_usd") {
    auto v = Number(source, key, value, 0, 1e12);
    if (!v) return std::unexpected(v.error());
    p->budget_usd = *v;
    return {};
  }
  if (key == "fatal_patterns") {
    auto list = Strings(source, key, value);
    if (!list) return std::unexpected(list.error());
    p->fatal_patterns = *list;
    return {};
  }
  if (key == "exempt") return ReadExempt(source, value, &p->exempt);
  if (key == "interactive") return ReadInteractive(source, value, p);
  if (key == "pr_guardrail") return ReadPrGuardrail(source, value, &p->pr_guardrail);
  if (key == "max_keep") return set_duration(&p->max_keep_ms);
  if (key == "k8s_action") {
    auto s = value.value<std::string>();
    if (!s) return std::unexpected(BadKey(source, value, "k8s_action must be a string"));
    p->k8s_action = *s;
    return {};
  }
  if (key == "over_budget") {
    auto s = value.value<std::string>();
    if (!s || (*s != "warn" && *s != "refuse")) {
      return std::unexpected(BadKey(source, value, "over_budget must be \"warn\" or \"refuse\""));
    }
    p->over_budget = *s;
    return {};
  }
  if (key == "release_command") {
    auto s = value.value<std::string>();
    if (!s) return std::unexpected(BadKey(source, value, "release_command must be a string"));
    p->release_command = *s;
    return {};
  }
  return std::unexpected(BadKey(
      source, value,
      "unknown key " + key +
          " (known: threshold, setup_grace, idle_after, warn_before, release_after, max_gap, "
          "max_runtime, budget_usd, fatal_patterns, max_keep, release_command, k8s_action, "
          "over_budget, [exempt], [interactive], [pr_guardrail])"));
}

std::string TomlString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string TomlList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + TomlString(items[i]);
  return out + "]";
}

}  // namespace

Result<Policy> ParsePolicy(std::string_view text, const std::string& source) {
  auto table = ParseTomlText(text, source);
  if (!table) return std::unexpected(table.error());
  const toml::table& parsed = *table;
  Policy policy;
  for (const auto& [key, value] : parsed) {
    if (auto r = ReadKey(source, std::string(key.str()), value, &policy); !r) {
      return std::unexpected(r.error());
    }
  }
  if (policy.max_gap_ms <= 0)
    return MakeError(ErrorCode::kParse, "max_gap must be positive", source);
  return policy;
}

Result<Policy> LoadPolicy(const std::string& path) {
  if (path.empty()) return Policy{};
  auto text = ReadWholeFile(path);
  if (!text) return std::unexpected(text.error());
  return ParsePolicy(*text, path);
}

std::string PolicyToToml(const Policy& p) {
  std::string out;
  auto line = [&](std::string_view key, const std::string& value, std::string_view comment) {
    out += fmt::format("{:<15}= {:<24}# {}\n", key, value, comment);
  };
  line("threshold", fmt::format("{}", p.threshold_pct), "percent; below it a GPU is idle");
  line("setup_grace", TomlString(FormatDuration(p.setup_grace_ms)),
       "idle before the first active instant");
  line("idle_after", TomlString(FormatDuration(p.idle_after_ms)),
       "idle after the first active instant");
  line("warn_before", TomlString(FormatDuration(p.warn_before_ms)), "warning ahead of a kill");
  line("release_after", TomlString(FormatDuration(p.release_after_ms)),
       "idle machine with no running job");
  line("max_gap", TomlString(FormatDuration(p.max_gap_ms)), "how long one sample stands");
  if (p.max_runtime_ms)
    line("max_runtime", TomlString(FormatDuration(*p.max_runtime_ms)), "per job");
  else
    out += "# max_runtime  (not set)\n";
  if (p.budget_usd)
    line("budget_usd", fmt::format("{}", *p.budget_usd), "per job");
  else
    out += "# budget_usd   (not set)\n";
  line("fatal_patterns", TomlList(p.fatal_patterns), "output lines that kill at once");
  line("max_keep", TomlString(FormatDuration(p.max_keep_ms)), "guard: longest keep granted");
  line("release_command", TomlString(p.release_command), "guard: releases an idle machine");
  line("k8s_action", TomlString(p.k8s_action), "guard: stops a pod (empty: warn only)");
  line("over_budget", TomlString(p.over_budget),
       "new work of a team past its monthly budget: warn or refuse");
  out += "\n[exempt]\n";
  out += fmt::format("owners = {}\njobs = {}\nlabels = {}\n", TomlList(p.exempt.owners),
                     TomlList(p.exempt.jobs), TomlList(p.exempt.labels));
  if (!p.exempt.granted_by.empty()) out += "granted_by = " + TomlString(p.exempt.granted_by) + "\n";
  out += "\n[interactive]  # Jupyter kernels, judged by the guard\n";
  out += fmt::format("setup_grace = {}\nidle_after = {}\n",
                     TomlString(FormatDuration(p.interactive_setup_grace_ms)),
                     TomlString(FormatDuration(p.interactive_idle_after_ms)));
  out += "\n[pr_guardrail]  # gpuledger pr-check: when a PR's gpuledger/gpu-cost status fails\n";
  auto limit = [&](const char* key, const std::optional<double>& v, const char* what) {
    out += v ? fmt::format("{} = {}  # {}\n", key, *v, what)
             : fmt::format("# {}  (not set: {})\n", key, what);
  };
  limit("max_usd_without_review", p.pr_guardrail.max_usd_without_review,
        "GPU dollars before any human review");
  limit("require_review_over_usd", p.pr_guardrail.require_review_over_usd,
        "above this, a substantive review");
  limit("max_open_days_firing_jobs", p.pr_guardrail.max_open_days_firing_jobs,
        "days open while still firing GPU jobs");
  return out;
}

Result<void> SetPolicyKey(Policy* p, std::string_view key, std::string_view value) {
  const std::string k(key);
  if (k == "threshold" || k == "budget_usd") {
    double v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size() || v < 0 ||
        (k == "threshold" && v > 100)) {
      return MakeError(ErrorCode::kUsage, "'" + std::string(value) + "' is no value for " + k);
    }
    if (k == "threshold")
      p->threshold_pct = v;
    else
      p->budget_usd = v;
    return {};
  }
  DurationMs* field = k == "setup_grace"     ? &p->setup_grace_ms
                      : k == "idle_after"    ? &p->idle_after_ms
                      : k == "warn_before"   ? &p->warn_before_ms
                      : k == "release_after" ? &p->release_after_ms
                      : k == "max_gap"       ? &p->max_gap_ms
                                             : nullptr;
  auto d = ParseDuration(value);
  if (k == "max_runtime" && d) {
    p->max_runtime_ms = *d;
    return {};
  }
  if (field == nullptr) {
    return MakeError(ErrorCode::kUsage, "cannot sweep '" + k +
                                            "' (use threshold, setup_grace, "
                                            "idle_after, warn_before, release_after, max_gap, "
                                            "max_runtime or budget_usd)");
  }
  if (!d || (k == "max_gap" && *d <= 0)) {
    return MakeError(ErrorCode::kUsage, "'" + std::string(value) + "' is no duration for " + k);
  }
  *field = *d;
  return {};
}

Policy InteractivePolicy(const Policy& policy) {
  Policy p = policy;
  p.setup_grace_ms = policy.interactive_setup_grace_ms;
  p.idle_after_ms = policy.interactive_idle_after_ms;
  return p;
}

bool IsExempt(const Policy& p, std::string_view job_id, std::string_view owner,
              const std::vector<std::string>& labels) {
  auto has = [](const std::vector<std::string>& v, std::string_view x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  if (has(p.exempt.jobs, job_id) || (!owner.empty() && has(p.exempt.owners, owner))) return true;
  return std::any_of(labels.begin(), labels.end(),
                     [&](const std::string& l) { return has(p.exempt.labels, l); });
}

}  // namespace gpuledger
