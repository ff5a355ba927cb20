#include "notify/sink.h"

#include <fmt/format.h>

#include "core/json_writer.h"
#include "core/text_safety.h"

namespace gpuledger {
namespace {

// Slack's limits on a text object, by where it sits (api.slack.com/reference/block-kit).
constexpr size_t kSlackSectionChars = 3000;
constexpr size_t kSlackHeaderChars = 150;
constexpr size_t kSlackFieldChars = 2000;
constexpr size_t kSlackFields = 10;
constexpr size_t kSlackFallbackChars = 3000;
constexpr size_t kSlackSections = 40;  // of Slack's 50 blocks: the others are ours

// At most "chars" bytes (so at most that many characters), cut at a character boundary.
std::string Clip(std::string_view s, size_t chars) { return std::string(TruncateUtf8(s, chars)); }

void SlackText(JsonWriter& w, const char* type, std::string_view text) {
  w.BeginObject().Key("type").String(type).Key("text").String(text).EndObject();
}

// The keep buttons, as one actions block (at most 25 elements; a value of at most 2,000
// characters): `gpuledger serve` receives the click.
constexpr size_t kSlackButtons = 5;
constexpr size_t kSlackButtonValueChars = 2000;
void SlackKeepButtons(JsonWriter& w, const std::vector<KeepOffer>& offers) {
  size_t buttons = 0;
  for (const KeepOffer& o : offers) buttons += !o.slack_value.empty();
  if (buttons == 0) return;
  w.BeginObject().Key("type").String("actions").Key("block_id").String("gpuledger_keep");
  w.Key("elements").BeginArray();
  size_t k = 0;
  for (const KeepOffer& o : offers) {
    if (o.slack_value.empty() || o.slack_value.size() > kSlackButtonValueChars) continue;
    if (k == kSlackButtons) break;
    w.BeginObject().Key("type").String("button").Key("action_id").String(fmt::format("keep_{}", k));
    w.Key("text");
    SlackText(w, "plain_text", Clip(o.label, 75));
    if (k++ == 0) w.Key("style").String("primary");
    w.Key("value").String(o.slack_value).EndObject();
  }
  w.EndArray().EndObject();
}

std::string RenderSlack(const Notice& n) {
  const std::string mention = n.slack_user.empty() ? "" : "<@" + n.slack_user + "> ";
  JsonWriter w(false);
  w.BeginObject();
  w.Key("text").String(Clip(mention + n.title + ": " + n.text, kSlackFallbackChars));
  w.Key("blocks").BeginArray();
  w.BeginObject().Key("type").String("header").Key("text");
  SlackText(w, "plain_text", Clip(n.title, kSlackHeaderChars));
  w.EndObject();
  w.BeginObject().Key("type").String("section").Key("text");
  SlackText(w, "mrkdwn", Clip(mention + SlackEscaped(n.text), kSlackSectionChars));
  w.EndObject();
  if (!n.facts.empty()) {
    w.BeginObject().Key("type").String("section").Key("fields").BeginArray();
    for (size_t i = 0; i < n.facts.size() && i < kSlackFields; ++i) {
      const auto& [label, value] = n.facts[i];
      SlackText(w, "mrkdwn",
                Clip("*" + SlackEscaped(label) + "*\n" + SlackEscaped(value), kSlackFieldChars));
    }
    w.EndArray().EndObject();
  }
  for (size_t i = 0; i < n.sections.size() && i < kSlackSections; ++i) {
    std::string text = "*" + SlackEscaped(n.sections[i].heading) + "*";
    for (const std::string& line : n.sections[i].lines) text += "\n• " + SlackEscaped(line);
    w.BeginObject().Key("type").String("section").Key("text");
    SlackText(w, "mrkdwn", Clip(text, kSlackSectionChars));
    w.EndObject();
  }
  if (!n.action.empty()) {
    w.BeginObject().Key("type").String("section").Key("text");
    SlackText(w, "mrkdwn",
              Clip("To keep it: `" + SlackEscaped(n.action) + "`", kSlackSectionChars));
    w.EndObject();
  }
  SlackKeepButtons(w, n.keep_offers);
  w.EndArray().EndObject();
  return w.str();
}

// Adaptive Card TextBlocks render a Markdown subset: a name or command line from a user must
// not become a link ("[text](url)") in a message that carries the guard's authority, so a
// zero-width space is put between "]" and "(" (the text reads the same).
std::string TeamsPlain(std::string_view text) {
  std::string out(text);
  for (size_t at = 0; (at = out.find("](", at)) != std::string::npos; at += 4)
    out.replace(at, 2, "]\u200B(");
  return out;
}

void TeamsTextBlock(JsonWriter& w, std::string_view text, bool bold, bool monospace) {
  w.BeginObject().Key("type").String("TextBlock").Key("text").String(TeamsPlain(text));
  w.Key("wrap").Bool(true);
  if (bold) w.Key("weight").String("Bolder").Key("size").String("Medium");
  if (monospace) w.Key("fontType").String("Monospace");
  w.EndObject();
}

std::string RenderTeams(const Notice& n) {
  JsonWriter w(false);
  w.BeginObject().Key("type").String("message").Key("attachments").BeginArray().BeginObject();
  w.Key("contentType").String("application/vnd.microsoft.card.adaptive");
  w.Key("contentUrl").Null();
  w.Key("content").BeginObject();
  w.Key("$schema").String("http://adaptivecards.io/schemas/adaptive-card.json");
  w.Key("type").String("AdaptiveCard").Key("version").String("1.4");
  w.Key("body").BeginArray();
  TeamsTextBlock(w, n.title, true, false);
  TeamsTextBlock(w, n.text, false, false);
  if (!n.facts.empty()) {
    w.BeginObject().Key("type").String("FactSet").Key("facts").BeginArray();
    for (const auto& [label, value] : n.facts)
      w.BeginObject()
          .Key("title")
          .String(TeamsPlain(label))
          .Key("value")
          .String(TeamsPlain(value))
          .EndObject();
    w.EndArray().EndObject();
  }
  for (const NoticeSection& section : n.sections) {
    w.BeginObject().Key("type").String("Container").Key("items").BeginArray();
    TeamsTextBlock(w, section.heading, true, false);
    for (const std::string& line : section.lines) TeamsTextBlock(w, "• " + line, false, false);
    w.EndArray().EndObject();
  }
  if (!n.action.empty()) {
    TeamsTextBlock(w, "To keep it:", false, false);
    TeamsTextBlock(w, n.action, false, true);
  }
  w.EndArray();
  // Signed keep links as buttons that open them (Teams cannot post a click back to serve).
  bool actions = false;
  for (const KeepOffer& o : n.keep_offers) {
    if (o.url.empty()) continue;
    if (!actions) w.Key("actions").BeginArray(), actions = true;
    w.BeginObject().Key("type").String("Action.OpenUrl").Key("title").String(o.label);
    w.Key("url").String(o.url).EndObject();
  }
  if (actions) w.EndArray();
  w.EndObject();
  w.EndObject().EndArray().EndObject();
  return w.str();
}

}  // namespace

std::string SlackEscaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

const char* NotifySink::Label() const {
  switch (kind) {
    case Kind::kSlack:
      return "slack";
    case Kind::kTeams:
      return "teams";
    case Kind::kWebhook:
      return "webhook";
    case Kind::kEmail:
      return "email";
  }
  return "webhook";
}

Result<NotifySink> ParseNotifySink(std::string_view spec) {
  const size_t colon = spec.find(':');
  const std::string_view kind = spec.substr(0, colon);
  const std::string url(colon == std::string_view::npos ? "" : spec.substr(colon + 1));
  NotifySink sink;
  if (kind == "slack") {
    sink.kind = NotifySink::Kind::kSlack;
  } else if (kind == "teams") {
    sink.kind = NotifySink::Kind::kTeams;
  } else if (kind == "webhook") {
    sink.kind = NotifySink::Kind::kWebhook;
  } else if (kind == "email") {
    if (!IsPlainEmail(url))
      return MakeError(ErrorCode::kUsage, "email: needs one plain address", "--notify");
    sink.kind = NotifySink::Kind::kEmail;
    sink.url = url;
    return sink;
  } else {
    return MakeError(ErrorCode::kUsage,
                     "must be slack:URL, teams:URL, webhook:URL or email:ADDRESS, not '" +
                         std::string(spec.substr(0, 40)) + "'",
                     "--notify");
  }
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return MakeError(ErrorCode::kUsage, std::string(kind) + ": needs an http(s) URL", "--notify");
  }
  sink.url = url;
  return sink;
}

std::string RenderNotice(NotifySink::Kind kind, const Notice& notice) {
  switch (kind) {
    case NotifySink::Kind::kSlack:
      return RenderSlack(notice);
    case NotifySink::Kind::kTeams:
      return RenderTeams(notice);
    case NotifySink::Kind::kWebhook:
    case NotifySink::Kind::kEmail:
      return notice.webhook_json;
  }
  return notice.webhook_json;
}

Outgoing Prepare(const NotifySink& sink, const Notice& notice) {
  Outgoing out;
  if (sink.kind != NotifySink::Kind::kEmail) {
    out.body = RenderNotice(sink.kind, notice);
    return out;
  }
  out.to.push_back(sink.url);
  if (!notice.email.empty() && notice.email != sink.url) out.to.push_back(notice.email);
  out.body = RenderEmail(notice, sink.smtp.from, out.to);
  return out;
}

PostResult Deliver(const NotifySink& sink, const Outgoing& out) {
  return sink.kind == NotifySink::Kind::kEmail ? SendEmail(sink.smtp, out.to, out.body)
                                               : PostJson(sink.url, out.body);
}

}  // namespace gpuledger
