// Ordered rules that name the owner, team and project of GPU time from what a source knows of
// it (DESIGN.md, "Owners from rules"): `--owners owners.toml`.
//
//   [[owner]]
//   match = { "tag:business_unit" = "(.*)", machine = "gpu-.*" }
//   team = "$1"
//
// Keys: machine, namespace, pod, container, label:<name> (a Prometheus/DCGM label), tag:<key>
// (a FOCUS Tags key). Values are regular expressions (RE2 syntax: linear time in the value,
// no backtracking or recursion, so no value or pattern can hang or crash the audit or the
// guard; no back-references or look-around) that must match the whole value; every key of a
// rule must match. $1…$9 in owner, team and project are the rule's
// capture groups, in the order its keys are written. The first matching rule wins.
//
//   [[ignore]]
//   match = { namespace = "monitoring", pod = "gpu-burn-check-.*" }
//
// names pods that are GPU infrastructure, not workloads, beyond the built-in list (the
// dcgm-exporter, the device plugin, the GPU Operator's validators and daemonsets).
//
//   [[person]]
//   user = "asha"                # or users = ["asha", "asha.k"]: a uid name, a run's owner
//   slack = "U024BE7LH"          # mentioned in Slack notifications about their work
//   email = "asha@example.com"   # sent email notifications about their work
//
// tells the guard (and budgets, digests) how to reach the owner of a workload.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace re2 {
class RE2;
}

namespace gpuledger {

struct Attribution {
  std::string owner, team, project;  // empty: the rule does not say
  // What a pod's job is (docs/experiments.md), from its labels and annotations: for pods' GPU
  // time only (a machine has no experiment).
  std::string experiment, run, repo, pr;
};

// How to reach a person ([[person]]).
struct Person {
  std::vector<std::string> users;  // the names their work goes by (uid names, run owners)
  std::string slack;               // a Slack member id (U…, W…); empty: none
  std::string email;               // empty: none
  // May keep anyone's workload from `gpuledger serve` (a Slack button), as root may on a node.
  bool admin = false;
  // Whether "owner" (a workload's owner) is one of the names their work goes by.
  bool Owns(std::string_view owner) const;
};

// The entry of "people" naming "user", or null.
const Person* FindPerson(const std::vector<Person>& people, std::string_view user);
// The entry of "people" whose Slack member id is "slack_id", or null.
const Person* FindPersonBySlack(const std::vector<Person>& people, std::string_view slack_id);

class OwnerRules {
 public:
  // Parses owners.toml text; kParse errors name "source":line:column.
  static Result<OwnerRules> Parse(std::string_view toml_text, const std::string& source);

  // What a key is for one piece of GPU time: nullopt when the source does not know it.
  using Lookup = std::function<std::optional<std::string>(const std::string& key)>;

  // The first rule all of whose keys "lookup" knows and matches; nullopt when none does.
  std::optional<Attribution> Apply(const Lookup& lookup) const;

  // Whether the pod a series names (keys namespace, pod, container, machine, label:NAME) is GPU
  // infrastructure rather than a workload: the built-in list or an [[ignore]] rule. Holds also
  // for rules parsed from nothing (the built-in list alone).
  bool IgnoresWorkload(const Lookup& lookup) const;

  // The [[person]] entry naming "user", or null.
  const Person* PersonOf(std::string_view user) const;
  const std::vector<Person>& people() const { return people_; }

  bool empty() const { return rules_.empty(); }
  size_t size() const { return rules_.size(); }

  // A rule's keys and patterns, in the order written.
  using Match = std::vector<std::pair<std::string, std::shared_ptr<const re2::RE2>>>;

 private:
  struct Rule {
    Match match;
    std::string owner, team, project;  // templates with $1…
    std::string experiment, run, repo, pr;
    std::string where;  // source:line, for messages
  };
  std::vector<Rule> rules_;
  std::vector<Match> ignore_;
  std::vector<Person> people_;
};

}  // namespace gpuledger
