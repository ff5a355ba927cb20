#include "model/owner_rules.h"

#include <re2/re2.h>

#include <algorithm>

#include "core/text_safety.h"
#include "core/toml_text.h"

namespace gpuledger {
namespace {

bool KnownKey(std::string_view key) {
  return key == "machine" || key == "namespace" || key == "pod" || key == "container" ||
         (key.starts_with("label:") && key.size() > 6) ||
         (key.starts_with("tag:") && key.size() > 4);
}

// "$1-team" with groups {"a", "b"} → "a-team"; "$$" is a dollar.
std::string Expand(const std::string& tmpl, const std::vector<std::string>& groups) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '$' && i + 1 < tmpl.size() && tmpl[i + 1] >= '1' && tmpl[i + 1] <= '9') {
      const size_t g = static_cast<size_t>(tmpl[i + 1] - '1');
      if (g < groups.size()) out += groups[g];
      ++i;
    } else if (tmpl[i] == '$' && i + 1 < tmpl.size() && tmpl[i + 1] == '$') {
      out += '$';
      ++i;
    } else {
      out += tmpl[i];
    }
  }
  return out;
}

std::shared_ptr<const re2::RE2> Compile(const std::string& pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  return std::make_shared<const re2::RE2>(pattern, options);
}

// The rule's match table, keys in the order written (capture groups are numbered that way,
// docs/audit.md; toml++ hands a table's keys sorted, so they are put back in source order).
Result<OwnerRules::Match> ParseMatch(const toml::table& t, const std::string& source,
                                     const std::string& where) {
  const toml::table* match = t["match"].as_table();
  if (match == nullptr || match->empty()) {
    return MakeError(ErrorCode::kParse, "a rule needs match = { key = \"regex\", … }", where);
  }
  std::vector<std::pair<const toml::key*, const toml::node*>> in_order;
  for (const auto& [k, v] : *match) in_order.emplace_back(&k, &v);
  std::stable_sort(in_order.begin(), in_order.end(), [](const auto& a, const auto& b) {
    const toml::source_position pa = a.second->source().begin;
    const toml::source_position pb = b.second->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  OwnerRules::Match out;
  for (const auto& [key, node] : in_order) {
    const std::string mkey(key->str());
    auto pattern = node->value<std::string>();
    if (!KnownKey(mkey) || !pattern) {
      return MakeError(ErrorCode::kParse,
                       "match keys are machine, namespace, pod, container, label:NAME or "
                       "tag:KEY, each = \"regex\" (got '" +
                           mkey + "')",
                       TomlWhere(source, node->source()));
    }
    auto re = Compile(*pattern);
    if (!re->ok()) {
      return MakeError(ErrorCode::kParse, "bad regex '" + *pattern + "': " + re->error(),
                       TomlWhere(source, node->source()));
    }
    out.emplace_back(mkey, std::move(re));
  }
  return out;
}

// Whether every key of "match" is known and matches; appends the capture groups to *groups.
bool Matches(const OwnerRules::Match& match, const OwnerRules::Lookup& lookup,
             std::vector<std::string>* groups) {
  for (const auto& [key, re] : match) {
    const std::optional<std::string> value = lookup(key);
    const int n = re->NumberOfCapturingGroups();
    std::vector<re2::StringPiece> found(static_cast<size_t>(n) + 1);
    if (!value ||
        !re->Match(*value, 0, value->size(), re2::RE2::ANCHOR_BOTH, found.data(), n + 1)) {
      return false;
    }
    for (int g = 1; g <= n; ++g) {
      const re2::StringPiece& piece = found[static_cast<size_t>(g)];
      groups->emplace_back(piece.data() ? std::string(piece.data(), piece.size()) : "");
    }
  }
  return true;
}

// GPU infrastructure pods that dcgm-exporter's series may name but that are no workload: the
// exporter itself (its own labels, scraped without honor_labels), the device plugin, the GPU
// Operator's validators, feature discovery, toolkit, driver and MIG manager daemonsets.
const OwnerRules::Match& DefaultIgnore() {
  static const OwnerRules::Match match = {
      {"pod", Compile("(nvidia-)?dcgm-exporter-.*|nvidia-dcgm-.*|nvidia-device-plugin-.*|"
                      "nvidia-.*-validator-.*|gpu-feature-discovery-.*|"
                      "nvidia-container-toolkit-daemonset-.*|nvidia-driver-daemonset-.*|"
                      "nvidia-mig-manager-.*|gpu-operator-.*")}};
  return match;
}

// A Slack member id: U or W and upper-case letters and digits.
bool IsSlackId(std::string_view s) {
  if (s.size() < 2 || (s[0] != 'U' && s[0] != 'W')) return false;
  for (char c : s.substr(1))
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

Result<Person> ParsePerson(const toml::table& t, const std::string& source) {
  Person p;
  for (const auto& [k, v] : t) {
    const std::string name(k.str());
    const std::string where = TomlWhere(source, v.source());
    if (name == "user" && v.is_string()) {
      p.users.push_back(*v.value<std::string>());
    } else if (name == "users" && v.is_array()) {
      for (const toml::node& u : *v.as_array()) {
        if (!u.is_string()) return MakeError(ErrorCode::kParse, "users are strings", where);
        p.users.push_back(*u.value<std::string>());
      }
    } else if (name == "slack" && v.is_string()) {
      p.slack = *v.value<std::string>();
      if (!IsSlackId(p.slack))
        return MakeError(ErrorCode::kParse, "slack must be a member id (U…), not '" + p.slack + "'",
                         where);
    } else if (name == "email" && v.is_string()) {
      p.email = *v.value<std::string>();
      if (!IsPlainEmail(p.email))
        return MakeError(ErrorCode::kParse,
                         "email must be one plain address, not '" + p.email + "'", where);
    } else if (name == "admin" && v.is_boolean()) {
      p.admin = *v.value<bool>();
    } else {
      return MakeError(ErrorCode::kParse,
                       "a [[person]] has user or users, slack and email (strings) and admin (a "
                       "boolean), not '" +
                           name + "'",
                       where);
    }
  }
  if (p.users.empty())
    return MakeError(ErrorCode::kParse, "a [[person]] needs user or users",
                     TomlWhere(source, t.source()));
  return p;
}

}  // namespace

Result<OwnerRules> OwnerRules::Parse(std::string_view text, const std::string& source) {
  auto table = ParseTomlText(text, source);
  if (!table) return std::unexpected(table.error());
  const toml::table& parsed = *table;
  OwnerRules out;
  for (const auto& [key, value] : parsed) {
    if ((key.str() != "owner" && key.str() != "ignore" && key.str() != "person") ||
        !value.is_array_of_tables()) {
      return MakeError(ErrorCode::kParse,
                       "only [[owner]], [[ignore]] and [[person]] belong here, not '" +
                           std::string(key.str()) + "'",
                       TomlWhere(source, value.source()));
    }
  }
  if (const toml::array* ignores = parsed["ignore"].as_array()) {
    for (const toml::node& node : *ignores) {
      const toml::table& t = *node.as_table();
      for (const auto& [k, v] : t) {
        if (k.str() != "match") {
          return MakeError(
              ErrorCode::kParse,
              "an [[ignore]] rule has only match = { … }, not '" + std::string(k.str()) + "'",
              TomlWhere(source, v.source()));
        }
      }
      auto match = ParseMatch(t, source, TomlWhere(source, t.source()));
      if (!match) return std::unexpected(match.error());
      out.ignore_.push_back(std::move(*match));
    }
  }
  if (const toml::array* people = parsed["person"].as_array()) {
    for (const toml::node& node : *people) {
      auto person = ParsePerson(*node.as_table(), source);
      if (!person) return std::unexpected(person.error());
      out.people_.push_back(std::move(*person));
    }
  }
  const toml::array* rules = parsed["owner"].as_array();
  if (rules == nullptr) return out;
  for (const toml::node& node : *rules) {
    const toml::table& t = *node.as_table();
    Rule rule;
    rule.where = TomlWhere(source, t.source());
    auto match = ParseMatch(t, source, rule.where);
    if (!match) return std::unexpected(match.error());
    rule.match = std::move(*match);
    for (const auto& [k, v] : t) {
      const std::string name(k.str());
      if (name == "match") continue;
      auto s = v.value<std::string>();
      std::string* slot = name == "owner"        ? &rule.owner
                          : name == "team"       ? &rule.team
                          : name == "project"    ? &rule.project
                          : name == "experiment" ? &rule.experiment
                          : name == "run"        ? &rule.run
                          : name == "repo"       ? &rule.repo
                          : name == "pr"         ? &rule.pr
                                                 : nullptr;
      if (slot == nullptr || !s) {
        return MakeError(ErrorCode::kParse,
                         "a rule sets owner, team, project, experiment, run, repo and pr "
                         "(strings), not '" +
                             name + "'",
                         TomlWhere(source, v.source()));
      }
      *slot = *s;
    }
    if (rule.owner.empty() && rule.team.empty() && rule.project.empty() &&
        rule.experiment.empty() && rule.run.empty() && rule.repo.empty() && rule.pr.empty()) {
      return MakeError(ErrorCode::kParse,
                       "a rule must set owner, team, project, experiment, run, repo or pr",
                       rule.where);
    }
    out.rules_.push_back(std::move(rule));
  }
  return out;
}

const Person* FindPerson(const std::vector<Person>& people, std::string_view user) {
  for (const Person& p : people) {
    for (const std::string& u : p.users)
      if (u == user) return &p;
  }
  return nullptr;
}

const Person* FindPersonBySlack(const std::vector<Person>& people, std::string_view slack_id) {
  if (slack_id.empty()) return nullptr;
  for (const Person& p : people)
    if (p.slack == slack_id) return &p;
  return nullptr;
}

bool Person::Owns(std::string_view owner) const {
  return std::find(users.begin(), users.end(), owner) != users.end();
}

const Person* OwnerRules::PersonOf(std::string_view user) const {
  return FindPerson(people_, user);
}

std::optional<Attribution> OwnerRules::Apply(const Lookup& lookup) const {
  for (const Rule& rule : rules_) {
    std::vector<std::string> groups;
    if (!Matches(rule.match, lookup, &groups)) continue;
    return Attribution{Expand(rule.owner, groups),   Expand(rule.team, groups),
                       Expand(rule.project, groups), Expand(rule.experiment, groups),
                       Expand(rule.run, groups),     Expand(rule.repo, groups),
                       Expand(rule.pr, groups)};
  }
  return std::nullopt;
}

bool OwnerRules::IgnoresWorkload(const Lookup& lookup) const {
  std::vector<std::string> groups;
  if (Matches(DefaultIgnore(), lookup, &groups)) return true;
  for (const Match& m : ignore_) {
    if (Matches(m, lookup, &groups)) return true;
  }
  return false;
}

}  // namespace gpuledger
