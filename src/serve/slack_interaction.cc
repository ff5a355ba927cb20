#include "serve/slack_interaction.h"

#include <simdjson.h>

#include <charconv>
#include <cstdlib>

#include "core/signing.h"

namespace gpuledger {

std::string SlackSignature(std::string_view signing_secret, std::string_view timestamp,
                           std::string_view body) {
  std::string base = "v0:";
  base.append(timestamp).append(":").append(body);
  return "v0=" + HexOf(HmacSha256(signing_secret, base));
}

Result<void> VerifySlackSignature(std::string_view signing_secret, std::string_view timestamp,
                                  std::string_view signature, std::string_view body, TimeMs now) {
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), seconds);
  if (timestamp.empty() || ec != std::errc() || end != timestamp.data() + timestamp.size())
    return MakeError(ErrorCode::kInvalid, "no X-Slack-Request-Timestamp");
  if (std::llabs(now / 1000 - seconds) > kSlackMaxSkewSeconds)
    return MakeError(ErrorCode::kInvalid, "the request's timestamp is more than 5 minutes off");
  if (!SameBytes(signature, SlackSignature(signing_secret, timestamp, body)))
    return MakeError(ErrorCode::kInvalid, "the request's X-Slack-Signature is wrong");
  return {};
}

Result<SlackClick> ParseSlackClick(std::string_view payload) {
  using namespace simdjson;
  dom::parser parser;
  dom::object o;
  auto bad = MakeError(ErrorCode::kInvalid, "not a Slack button click");
  if (parser.parse(padded_string(payload)).get(o) != SUCCESS) return bad;
  std::string_view type, user_id, value, action_id, response_url;
  dom::array actions;
  if (o["type"].get(type) || type != "block_actions" || o["user"]["id"].get(user_id) ||
      o["actions"].get(actions) || actions.size() != 1)
    return bad;
  dom::element action = actions.at(0);
  if (action["value"].get(value) || action["action_id"].get(action_id)) return bad;
  SlackClick click;
  click.user_id = user_id, click.value = value, click.action_id = action_id;
  std::string_view name;
  if (o["user"]["username"].get(name) == SUCCESS || o["user"]["name"].get(name) == SUCCESS)
    click.user_name = name;
  if (o["response_url"].get(response_url) == SUCCESS) click.response_url = response_url;
  dom::array blocks;
  if (o["message"]["blocks"].get(blocks) == SUCCESS) {
    click.blocks_without_buttons = "[";
    for (dom::element b : blocks) {
      std::string_view id;
      if (b["block_id"].get(id) == SUCCESS && id == "gpuledger_keep") continue;
      if (click.blocks_without_buttons.size() > 1) click.blocks_without_buttons += ",";
      click.blocks_without_buttons += simdjson::minify(b);
    }
    click.blocks_without_buttons += "]";
  }
  return click;
}

}  // namespace gpuledger
