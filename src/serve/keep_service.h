// `gpuledger serve`: keep with one click, for the fleet. A small HTTP service that turns a Slack
// button's click (POST /slack/interactions) or an emailed signed link (GET, then POST, /keep)
// into a keep request in the fleet's ledger; the guard of the workload's host applies it at
// its next sample under the keep socket's rules and writes its answer back, which serve then
// shows (the Slack message's buttons are replaced by who kept it until when, or why not).
//
// Who asks is established by a signature only: Slack's HMAC of the request (the signing
// secret), or gpuledger's HMAC on the link (the link secret the guards sign with). The clicking
// Slack user must be, through [[person]], the workload's owner or an admin; a link names its
// owner. A click is recorded once (its signature is its id: a replay is refused) and a link
// works once (its nonce) until it expires (when the workload was due to stop).
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/time.h"
#include "model/owner_rules.h"

namespace gpuledger {

struct KeepServiceOptions {
  std::string ledger;  // a path or postgresql:// URL: the guards' ledger
  std::string listen = "127.0.0.1:8650";
  std::vector<Person> people;        // [[person]]: Slack ids, and who is an admin
  std::string slack_signing_secret;  // empty: no /slack/interactions
  std::string link_secret;           // empty: no /keep
  // Answers go only to a response_url of this origin (a click cannot aim serve elsewhere).
  std::string slack_reply_origin = "https://hooks.slack.com";
  DurationMs slack_answer_wait_ms = 2 * 60 * 1000;  // then "no answer yet" is said instead
  DurationMs link_answer_wait_ms = 15 * 1000;       // a link's page waits this long for it
};

class KeepService {
 public:
  // Listens (kUsage for a bad address; kIo when it cannot bind) and serves on threads of its
  // own until destroyed. Log lines go to "log".
  static Result<std::unique_ptr<KeepService>> Start(KeepServiceOptions options, std::FILE* log);
  ~KeepService();
  KeepService(const KeepService&) = delete;
  KeepService& operator=(const KeepService&) = delete;
  int port() const;

  struct Impl;

 private:
  explicit KeepService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gpuledger
