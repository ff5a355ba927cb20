#include "model/owner_rules.h"

#include <re2/re2.h>

#include <algorithm>

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

}  // namespace

Result<OwnerRules> OwnerRules::Parse(std::string_view text, const std::string& source) {
  auto table = ParseTomlText(text, source);
  if (!table) return std::unexpected(table.error());
  const toml::table& parsed = *table;
  OwnerRules out;
  for (const auto& [key, value] : parsed) {
    if (key.str() != "owner" || !value.is_array_of_tables()) {
      return MakeError(ErrorCode::kParse,
                       "only [[owner]] rules belong here, not '" + std::string(key.str()) + "'",
                       TomlWhere(source, value.source()));
    }
  }
  const toml::array* rules = parsed["owner"].as_array();
  if (rules == nullptr) return out;
  for (const toml::node& node : *rules) {
    const toml::table& t = *node.as_table();
    Rule rule;
    rule.where = TomlWhere(source, t.source());
    const toml::table* match = t["match"].as_table();
    if (match == nullptr || match->empty()) {
      return MakeError(ErrorCode::kParse, "a rule needs match = { key = \"regex\", … }",
                       rule.where);
    }
    // Capture groups are numbered in the order the keys are written (docs/audit.md); toml++
    // hands a table's keys sorted, so they are put back in source order.
    std::vector<std::pair<const toml::key*, const toml::node*>> in_order;
    for (const auto& [k, v] : *match) in_order.emplace_back(&k, &v);
    std::stable_sort(in_order.begin(), in_order.end(), [](const auto& a, const auto& b) {
      const toml::source_position pa = a.second->source().begin;
      const toml::source_position pb = b.second->source().begin;
      return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
    });
    for (const auto& [key, node] : in_order) {
      const toml::key& k = *key;
      const toml::node& v = *node;
      const std::string mkey(k.str());
      auto pattern = v.value<std::string>();
      if (!KnownKey(mkey) || !pattern) {
        return MakeError(ErrorCode::kParse,
                         "match keys are machine, namespace, pod, container, label:NAME or "
                         "tag:KEY, each = \"regex\" (got '" +
                             mkey + "')",
                         TomlWhere(source, v.source()));
      }
      re2::RE2::Options options;
      options.set_log_errors(false);
      auto re = std::make_shared<const re2::RE2>(*pattern, options);
      if (!re->ok()) {
        return MakeError(ErrorCode::kParse, "bad regex '" + *pattern + "': " + re->error(),
                         TomlWhere(source, v.source()));
      }
      rule.match.emplace_back(mkey, std::move(re));
    }
    for (const auto& [k, v] : t) {
      const std::string name(k.str());
      if (name == "match") continue;
      auto s = v.value<std::string>();
      std::string* slot = name == "owner"     ? &rule.owner
                          : name == "team"    ? &rule.team
                          : name == "project" ? &rule.project
                                              : nullptr;
      if (slot == nullptr || !s) {
        return MakeError(ErrorCode::kParse,
                         "a rule sets owner, team and project (strings), not '" + name + "'",
                         TomlWhere(source, v.source()));
      }
      *slot = *s;
    }
    if (rule.owner.empty() && rule.team.empty() && rule.project.empty()) {
      return MakeError(ErrorCode::kParse, "a rule must set owner, team or project", rule.where);
    }
    out.rules_.push_back(std::move(rule));
  }
  return out;
}

std::optional<Attribution> OwnerRules::Apply(const Lookup& lookup) const {
  for (const Rule& rule : rules_) {
    std::vector<std::string> groups;
    bool all = true;
    for (const auto& [key, re] : rule.match) {
      const std::optional<std::string> value = lookup(key);
      const int n = re->NumberOfCapturingGroups();
      std::vector<re2::StringPiece> found(static_cast<size_t>(n) + 1);
      if (!value ||
          !re->Match(*value, 0, value->size(), re2::RE2::ANCHOR_BOTH, found.data(), n + 1)) {
        all = false;
        break;
      }
      for (int g = 1; g <= n; ++g) {
        const re2::StringPiece& piece = found[static_cast<size_t>(g)];
        groups.emplace_back(piece.data() ? std::string(piece.data(), piece.size()) : "");
      }
    }
    if (!all) continue;
    return Attribution{Expand(rule.owner, groups), Expand(rule.team, groups),
                       Expand(rule.project, groups)};
  }
  return std::nullopt;
}

}  // namespace gpuledger
