// One notification, as the sinks render it: Slack blocks, a Teams card, the generic webhook's
// JSON, an email. Built by its sender (the guard, budgets) from what it knows; rendered per sink.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "model/owner_rules.h"

namespace gpuledger {

// One way to keep the workload a warning is about, for the sinks that can offer it: a Slack
// button (its value goes back to `gpuledger serve`) and a signed link (email, Teams).
struct KeepOffer {
  std::string label;        // "Keep 2h"
  std::string slack_value;  // KeepButtonValue; empty: no Slack button
  std::string url;          // the signed link; empty: none
};

// A headed list inside a notice (a digest's "Spend", "Top practices", "Autokill"): a Slack
// section, a Teams container, an email's heading and list.
struct NoticeSection {
  std::string heading;
  std::vector<std::string> lines;
};

struct Notice {
  std::string title;  // one line: "gpuledger guard on node-a: warning"
  std::string text;   // the message for a person, plain text
  // Labelled facts shown as a table: workload, owner, GPUs, idle for, memory held, when.
  std::vector<std::pair<std::string, std::string>> facts;
  std::vector<NoticeSection> sections;  // after the facts
  std::string action;  // what the person can do, e.g. a `gpuledger keep …` command
  std::vector<KeepOffer> keep_offers;  // one click instead ("Keep 2h", "Keep 8h")
  std::string slack_user;    // the person's Slack id (U…), mentioned when set ([[person]])
  std::string email;         // the person's address ([[person]])
  std::string webhook_json;  // the body the generic webhook sink posts, as it always has

  // Addresses the notice to "person" too (their Slack mention and email); null: nobody.
  void Reach(const Person* person) {
    if (person) slack_user = person->slack, email = person->email;
  }
};

}  // namespace gpuledger
